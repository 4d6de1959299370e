//! `pii` against datatrove 0.10.1's `PIIFormatter` (defaults), text for text, byte for byte.
//!
//! - `planted_fixture`: 320 texts with planted e-mails and IPs (private, public, shared,
//!   reserved, out of range, leading zeros, bracketed, in URLs, next to non-ASCII word
//!   characters) and datatrove's output for them, made by `scripts/pii_reference.py --planted`.
//!   Runs everywhere.
//! - `live_on_shared_docs`: runs the script (datatrove itself) on ../shared's 4,563 reference
//!   documents and on the same documents with addresses planted in them, and compares. Needs
//!   Python with datatrove 0.10.1 (`THRESHER_PYTHON`, else `python3`); with
//!   THRESHER_REQUIRE_SHARED set, a missing Python, datatrove or ../shared fails the test.
//!
//! The replacement turn runs on across documents in both tools, so every run processes the
//! texts in file order with one step.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};
use thresher_core::{Document, Outcome, StepConfig, StepCx};
use thresher_filters::PiiConfig;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs one `pii` step over `texts` in order, as the executor runs an ordered step.
fn run_pii(texts: &[&str]) -> (Vec<String>, serde_json::Map<String, Value>) {
    let step = PiiConfig::default().build().unwrap();
    let mut cx = StepCx::default();
    let out = texts
        .iter()
        .map(|t| {
            let mut doc = Document::new("d", *t);
            step.prepare(&mut doc, &mut cx);
            match step.process(doc, &mut cx) {
                Outcome::Keep(d) => d.text().to_string(),
                other => panic!("pii never rejects: {other:?}"),
            }
        })
        .collect();
    (out, step.report())
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

/// Compares two lists of texts, printing the first differences; returns the number that differ.
fn differences(label: &str, ours: &[String], theirs: &[&str]) -> usize {
    assert_eq!(ours.len(), theirs.len(), "{label}: as many outputs");
    let mut n = 0;
    for (i, (a, b)) in ours.iter().zip(theirs).enumerate() {
        if a != b {
            n += 1;
            if n <= 5 {
                println!("{label} #{i}:\n  thresher:  {a:?}\n  datatrove: {b:?}");
            }
        }
    }
    n
}

#[test]
fn planted_fixture() {
    let recs = read_jsonl(&root().join("crates/thresher-filters/tests/data/pii_planted.jsonl"));
    let texts: Vec<&str> = recs.iter().map(|r| r["text"].as_str().unwrap()).collect();
    let expected: Vec<&str> = recs
        .iter()
        .map(|r| r["expected"].as_str().unwrap())
        .collect();
    let changed = texts.iter().zip(&expected).filter(|(a, b)| a != b).count();
    assert!(
        changed > 200,
        "the fixture exercises replacements ({changed})"
    );
    let (ours, report) = run_pii(&texts);
    println!(
        "planted: {} texts, {changed} changed by datatrove; {report:?}",
        texts.len()
    );
    assert_eq!(differences("planted", &ours, &expected), 0);
}

/// Puts an e-mail or IP address (drawn from a fixed list by a counter) after every 200th space.
fn plant(text: &str, k: &mut usize) -> String {
    const ADDRS: [&str; 12] = [
        "jane.doe@example.net",
        "<info@shop.co.uk>",
        "8.8.8.8",
        "192.168.0.12",
        "256.1.1.1",
        "10.0.0.1",
        "x_y+z@sub.mail.org",
        "100.64.3.4",
        "203.0.113.9",
        "93.184.216.34",
        "01.2.3.4",
        "root@[127.0.0.1]",
    ];
    let mut out = String::with_capacity(text.len() + 64);
    for (i, part) in text.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
            if i % 200 == 0 {
                out.push_str(ADDRS[*k % ADDRS.len()]);
                *k += 1;
                out.push(' ');
            }
        }
        out.push_str(part);
    }
    out
}

/// The Python to run datatrove with, if it has datatrove 0.10.1.
fn python() -> Option<String> {
    let py = std::env::var("THRESHER_PYTHON").unwrap_or_else(|_| "python3".into());
    let ok = Command::new(&py)
        .args([
            "-c",
            "import importlib.metadata as m, datatrove.pipeline.formatters.pii; \
             assert m.version('datatrove') == '0.10.1'",
        ])
        .output()
        .is_ok_and(|o| o.status.success());
    ok.then_some(py)
}

#[test]
fn live_on_shared_docs() {
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
    let mut k = 0;
    let mut inputs: Vec<(String, String)> = Vec::new();
    for d in &docs {
        let (id, text) = (d["id"].as_str().unwrap(), d["text"].as_str().unwrap());
        inputs.push((id.to_string(), text.to_string()));
    }
    // Every third document again with addresses planted (all of them: 150 MB for Python).
    for d in docs.iter().step_by(3) {
        let (id, text) = (d["id"].as_str().unwrap(), d["text"].as_str().unwrap());
        inputs.push((format!("{id}/planted"), plant(text, &mut k)));
    }
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("pii_live");
    std::fs::create_dir_all(&dir).unwrap();
    let (inp, outp) = (dir.join("in.jsonl"), dir.join("out.jsonl"));
    let mut w = std::io::BufWriter::new(std::fs::File::create(&inp).unwrap());
    for (id, text) in &inputs {
        writeln!(w, "{}", json!({"id": id, "text": text})).unwrap();
    }
    w.flush().unwrap();
    drop(w);
    let status = Command::new(&py)
        .arg(root().join("scripts/pii_reference.py"))
        .args([&inp, &outp])
        .status()
        .unwrap();
    assert!(status.success(), "pii_reference.py failed");
    let theirs_recs = read_jsonl(&outp);
    let theirs: Vec<&str> = theirs_recs
        .iter()
        .map(|r| r["text"].as_str().unwrap())
        .collect();
    let texts: Vec<&str> = inputs.iter().map(|(_, t)| t.as_str()).collect();
    let (ours, report) = run_pii(&texts);
    let (n, all) = (docs.len(), texts.len());
    let changed = |range: std::ops::Range<usize>| range.filter(|&i| theirs[i] != texts[i]).count();
    println!(
        "shared docs: {n} texts, {} changed by datatrove; planted: {} texts ({k} addresses \
         planted), {} changed; thresher's report: {report:?}",
        changed(0..n),
        all - n,
        changed(n..all),
    );
    assert!(
        changed(n..all) > 1000,
        "the planted texts exercise replacements"
    );
    assert_eq!(
        differences("live", &ours, &theirs),
        0,
        "texts identical to datatrove's"
    );
    // About 200 MB of input and output: CI's disk is small.
    let _ = std::fs::remove_dir_all(&dir);
}
