//! The step registry: maps a recipe's `type = "..."` to the step's config type.
//!
//! To add a step, implement [`StepConfig`] for its config struct (with
//! `#[serde(deny_unknown_fields)]` and `Default` = the reference tool's defaults) and add one
//! line to the `registered!` list below.

use serde::de::DeserializeOwned;
use thresher_core::{Step, StepConfig};

/// Calls `$m!` with the list of registered steps (type name => config type: one-line
/// description), so that building, checking and `thresher steps` see the same list. A step
/// behind a cargo feature carries its `#[cfg]`, and is named in [`FEATURE_STEPS`].
macro_rules! registered {
    ($m:ident) => {
        $m! {
            "exact_dedup" => thresher_dedup::ExactDedupConfig:
                "drops later copies of a text seen before (optionally normalised)",
            "minhash_dedup" => thresher_dedup::MinhashDedupConfig:
                "drops near-duplicate documents (MinHash-LSH)",
            "paragraph_dedup" => thresher_dedup::ParagraphDedupConfig:
                "removes paragraphs already seen in other documents (Bloom filter)",
            "collapse_repeats" => thresher_repair::CollapseRepeatsConfig:
                "keeps the first copy of a run of lines repeated inside a document",
            "strip_chrome" => thresher_repair::StripChromeConfig:
                "removes page chrome at the start of a document and trailers at its end",
            "corpus_boilerplate" => thresher_repair::CorpusBoilerplateConfig:
                "drops lines that recur in many documents of the input (or of one site)",
            "flag_encoding_damage" => thresher_repair::FlagEncodingDamageConfig:
                "notes (does not repair) signs of a wrong character encoding (mojibake)",
            "gopher_repetition" => thresher_filters::GopherRepetitionConfig:
                "drops documents made of repeated lines, paragraphs or word n-grams (Gopher)",
            "gopher_quality" => thresher_filters::GopherQualityConfig:
                "Gopher's quality rules: length, word shape, symbols, stop words",
            "c4_quality" => thresher_filters::C4QualityConfig:
                "C4's line cleaning and page rules",
            "c4_badwords" => thresher_filters::C4BadWordsConfig:
                "drops documents containing a word of their language's LDNOOBW bad-words list",
            "fineweb_quality" => thresher_filters::FineWebQualityConfig:
                "FineWeb's own line-level quality rules",
            "html_extract" => thresher_extract::HtmlExtractConfig:
                "turns an HTML page into its main text, with title, author, date and URL",
            #[cfg(feature = "langid")]
            "language_id" => thresher_langid::LanguageIdConfig:
                "labels each document with its language; keeps the wanted ones above a score",
            // New steps go here: "type_name" => crate::ConfigType: "one-line description",
        }
    };
}

/// Steps that a cargo feature of this crate provides: (type name, feature). Recipes that use
/// one in a build without its feature are refused with [`feature_message`].
pub const FEATURE_STEPS: &[(&str, &str)] = &[("language_id", "langid")];

/// Builds the step of type `type_name` from its recipe table (without the `type` key).
/// `None` when no step has that type name.
pub fn build_step(
    type_name: &str,
    table: toml::Table,
) -> Option<Result<Box<dyn Step>, BuildError>> {
    macro_rules! steps {
        ($($(#[$attr:meta])* $name:literal => $cfg:ty: $desc:literal),* $(,)?) => {
            match type_name {
                $($(#[$attr])* $name => Some(build::<$cfg>(table)),)*
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
        ($($(#[$attr:meta])* $name:literal => $cfg:ty: $desc:literal),* $(,)?) => {
            match type_name {
                $($(#[$attr])* $name => Some(check::<$cfg>(table)),)*
                _ => None,
            }
        };
    }
    registered!(steps)
}

/// The type names of the steps this build has, for error messages and `thresher steps`.
pub fn step_names() -> &'static [&'static str] {
    macro_rules! names {
        ($($(#[$attr:meta])* $name:literal => $cfg:ty: $desc:literal),* $(,)?) => {
            &[$($(#[$attr])* $name),*]
        };
    }
    registered!(names)
}

/// The one-line description of a step this build has.
pub fn step_description(type_name: &str) -> Option<&'static str> {
    macro_rules! descriptions {
        ($($(#[$attr:meta])* $name:literal => $cfg:ty: $desc:literal),* $(,)?) => {
            match type_name {
                $($(#[$attr])* $name => Some($desc),)*
                _ => None,
            }
        };
    }
    registered!(descriptions)
}

/// When `type_name` is a step this build lacks because a cargo feature was left out: how to get
/// it. `None` for a step this build has, and for an unknown name.
pub fn feature_message(type_name: &str) -> Option<String> {
    if step_names().contains(&type_name) {
        return None;
    }
    FEATURE_STEPS
        .iter()
        .find(|(name, _)| *name == type_name)
        .map(|(name, feature)| {
            format!(
                "step `{name}` needs thresher built with the `{feature}` feature \
                 (cargo build --features {feature}, the default)"
            )
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_feature_steps_say_how_to_get_them() {
        for (name, feature) in FEATURE_STEPS {
            match feature_message(name) {
                Some(m) => assert!(m.contains(&format!("--features {feature}")), "{m}"),
                None => assert!(step_names().contains(name)),
            }
        }
        assert_eq!(feature_message("nope"), None);
    }
}
