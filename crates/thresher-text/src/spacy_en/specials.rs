//! The tokenizer exceptions ("special cases") and the pass that re-merges them after affix splitting.
//!
//! spaCy looks special cases up by the exact string of a chunk or of a chunk remainder during affix
//! splitting. Afterwards, a phrase matcher finds every token sequence equal to the *plain*
//! tokenization of a special case that contains affixes (for example `a` `.` for `a.`, or `:` `)`
//! for `:)`) and, when the matched text is exactly the special string, replaces those tokens by the
//! special case's own tokens.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::OnceLock;

use super::tables::{MATCHER_PATTERNS, SPECIALS};

/// A small, fast hasher for short strings (the keys are at most a few dozen bytes).
#[derive(Default)]
pub(crate) struct ShortHasher(u64);

impl Hasher for ShortHasher {
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }

    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut h = self.0 ^ (bytes.len() as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            h = (h.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(0x51_7C_C1_B7_27_22_0A_95);
        }
        let rem = chunks.remainder();
        if !rem.is_empty() {
            let mut w = [0u8; 8];
            w[..rem.len()].copy_from_slice(rem);
            h = (h.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(0x51_7C_C1_B7_27_22_0A_95);
        }
        self.0 = h ^ (h >> 29);
    }

    #[inline]
    fn write_u8(&mut self, _: u8) {
        // `str`'s Hash writes a 0xff terminator after the bytes; the length is already mixed in.
    }
}

type Map<K, V> = HashMap<K, V, BuildHasherDefault<ShortHasher>>;

