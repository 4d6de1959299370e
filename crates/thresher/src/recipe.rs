//! Recipes: a pipeline as a TOML file.
//!
//! ```toml
//! description = "what this recipe is for"   # optional
//!
//! [input]            # optional: how inputs are read (see thresher_io::ReadOptions)
//! text_field = "text"
//! max_doc_bytes = 67108864
//!
//! [output]           # optional: how outputs are written (see thresher_io::WriteOptions)
//! compression = "zstd"
//! level = 19         # gzip 0-9; zstd 1-22, or -7..=-1 (fast); unset: the codec's default
//!
//! [[step]]
//! type = "exact_dedup"
//! normalize = true
//! ```
//!
//! An unknown step type, an unknown key, a value of the wrong type or a value that cannot be right
//! (see `StepConfig::validate`) is an error when the recipe is parsed, and names the line of the
//! offending key.

use std::ops::Range;

use serde::Deserialize;
use thresher_core::Step;
use thresher_io::{OutputCompression, ReadOptions, WriteOptions};

use crate::registry::{self, BuildError};

mod bundled {
    include!(concat!(env!("OUT_DIR"), "/bundled.rs"));
}

/// The names and texts of the recipes built into thresher.
pub fn bundled() -> &'static [(&'static str, &'static str)] {
    bundled::BUNDLED
}

/// A recipe text's `description`, read without checking the rest: a bundled recipe is listed
/// even in a build that lacks one of its steps (it is refused only when used).
pub fn description(text: &str) -> String {
    #[derive(Deserialize)]
    struct Head {
        #[serde(default)]
        description: String,
    }
    toml::from_str::<Head>(text)
        .map(|h| h.description)
        .unwrap_or_default()
}

/// A recipe error, with the line it concerns when there is one.
#[derive(Debug, thiserror::Error)]
#[error("{origin}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct RecipeError {
    /// The recipe's file name, or `bundled:NAME`.
    pub origin: String,
    /// 1-based line number.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
}

/// A parsed recipe: options and the steps' tables, not yet built.
#[derive(Debug, Clone)]
pub struct Recipe {
    /// Where it came from (file path or `bundled:NAME`).
    pub origin: String,
    /// The TOML text, kept to fingerprint the run for `--resume`.
    pub text: String,
    /// The recipe's description.
    pub description: String,
    /// Reader options.
    pub input: ReadOptions,
    /// Writer options.
    pub output: WriteOptions,
    /// The steps, in order.
    pub steps: Vec<StepSpec>,
}

/// One `[[step]]` table.
#[derive(Debug, Clone)]
pub struct StepSpec {
    /// The step's type name.
    pub type_name: String,
    /// Its parameters (the table without `type`).
    pub params: toml::Table,
    /// Byte span of the table in the recipe text, to point errors at lines.
    span: Range<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRecipe {
    #[serde(default)]
    description: String,
    #[serde(default)]
    input: Option<toml::Spanned<toml::Table>>,
    #[serde(default)]
    output: Option<toml::Spanned<toml::Table>>,
    #[serde(default)]
    step: Vec<toml::Spanned<toml::Table>>,
}

impl Recipe {
    /// Loads a recipe: `spec` is a bundled recipe's name or a path to a TOML file.
    pub fn load(spec: &str) -> Result<Recipe, RecipeError> {
        let path = std::path::Path::new(spec);
        if path.exists() {
            let text = std::fs::read_to_string(path).map_err(|e| RecipeError {
                origin: spec.to_string(),
                line: None,
                message: format!("cannot read recipe: {e}"),
            })?;
            return Recipe::parse(spec, &text);
        }
        if let Some((_, text)) = bundled().iter().find(|(n, _)| *n == spec) {
            return Recipe::parse(&format!("bundled:{spec}"), text);
        }
        let names: Vec<&str> = bundled().iter().map(|(n, _)| *n).collect();
        Err(RecipeError {
            origin: spec.to_string(),
            line: None,
            message: format!(
                "no such recipe file, and no bundled recipe of that name (bundled: {})",
                names.join(", ")
            ),
        })
    }

