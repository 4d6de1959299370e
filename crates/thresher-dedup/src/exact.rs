//! `exact_dedup`: the first occurrence of a text is kept, later copies are rejected.

use std::collections::HashMap;
use std::sync::Mutex;

use serde::Deserialize;
use serde_json::{Map, Value};
use thresher_core::{Document, Outcome, Reason, Result, Step, StepConfig, StepCx, StepMode};

/// Recipe parameters of `exact_dedup`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ExactDedupConfig {
    /// Normalise the text before hashing (see [`normalize_for_exact`]). With `false` the raw
    /// bytes are hashed: only byte-identical texts are duplicates.
    pub normalize: bool,
}

impl Default for ExactDedupConfig {
    fn default() -> Self {
        ExactDedupConfig { normalize: true }
    }
}

impl StepConfig for ExactDedupConfig {
    fn build(self) -> Result<Box<dyn Step>> {
        Ok(Box::new(ExactDedup::new(self)))
    }
}

/// Exact document dedup on a 128-bit hash of the normalised text.
///
/// Runs in [`StepMode::Ordered`]: the executor hands documents over in input order, so the copy
/// that is kept is always the first one in the input, whatever the number of threads. Memory:
/// one 16-byte hash plus the kept document's id per distinct text.
pub struct ExactDedup {
    cfg: ExactDedupConfig,
    seen: Mutex<HashMap<u128, String>>,
}

impl ExactDedup {
    /// A step with the given parameters and an empty table of seen texts.
    pub fn new(cfg: ExactDedupConfig) -> Self {
        ExactDedup {
            cfg,
            seen: Mutex::new(HashMap::new()),
        }
    }
}

/// The normalisation applied before hashing: Unicode whitespace runs become one space, leading and
/// trailing whitespace is dropped, and letters are lower-cased. So two copies of a page that
/// differ only in line breaks, indentation or case are duplicates; punctuation and digits count.
pub fn normalize_for_exact(text: &str, out: &mut String) {
    out.clear();
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        if word.is_ascii() {
            out.extend(word.chars().map(|c| c.to_ascii_lowercase()));
        } else {
            out.extend(word.chars().flat_map(char::to_lowercase));
        }
    }
}

impl Step for ExactDedup {
    fn name(&self) -> &str {
        "exact_dedup"
    }

    fn mode(&self) -> StepMode {
        StepMode::Ordered
    }

    fn process(&self, doc: Document, cx: &mut StepCx) -> Outcome {
        let hash = if self.cfg.normalize {
            normalize_for_exact(doc.text(), &mut cx.scratch);
            xxhash_rust::xxh3::xxh3_128(cx.scratch.as_bytes())
        } else {
            xxhash_rust::xxh3::xxh3_128(doc.text().as_bytes())
        };
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        match seen.get(&hash) {
            Some(twin) => {
                let twin = twin.clone();
                drop(seen);
                Outcome::reject(doc, Reason::new("exact_duplicate", twin))
            }
            None => {
                seen.insert(hash, doc.id.clone());
                drop(seen);
                Outcome::Keep(doc)
            }
        }
    }

    fn report(&self) -> Map<String, Value> {
        let mut m = Map::new();
        let n = self.seen.lock().map(|s| s.len()).unwrap_or(0);
        m.insert("distinct_texts".into(), n.into());
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(step: &ExactDedup, id: &str, text: &str) -> Outcome {
        step.process(Document::new(id, text), &mut StepCx::default())
    }

    #[test]
    fn first_copy_kept_later_copies_name_the_twin() {
        let step = ExactDedup::new(ExactDedupConfig::default());
        assert!(matches!(
            run(&step, "a", "Hello  World\n"),
            Outcome::Keep(_)
        ));
        assert!(matches!(run(&step, "b", "other"), Outcome::Keep(_)));
        match run(&step, "c", "hello world") {
            Outcome::Reject { reason, .. } => {
                assert_eq!(reason.code, "exact_duplicate");
                assert_eq!(reason.value, "a");
            }
            o => panic!("expected reject, got {o:?}"),
        }
    }

    #[test]
    fn raw_mode_is_byte_exact() {
        let step = ExactDedup::new(ExactDedupConfig { normalize: false });
        assert!(matches!(run(&step, "a", "Hello"), Outcome::Keep(_)));
        assert!(matches!(run(&step, "b", "hello"), Outcome::Keep(_)));
        assert!(matches!(run(&step, "c", "Hello"), Outcome::Reject { .. }));
    }
}