pub(crate) struct Specials {
    map: Map<&'static str, &'static [u8]>,
    /// Longest special string, in bytes: anything longer is rejected without hashing.
    max_len: usize,
    /// Pre-filter over (length, first byte, last byte) of the special strings: most words are
    /// rejected by one bit test, without hashing.
    bloom: Bloom,
    /// The same for the special strings made of ASCII letters only (`dont`, `gonna`, ...), smaller
    /// so that it stays in the L1 cache: the filter every plain word goes through.
    letters_bloom: Bloom<256>,
    /// Longest special string of ASCII letters only, in bytes.
    letters_max_len: usize,
    /// Matcher patterns (of two or more tokens) by their first token.
    patterns_by_first: Map<&'static str, Vec<&'static [&'static str]>>,
    /// The subset of `patterns_by_first` whose replacement changes the tokens (for `He's`, the
    /// plain tokens `He` `'s` already are the special case's tokens, so a match changes nothing).
    effective_by_first: Map<&'static str, Vec<&'static [&'static str]>>,
    /// Pre-filter over the first tokens of `effective_by_first`.
    effective_bloom: Bloom,
    /// The longest first token of `effective_by_first`, in bytes.
    effective_first_max_len: usize,
    /// Pre-filter over the first tokens of `patterns_by_first`.
    patterns_bloom: Bloom,
    /// The most tokens in one pattern.
    max_pattern_len: usize,
}

/// A one-probe Bloom filter of `64 * W` bits (`W` a power of two, at most 1024) keyed by a
/// string's length and its first, second and last bytes.
struct Bloom<const W: usize = 1024>([u64; W]);

impl<const W: usize> Bloom<W> {
    fn new() -> Self {
        Bloom([0; W])
    }

    #[inline(always)]
    fn slot(s: &[u8]) -> usize {
        let (Some(&a), Some(&z)) = (s.first(), s.last()) else {
            return 0;
        };
        let b = s.get(1).copied().unwrap_or(0);
        let x = (s.len() as u32)
            .wrapping_mul(0x9E37_79B1)
            .wrapping_add(u32::from(a).wrapping_mul(0x85EB_CA77))
            .wrapping_add(u32::from(b).wrapping_mul(0x27D4_EB2F))
            .wrapping_add(u32::from(z).wrapping_mul(0xC2B2_AE3D));
        ((x ^ (x >> 16)) as usize) & (W * 64 - 1)
    }

    fn insert(&mut self, s: &str) {
        let i = Self::slot(s.as_bytes());
        self.0[i >> 6] |= 1 << (i & 63);
    }

    #[inline(always)]
    fn may_contain(&self, s: &str) -> bool {
        let i = Self::slot(s.as_bytes());
        self.0[i >> 6] & (1 << (i & 63)) != 0
    }
}

static SPECIALS_CELL: OnceLock<Specials> = OnceLock::new();

pub(crate) fn specials() -> &'static Specials {
    SPECIALS_CELL.get_or_init(|| {
        let mut map = Map::default();
        let mut max_len = 0;
        let mut bloom = Bloom::new();
        let mut letters_bloom = Bloom::new();
        let mut letters_max_len = 0;
        for &(key, lens) in SPECIALS {
            map.insert(key, lens);
            max_len = max_len.max(key.len());
            bloom.insert(key);
            if key.bytes().all(|b| b.is_ascii_alphabetic()) {
                letters_bloom.insert(key);
                letters_max_len = letters_max_len.max(key.len());
            }
        }
        let mut effective_bloom = Bloom::new();
        let mut effective_first_max_len = 0;
        let mut patterns_bloom = Bloom::new();
        let mut max_pattern_len = 0;
        let mut patterns_by_first: Map<&'static str, Vec<&'static [&'static str]>> = Map::default();
        let mut effective_by_first: Map<&'static str, Vec<&'static [&'static str]>> =
            Map::default();
        for &pattern in MATCHER_PATTERNS {
            // One-token patterns only ever rewrite a token into itself, and they cannot block a
            // longer match (longer matches are applied first), so they are left out.
            if let [first, _, ..] = pattern {
                patterns_by_first.entry(*first).or_default().push(pattern);
                patterns_bloom.insert(first);
                max_pattern_len = max_pattern_len.max(pattern.len());
                let key: String = pattern.concat();
                let same = map.get(key.as_str()).is_some_and(|lens: &&[u8]| {
                    lens.len() == pattern.len()
                        && lens
                            .iter()
                            .zip(pattern.iter())
                            .all(|(&l, t)| usize::from(l) == t.len())
                });
                if !same {
                    effective_first_max_len = effective_first_max_len.max(first.len());
                    effective_bloom.insert(first);
                    effective_by_first.entry(*first).or_default().push(pattern);
                }
            }
        }
        Specials {
            map,
            max_len,
            bloom,
            letters_bloom,
            letters_max_len,
            patterns_by_first,
            effective_by_first,
            effective_bloom,
            effective_first_max_len,
            patterns_bloom,
            max_pattern_len,
        }
    })
}

impl Specials {
    /// The token byte lengths of special case `s`, if `s` is one.
    #[inline(always)]
    pub(crate) fn get(&self, s: &str) -> Option<&'static [u8]> {
        // The pre-filter rejects almost every word; keep it inline and the hash lookup out of line.
        if s.len() > self.max_len || !self.bloom.may_contain(s) {
            return None;
        }
        self.lookup(s)
    }

    /// [`Specials::get`] for a string known to consist of ASCII letters only.
    #[inline(always)]
    pub(crate) fn get_letters(&self, s: &str) -> Option<&'static [u8]> {
        if s.len() > self.letters_max_len || !self.letters_bloom.may_contain(s) {
            return None;
        }
        self.lookup(s)
    }

    #[inline(never)]
    fn lookup(&self, s: &str) -> Option<&'static [u8]> {
        self.map.get(s).copied()
    }

    /// Whether the tokens `spans` (consecutive tokens of one chunk, so with no text between them)
    /// contain a whole matcher pattern whose replacement changes the tokens. Only then can the
    /// matcher pass change anything: a replacing match's text must equal a special string, and no
    /// special string the matcher looks for contains whitespace, so such a match always lies
    /// inside one chunk; and if every kept match is a no-op, the output is unchanged.
    pub(crate) fn chunk_has_pattern(&self, text: &str, spans: &[(usize, usize)]) -> bool {
        let tok = |i: usize| &text[spans[i].0..spans[i].1];
        (0..spans.len().saturating_sub(1)).any(|i| {
            let t = tok(i);
            if t.len() > self.effective_first_max_len || !self.effective_bloom.may_contain(t) {
                return false;
            }
            let pats = self
                .effective_by_first
                .get(tok(i))
                .map_or(&[][..], Vec::as_slice);
            pats.iter().any(|p| {
                i + p.len() <= spans.len()
                    && p.iter().enumerate().skip(1).all(|(k, t)| tok(i + k) == *t)
            })
        })
    }

    #[inline]
    fn patterns_starting_with(&self, s: &str) -> &[&'static [&'static str]] {
        if !self.patterns_bloom.may_contain(s) {
            return &[];
        }
        self.patterns_by_first.get(s).map_or(&[], Vec::as_slice)
    }
}

