//! Golden files with spaCy's full expected tokens, made by `scripts/gen_tokenizer_fixture.py`:
//! `snippets.golden.jsonl` (hand-written tricky snippets, readable), `random.golden.jsonl`
//! (seeded random concatenations of rule-triggering pieces: every rule interaction),
//! `random_url.golden.jsonl` (URL, IP, e-mail and port fragments) and
//! `random_classes.golden.jsonl` (characters at the edges of every character-class range).

use std::path::PathBuf;

fn check_golden(name: &str, min_cases: usize) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/tokenizer")
        .join(name);
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
    assert!(n >= min_cases, "{name} has only {n} cases");
    assert!(
        failures.is_empty(),
        "{} of {n} cases differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn snippets_tokenize_like_spacy() {
    check_golden("snippets.golden.jsonl", 300);
}

#[test]
fn random_cases_tokenize_like_spacy() {
    check_golden("random.golden.jsonl", 2000);
}

#[test]
fn url_cases_tokenize_like_spacy() {
    check_golden("random_url.golden.jsonl", 1000);
}

#[test]
fn character_class_edges_tokenize_like_spacy() {
    check_golden("random_classes.golden.jsonl", 1000);
}
