//! `token_count` against datatrove 0.10.1's `TokensCounter` on the 4,563 reference documents,
//! with three tokenizers that the Python `tokenizers` package trains on them (nothing is
//! downloaded): GPT-2-style byte-level BPE, BERT-style WordPiece with a [CLS]/[SEP]
//! post-processor, SentencePiece-style Unigram. Every document's count must be the same.
//!
//! Needs ../shared and a Python with datatrove 0.10.1 and tokenizers 0.23.3 (`THRESHER_PYTHON`,
//! else `python3`); skipped without them, failed when THRESHER_REQUIRE_SHARED is set.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use thresher_tokens::{TokenCount, TokenCountConfig};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The Python to run datatrove with, if it has datatrove 0.10.1 and tokenizers.
fn python() -> Option<String> {
    let py = std::env::var("THRESHER_PYTHON").unwrap_or_else(|_| "python3".into());
    let ok = Command::new(&py)
        .args([
            "-c",
            "import importlib.metadata as m, tokenizers, datatrove.pipeline.tokens; \
             assert m.version('datatrove') == '0.10.1'",
        ])
        .output()
        .is_ok_and(|o| o.status.success());
    ok.then_some(py)
}

fn script(py: &str, args: &[&str]) {
    let out = Command::new(py)
        .arg(root().join("scripts/token_count_reference.py"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn read_jsonl(path: &Path) -> Vec<Value> {
    let mut text = String::new();
    let f = std::fs::File::open(path).unwrap();
    if path.extension().is_some_and(|e| e == "gz") {
        flate2::read::GzDecoder::new(f)
            .read_to_string(&mut text)
            .unwrap();
    } else {
        text = std::fs::read_to_string(path).unwrap();
    }
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn same_counts_as_datatrove_tokens_counter() {
    let docs_path = root().join("../shared/reference/datatrove-filters/docs.jsonl.gz");
    let required = std::env::var_os("THRESHER_REQUIRE_SHARED").is_some();
    let (Some(py), true) = (python(), docs_path.exists()) else {
        assert!(
            !required,
            "THRESHER_REQUIRE_SHARED is set but ../shared or Python with datatrove 0.10.1 and \
             tokenizers (THRESHER_PYTHON) is missing"
        );
        println!("skipping: needs ../shared and Python with datatrove 0.10.1 and tokenizers");
        return;
    };
    let docs = read_jsonl(&docs_path);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    script(&py, &["make", d, docs_path.to_str().unwrap()]);
    for (name, eos) in [
        ("bpe", false),
        ("bpe", true),
        ("wordpiece", false),
        ("unigram", false),
    ] {
        let tok = dir.path().join(format!("{name}.json"));
        let out = dir.path().join(format!("{name}-{eos}.counts.jsonl"));
        let mut args = vec![
            "count",
            tok.to_str().unwrap(),
            out.to_str().unwrap(),
            docs_path.to_str().unwrap(),
        ];
        if eos {
            args.push("--eos");
        }
        script(&py, &args);
        let expected = read_jsonl(&out);
        assert_eq!(expected.len(), docs.len());
        let step = TokenCount::new(TokenCountConfig {
            tokenizer: Some(tok),
            count_eos_token: eos,
            ..Default::default()
        })
        .unwrap();
        let (mut same, mut total) = (0, 0u64);
        let mut diffs = Vec::new();
        for (doc, exp) in docs.iter().zip(&expected) {
            assert_eq!(doc["id"], exp["id"]);
            let n = step.count(doc["text"].as_str().unwrap()).unwrap();
            total += n;
            if Some(n) == exp["token_count"].as_u64() {
                same += 1;
            } else if diffs.len() < 5 {
                diffs.push((doc["id"].clone(), n, exp["token_count"].clone()));
            }
        }
        println!(
            "{name} (eos {eos}): {same}/{} identical, {total} tokens",
            docs.len()
        );
        assert_eq!(same, docs.len(), "{name}: first differences {diffs:?}");
    }
}
