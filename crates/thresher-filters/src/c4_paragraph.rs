//! `c4_paragraph`: drops documents without at least three long "paragraphs" (mC4's rule).
//!
//! # What it does
//! Splits the text at line feeds (`text.split("\n")`) and counts the lines of at least
//! `min_paragraph_chars` characters (code points, Python's `len`). A document with fewer than
//! `min_paragraphs` such lines is rejected as `c4_paragraph:too_few_paragraphs`; the value is
//! the number of long lines found. The text is never edited.
//!
//! datatrove writes the rule as "fewer than 3 lines, or the shortest of the 3 longest lines is
//! under 200 characters"; both say "fewer than 3 lines of 200 characters or more". Counting
//! stops at the `min_paragraphs`-th long line, and a line's characters are counted only when
//! it has at least `min_paragraph_chars` bytes (a code point is at least one byte), so most
//! lines cost one length comparison.
//!
//! # Why
//! mC4 used it on top of C4's line rules: pages made only of short lines (menus, lists, link
//! farms, product tables) have no prose worth keeping.
//!
//! # Source of each threshold
//! datatrove 0.10.1 `pipeline/filters/c4_filters.py`, `C4ParagraphFilter` (`min_paragraphs = 3`,
//! `min_paragraph_len = 200`, `line_delimiter = "\n"`, reason `"< 3 paragraphs"`), which cites
//! TensorFlow Datasets' `c4_utils.py` `paragraph_filter` (mC4). datatrove fixes both numbers
//! and always takes the 3 longest lines; here both are parameters, with mC4's meaning when
//! changed (`heapq.nlargest(min_paragraphs, ...)`).
//!
//! # Example
//! ```
//! use thresher_core::{Document, Outcome, StepConfig, StepCx};
//! use thresher_filters::C4ParagraphConfig;
//!
//! let step = C4ParagraphConfig::default().build().unwrap();
//! let mut cx = StepCx::default();
//! let long = "x".repeat(200);
//! let text = format!("{long}\nmenu\n{long}\n{long}");
//! assert!(matches!(step.process(Document::new("a", text), &mut cx), Outcome::Keep(_)));
//! let text = format!("{long}\n{long}\n{}", "y".repeat(199));
//! let Outcome::Reject { reason, .. } = step.process(Document::new("b", text), &mut cx) else {
//!     panic!()
//! };
//! assert_eq!((&*reason.code, reason.value.as_u64()), ("c4_paragraph:too_few_paragraphs", Some(2)));
//! ```

use serde::{Deserialize, Serialize};
use std::ops::ControlFlow;
use thresher_core::check::check_at_least;
use thresher_core::{Document, Filter, Outcome, Result, Rules, Step, StepConfig, StepCx};

use crate::pychar;

const STEP: &str = "c4_paragraph";

/// Recipe parameters of `c4_paragraph` (defaults: datatrove's `C4ParagraphFilter`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct C4ParagraphConfig {
    /// Fewest long lines ("paragraphs") a kept document has.
    pub min_paragraphs: usize,
    /// Characters (code points) a line needs to count as a paragraph.
    pub min_paragraph_chars: usize,
}

impl Default for C4ParagraphConfig {
    fn default() -> Self {
        C4ParagraphConfig {
            min_paragraphs: 3,
            min_paragraph_chars: 200,
        }
    }
}

impl StepConfig for C4ParagraphConfig {
    /// `min_paragraphs` is at least 1.
    fn validate(&self) -> Result<()> {
        check_at_least(STEP, "min_paragraphs", self.min_paragraphs as u64, 1)
    }

    fn build(self) -> Result<Box<dyn Step>> {
        self.validate()?;
        Ok(Box::new(C4Paragraph { cfg: self }))
    }
}

/// The `c4_paragraph` step; see the module documentation.
#[derive(Debug)]
pub struct C4Paragraph {
    cfg: C4ParagraphConfig,
}

