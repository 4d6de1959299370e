//! Text analysis shared by thresher's steps: the word tokenizer.
//!
//! The Gopher, C4 and FineWeb quality rules and the MinHash shingles all count *words*, and
//! datatrove defines words as what spaCy's tokenizer returns for the document's language. To decide
//! the same way, thresher needs the same word boundaries, so the tokenizer is a named, versioned
//! component: [`WordTokenizer`], looked up by language with [`tokenizer_for`].
//!
//! Today there is one implementation, [`SpacyEnTokenizer`] (`spacy_en_3.8_v1`): spaCy 3.8's English
//! rules (prefixes, suffixes, infixes, tokenizer exceptions, URL matching and the special-case
//! matcher), which datatrove uses for English. See its module docs for the algorithm.
//!
//! ```
//! use thresher_text::{split_into_words, tokenizer_for};
//!
//! assert_eq!(split_into_words("I can't wait... (really)!"),
//!            ["I", "ca", "n't", "wait", "...", "(", "really", ")", "!"]);
//!
//! // Hot loops: reuse one span buffer across documents.
//! let tok = tokenizer_for("en").expect("English is supported");
//! assert_eq!(tok.name(), "spacy_en_3.8_v1");
//! let mut spans = Vec::new();
//! for doc in ["one two", "three, four"] {
//!     spans.clear();
//!     tok.tokenize_spans_into(doc, &mut spans);
//!     let n_words = spans.len();
//!     assert_eq!(n_words, if doc == "one two" { 2 } else { 3 });
//! }
//! ```
#![warn(missing_docs)]

use std::cell::RefCell;

mod spacy_en;

pub use spacy_en::SpacyEnTokenizer;

/// Python's own character classes, from the tables generated for the tokenizer (Python 3.11,
/// Unicode 14.0.0; `scripts/gen_spacy_en_tables.py`): the one copy that the filters use too.
///
/// Rust's `char` predicates follow other definitions (`char::is_whitespace` misses
/// U+001C..U+001F, `char::is_alphanumeric` includes marks) and a newer Unicode, so code that must
/// decide as Python does asks these.
///
/// ```
/// use thresher_text::pyclass;
///
/// assert!(pyclass::is_word('_') && pyclass::is_word('é') && !pyclass::is_word('-'));
/// assert!(pyclass::is_decimal('٣') && !pyclass::is_decimal('Ⅻ'));
/// assert!(pyclass::is_space('\u{1c}') && !pyclass::is_space('\u{200b}'));
/// ```
pub mod pyclass {
    use crate::spacy_en::classes;

    /// Python `re`'s `\w` on str patterns (`str.isalnum()` or `_`).
    #[inline]
    pub fn is_word(c: char) -> bool {
        classes::is_re_word(c)
    }

    /// Python `re`'s `\d` on str patterns (general category Nd: decimal digits of every script).
    #[inline]
    pub fn is_decimal(c: char) -> bool {
        classes::is_re_digit(c)
    }

    /// Python's `str.isspace()`: what `strip()` and `split()` treat as whitespace.
    #[inline]
    pub fn is_space(c: char) -> bool {
        classes::is_space(c)
    }
}

/// A word tokenizer with a stable name: the same name must always give the same boundaries, so a
/// change of behaviour gets a new name (`..._v2`).
pub trait WordTokenizer: Send + Sync + std::fmt::Debug {
    /// The stable name of the rules, e.g. `spacy_en_3.8_v1`.
    fn name(&self) -> &'static str;

    /// Appends the `(start, end)` byte ranges of the words of `text` to `out`, in order. With a
    /// reused `out`, this does not allocate per word.
    fn tokenize_spans_into(&self, text: &str, out: &mut Vec<(usize, usize)>);

    /// The words of `text`, as slices of it.
    fn words<'a>(&self, text: &'a str) -> Vec<&'a str> {
        let mut spans = Vec::new();
        self.tokenize_spans_into(text, &mut spans);
        spans.into_iter().map(|(a, b)| &text[a..b]).collect()
    }
}

