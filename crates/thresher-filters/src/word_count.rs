//! `word_count`: drops documents with fewer or more words than given bounds.
//!
//! # What it does
//! Counts the text's words and rejects a document below `min_words` as `word_count:too_few`
//! or above `max_words` as `word_count:too_many`; the value is the count. Both bounds are
//! inclusive. Words are, with `words = "datatrove"` (default), the tokens of datatrove's
//! `split_into_words` (spaCy's English rules, whitespace dropped: the same words the Gopher
//! filters count, shared with them so a chain tokenizes once), or with `words = "whitespace"`
//! the parts of Python's `text.split()` (dolma's and data-juicer's whitespace words).
//!
//! # Why
//! A word bound is the usual companion of a character bound: it is what "too short to be a
//! document" means to a reader, independent of word length and script.
//!
//! # Source of each threshold
//! datatrove 0.10.1 has no word-count filter (its Gopher filter bounds non-symbol words). The
//! bounds mirror data-juicer's `words_num_filter` (`data_juicer/ops/filter/words_num_filter.py`:
//! `min_num <= words <= max_num`, defaults `min_num = 10`, `max_num = sys.maxsize`); its
//! default word split is on whitespace, which `words = "whitespace"` gives (without its
//! stripping of special characters from each word).
//!
//! # Example
//! ```
//! use thresher_core::{Document, Outcome, StepConfig, StepCx};
//! use thresher_filters::WordCountConfig;
//!
//! let step = WordCountConfig { min_words: 3, ..Default::default() }.build().unwrap();
//! let mut cx = StepCx::default();
//! assert!(matches!(step.process(Document::new("a", "Hi, you."), &mut cx), Outcome::Keep(_)));
//! let Outcome::Reject { reason, .. } = step.process(Document::new("b", "Hi"), &mut cx) else {
//!     panic!()
//! };
//! assert_eq!(&*reason.code, "word_count:too_few");
//! ```

use serde::{Deserialize, Serialize};
use std::ops::ControlFlow;
use thresher_core::check::check_min_max;

use thresher_core::{Document, Filter, Outcome, Result, Rules, Step, StepConfig, StepCx};

use crate::analysis::analysis;
use crate::pychar;

/// What counts as a word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum WordSplit {
    /// datatrove's `split_into_words` (spaCy's English tokenizer rules).
    Datatrove,
    /// Python's `text.split()`: runs of non-whitespace.
    Whitespace,
}

/// Recipe parameters of `word_count` (defaults: data-juicer's `words_num_filter`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct WordCountConfig {
    /// Fewest words a kept text has.
    pub min_words: u64,
    /// Most words a kept text has; unset: no upper bound.
    pub max_words: Option<u64>,
    /// How words are split: "datatrove" (spaCy rules, as the Gopher filters) or "whitespace".
    pub words: WordSplit,
}

impl Default for WordCountConfig {
    fn default() -> Self {
        WordCountConfig {
            min_words: 10,
            max_words: None,
            words: WordSplit::Datatrove,
        }
    }
}

impl StepConfig for WordCountConfig {
    /// `min_words` is not above `max_words`.
    fn validate(&self) -> Result<()> {
        match self.max_words {
            Some(hi) => check_min_max("word_count", "min_words", self.min_words, "max_words", hi),
            None => Ok(()),
        }
    }

    fn build(self) -> Result<Box<dyn Step>> {
        self.validate()?;
        Ok(Box::new(WordCount { cfg: self }))
    }
}

/// The `word_count` step; see the module documentation.
#[derive(Debug)]
pub struct WordCount {
    cfg: WordCountConfig,
}

impl Step for WordCount {
    fn name(&self) -> &str {
        "word_count"
    }

    fn process(&self, doc: Document, cx: &mut StepCx) -> Outcome {
        Rules::filter().run(self, doc, cx, "word_count")
    }

    fn as_filter(&self) -> Option<&dyn Filter> {
        Some(self)
    }
}

impl Filter for WordCount {
    fn judge(&self, doc: &mut Document, _cx: &mut StepCx, rules: &mut Rules) -> ControlFlow<()> {
        let n = match self.cfg.words {
            WordSplit::Datatrove => analysis(doc).word_count(doc.text()),
            WordSplit::Whitespace => pychar::split_whitespace(doc.text()).count(),
        } as u64;
        let few = n < self.cfg.min_words;
        let many = self.cfg.max_words.is_some_and(|hi| n > hi);
        let code = if few {
            "word_count:too_few"
        } else {
            "word_count:too_many"
        };
        rules.rule("words", n, few || many, code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(cfg: WordCountConfig, text: &str) -> (String, u64) {
        let step = cfg.build().unwrap();
        match step.process(Document::new("d", text), &mut StepCx::default()) {
            Outcome::Reject { reason, .. } => {
                (reason.code.into_owned(), reason.value.as_u64().unwrap())
            }
            _ => ("keep".into(), 0),
        }
    }

    #[test]
    fn both_splits_count_their_words() {
        // spaCy rules: "Hello", ",", "world", "!" ; whitespace: "Hello," "world!".
        let text = "Hello,\u{a0}world!";
        let many = |words| WordCountConfig {
            min_words: 100,
            max_words: None,
            words,
        };
        assert_eq!(value(many(WordSplit::Datatrove), text).1, 4);
        assert_eq!(value(many(WordSplit::Whitespace), text).1, 2);
    }

    #[test]
    fn bounds_are_inclusive() {
        let cfg = |lo, hi| WordCountConfig {
            min_words: lo,
            max_words: Some(hi),
            words: WordSplit::Whitespace,
        };
        assert_eq!(value(cfg(2, 3), "a b").0, "keep");
        assert_eq!(value(cfg(2, 3), "a b c").0, "keep");
        assert_eq!(value(cfg(2, 3), "a").0, "word_count:too_few");
        assert_eq!(
            value(cfg(2, 3), "a b c d"),
            ("word_count:too_many".into(), 4)
        );
        assert!(cfg(4, 3).validate().is_err());
    }
}
