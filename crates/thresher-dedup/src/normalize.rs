//! The text normalisation applied before shingling: datatrove's `simplify_text`.
//!
//! What it does, in datatrove's order (each step can be switched off in [`TextNorm`]):
//! 1. lower-case (full Unicode mapping, final sigma included, as Python's `str.lower`);
//! 2. every run of decimal digits (`\p{Nd}+`), with at most one decimal separator followed by
//!    more digits (`[.,،٫⎖⎗⎘]\p{Nd}+`), becomes `0`;
//! 3. English weekday and month names become `WEEKDAY` / `MONTH` (off by default);
//! 4. the characters of datatrove's `PUNCTUATION` string (ASCII punctuation, some CJK and
//!    typographic marks, C0/C1 control characters other than tab and line feed) become spaces;
//! 5. leading/trailing whitespace is removed and inner whitespace runs become one space;
//! 6. the text is decomposed (NFD) and non-spacing marks (category Mn) are dropped;
//! 7. leading/trailing whitespace is removed.
//!
//! Why: MinHash compares word shingles, so spelling variants that do not change the content
//! (case, number formats, punctuation, accents) must give the same shingles. Matching datatrove
//! exactly is what makes the `fineweb` profile remove the same documents.
//!
//! Source: datatrove 0.10.1 `utils/text.py` (`TextNormConfig`, `simplify_text`, `PUNCTUATION`).
//! datatrove's separate `TERMINAL_PUNCTUATION` set is not part of the translation table there,
//! so it is not here either.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use unicode_general_category::{get_general_category, GeneralCategory};
use unicode_normalization::UnicodeNormalization;

/// Which normalisation steps to apply; `Default` is datatrove's `TextNormConfig()`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct TextNorm {
    /// Lower-case the text.
    pub lowercase: bool,
    /// Strip the text and collapse whitespace runs to one space.
    pub norm_whitespace: bool,
    /// Replace punctuation and control characters by spaces.
    pub remove_punctuation: bool,
    /// Decompose (NFD) and drop non-spacing marks (accents).
    pub norm_unicode_diacritics: bool,
    /// Replace each number by `0`.
    pub norm_numbers: bool,
    /// Replace English weekday names by `WEEKDAY`.
    pub norm_weekdays: bool,
    /// Replace English month names by `MONTH`.
    pub norm_monthnames: bool,
}

impl Default for TextNorm {
    fn default() -> Self {
        TextNorm {
            lowercase: true,
            norm_whitespace: true,
            remove_punctuation: true,
            norm_unicode_diacritics: true,
            norm_numbers: true,
            norm_weekdays: false,
            norm_monthnames: false,
        }
    }
}

/// Non-ASCII characters of datatrove's `PUNCTUATION` string, sorted (binary search).
/// The ASCII ones and the control characters are handled by [`is_punctuation`] directly.
const PUNCT_NON_ASCII: [char; 34] = [
    '\u{ab}', '\u{b4}', '\u{bb}', '\u{2013}', '\u{2014}', '\u{2019}', '\u{201c}', '\u{201d}',
    '\u{201e}', '\u{2026}', '\u{2236}', '\u{2501}', '\u{25ba}', '\u{3001}', '\u{3002}', '\u{3008}',
    '\u{3009}', '\u{300a}', '\u{300b}', '\u{300c}', '\u{300d}', '\u{3010}', '\u{3011}', '\u{ff01}',
    '\u{ff05}', '\u{ff08}', '\u{ff09}', '\u{ff0c}', '\u{ff0e}', '\u{ff11}', '\u{ff1a}', '\u{ff1b}',
    '\u{ff1f}', '\u{ff5e}',
];

/// Decimal separators allowed inside a number (datatrove's `NUMBERS_PATTERN`).
const NUMBER_SEPARATORS: [char; 7] = [
    '.', ',', '\u{60c}', '\u{66b}', '\u{2396}', '\u{2397}', '\u{2398}',
];

const WEEKDAYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];
const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// Whether datatrove's `simplify_text` turns `c` into a space.
#[inline]
pub fn is_punctuation(c: char) -> bool {
    let u = c as u32;
    if u < 0x80 {
        // Control characters 0-8, 11-31 and 127 (tab and line feed are whitespace, not
        // punctuation, in datatrove's table), plus ASCII punctuation except nothing: all 32
        // ASCII punctuation characters are in the table.
        return (u < 32 && u != 9 && u != 10) || u == 127 || c.is_ascii_punctuation();
    }
    if (0x80..0xa0).contains(&u) {
        return true;
    }
    PUNCT_NON_ASCII.binary_search(&c).is_ok()
}

#[inline]
fn is_decimal_digit(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_digit();
    }
    get_general_category(c) == GeneralCategory::DecimalNumber
}

/// Replaces each name of `names` (leftmost match, first listed name first) by `with`.
fn replace_names(text: &str, names: &[&str], with: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    'outer: while !rest.is_empty() {
        for name in names {
            if rest.starts_with(name) {
                out.push_str(with);
                rest = &rest[name.len()..];
                continue 'outer;
            }
        }
        let mut chars = rest.chars();
        if let Some(c) = chars.next() {
            out.push(c);
        }
        rest = chars.as_str();
    }
    out
}

/// Writes the normalised form of `text` into `out` (cleared first). See the module docs.
pub fn simplify_text(text: &str, cfg: &TextNorm, out: &mut String) {
    out.clear();
    // Step 1 is usually fused into the main pass, character by character. Two cases need the
    // whole-string form first: the weekday/month names are matched on lower-cased text, and a
    // capital sigma lower-cases by its context (final sigma), which Python's `str.lower` and
    // Rust's `str::to_lowercase` both implement.
    let whole_lower =
        cfg.lowercase && (cfg.norm_weekdays || cfg.norm_monthnames || text.contains('\u{3a3}'));
    let mut cur: Cow<str> = if whole_lower {
        Cow::Owned(text.to_lowercase())
    } else {
        Cow::Borrowed(text)
    };
    // Step 3 before step 2: names contain no digits and `0` is no letter, so the two replacements
    // do not interact and may run in either order.
    if cfg.norm_weekdays {
        cur = Cow::Owned(replace_names(&cur, &WEEKDAYS, "WEEKDAY"));
    }
    if cfg.norm_monthnames {
        cur = Cow::Owned(replace_names(&cur, &MONTHS, "MONTH"));
    }
    let mut buf = String::new();
    let non_ascii = fused_pass(&cur, cfg, cfg.lowercase && !whole_lower, &mut buf);
    if cfg.norm_unicode_diacritics && non_ascii {
        // Steps 6 and 7: decompose, drop the non-spacing marks. ASCII characters decompose to
        // themselves and are starters (combining class 0), so canonical reordering never moves
        // anything across them: decomposing each run of non-ASCII characters on its own gives
        // the NFD of the whole text, and ASCII runs are copied as they are.
        out.reserve(buf.len());
        let mut rest = buf.as_str();
        while !rest.is_empty() {
            let ascii_len = rest.bytes().take_while(u8::is_ascii).count();
            out.push_str(&rest[..ascii_len]);
            rest = &rest[ascii_len..];
            let other_len = rest
                .char_indices()
                .find(|&(_, c)| c.is_ascii())
                .map_or(rest.len(), |(i, _)| i);
            out.extend(
                rest[..other_len]
                    .nfd()
                    .filter(|&c| get_general_category(c) != GeneralCategory::NonspacingMark),
            );
            rest = &rest[other_len..];
        }
    } else {
        *out = buf;
    }
    finish(out);
}

/// Step 7 (and the strip of step 5 when whitespace is not collapsed).
fn finish(out: &mut String) {
    let end = out.trim_end().len();
    out.truncate(end);
    let start = out.len() - out.trim_start().len();
    if start > 0 {
        out.drain(..start);
    }
}

