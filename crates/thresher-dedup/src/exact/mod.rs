//! `exact_dedup`: the first occurrence of a text is kept, later copies are rejected.
//!
//! The step is here; the normalisation it hashes (whitespace runs to one space, lower case) is
//! in [`normalize`], whose wide steps are in `avx2` and `avx512`.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use thresher_core::{
    Document, Outcome, Prepared, Reason, Result, Step, StepConfig, StepCx, StepMode,
};

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;
pub mod normalize;

pub use normalize::{normalize_bytes, normalize_for_exact};

/// Recipe parameters of `exact_dedup`.
#[derive(Debug, Clone, Deserialize, Serialize, schemars::JsonSchema)]
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
    seen: Mutex<HashMap<u128, String, BuildHasherDefault<KeyIsHash>>>,
}

impl ExactDedup {
    /// A step with the given parameters and an empty table of seen texts.
    pub fn new(cfg: ExactDedupConfig) -> Self {
        ExactDedup {
            cfg,
            seen: Mutex::new(HashMap::default()),
        }
    }
}

/// The hasher of the table of seen texts, whose keys are already XXH3 hashes (uniform bits):
/// their low 64 bits are the table's hash, instead of hashing them again with SipHash (this
/// lookup is the part of the step that runs on one thread, in input order).
#[derive(Default)]
struct KeyIsHash(u64);

impl Hasher for KeyIsHash {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Not used by `u128` keys; any other input is folded in, so the hasher stays correct.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u128(&mut self, v: u128) {
        self.0 = v as u64;
    }
}

thread_local! {
    /// The normalised text of the document being hashed, reused from one document to the next.
    static NORM: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl ExactDedup {
    fn hash(&self, doc: &Document) -> u128 {
        if self.cfg.normalize {
            // A byte buffer rather than `cx.scratch`: the normalised text is only hashed, so it
            // need not be re-validated as a `String`.
            NORM.with(|buf| {
                let mut buf = buf.borrow_mut();
                let n = normalize::normalize_into(doc.text(), &mut buf);
                twox_hash::XxHash3_128::oneshot(&buf[..n])
            })
        } else {
            twox_hash::XxHash3_128::oneshot(doc.text().as_bytes())
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

    fn prepare(&self, doc: &mut Document, _cx: &mut StepCx) -> Option<Prepared> {
        // Normalising and hashing is most of the work; done here, in parallel, it leaves only the
        // table lookup to the one-at-a-time `process`.
        Some(Box::new(self.hash(doc)))
    }

    fn process(&self, doc: Document, cx: &mut StepCx) -> Outcome {
        let hash = match cx.take_prepared::<u128>() {
            Some(h) => h,
            None => self.hash(&doc),
        };
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        match seen.get(&hash) {
            Some(twin) => {
                let twin = twin.clone();
                drop(seen);
                Outcome::reject(doc, Reason::new("exact_dedup:duplicate", twin))
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
                assert_eq!(reason.code, "exact_dedup:duplicate");
                assert_eq!(reason.value, "a");
            }
            o => panic!("expected reject, got {o:?}"),
        }
    }

    #[test]
    fn prepared_hash_is_used() {
        let step = ExactDedup::new(ExactDedupConfig::default());
        let mut cx = StepCx::default();
        let mut d = Document::new("a", "Same text");
        let prepared = step.prepare(&mut d, &mut cx);
        assert!(prepared.is_some());
        cx.set_prepared(prepared);
        assert!(matches!(step.process(d, &mut cx), Outcome::Keep(_)));
        assert!(matches!(
            run(&step, "b", "same TEXT"),
            Outcome::Reject { .. }
        ));
        // The prepared hash, not the text, decides: another text's hash makes a duplicate.
        let mut other = Document::new("c", "Same text");
        let p = step.prepare(&mut other, &mut cx);
        cx.set_prepared(p);
        let d = Document::new("d", "a text never seen");
        assert!(matches!(step.process(d, &mut cx), Outcome::Reject { .. }));
    }

    #[test]
    fn raw_mode_is_byte_exact() {
        let step = ExactDedup::new(ExactDedupConfig { normalize: false });
        assert!(matches!(run(&step, "a", "Hello"), Outcome::Keep(_)));
        assert!(matches!(run(&step, "b", "hello"), Outcome::Keep(_)));
        assert!(matches!(run(&step, "c", "Hello"), Outcome::Reject { .. }));
    }
}
