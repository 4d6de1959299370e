//! Annotate mode (`mode = "annotate"`) on real documents: the values it writes are the ones
//! the filters compare. The `fineweb` recipe runs once as it is and once with every step
//! annotating; the default thresholds, applied afterwards to the annotations in the recipe's
//! order, must keep exactly the documents (and texts) the normal run keeps. Then
//! `thresher stats` must count what a threshold drops as the annotations say.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{lines_of, run, stats};
use serde_json::Value;

/// The shared reference documents (4,563 real web texts), or `None` when ../shared is absent.
fn reference_docs() -> Option<std::path::PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/reference/datatrove-filters/docs.jsonl.gz");
    if p.is_file() {
        return Some(p);
    }
    assert!(
        std::env::var_os("THRESHER_REQUIRE_SHARED").is_none(),
        "../shared is required (THRESHER_REQUIRE_SHARED is set) but absent"
    );
    println!("skipped: {} is absent", p.display());
    None
}

/// `metadata.<step>.<key>` as a number (booleans as 0/1); `None` when absent.
fn value(doc: &Value, step: &str, key: &str) -> Option<f64> {
    match doc["metadata"].get(step)?.get(key)? {
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        v => v.as_f64(),
    }
}

/// The first rule of the `fineweb` recipe (datatrove 0.10.1's default thresholds; C4 with
/// FineWeb's option) that the annotations fail, or `None`: kept. An absent value passes, as a
/// filter lets through a rule it could not measure. The thresholds are written out here
/// rather than read from the steps, so that a change of a default is a visible change.
fn fails(doc: &Value) -> Option<String> {
    let v = |step: &str, key: &str| value(doc, step, key);
    let gt = |step: &str, key: &str, max: f64| v(step, key).is_some_and(|x| x > max);
    let lt = |step: &str, key: &str, min: f64| v(step, key).is_some_and(|x| x < min);
    let mut rules: Vec<(String, bool)> = vec![
        (
            "gr.empty".into(),
            v("gopher_repetition", "empty") == Some(1.0),
        ),
        (
            "gr.dup_para_frac".into(),
            gt("gopher_repetition", "dup_para_frac", 0.3),
        ),
        (
            "gr.dup_para_char_frac".into(),
            gt("gopher_repetition", "dup_para_char_frac", 0.2),
        ),
        (
            "gr.dup_line_frac".into(),
            gt("gopher_repetition", "dup_line_frac", 0.3),
        ),
        (
            "gr.dup_line_char_frac".into(),
            gt("gopher_repetition", "dup_line_char_frac", 0.2),
        ),
    ];
    for (n, max) in [(2, 0.2), (3, 0.18), (4, 0.16)] {
        let key = format!("top_{n}_gram");
        rules.push((key.clone(), gt("gopher_repetition", &key, max)));
    }
    for (n, max) in [
        (5, 0.15),
        (6, 0.14),
        (7, 0.13),
        (8, 0.12),
        (9, 0.11),
        (10, 0.10),
    ] {
        let key = format!("duplicated_{n}_n_grams");
        rules.push((key.clone(), gt("gopher_repetition", &key, max)));
    }
    let gq = "gopher_quality";
    rules.extend([
        (
            "gq.words".into(),
            lt(gq, "non_symbol_words", 50.0) || gt(gq, "non_symbol_words", 1e5),
        ),
        (
            "gq.avg".into(),
            lt(gq, "mean_word_length", 3.0) || gt(gq, "mean_word_length", 10.0),
        ),
        ("gq.hashes".into(), gt(gq, "hash_word_ratio", 0.1)),
        ("gq.ellipsis".into(), gt(gq, "ellipsis_word_ratio", 0.1)),
        ("gq.bullets".into(), gt(gq, "bullet_lines_ratio", 0.9)),
        (
            "gq.end_ellipsis".into(),
            gt(gq, "end_ellipsis_lines_ratio", 0.3),
        ),
        ("gq.alpha".into(), lt(gq, "alpha_words_ratio", 0.8)),
        ("gq.stop_words".into(), lt(gq, "stop_words", 2.0)),
        (
            "c4.lorem".into(),
            v("c4_quality", "lorem_ipsum") == Some(1.0),
        ),
        (
            "c4.curly".into(),
            v("c4_quality", "curly_bracket") == Some(1.0),
        ),
        ("c4.sentences".into(), lt("c4_quality", "sentences", 5.0)),
        (
            "fw.empty".into(),
            v("fineweb_quality", "non_blank_lines") == Some(0.0),
        ),
        (
            "fw.punct".into(),
            lt("fineweb_quality", "line_punct_ratio", 0.12),
        ),
        (
            "fw.short".into(),
            gt("fineweb_quality", "short_line_ratio", 0.67),
        ),
        (
            "fw.dup".into(),
            gt("fineweb_quality", "char_dup_ratio", 0.01),
        ),
        ("fw.list".into(), gt("fineweb_quality", "list_ratio", 0.3)),
    ]);
    rules.into_iter().find(|r| r.1).map(|r| r.0)
}

