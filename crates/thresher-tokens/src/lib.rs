//! `token_count`: counts each document's tokens with a Hugging Face tokenizer.
//!
//! # What it does
//! Loads the `tokenizer.json` file given as `tokenizer` (the format Hugging Face's `tokenizers`
//! library saves, and that model repositories ship) and encodes each document's text with it,
//! special tokens added as the tokenizer's post-processor says (`add_special_tokens`); the
//! number of token ids, plus one when `count_eos_token`, is written to `metadata.token_count`.
//! The step is also a filter: a count below `min_tokens` or above `max_tokens` (both unset by
//! default) rejects the document as `token_count:too_few` / `token_count:too_many`. The run's
//! `stats.json` reports the total under the step (`tokens`). Nothing is downloaded: the file
//! must be on disk.
//!
//! # Why
//! Token counts are the unit of a training budget: teams report and cap corpora in tokens of
//! the tokenizer they train with, not in words or bytes.
//!
//! # Source of each default
//! datatrove 0.10.1's `TokensCounter` (`datatrove/pipeline/tokens/counter.py`): it encodes
//! each text with `Tokenizer.encode_batch` (special tokens added), writes `len(ids)` (+1 with
//! `count_eos_token`, off by default) to `metadata["token_count"]`, and counts the total as
//! `tokens`. The encoding is the `tokenizers` crate's, the library under the Python package, so
//! the counts are the same (tests/parity.rs compares them on the reference documents). Bounds
//! are not datatrove's; they are data-juicer's `token_num_filter` (`min_num`, `max_num`).
//!
//! # Example
//! ```no_run
//! use thresher_core::{Document, Outcome, StepConfig, StepCx};
//! use thresher_tokens::TokenCountConfig;
//!
//! let step = TokenCountConfig {
//!     tokenizer: Some("tokenizer.json".into()),
//!     ..Default::default()
//! }
//! .build()
//! .unwrap();
//! let Outcome::Keep(doc) = step.process(Document::new("a", "Hello world"), &mut StepCx::default())
//! else {
//!     panic!()
//! };
//! assert!(doc.metadata["token_count"].as_u64().unwrap() > 0);
//! ```
#![warn(missing_docs)]

use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use thresher_core::check::check_min_max;
use thresher_core::{Document, Error, Filter, Outcome, Result, Rules, Step, StepConfig, StepCx};
use tokenizers::Tokenizer;

const STEP: &str = "token_count";

/// Recipe parameters of `token_count` (defaults: datatrove 0.10.1's `TokensCounter`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct TokenCountConfig {
    /// Path to a Hugging Face `tokenizer.json` file (required; nothing is downloaded).
    pub tokenizer: Option<PathBuf>,
    /// Count one more token per document, for the end-of-sequence token added when training.
    pub count_eos_token: bool,
    /// Add the special tokens of the tokenizer's post-processor (`[CLS]`, `<s>`...), as
    /// datatrove's `encode_batch` does.
    pub add_special_tokens: bool,
    /// Fewest tokens a kept document has; unset: no lower bound.
    pub min_tokens: Option<u64>,
    /// Most tokens a kept document has; unset: no upper bound.
    pub max_tokens: Option<u64>,
}

impl Default for TokenCountConfig {
    fn default() -> Self {
        TokenCountConfig {
            tokenizer: None,
            count_eos_token: false,
            add_special_tokens: true,
            min_tokens: None,
            max_tokens: None,
        }
    }
}

impl StepConfig for TokenCountConfig {
    /// A `tokenizer` is given, and `min_tokens` is not above `max_tokens`.
    fn validate(&self) -> Result<()> {
        if self.tokenizer.is_none() {
            return Err(Error::config(
                STEP,
                "`tokenizer` is required: the path of a tokenizer.json file",
            ));
        }
        if let (Some(lo), Some(hi)) = (self.min_tokens, self.max_tokens) {
            check_min_max(STEP, "min_tokens", lo, "max_tokens", hi)?;
        }
        Ok(())
    }

    fn build(self) -> Result<Box<dyn Step>> {
        Ok(Box::new(TokenCount::new(self)?))
    }
}

/// The `token_count` step; see the module documentation.
pub struct TokenCount {
    cfg: TokenCountConfig,
    tokenizer: Tokenizer,
    /// Tokens counted over the run (every document the step saw).
    total: AtomicU64,
}

impl std::fmt::Debug for TokenCount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCount")
            .field("cfg", &self.cfg)
            .finish()
    }
}

impl TokenCount {
    /// Validates the parameters and loads the tokenizer.
    pub fn new(cfg: TokenCountConfig) -> Result<Self> {
        cfg.validate()?;
        let path = cfg.tokenizer.clone().unwrap_or_default();
        if let Err(e) = std::fs::metadata(&path) {
            return Err(Error::io(&path, e));
        }
        let tokenizer = Tokenizer::from_file(&path).map_err(|e| {
            Error::config(
                STEP,
                format!(
                    "`tokenizer` = {:?} is not a tokenizer.json this build can load: {e}",
                    path.display().to_string()
                ),
            )
        })?;
        Ok(TokenCount {
            cfg,
            tokenizer,
            total: AtomicU64::new(0),
        })
    }

    /// The number of tokens of `text` (with `count_eos_token`'s one more), or the tokenizer's
    /// error.
    pub fn count(&self, text: &str) -> std::result::Result<u64, String> {
        let enc = self
            .tokenizer
            .encode_fast(text, self.cfg.add_special_tokens)
            .map_err(|e| format!("token_count: the tokenizer failed: {e}"))?;
        Ok(enc.len() as u64 + u64::from(self.cfg.count_eos_token))
    }
}

