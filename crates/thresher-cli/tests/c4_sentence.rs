//! `c4_paragraph` and `sentence_dedup` in a `thresher run`: the real samples of `fixtures/sample`
//! and a second copy of the DCLM sample (whose spans are all seen before), through the executor
//! (`sentence_dedup`'s `prepare` on all cores, its lookups in input order). Every record is
//! accounted for, the second copy loses its repeated spans, and the output does not depend on
//! the number of threads.

mod common;

use std::path::PathBuf;

use common::{lines_of, run, stats};
use serde_json::Value;

fn samples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/sample")
}

#[test]
fn c4_paragraph_then_sentence_dedup_on_the_samples() {
    let d = tempfile::tempdir().unwrap();
    let copy = d.path().join("again.jsonl");
    std::fs::copy(samples().join("dclm-majority_data.jsonl"), &copy).unwrap();
    let recipe = d.path().join("r.toml");
    std::fs::write(
        &recipe,
        "[[step]]\ntype = \"c4_paragraph\"\nmin_paragraphs = 1\n\n\
         [[step]]\ntype = \"sentence_dedup\"\n",
    )
    .unwrap();
    let mut outputs: Vec<(Vec<Value>, Vec<Value>)> = Vec::new();
    for threads in ["1", "2"] {
        let out = d.path().join(format!("out{threads}"));
        let o = run(&[
            "run",
            recipe.to_str().unwrap(),
            "-i",
            samples().to_str().unwrap(),
            copy.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--threads",
            threads,
            "-q",
        ]);
        assert!(o.status.success());
        let s = stats(&out);
        let n = |k: &str| s[k].as_u64().unwrap();
        assert_eq!(n("in"), n("kept") + n("rejected") + n("errors"));
        assert_eq!(n("errors"), 0);
        let steps = s["steps"].as_array().unwrap();
        let (c4, sd) = (&steps[0], &steps[1]);
        assert_eq!(c4["name"], "c4_paragraph");
        assert!(c4["reasons"]["c4_paragraph:too_few_paragraphs"].as_u64() > Some(0));
        assert_eq!(sd["name"], "sentence_dedup");
        let report = &sd["report"];
        // The copy's documents repeat the first copy's spans: each is emptied (or cut short).
        let rejected = sd["rejected"].as_u64().unwrap();
        assert!(rejected > 100, "{sd}");
        assert!(
            sd["reasons"]["sentence_dedup:empty"].as_u64() > Some(100),
            "{sd}"
        );
        assert!(
            report["sentences_removed"].as_u64() > Some(1000),
            "{report}"
        );
        assert!(report["table_bytes"].as_u64() > Some(0), "{report}");
        assert_eq!(
            report["docs"].as_u64(),
            sd["in"].as_u64(),
            "every document reaching the step is counted"
        );
        outputs.push((lines_of(&out.join("kept")), lines_of(&out.join("rejected"))));
    }
    assert!(!outputs[0].0.is_empty());
    assert_eq!(
        outputs[0], outputs[1],
        "1 and 2 threads give the same output"
    );
}
