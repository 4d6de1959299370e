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
    let mut bytes = std::mem::take(out).into_bytes();
    normalize_bytes(text, &mut bytes);
    // `normalize_bytes` only pushes whole UTF-8 sequences, so this cannot fail; should it ever,
    // the reference implementation gives the same result.
    match String::from_utf8(bytes) {
        Ok(s) => *out = s,
        Err(_) => normalize_slow(text, out),
    }
}

/// What [`normalize_bytes`] writes for an ASCII byte: a space for whitespace, else the byte
/// lower-cased. ASCII White_Space is \t \n \x0B \x0C \r and space (the set
/// `char::is_whitespace` uses; `u8::is_ascii_whitespace` lacks \x0B). Bytes >= 0x80 start a
/// multi-byte character and are handled apart.
static ASCII_MAP: [u8; 128] = {
    let mut t = [0u8; 128];
    let mut b = 0;
    while b < 128 {
        t[b] = (b as u8).to_ascii_lowercase();
        b += 1;
    }
    t[b'\t' as usize] = b' ';
    t[b'\n' as usize] = b' ';
    t[0x0B] = b' ';
    t[0x0C] = b' ';
    t[b'\r' as usize] = b' ';
    t
};

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Eight bytes (little-endian in `w`) normalised at once: letters lower-cased, ASCII whitespace
/// turned into spaces. Returns the mapped bytes, the whitespace bytes and the "stop" bytes (both
/// as the top bit of each byte): a stop is a non-ASCII byte or a space right after a space (or
/// after the previous byte written, if `prev_space`). Only the bytes before the first stop are
/// meaningful: each test works per byte without carries between bytes as long as the bytes
/// are below 0x80 (adding `0x80 - k` sets a byte's top bit exactly when the byte is >= k), and a
/// carry out of a byte >= 0x80 only reaches the bytes after it.
#[inline]
fn map_word(w: u64, prev_space: bool) -> (u64, u64, u64) {
    let ge = |k: u64| w.wrapping_add((0x80 - k) * ONES);
    let upper = ge(0x41) & !ge(0x5B) & HIGHS;
    let ctrl_space = ge(0x09) & !ge(0x0E) & HIGHS;
    let x = w ^ (0x20 * ONES);
    let space = !x.wrapping_add(0x7F * ONES) & HIGHS;
    let ws = ctrl_space | space;
    // A space here after a space in the byte before (or the previous byte written).
    let before = (ws << 8) | (u64::from(prev_space) << 7);
    let stop = (w & HIGHS) | (ws & before);
    let ws_bytes = (ws >> 7) * 0xFF;
    let lower = w | (upper >> 2);
    let mapped = (lower & !ws_bytes) | (ws_bytes & (0x20 * ONES));
    (mapped, ws, stop)
}

/// [`normalize_for_exact`] into a byte buffer (replacing its content), in one pass: ASCII bytes
/// through a table, other characters decoded one by one. The output is always valid UTF-8.
///
/// Most web text is ASCII with a few typographic quotes or accented letters; this keeps those
/// documents on the byte path. The ASCII path has no data-dependent branch (a space is always
/// written, and the write position only advances if the previous byte written was not a space),
/// because branching on every word boundary of real text mispredicts often.
pub fn normalize_bytes(text: &str, out: &mut Vec<u8>) {
    let src = text.as_bytes();
    // Room for every ASCII byte plus some slack; a non-ASCII character re-checks the room, since
    // lower-casing can lengthen it (U+0130 is 2 bytes, its lower case 3).
    const SLACK: usize = 16;
    if out.len() < src.len() + SLACK {
        out.resize(src.len() + SLACK, 0);
    }
    let mut n = 0; // bytes written
                   // Whether the last byte written is a space (true at the start, so leading spaces vanish).
    let mut prev_space = true;
    let mut i = 0;
    while i < src.len() {
        // Eight bytes at a time: the bytes before the first stop (see `map_word`) are written
        // at once; a space after a space is dropped; a non-ASCII character goes the slow way.
        if let Some(word) = src.get(i..i + 8) {
            let mut w = [0u8; 8];
            w.copy_from_slice(word);
            let w = u64::from_le_bytes(w);
            let (mapped, ws, stop) = map_word(w, prev_space);
            // The room for 8 bytes is there: `out` holds `n` + the bytes left to read + SLACK.
            out[n..n + 8].copy_from_slice(&mapped.to_le_bytes());
            if stop == 0 {
                n += 8;
                i += 8;
                prev_space = ws >> 63 != 0;
                continue;
            }
            let k = (stop.trailing_zeros() / 8) as usize;
            n += k;
            i += k;
            if k > 0 {
                prev_space = (ws >> (8 * k - 1)) & 1 != 0;
            }
            if src[i] < 0x80 {
                // A space after a space writes nothing, nor does the rest of the run (runs of
                // indentation are common in web text: skip them here, not eight bytes a go).
                i += 1;
                while src
                    .get(i)
                    .is_some_and(|&b| b < 0x80 && ASCII_MAP[b as usize] == b' ')
                {
                    i += 1;
                }
                prev_space = true;
                continue;
            }
        } else if src[i] < 0x80 {
            // The last few bytes, one at a time.
            let m = ASCII_MAP[src[i] as usize];
            out[n] = m;
            let space = m == b' ';
            n += usize::from(!(space && prev_space));
            prev_space = space;
            i += 1;
            continue;
        }
        // A non-ASCII character; `i` is on a character boundary (ASCII bytes advance by one,
        // others by the character's length).
        let Some(c) = text.get(i..).and_then(|t| t.chars().next()) else {
            break;
        };
        i += c.len_utf8();
        if c.is_whitespace() {
            out[n] = b' ';
            n += usize::from(!prev_space);
            prev_space = true;
            continue;
        }
        let need = n + (src.len() - i) + SLACK;
        if out.len() < need {
            out.resize(need, 0);
        }
        for l in c.to_lowercase() {
            n += l.encode_utf8(&mut out[n..]).len();
        }
        prev_space = false;
    }
    if prev_space && n > 0 {
        n -= 1; // a trailing space
    }
    out.truncate(n);
}

