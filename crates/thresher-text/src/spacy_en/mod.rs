//! spaCy 3.8's English tokenizer rules, re-implemented: see [`SpacyEnTokenizer`].

pub(crate) mod classes;
mod specials;
mod tables;
mod url;

use classes::{
    is_alpha, is_icon, is_infix_dot_after, is_infix_dot_before, is_prefix_char, is_space,
    is_suffix_char, is_suffix_dot_before, is_suffix_upper,
};
use specials::{apply_matcher, specials, Specials};
use tables::{CURRENCY, UNITS};

/// Word-at-a-time byte tests for the chunk scanner.
mod swar {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;

    /// High bit set in (at least) the lowest byte of `x` that is `<= 0x20` (ASCII whitespace and
    /// controls) or `>= 0x80` (UTF-8); zero when there is none.
    #[inline]
    pub(super) fn stop_mask(x: u64) -> u64 {
        (x.wrapping_sub(LO * 0x21) & !x & HI) | (x & HI)
    }

    /// Non-zero when some byte of `x` (all bytes in 0x21..0x80) is not an ASCII letter.
    #[inline]
    pub(super) fn non_letter_mask(x: u64) -> u64 {
        let y = x | (LO * 0x20);
        let below_a = y.wrapping_sub(LO * 0x61) & !y & HI;
        let above_z = (y.wrapping_add(LO * (127 - 0x7a)) | y) & HI;
        below_a | above_z
    }
}

/// spaCy 3.8's English tokenizer rules (the `en` tokenizer datatrove uses, `spacy.blank("en")`),
/// version 1: `spacy_en_3.8_v1`.
///
/// # Algorithm
///
/// spaCy's tokenizer, and so this one, works in four stages:
///
/// 1. **Chunks.** The text is cut into maximal runs of whitespace and of non-whitespace
///    (whitespace as Python's `str.isspace()` defines it). A single `' '` after a chunk belongs to
///    the token before it; any other whitespace run becomes a whitespace token. datatrove strips
///    every token and drops the empty ones, so whitespace tokens never reach the output, but they
///    still matter in stage 4.
/// 2. **Affixes.** Each non-whitespace chunk is looked up in the special cases (tokenizer
///    exceptions such as `don't` → `do` `n't`, `e.g.`, `:)`). If it is not one, prefixes
///    (`(`, `"`, `$`, `..`, ...) and suffixes (`)`, `,`, `'s`, `.` after a lower-case letter or
///    two capitals, units after a digit, ...) are peeled off, one prefix and one suffix per round,
///    until neither matches. A round stops early when the remainder, or the remainder without
///    the prefix or the suffix just found, is a special case.
/// 3. **Infixes.** What remains is kept whole if it is a special case or a URL (spaCy's
///    `URL_MATCH`); otherwise it is split around infixes: dot runs, `…`, symbols, `-`/`+`/`*`/`^`
///    between digits, `.` between a lower-case and an upper-case letter, `,` and hyphens between
///    letters, and `:<>=/` after a letter or digit and before a letter. An infix at position 0
///    is not split off.
/// 4. **Special-case matcher.** Special cases that contain affixes (`a.`, `:)`, `Ph.D.`, ...) are
///    also searched as token sequences over the document. Matches are filtered (longest first,
///    then leftmost; a match whose first or last token is already covered is dropped) and a kept
///    match whose text is exactly the special string is replaced by the special case's tokens.
///    Such a replacement can only happen inside one chunk, so the search only runs in documents
///    where some chunk contains a pattern whose replacement changes its tokens, and only over the
///    smallest window around those chunks that no overlapping match crosses.
///
/// Prefix matching follows Python's `re.search` on `^a|^b|...`: the first alternative that matches
/// wins. Suffix matching follows `re.search` on `a$|b$|...`: the match starting leftmost wins, so the
/// longest matching tail is taken. Infix matching follows `re.finditer`: left to right, the first
/// alternative at each position, continuing after the match.
///
/// Every character class is a table generated from spaCy's own compiled regexes by
/// `scripts/gen_spacy_en_tables.py`, so the sets are exactly what Python's `re` matches.
///
/// # Speed
///
/// No regex and no allocation per token. Chunks are found eight bytes at a time (SWAR) while the
/// bytes are printable ASCII. A chunk of ASCII letters (about three chunks in four of English web
/// text) only needs the special-case lookup, which a 16-kbit Bloom filter of the letters-only
/// special strings, on (length, first, second and last byte), answers with one bit test for almost
/// every word; ASCII letters followed by
/// one punctuation mark (`word,`) have their own short path. Everything else follows the general
/// algorithm above, with byte-level shortcuts where a character class cannot match.
///
/// # Known difference
///
/// In spaCy 3.8.18, once a process has tokenized a text containing the token `IS_ALPHA` (a
/// string that collides with a spaCy symbol), every later text containing that token fails an
/// internal assertion inside datatrove's `memory_zone`, and datatrove then tokenizes the text with
/// every `IS_ALPHA` substring deleted. That depends on the history of the process, and the result
/// would not be slices of the input, so this tokenizer does not imitate it: it always returns the
/// token `IS_ALPHA` as it is (what spaCy returns the first time). No reference document has it.
#[derive(Debug, Default, Clone, Copy)]
pub struct SpacyEnTokenizer;

