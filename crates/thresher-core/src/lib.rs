//! The core of thresher: the [`Document`] record that flows through a pipeline, the [`Step`]
//! contract every pipeline step implements, the [`Outcome`] of a step (keep, reject with a
//! [`Reason`], or error), and the [`Stats`] that account for every record.
//!
//! ```
//! use thresher_core::{Document, Outcome, Reason, Step, StepCx};
//!
//! /// Rejects documents shorter than `min_chars` characters.
//! struct MinChars { min_chars: usize }
//!
//! impl Step for MinChars {
//!     fn name(&self) -> &str { "min_chars" }
//!     fn process(&self, doc: Document, _cx: &mut StepCx) -> Outcome {
//!         let n = doc.text().chars().count();
//!         if n < self.min_chars {
//!             Outcome::reject(doc, Reason::new("min_chars", n as f64))
//!         } else {
//!             Outcome::Keep(doc)
//!         }
//!     }
//! }
//!
//! let step = MinChars { min_chars: 10 };
//! let doc = Document::new("a", "short");
//! assert!(matches!(step.process(doc, &mut StepCx::default()), Outcome::Reject { .. }));
//! ```
#![warn(missing_docs)]

pub mod check;
mod document;
mod error;
mod input_buf;
mod stats;
mod step;

pub use document::{Document, RawText, SourcePos, TextEncoding};
pub use error::{Error, Result};
pub use input_buf::InputBuf;
pub use stats::{FileStats, NamedStepStats, Stats, StepStats, Tally};
pub use step::{
    Annotate, Filter, Outcome, Prepared, Reason, Rules, Step, StepConfig, StepCx, StepMode,
};
