//! `gopher_repetition`: drops documents made of repeated lines, paragraphs or word n-grams.
//!
//! # What it does
//! In this order, the first rule that fires rejects the document (`gopher_repetition:<rule>`,
//! with the measured fraction as the value):
//! - `dup_para_frac` / `dup_para_char_frac`: paragraphs (the stripped text split at runs of two
//!   or more `\n`) that repeat an earlier paragraph, as a fraction of the paragraphs / their
//!   length as a fraction of the text's length;
//! - `dup_line_frac` / `dup_line_char_frac`: the same for lines (the text split at runs of `\n`);
//! - `top_{n}_gram`: the most frequent word n-gram (words joined by a space), its length times
//!   its count as a fraction of the text's length, for each `(n, max)` of `top_n_grams`;
//! - `duplicated_{n}_n_grams`: the characters of the word n-grams that repeat an earlier one
//!   (scanning left to right and jumping past each repeat), as a fraction of the text's length,
//!   for each `(n, max)` of `dup_n_grams`.
//!
//! Lengths are in code points, as Python's `len`. An empty text is rejected as
//! `gopher_repetition:empty`.
//!
//! # Why
//! Repetitive pages (menus, listings, spam, boilerplate copied down the page) are poor training
//! text; Gopher (Rae et al. 2021, table A1) found these rules remove them cheaply.
//!
//! # Source of each threshold
//! datatrove 0.10.1 `GopherRepetitionFilter` defaults, which are the Gopher paper's table A1:
//! 0.3 duplicate line and paragraph fractions, 0.2 for their character fractions, 0.20 / 0.18 /
//! 0.16 for the top 2/3/4-grams, 0.15 down to 0.10 for the duplicate 5..10-grams. As in
//! datatrove, a line or paragraph threshold of 0 switches its rule off.
//!
//! # Example
//! ```
//! use thresher_core::{Document, Outcome, StepConfig, StepCx};
//! use thresher_filters::GopherRepetitionConfig;
//!
//! let step = GopherRepetitionConfig::default().build().unwrap();
//! let doc = Document::new("d", "Buy now!\nBuy now!\nBuy now!\nA real sentence here.");
//! match step.process(doc, &mut StepCx::default()) {
//!     Outcome::Reject { reason, .. } => assert_eq!(reason.code, "gopher_repetition:dup_line_frac"),
//!     _ => panic!("expected a rejection"),
//! }
//! ```

use serde::{Deserialize, Serialize};
use std::ops::ControlFlow;
use thresher_core::check::check_fraction;

use thresher_core::{
    Document, Error, Filter, Outcome, Reason, Result, Rules, Step, StepConfig, StepCx,
};

use crate::analysis::analysis;
use crate::dup::find_duplicates;
use crate::ngrams::with_ngrams;
use crate::pychar;

/// Recipe parameters of `gopher_repetition` (defaults: datatrove 0.10.1's).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct GopherRepetitionConfig {
    /// Maximum fraction of lines that repeat an earlier line (0 = rule off).
    pub dup_line_frac: f64,
    /// Maximum fraction of paragraphs that repeat an earlier paragraph (0 = rule off).
    pub dup_para_frac: f64,
    /// Maximum length of repeated lines over the text's length (0 = rule off).
    pub dup_line_char_frac: f64,
    /// Maximum length of repeated paragraphs over the text's length (0 = rule off).
    pub dup_para_char_frac: f64,
    /// `[n, max]` pairs: maximum length x count of the most frequent word n-gram over the
    /// text's length.
    pub top_n_grams: Vec<(usize, f64)>,
    /// `[n, max]` pairs: maximum length of repeated word n-grams over the text's length.
    pub dup_n_grams: Vec<(usize, f64)>,
}

