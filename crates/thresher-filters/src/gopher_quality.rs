//! `gopher_quality`: Gopher's document quality rules (length, word shape, symbols, stop words).
//!
//! # What it does
//! On the document's words (datatrove's `split_into_words`: spaCy's English tokens), in this
//! order, the first rule that fires rejects the document (`gopher_quality:<rule>`, with the
//! measured value):
//! - `gopher_short_doc` / `gopher_long_doc`: fewer than `min_doc_words` / more than
//!   `max_doc_words` words that are not made only of punctuation ("non-symbol words");
//! - `gopher_below_avg_threshold` / `gopher_above_avg_threshold`: mean length of the non-symbol
//!   words outside `min_avg_word_length..=max_avg_word_length`;
//! - `gopher_too_many_hashes` / `gopher_too_many_ellipsis`: `#` characters, or `...` and `…`
//!   occurrences, per word above `max_symbol_word_ratio`;
//! - `gopher_too_many_bullets`: lines (Python `splitlines`) starting with `•` or `-` after
//!   leading whitespace above `max_bullet_lines_ratio`;
//! - `gopher_too_many_end_ellipsis`: lines ending with `...` or `…` above
//!   `max_ellipsis_lines_ratio`;
//! - `gopher_below_alpha_threshold`: words with at least one letter below
//!   `max_non_alpha_words_ratio` (datatrove's name; it is a minimum);
//! - `gopher_enough_stop_words`: fewer than `min_stop_words` distinct `stop_words` among the
//!   words (case-sensitive, as datatrove).
//!
//! # Why
//! These rules (Rae et al. 2021, "Gopher", appendix A) remove machine-generated tables, lists,
//! code and word salad while keeping natural prose, at the cost of a few counts per document.
//!
//! # Source of each threshold
//! datatrove 0.10.1 `GopherQualityFilter` defaults, from the Gopher paper: 50..100,000 words,
//! mean word length 3..10, 0.1 symbols per word, 90 % bullet lines, 30 % ellipsis lines, 80 %
//! alphabetic words, 2 of the stop words "the be to of and that have with". As in datatrove, a
//! threshold of 0 switches its rule off. A document without any word cannot be measured
//! (datatrove divides by zero there); it is rejected as `gopher_short_doc`.
//!
//! # Example
//! ```
//! use thresher_core::{Document, Outcome, StepConfig, StepCx};
//! use thresher_filters::GopherQualityConfig;
//!
//! let step = GopherQualityConfig::default().build().unwrap();
//! match step.process(Document::new("d", "Too short to be a page."), &mut StepCx::default()) {
//!     Outcome::Reject { reason, .. } => assert_eq!(reason.code, "gopher_quality:gopher_short_doc"),
//!     _ => panic!("expected a rejection"),
//! }
//! ```

use serde::{Deserialize, Serialize};
use std::ops::ControlFlow;
use thresher_core::check::{check_fraction, check_min_max, check_non_negative};

use thresher_core::{
    Document, Error, Filter, Outcome, Reason, Result, Rules, Step, StepConfig, StepCx,
};

const STEP: &str = "gopher_quality";

use crate::analysis::analysis;
use crate::pychar;

/// [`BYTE_FLAGS`]: a byte of a multi-byte character, an ASCII character that is not datatrove
/// punctuation, an ASCII letter.
const NON_ASCII: u8 = 1;
const NOT_PUNCT: u8 = 2;
const ALPHA: u8 = 4;

static BYTE_FLAGS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = if b >= 0x80 {
            NON_ASCII
        } else {
            let mut f = 0;
            if !pychar::ASCII_DT_PUNCT[b] {
                f |= NOT_PUNCT;
            }
            if (b as u8).is_ascii_alphabetic() {
                f |= ALPHA;
            }
            f
        };
        b += 1;
    }
    t
};

