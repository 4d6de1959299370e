//! Python's and the reference tools' notions of characters and strings.
//!
//! datatrove's filters are written with Python string methods (`strip`, `split`, `splitlines`,
//! `isalpha`) and with character sets of their own. Rust's `char` predicates follow other
//! definitions (`char::is_whitespace` misses U+001C..U+001F, `char::is_alphabetic` includes marks
//! and letter numbers) and a newer Unicode version, so the filters classify characters with the
//! tables generated from the reference (see `tools/gen_pychar_tables.py`); Python's `isspace`,
//! `\w` and `\d` come from [`thresher_text::pyclass`], whose tables the tokenizer uses too.

use crate::pychar_tables as t;
use thresher_text::pyclass;

fn in_ranges(table: &[(u32, u32)], c: char) -> bool {
    let cp = c as u32;
    table
        .binary_search_by(|&(lo, hi)| {
            if hi < cp {
                std::cmp::Ordering::Less
            } else if lo > cp {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

/// Python's `str.isspace()` for one character.
#[inline]
pub fn is_space(c: char) -> bool {
    if c.is_ascii() {
        matches!(c as u8, b'\t'..=b'\r' | 0x1c..=0x20)
    } else {
        pyclass::is_space(c)
    }
}

/// Python's `str.isalpha()` for one character (general category L*).
#[inline]
pub fn is_alpha(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphabetic()
    } else {
        in_ranges(t::PY_ALPHA, c)
    }
}

/// Python `re`'s `\w` for one character (alphanumeric or `_`).
#[inline]
pub fn is_word_char(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphanumeric() || c == '_'
    } else {
        pyclass::is_word(c)
    }
}

/// Unicode general category P* (spaCy's `is_punct` looks at every character of a token).
#[inline]
pub fn is_unicode_punct(c: char) -> bool {
    if c.is_ascii() {
        // In ASCII, category P is the ASCII punctuation minus the symbols $ + < = > ^ ` | ~.
        c.is_ascii_punctuation()
            && !matches!(c, '$' | '+' | '<' | '=' | '>' | '^' | '`' | '|' | '~')
    } else {
        in_ranges(t::UNICODE_P, c)
    }
}

/// Unicode general category Nd (what `\d` matches in a Python `re` str pattern).
#[inline]
pub fn is_decimal(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_digit()
    } else {
        pyclass::is_decimal(c)
    }
}

/// Membership in datatrove's `PUNCTUATION_SET` (Gopher's "symbol" characters).
#[inline]
pub fn is_datatrove_punct(c: char) -> bool {
    if c.is_ascii() {
        ASCII_DT_PUNCT[c as usize]
    } else {
        in_ranges(t::DT_PUNCTUATION, c)
    }
}

/// [`is_datatrove_punct`] for ASCII, as a lookup table built from the generated ranges.
pub(crate) static ASCII_DT_PUNCT: [bool; 128] = {
    let mut table = [false; 128];
    let ranges = t::DT_PUNCTUATION;
    let mut i = 0;
    while i < ranges.len() {
        let (lo, hi) = ranges[i];
        let mut c = lo;
        while c <= hi && c < 128 {
            table[c as usize] = true;
            c += 1;
        }
        i += 1;
    }
    table
};

/// Membership in datatrove's `TERMINAL_PUNCTUATION` (FineWeb's default line-end marks).
#[inline]
pub fn is_terminal_punct(c: char) -> bool {
    in_ranges(t::DT_TERMINAL_PUNCTUATION, c)
}

/// Membership in spaCy's sentencizer punctuation (`Sentencizer.default_punct_chars`).
#[inline]
pub fn is_sentence_punct(c: char) -> bool {
    in_ranges(t::SENTENCIZER_PUNCT, c)
}

/// Python's `str.strip()`.
#[inline]
pub fn strip(s: &str) -> &str {
    rstrip(lstrip(s))
}

/// Whether byte `b` is printable ASCII other than the space: never Python whitespace, nor part
/// of a multi-byte character. Most lines start and end with one, and need no decoding.
#[inline]
fn plain_ascii(b: u8) -> bool {
    (0x21..0x7f).contains(&b)
}

/// Python's `str.lstrip()`.
#[inline]
pub fn lstrip(s: &str) -> &str {
    match s.as_bytes().first() {
        Some(&b) if !plain_ascii(b) => s.trim_start_matches(is_space),
        _ => s,
    }
}

/// Python's `str.rstrip()`.
#[inline]
pub fn rstrip(s: &str) -> &str {
    match s.as_bytes().last() {
        Some(&b) if !plain_ascii(b) => s.trim_end_matches(is_space),
        _ => s,
    }
}

/// Python's `str.split()` without arguments: runs of whitespace separate, empty parts dropped.
#[inline]
pub fn split_whitespace(s: &str) -> impl Iterator<Item = &str> {
    s.split(is_space).filter(|w| !w.is_empty())
}

/// Python's `len(str)`: the number of code points.
#[inline]
pub fn char_len(s: &str) -> usize {
    // Short strings (words, lines): std's word-at-a-time count. Whole texts: bytecount's
    // AVX2 count (32 bytes per step), several times faster than std's on long inputs.
    if s.len() < 256 {
        s.chars().count()
    } else {
        bytecount::num_chars(s.as_bytes())
    }
}

/// `s.split('\n')` with a vectorised search for the line ends.
pub fn split_lf(s: &str) -> SplitLf<'_> {
    SplitLf {
        s,
        ends: memchr::memchr_iter(b'\n', s.as_bytes()),
        start: 0,
        done: false,
    }
}