impl Default for GopherRepetitionConfig {
    fn default() -> Self {
        GopherRepetitionConfig {
            dup_line_frac: 0.3,
            dup_para_frac: 0.3,
            dup_line_char_frac: 0.2,
            dup_para_char_frac: 0.2,
            top_n_grams: vec![(2, 0.2), (3, 0.18), (4, 0.16)],
            dup_n_grams: vec![
                (5, 0.15),
                (6, 0.14),
                (7, 0.13),
                (8, 0.12),
                (9, 0.11),
                (10, 0.10),
            ],
        }
    }
}

impl StepConfig for GopherRepetitionConfig {
    /// Every threshold is a fraction (0 switches the line and paragraph rules off); n-gram
    /// sizes are within 1..=1000.
    fn validate(&self) -> Result<()> {
        let fracs = [
            ("dup_line_frac", self.dup_line_frac),
            ("dup_para_frac", self.dup_para_frac),
            ("dup_line_char_frac", self.dup_line_char_frac),
            ("dup_para_char_frac", self.dup_para_char_frac),
        ];
        for (key, v) in fracs {
            check_fraction(STEP, key, v)?;
        }
        for (key, pairs) in [
            ("top_n_grams", &self.top_n_grams),
            ("dup_n_grams", &self.dup_n_grams),
        ] {
            for &(n, max) in pairs {
                if !(1..=1000).contains(&n) {
                    let msg = format!("`{key}`: n-gram size {n} must be within 1..=1000");
                    return Err(Error::config(STEP, msg));
                }
                check_fraction(STEP, key, max)?;
            }
        }
        Ok(())
    }

    fn build(self) -> Result<Box<dyn Step>> {
        Ok(Box::new(GopherRepetition::new(self)?))
    }
}

const STEP: &str = "gopher_repetition";

/// The `gopher_repetition` step; see the module documentation.
#[derive(Debug, Clone)]
pub struct GopherRepetition {
    cfg: GopherRepetitionConfig,
    /// Reason codes of the n-gram rules, made once.
    top_codes: Vec<String>,
    dup_codes: Vec<String>,
}

impl GopherRepetition {
    /// Validates the parameters (see [`GopherRepetitionConfig::validate`]).
    pub fn new(cfg: GopherRepetitionConfig) -> Result<Self> {
        cfg.validate()?;
        let top_codes = cfg
            .top_n_grams
            .iter()
            .map(|(n, _)| format!("gopher_repetition:top_{n}_gram"))
            .collect();
        let dup_codes = cfg
            .dup_n_grams
            .iter()
            .map(|(n, _)| format!("gopher_repetition:duplicated_{n}_n_grams"))
            .collect();
        Ok(GopherRepetition {
            cfg,
            top_codes,
            dup_codes,
        })
    }

    /// The rule that rejects `doc` and its measured value, or `None` to keep it.
    pub fn check(&self, doc: &mut Document) -> Option<Reason> {
        Rules::verdict(self, doc, &mut StepCx::default()).unwrap_or(None)
    }
}

/// A rule's value name in annotations: its reason code without the step's prefix.
fn rule_name(code: &str) -> &str {
    &code[STEP.len() + 1..]
}

/// The reason code when a rule fails; no allocation when it passes.
fn code_if(fails: bool, code: &str) -> String {
    if fails {
        code.to_string()
    } else {
        String::new()
    }
}

