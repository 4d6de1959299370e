//! `sentence_dedup` against datatrove 0.10.1's `SentenceDedup` (its three stages as a one-task
//! run, `scripts/sentence_dedup_reference.py`), document for document and text for text:
//!
//! - `shared_docs`: ../shared's reference documents without the `:raw` page dumps (2,997 real
//!   texts: trafilatura's and the human gold extraction of the same pages, which share many
//!   sentences, and the DCLM/dolma/RedPajama samples), default parameters;
//! - `planted`: real documents with spans of 2 to 6 sentences copied from other documents (as
//!   they are, upper-cased, with other digits or other punctuation, twice, at the start or the
//!   end), and edge cases, under datatrove's defaults and four other configurations.
//!
//! Needs Python with datatrove 0.10.1 and spaCy 3.8.18 (`THRESHER_PYTHON`, else `python3`);
//! with THRESHER_REQUIRE_SHARED set, a missing Python, library or ../shared fails the test.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};
use thresher_core::{Document, Outcome, StepConfig, StepCx};
use thresher_dedup::SentenceDedupConfig;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read_jsonl(path: &Path) -> Vec<Value> {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let reader: Box<dyn BufRead> = if path.extension().is_some_and(|e| e == "gz") {
        Box::new(BufReader::new(flate2::read::GzDecoder::new(file)))
    } else {
        Box::new(BufReader::new(file))
    };
    reader
        .lines()
        .map(|l| serde_json::from_str(&l.unwrap()).unwrap())
        .collect()
}

/// The Python to run datatrove with, if it has datatrove 0.10.1 and spaCy.
fn python() -> Option<String> {
    let py = std::env::var("THRESHER_PYTHON").unwrap_or_else(|_| "python3".into());
    let ok = Command::new(&py)
        .args([
            "-c",
            "import importlib.metadata as m, spacy, datatrove.pipeline.dedup.sentence_dedup; \
             assert m.version('datatrove') == '0.10.1'",
        ])
        .output()
        .is_ok_and(|o| o.status.success());
    ok.then_some(py)
}

/// ../shared's documents, or `None` (after failing if they are required).
fn shared_docs() -> Option<(String, Vec<Value>)> {
    let docs_path = root().join("../shared/reference/datatrove-filters/docs.jsonl.gz");
    let required = std::env::var_os("THRESHER_REQUIRE_SHARED").is_some();
    let (Some(py), true) = (python(), docs_path.exists()) else {
        assert!(
            !required,
            "THRESHER_REQUIRE_SHARED is set but ../shared or Python with datatrove 0.10.1 and \
             spaCy (THRESHER_PYTHON) is missing"
        );
        println!("skipping: needs ../shared and Python with datatrove 0.10.1 and spaCy");
        return None;
    };
    Some((py, read_jsonl(&docs_path)))
}

/// thresher's output per document: the kept text, or `None` when rejected.
fn run_thresher(cfg: SentenceDedupConfig, docs: &[(String, String)]) -> Vec<Option<String>> {
    let step = cfg.build().unwrap();
    let mut cx = StepCx::default();
    let t0 = std::time::Instant::now();
    let out: Vec<Option<String>> = docs
        .iter()
        .enumerate()
        .map(|(i, (id, text))| {
            let mut doc = Document::new(id.as_str(), text.as_str());
            doc.seq = i as u64;
            let p = step.prepare(&mut doc, &mut cx);
            cx.set_prepared(p);
            match step.process(doc, &mut cx) {
                Outcome::Keep(d) => Some(d.text().to_string()),
                Outcome::Reject { .. } => None,
                Outcome::Error { error, .. } => panic!("{id}: {error}"),
            }
        })
        .collect();
    let secs = t0.elapsed().as_secs_f64();
    let bytes: usize = docs.iter().map(|(_, t)| t.len()).sum();
    println!(
        "thresher: {:.2} s on one thread ({:.1} MB/s, {:.0} docs/s); {:?}",
        secs,
        bytes as f64 / secs / 1e6,
        docs.len() as f64 / secs,
        step.report()
    );
    out
}

/// datatrove's output per document (`params`: `SentDedupConfig` fields as `key=value`).
fn run_datatrove(
    py: &str,
    label: &str,
    docs: &[(String, String)],
    params: &[&str],
) -> Vec<Option<String>> {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("sentence_dedup_{label}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (inp, outp) = (dir.join("in.jsonl"), dir.join("out.jsonl"));
    let mut w = std::io::BufWriter::new(std::fs::File::create(&inp).unwrap());
    for (id, text) in docs {
        writeln!(w, "{}", json!({"id": id, "text": text})).unwrap();
    }
    w.flush().unwrap();
    drop(w);
    let status = Command::new(py)
        .arg(root().join("scripts/sentence_dedup_reference.py"))
        .arg("sentence-dedup")
        .args([&inp, &dir.join("work"), &outp])
        .args(params)
        .status()
        .unwrap();
    assert!(status.success(), "sentence_dedup_reference.py failed");
    let out = read_jsonl(&outp)
        .into_iter()
        .map(|r| r["text"].as_str().map(str::to_string))
        .collect();
    let _ = std::fs::remove_dir_all(&dir);
    out
}

/// Runs both tools; prints the figures and the first differences; returns the differences.
fn compare(
    py: &str,
    label: &str,
    docs: &[(String, String)],
    cfg: SentenceDedupConfig,
    params: &[&str],
) -> usize {
    let theirs = run_datatrove(py, label, docs, params);
    let ours = run_thresher(cfg, docs);
    assert_eq!(theirs.len(), docs.len());
    let dropped = theirs.iter().filter(|t| t.is_none()).count();
    let edited = theirs
        .iter()
        .zip(docs)
        .filter(|(t, (_, text))| t.as_deref().is_some_and(|t| t != text))
        .count();
    let mut n = 0;
    for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
        if a != b {
            n += 1;
            if n <= 5 {
                println!(
                    "{label} #{i} {}:\n  thresher:  {a:?}\n  datatrove: {b:?}",
                    docs[i].0
                );
            }
        }
    }
    println!(
        "{label} {params:?}: {} documents; datatrove dropped {dropped}, edited {edited}; \
         {n} differ",
        docs.len()
    );
    n
}

