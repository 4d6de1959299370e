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

use serde::Deserialize;
use thresher_core::{Document, Error, Outcome, Reason, Result, Step, StepConfig, StepCx};

use crate::analysis::analysis;
use crate::dup::find_duplicates;
use crate::pychar;

/// Recipe parameters of `fineweb_quality` (defaults: datatrove 0.10.1's).
#[derive(Debug, Clone, PartialEq, Deserialize)]
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
    /// Validates the parameters.
    pub fn new(cfg: FineWebQualityConfig) -> Result<Self> {
        let f = [
            cfg.line_punct_thr,
            cfg.short_line_thr,
            cfg.char_duplicates_ratio,
            cfg.new_line_ratio,
        ];
        if f.iter().any(|x| !x.is_finite()) {
            return Err(Error::config(
                "fineweb_quality",
                "thresholds must be finite numbers",
            ));
        }
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
        if n == 0 {
            return Some(Reason::new("fineweb_quality:empty", 0));
        }
        let ratio = punct as f64 / n as f64;
        if ratio < c.line_punct_thr && !(ratio == 0.0 && c.line_punct_exclude_zero) {
            return Some(Reason::new("fineweb_quality:line_punct_ratio", ratio));
        }
        let ratio = short as f64 / n as f64;
        if ratio > c.short_line_thr {
            return Some(Reason::new("fineweb_quality:short_line_ratio", ratio));
        }
        // `split_lf` yields one piece more than there are `\n`.
        let newlines = newlines - 1;
        let (_, dup_chars) = find_duplicates(lines.iter().copied(), lines.len());
        let an = analysis(doc);
        let text = doc.text();
        // Non-blank lines exist, so the text has code points other than `\n`.
        let ratio = dup_chars as f64 / (an.char_len(text) - newlines).max(1) as f64;
        if ratio > c.char_duplicates_ratio {
            return Some(Reason::new("fineweb_quality:char_dup_ratio", ratio));
        }
        let n_words = an.word_count(text);
        let ratio = newlines as f64 / n_words.max(1) as f64;
        if ratio > c.new_line_ratio {
            return Some(Reason::new("fineweb_quality:list_ratio", ratio));
        }
        None
    }
}

impl Step for FineWebQuality {
    fn name(&self) -> &str {
        "fineweb_quality_v1"
    }

    fn process(&self, mut doc: Document, _cx: &mut StepCx) -> Outcome {
        let reason = self.check(&mut doc);
        Outcome::keep_unless(doc, reason)
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
}
