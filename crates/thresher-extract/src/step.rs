//! The `html_extract` pipeline step.

use serde::{Deserialize, Serialize};
use thresher_core::check::{check_at_least, check_range};
use thresher_core::{Document, Outcome, Reason, Result, Step, StepConfig, StepCx};

use crate::{extract_html, ExtractError, Limits, Options};

/// Recipe parameters of `html_extract` (`[[step]] type = "html_extract"`).
///
/// What it does: replaces a document's HTML text with its main text (boilerplate removed, one
/// paragraph per line) and puts the page's title, author, date, canonical URL and language
/// into the metadata. Documents whose metadata says `content_type = "text/plain"` (WET
/// conversion records) pass through unchanged.
///
/// Why: crawls store pages, and models are trained on the text people read on them.
///
/// Budgets: a page over `max_html_bytes`, `max_dom_nodes` or `max_depth` is an error record
/// (never a hang or an out-of-memory). The defaults are far above real pages: 20 MB is
/// trafilatura's own size limit; the largest pages of the evaluation sets have about 30,000
/// nodes and nest about 60 levels deep.
///
/// ```toml
/// [[step]]
/// type = "html_extract"
/// max_html_bytes = 20000000
/// ```
#[derive(Debug, Clone, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct HtmlExtractConfig {
    /// Largest page, in bytes of (UTF-8) HTML.
    pub max_html_bytes: usize,
    /// Largest number of DOM nodes.
    pub max_dom_nodes: usize,
    /// Deepest element nesting.
    pub max_depth: u32,
    /// Also keep prose blocks found outside the main content container.
    pub union_outside_prose: bool,
    /// How many tree levels above the main container an outside prose block may branch off.
    pub union_max_levels: u32,
    /// Keep table cells.
    pub include_tables: bool,
    /// Pages whose extracted text has fewer characters are rejected (`html_extract:too_short`);
    /// 1 rejects only empty results.
    pub min_text_chars: usize,
}

impl Default for HtmlExtractConfig {
    fn default() -> Self {
        HtmlExtractConfig {
            max_html_bytes: 20_000_000,
            max_dom_nodes: 1_000_000,
            max_depth: 1000,
            union_outside_prose: true,
            union_max_levels: 2,
            include_tables: true,
            min_text_chars: 1,
        }
    }
}

impl StepConfig for HtmlExtractConfig {
    /// The budgets are at least 1 (`max_depth` at most 100,000: deeper would let one page take
    /// minutes).
    fn validate(&self) -> Result<()> {
        const STEP: &str = "html_extract";
        check_at_least(STEP, "max_html_bytes", self.max_html_bytes, 1)?;
        check_at_least(STEP, "max_dom_nodes", self.max_dom_nodes, 1)?;
        check_range(STEP, "max_depth", self.max_depth, 1..=100_000)
    }

    fn build(self) -> Result<Box<dyn Step>> {
        self.validate()?;
        Ok(Box::new(HtmlExtract { cfg: self }))
    }
}

/// The `html_extract` step; build it from [`HtmlExtractConfig`].
#[derive(Debug)]
pub struct HtmlExtract {
    cfg: HtmlExtractConfig,
}

impl Step for HtmlExtract {
    fn name(&self) -> &str {
        "html_extract"
    }

    fn process(&self, mut doc: Document, _cx: &mut StepCx) -> Outcome {
        if doc
            .metadata
            .get("content_type")
            .and_then(|v| v.as_str())
            .is_some_and(|t| t == "text/plain")
        {
            return Outcome::Keep(doc);
        }
        let limits = Limits {
            max_html_bytes: self.cfg.max_html_bytes,
            max_dom_nodes: self.cfg.max_dom_nodes,
            max_depth: self.cfg.max_depth,
        };
        let opts = Options {
            union_outside_prose: self.cfg.union_outside_prose,
            union_max_levels: self.cfg.union_max_levels,
            include_tables: self.cfg.include_tables,
            ..Options::default()
        };
        let ex = match extract_html(doc.text(), &limits, &opts) {
            Ok(ex) => ex,
            Err(e @ (ExtractError::TooLarge(_) | ExtractError::Budget(_))) => {
                return Outcome::error(doc, format!("html_extract: {e}"));
            }
        };
        let fields = [
            ("title", &ex.title),
            ("author", &ex.author),
            ("date", &ex.date),
            ("canonical_url", &ex.canonical_url),
            ("html_lang", &ex.lang),
        ];
        for (k, v) in fields {
            if let Some(v) = v {
                doc.metadata
                    .entry(k.to_string())
                    .or_insert_with(|| v.clone().into());
            }
        }
        let chars = ex.text.chars().count();
        doc.set_text(ex.text);
        if chars < self.cfg.min_text_chars {
            return Outcome::reject(
                doc,
                Reason::new(
                    if chars == 0 {
                        "html_extract:empty"
                    } else {
                        "html_extract:too_short"
                    },
                    chars,
                ),
            );
        }
        Outcome::Keep(doc)
    }
}