/// End of the number starting at byte `i` of `text` (a digit): the digit run, plus one
/// separator and a second digit run when digits follow the separator.
fn number_end(text: &str, mut i: usize) -> usize {
    let digits_from = |mut i: usize| {
        while let Some(c) = text[i..].chars().next() {
            if !is_decimal_digit(c) {
                break;
            }
            i += c.len_utf8();
        }
        i
    };
    i = digits_from(i);
    if let Some(sep) = text[i..].chars().next() {
        if NUMBER_SEPARATORS.contains(&sep) {
            let after = i + sep.len_utf8();
            if text[after..].chars().next().is_some_and(is_decimal_digit) {
                return digits_from(after);
            }
        }
    }
    i
}

/// Steps 1 (when `lowercase`), 2, 4 and 5 in one pass over `text`, into `out`. Returns whether
/// `out` holds any non-ASCII character. Numbers are matched on the original characters, which
/// is the same as matching them after lower-casing: digits and separators have no case and no
/// letter lower-cases to a digit.
fn fused_pass(text: &str, cfg: &TextNorm, lowercase: bool, out: &mut String) -> bool {
    out.reserve(text.len());
    let bytes = text.as_bytes();
    let mut pending_space = false;
    let mut non_ascii = false;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b < 0x80 {
            if cfg.norm_numbers && b.is_ascii_digit() {
                // ASCII digits followed by ASCII non-digits are the common case.
                i = if bytes.get(i + 1).is_some_and(|n| {
                    n.is_ascii() && !n.is_ascii_digit() && *n != b'.' && *n != b','
                }) {
                    i + 1
                } else {
                    number_end(text, i)
                };
                push_char(out, '0', &mut pending_space, cfg.norm_whitespace);
                continue;
            }
            let c = char::from(if lowercase { b.to_ascii_lowercase() } else { b });
            push_mapped(out, c, cfg, &mut pending_space);
            i += 1;
            continue;
        }
        let Some(c) = text[i..].chars().next() else {
            break;
        };
        if cfg.norm_numbers && is_decimal_digit(c) {
            i = number_end(text, i);
            push_char(out, '0', &mut pending_space, cfg.norm_whitespace);
            continue;
        }
        i += c.len_utf8();
        if lowercase {
            for lc in c.to_lowercase() {
                non_ascii |= !lc.is_ascii();
                push_mapped(out, lc, cfg, &mut pending_space);
            }
        } else {
            non_ascii = true;
            push_mapped(out, c, cfg, &mut pending_space);
        }
    }
    non_ascii
}

/// Step 4 then step 5 for one character.
#[inline]
fn push_mapped(out: &mut String, c: char, cfg: &TextNorm, pending_space: &mut bool) {
    let c = if cfg.remove_punctuation && is_punctuation(c) {
        ' '
    } else {
        c
    };
    push_char(out, c, pending_space, cfg.norm_whitespace);
}

