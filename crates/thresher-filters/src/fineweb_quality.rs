//! `fineweb_quality`: FineWeb's own line-level quality rules.
//!
//! # What it does
//! On the non-blank lines (the text split at `\n`; a line is blank when it is only whitespace),
//! in this order (`fineweb_quality:<rule>`, with the measured ratio):
//! - `empty`: no non-blank line;
//! - `line_punct_ratio`: fraction of lines whose last character is a terminal punctuation mark
//!   (`stop_chars`; the line is not stripped) below `line_punct_thr` (unless it is 0 and
//!   `line_punct_exclude_zero`);
//! - `short_line_ratio`: fraction of lines of at most `short_line_length` code points above
//!   `short_line_thr`;
//! - `char_dup_ratio`: code points of lines that repeat an earlier line, over the text's code
//!   points without `\n`, above `char_duplicates_ratio`;
//! - `list_ratio`: `\n` characters per word (spaCy tokens) above `new_line_ratio`.
//!
//! # Why
//! FineWeb (Penedo et al. 2024) added these after ablations: they remove lists, menus and pages
//! of repeated lines that the Gopher and C4 rules let through, and improved downstream scores.
//!
//! # Source of each threshold
//! datatrove 0.10.1 `FineWebQualityFilter` defaults, as FineWeb ran it: 0.12, 0.67 of lines of
//! at most 30 code points, 0.01, 0.3; `stop_chars` defaults to datatrove's
//! `TERMINAL_PUNCTUATION` set.
//!
//! # Example
//! ```
//! use thresher_core::{Document, Outcome, StepConfig, StepCx};
//! use thresher_filters::FineWebQualityConfig;
//!
//! let step = FineWebQualityConfig::default().build().unwrap();
//! match step.process(Document::new("d", "Home\nAbout us\nContact\nShop"), &mut StepCx::default()) {
//!     Outcome::Reject { reason, .. } => assert_eq!(reason.code, "fineweb_quality:line_punct_ratio"),
//!     _ => panic!("expected a rejection"),
//! }
//! ```

use serde::{Deserialize, Serialize};
use std::ops::ControlFlow;
use thresher_core::check::{check_fraction, check_non_negative};

use thresher_core::{
    Document, Error, Filter, Outcome, Reason, Result, Rules, Step, StepConfig, StepCx,
};

const STEP: &str = "fineweb_quality";

use crate::analysis::analysis;
use crate::dup::find_duplicates;
use crate::pychar;

/// Recipe parameters of `fineweb_quality` (defaults: datatrove 0.10.1's).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct FineWebQualityConfig {
    /// Minimum fraction of lines ending with a terminal mark.
    pub line_punct_thr: f64,
    /// Do not apply `line_punct_thr` to pages where no line ends with a mark.
    pub line_punct_exclude_zero: bool,
    /// The line-end marks (strings); default: datatrove's `TERMINAL_PUNCTUATION`.
    pub stop_chars: Option<Vec<String>>,
    /// Maximum fraction of short lines.
    pub short_line_thr: f64,
    /// A line of at most this many code points is short.
    pub short_line_length: usize,
    /// Maximum fraction of characters in repeated lines.
    pub char_duplicates_ratio: f64,
    /// Maximum number of `\n` per word.
    pub new_line_ratio: f64,
}

impl Default for FineWebQualityConfig {
    fn default() -> Self {
        FineWebQualityConfig {
            line_punct_thr: 0.12,
            line_punct_exclude_zero: false,
            stop_chars: None,
            short_line_thr: 0.67,
            short_line_length: 30,
            char_duplicates_ratio: 0.01,
            new_line_ratio: 0.3,
        }
    }
}

impl StepConfig for FineWebQualityConfig {
    /// Line fractions within [0, 1], `new_line_ratio` (per word) at least 0, and line-end
    /// marks that are not empty (an empty list makes every page fail `line_punct_thr`, an
    /// empty mark matches every line).
    fn validate(&self) -> Result<()> {
        for (key, v) in [
            ("line_punct_thr", self.line_punct_thr),
            ("short_line_thr", self.short_line_thr),
            ("char_duplicates_ratio", self.char_duplicates_ratio),
        ] {
            check_fraction(STEP, key, v)?;
        }
        check_non_negative(STEP, "new_line_ratio", self.new_line_ratio)?;
        if let Some(marks) = &self.stop_chars {
            if marks.is_empty() || marks.iter().any(String::is_empty) {
                return Err(Error::config(
                    STEP,
                    "`stop_chars` must list non-empty marks (leave it out for the default set)",
                ));
            }
        }
        Ok(())
    }

    fn build(self) -> Result<Box<dyn Step>> {
        Ok(Box::new(FineWebQuality::new(self)?))
    }
}

/// The `fineweb_quality` step; see the module documentation.
#[derive(Debug, Clone)]
pub struct FineWebQuality {
    cfg: FineWebQualityConfig,
}

impl FineWebQuality {
    /// Validates the parameters (see [`FineWebQualityConfig::validate`]).
    pub fn new(cfg: FineWebQualityConfig) -> Result<Self> {
        cfg.validate()?;
        Ok(FineWebQuality { cfg })
    }

    fn ends_with_stop(&self, line: &str) -> bool {
        match &self.cfg.stop_chars {
            None => line
                .chars()
                .next_back()
                .is_some_and(pychar::is_terminal_punct),
            Some(marks) => marks.iter().any(|m| line.ends_with(m.as_str())),
        }
    }

