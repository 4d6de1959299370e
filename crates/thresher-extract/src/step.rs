//! The `html_extract` pipeline step.

use serde::{Deserialize, Serialize};
use thresher_core::check::{check_at_least, check_range};
use thresher_core::{Document, Outcome, Reason, Result, Step, StepConfig, StepCx};

use crate::{extract_html, ExtractError, Favor, Limits, Options, OutputFormat};

/// Recipe parameters of `html_extract` (`[[step]] type = "html_extract"`).
///
/// What it does: replaces a document's HTML text with its main text (boilerplate removed, one
/// paragraph per line; or Markdown with `output_format = "markdown"`) and puts the page's
/// metadata into the document's metadata, under keys that are not set already: `title` (the
/// headline), `author`, `date` (publication date, `YYYY-MM-DD`), `canonical_url` and
/// `html_lang` (the language the page declares, as written). Documents whose metadata says
/// `content_type = "text/plain"` (WET conversion records) pass through unchanged.
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
/// include_comments = false   # true keeps the comment section after the article
/// include_tables = true
/// favor = "balanced"         # or "precision", "recall"
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
    /// Keep the comment section, after the article (trafilatura's `include_comments`; off by
    /// default, as FineWeb ran it).
    pub include_comments: bool,
    /// `"precision"`, `"balanced"` (default) or `"recall"`: shifts the few thresholds that trade
    /// one for the other (trafilatura's `favor_precision` / `favor_recall`; figures in
    /// docs/extract.md).
    pub favor: Favor,
    /// Pages whose extracted text has fewer characters are rejected (`html_extract:too_short`);
    /// 1 rejects only empty results.
    pub min_text_chars: usize,
    /// `"text"` (one paragraph per line) or `"markdown"` (the same content with headings,
    /// lists, emphasis, code, quotes and pipe tables).
    pub output_format: OutputFormat,
    /// With `output_format = "markdown"`, keep links as `[text](href)`.
    pub include_links: bool,
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
            include_comments: false,
            favor: Favor::Balanced,
            min_text_chars: 1,
            output_format: OutputFormat::Text,
            include_links: false,
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
            include_comments: self.cfg.include_comments,
            output_format: self.cfg.output_format,
            include_links: self.cfg.include_links,
            ..Options::default()
        }
        .favor(self.cfg.favor);
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

#[cfg(test)]
mod tests {
    use super::*;

    const ARTICLE: &str = "The committee met on Tuesday to discuss the budget, the schedule, and the new building. After a long debate, members agreed to postpone the decision until next month.";

    fn text_with(params: serde_json::Value, html: &str) -> String {
        let cfg: HtmlExtractConfig = serde_json::from_value(params).unwrap();
        let step = cfg.build().unwrap();
        match step.process(Document::new("p", html), &mut StepCx::default()) {
            Outcome::Keep(d) => d.text().to_string(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn recipe_parameters_reach_the_extractor() {
        let html = format!(
            r#"<body><article><p>{ARTICLE}</p><p>{ARTICLE}</p>
            <table><tr><td>cell one</td><td>cell two</td></tr></table></article>
            <section class="comments"><p>First comment: the decision should not wait so long.</p></section></body>"#
        );
        let dflt = text_with(serde_json::json!({}), &html);
        assert!(dflt.contains("cell one\tcell two"), "{dflt}");
        assert!(!dflt.contains("First comment"), "{dflt}");
        let t = text_with(serde_json::json!({"include_comments": true}), &html);
        assert!(
            t.ends_with("First comment: the decision should not wait so long."),
            "{t}"
        );
        let t = text_with(serde_json::json!({"include_tables": false}), &html);
        assert!(!t.contains("cell one"), "{t}");
        let t = text_with(serde_json::json!({"favor": "precision"}), &html);
        assert!(t.contains("The committee met"), "{t}");
        assert!(
            serde_json::from_value::<HtmlExtractConfig>(serde_json::json!({"favor": "speed"}))
                .is_err()
        );
    }
}
