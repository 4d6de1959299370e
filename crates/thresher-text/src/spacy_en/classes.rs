//! Character classes of spaCy's English tokenizer rules, as lookups over the generated tables.
//!
//! Code points below 256 are answered from one flag table; the others by binary search over
//! sorted inclusive ranges. Each class is the exact set of code points that the corresponding
//! piece of spaCy's compiled regexes matches (see `scripts/gen_spacy_en_tables.py`).

use super::tables::{self as t, LATIN1_FLAGS};

#[inline]
fn in_ranges(ranges: &[(u32, u32)], cp: u32) -> bool {
    // Find the last range starting at or before `cp` and test whether it reaches `cp`.
    let idx = ranges.partition_point(|&(lo, _)| lo <= cp);
    idx > 0 && ranges[idx - 1].1 >= cp
}

#[inline]
fn class(c: char, flag: u16, ranges: &[(u32, u32)]) -> bool {
    let cp = c as u32;
    if cp < 256 {
        LATIN1_FLAGS[cp as usize] & flag != 0
    } else {
        in_ranges(ranges, cp)
    }
}

/// Python's `str.isspace()`: what separates spaCy's chunks.
#[inline]
pub(crate) fn is_space(c: char) -> bool {
    class(c, t::F_WS, t::WS)
}

/// A character that is a whole prefix by itself (`(`, `"`, `$`, `§`, icons, ...).
#[inline]
pub(crate) fn is_prefix_char(c: char) -> bool {
    class(c, t::F_PREFIX_CHAR, t::PREFIX_CHAR)
}

/// A character that is a whole suffix by itself, without context (`)`, `,`, `"`, `—`, icons, ...).
#[inline]
pub(crate) fn is_suffix_char(c: char) -> bool {
    class(c, t::F_SUFFIX_CHAR, t::SUFFIX_CHAR)
}

/// A character after which a final `.` is split off (digits, lower-case letters, punctuation, quotes).
#[inline]
pub(crate) fn is_suffix_dot_before(c: char) -> bool {
    class(c, t::F_SUFFIX_DOT_BEFORE, t::SUFFIX_DOT_BEFORE)
}

/// Upper-case (and uncased-script) letters: two of them before a final `.` split it off.
#[inline]
pub(crate) fn is_suffix_upper(c: char) -> bool {
    class(c, t::F_SUFFIX_UPPER, t::SUFFIX_UPPER)
}

/// Symbols ("So" category subset): prefix, suffix and infix everywhere.
#[inline]
pub(crate) fn is_icon(c: char) -> bool {
    class(c, t::F_ICON, t::ICON)
}

/// Characters before an infix `.` (lower-case letters and quotes).
#[inline]
pub(crate) fn is_infix_dot_before(c: char) -> bool {
    class(c, t::F_INFIX_DOT_BEFORE, t::INFIX_DOT_BEFORE)
}

/// Characters after an infix `.` (upper-case letters and quotes).
#[inline]
pub(crate) fn is_infix_dot_after(c: char) -> bool {
    class(c, t::F_INFIX_DOT_AFTER, t::INFIX_DOT_AFTER)
}

/// spaCy's `ALPHA` class (letters of the scripts it lists).
#[inline]
pub(crate) fn is_alpha(c: char) -> bool {
    class(c, t::F_ALPHA, t::ALPHA)
}

/// `ALPHA_LOWER`: the characters a URL's top-level domain may consist of.
#[inline]
pub(crate) fn is_tld(c: char) -> bool {
    class(c, t::F_TLD, t::TLD)
}

/// Python `re`'s Unicode `\w`.
#[inline]
pub(crate) fn is_re_word(c: char) -> bool {
    class(c, t::F_URL_WORD, t::URL_WORD)
}

/// Python `re`'s Unicode `\d` (decimal digits of every script).
#[inline]
pub(crate) fn is_re_digit(c: char) -> bool {
    class(c, t::F_URL_DIGIT, t::URL_DIGIT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_agree_with_known_members() {
        for c in [' ', '\n', '\t', '\u{a0}', '\u{2009}', '\u{3000}', '\u{1c}'] {
            assert!(is_space(c), "{c:?}");
        }
        for c in ['a', '\u{200b}', '.'] {
            assert!(!is_space(c), "{c:?}");
        }
        assert!(is_prefix_char('(') && is_prefix_char('"') && is_prefix_char('$'));
        assert!(!is_prefix_char('+') && !is_prefix_char('.') && !is_prefix_char('a'));
        assert!(is_suffix_char(')') && is_suffix_char('—') && !is_suffix_char('.'));
        assert!(
            is_suffix_dot_before('a') && is_suffix_dot_before('7') && !is_suffix_dot_before('A')
        );
        assert!(is_suffix_upper('A') && !is_suffix_upper('a'));
        assert!(is_alpha('é') && is_alpha('Ж') && !is_alpha('1'));
        assert!(is_icon('©') && is_icon('\u{1F600}'));
        assert!(is_tld('a') && !is_tld('A'));
        assert!(is_re_digit('٣') && !is_re_digit('a'));
        assert!(is_re_word('_') && is_re_word('é'));
    }
}
