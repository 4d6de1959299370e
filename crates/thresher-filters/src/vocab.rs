//! The distinct words of a document: each word token gets an id, equal words the same id.
//!
//! Gopher's rules look at every word token, but a page repeats its words: a typical document has
//! two to three tokens per distinct word. Interning the tokens once lets `gopher_quality` measure
//! each distinct word once (weighted by its count) and gives `gopher_repetition`'s n-gram rules
//! their word ids and counts, so the two filters share one pass over the tokens.
//!
//! Words of up to 16 bytes (almost all) are compared and hashed as one 128-bit key loaded from
//! the text, without a byte loop or a hash-library call; longer words use xxh3 and a byte
//! comparison. Equality is exact byte equality either way.

use std::cell::RefCell;
use xxhash_rust::xxh3::xxh3_64;

use crate::pychar;

/// Distinct words of one token sequence, numbered in order of first occurrence.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Vocab {
    /// Per token: the id of its word.
    pub ids: Vec<u32>,
    /// Per id: the index of the word's first token.
    pub first: Vec<u32>,
    /// Per id: how many tokens are this word.
    pub count: Vec<u32>,
    /// Per id: the word's length in code points (Python's `len`).
    pub chars: Vec<u32>,
}

/// The low `k` bytes of `x` (`k` <= 8).
#[inline]
fn low_bytes(x: u64, k: usize) -> u64 {
    u64::MAX.checked_shr(64 - 8 * k as u32).map_or(0, |m| x & m)
}

/// The key of a word of at most 16 bytes: its bytes, zero-padded, as two little-endian words.
/// (Two words with the same key and the same length are equal.)
#[inline]
fn short_key(bytes: &[u8], start: usize, len: usize) -> (u64, u64) {
    debug_assert!(len <= 16);
    let (lo, hi) = match bytes.get(start..start + 16) {
        Some(block) => {
            let (a, b) = block.split_at(8);
            (
                u64::from_le_bytes(a.try_into().unwrap_or_default()),
                u64::from_le_bytes(b.try_into().unwrap_or_default()),
            )
        }
        None => {
            let mut buf = [0u8; 16];
            buf[..len].copy_from_slice(&bytes[start..start + len]);
            let (a, b) = buf.split_at(8);
            (
                u64::from_le_bytes(a.try_into().unwrap_or_default()),
                u64::from_le_bytes(b.try_into().unwrap_or_default()),
            )
        }
    };
    if len >= 8 {
        (lo, low_bytes(hi, len - 8))
    } else {
        (low_bytes(lo, len), 0)
    }
}

/// Multiplies and folds the 128-bit product: a fast, well-mixing combination of two words.
#[inline]
fn fold_mul(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ ((p >> 64) as u64)
}

#[inline]
fn short_hash(lo: u64, hi: u64, len: usize) -> u64 {
    fold_mul(
        lo ^ 0x243f_6a88_85a3_08d3,
        hi ^ 0x1319_8a2e_0370_7344 ^ (len as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15),
    )
}

/// What the interning keeps of each distinct word.
#[derive(Default)]
struct Entry {
    lo: u64,
    hi: u64,
    len: u32,
    count: u32,
}

/// The interning table, reused by each thread: a 4-byte fingerprint per slot (0 = empty) and the
/// id stored there.
#[derive(Default)]
struct Table {
    /// (fingerprint, id) side by side: a probe touches one cache line.
    slots: Vec<(u32, u32)>,
    /// Per id of the vocabulary being built (reused).
    entries: Vec<Entry>,
}

thread_local! {
    static TABLE: RefCell<Table> = RefCell::new(Table::default());
    /// A dropped document's vocabulary, whose buffers the next one reuses (see [`Vocab::recycle`]).
    static SPARE: RefCell<Option<Vocab>> = const { RefCell::new(None) };
}

/// Buffers above this many tokens are not kept for reuse: one huge page must not pin its memory.
const SPARE_MAX_TOKENS: usize = 1 << 18;

impl Vocab {
    /// Interns the words `words` (byte ranges into `text`).
    pub fn new(text: &str, words: &[(usize, usize)]) -> Vocab {
        TABLE.with(|cell| match cell.try_borrow_mut() {
            Ok(mut t) => {
                let v = Self::build(text, words, &mut t);
                // One huge page must not pin its table for the rest of the run.
                if words.len() > SPARE_MAX_TOKENS {
                    *t = Table::default();
                }
                v
            }
            Err(_) => Self::build(text, words, &mut Table::default()),
        })
    }

    /// Hands this vocabulary's buffers to the next [`Vocab::new`] on this thread: a filter stack
    /// builds one vocabulary per document, and reusing the memory saves the allocator's work
    /// (and, for large pages, fresh pages from the kernel).
    pub fn recycle(self) {
        if self.ids.capacity() <= SPARE_MAX_TOKENS {
            let _ = SPARE.try_with(|cell| {
                if let Ok(mut spare) = cell.try_borrow_mut() {
                    *spare = Some(self);
                }
            });
        }
    }

    /// The number of distinct words.
    pub fn len(&self) -> usize {
        self.first.len()
    }

    /// Whether there are no words.
    pub fn is_empty(&self) -> bool {
        self.first.is_empty()
    }