/// Iterator of [`split_lf`].
pub struct SplitLf<'a> {
    s: &'a str,
    ends: memchr::Memchr<'a>,
    start: usize,
    done: bool,
}

impl<'a> Iterator for SplitLf<'a> {
    type Item = &'a str;

    #[inline]
    fn next(&mut self) -> Option<&'a str> {
        if self.done {
            return None;
        }
        match self.ends.next() {
            Some(end) => {
                let line = &self.s[self.start..end];
                self.start = end + 1;
                Some(line)
            }
            None => {
                self.done = true;
                Some(&self.s[self.start..])
            }
        }
    }
}

/// Python's `str.splitlines()`: lines without their ends, no trailing empty line.
///
/// Line boundaries are `\n`, `\r`, `\r\n`, `\v`, `\f`, U+001C..U+001E, U+0085, U+2028, U+2029.
pub fn splitlines(s: &str) -> SplitLines<'_> {
    // Most texts break lines only at `\n`; a few vectorised scans prove it, and then the lines
    // are found with `memchr` instead of a look at every byte.
    let b = s.as_bytes();
    let lf_only = memchr::memchr3(b'\r', 0x0b, 0x0c, b).is_none()
        && memchr::memchr3(0x1c, 0x1d, 0x1e, b).is_none()
        && memchr::memmem::find(b, "\u{85}".as_bytes()).is_none()
        && memchr::memmem::find(b, "\u{2028}".as_bytes()).is_none()
        && memchr::memmem::find(b, "\u{2029}".as_bytes()).is_none();
    SplitLines { rest: s, lf_only }
}

/// Bytes that may start a line boundary of [`splitlines`].
static BREAK_LEAD: [bool; 256] = {
    let mut t = [false; 256];
    let leads = [b'\n', 0x0b, 0x0c, b'\r', 0x1c, 0x1d, 0x1e, 0xc2, 0xe2];
    let mut i = 0;
    while i < leads.len() {
        t[leads[i] as usize] = true;
        i += 1;
    }
    t
};

/// Whether any of the eight bytes of `x` could start a boundary of [`splitlines`]: a byte below
/// 0x20 (a superset of the control characters that break), 0xC2 or 0xE2. Exact about "none",
/// which is all the caller needs.
#[inline]
fn may_break(x: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let has_zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGH != 0;
    let below_0x20 = x.wrapping_sub(ONES * 0x20) & !x & HIGH != 0;
    below_0x20 || has_zero(x ^ (ONES * 0xc2)) || has_zero(x ^ (ONES * 0xe2))
}

/// Iterator of [`splitlines`].
pub struct SplitLines<'a> {
    rest: &'a str,
    /// `rest` has no line boundary other than `\n`.
    lf_only: bool,
}

