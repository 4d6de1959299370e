//! Trains the line classifier of `strip_chrome` on the four gold extraction sets of
//! `../shared/corpus` and writes `src/chrome_model.json`.
//!
//! ```text
//! cargo run -p thresher-repair --example train_chrome
//! ```
//!
//! Deterministic: the same data gives the same weights. Held-out figures (each set left out of
//! the training in turn) come from `twins_eval`.

mod support;

use support::*;

fn main() {
    let pages = load_pages(&corpus_dir(), SETS, 1);
    assert!(!pages.is_empty(), "../shared/corpus is required");
    let labels: Vec<Labelled> = pages.iter().map(label_page).collect();
    let idx: Vec<usize> = (0..pages.len()).collect();
    let (mut model, score) = train(&pages, &labels, &idx);
    model.provenance = format!(
        "cargo run -p thresher-repair --example train_chrome: logistic regression and boosted \
         trees on the visible lines of {} pages of {}; figures with these settings, each set \
         scored by scorers fitted on the other three: {}",
        pages.len(),
        SETS.join(", "),
        score.line()
    );
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/chrome_model.json");
    let json = serde_json::to_string_pretty(&model).expect("json");
    std::fs::write(&out, json + "\n").expect("write chrome_model.json");
    println!("{}", model.provenance);
    println!("wrote {}", out.display());
}
