//! Integration tests of thresher-dedup against real data in `../shared` (skipped when absent).

mod sentence;

use std::path::PathBuf;

use thresher_core::{Document, Outcome, Step, StepCx};
use thresher_dedup::{Keeper, MinhashDedupConfig};

fn shared(rel: &str) -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared")
        .join(rel);
    if p.exists() {
        Some(p)
    } else {
        assert!(
            std::env::var_os("THRESHER_REQUIRE_SHARED").is_none(),
            "../shared is required (THRESHER_REQUIRE_SHARED is set) but absent"
        );
        println!("skipping: ../shared/{rel} absent");
        None
    }
}

/// The Clough & Stevenson answers in file-name order (the order the datatrove run read them).
fn clough_docs(dir: &PathBuf) -> Vec<Document> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".txt"))
        .collect();
    names.sort();
    names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let text = std::fs::read_to_string(dir.join(n)).unwrap();
            let mut d = Document::new(n.trim_end_matches(".txt"), text);
            d.seq = i as u64;
            d
        })
        .collect()
}

fn removed(cfg: MinhashDedupConfig, docs: &[Document]) -> Vec<String> {
    let step = cfg.build_step().unwrap();
    docs.iter().for_each(|d| step.observe(d).unwrap());
    step.end_observe().unwrap();
    docs.iter()
        .filter_map(|d| match step.process(d.clone(), &mut StepCx::default()) {
            Outcome::Reject { doc, .. } => Some(doc.id),
            _ => None,
        })
        .collect()
}

/// datatrove 0.10.1's MinHash (default config, `../shared/tools/datatrove_minhash.py` on the
/// same 60 files in file-name order) removed these two documents.
#[test]
fn clough_stevenson_same_removals_as_datatrove() {
    let Some(dir) = shared("corpus/clough-stevenson-plagiarism") else {
        return;
    };
    let docs = clough_docs(&dir);
    assert_eq!(docs.len(), 60);
    for keeper in [Keeper::LowestSeq, Keeper::Datatrove] {
        let cfg = MinhashDedupConfig {
            keeper,
            ..MinhashDedupConfig::default()
        };
        assert_eq!(
            removed(cfg, &docs),
            ["g4pC_taska", "orig_taska"],
            "{keeper:?}"
        );
    }
    // The high-recall profile finds more of the graded copies, never an independent answer.
    let hr = removed(
        MinhashDedupConfig {
            profile: "high_recall".into(),
            ..MinhashDedupConfig::default()
        },
        &docs,
    );
    assert!(hr.len() > 2);
    let info = std::fs::read_to_string(dir.join("file_information.csv")).unwrap();
    for id in &hr {
        let cat = info
            .lines()
            .find(|l| l.starts_with(&format!("{id}.txt,")))
            .map_or("orig", |l| l.rsplit(',').next().unwrap_or(""));
        assert_ne!(cat, "non", "{id} was written independently");
    }
}

/// The Python to run datatrove with, if it has datatrove 0.10.1.
fn python() -> Option<String> {
    let py = std::env::var("THRESHER_PYTHON").unwrap_or_else(|_| "python3".into());
    let ok = std::process::Command::new(&py)
        .args([
            "-c",
            "import importlib.metadata as m, xxhash, spacy, datatrove.pipeline.dedup.minhash; \
             assert m.version('datatrove') == '0.10.1'",
        ])
        .output()
        .is_ok_and(|o| o.status.success());
    ok.then_some(py)
}

/// With `keeper = "datatrove"` and `cluster_metadata`, every document's removal,
/// `minhash_cluster_id` (-1 alone) and `minhash_cluster_size` are datatrove's own
/// (`scripts/minhash_cluster_reference.py`: its four stages with save/load_cluster_ids and
/// sizes), on 300 reference documents plus near copies of every 4th and every 8th.
#[test]
fn datatrove_cluster_ids_and_sizes() {
    use std::io::{BufRead, Read, Write};
    let Some(docs_path) = shared("reference/datatrove-filters/docs.jsonl.gz") else {
        return;
    };
    let Some(py) = python() else {
        assert!(
            std::env::var_os("THRESHER_REQUIRE_SHARED").is_none(),
            "THRESHER_REQUIRE_SHARED is set but Python with datatrove 0.10.1, spacy and xxhash \
             (THRESHER_PYTHON) is missing"
        );
        println!("skipping: needs Python with datatrove 0.10.1");
        return;
    };
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(&docs_path).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    let base: Vec<(String, String)> = text
        .lines()
        .take(300)
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["id"].as_str().unwrap().into(),
                v["text"].as_str().unwrap().into(),
            )
        })
        .collect();
    let mut docs = base.clone();
    for (id, t) in base.iter().step_by(4) {
        docs.push((format!("{id}/copy"), format!("{t} extra words at the end.")));
    }
    for (id, t) in base.iter().step_by(8) {
        docs.push((format!("{id}/copy2"), format!("Intro line. {t}")));
    }
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("minhash_cluster_ids");
    std::fs::create_dir_all(&dir).unwrap();
    let (inp, outp) = (dir.join("in.jsonl"), dir.join("out.jsonl"));
    let mut w = std::io::BufWriter::new(std::fs::File::create(&inp).unwrap());
    for (id, t) in &docs {
        writeln!(w, "{}", serde_json::json!({"id": id, "text": t})).unwrap();
    }
    w.into_inner().unwrap().sync_all().unwrap();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../scripts/minhash_cluster_reference.py");
    let out = std::process::Command::new(&py)
        .arg(script)
        .args([&inp, &outp])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "minhash_cluster_reference.py: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs: Vec<serde_json::Value> =
        std::io::BufReader::new(std::fs::File::open(&outp).unwrap())
            .lines()
            .map(|l| serde_json::from_str(&l.unwrap()).unwrap())
            .collect();
    let step = MinhashDedupConfig {
        keeper: Keeper::Datatrove,
        cluster_metadata: true,
        ..MinhashDedupConfig::default()
    }
    .build_step()
    .unwrap();
    let docs: Vec<Document> = docs
        .into_iter()
        .enumerate()
        .map(|(i, (id, t))| {
            let mut d = Document::new(id, t);
            d.seq = i as u64;
            d
        })
        .collect();
    docs.iter().for_each(|d| step.observe(d).unwrap());
    step.end_observe().unwrap();
    let (mut alone, mut removed, mut differ) = (0, 0, 0);
    for (d, t) in docs.iter().zip(&theirs) {
        assert_eq!(t["id"], d.id);
        let out = step.process(d.clone(), &mut StepCx::default());
        let is_removed = matches!(out, Outcome::Reject { .. });
        let md = &out.doc().metadata;
        let ours = (
            is_removed,
            md["minhash_cluster_id"].clone(),
            md["minhash_cluster_size"].clone(),
        );
        let dt = (
            t["removed"].as_bool().unwrap(),
            t["minhash_cluster_id"].clone(),
            t["minhash_cluster_size"].clone(),
        );
        alone += usize::from(dt.1 == -1);
        removed += usize::from(dt.0);
        if ours != dt {
            differ += 1;
            println!("{}: thresher {ours:?}, datatrove {dt:?}", d.id);
        }
    }
    println!(
        "{} documents: {alone} alone, {removed} removed by datatrove",
        docs.len()
    );
    assert!(
        alone > 20 && removed > 100,
        "{alone} alone, {removed} removed"
    );
    assert_eq!(differ, 0, "identical to datatrove's");
    let _ = std::fs::remove_dir_all(&dir);
}
