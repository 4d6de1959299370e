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
    if text.is_ascii() {
        // Fast path, byte by byte. ASCII White_Space is \t \n \x0B \x0C \r and space (the same
        // set `char::is_whitespace` uses; `u8::is_ascii_whitespace` lacks \x0B).
        let mut bytes = std::mem::take(out).into_bytes();
        let mut space = false;
        for &b in text.as_bytes() {
            if matches!(b, b'\t' | b'\n' | 0x0B | 0x0C | b'\r' | b' ') {
                space = !bytes.is_empty();
            } else {
                if space {
                    bytes.push(b' ');
                    space = false;
                }
                bytes.push(b.to_ascii_lowercase());
            }
        }
        // Only ASCII bytes were pushed, so this cannot fail; fall back to the slow path if it did.
        match String::from_utf8(bytes) {
            Ok(s) => *out = s,
            Err(_) => normalize_slow(text, out),
        }
    } else {
        normalize_slow(text, out);
    }
}

fn normalize_slow(text: &str, out: &mut String) {
    out.clear();
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        if word.is_ascii() {
            let start = out.len();
            out.push_str(word);
            // Lower-casing ASCII letters keeps the string valid UTF-8.
            out[start..].make_ascii_lowercase();
        } else {
            out.extend(word.chars().flat_map(char::to_lowercase));
        }
    }
}

impl ExactDedup {
    fn hash(&self, doc: &Document, cx: &mut StepCx) -> u128 {
        if self.cfg.normalize {
            normalize_for_exact(doc.text(), &mut cx.scratch);
            xxhash_rust::xxh3::xxh3_128(cx.scratch.as_bytes())
        } else {
            xxhash_rust::xxh3::xxh3_128(doc.text().as_bytes())
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

    fn prepare(&self, doc: &mut Document, cx: &mut StepCx) {
        // Normalising and hashing is most of the work; done here, in parallel, it leaves only the
        // table lookup to the one-at-a-time `process`.
        let h = self.hash(doc, cx);
        doc.set_prepared(h);
    }

    fn process(&self, mut doc: Document, cx: &mut StepCx) -> Outcome {
        let hash = match doc.take_prepared::<u128>() {
            Some(h) => h,
            None => self.hash(&doc, cx),
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
    fn fast_and_slow_normalisation_agree() {
        let mut a = String::new();
        let mut b = String::new();
        for t in [
            "  Hello\t\x0bWORLD \r\n x ",
            "",
            "   ",
            "a\x1cb",
            "MiXeD  case\n\nText.",
        ] {
            normalize_for_exact(t, &mut a);
            normalize_slow(t, &mut b);
            assert_eq!(a, b, "{t:?}");
        }
        normalize_for_exact("Ünïcode  ÉTÉ\u{a0}x", &mut a);
        assert_eq!(a, "ünïcode été x");
    }

    #[test]
    fn prepared_hash_is_used() {
        let step = ExactDedup::new(ExactDedupConfig::default());
        let mut cx = StepCx::default();
        let mut d = Document::new("a", "Same text");
        step.prepare(&mut d, &mut cx);
        assert!(matches!(step.process(d, &mut cx), Outcome::Keep(_)));
        assert!(matches!(
            run(&step, "b", "same TEXT"),
            Outcome::Reject { .. }
        ));
    }

    #[test]
    fn raw_mode_is_byte_exact() {
        let step = ExactDedup::new(ExactDedupConfig { normalize: false });
        assert!(matches!(run(&step, "a", "Hello"), Outcome::Keep(_)));
        assert!(matches!(run(&step, "b", "hello"), Outcome::Keep(_)));
        assert!(matches!(run(&step, "c", "Hello"), Outcome::Reject { .. }));
    }
}
