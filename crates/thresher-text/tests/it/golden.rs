//! Hand-written tricky snippets with spaCy's full expected tokens
//! (`fixtures/tokenizer/snippets.golden.jsonl`, made by `scripts/gen_tokenizer_fixture.py snippets`).

use std::path::PathBuf;

#[test]
fn snippets_tokenize_like_spacy() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/tokenizer/snippets.golden.jsonl");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut n = 0;
    let mut failures = Vec::new();
    for line in text.lines().filter(|l| !l.is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line).expect("json");
        let input = v["text"].as_str().expect("text");
        let expected: Vec<&str> = v["tokens"]
            .as_array()
            .expect("tokens")
            .iter()
            .map(|t| t.as_str().expect("token"))
            .collect();
        let got = thresher_text::split_into_words(input);
        if got != expected {
            failures.push(format!(
                "{input:?}\n  spaCy: {expected:?}\n  ours:  {got:?}"
            ));
        }
        n += 1;
    }
    assert!(n >= 100, "golden file has only {n} snippets");
    assert!(
        failures.is_empty(),
        "{} of {n} snippets differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
