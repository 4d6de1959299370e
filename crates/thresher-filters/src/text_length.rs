//! `text_length`: drops documents whose text is shorter or longer than given bounds, in
//! characters.
//!
//! # What it does
//! Counts the text's code points (Python's `len(text)`) and rejects a document below
//! `min_chars` as `text_length:too_short` or above `max_chars` as `text_length:too_long`; the
//! value is the count. Both bounds are inclusive (a text of exactly `min_chars` passes).
//!
//! # Why
//! Very short pages carry little text to learn from; very long ones are often dumps, logs or
//! concatenated pages. Teams set both bounds before the costlier filters run.
//!
//! # Source of each threshold
//! datatrove 0.10.1 has no length filter. This mirrors data-juicer's `text_length_filter`
//! (`data_juicer/ops/filter/text_length_filter.py`: `min_len <= len(text) <= max_len`,
//! defaults `min_len = 10`, `max_len = sys.maxsize`, i.e. no upper bound) and dolma's
//! `char_length_v1` tagger, which measures the same `len(text)`.
//!
//! # Example
//! ```
//! use thresher_core::{Document, Outcome, StepConfig, StepCx};
//! use thresher_filters::TextLengthConfig;
//!
//! let step = TextLengthConfig { min_chars: 5, max_chars: Some(8) }.build().unwrap();
//! let mut cx = StepCx::default();
//! assert!(matches!(step.process(Document::new("a", "ça va"), &mut cx), Outcome::Keep(_)));
//! let Outcome::Reject { reason, .. } = step.process(Document::new("b", "ok"), &mut cx) else {
//!     panic!()
//! };
//! assert_eq!((&*reason.code, reason.value.as_u64()), ("text_length:too_short", Some(2)));
//! ```

use serde::{Deserialize, Serialize};
use std::ops::ControlFlow;
use thresher_core::check::check_min_max;

use thresher_core::{Document, Filter, Outcome, Result, Rules, Step, StepConfig, StepCx};

use crate::analysis::analysis;

/// Recipe parameters of `text_length` (defaults: data-juicer's `text_length_filter`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct TextLengthConfig {
    /// Fewest characters (code points) a kept text has.
    pub min_chars: u64,
    /// Most characters a kept text has; unset: no upper bound.
    pub max_chars: Option<u64>,
}

impl Default for TextLengthConfig {
    fn default() -> Self {
        TextLengthConfig {
            min_chars: 10,
            max_chars: None,
        }
    }
}

impl StepConfig for TextLengthConfig {
    /// `min_chars` is not above `max_chars`.
    fn validate(&self) -> Result<()> {
        match self.max_chars {
            Some(hi) => check_min_max("text_length", "min_chars", self.min_chars, "max_chars", hi),
            None => Ok(()),
        }
    }

    fn build(self) -> Result<Box<dyn Step>> {
        self.validate()?;
        Ok(Box::new(TextLength { cfg: self }))
    }
}

/// The `text_length` step; see the module documentation.
#[derive(Debug)]
pub struct TextLength {
    cfg: TextLengthConfig,
}

impl Step for TextLength {
    fn name(&self) -> &str {
        "text_length"
    }

    fn process(&self, doc: Document, cx: &mut StepCx) -> Outcome {
        Rules::filter().run(self, doc, cx, "text_length")
    }

    fn as_filter(&self) -> Option<&dyn Filter> {
        Some(self)
    }
}

impl Filter for TextLength {
    fn judge(&self, doc: &mut Document, _cx: &mut StepCx, rules: &mut Rules) -> ControlFlow<()> {
        // The shared analysis: a later filter that counts characters does not count again.
        let n = analysis(doc).char_len(doc.text()) as u64;
        let short = n < self.cfg.min_chars;
        let long = self.cfg.max_chars.is_some_and(|hi| n > hi);
        let code = if short {
            "text_length:too_short"
        } else {
            "text_length:too_long"
        };
        rules.rule("chars", n, short || long, code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(step: &dyn Step, text: &str) -> Option<String> {
        match step.process(Document::new("d", text), &mut StepCx::default()) {
            Outcome::Keep(_) => None,
            Outcome::Reject { reason, .. } => Some(reason.code.into_owned()),
            Outcome::Error { error, .. } => panic!("{error}"),
        }
    }

    #[test]
    fn bounds_are_inclusive_code_points() {
        let step = TextLengthConfig {
            min_chars: 3,
            max_chars: Some(4),
        }
        .build()
        .unwrap();
        assert_eq!(code(&*step, "ab").as_deref(), Some("text_length:too_short"));
        assert_eq!(code(&*step, "абв"), None); // 3 code points, 6 bytes
        assert_eq!(code(&*step, "😀😀😀😀"), None);
        assert_eq!(
            code(&*step, "abcde").as_deref(),
            Some("text_length:too_long")
        );
    }

    #[test]
    fn defaults_and_validation() {
        let step = TextLengthConfig::default().build().unwrap();
        assert_eq!(
            code(&*step, "123456789").as_deref(),
            Some("text_length:too_short")
        );
        assert_eq!(code(&*step, &"x".repeat(1_000_000)), None);
        let bad = TextLengthConfig {
            min_chars: 5,
            max_chars: Some(4),
        };
        assert!(bad.validate().is_err());
    }
}
