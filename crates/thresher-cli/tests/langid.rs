//! End-to-end tests of the `language_id` step through the binary: the `fineweb-en` recipe on the
//! bundled samples and on a multilingual fixture (fixtures/langid/mixed.jsonl).

// The step exists only in builds with the `langid` feature (the default).
#![cfg(feature = "langid")]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn run(args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_thresher"))
        .args(args)
        .output()
        .expect("run thresher");
    assert!(
        out.status.success(),
        "thresher {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn records(dir: &Path) -> Vec<Value> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    let mut files: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    files.sort();
    for f in files {
        if f.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        {
            continue;
        }
        for l in std::fs::read_to_string(&f).expect("read output").lines() {
            out.push(serde_json::from_str(l).expect("output line is JSON"));
        }
    }
    out
}

#[test]
fn labels_every_document_and_keeps_english_only() {
    let d = tempfile::tempdir().expect("tempdir");
    let out = d.path().join("out");
    let input = repo().join("fixtures/langid/mixed.jsonl");
    run(&[
        "run",
        "fineweb-en",
        "-i",
        input.to_str().expect("utf-8 path"),
        "-o",
        out.to_str().expect("utf-8 path"),
        "-q",
    ]);
    let kept = records(&out.join("kept"));
    let rejected = records(&out.join("rejected"));
    assert_eq!(kept.len() + rejected.len(), 32);
    let mut right = 0;
    for r in kept.iter().chain(&rejected) {
        let lang = r["metadata"]["language"]
            .as_str()
            .expect("metadata.language");
        let score = r["metadata"]["language_score"]
            .as_f64()
            .expect("language_score");
        assert!((0.0..=1.0).contains(&score));
        right += usize::from(lang == r["metadata"]["gold_language"].as_str().unwrap_or(""));
    }
    // The hard pairs (hr/sr/bs, ms/id, nb/nn) may go either way on single sentences.
    assert!(right >= 27, "only {right} of 32 identified");
    for r in &kept {
        assert_eq!(r["metadata"]["language"], "en");
        assert!(r["metadata"]["language_score"].as_f64().unwrap_or(0.0) > 0.65);
    }
    for r in &rejected {
        let reason = r["reason"].as_str().expect("reason");
        if reason.starts_with("language_id:") {
            assert_eq!(
                reason,
                format!(
                    "language_id:{}",
                    r["metadata"]["language"].as_str().unwrap_or("")
                )
            );
        }
    }
    assert!(kept.iter().all(|r| r["metadata"]["gold_language"] == "en"));
    assert!(rejected.iter().any(|r| r["reason"] == "language_id:fr"));
}

#[test]
fn label_only_keeps_all_and_output_does_not_depend_on_threads() {
    let d = tempfile::tempdir().expect("tempdir");
    let recipe = d.path().join("label.toml");
    std::fs::write(
        &recipe,
        "[[step]]\ntype = \"language_id\"\nlabel_only = true\nshares = true\nscript = true\n",
    )
    .expect("write recipe");
    let sample = repo().join("fixtures/sample");
    let mixed = repo().join("fixtures/langid/mixed.jsonl");
    let mut outputs = Vec::new();
    for threads in ["1", "2"] {
        let out = d.path().join(format!("out{threads}"));
        run(&[
            "run",
            recipe.to_str().expect("utf-8 path"),
            "-i",
            sample.to_str().expect("utf-8 path"),
            mixed.to_str().expect("utf-8 path"),
            "-o",
            out.to_str().expect("utf-8 path"),
            "-q",
            "--threads",
            threads,
        ]);
        let kept = records(&out.join("kept"));
        assert!(records(&out.join("rejected")).is_empty());
        for r in &kept {
            let m = &r["metadata"];
            assert!(m["language"].is_string() && m["language_score"].is_number());
            assert!(m["script"].is_string());
            assert!(m["language_shares"].is_object());
        }
        outputs.push(kept);
    }
    assert_eq!(outputs[0], outputs[1]);
    // The bundled samples are English web text.
    let english = outputs[0]
        .iter()
        .filter(|r| r["metadata"]["language"] == "en")
        .count();
    assert!(
        english * 10 >= outputs[0].len() * 8,
        "{english} of {}",
        outputs[0].len()
    );
}
