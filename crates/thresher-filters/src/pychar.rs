//! Python's and the reference tools' notions of characters and strings.
//!
//! datatrove's filters are written with Python string methods (`strip`, `split`, `splitlines`,
//! `isalpha`) and with character sets of their own. Rust's `char` predicates follow other
//! definitions (`char::is_whitespace` misses U+001C..U+001F, `char::is_alphabetic` includes marks
//! and letter numbers) and a newer Unicode version, so the filters classify characters with the
//! tables generated from the reference (see `tools/gen_pychar_tables.py`).

use crate::pychar_tables as t;

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
        in_ranges(t::PY_SPACE, c)
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
        in_ranges(t::PY_WORD, c)
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
        in_ranges(t::UNICODE_ND, c)
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
static ASCII_DT_PUNCT: [bool; 128] = {
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
    s.trim_matches(is_space)
}

/// Python's `str.lstrip()`.
#[inline]
pub fn lstrip(s: &str) -> &str {
    s.trim_start_matches(is_space)
}

/// Python's `str.rstrip()`.
#[inline]
pub fn rstrip(s: &str) -> &str {
    s.trim_end_matches(is_space)
}

/// Python's `str.split()` without arguments: runs of whitespace separate, empty parts dropped.
#[inline]
pub fn split_whitespace(s: &str) -> impl Iterator<Item = &str> {
    s.split(is_space).filter(|w| !w.is_empty())
}

/// Python's `len(str)`: the number of code points.
#[inline]
pub fn char_len(s: &str) -> usize {
    // Every code point has exactly one byte that is not a UTF-8 continuation byte.
    s.as_bytes().iter().filter(|&&b| (b as i8) >= -0x40).count()
}

/// Python's `str.splitlines()`: lines without their ends, no trailing empty line.
///
/// Line boundaries are `\n`, `\r`, `\r\n`, `\v`, `\f`, U+001C..U+001E, U+0085, U+2028, U+2029.
pub fn splitlines(s: &str) -> SplitLines<'_> {
    SplitLines { rest: s }
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

/// Iterator of [`splitlines`].
pub struct SplitLines<'a> {
    rest: &'a str,
}

impl<'a> Iterator for SplitLines<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        if self.rest.is_empty() {
            return None;
        }
        let bytes = self.rest.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
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

    #[test]
    fn python_whitespace_includes_separators() {
        assert!(is_space('\x1f') && is_space('\u{a0}') && is_space('\u{3000}'));
        assert!(!is_space('\u{200b}') && !is_space('a'));
        assert_eq!(strip("\x1f a b\u{2029}"), "a b");
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
}
