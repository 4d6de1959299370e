//! The step registry: maps a recipe's `type = "..."` to the step's config type.
//!
//! To add a step, implement [`StepConfig`] for its config struct (with
//! `#[serde(deny_unknown_fields)]` and `Default` = the reference tool's defaults) and add one
//! line to the `steps!` list below.

use thresher_core::{Step, StepConfig};

/// Builds the step of type `type_name` from its recipe table (without the `type` key).
/// `None` when no step has that type name.
pub fn build_step(
    type_name: &str,
    table: toml::Table,
) -> Option<Result<Box<dyn Step>, BuildError>> {
    macro_rules! steps {
        ($($name:literal => $cfg:ty),* $(,)?) => {
            match type_name {
                $($name => Some(build::<$cfg>(table)),)*
                _ => None,
            }
        };
    }
    steps! {
        "exact_dedup" => thresher_dedup::ExactDedupConfig,
        "minhash_dedup" => thresher_dedup::MinhashDedupConfig,
        "paragraph_dedup" => thresher_dedup::ParagraphDedupConfig,
        "collapse_repeats" => thresher_repair::CollapseRepeatsConfig,
        "strip_chrome" => thresher_repair::StripChromeConfig,
        "corpus_boilerplate" => thresher_repair::CorpusBoilerplateConfig,
        "flag_encoding_damage" => thresher_repair::FlagEncodingDamageConfig,
        "gopher_repetition" => thresher_filters::GopherRepetitionConfig,
        "gopher_quality" => thresher_filters::GopherQualityConfig,
        "c4_quality" => thresher_filters::C4QualityConfig,
        "c4_badwords" => thresher_filters::C4BadWordsConfig,
        "fineweb_quality" => thresher_filters::FineWebQualityConfig,
        "html_extract" => thresher_extract::HtmlExtractConfig,
        "language_id" => thresher_langid::LanguageIdConfig,
        // New steps go here, one line each: "type_name" => crate::ConfigType,
    }
}

/// The type names of all registered steps, for error messages and `thresher steps`.
pub fn step_names() -> &'static [&'static str] {
    &[
        "exact_dedup",
        "minhash_dedup",
        "paragraph_dedup",
        "collapse_repeats",
        "strip_chrome",
        "corpus_boilerplate",
        "flag_encoding_damage",
        "gopher_repetition",
        "gopher_quality",
        "c4_quality",
        "c4_badwords",
        "fineweb_quality",
        "html_extract",
        "language_id",
        // Keep in the same order as the list in `build_step`.
    ]
}

/// Why a step could not be built from its table.
#[derive(Debug)]
pub enum BuildError {
    /// The table did not deserialize (unknown key, wrong type...).
    Params(toml::de::Error),
    /// The parameters deserialized but are invalid.
    Invalid(thresher_core::Error),
}

fn build<C: StepConfig>(table: toml::Table) -> Result<Box<dyn Step>, BuildError> {
    let cfg: C = toml::Value::Table(table)
        .try_into()
        .map_err(BuildError::Params)?;
    cfg.build().map_err(BuildError::Invalid)
}