/// Recipe parameters of `gopher_quality` (defaults: datatrove 0.10.1's; 0 switches a rule off).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct GopherQualityConfig {
    /// Minimum number of non-symbol words.
    pub min_doc_words: usize,
    /// Maximum number of non-symbol words.
    pub max_doc_words: usize,
    /// Minimum mean length of non-symbol words, in code points.
    pub min_avg_word_length: f64,
    /// Maximum mean length of non-symbol words, in code points.
    pub max_avg_word_length: f64,
    /// Maximum `#` per word, and maximum ellipses per word.
    pub max_symbol_word_ratio: f64,
    /// Maximum fraction of lines starting with a bullet (`•` or `-`).
    pub max_bullet_lines_ratio: f64,
    /// Maximum fraction of lines ending with an ellipsis (`...` or `…`).
    pub max_ellipsis_lines_ratio: f64,
    /// Minimum fraction of words containing a letter (datatrove's name).
    pub max_non_alpha_words_ratio: f64,
    /// Minimum number of distinct stop words present.
    pub min_stop_words: usize,
    /// The stop words (matched exactly, case-sensitive).
    pub stop_words: Vec<String>,
}

impl Default for GopherQualityConfig {
    fn default() -> Self {
        GopherQualityConfig {
            min_doc_words: 50,
            max_doc_words: 100_000,
            min_avg_word_length: 3.0,
            max_avg_word_length: 10.0,
            max_symbol_word_ratio: 0.1,
            max_bullet_lines_ratio: 0.9,
            max_ellipsis_lines_ratio: 0.3,
            max_non_alpha_words_ratio: 0.8,
            min_stop_words: 2,
            stop_words: ["the", "be", "to", "of", "and", "that", "have", "with"]
                .map(String::from)
                .to_vec(),
        }
    }
}

impl StepConfig for GopherQualityConfig {
    /// Line fractions within [0, 1], per-word ratios and word lengths at least 0, each minimum
    /// at most its maximum (when both are on), and no more stop words required than listed.
    fn validate(&self) -> Result<()> {
        for (key, v) in [
            ("min_avg_word_length", self.min_avg_word_length),
            ("max_avg_word_length", self.max_avg_word_length),
            // `#` and ellipses per word: may exceed 1.
            ("max_symbol_word_ratio", self.max_symbol_word_ratio),
        ] {
            check_non_negative(STEP, key, v)?;
        }
        for (key, v) in [
            ("max_bullet_lines_ratio", self.max_bullet_lines_ratio),
            ("max_ellipsis_lines_ratio", self.max_ellipsis_lines_ratio),
            ("max_non_alpha_words_ratio", self.max_non_alpha_words_ratio),
        ] {
            check_fraction(STEP, key, v)?;
        }
        // 0 switches a bound off, so the pair is only checked when both are on.
        if self.min_doc_words != 0 && self.max_doc_words != 0 {
            check_min_max(
                STEP,
                "min_doc_words",
                self.min_doc_words,
                "max_doc_words",
                self.max_doc_words,
            )?;
        }
        if self.min_avg_word_length != 0.0 && self.max_avg_word_length != 0.0 {
            check_min_max(
                STEP,
                "min_avg_word_length",
                self.min_avg_word_length,
                "max_avg_word_length",
                self.max_avg_word_length,
            )?;
        }
        let mut distinct: Vec<&String> = self.stop_words.iter().collect();
        distinct.sort();
        distinct.dedup();
        if distinct.len() > 64 {
            return Err(Error::config(
                STEP,
                "`stop_words`: at most 64 distinct stop words",
            ));
        }
        if self.min_stop_words > distinct.len() {
            return Err(Error::config(
                STEP,
                format!(
                    "`min_stop_words` = {} is more than the {} distinct `stop_words`: every \
                     document would be rejected",
                    self.min_stop_words,
                    distinct.len()
                ),
            ));
        }
        Ok(())
    }

    fn build(self) -> Result<Box<dyn Step>> {
        Ok(Box::new(GopherQuality::new(self)?))
    }
}

