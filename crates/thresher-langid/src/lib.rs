//! Language identification for thresher.
//!
//! 75 languages (the set of lingua-rs, whose n-gram models the build script turns into one
//! embedded lookup table: see build.rs and docs/langid.md). [`detect`] identifies one text;
//! the `language_id` step ([`LanguageId`]) labels and filters documents.
//!
//! With the `table` feature (the default) the build script builds the table and release builds
//! embed it. Without it, the table (`langid.bin`, 173 MB) is read at run time from the file
//! named by `THRESHER_LANGID_TABLE` or found by [`set_table_resolver`]'s callback; a recipe
//! with `language_id` is refused, with the callback's message, when there is none.

mod detect;
#[allow(dead_code)]
mod hash;
mod lang;
mod model;
pub mod pack;
mod step;

pub use detect::{detect, Detection};
#[doc(hidden)]
pub use detect::{detect_traced, Trace};
pub use lang::{Language, LanguageSet, LANGUAGE_COUNT};
pub use model::{set_table_resolver, TableResolver, TABLE_ENV};
pub use step::{LanguageId, LanguageIdConfig};

/// Size in bytes of the model table.
///
/// # Panics
///
/// When the table cannot be loaded (see [`table_bytes`] for the fallible form).
pub fn model_size() -> usize {
    model::Model::get().size()
}

/// The model table's bytes (loading it on first use), or why it cannot be loaded: the file is
/// missing or is not a table this build reads. The data package of the Python wheel is made
/// from these bytes (`examples/langid_table.rs`).
pub fn table_bytes() -> Result<&'static [u8], String> {
    model::Model::try_get().map(model::Model::bytes)
}
