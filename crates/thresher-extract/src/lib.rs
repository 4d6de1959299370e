//! thresher-extract: HTML to main text, with boilerplate removed, and the `html_extract` step.
//!
//! Pages are parsed with html5ever into a compact arena DOM (with budgets on size, node count
//! and depth), pruned of boilerplate, cut into text blocks and scored; see [`extract`] for the
//! algorithm.
//!
//! ```
//! use thresher_extract::{extract_html, Limits, Options};
//! let html = "<html><head><title>T</title></head><body><nav><a href=/>Home</a></nav>\
//!             <article><p>The council voted on Monday, after a long debate, to approve \
//!             the new library budget for the coming year.</p></article></body></html>";
//! let out = extract_html(html, &Limits::default(), &Options::default()).unwrap();
//! assert!(out.text.starts_with("The council voted"));
//! assert!(!out.text.contains("Home"));
//! assert_eq!(out.title.as_deref(), Some("T"));
//! ```
#![warn(missing_docs)]

pub mod dom;
pub mod extract;
mod meta;
mod step;
mod tokenize;

pub use extract::{Extracted, Favor, Options, OutputFormat};
pub use step::{HtmlExtract, HtmlExtractConfig};

/// Per-page budgets.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest page in bytes.
    pub max_html_bytes: usize,
    /// Largest number of DOM nodes.
    pub max_dom_nodes: usize,
    /// Deepest element nesting.
    pub max_depth: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_html_bytes: 20_000_000,
            max_dom_nodes: 1_000_000,
            max_depth: 1000,
        }
    }
}

/// Why a page was not extracted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExtractError {
    /// The page is larger than [`Limits::max_html_bytes`] (its size is given).
    TooLarge(usize),
    /// The page exceeded the node or depth budget.
    Budget(dom::BudgetError),
}

impl std::fmt::Display for ExtractError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExtractError::TooLarge(n) => write!(f, "page of {n} bytes is over the size limit"),
            ExtractError::Budget(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for ExtractError {}

/// Extracts the main text and metadata of one HTML page.
pub fn extract_html(
    html: &str,
    limits: &Limits,
    opts: &Options,
) -> Result<Extracted, ExtractError> {
    if html.len() > limits.max_html_bytes {
        return Err(ExtractError::TooLarge(html.len()));
    }
    let dom = dom::parse(
        html,
        dom::Budget {
            max_nodes: limits.max_dom_nodes,
            max_depth: limits.max_depth,
        },
    )
    .map_err(ExtractError::Budget)?;
    Ok(extract::extract(&dom, opts))
}
