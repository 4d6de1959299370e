//! Leave-one-source-out check of `strip_chrome`'s classifier, small enough for CI: trained on
//! every second page of three gold sets (with the built-in model's threshold, bonus and margin),
//! scored on every second page of the fourth, CleanPortalEval, whose sites none of the others
//! has. The full evaluation (all pages, all four folds, the settings searched) is the
//! `twins_eval` example; see docs/repair.md.

#[path = "../../examples/support/mod.rs"]
mod support;

use support::*;
use thresher_core::StepConfig;
use thresher_repair::{ChromeMethod, ChromeModel, CollapseRepeatsConfig, StripChromeConfig};

#[test]
fn held_out_source_twins() {
    if crate::common::shared_dir("corpus").is_none() {
        return;
    }
    let pages = load_pages(&corpus_dir(), SETS, 2);
    let labels: Vec<Labelled> = pages.iter().map(label_page).collect();
    let held = "cleanportaleval";
    let train_idx: Vec<usize> = (0..pages.len()).filter(|&i| pages[i].set != held).collect();
    let test_idx: Vec<usize> = (0..pages.len()).filter(|&i| pages[i].set == held).collect();
    let b = ChromeModel::builtin();
    let (model, _) = train_with(
        &pages,
        &labels,
        &train_idx,
        Some((
            b.threshold,
            b.trail_threshold,
            b.repeated_bonus,
            b.stop_margin,
        )),
    );
    let (learned, _) = evaluate(&pages, &labels, &test_idx, &|| steps_with(&model));
    let (rules, _) = evaluate(&pages, &labels, &test_idx, &|| {
        vec![
            CollapseRepeatsConfig::default().build().unwrap(),
            StripChromeConfig {
                method: ChromeMethod::Rules,
                ..Default::default()
            }
            .build()
            .unwrap(),
        ]
    });
    println!("held out {held}, model: {}", learned.line());
    println!("held out {held}, rules: {}", rules.line());
    assert!(learned.twins >= 10, "{}", learned.twins);
    // The classifier removes more of the chrome of sites it never saw than the rules do, and
    // loses no more gold.
    assert!(
        learned.recall_pct() >= rules.recall_pct() + 15.0,
        "recall {:.1}% vs rules {:.1}%",
        learned.recall_pct(),
        rules.recall_pct()
    );
    assert!(learned.lost_pct() <= 0.5, "{}", learned.line());
    assert!(learned.unchanged_pct() >= 99.0, "{}", learned.line());
    assert!(learned.restored >= rules.restored, "{}", learned.line());
}