/// The byte classes of the chunk scanner.
const B_OTHER: u8 = 0;
const B_LETTER: u8 = 1;
const B_SPACE: u8 = 2;
/// A UTF-8 lead byte of a multi-byte sequence that may encode whitespace (U+0085, U+00A0, U+1680,
/// U+2000..U+205F, U+3000).
const B_MAYBE_SPACE: u8 = 3;

static BYTE_CLASS: [u8; 256] = {
    let mut t = [B_OTHER; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = if c.is_ascii_alphabetic() {
            B_LETTER
        } else if matches!(c, b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | 0x1c..=0x1f | b' ') {
            B_SPACE
        } else if matches!(c, 0xc2 | 0xe1 | 0xe2 | 0xe3) {
            B_MAYBE_SPACE
        } else {
            B_OTHER
        };
        b += 1;
    }
    t
};

impl SpacyEnTokenizer {
    /// The stable name of these rules: `spacy_en_3.8_v1`.
    pub const NAME: &'static str = "spacy_en_3.8_v1";

    /// Appends the byte ranges of the words of `text` to `out` (what datatrove's English
    /// `word_tokenize` returns: spaCy tokens without the whitespace tokens). Does not allocate
    /// when `out` has enough capacity, except in documents that need the special-case matcher.
    pub fn tokenize_spans_into(&self, text: &str, out: &mut Vec<(usize, usize)>) {
        let sp = specials();
        let from = out.len();
        let bytes = text.as_bytes();
        // Token range (relative to `from`) of the chunks where the special-case matcher may change
        // something; empty in almost every document.
        let (mut cand_lo, mut cand_hi) = (usize::MAX, 0);
        let mut i = 0;
        while i < bytes.len() {
            // Skip whitespace.
            match BYTE_CLASS[usize::from(bytes[i])] {
                B_SPACE => {
                    i += 1;
                    continue;
                }
                B_MAYBE_SPACE => {
                    if let Some(c) = text[i..].chars().next() {
                        if is_space(c) {
                            i += c.len_utf8();
                            continue;
                        }
                    }
                }
                _ => {}
            }
            // A chunk: up to the next whitespace character.
            let start = i;
            // Byte offset of the first byte that is not an ASCII letter (`usize::MAX`: none yet).
            let mut first_other = usize::MAX;
            loop {
                // Eight bytes at a time while they are printable ASCII (no whitespace, no UTF-8).
                while let Some(block) = bytes.get(i..i + 8) {
                    let mut w = [0u8; 8];
                    w.copy_from_slice(block);
                    let x = u64::from_le_bytes(w);
                    let stop = swar::stop_mask(x);
                    if stop == 0 {
                        let m = swar::non_letter_mask(x);
                        if m != 0 && first_other == usize::MAX {
                            first_other = i + (m.trailing_zeros() / 8) as usize;
                        }
                        i += 8;
                        continue;
                    }
                    // Bytes below the first stop byte are exact in both masks (borrows only
                    // propagate upwards), so only those are checked for letters.
                    let k = stop.trailing_zeros() / 8;
                    let below = (1u64 << (8 * k)).wrapping_sub(1);
                    let m = swar::non_letter_mask(x) & below;
                    if m != 0 && first_other == usize::MAX {
                        first_other = i + (m.trailing_zeros() / 8) as usize;
                    }
                    i += k as usize;
                    break;
                }
                let Some(&b) = bytes.get(i) else { break };
                match BYTE_CLASS[usize::from(b)] {
                    B_LETTER => i += 1,
                    B_SPACE => break,
                    B_MAYBE_SPACE => {
                        first_other = first_other.min(i);
                        match text[i..].chars().next() {
                            Some(c) if is_space(c) => break,
                            Some(c) => i += c.len_utf8(),
                            None => i += 1,
                        }
                    }
                    _ => {
                        first_other = first_other.min(i);
                        i += 1;
                    }
                }
            }
            // `i` only stops on a whitespace character or the end, both char boundaries.
            let chunk_tokens_from = out.len();
            if first_other >= i {
                push_word(sp, text, start, i, out);
            } else if first_other + 1 == i
                && first_other > start
                && push_word_and_mark(sp, text, start, i, out)
            {
                // Done: ASCII letters and one final ASCII punctuation mark.
            } else {
                tokenize_chunk(sp, text, start, i, out);
            }
            // A chunk of two tokens never needs the matcher: the only span a pattern could cover
            // is the whole chunk, which was already looked up as a special case (and, if it is
            // one, its tokens are the special case's own).
            if out.len() - chunk_tokens_from >= 3
                && sp.chunk_has_pattern(text, &out[chunk_tokens_from..])
            {
                cand_lo = cand_lo.min(chunk_tokens_from - from);
                cand_hi = out.len() - from;
            }
        }
        if cand_lo < cand_hi {
            apply_matcher(text, out, from, cand_lo..cand_hi);
        }
    }

