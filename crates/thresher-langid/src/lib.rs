//! Language identification for thresher.
//!
//! 75 languages (the set of lingua-rs, whose n-gram models the build script turns into one
//! embedded lookup table: see build.rs and docs/langid.md). [`detect`] identifies one text;
//! the `language_id` step ([`LanguageId`]) labels and filters documents.

mod detect;
#[allow(dead_code)]
mod hash;
mod lang;
mod model;
mod step;

pub use detect::{detect, Detection};
#[doc(hidden)]
pub use detect::{detect_traced, Trace};
pub use lang::{Language, LanguageSet, LANGUAGE_COUNT};
pub use step::{LanguageId, LanguageIdConfig};

/// Size in bytes of the embedded model table.
pub fn model_size() -> usize {
    model::Model::get().size()
}