#[test]
fn thresholds_applied_to_annotations_keep_what_the_filters_keep() {
    let Some(docs) = reference_docs() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (normal, annotated) = (dir.path().join("normal"), dir.path().join("annotated"));
    let input = docs.to_str().unwrap();
    let out = run(&[
        "run",
        "fineweb",
        "-i",
        input,
        "-o",
        normal.to_str().unwrap(),
        "-q",
    ]);
    assert!(out.status.success());
    // Every step of the recipe annotates, set from the command line.
    let sets: Vec<String> = [
        "gopher_repetition",
        "gopher_quality",
        "c4_quality",
        "fineweb_quality",
    ]
    .iter()
    .map(|s| format!("{s}.mode=annotate"))
    .collect();
    let mut args = vec![
        "run",
        "fineweb",
        "-i",
        input,
        "-o",
        annotated.to_str().unwrap(),
        "-q",
    ];
    for s in &sets {
        args.extend(["--set", s.as_str()]);
    }
    let out = run(&args);
    assert!(out.status.success());

    // Annotate mode keeps everything, with every value of every step.
    let st = stats(&annotated);
    assert_eq!(st["kept"], st["in"], "{st}");
    assert_eq!(st["in"], 4563);
    let all = lines_of(&annotated.join("kept"));
    assert_eq!(all.len(), 4563);

    let kept_normal: BTreeMap<String, String> = lines_of(&normal.join("kept"))
        .into_iter()
        .map(|d| {
            (
                d["id"].as_str().unwrap().to_string(),
                d["text"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let mut kept_by_annotations = BTreeMap::new();
    let mut dropped_by: BTreeMap<String, usize> = BTreeMap::new();
    for d in &all {
        match fails(d) {
            None => {
                let id = d["id"].as_str().unwrap().to_string();
                kept_by_annotations.insert(id, d["text"].as_str().unwrap().to_string());
            }
            Some(rule) => *dropped_by.entry(rule).or_default() += 1,
        }
    }
    println!("dropped by the annotations: {dropped_by:?}");
    // The normal run's figures (docs/filters-parity.md): 1,815 kept of 4,563.
    assert_eq!(kept_normal.len(), 1815);
    let only_normal: Vec<&String> = kept_normal
        .keys()
        .filter(|k| !kept_by_annotations.contains_key(*k))
        .collect();
    let only_annotated: Vec<&String> = kept_by_annotations
        .keys()
        .filter(|k| !kept_normal.contains_key(*k))
        .collect();
    assert!(
        only_normal.is_empty() && only_annotated.is_empty(),
        "kept only by the filters: {only_normal:?}; only by the annotations: {only_annotated:?}"
    );
    // C4's line edits happen in both modes: the kept texts are the same too.
    assert_eq!(kept_by_annotations, kept_normal);

    // `thresher stats` counts what a threshold drops from the same values.
    let expect = all
        .iter()
        .filter(|d| value(d, "gopher_quality", "mean_word_length").is_some_and(|x| x < 3.0))
        .count();
    assert!(expect > 0);
    let out = run(&[
        "stats",
        annotated.to_str().unwrap(),
        "--json",
        "-k",
        "gopher_quality.",
        "-d",
        "gopher_quality.mean_word_length<3",
        "-d",
        "gopher_quality.stop_words<2",
    ]);
    assert!(out.status.success());
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["documents"], 4563);
    assert_eq!(report["thresholds"][0]["dropped"], expect);
    let values = report["values"].as_object().unwrap();
    assert!(values.keys().all(|k| k.starts_with("gopher_quality.")));
    let mwl = &values["gopher_quality.mean_word_length"];
    let q = |i: usize| mwl["quantiles"][i][1].as_f64().unwrap();
    assert!(q(0) <= q(5) && q(5) <= q(10), "{mwl}");
    // Every document with words has the value (those without none).
    let words = all
        .iter()
        .filter(|d| value(d, "gopher_quality", "non_symbol_words").is_some_and(|x| x > 0.0))
        .count();
    assert_eq!(mwl["count"], words);
    // The terminal form names the value and the threshold.
    let out = run(&[
        "stats",
        annotated.to_str().unwrap(),
        "-d",
        "c4_quality.sentences<5",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("gopher_quality.mean_word_length:"), "{text}");
    assert!(text.contains("c4_quality.sentences<5: drops"), "{text}");
}

#[test]
fn annotate_mode_is_refused_for_steps_that_are_not_filters() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl");
    std::fs::write(&input, "{\"id\":\"a\",\"text\":\"x\"}\n").unwrap();
    let recipe = dir.path().join("r.toml");
    std::fs::write(
        &recipe,
        "[[step]]\ntype = \"exact_dedup\"\nmode = \"annotate\"\n",
    )
    .unwrap();
    let out = run(&[
        "run",
        recipe.to_str().unwrap(),
        "-i",
        input.to_str().unwrap(),
        "-o",
        dir.path().join("out").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("r.toml:3") && err.contains("not a filter"),
        "{err}"
    );
    std::fs::write(
        &recipe,
        "[[step]]\ntype = \"text_length\"\nmode = \"tag\"\n",
    )
    .unwrap();
    let out = run(&[
        "run",
        recipe.to_str().unwrap(),
        "-i",
        input.to_str().unwrap(),
        "-o",
        dir.path().join("out2").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("r.toml:3") && err.contains("`mode`"), "{err}");
}
