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
//!
//! [[step]]
//! type = "exact_dedup"
//! normalize = true
//! ```
//!
//! An unknown step type, an unknown key or a bad value is an error that names the line.

use std::ops::Range;

use serde::Deserialize;
use thresher_core::Step;
use thresher_io::{ReadOptions, WriteOptions};

use crate::registry::{self, BuildError};

mod bundled {
    include!(concat!(env!("OUT_DIR"), "/bundled.rs"));
}

/// The names and texts of the recipes built into thresher.
pub fn bundled() -> &'static [(&'static str, &'static str)] {
    bundled::BUNDLED
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
        let input: ReadOptions =
            options_table(raw.input, "input", text).map_err(|(s, m)| err(s, m))?;
        let output: WriteOptions =
            options_table(raw.output, "output", text).map_err(|(s, m)| err(s, m))?;
        if input.max_doc_bytes == 0 {
            return Err(err(None, "[input]: max_doc_bytes must be > 0".into()));
        }
        if output.shard_max_docs == 0 || output.shard_max_bytes == 0 {
            return Err(err(None, "[output]: shard sizes must be > 0".into()));
        }
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
                return Err(err(
                    Some(line_span),
                    format!(
                        "unknown step type `{type_name}` (known: {})",
                        registry::step_names().join(", ")
                    ),
                ));
            }
            steps.push(StepSpec {
                type_name,
                params,
                span,
            });
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
            let built = registry::build_step(&spec.type_name, spec.params.clone())
                .unwrap_or_else(|| unreachable_step(&spec.type_name));
            match built {
                Ok(step) => out.push(step),
                Err(e) => {
                    let message = match &e {
                        BuildError::Params(p) => p.message().to_string(),
                        BuildError::Invalid(i) => i.to_string(),
                    };
                    let span = key_span_msg(&self.text, &spec.span, &message)
                        .unwrap_or_else(|| spec.span.clone());
                    return Err(RecipeError {
                        origin: self.origin.clone(),
                        line: Some(line_of(&self.text, span.start)),
                        message: format!("step `{}`: {message}", spec.type_name),
                    });
                }
            }
        }
        Ok(out)
    }
}

fn unreachable_step(name: &str) -> Result<Box<dyn Step>, BuildError> {
    // `parse` checked the name against `step_names`; a mismatch between the two registry lists
    // is a programming error, reported as a recipe error rather than a panic.
    Err(BuildError::Invalid(thresher_core::Error::config(
        name,
        "step listed in step_names() but missing from build_step()",
    )))
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
    table_into::<T>(t.into_inner()).map_err(|e| {
        (
            Some(key_span_msg(text, &span, &e).unwrap_or(span)),
            format!("[{name}]: {e}"),
        )
    })
}

fn table_into<T: serde::de::DeserializeOwned>(t: toml::Table) -> Result<T, String> {
    toml::Value::Table(t)
        .try_into()
        .map_err(|e: toml::de::Error| e.message().to_string())
}

fn line_of(text: &str, byte: usize) -> usize {
    text.as_bytes()[..byte.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// The span of the line of the key named in a serde message (``unknown field `x` ``) within a
/// table's span.
fn key_span_msg(text: &str, span: &Range<usize>, message: &str) -> Option<Range<usize>> {
    let start = message.find('`')? + 1;
    let len = message[start..].find('`')?;
    let key = &message[start..start + len];
    find_key_line(text, span, key)
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
        for (name, _) in bundled() {
            let r = Recipe::load(name).unwrap_or_else(|e| panic!("{e}"));
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

        let r = Recipe::parse(
            "r.toml",
            "[[step]]\ntype = \"exact_dedup\"\nnormalise = true\n",
        )
        .unwrap();
        let Err(e) = r.build_steps() else {
            panic!("expected an error")
        };
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
        assert_eq!(r.output.compression, thresher_io::OutputCompression::Zstd);
    }
}