#[inline]
fn push_char(out: &mut String, c: char, pending_space: &mut bool, collapse: bool) {
    if collapse && c.is_whitespace() {
        // Deferred, so that runs become one space and leading/trailing runs vanish.
        *pending_space = true;
        return;
    }
    if *pending_space {
        if !out.is_empty() {
            out.push(' ');
        }
        *pending_space = false;
    }
    out.push(c);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn simp(t: &str) -> String {
        let mut out = String::new();
        simplify_text(t, &TextNorm::default(), &mut out);
        out
    }

    #[test]
    fn matches_datatrove_on_hand_checked_cases() {
        // Expected values produced by datatrove 0.10.1 `simplify_text` with the default config.
        assert_eq!(
            simp("  Hello,   World!\n\nIt's 3.14 and 1,000,000 "),
            "hello world it s 0 and 0 0"
        );
        assert_eq!(simp("Café naïve ÉCOLE"), "cafe naive ecole");
        assert_eq!(simp("a\u{2014}b \u{201c}c\u{201d}"), "a b c");
        assert_eq!(simp("x\u{0}y\tz\u{85}w"), "x y z w");
        assert_eq!(simp("ΟΔΟΣ"), "οδος");
        assert_eq!(simp("٣٤٥ and 12.a"), "0 and 0 a");
        assert_eq!(simp("\u{ff11}\u{ff12}"), "0");
        assert_eq!(simp(""), "");
        assert_eq!(simp(" .,; "), "");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2_000))]

        #[test]
        fn ascii_fast_path_equals_general_path(s in "[ab 1.,2;\t\n\x01\x7f!'Z9-]{0,23}") {
            // Appending a non-ASCII word sends the same text through the general path.
            let plain = simp(&s);
            let general = simp(&format!("{s} \u{e9}"));
            let want = if plain.is_empty() {
                "e".to_string()
            } else {
                format!("{plain} e")
            };
            proptest::prop_assert_eq!(general, want, "{:?}", s);
        }
    }

    /// datatrove's steps one after the other on whole strings, written the plain way.
    fn reference(text: &str) -> String {
        let lower = text.to_lowercase();
        let chars: Vec<char> = lower.chars().collect();
        let mut numbered = String::new();
        let mut i = 0;
        while i < chars.len() {
            if is_decimal_digit(chars[i]) {
                while i < chars.len() && is_decimal_digit(chars[i]) {
                    i += 1;
                }
                if i + 1 < chars.len()
                    && NUMBER_SEPARATORS.contains(&chars[i])
                    && is_decimal_digit(chars[i + 1])
                {
                    i += 1;
                    while i < chars.len() && is_decimal_digit(chars[i]) {
                        i += 1;
                    }
                }
                numbered.push('0');
            } else {
                numbered.push(chars[i]);
                i += 1;
            }
        }
        let unpunct: String = numbered
            .chars()
            .map(|c| if is_punctuation(c) { ' ' } else { c })
            .collect();
        let spaced = unpunct.split_whitespace().collect::<Vec<_>>().join(" ");
        let nfd: String = spaced
            .nfd()
            .filter(|&c| get_general_category(c) != GeneralCategory::NonspacingMark)
            .collect();
        nfd.trim().to_string()
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(5_000))]

        #[test]
        fn fused_pass_equals_step_by_step_reference(
            s in "[aZ 1.,2;\t\n\u{1}\u{7f}!'9é\u{301}ΣσΟİ٣٤٫\u{85}\u{a0}\u{2014}\u{ff11}ß한\u{2000}-]{0,15}"
        ) {
            proptest::prop_assert_eq!(simp(&s), reference(&s), "{:?}", s);
        }

        #[test]
        fn fused_pass_equals_reference_on_any_text(s in "\\PC{0,40}") {
            proptest::prop_assert_eq!(simp(&s), reference(&s), "{:?}", s);
        }
    }

    #[test]
    fn segmented_nfd_equals_whole_text_nfd() {
        // Combining marks in unusual order next to ASCII, Hangul, and precomposed letters.
        let text = "e\u{301}\u{327}x A\u{30a}\u{323}b 한국어 \u{1e69}\u{1e0b}\u{323} q\u{300}";
        let cfg = TextNorm {
            lowercase: false,
            norm_whitespace: false,
            remove_punctuation: false,
            norm_numbers: false,
            ..TextNorm::default()
        };
        let mut out = String::new();
        simplify_text(text, &cfg, &mut out);
        let whole: String = text
            .nfd()
            .filter(|&c| get_general_category(c) != GeneralCategory::NonspacingMark)
            .collect();
        assert_eq!(out, whole.trim());
    }

    #[test]
    fn every_step_can_be_switched_off() {
        let cfg = TextNorm {
            lowercase: false,
            norm_whitespace: false,
            remove_punctuation: false,
            norm_unicode_diacritics: false,
            norm_numbers: false,
            norm_weekdays: false,
            norm_monthnames: false,
        };
        let mut out = String::new();
        simplify_text(" Ab  1.5, é ", &cfg, &mut out);
        assert_eq!(out, "Ab  1.5, é");
        let cfg = TextNorm {
            norm_weekdays: true,
            norm_monthnames: true,
            ..TextNorm::default()
        };
        simplify_text("Monday 3 May, mayday", &cfg, &mut out);
        assert_eq!(out, "WEEKDAY 0 MONTH MONTHday");
    }
}