/// The `gopher_quality` step; see the module documentation.
#[derive(Debug, Clone)]
pub struct GopherQuality {
    cfg: GopherQualityConfig,
    /// Distinct stop words, sorted, at most 64 so a document's hits fit a bit set.
    stop_words: Vec<String>,
    /// Byte length of the longest stop word: longer words need no lookup.
    max_stop_len: usize,
    /// Bit i set when stop word i starts with that byte / has that byte length.
    first_byte_mask: [u64; 256],
    len_mask: Vec<u64>,
}

impl GopherQuality {
    /// Validates the parameters (see [`GopherQualityConfig::validate`]).
    pub fn new(cfg: GopherQualityConfig) -> Result<Self> {
        cfg.validate()?;
        let mut stop_words = cfg.stop_words.clone();
        stop_words.sort();
        stop_words.dedup();
        let max_stop_len = stop_words.iter().map(String::len).max().unwrap_or(0);
        let mut first_byte_mask = [0u64; 256];
        let mut len_mask = vec![0u64; max_stop_len + 1];
        for (i, w) in stop_words.iter().enumerate() {
            if let Some(&b) = w.as_bytes().first() {
                first_byte_mask[usize::from(b)] |= 1 << i;
            }
            len_mask[w.len()] |= 1 << i;
        }
        Ok(GopherQuality {
            cfg,
            stop_words,
            max_stop_len,
            first_byte_mask,
            len_mask,
        })
    }

    /// The rule that rejects `doc` and its measured value, or `None` to keep it.
    pub fn check(&self, doc: &mut Document) -> Option<Reason> {
        Rules::verdict(self, doc, &mut StepCx::default()).unwrap_or(None)
    }
}

