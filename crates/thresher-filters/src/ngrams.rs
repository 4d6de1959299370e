//! Word n-gram statistics of Gopher's repetition rules, computed exactly and without building
//! the n-gram strings.
//!
//! datatrove builds every n-gram as a string: the "top n-gram" rule joins the words with a space
//! (so two n-grams are equal when their word sequences are), the "duplicate n-gram" rule
//! concatenates them without a separator (so `["ab", "c"]` equals `["a", "bc"]`). Here words
//! are interned to ids once and top n-grams are counted on id sequences. For duplicate n-grams
//! the words' bytes are concatenated once; an n-gram is a byte range of that buffer, and only
//! the n-grams whose first 16 bytes occur at another word too are hashed and looked up (any
//! other one can neither repeat nor be repeated), with a byte comparison on every hit so that a
//! hash collision never counts.

use std::cell::RefCell;

use crate::vocab::Vocab;

/// Length of the concatenated-word prefix that screens n-grams before the duplicate passes.
const PREFIX: usize = 16;

/// Multiplies and folds the 128-bit product.
#[inline]
fn fold_mul(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ ((p >> 64) as u64)
}

/// A hash of the n-gram `concat[a..b]` from its first and last 16 bytes and its length
/// (`prefix` holds the first 16 bytes from `a`, zero-padded). Only a hint for the table: every
/// match is confirmed on the bytes, so n-grams that differ only in the middle cost a comparison,
/// never a wrong count; that is much cheaper than hashing every byte of every candidate.
#[inline]
fn gram_hash(prefix: u128, concat: &[u8], a: usize, b: usize) -> u64 {
    let len = b - a;
    let (first, last) = if len >= PREFIX {
        let mut buf = [0u8; PREFIX];
        buf.copy_from_slice(&concat[b - PREFIX..b]);
        (prefix, u128::from_le_bytes(buf))
    } else {
        (prefix & ((1u128 << (8 * len)) - 1), 0)
    };
    let x = fold_mul(
        first as u64 ^ 0x243f_6a88_85a3_08d3,
        last as u64 ^ 0x1319_8a2e_0370_7344,
    );
    let y = fold_mul(
        (first >> 64) as u64 ^ 0xa409_3822_299f_31d0,
        (last >> 64) as u64 ^ 0x082e_fa98_ec4e_6c89 ^ len as u64,
    );
    x ^ y.rotate_left(29)
}

