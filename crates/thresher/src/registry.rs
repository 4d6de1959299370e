//! The step registry: maps a recipe's `type = "..."` to the step's config type.
//!
//! To add a step, implement [`StepConfig`] for its config struct (with
//! `#[serde(deny_unknown_fields)]` and `Default` = the reference tool's defaults) and add one
//! line to the `registered!` list below.

use serde::de::DeserializeOwned;
use thresher_core::{Step, StepConfig};

/// Calls `$m!` with the list of registered steps (type name => config type), so that building
/// and checking see the same list.
macro_rules! registered {
    ($m:ident) => {
        $m! {
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
    };
}

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
    registered!(steps)
}

/// Checks the step's recipe table: deserializes it and runs the config's
/// [`StepConfig::validate`], without building the step (no allocation, no file access).
/// `None` when no step has that type name.
pub fn check_step(type_name: &str, table: toml::Table) -> Option<Result<(), BuildError>> {
    macro_rules! steps {
        ($($name:literal => $cfg:ty),* $(,)?) => {
            match type_name {
                $($name => Some(check::<$cfg>(table)),)*
                _ => None,
            }
        };
    }
    registered!(steps)
}

/// The type names of all registered steps, for error messages and `thresher steps`.
pub fn step_names() -> &'static [&'static str] {
    macro_rules! names {
        ($($name:literal => $cfg:ty),* $(,)?) => {
            &[$($name),*]
        };
    }
    registered!(names)
}

/// Why a step could not be built from its table.
#[derive(Debug)]
pub enum BuildError {
    /// The table did not deserialize (unknown key, wrong type...).
    Params {
        /// The key at fault, when it could be found.
        key: Option<String>,
        /// The deserializer's error.
        error: toml::de::Error,
    },
    /// The parameters deserialized but are invalid.
    Invalid(thresher_core::Error),
}

fn build<C: StepConfig>(table: toml::Table) -> Result<Box<dyn Step>, BuildError> {
    let cfg: C =
        deserialize_table(table).map_err(|(key, error)| BuildError::Params { key, error })?;
    cfg.build().map_err(BuildError::Invalid)
}

fn check<C: StepConfig>(table: toml::Table) -> Result<(), BuildError> {
    let cfg: C =
        deserialize_table(table).map_err(|(key, error)| BuildError::Params { key, error })?;
    cfg.validate().map_err(BuildError::Invalid)
}

/// Deserializes a recipe table into a config whose fields all have defaults; on an error, also
/// the key at fault. toml's message for a wrong type names no key ("invalid type: string
/// \"abc\", expected u64"), so each key is tried alone: with every other field defaulted, the
/// one that fails alone is the culprit. Only on the error path, on tables of a few keys.
pub(crate) fn deserialize_table<T: DeserializeOwned>(
    table: toml::Table,
) -> Result<T, (Option<String>, toml::de::Error)> {
    match toml::Value::Table(table.clone()).try_into() {
        Ok(v) => Ok(v),
        Err(e) => {
            let key = table.into_iter().find_map(|(k, v)| {
                let one = toml::Table::from_iter([(k.clone(), v)]);
                toml::Value::Table(one)
                    .try_into::<T>()
                    .is_err()
                    .then_some(k)
            });
            Err((key, e))
        }
    }
}