    /// The words of `text` as slices of it.
    pub fn words<'a>(&self, text: &'a str) -> Vec<&'a str> {
        let mut spans = Vec::new();
        self.tokenize_spans_into(text, &mut spans);
        spans.into_iter().map(|(a, b)| &text[a..b]).collect()
    }
}

/// A chunk (or remainder) of ASCII letters only: a special case, or one token.
#[inline(always)]
fn push_word(sp: &Specials, text: &str, start: usize, end: usize, out: &mut Vec<(usize, usize)>) {
    if let Some(lens) = sp.get_letters(&text[start..end]) {
        push_special(lens, start, out);
    } else {
        out.push((start, end));
    }
}

/// The commonest chunk with punctuation: ASCII letters then one ASCII character (`word,`,
/// `end.`). Returns false, having pushed nothing, when the last character is not one this fast
/// path handles. Otherwise follows the general algorithm exactly for this shape: the whole chunk
/// may be a special case (`Mr.`); letters have no prefix; the mark is a suffix when it is a
/// suffix character, or a `.` after a lower-case letter or after two upper-case letters; the word
/// left may be a special case (`dont,`); a letters-only word has no further affixes, no infix
/// and no URL.
#[inline]
fn push_word_and_mark(
    sp: &Specials,
    text: &str,
    start: usize,
    end: usize,
    out: &mut Vec<(usize, usize)>,
) -> bool {
    let b = text.as_bytes();
    let mark = b[end - 1];
    let is_suffix = if mark == b'.' {
        let p = b[end - 2];
        p.is_ascii_lowercase()
            || (p.is_ascii_uppercase() && end - start >= 3 && b[end - 3].is_ascii_uppercase())
    } else if tables::LATIN1_FLAGS[usize::from(mark)] & tables::F_SUFFIX_CHAR != 0 {
        true
    } else {
        return false;
    };
    if let Some(lens) = sp.get(&text[start..end]) {
        push_special(lens, start, out);
        return true;
    }
    if !is_suffix {
        // "I." and the like: no prefix, no suffix, no infix (a final '.' has nothing after it),
        // and no URL (no top-level domain after the '.').
        out.push((start, end));
        return true;
    }
    push_word(sp, text, start, end - 1, out);
    out.push((end - 1, end));
    true
}

