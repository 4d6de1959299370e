//! Differential test against datatrove 0.10.1's decisions on 4,563 real documents
//! (../shared/reference/datatrove-filters/, made by ../shared/tools/datatrove_reference.py).
//!
//! Each filter runs alone on every original text, and the FineWeb chain runs as FineWeb ordered
//! it; the decisions (keep, or the reason after the `filter:` prefix) and C4's edited texts are
//! compared with datatrove's. The test prints the agreement per filter and every mismatch, and
//! fails below 99.9 % agreement for any filter or the chain, or on any edited text that differs.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;

use serde_json::Value;
use thresher_core::{Document, Outcome, Step, StepConfig, StepCx};
use thresher_filters::{
    C4QualityConfig, FineWebQualityConfig, GopherQualityConfig, GopherRepetitionConfig,
};

/// Minimum fraction of identical decisions, per filter and for the chain (issue 3).
const MIN_AGREEMENT: f64 = 0.999;

fn read_jsonl_gz(name: &str) -> Option<Vec<Value>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/reference/datatrove-filters")
        .join(name);
    let file = std::fs::File::open(&path).ok()?;
    let reader = BufReader::new(flate2::read::GzDecoder::new(file));
    let mut out = Vec::new();
    for line in reader.lines() {
        let line = line.expect("reference file reads");
        out.push(serde_json::from_str(&line).expect("reference line is JSON"));
    }
    Some(out)
}

/// A column of the reference, the labelled steps that reproduce it, and its edited-text column.
type Case<'a> = (&'a str, Vec<(&'a str, &'a dyn Step)>, Option<&'a str>);

/// What a run of steps decided: "keep" (with the final text) or "<filter>:<reason>".
struct Run {
    decision: String,
    text: String,
}

fn run(steps: &[(&str, &dyn Step)], base: &Document, cx: &mut StepCx) -> Run {
    // A clone shares the base document's analysis of the same text (the words are tokenized once
    // for all the runs, as in a chain); C4's edits drop it, as in a pipeline.
    let mut doc = base.clone();
    for (label, step) in steps {
        match step.process(doc, cx) {
            Outcome::Keep(d) => doc = d,
            Outcome::Reject { doc, reason } => {
                // Our codes are `<filter>:<reason>`; datatrove's chain labels C4 by its run name.
                let rule = reason
                    .code
                    .split_once(':')
                    .map_or(&*reason.code, |(_, r)| r);
                return Run {
                    decision: format!("{label}:{rule}"),
                    text: doc.text().to_string(),
                };
            }
            Outcome::Error { error, .. } => {
                return Run {
                    decision: format!("error:{error}"),
                    text: String::new(),
                }
            }
        }
    }
    Run {
        decision: "keep".into(),
        text: doc.text().to_string(),
    }
}

#[derive(Default)]
struct Tally {
    agree: usize,
    total: usize,
    mismatches: Vec<String>,
    text_checked: usize,
    text_mismatches: Vec<String>,
}

fn first_difference(a: &str, b: &str) -> String {
    let i = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
    let mut s = i.saturating_sub(40);
    while !a.is_char_boundary(s) {
        s -= 1;
    }
    let cut = |t: &str| {
        t.get(s..)
            .unwrap_or("")
            .chars()
            .take(100)
            .collect::<String>()
    };
    format!("at byte {i}: expected {:?} got {:?}", cut(a), cut(b))
}