/// Whether a whitespace token separates two consecutive tokens, given the text between them.
/// spaCy attaches one following `' '` to a token; any other whitespace becomes a token of its own,
/// which the phrase matcher cannot match across.
#[inline]
fn separated(gap: &str) -> bool {
    !gap.is_empty() && gap != " "
}

/// Every match of every pattern (of two or more tokens) that starts at a token in `starts`, as
/// `(start, end)` token indices into `toks`, end exclusive.
fn matches_starting_in(
    sp: &Specials,
    text: &str,
    toks: &[(usize, usize)],
    starts: std::ops::Range<usize>,
    out: &mut Vec<(usize, usize)>,
) {
    let tok = |i: usize| &text[toks[i].0..toks[i].1];
    for i in starts {
        for pattern in sp.patterns_starting_with(tok(i)) {
            let len = pattern.len();
            if i + len > toks.len() {
                continue;
            }
            let ok = (1..len).all(|k| {
                tok(i + k) == pattern[k] && !separated(&text[toks[i + k - 1].1..toks[i + k].0])
            });
            if ok {
                out.push((i, i + len));
            }
        }
    }
}

/// The phrase-matcher pass over the tokens `spans[from..]` of a document (byte ranges into `text`).
///
/// `candidates` (token indices relative to `from`) covers every chunk in which a match can change
/// the tokens. Whether a match is kept depends only on the matches overlapping it, and so on its
/// connected group of overlapping matches. The window starts as `candidates` and grows by every
/// match that overlaps it until no match crosses its edges; then it holds whole groups, and
/// every group that can change anything, so the rest of the document need not be searched.
pub(crate) fn apply_matcher(
    text: &str,
    spans: &mut Vec<(usize, usize)>,
    from: usize,
    candidates: std::ops::Range<usize>,
) {
    let sp = specials();
    let toks = &spans[from..];
    let n = toks.len();
    let (mut lo, mut hi) = (candidates.start.min(n), candidates.end.min(n));
    let mut matches: Vec<(usize, usize)> = Vec::new();
    let mut rounds = 0;
    loop {
        matches.clear();
        rounds += 1;
        if rounds > 8 {
            // A long chain of overlapping matches (`:):):):)...`) would make the window grow a
            // little per round; searching the whole document once keeps this linear.
            (lo, hi) = (0, n);
            matches_starting_in(sp, text, toks, 0..n, &mut matches);
            break;
        }
        matches_starting_in(
            sp,
            text,
            toks,
            lo.saturating_sub(sp.max_pattern_len)..hi,
            &mut matches,
        );
        let (mut new_lo, mut new_hi) = (lo, hi);
        for &(s, e) in &matches {
            if e > lo {
                new_lo = new_lo.min(s);
                new_hi = new_hi.max(e);
            }
        }
        if (new_lo, new_hi) == (lo, hi) {
            break;
        }
        (lo, hi) = (new_lo, new_hi);
    }
    // Matches that end at or before the window belong to groups outside it.
    matches.retain(|&(s, e)| s >= lo && e <= hi);
    if matches.is_empty() {
        return;
    }
    // spaCy's filter: longest first, then leftmost; a span is kept when neither its first nor its
    // last token was covered by a span looked at before (kept or not).
    matches.sort_unstable_by(|a, b| (b.1 - b.0).cmp(&(a.1 - a.0)).then(a.0.cmp(&b.0)));
    matches.dedup();
    let mut seen = vec![false; hi - lo];
    let mut kept: Vec<(usize, usize)> = Vec::new();
    for &(s, e) in &matches {
        if !seen[s - lo] && !seen[e - 1 - lo] {
            kept.push((s, e));
        }
        for flag in &mut seen[s - lo..e - lo] {
            *flag = true;
        }
    }
    kept.sort_unstable();
    // Replace a kept span by the special case's tokens when its text is exactly a special string.
    let mut rebuilt: Vec<(usize, usize)> = Vec::with_capacity(hi - lo);
    let mut i = lo;
    let mut k = 0;
    while i < hi {
        if k < kept.len() && kept[k].0 == i {
            let (s, e) = kept[k];
            k += 1;
            let start = toks[s].0;
            let end = toks[e - 1].1;
            if let Some(lens) = sp.get(&text[start..end]) {
                let mut at = start;
                for &l in lens {
                    rebuilt.push((at, at + usize::from(l)));
                    at += usize::from(l);
                }
            } else {
                rebuilt.extend_from_slice(&toks[s..e]);
            }
            i = e;
        } else {
            rebuilt.push(toks[i]);
            i += 1;
        }
    }
    spans.splice(from + lo..from + hi, rebuilt);
}
