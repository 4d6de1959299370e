//! `c4_paragraph` against datatrove 0.10.1's `C4ParagraphFilter`, decision for decision, on
//! ../shared's 4,563 reference documents and on texts built from them whose lines sit at the
//! threshold (199, 200 and 201 code points, non-ASCII, `\r`, U+2028 and other line breaks that
//! `split("\n")` does not cut at). `scripts/sentence_dedup_reference.py c4-paragraph` runs
//! datatrove with `THRESHER_PYTHON` (else `python3`); with THRESHER_REQUIRE_SHARED set, a
//! missing Python, datatrove or ../shared fails the test.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};
use thresher_core::{Document, Outcome, StepConfig, StepCx};
use thresher_filters::C4ParagraphConfig;

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

fn python() -> Option<String> {
    let py = std::env::var("THRESHER_PYTHON").unwrap_or_else(|_| "python3".into());
    let ok = Command::new(&py)
        .args([
            "-c",
            "import importlib.metadata as m, datatrove.pipeline.filters.c4_filters; \
             assert m.version('datatrove') == '0.10.1'",
        ])
        .output()
        .is_ok_and(|o| o.status.success());
    ok.then_some(py)
}

/// Lines of `text`'s words re-cut to `widths` code points in turn, joined by `sep`.
fn recut(text: &str, widths: &[usize], sep: &str) -> String {
    let chars: Vec<char> = text.chars().filter(|&c| c != '\n').collect();
    let mut out = String::new();
    let (mut at, mut k) = (0, 0);
    while at < chars.len() && k < 12 {
        let w = widths[k % widths.len()];
        let end = (at + w).min(chars.len());
        if k > 0 {
            out.push_str(sep);
        }
        out.extend(&chars[at..end]);
        at = end;
        k += 1;
    }
    out
}

#[test]
fn same_decisions_as_datatrove() {
    let docs_path = root().join("../shared/reference/datatrove-filters/docs.jsonl.gz");
    let required = std::env::var_os("THRESHER_REQUIRE_SHARED").is_some();
    let (Some(py), true) = (python(), docs_path.exists()) else {
        assert!(
            !required,
            "THRESHER_REQUIRE_SHARED is set but ../shared or Python with datatrove 0.10.1 \
             (THRESHER_PYTHON) is missing"
        );
        println!("skipping: needs ../shared and Python with datatrove 0.10.1");
        return;
    };
    let docs = read_jsonl(&docs_path);
    let mut inputs: Vec<(String, String)> = docs
        .iter()
        .map(|d| {
            let id = d["id"].as_str().unwrap().to_string();
            (id, d["text"].as_str().unwrap().to_string())
        })
        .collect();
    let widths: [&[usize]; 4] = [&[200, 200, 200], &[200, 199, 201], &[201, 50, 199], &[400]];
    let seps = ["\n", "\r\n", "\n\n", "\u{2028}", "\r", "\n \n"];
    for (i, d) in docs.iter().enumerate().step_by(7) {
        let text = d["text"].as_str().unwrap();
        let t = recut(text, widths[i % widths.len()], seps[(i / 7) % seps.len()]);
        inputs.push((format!("recut-{i}"), t));
    }
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("c4_paragraph");
    std::fs::create_dir_all(&dir).unwrap();
    let (inp, outp) = (dir.join("in.jsonl"), dir.join("out.jsonl"));
    let mut w = std::io::BufWriter::new(std::fs::File::create(&inp).unwrap());
    for (id, text) in &inputs {
        writeln!(w, "{}", json!({"id": id, "text": text})).unwrap();
    }
    w.flush().unwrap();
    drop(w);
    let status = Command::new(&py)
        .arg(root().join("scripts/sentence_dedup_reference.py"))
        .args(["c4-paragraph".as_ref(), inp.as_os_str(), outp.as_os_str()])
        .status()
        .unwrap();
    assert!(status.success(), "sentence_dedup_reference.py failed");
    let theirs = read_jsonl(&outp);
    assert_eq!(theirs.len(), inputs.len());
    let step = C4ParagraphConfig::default().build().unwrap();
    let mut cx = StepCx::default();
    let (mut differ, mut kept, mut kept_recut) = (0, 0, 0);
    for (i, ((id, text), t)) in inputs.iter().zip(&theirs).enumerate() {
        let ours = matches!(
            step.process(Document::new(id.as_str(), text.as_str()), &mut cx),
            Outcome::Keep(_)
        );
        let want = t["keep"].as_bool().unwrap();
        if ours != want {
            differ += 1;
            if differ <= 5 {
                println!("#{i} {id}: thresher keeps {ours}, datatrove {want}");
            }
        }
        if want {
            kept += 1;
            kept_recut += usize::from(i >= docs.len());
        }
    }
    println!(
        "c4_paragraph: {} documents ({} shared, {} re-cut); datatrove keeps {kept} \
         ({kept_recut} re-cut); {differ} differ",
        inputs.len(),
        docs.len(),
        inputs.len() - docs.len()
    );
    assert!(kept_recut > 50 && kept_recut + 50 < inputs.len() - docs.len());
    assert_eq!(differ, 0, "decisions identical to datatrove's");
    let _ = std::fs::remove_dir_all(&dir);
}