#[inline]
fn push_special(lens: &[u8], start: usize, out: &mut Vec<(usize, usize)>) {
    let mut at = start;
    for &l in lens {
        out.push((at, at + usize::from(l)));
        at += usize::from(l);
    }
}

/// Suffixes found in one chunk, innermost last. Almost every chunk has at most a few; a run of
/// more than `INLINE` (`"!!!!!!"`) spills to the heap.
struct SuffixStack {
    inline: [(usize, usize); SuffixStack::INLINE],
    len: usize,
    spill: Vec<(usize, usize)>,
}

impl SuffixStack {
    const INLINE: usize = 4;

    #[inline]
    fn new() -> Self {
        SuffixStack {
            inline: [(0, 0); Self::INLINE],
            len: 0,
            spill: Vec::new(),
        }
    }

    #[inline]
    fn push(&mut self, span: (usize, usize)) {
        if self.len < Self::INLINE {
            self.inline[self.len] = span;
            self.len += 1;
        } else {
            self.spill.push(span);
        }
    }

    /// Appends the suffixes to `out` in document order (the reverse of the order found).
    #[inline]
    fn drain_into(&self, out: &mut Vec<(usize, usize)>) {
        out.extend(self.spill.iter().rev());
        out.extend(self.inline[..self.len].iter().rev());
    }
}

/// Stages 2 and 3 for one non-whitespace chunk `text[start..end]`.
fn tokenize_chunk(
    sp: &Specials,
    text: &str,
    start: usize,
    end: usize,
    out: &mut Vec<(usize, usize)>,
) {
    // Prefixes are final as soon as they are found, so they go straight to `out`; suffixes are
    // found outside-in and are emitted after the middle.
    let mut suffixes = SuffixStack::new();
    let mut s = start;
    let mut e = end;
    let mut last_len = usize::MAX;
    // The special case the remainder is, when the loop found that out; `known_plain` says the
    // current `s..e` was already looked up and is not one (so it is not looked up twice).
    let mut rest_special: Option<&'static [u8]> = None;
    let mut known_plain = false;
    while s < e && e - s != last_len {
        let cur = &text[s..e];
        if !known_plain {
            rest_special = sp.get(cur);
            if rest_special.is_some() {
                break;
            }
        }
        last_len = e - s;
        let pre = find_prefix(cur);
        if pre != 0 && pre < cur.len() {
            if let Some(lens) = sp.get(&cur[pre..]) {
                out.push((s, s + pre));
                s += pre;
                rest_special = Some(lens);
                break;
            }
        }
        let suf = find_suffix(&cur[pre..]);
        if suf != 0 && suf < cur.len() {
            if let Some(lens) = sp.get(&cur[..cur.len() - suf]) {
                suffixes.push((e - suf, e));
                e -= suf;
                rest_special = Some(lens);
                break;
            }
        }
        if pre != 0 {
            out.push((s, s + pre));
            s += pre;
        }
        if suf != 0 {
            suffixes.push((e - suf, e));
            e -= suf;
        }
        // With only a prefix or only a suffix gone, the new remainder is the `minus_pre` or
        // `minus_suf` just looked up; with neither, it is unchanged. Only with both is it new.
        known_plain = pre == 0 || suf == 0;
    }
    if s < e {
        let special = if rest_special.is_some() || known_plain {
            rest_special
        } else {
            sp.get(&text[s..e])
        };
        if let Some(lens) = special {
            push_special(lens, s, out);
        } else if url::url_match(&text[s..e]) {
            out.push((s, e));
        } else {
            split_infixes(text, s, e, out);
        }
    }
    suffixes.drain_into(out);
}