impl Filter for TokenCount {
    /// `metadata.token_count` is written in both modes; annotate mode also records it as
    /// `token_count.tokens`.
    fn judge(&self, doc: &mut Document, _cx: &mut StepCx, rules: &mut Rules) -> ControlFlow<()> {
        let n = match self.count(doc.text()) {
            Ok(n) => n,
            Err(e) => return rules.error(e),
        };
        self.total.fetch_add(n, Ordering::Relaxed);
        doc.metadata.insert("token_count".into(), Value::from(n));
        let few = self.cfg.min_tokens.is_some_and(|lo| n < lo);
        let many = self.cfg.max_tokens.is_some_and(|hi| n > hi);
        let code = if few {
            "token_count:too_few"
        } else {
            "token_count:too_many"
        };
        rules.rule("tokens", n, few || many, code)
    }
}

impl Step for TokenCount {
    fn name(&self) -> &str {
        STEP
    }

    fn process(&self, doc: Document, cx: &mut StepCx) -> Outcome {
        Rules::filter().run(self, doc, cx, STEP)
    }

    fn as_filter(&self) -> Option<&dyn Filter> {
        Some(self)
    }

    fn report(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("tokens".into(), self.total.load(Ordering::Relaxed).into());
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use tokenizers::models::wordlevel::WordLevel;
    use tokenizers::pre_tokenizers::whitespace::Whitespace;
    use tokenizers::processors::template::TemplateProcessing;

    /// A word-level tokenizer built here ("the", "cat", "sat", "[UNK]", "[CLS]", "[SEP]",
    /// a [CLS] ... [SEP] template) and saved as tokenizer.json.
    fn tokenizer_file(dir: &std::path::Path) -> PathBuf {
        let vocab: HashMap<String, u32> = ["[UNK]", "[CLS]", "[SEP]", "the", "cat", "sat", "."]
            .iter()
            .enumerate()
            .map(|(i, w)| (w.to_string(), i as u32))
            .collect();
        let model = WordLevel::builder()
            .vocab(vocab.into_iter().collect())
            .unk_token("[UNK]".into())
            .build()
            .unwrap();
        let mut tok = Tokenizer::new(model);
        tok.with_pre_tokenizer(Some(Whitespace {}));
        tok.with_post_processor(Some(
            TemplateProcessing::builder()
                .try_single("[CLS] $A [SEP]")
                .unwrap()
                .special_tokens(vec![("[CLS]", 1), ("[SEP]", 2)])
                .build()
                .unwrap(),
        ));
        let path = dir.join("tokenizer.json");
        tok.save(&path, false).unwrap();
        path
    }

    fn run(cfg: TokenCountConfig, text: &str) -> Outcome {
        cfg.build()
            .unwrap()
            .process(Document::new("d", text), &mut StepCx::default())
    }

    #[test]
    fn counts_ids_with_special_tokens_and_eos() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = TokenCountConfig {
            tokenizer: Some(tokenizer_file(dir.path())),
            ..Default::default()
        };
        // the cat sat on the mat . => 7 words ("on", "mat" unknown) + [CLS] + [SEP].
        let Outcome::Keep(doc) = run(cfg.clone(), "the cat sat on the mat.") else {
            panic!()
        };
        assert_eq!(doc.metadata["token_count"], 9);
        let no_special = TokenCountConfig {
            add_special_tokens: false,
            count_eos_token: true,
            ..cfg.clone()
        };
        let Outcome::Keep(doc) = run(no_special, "the cat sat on the mat.") else {
            panic!()
        };
        assert_eq!(doc.metadata["token_count"], 8);
        let Outcome::Keep(doc) = run(cfg.clone(), "") else {
            panic!()
        };
        assert_eq!(doc.metadata["token_count"], 2);
        // Bounds, and the total in the report.
        let bounded = TokenCountConfig {
            min_tokens: Some(4),
            max_tokens: Some(5),
            ..cfg
        };
        let step = bounded.build().unwrap();
        let mut cx = StepCx::default();
        let Outcome::Reject { reason, .. } = step.process(Document::new("a", "the"), &mut cx)
        else {
            panic!()
        };
        assert_eq!(
            (&*reason.code, reason.value.as_u64()),
            ("token_count:too_few", Some(3))
        );
        assert!(matches!(
            step.process(Document::new("b", "the cat sat"), &mut cx),
            Outcome::Keep(_)
        ));
        let Outcome::Reject { reason, .. } =
            step.process(Document::new("c", "the cat sat the"), &mut cx)
        else {
            panic!()
        };
        assert_eq!(reason.code, "token_count:too_many");
        assert_eq!(step.report()["tokens"], 3 + 5 + 6);
    }

    #[test]
    fn a_missing_or_broken_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert!(TokenCountConfig::default().validate().is_err());
        let missing = TokenCountConfig {
            tokenizer: Some(dir.path().join("nope.json")),
            ..Default::default()
        };
        assert!(missing.validate().is_ok());
        assert!(TokenCount::new(missing).is_err());
        let broken = dir.path().join("broken.json");
        std::fs::write(&broken, "{\"model\": 3}").unwrap();
        let e = TokenCount::new(TokenCountConfig {
            tokenizer: Some(broken),
            ..Default::default()
        })
        .unwrap_err();
        assert!(e.to_string().contains("not a tokenizer.json"), "{e}");
        let bad = TokenCountConfig {
            tokenizer: Some("t.json".into()),
            min_tokens: Some(10),
            max_tokens: Some(5),
            ..Default::default()
        };
        assert!(bad.validate().is_err());
    }
}