/// Spreads a hash over all 64 bits (the table's home slot comes from the top bits).
#[inline]
fn spread(h: u64) -> u64 {
    (h ^ (h >> 29)).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

#[derive(Default)]
struct Scratch {
    /// Prefix sums over words: code points and bytes.
    cum_chars: Vec<usize>,
    cum_bytes: Vec<usize>,
    /// Whether the first `PREFIX` bytes of the concatenated words from each word on (zero-padded:
    /// see [`prefix_at`]) occur at more than one word (see `prepare_hashes`).
    repeated_prefix: Vec<bool>,
    /// Positions that a duplicate pass of n-grams of `cand_n` or more words must look up:
    /// repeated prefix, or an n-gram shorter than `PREFIX` bytes.
    cands: Vec<u32>,
    cand_n: usize,
    /// The words' bytes concatenated (then `PREFIX` zero bytes).
    concat: Vec<u8>,
    /// The n-gram table, reused by every pass (and by the prefix screen before them).
    table: PosTable,
}

/// Documents of more words than this do not leave their tables to the thread: the next
/// (ordinary) document does not need them, and one huge page must not pin its memory.
const KEEP_MAX_WORDS: usize = 1 << 18;

/// The first `PREFIX` bytes of `concat` from `at` (`concat` ends with `PREFIX` zero bytes, so
/// a prefix near the end is zero-padded). Loaded when needed instead of kept per word: 16 bytes
/// a word is three times the text.
#[inline]
fn prefix_at(concat: &[u8], at: usize) -> u128 {
    let mut buf = [0u8; PREFIX];
    if let Some(src) = concat.get(at..at + PREFIX) {
        buf.copy_from_slice(src);
    }
    u128::from_le_bytes(buf)
}

/// The table hash of a prefix.
#[inline]
fn prefix_hash(key: u128) -> u64 {
    (key as u64) ^ ((key >> 64) as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// An open-addressing table from 64-bit hashes to (first position, count), for the n-gram
/// passes. A probe reads one 4-byte fingerprint of the hash (0 marks an empty slot); the
/// position and count sit in side arrays read only on a fingerprint match, where the caller
/// compares the actual n-grams (so a fingerprint collision never counts). The table has only as
/// many slots as the document needs, so that the probed fingerprints stay in cache.
#[derive(Default)]
struct PosTable {
    /// (fingerprint, first position) side by side: a probe touches one cache line.
    slots: Vec<(u32, u32)>,
    count: Vec<u32>,
    bits: u32,
}

/// The fingerprint of a hash: never 0, and from other bits than the home slot.
#[inline]
fn fingerprint(h: u64) -> u32 {
    (spread(h) as u32) | 1
}

impl PosTable {
    /// Empties the table for a pass over `n` items.
    fn reset(&mut self, n: usize) {
        // At most half full (short probes) for ordinary documents; a huge one gets 1.5 slots an
        // item instead of 2 (before rounding up), which saves a third of the table's memory for
        // a few more probes.
        let want = if n > KEEP_MAX_WORDS {
            n + n / 2
        } else {
            n.max(8) * 2
        };
        let bits = want.next_power_of_two().trailing_zeros();
        let cap = 1usize << bits;
        if cap > self.slots.len() {
            self.slots.resize(cap, (0, 0));
            self.count.resize(cap, 0);
        }
        self.slots[..cap].fill((0, 0));
        self.bits = bits;
    }

    /// The first slot probed for hash `h`.
    #[inline]
    fn home(&self, h: u64) -> usize {
        (spread(h) >> (64 - self.bits)) as usize
    }

    /// The slot holding an entry with hash `h` for which `same(pos)` holds, or the empty slot
    /// where it goes (`Err`). Entries with the same hash but `same` false are distinct entries.
    #[inline]
    fn find(&self, h: u64, mut same: impl FnMut(u32) -> bool) -> Result<usize, usize> {
        let mask = (1usize << self.bits) - 1;
        let fp = fingerprint(h);
        let mut i = self.home(h);
        loop {
            let (f, pos) = self.slots[i];
            if f == 0 {
                return Err(i);
            }
            if f == fp && same(pos) {
                return Ok(i);
            }
            i = (i + 1) & mask;
        }
    }

    /// Starts loading the home slot of hash `h` into the cache (a hint, no effect otherwise).
    #[inline]
    fn prefetch(&self, h: u64) {
        crate::mem::prefetch(&self.slots, self.home(h));
    }

    #[inline]
    fn insert_at(&mut self, slot: usize, h: u64, pos: u32) {
        self.slots[slot] = (fingerprint(h), pos);
    }
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// The n-gram statistics of one word sequence; see [`with_ngrams`].
pub struct Ngrams<'a> {
    text: &'a str,
    words: &'a [(usize, usize)],
    vocab: &'a Vocab,
    s: &'a mut Scratch,
    hashes_ready: bool,
    /// Over the distinct words: the largest `count * chars`, and the largest count.
    most_chars: usize,
    most: usize,
}

/// Runs `f` with the n-gram statistics of the words `words` (byte ranges into `text`, interned
/// as `vocab`), using this thread's reusable tables.
pub fn with_ngrams<R>(
    text: &str,
    words: &[(usize, usize)],
    vocab: &Vocab,
    f: impl FnOnce(&mut Ngrams<'_>) -> R,
) -> R {
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut s) => {
            let mut ng = Ngrams::new(text, words, vocab, &mut s);
            let r = f(&mut ng);
            if words.len() > KEEP_MAX_WORDS {
                *s = Scratch::default();
            }
            r
        }
        // Re-entrant use (not expected) gets fresh tables instead of a panic.
        Err(_) => {
            let mut s = Scratch::default();
            let mut ng = Ngrams::new(text, words, vocab, &mut s);
            f(&mut ng)
        }
    })
}

impl<'a> Ngrams<'a> {
    fn new(
        text: &'a str,
        words: &'a [(usize, usize)],
        vocab: &'a Vocab,
        s: &'a mut Scratch,
    ) -> Self {
        // Prefix sums filled with `extend` over exact-size iterators: no capacity check per word.
        let chars = &vocab.chars;
        let mut nc = 0usize;
        s.cum_chars.clear();
        s.cum_chars.push(0);
        s.cum_chars.extend(vocab.ids.iter().map(|&id| {
            nc += chars[id as usize] as usize;
            nc
        }));
        let mut nb = 0usize;
        s.cum_bytes.clear();
        s.cum_bytes.push(0);
        s.cum_bytes.extend(words.iter().map(|&(a, b)| {
            nb += b - a;
            nb
        }));
        let (mut most_chars, mut most) = (0usize, 0usize);
        for (&count, &chars) in vocab.count.iter().zip(&vocab.chars) {
            most_chars = most_chars.max(count as usize * chars as usize);
            most = most.max(count as usize);
        }
        Ngrams {
            text,
            words,
            vocab,
            s,
            hashes_ready: false,
            most_chars,
            most,
        }
    }

    /// A coarser upper bound of [`Ngrams::top_ngram_chars`] from the distinct words alone: the
    /// top n-gram occurs `c` times, at most as often as each of its words, so `c` times its
    /// length is at most `n * max(count * chars)` over the words plus `(n - 1) * max(count)`
    /// for the spaces. Cheap, and enough to settle most prose. `None` when there are fewer
    /// than `n` words.
    pub fn top_ngram_chars_quick_bound(&self, n: usize) -> Option<usize> {
        let nw = self.vocab.ids.len();
        if n == 0 || nw < n {
            return None;
        }
        Some(n * self.most_chars + (n - 1) * self.most)
    }

    /// An upper bound of [`Ngrams::top_ngram_chars`] that needs no n-gram table: an n-gram
    /// occurs at most as often as its rarest word, so no n-gram scores more than the largest
    /// `min(word counts) * length` over the windows. `None` when there are fewer than `n` words.
    pub fn top_ngram_chars_bound(&self, n: usize) -> Option<usize> {
        let s = &*self.s;
        let nw = s.cum_bytes.len() - 1;
        if n == 0 || nw < n {
            return None;
        }
        let mut best = 0;
        let count = &self.vocab.count;
        for (i, win) in self.vocab.ids.windows(n).enumerate() {
            let m = win.iter().map(|&id| count[id as usize]).min().unwrap_or(0);
            let chars = s.cum_chars[i + n] - s.cum_chars[i] + (n - 1);
            best = best.max(m as usize * chars);
        }
        Some(best)
    }

    /// The largest `count * len(" ".join(ngram))` over the word n-grams, where the n-gram is the
    /// most frequent one and, among equally frequent ones, the first to appear (Python's
    /// `Counter.most_common(1)`). `None` when there are fewer than `n` words.
    pub fn top_ngram_chars(&mut self, n: usize) -> Option<usize> {
        let s = &mut *self.s;
        let ids = &self.vocab.ids;
        let nw = ids.len();
        if n == 0 || nw < n {
            return None;
        }
        s.table.reset(nw);
        let (mut best_count, mut best_first) = (0u32, u32::MAX);
        for i in 0..=nw - n {
            let win = &ids[i..i + n];
            let mut h = 0u64;
            for &id in win {
                h = (h.rotate_left(23) ^ u64::from(id)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
            }
            let slot = s.table.find(h, |f| &ids[f as usize..f as usize + n] == win);
            let (count, first) = match slot {
                Ok(slot) => {
                    s.table.count[slot] += 1;
                    (s.table.count[slot], s.table.slots[slot].1)
                }
                Err(slot) => {
                    s.table.insert_at(slot, h, i as u32);
                    s.table.count[slot] = 1;
                    (1, i as u32)
                }
            };
            if count > best_count || (count == best_count && first < best_first) {
                best_count = count;
                best_first = first;
            }
        }
        let f = best_first as usize;
        let chars = s.cum_chars[f + n] - s.cum_chars[f] + (n - 1);
        Some(chars * best_count as usize)
    }

    fn prepare_hashes(&mut self) {
        if self.hashes_ready {
            return;
        }
        self.hashes_ready = true;
        let s = &mut *self.s;
        let bytes = self.text.as_bytes();
        s.cand_n = 0;
        let nw = s.cum_bytes.len() - 1;
        let total = s.cum_bytes[nw];
        // Room for a fixed 16-byte copy at the end. A short word is copied as 16 bytes (one
        // move, not a library call); the next word overwrites the excess.
        s.concat.clear();
        s.concat.resize(total + 2 * PREFIX, 0);
        let mut p = 0;
        for &(a, b) in self.words {
            let len = b - a;
            match bytes.get(a..a + PREFIX) {
                Some(src) if len <= PREFIX => s.concat[p..p + PREFIX].copy_from_slice(src),
                _ => s.concat[p..p + len].copy_from_slice(&bytes[a..b]),
            }
            p += len;
        }
        // Zero padding, so that a prefix near the end reads zeros past the last word.
        s.concat.truncate(total);
        s.concat.extend_from_slice(&[0u8; PREFIX]);

        // Two n-grams with the same concatenation of at least PREFIX bytes start with the same
        // PREFIX bytes of concatenated words. So an n-gram whose first PREFIX bytes occur at no
        // other word can neither repeat an earlier n-gram nor be repeated by a later one, and
        // the duplicate passes skip it: in ordinary prose that is almost every n-gram.
        // The probes go to random slots of a table larger than the L1 cache: each one asks for
        // the slot of the probe `AHEAD` positions on, so its line is there when needed.
        const AHEAD: usize = 8;
        s.repeated_prefix.clear();
        s.repeated_prefix.resize(nw, false);
        s.table.reset(nw);
        // Disjoint borrows, so that the loop keeps the slices in registers.
        let (concat, starts) = (&s.concat[..], &s.cum_bytes[..nw]);
        let (repeated, table) = (&mut s.repeated_prefix[..], &mut s.table);
        for (i, &at) in starts.iter().enumerate() {
            if let Some(&ahead) = starts.get(i + AHEAD) {
                table.prefetch(prefix_hash(prefix_at(concat, ahead)));
            }
            let key = prefix_at(concat, at);
            let h = prefix_hash(key);
            match table.find(h, |p| prefix_at(concat, starts[p as usize]) == key) {
                // Both the first occurrence and this one are repeated.
                Ok(slot) => {
                    repeated[table.slots[slot].1 as usize] = true;
                    repeated[i] = true;
                }
                Err(slot) => table.insert_at(slot, h, i as u32),
            }
        }
    }

    /// Makes `cands` valid for passes of `n` words (a list for fewer words also serves more:
    /// an n-gram is at least as long as its prefix of fewer words).
    fn prepare_candidates(&mut self, n: usize) {
        let s = &mut *self.s;
        if s.cand_n != 0 && s.cand_n <= n {
            return;
        }
        s.cand_n = n;
        let nw = s.cum_bytes.len() - 1;
        // Branch-free: every position is written, and the end advances only past candidates
        // (about one position in six, at random: a branch would mispredict often).
        s.cands.clear();
        s.cands.resize(nw - n + 1, 0);
        let (cum, repeated) = (&s.cum_bytes[..], &s.repeated_prefix[..]);
        let mut k = 0;
        for (i, (win, &rep)) in cum.windows(n + 1).zip(repeated).enumerate() {
            s.cands[k] = i as u32;
            k += usize::from(rep | (win[n] - win[0] < PREFIX));
        }
        s.cands.truncate(k);
    }

    /// datatrove's `find_all_duplicate`: scanning left to right, an n-gram (its words
    /// concatenated) seen before adds its length in code points and the scan jumps past it;
    /// otherwise it is remembered and the scan moves one word.
    ///
    /// `may_matter(upper)` is asked with an upper bound of the final count as the scan goes;
    /// once it answers false the scan stops and returns the (smaller) count so far, which the
    /// caller then knows to be irrelevant. Pass `|_| true` for the exact count.
    pub fn duplicate_ngram_chars(&mut self, n: usize, may_matter: impl Fn(usize) -> bool) -> usize {
        let nw = self.vocab.ids.len();
        if n == 0 || nw < n {
            return 0;
        }
        self.prepare_hashes();
        self.prepare_candidates(n);
        let s = &mut *self.s;
        s.table.reset(s.cands.len());
        // Disjoint borrows, so that the loop keeps the slices in registers.
        let (cum_bytes, cum_chars, concat) = (&s.cum_bytes[..], &s.cum_chars[..], &s.concat[..]);
        let (repeated_prefix, table) = (&s.repeated_prefix[..], &mut s.table);
        let total_chars = cum_chars[nw];
        let mut repeated = 0;
        // The scan position: n-grams starting before it were jumped over after a repeat.
        let mut next = 0;
        for (k, &i) in s.cands.iter().enumerate() {
            let i = i as usize;
            if i < next || i + n > nw {
                continue;
            }
            // Checked every 64 candidates: the words from i on can add at most their length.
            if k % 64 == 0 && !may_matter(repeated + total_chars - cum_chars[i]) {
                return repeated;
            }
            let j = i + n;
            let (a, b) = (cum_bytes[i], cum_bytes[j]);
            if b - a >= PREFIX && !repeated_prefix[i] {
                // A longer list made for fewer words: this n-gram's prefix is unique.
                continue;
            }
            let gram = &concat[a..b];
            let h = gram_hash(prefix_at(concat, a), concat, a, b);
            match table.find(h, |st| {
                let st = st as usize;
                &concat[cum_bytes[st]..cum_bytes[st + n]] == gram
            }) {
                Ok(_) => {
                    repeated += cum_chars[j] - cum_chars[i];
                    next = j;
                }
                Err(slot) => table.insert_at(slot, h, i as u32),
            }
        }
        repeated
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::vocab::tests::spans;

    /// Direct transcription of the definitions, on strings.
    fn naive_top(words: &[&str], n: usize) -> Option<usize> {
        if words.len() < n {
            return None;
        }
        let grams: Vec<String> = words.windows(n).map(|w| w.join(" ")).collect();
        let mut order: Vec<(String, usize)> = Vec::new();
        for g in grams {
            match order.iter_mut().find(|(s, _)| *s == g) {
                Some(e) => e.1 += 1,
                None => order.push((g, 1)),
            }
        }
        let max = order.iter().map(|e| e.1).max()?;
        let e = order.iter().find(|e| e.1 == max)?;
        Some(e.0.chars().count() * e.1)
    }

    /// max over windows of (count of the window's rarest word) x (window joined by spaces).
    fn naive_bound(words: &[&str], n: usize) -> Option<usize> {
        if n == 0 || words.len() < n {
            return None;
        }
        let count = |w: &str| words.iter().filter(|x| **x == w).count();
        words
            .windows(n)
            .map(|win| {
                let m = win.iter().map(|w| count(w)).min().unwrap_or(0);
                m * win.join(" ").chars().count()
            })
            .max()
    }

    fn naive_dup(words: &[&str], n: usize) -> usize {
        let mut seen = std::collections::HashSet::new();
        let (mut rep, mut i) = (0, 0);
        while i + n <= words.len() {
            let g: String = words[i..i + n].concat();
            if seen.contains(&g) {
                rep += g.chars().count();
                i += n;
            } else {
                seen.insert(g);
                i += 1;
            }
        }
        rep
    }

    #[test]
    fn matches_the_string_definitions() {
        let texts = [
            "a b a b a b c",
            "ab c d e f g x a bc d e f g",
            "the cat sat on the mat the cat sat on the mat and the cat",
            "x",
            "é é é é é é é é é é é é",
            "aa a a aa a a aa a a aa",
            "alpha beta gamma delta epsilon zeta alpha beta gamma delta epsilon zeta eta theta",
            // Same concatenation, other words: long enough for the prefix screen.
            "abcdefgh ijklmnop qr st uv w abcdefghijklmnop qrs t uv w x abcdefgh ijklmnop qr st uv",
            "longword1 longword2 longword3 longword4 longword5 longword6 longword1 longword2 \
             longword3 longword4 longword5 longword6 longword7 longword1 longword2 longword3",
            // Same first and last 16 bytes and length, other middle: equal hashes, unequal grams.
            "abcdefghijklmnopq r s t u v w x y z0123456789abcdef abcdefghijklmnopq r s t X v w x \
             y z0123456789abcdef abcdefghijklmnopq r s t u v w x y z0123456789abcdef",
        ];
        for t in texts {
            let sp = spans(t);
            let words: Vec<&str> = sp.iter().map(|&(a, b)| &t[a..b]).collect();
            let vocab = Vocab::new(t, &sp);
            with_ngrams(t, &sp, &vocab, |ng| {
                for n in 1..=5 {
                    assert_eq!(ng.top_ngram_chars(n), naive_top(&words, n), "{t} top {n}");
                    let bound = ng.top_ngram_chars_bound(n);
                    assert!(bound >= ng.top_ngram_chars(n), "{t} bound {n}");
                    assert_eq!(bound, naive_bound(&words, n), "{t} bound {n}");
                }
                for n in 0..=12 {
                    let quick = ng.top_ngram_chars_quick_bound(n);
                    assert!(quick >= ng.top_ngram_chars_bound(n), "{t} quick bound {n}");
                    assert_eq!(quick.is_some(), ng.top_ngram_chars_bound(n).is_some());
                }
                // Both orders: the candidate list made for one size serves larger ones only.
                for n in (1..=10).chain((1..=10).rev()) {
                    assert_eq!(
                        ng.duplicate_ngram_chars(n, |_| true),
                        naive_dup(&words, n),
                        "{t} dup {n}"
                    );
                }
            });
        }
    }

    #[test]
    fn concatenation_equality_differs_from_sequence_equality() {
        let a: Vec<&str> = vec!["ab", "c"];
        let b: Vec<&str> = vec!["a", "bc"];
        let t = "ab c a bc";
        let sp = spans(t);
        assert_eq!(naive_dup(&[a, b].concat(), 2), 3);
        let vocab = Vocab::new(t, &sp);
        with_ngrams(t, &sp, &vocab, |ng| {
            assert_eq!(ng.duplicate_ngram_chars(2, |_| true), 3)
        });
    }
}