/// The previous character of `s` before byte `i`.
#[inline]
fn char_before(s: &str, i: usize) -> Option<char> {
    s[..i].chars().next_back()
}

#[inline]
fn char_at(s: &str, i: usize) -> Option<char> {
    s[i..].chars().next()
}

/// Length in bytes of the prefix of `s` spaCy splits off, or 0.
fn find_prefix(s: &str) -> usize {
    let b = s.as_bytes();
    let Some(&b0) = b.first() else { return 0 };
    if b0 == b'.' {
        let dots = b.iter().take_while(|&&x| x == b'.').count();
        return if dots >= 2 { dots } else { 0 };
    }
    if s.starts_with("US$") {
        return 3;
    }
    if s.starts_with("C$") || s.starts_with("A$") {
        return 2;
    }
    if b0 == b'+' {
        return if b.get(1).is_some_and(u8::is_ascii_digit) {
            0
        } else {
            1
        };
    }
    match s.chars().next() {
        Some(c) if is_prefix_char(c) => c.len_utf8(),
        _ => 0,
    }
}

/// Length in bytes of the suffix of `s` spaCy splits off, or 0.
fn find_suffix(s: &str) -> usize {
    let b = s.as_bytes();
    let Some(&last) = b.last() else { return 0 };
    if last == b'.' {
        let dots = b.iter().rev().take_while(|&&x| x == b'.').count();
        if dots >= 2 {
            return dots;
        }
    }
    if last == b'.' {
        // No alternative longer than one character ends in a single '.'.
        return usize::from(suffix_at(s, b.len() - 1, false));
    }
    if last < 0x80 && tables::LATIN1_FLAGS[usize::from(last)] & tables::F_SUFFIX_CHAR != 0 {
        // No alternative longer than one character ends in an ASCII suffix character (checked by
        // a unit test), so the leftmost match is this character alone.
        return 1;
    }
    if last >= 0x80 {
        // The same holds for the non-ASCII suffix characters, except `…` (`……` is an alternative).
        if let Some(c) = s.chars().next_back() {
            if c != '…' && is_suffix_char(c) {
                return c.len_utf8();
            }
        }
    }
    if last.is_ascii_digit() {
        // No alternative ends in a digit (checked by a unit test).
        return 0;
    }
    // Fast rejection of the commonest case: a word ending in an ASCII letter can only lose
    // `'s`/`’s` or a unit after a digit.
    if last.is_ascii_alphabetic() {
        let tail = &b[b.len().saturating_sub(6)..];
        if !tail.iter().any(u8::is_ascii_digit) {
            // Units need a digit before them (the longest is 5 characters, at most 6 bytes ending
            // in an ASCII letter); what is left is `'s`, `'S`, `’s` and `’S`.
            if last == b's' || last == b'S' {
                if b.len() >= 2 && b[b.len() - 2] == b'\'' {
                    return 2;
                }
                if b.len() >= 4 && b[..b.len() - 1].ends_with("’".as_bytes()) {
                    return 4;
                }
            }
            return 0;
        }
    }
    // The longest fixed alternative is 5 characters: try tails from longest to shortest (leftmost
    // match start first, as `re.search` does).
    let mut starts = [0usize; 5];
    let mut n = 0;
    for (i, _) in s.char_indices().rev().take(5) {
        starts[n] = i;
        n += 1;
    }
    // Units and currencies are only worth comparing when one of them ends in this character.
    let unit_possible = s
        .chars()
        .next_back()
        .is_some_and(|c| unit_last_chars().contains(&c));
    for &i in starts[..n].iter().rev() {
        if suffix_at(s, i, unit_possible) {
            return s.len() - i;
        }
    }
    0
}