    /// The rule that rejects `doc` and its measured value, or `None` to keep it.
    pub fn check(&self, doc: &mut Document) -> Option<Reason> {
        Rules::verdict(self, doc, &mut StepCx::default()).unwrap_or(None)
    }
}

impl Filter for FineWebQuality {
    fn judge(&self, doc: &mut Document, _cx: &mut StepCx, rules: &mut Rules) -> ControlFlow<()> {
        let c = &self.cfg;
        let text = doc.text();
        let (mut n, mut punct, mut short) = (0usize, 0usize, 0usize);
        // The non-blank lines (for the duplicate rule) and the number of `\n`.
        let mut lines = Vec::new();
        let mut newlines = 0usize;
        for line in pychar::split_lf(text) {
            newlines += 1;
            if pychar::strip(line).is_empty() {
                continue;
            }
            lines.push(line);
            n += 1;
            punct += usize::from(self.ends_with_stop(line));
            // A line of at most `short_line_length` bytes is short whatever its code points.
            short += usize::from(
                line.len() <= c.short_line_length || pychar::char_len(line) <= c.short_line_length,
            );
        }
        rules.rule("non_blank_lines", n, n == 0, "fineweb_quality:empty")?;
        if n == 0 {
            // Every other rule is per line.
            return ControlFlow::Break(());
        }
        let ratio = punct as f64 / n as f64;
        rules.rule(
            "line_punct_ratio",
            ratio,
            ratio < c.line_punct_thr && !(ratio == 0.0 && c.line_punct_exclude_zero),
            "fineweb_quality:line_punct_ratio",
        )?;
        let ratio = short as f64 / n as f64;
        rules.rule(
            "short_line_ratio",
            ratio,
            ratio > c.short_line_thr,
            "fineweb_quality:short_line_ratio",
        )?;
        // `split_lf` yields one piece more than there are `\n`.
        let newlines = newlines - 1;
        let (_, dup_chars) = find_duplicates(lines.iter().copied(), lines.len());
        let an = analysis(doc);
        let text = doc.text();
        // Non-blank lines exist, so the text has code points other than `\n`.
        let ratio = dup_chars as f64 / (an.char_len(text) - newlines).max(1) as f64;
        rules.rule(
            "char_dup_ratio",
            ratio,
            ratio > c.char_duplicates_ratio,
            "fineweb_quality:char_dup_ratio",
        )?;
        let n_words = an.word_count(text);
        let ratio = newlines as f64 / n_words.max(1) as f64;
        rules.rule(
            "list_ratio",
            ratio,
            ratio > c.new_line_ratio,
            "fineweb_quality:list_ratio",
        )
    }
}

impl Step for FineWebQuality {
    fn name(&self) -> &str {
        "fineweb_quality"
    }

    fn process(&self, doc: Document, cx: &mut StepCx) -> Outcome {
        Rules::filter().run(self, doc, cx, "fineweb_quality")
    }

    fn as_filter(&self) -> Option<&dyn Filter> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(text: &str) -> Option<String> {
        let f = FineWebQuality::new(FineWebQualityConfig::default()).unwrap();
        f.check(&mut Document::new("t", text))
            .map(|r| r.code.into_owned())
    }

    #[test]
    fn rules() {
        assert_eq!(verdict(" \n\t\n"), Some("fineweb_quality:empty".into()));
        let prose = "This is a long enough line of ordinary prose, ending well.";
        assert_eq!(verdict(prose), None);
        assert_eq!(
            verdict(&format!("{prose}\nok.\nyes.\nno.")),
            Some("fineweb_quality:short_line_ratio".into())
        );
        assert_eq!(
            verdict(&format!("{prose}\n{prose}")),
            Some("fineweb_quality:char_dup_ratio".into())
        );
        // Trailing space: the line does not end with a mark.
        assert_eq!(
            verdict(&format!("{prose} ")),
            Some("fineweb_quality:line_punct_ratio".into())
        );
    }

    fn refusal(r: Result<()>) -> String {
        match r {
            Err(Error::Config { message, .. }) => message,
            other => panic!("expected a config error, got {other:?}"),
        }
    }

    /// Issue 17: `line_punct_thr = 7.0`, a fraction above 1, rejected every document.
    #[test]
    fn line_punct_thr_above_one_is_refused() {
        let cfg = FineWebQualityConfig {
            line_punct_thr: 7.0,
            ..Default::default()
        };
        assert_eq!(
            refusal(cfg.validate()),
            "`line_punct_thr` = 7 must be within [0, 1]"
        );
        assert!(FineWebQuality::new(cfg).is_err());
    }

    #[test]
    fn negative_ratio_threshold_is_refused() {
        for cfg in [
            FineWebQualityConfig {
                short_line_thr: -0.67,
                ..Default::default()
            },
            FineWebQualityConfig {
                char_duplicates_ratio: -0.01,
                ..Default::default()
            },
            FineWebQualityConfig {
                new_line_ratio: -0.3,
                ..Default::default()
            },
        ] {
            assert!(cfg.validate().is_err(), "{cfg:?}");
        }
        // `\n` per word may exceed 1.
        let cfg = FineWebQualityConfig {
            new_line_ratio: 3.0,
            ..Default::default()
        };
        assert!(cfg.validate().is_ok());
    }

    #[test]
    fn empty_stop_chars_are_refused() {
        for marks in [vec![], vec![".".to_string(), String::new()]] {
            let cfg = FineWebQualityConfig {
                stop_chars: Some(marks),
                ..Default::default()
            };
            assert!(refusal(cfg.validate()).starts_with("`stop_chars`"));
        }
    }
}
