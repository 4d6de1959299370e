//! Robustness: the repair steps never panic, only ever remove whole lines, and stay fast on
//! adversarial pages (many identical or periodic lines).

use std::time::Instant;

use thresher_core::{Document, Step, StepConfig};
use thresher_repair::{
    CollapseRepeatsConfig, CorpusBoilerplateConfig, FlagEncodingDamageConfig, StripChromeConfig,
};

use crate::common::run_steps;
use crate::corpus::Rng;

fn all_steps() -> Vec<Box<dyn Step>> {
    vec![
        CollapseRepeatsConfig::default().build().unwrap(),
        StripChromeConfig::default().build().unwrap(),
        CorpusBoilerplateConfig {
            max_docs: 1,
            ..Default::default()
        }
        .build()
        .unwrap(),
        FlagEncodingDamageConfig::default().build().unwrap(),
    ]
}

/// True when `out` is `input` with some whole lines (and their terminators) removed.
fn is_line_subsequence(input: &str, out: &str) -> bool {
    let mut rest = out;
    for line in input.split_inclusive('\n') {
        if let Some(r) = rest.strip_prefix(line) {
            rest = r;
        }
    }
    rest.is_empty()
}

#[test]
fn random_pages_only_lose_whole_lines() {
    const PIECES: &[&str] = &[
        "Home",
        "- Joined",
        "Read more: A Title",
        "by Jane Doe",
        "",
        "   ",
        "\r",
        "---",
        "Share: Twitter",
        "Ünïcödé — ‘quotes’ ✓",
        "\u{FFFD}",
        "cafÃ©",
        "A sentence that is long enough to be prose, with words and a full stop.",
        "Another sentence of the body text, which goes on for a while here.",
        "Short line.",
        "Label:",
        ":",
        "by",
        "Pakistans Pakistan",
    ];
    let mut rng = Rng(42);
    let mut docs = Vec::new();
    for d in 0..400 {
        let n = rng.range(0, 40);
        let mut t = String::new();
        for _ in 0..n {
            t.push_str(PIECES[rng.range(0, PIECES.len() - 1)]);
            if !rng.next().is_multiple_of(10) {
                t.push('\n');
            }
        }
        docs.push(Document::new(format!("d{d}"), t));
    }
    let inputs: Vec<String> = docs.iter().map(|d| d.text().to_string()).collect();
    let out = run_steps(&all_steps(), docs);
    for (input, o) in inputs.iter().zip(&out) {
        let o = o.as_ref().expect("repair steps never reject");
        assert!(
            is_line_subsequence(input, o.text()),
            "not a line subsequence:\n{input:?}\n{:?}",
            o.text()
        );
    }
}

#[test]
fn adversarial_pages_are_fast() {
    let same = "x\n".repeat(100_000);
    let periodic = "a\nb\nc\n".repeat(40_000);
    let mut rng = Rng(7);
    let mut random_short = String::new();
    for _ in 0..100_000 {
        random_short.push_str(&format!("w{}\n", rng.range(0, 50)));
    }
    let t0 = Instant::now();
    let docs = vec![
        Document::new("same", same),
        Document::new("periodic", periodic),
        Document::new("random", random_short),
    ];
    let out = run_steps(&all_steps(), docs);
    let secs = t0.elapsed().as_secs_f64();
    println!("adversarial pages: {secs:.2} s");
    assert!(out.iter().all(Option::is_some));
    assert!(secs < 20.0, "took {secs:.1} s");
}