impl Filter for GopherQuality {
    fn judge(&self, doc: &mut Document, _cx: &mut StepCx, rules: &mut Rules) -> ControlFlow<()> {
        let c = &self.cfg;
        let all = rules.annotating();
        let an = analysis(doc);
        let text = doc.text();
        let words = an.words(text);
        let n_words = words.len();
        let vocab = an.vocab(text);
        let count_stop_words = c.min_stop_words != 0 || all;

        // Each distinct word is measured once and counted as often as it occurs.
        let (mut n_non_symbol, mut non_symbol_chars, mut n_alpha) = (0usize, 0usize, 0usize);
        let mut stop_hits = 0u64;
        for ((&first, &count), &chars) in vocab.first.iter().zip(&vocab.count).zip(&vocab.chars) {
            let (a, b) = words[first as usize];
            let w = &text[a..b];
            let count = count as usize;
            // One pass over the bytes for ASCII words (almost all), code points otherwise.
            let flags = w.bytes().fold(0u8, |f, b| f | BYTE_FLAGS[usize::from(b)]);
            let (mut non_symbol, mut alpha) = (flags & NOT_PUNCT != 0, flags & ALPHA != 0);
            if flags & NON_ASCII != 0 {
                non_symbol = w.chars().any(|ch| !pychar::is_datatrove_punct(ch));
                alpha = w.chars().any(pychar::is_alpha);
            }
            if non_symbol {
                n_non_symbol += count;
                non_symbol_chars += count * chars as usize;
            }
            if alpha {
                n_alpha += count;
            }
            if count_stop_words && w.len() <= self.max_stop_len {
                // Only stop words with the word's first byte and length can match.
                let first = w
                    .as_bytes()
                    .first()
                    .map_or(0, |&b| self.first_byte_mask[usize::from(b)]);
                let mut cands = first & self.len_mask[w.len()] & !stop_hits;
                while cands != 0 {
                    let i = cands.trailing_zeros() as usize;
                    cands &= cands - 1;
                    if self.stop_words[i] == w {
                        stop_hits |= 1 << i;
                    }
                }
            }
        }

        if n_words == 0 {
            // Nothing else can be measured (every ratio is per word).
            rules.rule(
                "non_symbol_words",
                0,
                true,
                "gopher_quality:gopher_short_doc",
            )?;
            return ControlFlow::Break(());
        }
        let (short, long) = (
            c.min_doc_words != 0 && n_non_symbol < c.min_doc_words,
            c.max_doc_words != 0 && n_non_symbol > c.max_doc_words,
        );
        rules.rule(
            "non_symbol_words",
            n_non_symbol,
            short || long,
            if short {
                "gopher_quality:gopher_short_doc"
            } else {
                "gopher_quality:gopher_long_doc"
            },
        )?;
        // numpy's mean of no values is NaN, which passes both bounds (no value to annotate).
        if n_non_symbol > 0 {
            let avg = non_symbol_chars as f64 / n_non_symbol as f64;
            let below = c.min_avg_word_length != 0.0 && avg < c.min_avg_word_length;
            let above = c.max_avg_word_length != 0.0 && avg > c.max_avg_word_length;
            rules.rule(
                "mean_word_length",
                avg,
                below || above,
                if below {
                    "gopher_quality:gopher_below_avg_threshold"
                } else {
                    "gopher_quality:gopher_above_avg_threshold"
                },
            )?;
        }
        let max = c.max_symbol_word_ratio;
        if max != 0.0 || all {
            let ratio = memchr::memchr_iter(b'#', text.as_bytes()).count() as f64 / n_words as f64;
            rules.rule(
                "hash_word_ratio",
                ratio,
                max != 0.0 && ratio > max,
                "gopher_quality:gopher_too_many_hashes",
            )?;
            // Non-overlapping occurrences, as Python's `str.count`.
            let ellipses = memchr::memmem::find_iter(text.as_bytes(), "...").count()
                + memchr::memmem::find_iter(text.as_bytes(), "…").count();
            let ratio = ellipses as f64 / n_words as f64;
            rules.rule(
                "ellipsis_word_ratio",
                ratio,
                max != 0.0 && ratio > max,
                "gopher_quality:gopher_too_many_ellipsis",
            )?;
        }
        let (max_bullets, max_ellipsis) = (c.max_bullet_lines_ratio, c.max_ellipsis_lines_ratio);
        if max_bullets != 0.0 || max_ellipsis != 0.0 || all {
            let (mut n_lines, mut bullets, mut ellipsis) = (0usize, 0usize, 0usize);
            for line in pychar::splitlines(text) {
                n_lines += 1;
                let l = pychar::lstrip(line);
                bullets += usize::from(l.starts_with('•') || l.starts_with('-'));
                let r = pychar::rstrip(line);
                ellipsis += usize::from(r.ends_with("...") || r.ends_with('…'));
            }
            // A text with words has at least one line.
            let n_lines = n_lines.max(1) as f64;
            let ratio = bullets as f64 / n_lines;
            rules.rule(
                "bullet_lines_ratio",
                ratio,
                max_bullets != 0.0 && ratio > max_bullets,
                "gopher_quality:gopher_too_many_bullets",
            )?;
            let ratio = ellipsis as f64 / n_lines;
            rules.rule(
                "end_ellipsis_lines_ratio",
                ratio,
                max_ellipsis != 0.0 && ratio > max_ellipsis,
                "gopher_quality:gopher_too_many_end_ellipsis",
            )?;
        }
        let ratio = n_alpha as f64 / n_words as f64;
        let min_alpha = c.max_non_alpha_words_ratio;
        rules.rule(
            "alpha_words_ratio",
            ratio,
            min_alpha != 0.0 && ratio < min_alpha,
            "gopher_quality:gopher_below_alpha_threshold",
        )?;
        if count_stop_words {
            let found = stop_hits.count_ones() as usize;
            rules.rule(
                "stop_words",
                found,
                c.min_stop_words != 0 && found < c.min_stop_words,
                "gopher_quality:gopher_enough_stop_words",
            )?;
        }
        ControlFlow::Continue(())
    }
}

impl Step for GopherQuality {
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