#[test]
fn decisions_match_datatrove() {
    let (Some(docs), Some(decisions)) = (
        read_jsonl_gz("docs.jsonl.gz"),
        read_jsonl_gz("decisions.jsonl.gz"),
    ) else {
        assert!(
            std::env::var_os("THRESHER_REQUIRE_SHARED").is_none(),
            "../shared is required (THRESHER_REQUIRE_SHARED is set) but absent"
        );
        println!("skipping: ../shared/reference/datatrove-filters absent");
        return;
    };
    assert_eq!(
        docs.len(),
        decisions.len(),
        "docs and decisions have the same length"
    );

    let rep = GopherRepetitionConfig::default().build().expect("builds");
    let qual = GopherQualityConfig::default().build().expect("builds");
    let c4 = C4QualityConfig::default().build().expect("builds");
    let c4_fw = C4QualityConfig {
        filter_no_terminal_punct: false,
        ..Default::default()
    }
    .build()
    .expect("builds");
    let fw = FineWebQualityConfig::default().build().expect("builds");

    // (column in decisions, steps, column of the edited text)
    let cases: [Case<'_>; 6] = [
        (
            "gopher_repetition",
            vec![("gopher_repetition", &*rep)],
            None,
        ),
        ("gopher_quality", vec![("gopher_quality", &*qual)], None),
        (
            "c4_quality",
            vec![("c4_quality", &*c4)],
            Some("c4_quality_text"),
        ),
        (
            "c4_fineweb",
            vec![("c4_fineweb", &*c4_fw)],
            Some("c4_fineweb_text"),
        ),
        ("fineweb_quality", vec![("fineweb_quality", &*fw)], None),
        (
            "fineweb_chain",
            vec![
                ("gopher_repetition", &*rep),
                ("gopher_quality", &*qual),
                ("c4_fineweb", &*c4_fw),
                ("fineweb_quality", &*fw),
            ],
            Some("fineweb_chain_text"),
        ),
    ];
    let mut tallies: Vec<Tally> = cases.iter().map(|_| Tally::default()).collect();
    let mut cx = StepCx::default();
    for (doc, dec) in docs.iter().zip(&decisions) {
        let id = doc["id"].as_str().unwrap_or("");
        assert_eq!(
            dec["id"].as_str(),
            Some(id),
            "decisions are in document order"
        );
        let text = doc["text"].as_str().unwrap_or("");
        let mut base = Document::new(id, text);
        thresher_filters::analysis::analysis(&mut base).words(text);
        for ((column, steps, text_column), tally) in cases.iter().zip(&mut tallies) {
            let expected = dec[*column].as_str().unwrap_or("<missing>");
            let got = run(steps, &base, &mut cx);
            // Single-filter columns hold the bare reason; ours carries the filter label.
            let got_decision = if steps.len() == 1 && got.decision != "keep" {
                got.decision
                    .split_once(':')
                    .map_or(got.decision.clone(), |(_, r)| r.to_string())
            } else {
                got.decision.clone()
            };
            tally.total += 1;
            if got_decision == expected {
                tally.agree += 1;
            } else {
                tally.mismatches.push(format!(
                    "{id}: datatrove {expected:?}, thresher {got_decision:?}"
                ));
            }
            if let Some(tc) = text_column {
                if expected == "keep" && got_decision == "keep" {
                    // Absent text column: datatrove left the text unchanged.
                    let want = dec.get(*tc).and_then(Value::as_str).unwrap_or(text);
                    tally.text_checked += 1;
                    if want != got.text {
                        tally
                            .text_mismatches
                            .push(format!("{id}: {}", first_difference(want, &got.text)));
                    }
                }
            }
        }
    }

    let mut failed = Vec::new();
    println!(
        "\nparity with datatrove 0.10.1 over {} documents",
        docs.len()
    );
    println!(
        "{:<18} {:>10} {:>9} {:>14}",
        "filter", "agree", "%", "text diffs"
    );
    for ((column, _, text_column), t) in cases.iter().zip(&tallies) {
        let frac = t.agree as f64 / t.total as f64;
        let texts = match text_column {
            Some(_) => format!("{}/{}", t.text_mismatches.len(), t.text_checked),
            None => "-".into(),
        };
        println!(
            "{column:<18} {:>5}/{:<5} {:>8.3}% {texts:>14}",
            t.agree,
            t.total,
            100.0 * frac
        );
        if frac < MIN_AGREEMENT {
            failed.push(format!(
                "{column}: {:.3}% < {:.1}%",
                100.0 * frac,
                100.0 * MIN_AGREEMENT
            ));
        }
        if !t.text_mismatches.is_empty() {
            failed.push(format!(
                "{column}: {} edited texts differ",
                t.text_mismatches.len()
            ));
        }
    }
    for ((column, _, _), t) in cases.iter().zip(&tallies) {
        if !t.mismatches.is_empty() || !t.text_mismatches.is_empty() {
            println!(
                "\n{column}: {} decision mismatches, {} text mismatches",
                t.mismatches.len(),
                t.text_mismatches.len()
            );
        }
        for m in t.mismatches.iter().chain(&t.text_mismatches) {
            println!("  {m}");
        }
    }
    assert!(failed.is_empty(), "parity targets missed: {failed:?}");
}

/// C4 hands FineWeb the word count of the cleaned text, worked out from the words of the
/// original text (see `c4_quality`); on every reference document, with both C4 settings, it
/// must equal the count of a fresh tokenization of the cleaned text.
#[test]
fn c4_word_count_equals_fresh_tokenization() {
    let Some(docs) = read_jsonl_gz("docs.jsonl.gz") else {
        assert!(
            std::env::var_os("THRESHER_REQUIRE_SHARED").is_none(),
            "../shared is required (THRESHER_REQUIRE_SHARED is set) but absent"
        );
        println!("skipping: ../shared/reference/datatrove-filters absent");
        return;
    };
    let steps = [
        C4QualityConfig::default().build().unwrap(),
        C4QualityConfig {
            filter_no_terminal_punct: false,
            ..Default::default()
        }
        .build()
        .unwrap(),
    ];
    let mut cx = StepCx::default();
    let mut edited = 0;
    for doc in &docs {
        let text = doc["text"].as_str().unwrap_or("");
        for step in &steps {
            let mut d = Document::new("d", text);
            thresher_filters::analysis::analysis(&mut d).words(text);
            if let Outcome::Keep(mut d) = step.process(d, &mut cx) {
                if d.text() == text {
                    continue;
                }
                edited += 1;
                let seeded = thresher_filters::analysis::analysis(&mut d).word_count(d.text());
                let fresh = thresher_text::SpacyEnTokenizer.words(d.text()).len();
                assert_eq!(seeded, fresh, "{}", doc["id"]);
            }
        }
    }
    println!("{edited} edited texts: word counts equal");
    assert!(edited > 1000, "the reference set has C4 edits to check");
}