    /// Parses recipe text; `origin` names it in errors. Checks the options and that every step
    /// type exists, but does not build the steps (see [`Recipe::build_steps`]).
    pub fn parse(origin: &str, text: &str) -> Result<Recipe, RecipeError> {
        let err = |span: Option<Range<usize>>, message: String| RecipeError {
            origin: origin.to_string(),
            line: span.map(|s| line_of(text, s.start)),
            message,
        };
        let raw: RawRecipe =
            toml::from_str(text).map_err(|e| err(e.span(), e.message().to_string()))?;
        let (input_span, output_span) = (
            raw.input.as_ref().map(|t| t.span()),
            raw.output.as_ref().map(|t| t.span()),
        );
        let input: ReadOptions =
            options_table(raw.input, "input", text).map_err(|(s, m)| err(s, m))?;
        let output: WriteOptions =
            options_table(raw.output, "output", text).map_err(|(s, m)| err(s, m))?;
        check_input(&input).map_err(|m| {
            let span = input_span.map(|s| key_span_msg(text, &s, &m).unwrap_or(s));
            err(span, format!("[input]: {m}"))
        })?;
        check_output(&output).map_err(|m| {
            let span = output_span.map(|s| key_span_msg(text, &s, &m).unwrap_or(s));
            err(span, format!("[output]: {m}"))
        })?;
        let mut steps = Vec::new();
        for (i, s) in raw.step.into_iter().enumerate() {
            let span = s.span();
            let mut params = s.into_inner();
            let type_name = match params.remove("type") {
                Some(toml::Value::String(t)) => t,
                Some(_) => {
                    return Err(err(
                        Some(span),
                        format!("step {}: `type` must be a string", i + 1),
                    ))
                }
                None => {
                    return Err(err(
                        Some(span),
                        format!("step {}: missing `type = \"...\"`", i + 1),
                    ))
                }
            };
            if !registry::step_names().contains(&type_name.as_str()) {
                let line_span = find_in(text, &span, &type_name).unwrap_or(span);
                if let Some(message) = registry::feature_message(&type_name) {
                    return Err(err(Some(line_span), message));
                }
                return Err(err(
                    Some(line_span),
                    format!(
                        "unknown step type `{type_name}` (known: {})",
                        registry::step_names().join(", ")
                    ),
                ));
            }
            let spec = StepSpec {
                type_name,
                params,
                span,
            };
            // Bad parameters are refused here, before any input is read: validating is cheap
            // (building may allocate filters and sketches, so it waits for `build_steps`).
            match registry::check_step(&spec.type_name, spec.params.clone()) {
                Some(Ok(())) => {}
                Some(Err(e)) => return Err(step_error(origin, text, &spec, &e)),
                None => return Err(step_error(origin, text, &spec, &missing_step(&spec))),
            }
            steps.push(spec);
        }
        if steps.is_empty() {
            return Err(err(None, "the recipe has no [[step]]".into()));
        }
        Ok(Recipe {
            origin: origin.to_string(),
            text: text.to_string(),
            description: raw.description,
            input,
            output,
            steps,
        })
    }