impl<'a> Iterator for SplitLines<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        if self.rest.is_empty() {
            return None;
        }
        if self.lf_only {
            let line;
            (line, self.rest) = match memchr::memchr(b'\n', self.rest.as_bytes()) {
                Some(i) => (&self.rest[..i], &self.rest[i + 1..]),
                None => (self.rest, ""),
            };
            return Some(line);
        }
        let bytes = self.rest.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            // Eight bytes at a time while none can start a boundary (most of every line).
            while let Some(block) = bytes.get(i..i + 8) {
                let mut w = [0u8; 8];
                w.copy_from_slice(block);
                if may_break(u64::from_le_bytes(w)) {
                    break;
                }
                i += 8;
            }
            let Some(&b) = bytes.get(i) else { break };
            // Most bytes cannot start a boundary: one table lookup settles them.
            if !BREAK_LEAD[usize::from(b)] {
                i += 1;
                continue;
            }
            // Boundaries are \n \v \f \r, 0x1c..0x1e, and the non-ASCII U+0085 (C2 85),
            // U+2028 and U+2029 (E2 80 A8/A9).
            let end_len = match b {
                b'\r' if bytes.get(i + 1) == Some(&b'\n') => 2,
                0xc2 if bytes.get(i + 1) == Some(&0x85) => 2,
                0xe2 if bytes.get(i + 1) == Some(&0x80)
                    && matches!(bytes.get(i + 2), Some(0xa8 | 0xa9)) =>
                {
                    3
                }
                0xc2 | 0xe2 => 0,
                _ => 1,
            };
            if end_len > 0 {
                let line = &self.rest[..i];
                self.rest = &self.rest[i + end_len..];
                return Some(line);
            }
            i += 1;
        }
        let line = self.rest;
        self.rest = "";
        Some(line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitlines_matches_python() {
        let v: Vec<&str> = splitlines("a\nb\r\nc\rd\u{2028}e\u{85}f\x1c\n").collect();
        assert_eq!(v, ["a", "b", "c", "d", "e", "f", ""]);
        assert_eq!(splitlines("").count(), 0);
        assert_eq!(splitlines("\n").collect::<Vec<_>>(), [""]);
        assert_eq!(splitlines("x").collect::<Vec<_>>(), ["x"]);
    }

    /// `str.splitlines()` by its definition, one character at a time.
    fn naive_splitlines(s: &str) -> Vec<&str> {
        let mut out = Vec::new();
        let (mut start, mut it) = (0, s.char_indices().peekable());
        while let Some((i, c)) = it.next() {
            let is_break = matches!(
                c,
                '\n' | '\r'
                    | '\x0b'
                    | '\x0c'
                    | '\x1c'
                    | '\x1d'
                    | '\x1e'
                    | '\u{85}'
                    | '\u{2028}'
                    | '\u{2029}'
            );
            if is_break {
                out.push(&s[start..i]);
                let mut end = i + c.len_utf8();
                if c == '\r' && it.peek().map(|p| p.1) == Some('\n') {
                    it.next();
                    end += 1;
                }
                start = end;
            }
        }
        if start < s.len() {
            out.push(&s[start..]);
        }
        out
    }

    #[test]
    fn splitlines_and_split_lf_at_every_offset() {
        // Each break (and near-miss: tab, U+00A0, U+2019 share lead bytes or ranges) at every
        // position of a text long enough for the eight-byte skip.
        let marks = [
            "\n", "\r\n", "\r", "\x0b", "\x0c", "\x1c", "\x1e", "\x1f", "\t", "\u{85}", "\u{a0}",
            "\u{2028}", "\u{2029}", "\u{2019}", "\u{2027}", "\n\n",
        ];
        let base = "abcdefghijklmnopqrstuvwxyz0123456789";
        for m in marks {
            for at in 0..=base.len() {
                for tail in ["", "\n", "x"] {
                    let t = format!("{}{m}{}{tail}", &base[..at], &base[at..]);
                    let got: Vec<&str> = splitlines(&t).collect();
                    assert_eq!(got, naive_splitlines(&t), "{t:?}");
                    let got: Vec<&str> = split_lf(&t).collect();
                    assert_eq!(got, t.split('\n').collect::<Vec<_>>(), "{t:?}");
                }
            }
        }
        assert_eq!(split_lf("").collect::<Vec<_>>(), [""]);
        assert_eq!(split_lf("\n").collect::<Vec<_>>(), ["", ""]);
    }

    #[test]
    fn python_whitespace_includes_separators() {
        assert!(is_space('\x1f') && is_space('\u{a0}') && is_space('\u{3000}'));
        assert!(!is_space('\u{200b}') && !is_space('a'));
        assert_eq!(strip("\x1f a b\u{2029}"), "a b");
        // The ASCII fast paths agree with the general trim for every end character.
        let ends = (0u8..0x80)
            .map(char::from)
            .chain(['\u{85}', '\u{a0}', 'é', '\u{3000}']);
        for c in ends {
            for s in [format!("{c}x{c}"), format!("{c}{c}"), c.to_string()] {
                assert_eq!(strip(&s), s.trim_matches(is_space), "{s:?}");
                assert_eq!(lstrip(&s), s.trim_start_matches(is_space), "{s:?}");
                assert_eq!(rstrip(&s), s.trim_end_matches(is_space), "{s:?}");
            }
        }
        assert_eq!(
            split_whitespace(" a\x1cb  c ").collect::<Vec<_>>(),
            ["a", "b", "c"]
        );
    }

    #[test]
    fn char_classes() {
        assert!(is_alpha('é') && is_alpha('中') && !is_alpha('\u{0301}') && !is_alpha('Ⅳ'));
        assert!(is_unicode_punct('.') && is_unicode_punct('«') && !is_unicode_punct('$'));
        assert!(is_decimal('٣') && !is_decimal('²'));
        assert!(is_datatrove_punct('.') && is_datatrove_punct('\x01') && !is_datatrove_punct('\t'));
        assert!(is_terminal_punct('。') && !is_terminal_punct('"'));
        assert!(is_sentence_punct('!') && !is_sentence_punct(','));
        assert_eq!(char_len("aé中😀"), 4);
    }

    #[test]
    fn char_len_of_long_texts() {
        // Both counting paths, with multi-byte characters across every block boundary.
        let text = "aé中😀 x".repeat(200);
        for end in (0..=text.len()).filter(|&i| text.is_char_boundary(i)) {
            assert_eq!(char_len(&text[..end]), text[..end].chars().count(), "{end}");
        }
    }
}