#[test]
fn shared_docs_default_parameters() {
    let Some((py, docs)) = shared_docs() else {
        return;
    };
    let docs: Vec<(String, String)> = docs
        .iter()
        .map(|d| (d["id"].as_str().unwrap(), d["text"].as_str().unwrap()))
        .filter(|(id, _)| !id.ends_with(":raw"))
        .map(|(id, t)| (id.to_string(), t.to_string()))
        .collect();
    let n = compare(&py, "shared", &docs, SentenceDedupConfig::default(), &[]);
    assert_eq!(n, 0, "decisions and texts identical to datatrove's");
}

/// Offsets just after each ". " of `text` (where a sentence likely starts).
fn boundaries(text: &str) -> Vec<usize> {
    text.match_indices(". ").map(|(i, _)| i + 2).collect()
}

/// `span` changed the way `variant` says (datatrove's normalisation makes most of them equal).
fn vary(span: &str, variant: usize) -> String {
    match variant {
        0 => span.to_string(),
        1 => span.to_uppercase(),
        2 => span.replace(['1', '2', '3'], "7").replace("the", "THE"),
        3 => span.replace(", ", " - ").replace(". ", "! "),
        _ => span.replace(' ', "  "),
    }
}

/// Real documents with copied spans planted, and edge cases.
fn planted_docs(docs: &[Value]) -> Vec<(String, String)> {
    let edge = [
        "",
        "   ",
        "One. Two. Three.",
        "One. Two. Three.",
        "One.  Two.\n\nThree.  ",
        "Zero. One. Two. Three. Four.  ",
        "Intro. ONE! two? three... Tail",
        "\n\nOne. Two. Three. After.\n",
        "Café. Naïve. Résumé. Déjà vu.",
        "CAFE. naive. resume. Something else entirely.",
        "1. 2. 3. 4.",
        ". . . . . .",
        "... !!! ??? ... !!! ???",
        "He said \"Stop.\" Then left. Nobody followed. It rained.",
        "Then left. Nobody followed. It rained. The end.",
    ];
    let mut out: Vec<(String, String)> = edge
        .iter()
        .enumerate()
        .map(|(i, t)| (format!("edge-{i}"), t.to_string()))
        .collect();
    // Real texts with sentences: the DCLM samples and trafilatura's extractions.
    let real: Vec<&str> = docs
        .iter()
        .filter(|d| {
            let id = d["id"].as_str().unwrap();
            id.starts_with("dclm") || id.ends_with(":traf")
        })
        .map(|d| d["text"].as_str().unwrap())
        .filter(|t| t.len() < 20_000 && boundaries(t).len() >= 8)
        .take(300)
        .collect();
    for (i, text) in real.iter().enumerate() {
        let donor = real[(i * 7 + 3) % real.len()];
        let db = boundaries(donor);
        let m = 2 + i % 5; // sentences copied
        let s = (i * 13) % (db.len() - m);
        let span = vary(&donor[db[s]..db[s + m]], i % 5);
        let tb = boundaries(text);
        let at = match i % 6 {
            0 => 0,
            1 => text.len(),
            _ => tb[(i * 3) % tb.len()],
        };
        let mut t = String::with_capacity(text.len() + 2 * span.len() + 2);
        t.push_str(&text[..at]);
        if at == text.len() {
            t.push(' ');
        }
        t.push_str(&span);
        if i % 4 == 0 {
            // The same span twice in one document.
            t.push_str(&span);
        }
        t.push_str(&text[at..]);
        out.push((format!("planted-{i}"), t));
        // Every third original too, after its planted copy: the copy is the first occurrence.
        if i % 3 == 0 {
            out.push((format!("orig-{i}"), text.to_string()));
        }
    }
    out
}

#[test]
fn planted_spans_five_configurations() {
    let Some((py, docs)) = shared_docs() else {
        return;
    };
    let planted = planted_docs(&docs);
    let lenient = SentenceDedupConfig {
        min_doc_words: 0,
        min_num_sentences: 0,
        ..Default::default()
    };
    let runs: [(&str, SentenceDedupConfig, &[&str]); 5] = [
        ("planted", SentenceDedupConfig::default(), &[]),
        (
            "planted_lenient",
            lenient.clone(),
            &["min_doc_words=0", "min_num_sentences=0"],
        ),
        (
            "planted_n2",
            SentenceDedupConfig {
                n_sentences: 2,
                min_doc_words: 20,
                ..Default::default()
            },
            &["n_sentences=2", "min_doc_words=20"],
        ),
        (
            "planted_lines",
            SentenceDedupConfig {
                split_sentences: false,
                ..lenient.clone()
            },
            &[
                "split_sentences=false",
                "min_doc_words=0",
                "min_num_sentences=0",
            ],
        ),
        (
            "planted_span_words",
            SentenceDedupConfig {
                min_words_to_remove_span: 8,
                ..lenient
            },
            &[
                "min_words_to_remove_span=8",
                "min_doc_words=0",
                "min_num_sentences=0",
            ],
        ),
    ];
    let mut failed = Vec::new();
    for (label, cfg, params) in runs {
        if compare(&py, label, &planted, cfg, params) != 0 {
            failed.push(label);
        }
    }
    assert!(failed.is_empty(), "differences in {failed:?}");
}
