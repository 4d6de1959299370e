//! The text analysis the filters share: computed once per document text, on demand.
//!
//! The Gopher rules and FineWeb's list rule all read the same word tokens; computing them is the
//! most expensive part of the filter stack, so the first filter that needs them stores them in
//! the document (see [`Document::analysis`]) and the following filters reuse them. Any edit of
//! the text (C4's line edits) drops the analysis, so it never describes an old text.

use std::ops::Range;
use std::sync::{Arc, OnceLock};

use thresher_core::Document;

use crate::pychar;

/// Lazily computed facts about one document text.
///
/// Each part is computed the first time a filter asks for it and then kept; the text must be
/// the one the analysis was made for, which [`analysis`] guarantees.
#[derive(Default)]
pub struct TextAnalysis {
    chars: OnceLock<usize>,
    words: OnceLock<Vec<Range<usize>>>,
}

impl TextAnalysis {
    /// The number of code points of the text (Python's `len`).
    pub fn char_len(&self, text: &str) -> usize {
        *self.chars.get_or_init(|| pychar::char_len(text))
    }

    /// The word tokens of the text (datatrove's `split_into_words`, i.e. spaCy's English
    /// tokenizer with whitespace tokens dropped), as byte ranges into the text.
    pub fn words(&self, text: &str) -> &[Range<usize>] {
        self.words.get_or_init(|| word_spans(text))
    }
}

/// The shared analysis of `doc`'s current text.
pub fn analysis(doc: &mut Document) -> Arc<TextAnalysis> {
    doc.analysis(|_| TextAnalysis::default())
}

/// Byte ranges of the words of `text`.
///
/// The tokenizer returns sub-slices of its input, so each word's range is recovered from its
/// address. A token that is not a sub-slice (a tokenizer that normalises) is looked up in the
/// text after the previous word instead, and skipped if absent, so that a range never points
/// outside the text.
pub fn word_spans(text: &str) -> Vec<Range<usize>> {
    let words = thresher_text::split_into_words(text);
    let base = text.as_ptr() as usize;
    let mut out = Vec::with_capacity(words.len());
    let mut pos = 0;
    for w in words {
        let addr = w.as_ptr() as usize;
        let start = addr.wrapping_sub(base);
        if addr >= base && start + w.len() <= text.len() && text.is_char_boundary(start) {
            out.push(start..start + w.len());
            pos = start + w.len();
        } else if let Some(off) = text.get(pos..).and_then(|rest| rest.find(w)) {
            out.push(pos + off..pos + off + w.len());
            pos += off + w.len();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_point_at_the_words() {
        let text = "Hello,  world.\nBye";
        let spans = word_spans(text);
        let words: Vec<&str> = spans.iter().map(|r| &text[r.clone()]).collect();
        assert_eq!(words, thresher_text::split_into_words(text));
    }

    #[test]
    fn analysis_is_shared_until_edit() {
        let mut doc = Document::new("a", "one two three");
        let a = analysis(&mut doc);
        assert_eq!(a.words(doc.text()).len(), 3);
        let b = analysis(&mut doc);
        assert!(Arc::ptr_eq(&a, &b));
        doc.set_text("x".into());
        assert!(!Arc::ptr_eq(&a, &analysis(&mut doc)));
    }
}
