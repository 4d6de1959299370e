//! The step registry: maps a recipe's `type = "..."` to the step's config type.
//!
//! To add a step, implement [`StepConfig`] for its config struct (with
//! `#[serde(deny_unknown_fields, default)]`, `Default` = the reference tool's defaults, and
//! `Serialize` and `schemars::JsonSchema` derived, so that `thresher steps NAME` can show each
//! field's doc comment, type and default) and add one line to the `registered!` list below.
//!
//! A step that decides by rules (it rejects when a measured value passes a threshold) is a
//! filter, and gets annotate mode (`mode = "annotate"`, which this registry takes out of the
//! table before the config sees it) by reporting its values: implement
//! [`thresher_core::Filter::judge`], handing each rule's value to
//! `rules.rule("name", value, fails, "step:code")?` in the order the rules apply (use
//! `rules.annotating()` to measure everything, exactly, where filtering stops early or skips a
//! rule that is off); make `process` `Rules::filter().run(self, doc, cx, NAME)` and `as_filter`
//! `Some(self)`. A step that edits text can annotate instead by implementing
//! [`thresher_core::Step::set_annotate_only`] (the repair steps do: they record what they
//! would remove and leave the text). Any other step (it deduplicates or labels) changes
//! nothing: annotate mode is refused for it when the recipe is built. The `annotate_mode` test
//! below lists the filters and the editing steps that must annotate.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
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
            #[cfg(feature = "langid-step")]
            "language_id" => thresher_langid::LanguageIdConfig:
                "labels each document with its language; keeps the wanted ones above a score",
            "pii" => thresher_filters::PiiConfig:
                "replaces e-mail and public IP addresses (datatrove's PIIFormatter); never rejects",
            "text_length" => thresher_filters::TextLengthConfig:
                "drops documents shorter or longer than given bounds, in characters",
            "word_count" => thresher_filters::WordCountConfig:
                "drops documents with fewer or more words than given bounds",
            "regex_filter" => thresher_filters::RegexFilterConfig:
                "drops documents a pattern matches (or keeps only those)",
            "sample" => thresher_filters::SampleConfig:
                "keeps a fraction of documents, chosen by a hash of their id",
            "c4_paragraph" => thresher_filters::C4ParagraphConfig:
                "drops documents without 3 lines of 200 characters or more (mC4's paragraph rule)",
            "sentence_dedup" => thresher_dedup::SentenceDedupConfig:
                "removes spans of 3 sentences seen before (C4's rule, datatrove's SentenceDedup)",
            "url_filter" => thresher_filters::UrlFilterConfig:
                "drops documents whose metadata.url is on a block list (datatrove's URLFilter)",
            "token_count" => thresher_tokens::TokenCountConfig:
                "counts tokens with a Hugging Face tokenizer.json (metadata.token_count)",
            // New steps go here: "type_name" => crate::ConfigType: "one-line description",
        }
    };
}

/// Steps that a cargo feature of this crate provides: (type name, feature). Recipes that use
/// one in a build without its feature are refused with [`feature_message`].
pub const FEATURE_STEPS: &[(&str, &str)] = &[("language_id", "langid")];

/// How a step runs, from the `mode` key every step table may have (it is not a parameter of
/// the step's config: the registry takes it out before the config sees the table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RunMode {
    /// `mode = "filter"` (the default): the step decides.
    #[default]
    Filter,
    /// `mode = "annotate"`: a filter measures every rule, writes the values into
    /// `metadata.<step>` and keeps every document (see [`thresher_core::Annotate`]).
    Annotate,
}

/// Takes the `mode` key out of a step table.
pub fn take_mode(type_name: &str, table: &mut toml::Table) -> Result<RunMode, BuildError> {
    match table.remove("mode") {
        None => Ok(RunMode::Filter),
        Some(toml::Value::String(m)) if m == "filter" => Ok(RunMode::Filter),
        Some(toml::Value::String(m)) if m == "annotate" => Ok(RunMode::Annotate),
        Some(other) => Err(BuildError::Invalid(thresher_core::Error::config(
            type_name,
            format!("`mode` = {other}: must be \"filter\" (the default) or \"annotate\""),
        ))),
    }
}