/// The characters some unit or currency ends in (a few dozen).
fn unit_last_chars() -> &'static [char] {
    static CELL: std::sync::OnceLock<Vec<char>> = std::sync::OnceLock::new();
    CELL.get_or_init(|| {
        let mut v: Vec<char> = UNITS
            .iter()
            .chain(CURRENCY)
            .filter_map(|u| u.chars().next_back())
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    })
}

/// Whether some suffix alternative matches exactly `s[i..]`, with its look-behind on `s[..i]`.
/// `unit_possible` is false when no unit or currency ends in the last character of `s`.
fn suffix_at(s: &str, i: usize, unit_possible: bool) -> bool {
    let t = &s[i..];
    let prev = char_before(s, i);
    let after_digit = prev.is_some_and(|c| c.is_ascii_digit());
    let mut chars = t.chars();
    let (Some(c), rest) = (chars.next(), chars.as_str()) else {
        return false;
    };
    if rest.is_empty() {
        if is_suffix_char(c) {
            return true;
        }
        match c {
            '+' if after_digit => return true,
            '.' => {
                let Some(p) = prev else { return false };
                if is_suffix_dot_before(p) {
                    return true;
                }
                let pp = char_before(s, i - p.len_utf8());
                if let Some(pp) = pp {
                    if pp == '°' && matches!(p, 'F' | 'f' | 'C' | 'c' | 'K' | 'k') {
                        return true;
                    }
                    if is_suffix_upper(p) && is_suffix_upper(pp) {
                        return true;
                    }
                }
                return false;
            }
            _ => {}
        }
    }
    if matches!(t, "……" | "'s" | "'S" | "’s" | "’S") {
        return true;
    }
    unit_possible && after_digit && (CURRENCY.contains(&t) || UNITS.contains(&t))
}

/// Bytes that may start an infix: `.` `+` `-` `*` `^` `,` `:` `<` `>` `=` `/` `~` and every
/// non-ASCII byte (`…`, symbols, `–`, `—`, `——`).
static INFIX_START: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0x80;
    while b < 256 {
        t[b] = true;
        b += 1;
    }
    let ascii = b".+-*^,:<>=/~";
    let mut i = 0;
    while i < ascii.len() {
        t[ascii[i] as usize] = true;
        i += 1;
    }
    t
};

/// Stage 3: split `text[s..e]` around its infixes.
fn split_infixes(text: &str, s: usize, e: usize, out: &mut Vec<(usize, usize)>) {
    let w = &text[s..e];
    let b = w.as_bytes();
    // Only these ASCII bytes, or any non-ASCII character, can be (part of) an infix.
    let Some(first) = b.iter().position(|&x| INFIX_START[usize::from(x)]) else {
        out.push((s, e));
        return;
    };
    let mut start = 0;
    let mut p = first;
    while p < b.len() {
        let x = b[p];
        if !INFIX_START[usize::from(x)] {
            // An ASCII byte that starts no infix.
            p += 1;
            continue;
        }
        let c = if x.is_ascii() {
            char::from(x)
        } else {
            match char_at(w, p) {
                Some(c) => c,
                None => break,
            }
        };
        let len = infix_at(w, p, c);
        if len == 0 {
            p += c.len_utf8();
            continue;
        }
        // An infix at the very beginning is not split off (spaCy skips it and keeps `start`).
        if p != 0 {
            if p != start {
                out.push((s + start, s + p));
            }
            out.push((s + p, s + p + len));
            start = p + len;
        }
        p += len;
    }
    if start < b.len() {
        out.push((s + start, e));
    }
}