impl Filter for GopherRepetition {
    fn judge(&self, doc: &mut Document, _cx: &mut StepCx, rules: &mut Rules) -> ControlFlow<()> {
        let c = &self.cfg;
        let all = rules.annotating();
        let an = analysis(doc);
        let text = doc.text();
        if text.is_empty() {
            // Every rule is a fraction of the text's length.
            rules.rule("empty", true, true, "gopher_repetition:empty")?;
            return ControlFlow::Break(());
        }
        let text_len = an.char_len(text) as f64;

        let (para_dups, para_chars, n_paras) = paragraph_duplicates(pychar::strip(text));
        let frac = para_dups as f64 / n_paras as f64;
        let max = c.dup_para_frac;
        rules.rule(
            "dup_para_frac",
            frac,
            max != 0.0 && frac > max,
            "gopher_repetition:dup_para_frac",
        )?;
        let frac = para_chars as f64 / text_len;
        let max = c.dup_para_char_frac;
        rules.rule(
            "dup_para_char_frac",
            frac,
            max != 0.0 && frac > max,
            "gopher_repetition:dup_para_char_frac",
        )?;

        // Split at runs of `\n`, keeping the empty pieces at either end, as `re.split("\n+")`.
        let mut n_lines = 0usize;
        let lines = pychar::split_lf(text)
            .enumerate()
            .filter(|(i, l)| !l.is_empty() || *i == 0)
            .map(|(_, l)| l);
        let lines = lines
            .chain(text.ends_with('\n').then_some(""))
            .inspect(|_| n_lines += 1);
        // Lines average some 60 bytes on web pages: a guess that rarely regrows the table.
        let (line_dups, line_chars) = find_duplicates(lines, text.len() / 64);
        let frac = line_dups as f64 / n_lines as f64;
        let max = c.dup_line_frac;
        rules.rule(
            "dup_line_frac",
            frac,
            max != 0.0 && frac > max,
            "gopher_repetition:dup_line_frac",
        )?;
        let frac = line_chars as f64 / text_len;
        let max = c.dup_line_char_frac;
        rules.rule(
            "dup_line_char_frac",
            frac,
            max != 0.0 && frac > max,
            "gopher_repetition:dup_line_char_frac",
        )?;

        let words = an.words(text);
        with_ngrams(text, words, an.vocab(text), |ng| {
            for ((n, max), code) in c.top_n_grams.iter().zip(&self.top_codes) {
                // Most documents are far below the limits: bounds from word counts settle them
                // without counting n-grams, the cheapest first (annotations want exact values).
                if !all {
                    match ng.top_ngram_chars_quick_bound(*n) {
                        None => continue,
                        Some(bound) if bound as f64 / text_len <= *max => continue,
                        Some(_) => {}
                    }
                    match ng.top_ngram_chars_bound(*n) {
                        None => continue,
                        Some(bound) if bound as f64 / text_len <= *max => continue,
                        Some(_) => {}
                    }
                }
                // Fewer than n words: no n-gram, the rule does not apply (0 in annotations).
                let frac = ng.top_ngram_chars(*n).unwrap_or(0) as f64 / text_len;
                let fails = frac > *max;
                rules.rule(rule_name(code), frac, fails, code_if(fails, code))?;
            }
            for ((n, max), code) in c.dup_n_grams.iter().zip(&self.dup_codes) {
                // The scan stops once the rest of the text could not push it over the limit
                // (not when annotating: the exact value is wanted).
                let chars =
                    ng.duplicate_ngram_chars(*n, |upper| all || upper as f64 / text_len > *max);
                let frac = chars as f64 / text_len;
                let fails = frac > *max;
                rules.rule(rule_name(code), frac, fails, code_if(fails, code))?;
            }
            ControlFlow::Continue(())
        })
    }
}

/// Duplicate paragraphs of the (stripped) text split at runs of two or more `\n`
/// (`re.split(r"\n{2,}")`): (duplicates, their code points, number of paragraphs).
fn paragraph_duplicates(text: &str) -> (usize, usize, usize) {
    let mut paras = Vec::new();
    let bytes = text.as_bytes();
    let mut start = 0;
    // `skip_to`: the end of the last run of `\n` (its newlines are not looked at again).
    let mut skip_to = 0;
    for i in memchr::memchr_iter(b'\n', bytes) {
        if i < skip_to || bytes.get(i + 1) != Some(&b'\n') {
            continue;
        }
        let mut j = i;
        while j < bytes.len() && bytes[j] == b'\n' {
            j += 1;
        }
        paras.push(&text[start..i]);
        start = j;
        skip_to = j;
    }
    paras.push(&text[start..]);
    let (d, c) = find_duplicates(paras.iter().copied(), paras.len());
    (d, c, paras.len())
}