/// Builds the step of type `type_name` from its recipe table (without the `type` key; with
/// `mode = "annotate"`, the step wrapped in [`thresher_core::Annotate`], which refuses steps
/// that are not filters). `None` when no step has that type name.
pub fn build_step(
    type_name: &str,
    mut table: toml::Table,
) -> Option<Result<Box<dyn Step>, BuildError>> {
    macro_rules! steps {
        ($($(#[$attr:meta])* $name:literal => $cfg:ty: $desc:literal),* $(,)?) => {
            match type_name {
                $($(#[$attr])* $name => Some(build::<$cfg>(table)),)*
                _ => None,
            }
        };
    }
    let mode = match take_mode(type_name, &mut table) {
        Ok(m) => m,
        Err(e) => return step_names().contains(&type_name).then_some(Err(e)),
    };
    let built = registered!(steps)?;
    Some(built.and_then(|step| {
        match mode {
            RunMode::Filter => Ok(step),
            // Editing steps that can record instead of edit (the repair steps) do so; the
            // others must be filters.
            RunMode::Annotate if step.as_filter().is_none() => {
                let mut step = step;
                if step.set_annotate_only() {
                    return Ok(step);
                }
                thresher_core::Annotate::new(step)
                    .map(|a| Box::new(a) as Box<dyn Step>)
                    .map_err(BuildError::Invalid)
            }
            RunMode::Annotate => thresher_core::Annotate::new(step)
                .map(|a| Box::new(a) as Box<dyn Step>)
                .map_err(BuildError::Invalid),
        }
    }))
}

/// Checks the step's recipe table: its `mode`, then deserializes the rest and runs the
/// config's [`StepConfig::validate`], without building the step (no allocation, no file
/// access; whether an annotating step is a filter is known once it is built). `None` when no
/// step has that type name.
pub fn check_step(type_name: &str, mut table: toml::Table) -> Option<Result<(), BuildError>> {
    macro_rules! steps {
        ($($(#[$attr:meta])* $name:literal => $cfg:ty: $desc:literal),* $(,)?) => {
            match type_name {
                $($(#[$attr])* $name => Some(check::<$cfg>(table)),)*
                _ => None,
            }
        };
    }
    if let Err(e) = take_mode(type_name, &mut table) {
        return step_names().contains(&type_name).then_some(Err(e));
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

/// One parameter of a step, as `thresher steps NAME` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    /// The recipe key; a key of a sub-table is `table.key`.
    pub name: String,
    /// The value's type, in recipe terms (`integer`, `string or unset`, `one of "a", "b"`...).
    pub ty: String,
    /// The default value as TOML would write it; `unset` for an absent optional value.
    pub default: String,
    /// The first sentence of the field's doc comment.
    pub doc: String,
}

/// The parameters of a step this build has, from its config's schema (doc comments, types)
/// and `Default`, by name (serde_json sorts keys). Sub-tables (`norm` of `minhash_dedup`) are
/// listed, then their keys as `table.key`.
pub fn step_params(type_name: &str) -> Option<Vec<Param>> {
    macro_rules! params {
        ($($(#[$attr:meta])* $name:literal => $cfg:ty: $desc:literal),* $(,)?) => {
            match type_name {
                $($(#[$attr])* $name => Some(params_of(schemars::schema_for!($cfg).as_value())),)*
                _ => None,
            }
        };
    }
    registered!(params)
}

/// The default parameters of a step this build has: its config's `Default`, serialized (an
/// unset optional value is `null`), so every parameter is a key.
pub fn step_defaults(type_name: &str) -> Option<Value> {
    macro_rules! defaults {
        ($($(#[$attr:meta])* $name:literal => $cfg:ty: $desc:literal),* $(,)?) => {
            match type_name {
                $($(#[$attr])* $name => Some(
                    serde_json::to_value(<$cfg>::default()).unwrap_or(Value::Null)
                ),)*
                _ => None,
            }
        };
    }
    registered!(defaults)
}

fn params_of(schema: &Value) -> Vec<Param> {
    let defs = schema.get("$defs").and_then(Value::as_object);
    let mut out = Vec::new();
    collect_params(schema, defs, "", &mut out);
    out
}

fn collect_params(
    schema: &Value,
    defs: Option<&Map<String, Value>>,
    prefix: &str,
    out: &mut Vec<Param>,
) {
    let Some(props) = schema.get("properties").and_then(Value::as_object) else {
        return;
    };
    for (key, prop) in props {
        let name = format!("{prefix}{key}");
        // A doc comment on the field wins over the one on its type (`$ref`).
        let target = resolve(prop, defs);
        let doc = prop
            .get("description")
            .or_else(|| target.get("description"))
            .and_then(Value::as_str)
            .map(first_sentence)
            .unwrap_or_default();
        let default = prop.get("default").map(toml_ish).unwrap_or_default();
        out.push(Param {
            name: name.clone(),
            ty: type_of(prop, defs),
            default,
            doc,
        });
        if target.get("properties").is_some() {
            collect_params(target, defs, &format!("{name}."), out);
        }
    }
}

/// Follows a `$ref` into `$defs` (one level: the configs' types are not recursive).
fn resolve<'a>(schema: &'a Value, defs: Option<&'a Map<String, Value>>) -> &'a Value {
    schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/$defs/"))
        .and_then(|name| defs?.get(name))
        .unwrap_or(schema)
}

/// A schema's type in recipe terms.
fn type_of(schema: &Value, defs: Option<&Map<String, Value>>) -> String {
    let schema = resolve(schema, defs);
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        let v: Vec<String> = values.iter().map(toml_ish).collect();
        return format!("one of {}", v.join(", "));
    }
    if let Some(alts) = schema
        .get("oneOf")
        .or_else(|| schema.get("anyOf"))
        .and_then(Value::as_array)
    {
        let consts: Vec<String> = alts
            .iter()
            .filter_map(|a| resolve(a, defs).get("const").map(toml_ish))
            .collect();
        if consts.len() == alts.len() {
            return format!("one of {}", consts.join(", "));
        }
        let mut optional = false;
        let mut types = Vec::new();
        for a in alts {
            if a.get("type").and_then(Value::as_str) == Some("null") {
                optional = true;
            } else {
                types.push(type_of(a, defs));
            }
        }
        let t = types.join(" or ");
        return if optional { format!("{t} or unset") } else { t };
    }
    if schema.get("properties").is_some() {
        return "table".into();
    }
    let mut optional = false;
    let names: Vec<&str> = match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => return "any".into(),
    };
    let mut parts = Vec::new();
    for t in names {
        match t {
            "null" => optional = true,
            "array" => parts.push(array_type(schema, defs)),
            "number" => parts.push("float".to_string()),
            "object" => parts.push("table".to_string()),
            other => parts.push(other.to_string()),
        }
    }
    let t = parts.join(" or ");
    if optional {
        format!("{t} or unset")
    } else {
        t
    }
}

fn array_type(schema: &Value, defs: Option<&Map<String, Value>>) -> String {
    if let Some(items) = schema.get("prefixItems").and_then(Value::as_array) {
        let t: Vec<String> = items.iter().map(|i| type_of(i, defs)).collect();
        return format!("[{}]", t.join(", "));
    }
    match schema.get("items") {
        Some(items) => format!("array of {}", type_of(items, defs)),
        None => "array".into(),
    }
}

/// A JSON value as TOML writes it (`null`, which TOML lacks, is an unset optional value).
fn toml_ish(v: &Value) -> String {
    match v {
        Value::Null => "unset".into(),
        Value::Array(items) => {
            let v: Vec<String> = items.iter().map(toml_ish).collect();
            format!("[{}]", v.join(", "))
        }
        Value::Object(m) => {
            let v: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{k} = {}", toml_ish(v)))
                .collect();
            format!("{{ {} }}", v.join(", "))
        }
        other => other.to_string(),
    }
}

/// The first sentence of a doc comment, on one line, with rustdoc's link brackets removed.
fn first_sentence(doc: &str) -> String {
    let para = doc.split("\n\n").next().unwrap_or_default();
    let line = para.split_whitespace().collect::<Vec<_>>().join(" ");
    let line = line.replace("[`", "`").replace("`]", "`");
    match line.find(". ") {
        Some(i) => line[..=i].to_string(),
        None => line,
    }
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

    /// Steps whose defaults are intentionally incomplete, with the reason and a word the
    /// error must name (each must refuse an empty table with a message naming what to set).
    const INCOMPLETE_DEFAULTS: &[(&str, &str, &str)] = &[
        (
            "url_filter",
            "its block lists are the user's to give (datatrove_assets = DIR or list files): \
             datatrove's lists are under their own licence and not shipped",
            "datatrove_assets",
        ),
        (
            "token_count",
            "needs the path of a tokenizer.json (nothing is downloaded)",
            "tokenizer",
        ),
    ];

    #[test]
    fn every_step_builds_from_its_defaults() {
        for name in step_names() {
            if let Some((_, why, names)) = INCOMPLETE_DEFAULTS.iter().find(|(n, ..)| n == name) {
                println!("{name}: not built from defaults: {why}");
                let e = build_step(name, toml::Table::new())
                    .unwrap()
                    .map(|_| ())
                    .unwrap_err();
                assert!(format!("{e:?}").contains(names), "{name}: {e:?}");
                continue;
            }
            match build_step(name, toml::Table::new()) {
                // The step's name (stats, the `step` of rejected records, the reason codes'
                // prefix) is its recipe type name: no versioned variant.
                Some(Ok(step)) => assert_eq!(step.name(), *name),
                Some(Err(e)) => panic!("{name} does not build from an empty table: {e:?}"),
                None => panic!("{name} is listed but not built"),
            }
        }
    }

    /// ARCHITECTURE.md lists every step, and the README's reason-code table names every step
    /// (those that never reject in its sentence about them), the feature-gated ones too.
    #[test]
    fn the_docs_name_every_step() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
        let arch = std::fs::read_to_string(format!("{root}/ARCHITECTURE.md")).unwrap();
        let readme = std::fs::read_to_string(format!("{root}/README.md")).unwrap();
        let reasons = readme
            .split("### Reason codes")
            .nth(1)
            .and_then(|s| s.split("\n### ").next())
            .expect("README has a Reason codes section");
        let names = step_names()
            .iter()
            .copied()
            .chain(FEATURE_STEPS.iter().map(|(n, _)| *n));
        for name in names {
            let quoted = format!("`{name}`");
            assert!(
                arch.contains(&quoted),
                "ARCHITECTURE.md does not name {quoted}"
            );
            assert!(
                reasons.contains(&quoted),
                "README's reason codes do not name {quoted}"
            );
        }
    }

    /// Every field of every config is a parameter with a type, a default and a doc line; every
    /// step has a description.
    #[test]
    fn every_parameter_is_described() {
        for name in step_names() {
            assert!(
                step_description(name).is_some_and(|d| !d.is_empty()),
                "{name}"
            );
            let defaults = step_defaults(name).unwrap();
            let keys: Vec<&String> = defaults.as_object().unwrap().keys().collect();
            let params = step_params(name).unwrap();
            let top: Vec<&String> = params
                .iter()
                .map(|p| &p.name)
                .filter(|n| !n.contains('.'))
                .collect();
            assert_eq!(top, keys, "{name}");
            for p in &params {
                assert!(
                    !p.ty.is_empty() && p.ty != "any",
                    "{name}.{}: {p:?}",
                    p.name
                );
                assert!(!p.default.is_empty(), "{name}.{}: no default", p.name);
                assert!(!p.doc.is_empty(), "{name}.{}: no doc comment", p.name);
            }
        }
    }

    /// The editing steps that take `mode = "annotate"` (see `Step::set_annotate_only`).
    const EDIT_ANNOTATORS: &[&str] = &["collapse_repeats", "strip_chrome", "corpus_boilerplate"];

    /// Every filter annotates: `mode = "annotate"` builds, keeps a document the filter
    /// rejects, and writes values under the step's name; steps that are not filters refuse it.
    #[test]
    fn annotate_mode() {
        use thresher_core::{Document, Outcome, StepCx};
        let table = |mode: &str| toml::Table::from_iter([("mode".to_string(), mode.into())]);
        let mut filters = Vec::new();
        for name in step_names() {
            if INCOMPLETE_DEFAULTS.iter().any(|(n, ..)| n == name) {
                continue; // token_count's own tests cover it
            }
            let built = build_step(name, table("annotate")).unwrap();
            let Ok(step) = built else {
                // Not a filter: refused, with the key named so the recipe error points at it.
                let Err(BuildError::Invalid(e)) = built else {
                    unreachable!()
                };
                assert!(e.to_string().contains("not a filter"), "{name}: {e}");
                continue;
            };
            if EDIT_ANNOTATORS.contains(name) {
                // An editing step that records instead of editing: the text stays.
                let doc = Document::new("d", "Too short.");
                let Outcome::Keep(doc) = step.process(doc, &mut StepCx::default()) else {
                    panic!("{name} did not keep the document")
                };
                assert_eq!(doc.text(), "Too short.", "{name}");
                filters.push(*name);
                continue;
            }
            filters.push(*name);
            let doc = Document::new("d", "Too short.");
            match step.process(doc, &mut StepCx::default()) {
                Outcome::Keep(doc) => {
                    let values = doc.metadata.get(*name).and_then(|v| v.as_object());
                    assert!(values.is_some_and(|v| !v.is_empty()), "{name}: {doc:?}");
                }
                other => panic!("{name}: {other:?}"),
            }
        }
        for f in [
            "gopher_quality",
            "gopher_repetition",
            "c4_quality",
            "c4_badwords",
            "fineweb_quality",
            "text_length",
            "word_count",
            "regex_filter",
            "sample",
            "c4_paragraph",
            "collapse_repeats",
            "strip_chrome",
            "corpus_boilerplate",
        ] {
            assert!(filters.contains(&f), "{f} does not annotate");
        }
        assert!(build_step("gopher_quality", table("filter"))
            .unwrap()
            .is_ok());
        let Some(Err(BuildError::Invalid(e))) = check_step("gopher_quality", table("tag")) else {
            panic!()
        };
        assert!(e.to_string().contains("`mode` = \"tag\""), "{e}");
    }

    #[test]
    fn parameter_types_read_well() {
        let params = step_params("minhash_dedup").unwrap();
        let get = |n: &str| params.iter().find(|p| p.name == n).unwrap();
        assert_eq!(get("profile").ty, "string");
        assert_eq!(get("profile").default, "\"fineweb\"");
        assert_eq!(get("bands").ty, "integer or unset");
        assert_eq!(get("bands").default, "unset");
        assert!(
            get("keeper").ty.starts_with("one of \"lowest_seq\""),
            "{:?}",
            get("keeper")
        );
        assert_eq!(get("norm").ty, "table");
        assert_eq!(get("norm.lowercase").ty, "boolean");
        let top = step_params("gopher_repetition").unwrap();
        let g = top.iter().find(|p| p.name == "top_n_grams").unwrap();
        assert_eq!(g.ty, "array of [integer, float]", "{g:?}");
    }

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
