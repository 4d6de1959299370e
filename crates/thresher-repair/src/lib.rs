//! thresher-repair: steps that repair damaged documents instead of dropping them.
//!
//! Real crawl pages are often good text wrapped in damage: a second copy of the body, a block of
//! page chrome (a menu, a forum member card) before it and a trailer ("Read more: ...") after it.
//! Quality filters judge the whole document, so they either keep the damage or drop the page.
//! These steps run before the filters and remove the damage line by line, recording every removed
//! span in the document's annotations:
//!
//! - [`CollapseRepeats`] (`collapse_repeats`): removes later copies of repeated runs of lines.
//! - [`StripChrome`] (`strip_chrome`): removes blocks of label lines at the start and trailers at
//!   the end, recognised by line shape and, optionally (two passes), by how many documents of
//!   the input or of one site have the same lines at their edges.
//! - [`CorpusBoilerplate`] (`corpus_boilerplate`, two passes): removes lines found in many
//!   documents of the input or of one site.
//! - [`FlagEncodingDamage`] (`flag_encoding_damage`): annotates, without editing, signs of
//!   encoding damage (lost apostrophes, mojibake, replacement characters).
//!
//! Annotations, under each step's name: `lines_removed`, `bytes_removed` and `spans`, the removed
//! byte ranges `[start, end)` of the text as that step received it (UTF-8 byte offsets, each a
//! whole line with its terminator); `collapse_repeats` adds `copies_removed`, `trailers_removed`
//! and `body_spans` (the kept copies, in its output text).
//!
//! ```
//! use thresher_core::{Document, Outcome, Step, StepCx};
//! use thresher_repair::{CollapseRepeats, CollapseRepeatsConfig};
//!
//! let body = "A paragraph long enough to count as the body of an article, with words.\n";
//! let text = format!("{body}{body}{body}");
//! let step = CollapseRepeats::new(CollapseRepeatsConfig::default()).unwrap();
//! let Outcome::Keep(doc) = step.process(Document::new("a", text), &mut StepCx::default()) else {
//!     unreachable!()
//! };
//! assert_eq!(doc.text(), body);
//! ```
#![warn(missing_docs)]

mod boilerplate;
mod chrome;
mod collapse;
mod encoding;
mod lines;
pub mod model;
mod sketch;

pub use boilerplate::{CorpusBoilerplate, CorpusBoilerplateConfig};
pub use chrome::{ChromeMethod, LineKind, StripChrome, StripChromeConfig};
pub use collapse::{is_trailer_line, CollapseRepeats, CollapseRepeatsConfig, Repeats, BODY_SPANS};
pub use encoding::{EncodingSigns, FlagEncodingDamage, FlagEncodingDamageConfig};
pub use lines::{line_key, normalize_line, remove_lines, split_lines, Line};
pub use model::ChromeModel;
pub use sketch::{sum_sketch_files, CorpusStage};
