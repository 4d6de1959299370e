//! Word n-gram statistics of Gopher's repetition rules, computed exactly and without building
//! the n-gram strings.
//!
//! datatrove builds every n-gram as a string: the "top n-gram" rule joins the words with a space
//! (so two n-grams are equal when their word sequences are), the "duplicate n-gram" rule
//! concatenates them without a separator (so `["ab", "c"]` equals `["a", "bc"]`). Here words
//! are interned to ids once; top n-grams are counted on id sequences, and duplicate n-grams are
//! looked up by a polynomial hash of their concatenated bytes (mod 2^61-1), which composes from
//! per-word hashes, with a byte comparison on every hit so that a hash collision never counts.

use std::cell::RefCell;
use std::ops::Range;

use hashbrown::HashTable;
use xxhash_rust::xxh3::xxh3_64;

use crate::pychar;

const MOD: u64 = (1 << 61) - 1;
/// Base of the polynomial hash: any value in 2..MOD works; this one has no small factors.
const BASE: u64 = 0x1d2c_6b7e_94f3_0a57 % MOD;

#[inline]
fn mulmod(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    let r = (p as u64 & MOD) + (p >> 61) as u64;
    if r >= MOD {
        r - MOD
    } else {
        r
    }
}

fn powmod(mut b: u64, mut e: u64) -> u64 {
    let mut r = 1;
    while e > 0 {
        if e & 1 == 1 {
            r = mulmod(r, b);
        }
        b = mulmod(b, b);
        e >>= 1;
    }
    r
}

/// Spreads a hash over all 64 bits (hashbrown reads the top bits, which a value below 2^61
/// would leave mostly zero).
#[inline]
fn spread(h: u64) -> u64 {
    (h ^ (h >> 29)).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

#[derive(Default)]
struct Scratch {
    /// Interning table: (xxh3 of the word, id); the id's first word index is in `id_first`.
    intern: HashTable<(u64, u32)>,
    id_first: Vec<u32>,
    id_poly: Vec<u64>,
    id_pow: Vec<u64>,
    id_ipow: Vec<u64>,
    ids: Vec<u32>,
    /// Prefix sums over words: code points and bytes.
    cum_chars: Vec<usize>,
    cum_bytes: Vec<usize>,
    /// Prefix polynomial hashes of the concatenation: `q` and `r = q * B^-bytes`, `pb = B^bytes`.
    q: Vec<u64>,
    r: Vec<u64>,
    pb: Vec<u64>,
    /// Top n-gram counts: (hash, first start, count).
    top: HashTable<(u64, u32, u32)>,
    /// Duplicate n-gram set: (hash, start).
    dup: HashTable<(u64, u32)>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// The n-gram statistics of one word sequence; see [`with_ngrams`].
pub struct Ngrams<'a> {
    text: &'a str,
    words: &'a [Range<usize>],
    s: &'a mut Scratch,
    hashes_ready: bool,
}

/// Runs `f` with the n-gram statistics of the words `words` (byte ranges into `text`), using
/// this thread's reusable tables.
pub fn with_ngrams<R>(
    text: &str,
    words: &[Range<usize>],
    f: impl FnOnce(&mut Ngrams<'_>) -> R,
) -> R {
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut s) => {
            let mut ng = Ngrams::new(text, words, &mut s);
            f(&mut ng)
        }
        // Re-entrant use (not expected) gets fresh tables instead of a panic.
        Err(_) => {
            let mut s = Scratch::default();
            let mut ng = Ngrams::new(text, words, &mut s);
            f(&mut ng)
        }
    })
}

impl<'a> Ngrams<'a> {
    fn new(text: &'a str, words: &'a [Range<usize>], s: &'a mut Scratch) -> Self {
        s.intern.clear();
        s.id_first.clear();
        s.ids.clear();
        s.cum_chars.clear();
        s.cum_bytes.clear();
        s.cum_chars.push(0);
        s.cum_bytes.push(0);
        let (mut nc, mut nb) = (0usize, 0usize);
        for (i, r) in words.iter().enumerate() {
            let w = &text.as_bytes()[r.clone()];
            let h = xxh3_64(w);
            let id = match s.intern.find(h, |&(hh, id)| {
                hh == h && {
                    let f = &words[s.id_first[id as usize] as usize];
                    &text.as_bytes()[f.clone()] == w
                }
            }) {
                Some(&(_, id)) => id,
                None => {
                    let id = s.id_first.len() as u32;
                    s.id_first.push(i as u32);
                    s.intern.insert_unique(h, (h, id), |&(hh, _)| hh);
                    id
                }
            };
            s.ids.push(id);
            nc += if w.is_ascii() {
                w.len()
            } else {
                pychar::char_len(&text[r.clone()])
            };
            nb += w.len();
            s.cum_chars.push(nc);
            s.cum_bytes.push(nb);
        }
        Ngrams {
            text,
            words,
            s,
            hashes_ready: false,
        }
    }

