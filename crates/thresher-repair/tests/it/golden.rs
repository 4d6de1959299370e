//! The seed page (fixtures/seed/, from issue 4) through the repair steps of the `default`
//! recipe must become exactly the expected text.

use thresher_core::Document;

use crate::common::{default_recipe_repair_steps, default_recipe_steps, repo_root, run_steps};

#[test]
fn seed_page_is_repaired_exactly() {
    let dir = repo_root().join("fixtures/seed");
    let input = std::fs::read_to_string(dir.join("000_6cac269eaefacd00.txt")).expect("seed");
    let expected =
        std::fs::read_to_string(dir.join("000_6cac269eaefacd00.expected.txt")).expect("expected");
    let steps = default_recipe_repair_steps();
    let names: Vec<&str> = steps.iter().map(|s| s.name()).collect();
    assert!(
        names.contains(&"collapse_repeats") && names.contains(&"strip_chrome"),
        "default recipe lacks the repair steps: {names:?}"
    );
    let out = run_steps(&steps, vec![Document::new("seed", input)]);
    let doc = out[0].as_ref().expect("seed kept by the repair steps");
    assert_eq!(doc.text(), expected);
    // What was removed is recorded: the second copy and the trailer that ended each copy
    // (collapse_repeats), then the member card (strip_chrome).
    let a = &doc.annotations;
    assert_eq!(a["collapse_repeats"]["copies_removed"], 1);
    assert_eq!(a["collapse_repeats"]["trailers_removed"], 1);
    assert_eq!(a["collapse_repeats"]["lines_removed"], 9);
    assert_eq!(a["strip_chrome"]["lines_removed"], 10);
    // The apostrophes lost before the crawl are noted, not rewritten.
    let lost = &a["flag_encoding_damage"]["lost_apostrophe_examples"];
    assert!(
        lost.as_array()
            .is_some_and(|v| v.iter().any(|w| w == "Pakistans")),
        "{lost}"
    );
}

/// Under the whole `default` recipe up to dedup (repair, then the FineWeb filters), the seed is
/// kept, with the expected text; without repair the filters drop it (as datatrove's do).
#[test]
fn seed_page_is_kept_by_the_filters() {
    let dir = repo_root().join("fixtures/seed");
    let input = std::fs::read_to_string(dir.join("000_6cac269eaefacd00.txt")).expect("seed");
    let expected =
        std::fs::read_to_string(dir.join("000_6cac269eaefacd00.expected.txt")).expect("expected");
    let steps = default_recipe_steps(true);
    let names: Vec<&str> = steps.iter().map(|s| s.name()).collect();
    for f in [
        "gopher_repetition",
        "gopher_quality",
        "c4_quality",
        "fineweb_quality",
    ] {
        assert!(
            names.iter().any(|n| n.starts_with(f)),
            "default recipe lacks {f}: {names:?}"
        );
    }
    let out = run_steps(&steps, vec![Document::new("seed", input.clone())]);
    let doc = out[0]
        .as_ref()
        .expect("seed rejected by the default recipe's filters");
    // c4_quality rewrites every text it keeps the way datatrove's C4 filter does (kept lines
    // joined with "\n", then stripped), which drops the final newline of expected.txt; the
    // repair steps alone give expected.txt byte for byte (test above).
    assert_eq!(doc.text(), expected.trim_end());

    let filters_only: Vec<_> = default_recipe_steps(true)
        .into_iter()
        .filter(|s| {
            !default_recipe_repair_steps()
                .iter()
                .any(|r| r.name() == s.name())
        })
        .collect();
    let out = run_steps(&filters_only, vec![Document::new("seed", input)]);
    assert!(
        out[0].is_none(),
        "the unrepaired seed should be dropped by the filters"
    );
}

/// The seed is repaired exactly with `strip_chrome`'s classifier too (`method = "model"`, the
/// committed weights and thresholds) in place of the rules.
#[test]
fn seed_page_is_repaired_exactly_by_the_model() {
    use thresher_core::StepConfig;
    use thresher_repair::{ChromeMethod, CollapseRepeatsConfig, StripChromeConfig};
    let dir = repo_root().join("fixtures/seed");
    let input = std::fs::read_to_string(dir.join("000_6cac269eaefacd00.txt")).expect("seed");
    let expected =
        std::fs::read_to_string(dir.join("000_6cac269eaefacd00.expected.txt")).expect("expected");
    let steps = vec![
        CollapseRepeatsConfig::default().build().unwrap(),
        StripChromeConfig {
            method: ChromeMethod::Model,
            ..Default::default()
        }
        .build()
        .unwrap(),
    ];
    let out = run_steps(&steps, vec![Document::new("seed", input)]);
    let doc = out[0].as_ref().expect("seed kept by the repair steps");
    assert_eq!(doc.text(), expected);
}