    /// Builds the steps, checking every parameter. Errors name the line of the bad key.
    pub fn build_steps(&self) -> Result<Vec<Box<dyn Step>>, RecipeError> {
        let mut out = Vec::with_capacity(self.steps.len());
        for spec in &self.steps {
            match registry::build_step(&spec.type_name, spec.params.clone()) {
                Some(Ok(step)) => out.push(step),
                Some(Err(e)) => return Err(step_error(&self.origin, &self.text, spec, &e)),
                None => {
                    let e = missing_step(spec);
                    return Err(step_error(&self.origin, &self.text, spec, &e));
                }
            }
        }
        Ok(out)
    }
}

/// A step error, at the line of the key it names (else of the `[[step]]` table).
fn step_error(origin: &str, text: &str, spec: &StepSpec, e: &BuildError) -> RecipeError {
    let (message, key) = match e {
        BuildError::Params { key, error } => (error.message().to_string(), key.clone()),
        BuildError::Invalid(thresher_core::Error::Config { message, .. }) => {
            (message.clone(), None)
        }
        BuildError::Invalid(other) => (other.to_string(), None),
    };
    let span = key
        .and_then(|k| find_key_line(text, &spec.span, &k))
        .or_else(|| key_span_msg(text, &spec.span, &message))
        .unwrap_or_else(|| spec.span.clone());
    RecipeError {
        origin: origin.to_string(),
        line: Some(line_of(text, span.start)),
        message: format!("step `{}`: {message}", spec.type_name),
    }
}

fn missing_step(spec: &StepSpec) -> BuildError {
    // `parse` checked the name against `step_names`, which the registry derives from the same
    // list as `build_step`: a miss is a programming error, reported rather than a panic.
    BuildError::Invalid(thresher_core::Error::config(
        &spec.type_name,
        "step listed in step_names() but missing from the registry",
    ))
}

/// zstd's fast levels go down to -7 here (`zstd --fast=7`; the `zstd` crate passes any level
/// to libzstd). 0 is refused although libzstd reads it as its default (3): a recipe that wants
/// the default leaves `level` out, as for gzip.
const ZSTD_LEVELS: std::ops::RangeInclusive<i32> = -7..=22;

/// `[input]` values that cannot be right: every record would become an error (an empty field
/// name, a zero size limit). The message names the key in backticks.
fn check_input(o: &ReadOptions) -> Result<(), String> {
    for (key, v) in [
        ("text_field", &o.text_field),
        ("id_field", &o.id_field),
        ("metadata_field", &o.metadata_field),
    ] {
        if v.is_empty() {
            return Err(format!("`{key}` must not be empty"));
        }
    }
    if o.max_doc_bytes == 0 {
        return Err("`max_doc_bytes` must be at least 1".into());
    }
    Ok(())
}

/// `[output]` values that cannot be right: empty shards, or a compression level outside the
/// codec's range (gzip 0-9; zstd 1-22 or the fast levels -7..=-1), which the writer would
/// otherwise clamp or refuse only once the first shard is opened.
fn check_output(o: &WriteOptions) -> Result<(), String> {
    if o.shard_max_docs == 0 {
        return Err("`shard_max_docs` must be at least 1".into());
    }
    if o.shard_max_bytes == 0 {
        return Err("`shard_max_bytes` must be at least 1".into());
    }
    let Some(level) = o.level else {
        return Ok(());
    };
    let codecs: Vec<OutputCompression> = ["kept", "rejected", "errors"]
        .iter()
        .map(|c| o.compression_of(c))
        .filter(|c| *c != OutputCompression::None)
        .collect();
    if codecs.is_empty() {
        return Err(format!(
            "`level` = {level} has no effect without `compression` (\"gzip\" or \"zstd\")"
        ));
    }
    for c in codecs {
        match c {
            OutputCompression::Gzip if !(0..=9).contains(&level) => {
                return Err(format!("`level` = {level}: gzip levels are 0..=9"))
            }
            OutputCompression::Zstd if level == 0 || !ZSTD_LEVELS.contains(&level) => {
                return Err(format!(
                    "`level` = {level}: zstd levels are 1..=22, or -7..=-1 for the fast levels \
                     (leave `level` out for the default)"
                ))
            }
            _ => {}
        }
    }
    Ok(())
}

/// Deserializes an optional options table (`[input]`, `[output]`); errors point at the bad key.
fn options_table<T: serde::de::DeserializeOwned + Default>(
    table: Option<toml::Spanned<toml::Table>>,
    name: &str,
    text: &str,
) -> Result<T, (Option<Range<usize>>, String)> {
    let Some(t) = table else {
        return Ok(T::default());
    };
    let span = t.span();
    registry::deserialize_table::<T>(t.into_inner()).map_err(|(key, e)| {
        let message = e.message().to_string();
        let line = key
            .and_then(|k| find_key_line(text, &span, &k))
            .or_else(|| key_span_msg(text, &span, &message))
            .unwrap_or(span);
        (Some(line), format!("[{name}]: {message}"))
    })
}

fn line_of(text: &str, byte: usize) -> usize {
    text.as_bytes()[..byte.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// The span of the line, within a table's span, of the first key named in backticks in an error
/// message (``unknown field `x` ``, `` `min_x` = 5 is above `max_x` = 3``) that the table sets.
fn key_span_msg(text: &str, span: &Range<usize>, message: &str) -> Option<Range<usize>> {
    message
        .split('`')
        .skip(1)
        .step_by(2)
        .find_map(|key| find_key_line(text, span, key))
}

fn find_key_line(text: &str, span: &Range<usize>, key: &str) -> Option<Range<usize>> {
    let region = text.get(span.clone())?;
    let mut off = 0;
    for line in region.split_inclusive('\n') {
        let t = line.trim_start();
        if let Some(rest) = t.strip_prefix(key) {
            if rest.trim_start().starts_with('=') {
                let s = span.start + off;
                return Some(s..s + line.len());
            }
        }
        off += line.len();
    }
    None
}

fn find_in(text: &str, span: &Range<usize>, needle: &str) -> Option<Range<usize>> {
    let region = text.get(span.clone())?;
    let i = region.find(needle)?;
    Some(span.start + i..span.start + i + needle.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_recipes_parse_and_build() {
        assert!(bundled().iter().any(|(n, _)| *n == "default"));
        for (name, text) in bundled() {
            assert!(!description(text).is_empty(), "{name} has no description");
            let missing = registry::FEATURE_STEPS
                .iter()
                .filter(|(step, _)| registry::feature_message(step).is_some())
                .find(|(step, _)| text.contains(&format!("type = \"{step}\"")));
            if let Some((step, _)) = missing {
                // This build lacks the step: the recipe is refused, with how to get it.
                let e = Recipe::load(name).unwrap_err();
                assert!(e.message.contains(&format!("step `{step}` needs")), "{e}");
                continue;
            }
            let r = Recipe::load(name).unwrap_or_else(|e| panic!("{e}"));
            if text.contains("type = \"url_filter\"") {
                // Its lists are the user's to give (datatrove's licence): refused until
                // `--set url_filter.datatrove_assets=DIR`, saying so.
                let e = r.build_steps().map(|_| ()).unwrap_err();
                assert!(e.to_string().contains("datatrove_assets"), "{name}: {e}");
                continue;
            }
            r.build_steps().unwrap_or_else(|e| panic!("{e}"));
        }
    }

    #[test]
    fn errors_name_the_line() {
        let e = Recipe::parse(
            "r.toml",
            "[[step]]\ntype = \"exact_dedup\"\n\n[[step]]\ntype = \"nope\"\n",
        )
        .unwrap_err();
        assert_eq!(e.line, Some(5), "{e}");
        assert!(
            e.to_string()
                .starts_with("r.toml:5: unknown step type `nope`"),
            "{e}"
        );

        let e = Recipe::parse(
            "r.toml",
            "[[step]]\ntype = \"exact_dedup\"\nnormalise = true\n",
        )
        .unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
        assert!(e.message.contains("unknown field `normalise`"), "{e}");

        let e = Recipe::parse(
            "r.toml",
            "[input]\ntext_field = \"t\"\nmax_bytes = 3\n[[step]]\ntype = \"exact_dedup\"\n",
        )
        .unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");

        let e = Recipe::parse("r.toml", "[[step]]\ntype = \"exact_dedup\"\n[bogus]\n").unwrap_err();
        assert!(e.message.contains("unknown field `bogus`"), "{e}");
        assert_eq!(e.line, Some(3), "{e}");

        let e = Recipe::parse("r.toml", "[[step]\n").unwrap_err();
        assert_eq!(e.line, Some(1), "{e}");
        assert!(Recipe::parse("r.toml", "description = \"x\"\n").is_err());
    }

    #[test]
    fn options_are_read() {
        let r = Recipe::parse(
            "r",
            "[input]\ntext_field = \"content\"\n[output]\ncompression = \"zstd\"\n[[step]]\ntype = \"exact_dedup\"\n",
        )
        .unwrap();
        assert_eq!(r.input.text_field, "content");
        assert_eq!(
            r.output.compression,
            Some(thresher_io::OutputCompression::Zstd)
        );
    }

    /// Parses `text` and expects a refusal at `line` whose message contains `what`.
    fn refused(text: &str, line: usize, what: &str) {
        let e = Recipe::parse("r.toml", text).expect_err(text);
        assert_eq!(e.line, Some(line), "{e}");
        assert!(e.message.contains(what), "{e}");
    }

    const STEP: &str = "[[step]]\ntype = \"exact_dedup\"\n";

    /// Issue 17: a negative ratio threshold rejected every document.
    #[test]
    fn negative_ratio_threshold_is_refused() {
        refused(
            "[[step]]\ntype = \"gopher_repetition\"\ndup_line_frac = -0.3\n",
            3,
            "`dup_line_frac` = -0.3",
        );
        refused(
            "[[step]]\ntype = \"gopher_quality\"\n\nmax_bullet_lines_ratio = -1\n",
            4,
            "`max_bullet_lines_ratio` = -1",
        );
        refused(
            "[[step]]\ntype = \"c4_badwords\"\nkeep_fraction = -0.5\n",
            3,
            "`keep_fraction`",
        );
    }

    #[test]
    fn line_punct_thr_above_one_is_refused() {
        refused(
            "[[step]]\ntype = \"exact_dedup\"\n[[step]]\ntype = \"fineweb_quality\"\nshort_line_thr = 0.5\nline_punct_thr = 7.0\n",
            6,
            "step `fineweb_quality`: `line_punct_thr` = 7 must be within [0, 1]",
        );
    }

    #[test]
    fn min_doc_words_above_max_doc_words_is_refused() {
        // The line of the key the recipe sets: the minimum...
        refused(
            "[[step]]\ntype = \"gopher_quality\"\nmin_doc_words = 200000\n",
            3,
            "`min_doc_words` = 200000 is above `max_doc_words` = 100000",
        );
        // ...or the maximum, when the minimum is the default.
        refused(
            "[[step]]\ntype = \"gopher_quality\"\nmax_doc_words = 10\n",
            3,
            "`min_doc_words` = 50 is above `max_doc_words` = 10",
        );
        refused(
            "[[step]]\ntype = \"gopher_quality\"\nmax_avg_word_length = 2.5\n",
            3,
            "`min_avg_word_length` = 3 is above `max_avg_word_length` = 2.5",
        );
    }

    #[test]
    fn zstd_level_9999_is_refused() {
        refused(
            &format!("[output]\ncompression = \"zstd\"\nlevel = 9999\n{STEP}"),
            3,
            "[output]: `level` = 9999: zstd levels are 1..=22",
        );
        refused(
            &format!("[output]\nlevel = 12\ncompression = \"gzip\"\n{STEP}"),
            2,
            "gzip levels are 0..=9",
        );
        refused(
            &format!("[output]\nlevel = 3\n{STEP}"),
            2,
            "no effect without `compression`",
        );
        refused(
            &format!("[output]\ncompression = \"zstd\"\nlevel = 0\n{STEP}"),
            3,
            "zstd levels",
        );
        for ok in [
            "compression = \"zstd\"\nlevel = 22",
            "compression = \"zstd\"\nlevel = -7",
            "compression = \"zstd\"\nlevel = 1",
            "compression = \"gzip\"\nlevel = 0",
            "compression = \"gzip\"\nlevel = 9",
        ] {
            Recipe::parse("r", &format!("[output]\n{ok}\n{STEP}")).unwrap();
        }
    }

    #[test]
    fn empty_text_field_is_refused() {
        refused(
            &format!("[input]\nmmap = false\ntext_field = \"\"\n{STEP}"),
            3,
            "[input]: `text_field` must not be empty",
        );
        refused(
            &format!("[input]\nid_field = \"\"\n{STEP}"),
            2,
            "`id_field` must not be empty",
        );
        refused(
            &format!("[input]\ntext_field = \"t\"\nmax_doc_bytes = 0\n{STEP}"),
            3,
            "`max_doc_bytes` must be at least 1",
        );
        refused(
            &format!("[output]\nshard_max_docs = 0\n{STEP}"),
            2,
            "`shard_max_docs` must be at least 1",
        );
    }

    /// Type errors name no key in toml's message; the line is the key's, not the table's.
    #[test]
    fn type_error_points_at_the_key_line() {
        refused(
            "[[step]]\ntype = \"gopher_quality\"\nmax_doc_words = 100\nmin_doc_words = \"abc\"\n",
            4,
            "invalid type: string \"abc\"",
        );
        refused(
            "[[step]]\ntype = \"minhash_dedup\"\nkeeper = \"best\"\n",
            3,
            "unknown variant `best`",
        );
        refused(
            &format!("[input]\nmmap = false\nmax_doc_bytes = -3\n{STEP}"),
            3,
            "[input]: invalid value",
        );
        refused(
            &format!("[output]\nfsync = 1\n{STEP}"),
            2,
            "[output]: invalid type",
        );
    }

    /// Parameters are checked when the recipe is loaded, not only when the steps are built.
    #[test]
    fn bad_parameters_are_refused_at_parse() {
        #[cfg(feature = "langid-step")]
        refused(
            "[[step]]\ntype = \"language_id\"\nlanguages = [\"en\", \"xx\"]\n",
            3,
            "`languages`: unknown language code \"xx\"",
        );
        refused(
            "[[step]]\ntype = \"minhash_dedup\"\nprofile = \"nope\"\n",
            3,
            "`profile` = \"nope\" is unknown",
        );
        refused(
            "[[step]]\ntype = \"paragraph_dedup\"\nmax_filter_mb = 1\n",
            3,
            "more than `max_filter_mb` = 1",
        );
    }

    /// Without the `langid` feature, `language_id` is refused at its line, saying how to get it.
    #[cfg(not(feature = "langid-step"))]
    #[test]
    fn language_id_needs_the_feature() {
        refused(
            &format!("{STEP}\n[[step]]\ntype = \"language_id\"\nlanguages = [\"en\"]\n"),
            5,
            "step `language_id` needs thresher built with the `langid` feature \
             (cargo build --features langid, the default)",
        );
    }
}
