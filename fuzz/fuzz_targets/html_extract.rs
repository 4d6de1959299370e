//! The `html_extract` step on arbitrary bytes as HTML (decoded lossily, as a reader would
//! hand over a page), plus the parser's own promise: the fast tokenizer and html5ever's
//! tokenizer build the same tree.
//!
//! The promise checked: no panic; the step keeps, rejects or errors (a budget); the two parses
//! agree whenever both finish within the budget.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use thresher_core::{Document, Outcome, Step, StepConfig, StepCx};
use thresher_extract::dom::{self, Budget};
use thresher_extract::{extract_html, HtmlExtractConfig, Limits, Options};

fn step() -> &'static dyn Step {
    static STEP: OnceLock<Box<dyn Step>> = OnceLock::new();
    STEP.get_or_init(|| {
        HtmlExtractConfig::default()
            .build()
            .expect("the default config builds")
    })
    .as_ref()
}

fuzz_target!(|data: &[u8]| {
    let html = String::from_utf8_lossy(data);
    let doc = Document::new("fuzz", html.as_ref());
    match step().process(doc, &mut StepCx::default()) {
        Outcome::Keep(_) | Outcome::Reject { .. } | Outcome::Error { .. } => {}
    }
    // Tight budgets: the budget paths must stop cleanly too.
    let small = Limits {
        max_html_bytes: 1 << 20,
        max_dom_nodes: 64,
        max_depth: 8,
    };
    let _ = extract_html(&html, &small, &Options::default());
    let budget = Budget {
        max_nodes: 1_000_000,
        max_depth: 1000,
    };
    if let (Ok(fast), Ok(reference)) = (
        dom::parse(&html, budget),
        dom::parse_with_html5ever(&html, budget),
    ) {
        assert!(fast.same_tree(&reference), "the two tokenizers disagree");
    }
});
