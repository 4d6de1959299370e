//! Deduplication steps.
//!
//! - [`ExactDedup`] (`exact_dedup`): whole-document exact dedup on a normalised text hash.
#![warn(missing_docs)]

mod exact;

pub use exact::{normalize_for_exact, ExactDedup, ExactDedupConfig};
