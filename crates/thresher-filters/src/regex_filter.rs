//! `regex_filter`: drops documents that a regular expression matches (or keeps only those).
//!
//! # What it does
//! `patterns` is a list of regular expressions, searched anywhere in the text. With
//! `mode = "drop"` (default) a document matched by any pattern is rejected as
//! `regex_filter:pattern_<i>`, `i` being the index in `patterns` of the first pattern (in list
//! order) that matches; the value is the matched text (its first 100 characters). With
//! `mode = "keep"` a document that no pattern matches is rejected as `regex_filter:no_match`.
//!
//! Patterns use the syntax of the Rust `regex` crate, which is Python `re`'s for the common
//! part (classes, alternation, repetition, groups, `(?i)` and other inline flags, `\b`, `\d`,
//! `\w`, `\s` with Unicode meanings); it has no look-around and no back-references, and a
//! recipe that uses them is refused when it is loaded. Matching takes time linear in the text
//! (no backtracking blow-up on any input).
//!
//! # Why
//! Site-specific junk ("Enable JavaScript", cookie walls, templated spam) is easiest to name
//! with a pattern; keep mode selects a topic or a format.
//!
//! # Source of each threshold
//! datatrove 0.10.1 `RegexFilter(regex_exp)`: drops a document when `re.search` finds the
//! pattern in its text, which is `mode = "drop"` with one pattern. Several patterns and keep
//! mode are this step's own (data-juicer has no equivalent filter; dolma's mixer filters on
//! attributes). Where Python's and Rust's definitions of `\w`/`\b`/`\s` differ (a few
//! non-ASCII characters: combining marks are word characters in Rust, not in Python), the
//! decisions can differ.
//!
//! # Example
//! ```
//! use thresher_core::{Document, Outcome, StepConfig, StepCx};
//! use thresher_filters::RegexFilterConfig;
//!
//! let step = RegexFilterConfig {
//!     patterns: vec![r"(?i)lorem ipsum".into(), r"enable javascript".into()],
//!     ..Default::default()
//! }
//! .build()
//! .unwrap();
//! let doc = Document::new("d", "Please enable javascript to continue.");
//! let Outcome::Reject { reason, .. } = step.process(doc, &mut StepCx::default()) else {
//!     panic!()
//! };
//! assert_eq!(&*reason.code, "regex_filter:pattern_1");
//! ```

use regex::{Regex, RegexSet};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::ops::ControlFlow;

use thresher_core::{Document, Error, Filter, Outcome, Result, Rules, Step, StepConfig, StepCx};

/// What a match means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RegexMode {
    /// A document that a pattern matches is dropped.
    Drop,
    /// Only documents that a pattern matches are kept.
    Keep,
}

/// Recipe parameters of `regex_filter` (defaults: datatrove's `RegexFilter`, no pattern).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct RegexFilterConfig {
    /// Regular expressions (Rust `regex` syntax), searched anywhere in the text.
    pub patterns: Vec<String>,
    /// "drop": drop documents a pattern matches; "keep": keep only those.
    pub mode: RegexMode,
}

impl Default for RegexFilterConfig {
    fn default() -> Self {
        RegexFilterConfig {
            patterns: Vec::new(),
            mode: RegexMode::Drop,
        }
    }
}

impl StepConfig for RegexFilterConfig {
    /// Every pattern compiles (few patterns, small programs: checked in full so that a recipe
    /// is refused when it is loaded, not when the run starts).
    fn validate(&self) -> Result<()> {
        for (i, p) in self.patterns.iter().enumerate() {
            Regex::new(p)
                .map_err(|e| Error::config("regex_filter", format!("patterns[{i}] {p:?}: {e}")))?;
        }
        Ok(())
    }

    fn build(self) -> Result<Box<dyn Step>> {
        Ok(Box::new(RegexFilter::new(self)?))
    }
}

/// The `regex_filter` step; see the module documentation.
#[derive(Debug)]
pub struct RegexFilter {
    mode: RegexMode,
    /// All patterns at once: one pass tells which match.
    set: RegexSet,
    /// Each pattern alone, to report the matched text.
    each: Vec<Regex>,
}