    fn build(text: &str, words: &[(usize, usize)], t: &mut Table) -> Vocab {
        let bytes = text.as_bytes();
        // Distinct words are at most the tokens and usually a third of them: the table stays
        // sparse at 1.25 slots per token, and small enough to clear cheaply.
        let bits = (words.len().max(8) * 5 / 4)
            .next_power_of_two()
            .trailing_zeros();
        let cap = 1usize << bits;
        if t.slots.len() < cap {
            t.slots.resize(cap, (0, 0));
        }
        t.slots[..cap].fill((0, 0));
        let mask = cap - 1;
        // A page has about one distinct word per two to three tokens.
        let guess = words.len() / 2 + 16;
        let mut v = SPARE
            .try_with(|cell| cell.try_borrow_mut().ok().and_then(|mut s| s.take()))
            .ok()
            .flatten()
            .unwrap_or_default();
        v.ids.clear();
        v.first.clear();
        v.first.reserve(guess);
        v.count.clear();
        v.chars.clear();
        v.chars.reserve(guess);
        // Per id, together so that a token touches one place: the key (short words), the byte
        // length (to compare without the text) and the count so far.
        let entries = &mut t.entries;
        entries.clear();
        entries.reserve(guess);
        // Written by index, not pushed: no capacity check per token.
        v.ids.resize(words.len(), 0);
        for (i, &(start, end)) in words.iter().enumerate() {
            let len = end - start;
            let (lo, hi, h) = if len <= 16 {
                let (lo, hi) = short_key(bytes, start, len);
                (lo, hi, short_hash(lo, hi, len))
            } else {
                (0, 0, xxh3_64(&bytes[start..end]))
            };
            let fp = (h as u32) | 1;
            let mut slot = (h >> (64 - bits)) as usize;
            let id = loop {
                let (f, slot_id) = t.slots[slot];
                if f == 0 {
                    let id = v.first.len() as u32;
                    t.slots[slot] = (fp, id);
                    v.first.push(i as u32);
                    entries.push(Entry {
                        lo,
                        hi,
                        len: u32::try_from(len).unwrap_or(u32::MAX),
                        count: 0,
                    });
                    let ascii = len <= 16 && (lo | hi) & 0x8080_8080_8080_8080 == 0;
                    let chars = if ascii {
                        len
                    } else {
                        pychar::char_len(&text[start..end])
                    };
                    v.chars.push(chars as u32);
                    break id;
                }
                if f == fp {
                    let id = slot_id;
                    let e = &entries[id as usize];
                    let same = e.len as usize == len
                        && if len <= 16 {
                            e.lo == lo && e.hi == hi
                        } else {
                            let a = words[v.first[id as usize] as usize].0;
                            bytes[a..a + len] == bytes[start..end]
                        };
                    if same {
                        break id;
                    }
                }
                slot = (slot + 1) & mask;
            };
            entries[id as usize].count += 1;
            v.ids[i] = id;
        }
        v.count.extend(entries.iter().map(|e| e.count));
        v
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The words of `text` split at single spaces, as `(start, end)` offsets.
    pub(crate) fn spans(text: &str) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut pos = 0;
        for w in text.split(' ') {
            out.push((pos, pos + w.len()));
            pos += w.len() + 1;
        }
        out
    }

    /// The definition: ids in order of first occurrence, by string equality.
    fn naive(text: &str, words: &[(usize, usize)]) -> Vocab {
        let mut v = Vocab::default();
        let mut seen: Vec<&str> = Vec::new();
        for (i, &(a, b)) in words.iter().enumerate() {
            let w = &text[a..b];
            let id = match seen.iter().position(|s| *s == w) {
                Some(id) => id,
                None => {
                    seen.push(w);
                    v.first.push(i as u32);
                    v.count.push(0);
                    v.chars.push(w.chars().count() as u32);
                    seen.len() - 1
                }
            };
            v.count[id] += 1;
            v.ids.push(id as u32);
        }
        v
    }

    #[test]
    fn matches_the_definition() {
        let texts = [
            "the cat the cat sat",
            "a\u{0} a a\u{0} \u{0} \u{0}",
            "exactly16bytes!! exactly16bytes!? exactly16bytes!! seventeen_bytes!! seventeen_bytes!!",
            "é è é ééééééééééééééé ééééééééééééééé",
            "x",
            "",
            "word word words wor word",
            "a_long_word_of_more_than_sixteen_bytes a_long_word_of_more_than_sixteen_bytez \
             a_long_word_of_more_than_sixteen_bytes",
        ];
        for t in texts {
            let sp = spans(t);
            assert_eq!(Vocab::new(t, &sp), naive(t, &sp), "{t:?}");
        }
        // Words at every offset near the end of the text (the short-key load falls back there).
        let t = "ab ab abcdefghijklmnop ab abcdefghijklmnop a";
        for cut in 0..t.len() {
            let sp: Vec<_> = spans(t)
                .into_iter()
                .filter(|r| r.1 <= cut)
                .chain([(cut, t.len())])
                .collect();
            assert_eq!(Vocab::new(t, &sp), naive(t, &sp), "cut {cut}");
        }
    }

    #[test]
    fn recycled_buffers_leave_nothing_behind() {
        // A large vocabulary first, so the recycled buffers hold stale ids, counts and lengths.
        let big: String = (0..3000).map(|i| format!("w{} ", i % 777)).collect();
        let big = big.trim_end();
        Vocab::new(big, &spans(big)).recycle();
        for t in ["b a b", "", "zz", "the cat the cat sat"] {
            let sp = spans(t);
            let v = Vocab::new(t, &sp);
            assert_eq!(v, naive(t, &sp), "{t:?}");
            v.recycle();
        }
    }

    #[test]
    fn many_words() {
        let t: String = (0..5000).map(|i| format!("w{} ", i % 1234)).collect();
        let t = t.trim_end();
        let sp = spans(t);
        let v = Vocab::new(t, &sp);
        assert_eq!(v, naive(t, &sp));
        assert_eq!(v.len(), 1234);
    }
}