    /// The largest `count * len(" ".join(ngram))` over the word n-grams, where the n-gram is the
    /// most frequent one and, among equally frequent ones, the first to appear (Python's
    /// `Counter.most_common(1)`). `None` when there are fewer than `n` words.
    pub fn top_ngram_chars(&mut self, n: usize) -> Option<usize> {
        let s = &mut *self.s;
        let nw = s.ids.len();
        if n == 0 || nw < n {
            return None;
        }
        s.top.clear();
        let ids = &s.ids;
        let (mut best_count, mut best_first) = (0u32, u32::MAX);
        for i in 0..=nw - n {
            let win = &ids[i..i + n];
            let mut h = 0u64;
            for &id in win {
                h = (h.rotate_left(23) ^ u64::from(id)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
            }
            let h = spread(h);
            let (count, first) = match s.top.find_mut(h, |&(hh, f, _)| {
                hh == h && &ids[f as usize..f as usize + n] == win
            }) {
                Some(e) => {
                    e.2 += 1;
                    (e.2, e.1)
                }
                None => {
                    s.top.insert_unique(h, (h, i as u32, 1), |&(hh, _, _)| hh);
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
        let inv_base = powmod(BASE, MOD - 2);
        s.id_poly.clear();
        s.id_pow.clear();
        s.id_ipow.clear();
        for &first in &s.id_first {
            let w = &bytes[self.words[first as usize].clone()];
            let mut h = 0u64;
            for &b in w {
                h = mulmod(h, BASE) + u64::from(b) + 1;
                if h >= MOD {
                    h -= MOD;
                }
            }
            s.id_poly.push(h);
            s.id_pow.push(powmod(BASE, w.len() as u64));
            s.id_ipow.push(powmod(inv_base, w.len() as u64));
        }
        s.q.clear();
        s.r.clear();
        s.pb.clear();
        let (mut q, mut pb, mut ipb) = (0u64, 1u64, 1u64);
        s.q.push(q);
        s.pb.push(pb);
        s.r.push(0);
        for &id in &s.ids {
            let id = id as usize;
            q = mulmod(q, s.id_pow[id]) + s.id_poly[id];
            if q >= MOD {
                q -= MOD;
            }
            pb = mulmod(pb, s.id_pow[id]);
            ipb = mulmod(ipb, s.id_ipow[id]);
            s.q.push(q);
            s.pb.push(pb);
            s.r.push(mulmod(q, ipb));
        }
    }

    /// datatrove's `find_all_duplicate`: scanning left to right, an n-gram (its words
    /// concatenated) seen before adds its length in code points and the scan jumps past it;
    /// otherwise it is remembered and the scan moves one word.
    pub fn duplicate_ngram_chars(&mut self, n: usize) -> usize {
        let nw = self.s.ids.len();
        if n == 0 || nw < n {
            return 0;
        }
        self.prepare_hashes();
        let s = &mut *self.s;
        let text = self.text.as_bytes();
        let words = self.words;
        s.dup.clear();
        let mut repeated = 0;
        let mut i = 0;
        while i + n <= nw {
            let j = i + n;
            // Hash of the concatenation of words i..j: q[j] - q[i] * B^(bytes(i..j)).
            let mut h = s.q[j] + MOD - mulmod(s.r[i], s.pb[j]);
            if h >= MOD {
                h -= MOD;
            }
            let key = spread(h);
            let len_b = s.cum_bytes[j] - s.cum_bytes[i];
            let cum_bytes = &s.cum_bytes;
            let found = s
                .dup
                .find(key, |&(hh, st)| {
                    let st = st as usize;
                    hh == h
                        && cum_bytes[st + n] - cum_bytes[st] == len_b
                        && same_concat(text, &words[st..st + n], &words[i..j])
                })
                .is_some();
            if found {
                repeated += s.cum_chars[j] - s.cum_chars[i];
                i += n;
            } else {
                s.dup
                    .insert_unique(key, (h, i as u32), |&(hh, _)| spread(hh));
                i += 1;
            }
        }
        repeated
    }
}

/// Whether the words `a` and the words `b` concatenate to the same bytes (equal total length
/// already checked).
fn same_concat(text: &[u8], a: &[Range<usize>], b: &[Range<usize>]) -> bool {
    let mut ai = a.iter().map(|r| &text[r.clone()]);
    let mut bi = b.iter().map(|r| &text[r.clone()]);
    let (mut x, mut y): (&[u8], &[u8]) = (&[], &[]);
    loop {
        if x.is_empty() {
            match ai.next() {
                Some(w) => x = w,
                None => return y.is_empty() && bi.all(<[u8]>::is_empty),
            }
            continue;
        }
        if y.is_empty() {
            match bi.next() {
                Some(w) => y = w,
                None => return false,
            }
            continue;
        }
        let k = x.len().min(y.len());
        if x[..k] != y[..k] {
            return false;
        }
        x = &x[k..];
        y = &y[k..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spans(text: &str) -> Vec<Range<usize>> {
        let mut out = Vec::new();
        let mut pos = 0;
        for w in text.split(' ') {
            out.push(pos..pos + w.len());
            pos += w.len() + 1;
        }
        out
    }

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
        ];
        for t in texts {
            let sp = spans(t);
            let words: Vec<&str> = sp.iter().map(|r| &t[r.clone()]).collect();
            with_ngrams(t, &sp, |ng| {
                for n in 1..=5 {
                    assert_eq!(ng.top_ngram_chars(n), naive_top(&words, n), "{t} top {n}");
                }
                for n in 1..=10 {
                    assert_eq!(
                        ng.duplicate_ngram_chars(n),
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
        assert!(same_concat(t.as_bytes(), &sp[0..2], &sp[2..4]));
        assert_eq!(naive_dup(&[a, b].concat(), 2), 3);
        with_ngrams(t, &sp, |ng| assert_eq!(ng.duplicate_ngram_chars(2), 3));
    }
}