impl WordTokenizer for SpacyEnTokenizer {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn tokenize_spans_into(&self, text: &str, out: &mut Vec<(usize, usize)>) {
        SpacyEnTokenizer::tokenize_spans_into(self, text, out);
    }
}

static SPACY_EN: SpacyEnTokenizer = SpacyEnTokenizer;

/// The word tokenizer datatrove uses for language `lang` (ISO 639-1 or 639-3 code, optionally with
/// a `_Script` suffix), or `None` when thresher has none for it yet.
pub fn tokenizer_for(lang: &str) -> Option<&'static dyn WordTokenizer> {
    let code = lang.split(['_', '-']).next().unwrap_or(lang);
    match code {
        "en" | "eng" => Some(&SPACY_EN),
        _ => None,
    }
}

/// Looks a tokenizer up by its stable name (as written in a recipe or a run report).
pub fn tokenizer_by_name(name: &str) -> Option<&'static dyn WordTokenizer> {
    (name == SpacyEnTokenizer::NAME).then_some(&SPACY_EN as &dyn WordTokenizer)
}

/// Splits `text` into words exactly as datatrove 0.10.1's English `split_into_words` does (spaCy
/// 3.8's English tokenizer, whitespace tokens dropped). The words are slices of `text`.
///
/// Allocates only the returned vector; hot loops that want no allocation at all use
/// [`for_each_word`] or [`WordTokenizer::tokenize_spans_into`] with a reused buffer.
pub fn split_into_words(text: &str) -> Vec<&str> {
    with_spans(text, |spans| {
        spans.iter().map(|&(a, b)| &text[a..b]).collect()
    })
}

/// Runs `f` on the word spans of `text`, computed into the per-thread buffer.
fn with_spans<R>(text: &str, f: impl FnOnce(&[(usize, usize)]) -> R) -> R {
    // A buffer grown by one huge document is trimmed afterwards, so that a thread does not keep
    // that much memory for the rest of the run.
    const KEEP_CAPACITY: usize = 1 << 16;
    SPAN_BUF.with(|cell| match cell.try_borrow_mut() {
        Ok(mut spans) => {
            spans.clear();
            SPACY_EN.tokenize_spans_into(text, &mut spans);
            let r = f(&spans);
            if spans.capacity() > KEEP_CAPACITY {
                spans.clear();
                spans.shrink_to(KEEP_CAPACITY);
            }
            r
        }
        // Re-entered from inside `f`: use a fresh buffer.
        Err(_) => {
            let mut spans = Vec::new();
            SPACY_EN.tokenize_spans_into(text, &mut spans);
            f(&spans)
        }
    })
}

thread_local! {
    static SPAN_BUF: RefCell<Vec<(usize, usize)>> = const { RefCell::new(Vec::new()) };
}

/// Calls `f` on each English word of `text` (as [`split_into_words`] returns them), using a
/// per-thread span buffer so that, once warm, no allocation happens.
pub fn for_each_word(text: &str, mut f: impl FnMut(&str)) {
    with_spans(text, |spans| {
        for &(a, b) in spans {
            f(&text[a..b]);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_and_apis_agree() {
        assert!(tokenizer_for("en").is_some());
        assert!(tokenizer_for("eng_Latn").is_some());
        assert!(tokenizer_for("fr").is_none());
        assert_eq!(
            tokenizer_by_name("spacy_en_3.8_v1").map(|t| t.name()),
            Some("spacy_en_3.8_v1")
        );
        let text = "Don't stop: it's 5pm (U.K.)... OK?";
        let mut seen = Vec::new();
        for_each_word(text, |w| seen.push(w.to_string()));
        assert_eq!(seen, split_into_words(text));
        for_each_word(text, |_| for_each_word("nested call", |_| {}));
    }
}