impl Step for GopherRepetition {
    fn name(&self) -> &str {
        STEP
    }

    fn process(&self, doc: Document, cx: &mut StepCx) -> Outcome {
        Rules::filter().run(self, doc, cx, STEP)
    }

    fn as_filter(&self) -> Option<&dyn Filter> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(text: &str) -> Option<String> {
        let f = GopherRepetition::new(GopherRepetitionConfig::default()).unwrap();
        f.check(&mut Document::new("t", text))
            .map(|r| r.code.into_owned())
    }

    #[test]
    fn paragraphs_split_at_blank_lines() {
        assert_eq!(paragraph_duplicates("a\n\nb\n\n\na"), (1, 1, 3));
        assert_eq!(
            paragraph_duplicates("a\nb\n\n\n\na\nb\nc\n\na\nb"),
            (1, 3, 3)
        );
        assert_eq!(paragraph_duplicates("\n\n"), (1, 0, 2));
        assert_eq!(paragraph_duplicates("x\n"), (0, 0, 1));
        assert_eq!(paragraph_duplicates(""), (0, 0, 1));
    }

    #[test]
    fn rules_fire_in_order() {
        assert_eq!(verdict(""), Some("gopher_repetition:empty".into()));
        assert_eq!(
            verdict("same para\n\nsame para\n\nother"),
            Some("gopher_repetition:dup_para_frac".into())
        );
        let mut t = String::from("x\ny\nz\nw\nv\n");
        t.push_str("a long repeated line\n");
        t.push_str("a long repeated line");
        assert_eq!(
            verdict(&t),
            Some("gopher_repetition:dup_line_char_frac".into())
        );
        assert_eq!(
            verdict("the cat the cat the cat the cat"),
            Some("gopher_repetition:top_2_gram".into())
        );
        // Kept by datatrove 0.10.1 (checked with its GopherRepetitionFilter).
        let prose = "Rivers carry sediment from mountains toward the sea, building deltas over thousands of years. \
            Farmers have long valued these plains because floods renew the soil each spring. \
            Engineers now build levees, which protect towns but starve wetlands of new mud. \
            Scientists debate how best to balance safety against the slow loss of coastal land.";
        assert_eq!(verdict(prose), None);
    }

    #[test]
    fn config_rejects_bad_values_and_unknown_keys() {
        let bad = GopherRepetitionConfig {
            top_n_grams: vec![(0, 0.1)],
            ..Default::default()
        };
        assert!(GopherRepetition::new(bad).is_err());
        let parsed: std::result::Result<GopherRepetitionConfig, _> =
            toml_like("{\"dup_line_fracc\": 0.1}");
        assert!(parsed.is_err());
    }

    fn toml_like(json: &str) -> serde_json::Result<GopherRepetitionConfig> {
        serde_json::from_str(json)
    }

    fn refusal(r: Result<()>) -> String {
        match r {
            Err(Error::Config { message, .. }) => message,
            other => panic!("expected a config error, got {other:?}"),
        }
    }

    /// Issue 17: a negative threshold rejected every document.
    #[test]
    fn negative_ratio_threshold_is_refused() {
        let cfg = GopherRepetitionConfig {
            dup_line_frac: -0.3,
            ..Default::default()
        };
        assert!(refusal(cfg.validate()).starts_with("`dup_line_frac` = -0.3"));
        assert!(GopherRepetition::new(cfg).is_err());
        let cfg = GopherRepetitionConfig {
            top_n_grams: vec![(2, -0.2)],
            ..Default::default()
        };
        assert!(refusal(cfg.validate()).starts_with("`top_n_grams`"));
        let cfg = GopherRepetitionConfig {
            dup_para_char_frac: 1.5,
            ..Default::default()
        };
        assert!(cfg.validate().is_err());
        assert!(GopherRepetitionConfig::default().validate().is_ok());
    }
}