/// Length of the infix match at byte `p` of `w` (first char `c`), or 0.
fn infix_at(w: &str, p: usize, c: char) -> usize {
    let b = w.as_bytes();
    // Fast exit: plain ASCII letters and digits never start an infix.
    if c.is_ascii_alphanumeric() {
        return 0;
    }
    if c == '.' && b.get(p + 1) == Some(&b'.') {
        return b[p..].iter().take_while(|&&x| x == b'.').count();
    }
    if c == '…' || (!c.is_ascii() && is_icon(c)) {
        return c.len_utf8();
    }
    // Past the dot runs, `…` and symbols, only these characters can start an infix.
    if !matches!(
        c,
        '+' | '-' | '*' | '^' | '.' | ',' | '–' | '—' | '~' | ':' | '<' | '>' | '=' | '/'
    ) {
        return 0;
    }
    let prev = char_before(w, p);
    let Some(prev) = prev else { return 0 };
    let next_at = |off: usize| char_at(w, off);
    let after = next_at(p + c.len_utf8());
    if matches!(c, '+' | '-' | '*' | '^')
        && prev.is_ascii_digit()
        && after.is_some_and(|a| a.is_ascii_digit() || a == '-')
    {
        return 1;
    }
    if c == '.' {
        return usize::from(is_infix_dot_before(prev) && after.is_some_and(is_infix_dot_after));
    }
    if c == ',' {
        return usize::from(is_alpha(prev) && after.is_some_and(is_alpha));
    }
    let alnum_before = is_alpha(prev) || prev.is_ascii_digit();
    if !alnum_before {
        return 0;
    }
    // Hyphens, in the regex's alternation order: - – — -- --- —— ~, each followed by a letter.
    for h in ["-", "–", "—", "--", "---", "——", "~"] {
        if w[p..].starts_with(h) && next_at(p + h.len()).is_some_and(is_alpha) {
            return h.len();
        }
    }
    if matches!(c, ':' | '<' | '>' | '=' | '/') && after.is_some_and(is_alpha) {
        return 1;
    }
    0
}

#[cfg(test)]
mod tests {
    use super::SpacyEnTokenizer;

    fn toks(s: &str) -> Vec<&str> {
        SpacyEnTokenizer.words(s)
    }

    #[test]
    fn no_long_suffix_ends_in_an_ascii_suffix_char_dot_or_digit() {
        for d in '0'..='9' {
            assert!(!super::classes::is_suffix_char(d));
        }
        use super::tables::{CURRENCY, F_SUFFIX_CHAR, LATIN1_FLAGS, UNITS};
        let long = UNITS
            .iter()
            .chain(CURRENCY)
            .chain(&["……", "'s", "'S", "’s", "’S"]);
        for alt in long.filter(|a| a.chars().count() > 1) {
            let last = alt.chars().next_back().unwrap_or(' ');
            let ascii_suffix =
                (last as u32) < 0x80 && LATIN1_FLAGS[last as usize] & F_SUFFIX_CHAR != 0;
            assert!(
                !ascii_suffix && last != '.' && !last.is_ascii_digit(),
                "{alt}"
            );
            assert!(
                *alt == "……" || !super::classes::is_suffix_char(last),
                "{alt}"
            );
        }
    }

    #[test]
    fn is_alpha_token_is_kept_as_spacy_does_the_first_time() {
        // The documented difference: datatrove would delete "IS_ALPHA" after the first document
        // containing it in a process; we always keep it.
        assert_eq!(toks("foo IS_ALPHA bar."), ["foo", "IS_ALPHA", "bar", "."]);
    }

    #[test]
    fn basic_rules() {
        assert_eq!(toks("Hello, world!"), ["Hello", ",", "world", "!"]);
        assert_eq!(toks("I don't know."), ["I", "do", "n't", "know", "."]);
        assert_eq!(toks("(e.g. this)"), ["(", "e.g.", "this", ")"]);
        assert_eq!(toks("U.S.A. 10km $5"), ["U.S.A.", "10", "km", "$", "5"]);
        assert_eq!(
            toks("well-known 1-2 a/b"),
            ["well", "-", "known", "1", "-", "2", "a", "/", "b"]
        );
        assert_eq!(
            toks("see http://example.com/x."),
            ["see", "http://example.com/x", "."]
        );
        assert_eq!(toks("  \n\tx  y\u{a0}z"), ["x", "y", "z"]);
        assert_eq!(toks("wait...what"), ["wait", "...", "what"]);
        assert_eq!(toks(""), Vec::<&str>::new());
    }
}
