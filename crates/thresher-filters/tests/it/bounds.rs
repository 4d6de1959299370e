//! `text_length`, `word_count` (whitespace words) and `regex_filter` against Python and
//! datatrove 0.10.1's `RegexFilter` on ../shared's 4,563 reference documents: the measured
//! values (`len(text)`, `len(text.split())`) and every pattern's keep/drop decision must be
//! identical. `scripts/bounds_reference.py` computes the reference; the test runs it with
//! `THRESHER_PYTHON` (else `python3`), and with THRESHER_REQUIRE_SHARED set a missing Python,
//! datatrove or ../shared fails the test.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;
use thresher_core::{Document, Outcome, Step, StepConfig, StepCx};
use thresher_filters::{RegexFilterConfig, TextLengthConfig, WordCountConfig, WordSplit};

/// Patterns valid in both Python's `re` and the `regex` crate, chosen to fire on web text.
const PATTERNS: [&str; 14] = [
    r"(?i)lorem ipsum",
    r"\bjavascript\b",
    r"(?i)cookies? (policy|settings)",
    r"\d{3}-\d{3}-\d{4}",
    r"https?://\S+",
    r"[A-Z]{5,}",
    r"^\s*$",
    r"(?m)^Copyright",
    r"\w+@\w+\.com",
    r"[^\x00-\x7F]{10,}",
    r"\bthe\b.{0,20}\bend\b",
    r"(?s)<script.*?</script>",
    r"©|&copy;",
    r"\s{5,}",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn python() -> Option<String> {
    let py = std::env::var("THRESHER_PYTHON").unwrap_or_else(|_| "python3".into());
    let ok = Command::new(&py)
        .args([
            "-c",
            "import importlib.metadata as m, datatrove.pipeline.filters.regex_filter; \
             assert m.version('datatrove') == '0.10.1'",
        ])
        .output()
        .is_ok_and(|o| o.status.success());
    ok.then_some(py)
}

fn read_jsonl(path: &std::path::Path) -> Vec<Value> {
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

/// The rejection value of a step built to reject every document (its measured quantity).
fn measured(step: &dyn Step, text: &str) -> u64 {
    match step.process(Document::new("d", text), &mut StepCx::default()) {
        Outcome::Reject { reason, .. } => reason.value.as_u64().unwrap(),
        other => panic!("expected a rejection: {other:?}"),
    }
}

#[test]
fn values_and_regex_decisions_match_python() {
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
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bounds_reference.jsonl");
    let status = Command::new(&py)
        .arg(root().join("scripts/bounds_reference.py"))
        .arg(&docs_path)
        .arg(&out)
        .args(PATTERNS)
        .status()
        .unwrap();
    assert!(status.success(), "bounds_reference.py failed");
    let docs = read_jsonl(&docs_path);
    let reference = read_jsonl(&out);
    assert_eq!(docs.len(), reference.len());

    let chars = TextLengthConfig {
        min_chars: u64::MAX,
        max_chars: None,
    }
    .build()
    .unwrap();
    let words = WordCountConfig {
        min_words: u64::MAX,
        max_words: None,
        words: WordSplit::Whitespace,
    }
    .build()
    .unwrap();
    let filters: Vec<Box<dyn Step>> = PATTERNS
        .iter()
        .map(|p| {
            RegexFilterConfig {
                patterns: vec![p.to_string()],
                ..Default::default()
            }
            .build()
            .unwrap()
        })
        .collect();
    let mut dropped = [0usize; PATTERNS.len()];
    let mut mismatches = Vec::new();
    for (doc, r) in docs.iter().zip(&reference) {
        let text = doc["text"].as_str().unwrap();
        let id = doc["id"].as_str().unwrap();
        assert_eq!(
            measured(&*chars, text),
            r["len"].as_u64().unwrap(),
            "{id}: len"
        );
        assert_eq!(
            measured(&*words, text),
            r["split"].as_u64().unwrap(),
            "{id}: split"
        );
        for (i, f) in filters.iter().enumerate() {
            let kept = matches!(
                f.process(Document::new(id, text), &mut StepCx::default()),
                Outcome::Keep(_)
            );
            dropped[i] += usize::from(!kept);
            if kept != r["regex"][i].as_bool().unwrap() {
                mismatches.push(format!("{id}: pattern {:?} kept={kept}", PATTERNS[i]));
            }
        }
    }
    println!("{} docs; dropped per pattern: {dropped:?}", docs.len());
    assert!(
        dropped.iter().filter(|&&d| d > 0).count() >= 10,
        "the patterns exercise drops"
    );
    assert!(mismatches.is_empty(), "{mismatches:#?}");
    let _ = std::fs::remove_file(&out);
}