/// The reference definition, per word: what [`normalize_bytes`] must equal (tests compare them).
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

thread_local! {
    static NORM: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl ExactDedup {
    fn hash(&self, doc: &Document) -> u128 {
        if self.cfg.normalize {
            // A byte buffer rather than `cx.scratch`: the normalised text is only hashed, so it
            // need not be re-validated as a `String`.
            NORM.with(|buf| {
                let mut buf = buf.borrow_mut();
                normalize_bytes(doc.text(), &mut buf);
                xxhash_rust::xxh3::xxh3_128(&buf)
            })
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

    fn prepare(&self, doc: &mut Document, _cx: &mut StepCx) {
        // Normalising and hashing is most of the work; done here, in parallel, it leaves only the
        // table lookup to the one-at-a-time `process`.
        let h = self.hash(doc);
        doc.set_prepared(h);
    }

    fn process(&self, mut doc: Document, _cx: &mut StepCx) -> Outcome {
        let hash = match doc.take_prepared::<u128>() {
            Some(h) => h,
            None => self.hash(&doc),
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
            "a\0b \0",
            " \u{3000}İstanbul\u{2028}ΣΑΣ  ß\u{a0}\u{a0}x\u{85}",
            "“Quoted” — CAFÉ\tnaïve\u{1F600}END ",
            "\u{2029}",
        ] {
            normalize_for_exact(t, &mut a);
            normalize_slow(t, &mut b);
            assert_eq!(a, b, "{t:?}");
            let mut bytes = Vec::new();
            normalize_bytes(t, &mut bytes);
            assert_eq!(bytes, b.as_bytes(), "{t:?}");
        }
        normalize_for_exact("Ünïcode  ÉTÉ\u{a0}x", &mut a);
        assert_eq!(a, "ünïcode été x");
    }

    #[test]
    fn byte_path_equals_reference_on_mixed_strings() {
        // Pseudo-random strings from pieces that stress each branch: whitespace runs of both
        // kinds at the edges and in the middle, case, characters whose lower case is longer.
        let pieces = [
            " ",
            "\t",
            "\n\r",
            "\u{b}",
            "\u{a0}",
            "\u{3000}",
            "\u{2028}",
            "A",
            "b",
            "Z9",
            "İ",
            "ẞ",
            "Σ",
            "é",
            "😀",
            "\0",
            "x",
            "WORD",
            "ﬃ",
            "\u{85}",
            "hello world ",
            "The Quick  Brown\tFox",
            "@[`{AZaz09\u{7f}\u{1}",
            "abcdefghijklmnop",
        ];
        let mut state = 12345u64;
        let (mut reference, mut bytes) = (String::new(), Vec::new());
        for _ in 0..3000 {
            let mut t = String::new();
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            for _ in 0..(state >> 58) {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                t.push_str(pieces[(state >> 33) as usize % pieces.len()]);
            }
            normalize_slow(&t, &mut reference);
            normalize_bytes(&t, &mut bytes);
            assert_eq!(bytes, reference.as_bytes(), "{t:?}");
        }
        // Every ASCII byte at every position of an 8-byte word, after a space or not.
        for c in 0u8..128 {
            for pad in 0..9 {
                for lead in ["", " ", "x"] {
                    let t = format!("{lead}{}{}ABCDEFGH", "a".repeat(pad), c as char);
                    normalize_slow(&t, &mut reference);
                    normalize_bytes(&t, &mut bytes);
                    assert_eq!(bytes, reference.as_bytes(), "{t:?}");
                }
            }
        }
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