impl C4Paragraph {
    /// The number of lines of at least `min_paragraph_chars` characters, counted up to
    /// `min_paragraphs` (enough to decide).
    pub fn long_lines(&self, text: &str) -> usize {
        self.count_long_lines(text, self.cfg.min_paragraphs)
    }

    /// Counts lines of at least `min_paragraph_chars` characters, stopping at `limit`.
    fn count_long_lines(&self, text: &str, limit: usize) -> usize {
        let min = self.cfg.min_paragraph_chars;
        let mut n = 0;
        for line in pychar::split_lf(text) {
            if line.len() >= min && pychar::char_len(line) >= min {
                n += 1;
                if n >= limit {
                    break;
                }
            }
        }
        n
    }
}

impl Step for C4Paragraph {
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

impl Filter for C4Paragraph {
    fn judge(&self, doc: &mut Document, _cx: &mut StepCx, rules: &mut Rules) -> ControlFlow<()> {
        // Filtering stops counting at the bound; annotating counts every long line.
        let limit = if rules.annotating() {
            usize::MAX
        } else {
            self.cfg.min_paragraphs
        };
        let n = self.count_long_lines(doc.text(), limit);
        rules.rule(
            "paragraphs",
            n as u64,
            n < self.cfg.min_paragraphs,
            "c4_paragraph:too_few_paragraphs",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept(step: &dyn Step, text: &str) -> bool {
        match step.process(Document::new("d", text), &mut StepCx::default()) {
            Outcome::Keep(_) => true,
            Outcome::Reject { .. } => false,
            Outcome::Error { error, .. } => panic!("{error}"),
        }
    }

    #[test]
    fn three_lines_of_200_code_points() {
        let step = C4ParagraphConfig::default().build().unwrap();
        let l200 = "é".repeat(200); // 400 bytes, 200 code points
        let l199 = "é".repeat(199);
        assert!(kept(&*step, &format!("{l200}\n{l200}\n{l200}")));
        assert!(!kept(&*step, &format!("{l200}\n{l200}\n{l199}")));
        assert!(!kept(&*step, &format!("{l200}\n{l200}")));
        assert!(!kept(&*step, ""));
        // Lines are cut at `\n` only: `\r` and U+2028 stay inside a line and count.
        let crlf = format!("{}\r", "a".repeat(199));
        assert!(kept(&*step, &format!("{crlf}\n{crlf}\n{crlf}")));
        let sep = format!("{}\u{2028}{}", "a".repeat(150), "b".repeat(49));
        assert!(kept(&*step, &format!("{sep}\n{sep}\n{sep}")));
        // Short lines in between do not matter.
        assert!(kept(
            &*step,
            &format!("menu\n{l200}\n\n\nhome\n{l200}\nx\n{l200}\n")
        ));
    }

    #[test]
    fn annotate_mode_counts_every_long_line() {
        let step = C4Paragraph {
            cfg: C4ParagraphConfig::default(),
        };
        let l200 = "a".repeat(200);
        let doc = Document::new("d", format!("{l200}\n{l200}\n{l200}\n{l200}\nshort"));
        let Outcome::Keep(doc) = Rules::annotate().run(&step, doc, &mut StepCx::default(), STEP)
        else {
            panic!()
        };
        assert_eq!(doc.metadata[STEP]["paragraphs"], 4);
        let doc = Document::new("d", "short");
        let Outcome::Keep(doc) = Rules::annotate().run(&step, doc, &mut StepCx::default(), STEP)
        else {
            panic!()
        };
        assert_eq!(doc.metadata[STEP]["paragraphs"], 0);
    }

    #[test]
    fn parameters() {
        let step = C4ParagraphConfig {
            min_paragraphs: 1,
            min_paragraph_chars: 5,
        }
        .build()
        .unwrap();
        assert!(kept(&*step, "abcde"));
        assert!(!kept(&*step, "abcd\nabc"));
        assert!(C4ParagraphConfig {
            min_paragraphs: 0,
            ..Default::default()
        }
        .validate()
        .is_err());
    }
}