impl RegexFilter {
    /// Compiles the patterns.
    pub fn new(cfg: RegexFilterConfig) -> Result<Self> {
        cfg.validate()?;
        let err = |e: regex::Error| Error::config("regex_filter", e.to_string());
        let set = RegexSet::new(&cfg.patterns).map_err(err)?;
        let each = cfg
            .patterns
            .iter()
            .map(|p| Regex::new(p))
            .collect::<std::result::Result<_, _>>()
            .map_err(err)?;
        Ok(RegexFilter {
            mode: cfg.mode,
            set,
            each,
        })
    }
}

impl Step for RegexFilter {
    fn name(&self) -> &str {
        "regex_filter"
    }

    fn process(&self, doc: Document, cx: &mut StepCx) -> Outcome {
        Rules::filter().run(self, doc, cx, "regex_filter")
    }

    fn as_filter(&self) -> Option<&dyn Filter> {
        Some(self)
    }
}

impl Filter for RegexFilter {
    /// Annotates `matched` (whether any pattern matches) and, when one does, `pattern` (the
    /// index of the first that matches).
    fn judge(&self, doc: &mut Document, _cx: &mut StepCx, rules: &mut Rules) -> ControlFlow<()> {
        let text = doc.text();
        match self.mode {
            RegexMode::Drop => {
                let first = self.set.matches(text).iter().next();
                if let Some(i) = first {
                    rules.note("pattern", i);
                    if !rules.annotating() {
                        let found = self.each[i].find(text).map_or("", |m| m.as_str());
                        let shown: String = found.chars().take(100).collect();
                        return rules.rule(
                            "matched",
                            shown,
                            true,
                            format!("regex_filter:pattern_{i}"),
                        );
                    }
                }
                rules.rule("matched", first.is_some(), false, "")
            }
            RegexMode::Keep => {
                let matched = self.set.is_match(text);
                if matched || rules.annotating() {
                    rules.rule("matched", matched, !matched, "regex_filter:no_match")
                } else {
                    rules.rule("matched", Value::Null, true, "regex_filter:no_match")
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decide(patterns: &[&str], mode: RegexMode, text: &str) -> Option<(String, Value)> {
        let cfg = RegexFilterConfig {
            patterns: patterns.iter().map(|s| s.to_string()).collect(),
            mode,
        };
        match cfg
            .build()
            .unwrap()
            .process(Document::new("d", text), &mut StepCx::default())
        {
            Outcome::Keep(_) => None,
            Outcome::Reject { reason, .. } => Some((reason.code.into_owned(), reason.value)),
            Outcome::Error { error, .. } => panic!("{error}"),
        }
    }

    #[test]
    fn drop_names_the_first_matching_pattern() {
        let pats = ["zzz", r"\bcat\b", r"(?i)CAT"];
        assert_eq!(
            decide(&pats, RegexMode::Drop, "a Cat and a cat"),
            Some(("regex_filter:pattern_1".into(), "cat".into()))
        );
        assert_eq!(
            decide(&pats, RegexMode::Drop, "Concatenate"),
            Some(("regex_filter:pattern_2".into(), "cat".into()))
        );
        assert_eq!(decide(&pats, RegexMode::Drop, "dog"), None);
        assert_eq!(decide(&[], RegexMode::Drop, "anything"), None);
    }

    #[test]
    fn keep_mode_drops_the_unmatched() {
        let pats = [r"\d{4}", "x"];
        assert_eq!(decide(&pats, RegexMode::Keep, "in 1999"), None);
        assert_eq!(
            decide(&pats, RegexMode::Keep, "no year"),
            Some(("regex_filter:no_match".into(), Value::Null))
        );
        assert!(decide(&[], RegexMode::Keep, "anything").is_some());
    }

    #[test]
    fn unsupported_syntax_is_refused_when_loaded() {
        for bad in [r"(?=x)", r"(a)\1", "("] {
            let cfg = RegexFilterConfig {
                patterns: vec![bad.into()],
                ..Default::default()
            };
            assert!(cfg.validate().is_err(), "{bad}");
        }
    }

    #[test]
    fn long_matches_are_shortened() {
        let text = "é".repeat(500);
        let (_, v) = decide(&["é+"], RegexMode::Drop, &text).unwrap();
        assert_eq!(v.as_str().unwrap().chars().count(), 100);
    }
}