    fn verdict(cfg: GopherQualityConfig, text: &str) -> Option<String> {
        GopherQuality::new(cfg)
            .unwrap()
            .check(&mut Document::new("t", text))
            .map(|r| r.code.into_owned())
    }

    const PROSE: &str =
        "The quick brown fox jumps over the lazy dog and that is all there is to say \
        about the matter with which we are concerned today. ";

    #[test]
    fn rules() {
        let d = GopherQualityConfig::default;
        assert_eq!(
            verdict(d(), ""),
            Some("gopher_quality:gopher_short_doc".into())
        );
        assert_eq!(verdict(d(), &PROSE.repeat(3)), None);
        let hashes = format!("{} {}", PROSE.repeat(3), "#tag ".repeat(20));
        assert_eq!(
            verdict(d(), &hashes),
            Some("gopher_quality:gopher_too_many_hashes".into())
        );
        let bullets = format!("- {}", PROSE.repeat(3).replace(". ", ".\n- "));
        assert_eq!(
            verdict(d(), &bullets),
            Some("gopher_quality:gopher_too_many_bullets".into())
        );
        let no_stop =
            "Lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod. ".repeat(6);
        assert_eq!(
            verdict(d(), &no_stop),
            Some("gopher_quality:gopher_enough_stop_words".into())
        );
        let off = GopherQualityConfig {
            min_stop_words: 0,
            ..d()
        };
        assert_eq!(verdict(off, &no_stop), None);
        let digits = format!("{} {}", PROSE, "1234 5678 9012 3456 ".repeat(10));
        assert_eq!(
            verdict(d(), &digits),
            Some("gopher_quality:gopher_below_alpha_threshold".into())
        );
    }

    fn refusal(r: Result<()>) -> String {
        match r {
            Err(Error::Config { message, .. }) => message,
            other => panic!("expected a config error, got {other:?}"),
        }
    }

    /// Issue 17: `min_doc_words` above `max_doc_words` rejected every document.
    #[test]
    fn min_doc_words_above_max_doc_words_is_refused() {
        let cfg = GopherQualityConfig {
            min_doc_words: 200,
            max_doc_words: 100,
            ..Default::default()
        };
        assert!(
            refusal(cfg.validate()).starts_with("`min_doc_words` = 200 is above `max_doc_words`")
        );
        assert!(GopherQuality::new(cfg).is_err());
        // 0 switches the maximum off: no pair to check.
        let cfg = GopherQualityConfig {
            min_doc_words: 200,
            max_doc_words: 0,
            ..Default::default()
        };
        assert!(cfg.validate().is_ok());
    }

    #[test]
    fn min_avg_word_length_above_max_is_refused() {
        let cfg = GopherQualityConfig {
            min_avg_word_length: 12.0,
            ..Default::default()
        };
        assert!(refusal(cfg.validate()).starts_with("`min_avg_word_length` = 12 is above"));
    }

    /// Issue 17: a negative ratio threshold rejected every document.
    #[test]
    fn negative_ratio_threshold_is_refused() {
        for cfg in [
            GopherQualityConfig {
                max_symbol_word_ratio: -0.1,
                ..Default::default()
            },
            GopherQualityConfig {
                max_bullet_lines_ratio: -0.9,
                ..Default::default()
            },
            GopherQualityConfig {
                max_non_alpha_words_ratio: 1.8,
                ..Default::default()
            },
        ] {
            assert!(cfg.validate().is_err(), "{cfg:?}");
        }
        // Hashes per word may exceed 1.
        let cfg = GopherQualityConfig {
            max_symbol_word_ratio: 2.0,
            ..Default::default()
        };
        assert!(cfg.validate().is_ok());
    }

    #[test]
    fn more_stop_words_required_than_listed_is_refused() {
        let cfg = GopherQualityConfig {
            min_stop_words: 3,
            stop_words: vec!["the".into(), "of".into(), "the".into()],
            ..Default::default()
        };
        assert!(refusal(cfg.validate()).starts_with("`min_stop_words` = 3"));
    }
}
