//! Heuristic quality filters as thresher steps, with the exact definitions and defaults of
//! datatrove 0.10.1: [`GopherRepetition`], [`GopherQuality`], [`C4Quality`], [`C4BadWords`] and
//! [`FineWebQuality`]. One filter per module; each rejection carries a stable reason code
//! (`<filter>:<datatrove's reason>`) and the measured value.
//!
//! The filters share one text analysis per document (the word tokens, the character count; see
//! [`analysis`]), so a chain tokenizes each text once; C4's line edits drop it.
//!
//! ```
//! use thresher_core::{Document, Outcome, StepConfig, StepCx};
//! use thresher_filters::{GopherQualityConfig, GopherRepetitionConfig};
//!
//! let steps = [
//!     GopherRepetitionConfig::default().build().unwrap(),
//!     GopherQualityConfig::default().build().unwrap(),
//! ];
//! let mut doc = Document::new("d", "Too short.");
//! let mut cx = StepCx::default();
//! for step in &steps {
//!     match step.process(doc, &mut cx) {
//!         Outcome::Keep(d) => doc = d,
//!         Outcome::Reject { reason, .. } => {
//!             // Its first two words are most of the text: a "top 2-gram" repetition.
//!             assert_eq!(reason.code, "gopher_repetition:top_2_gram");
//!             break;
//!         }
//!         Outcome::Error { error, .. } => panic!("{error}"),
//!     }
//! }
//! ```
#![warn(missing_docs)]

pub mod analysis;
mod c4_badwords;
mod c4_paragraph;
mod c4_quality;
mod dup;
mod fineweb_quality;
mod gopher_quality;
mod gopher_repetition;
mod mem;
mod ngrams;
mod pii;
pub mod pychar;
mod pychar_tables;
mod regex_filter;
mod sample;
pub mod sentences;
mod text_length;
mod url_filter;
pub mod vocab;
mod word_count;

pub use c4_badwords::{C4BadWords, C4BadWordsConfig, MissingLanguage};
pub use c4_paragraph::{C4Paragraph, C4ParagraphConfig};
pub use c4_quality::{C4Quality, C4QualityConfig, C4Verdict};
pub use fineweb_quality::{FineWebQuality, FineWebQualityConfig};
pub use gopher_quality::{GopherQuality, GopherQualityConfig};
pub use gopher_repetition::{GopherRepetition, GopherRepetitionConfig};
pub use pii::{is_global_v4, Pii, PiiConfig};
pub use regex_filter::{RegexFilter, RegexFilterConfig, RegexMode};
pub use sample::{Sample, SampleConfig};
pub use text_length::{TextLength, TextLengthConfig};
pub use url_filter::{lenient_netloc, MissingUrl, UrlFilter, UrlFilterConfig};
pub use word_count::{WordCount, WordCountConfig, WordSplit};
