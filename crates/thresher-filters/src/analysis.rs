//! The text analysis the filters share: computed once per document text, on demand.
//!
//! The Gopher rules and FineWeb's list rule all read the same word tokens; computing them is the
//! most expensive part of the filter stack, so the first filter that needs them stores them in
//! the document (see [`Document::analysis`]) and the following filters reuse them. Any edit of
//! the text (C4's line edits) drops the analysis, so it never describes an old text.

use std::cell::RefCell;
use std::sync::{Arc, OnceLock};

use thresher_core::Document;

use crate::pychar;
use crate::vocab::Vocab;

/// Lazily computed facts about one document text.
///
/// Each part is computed the first time a filter asks for it and then kept; the text must be
/// the one the analysis was made for, which [`analysis`] guarantees.
#[derive(Default)]
pub struct TextAnalysis {
    chars: OnceLock<usize>,
    words: OnceLock<Vec<(usize, usize)>>,
    vocab: OnceLock<Vocab>,
    word_count: OnceLock<usize>,
}

impl TextAnalysis {
    /// The number of code points of the text (Python's `len`).
    pub fn char_len(&self, text: &str) -> usize {
        *self.chars.get_or_init(|| pychar::char_len(text))
    }

    /// The word tokens of the text (datatrove's `split_into_words`, i.e. spaCy's English
    /// tokenizer with whitespace tokens dropped), as `(start, end)` byte offsets into the text.
    pub fn words(&self, text: &str) -> &[(usize, usize)] {
        self.words.get_or_init(|| word_spans(text))
    }

    /// The number of [`TextAnalysis::words`], without tokenizing when it is already known.
    pub fn word_count(&self, text: &str) -> usize {
        *self.word_count.get_or_init(|| self.words(text).len())
    }

    /// The words, if a filter has tokenized this text already.
    pub fn words_if_computed(&self) -> Option<&[(usize, usize)]> {
        self.words.get().map(Vec::as_slice)
    }

    /// Records the number of words of this (fresh) text, known from an earlier analysis.
    pub(crate) fn seed_word_count(&self, n: usize) {
        let _ = self.word_count.set(n);
    }

    /// The distinct words of [`TextAnalysis::words`], with ids, counts and lengths.
    pub fn vocab(&self, text: &str) -> &Vocab {
        self.vocab
            .get_or_init(|| Vocab::new(text, self.words(text)))
    }
}

impl Drop for TextAnalysis {
    /// Gives the word buffers back to this thread for the next document (see [`word_spans`]).
    fn drop(&mut self) {
        if let Some(words) = self.words.take() {
            recycle_spans(words);
        }
        if let Some(vocab) = self.vocab.take() {
            vocab.recycle();
        }
    }
}

thread_local! {
    /// A dropped analysis's word buffer, reused by the next [`word_spans`] on this thread.
    static SPARE_SPANS: RefCell<Vec<(usize, usize)>> = const { RefCell::new(Vec::new()) };
}

/// Buffers above this many words are not kept: one huge page must not pin its memory.
const SPARE_MAX_WORDS: usize = 1 << 18;

fn recycle_spans(words: Vec<(usize, usize)>) {
    if words.capacity() <= SPARE_MAX_WORDS {
        let _ = SPARE_SPANS.try_with(|cell| {
            if let Ok(mut spare) = cell.try_borrow_mut() {
                if words.capacity() > spare.capacity() {
                    *spare = words;
                }
            }
        });
    }
}

/// The shared analysis of `doc`'s current text.
pub fn analysis(doc: &mut Document) -> Arc<TextAnalysis> {
    doc.analysis(|_| TextAnalysis::default())
}

/// `(start, end)` byte offsets of the words of `text`: datatrove's English `split_into_words`
/// (spaCy's English tokenizer, whitespace tokens dropped), from thresher-text's span API.
pub fn word_spans(text: &str) -> Vec<(usize, usize)> {
    // Reuse the buffer of the last document dropped on this thread (the allocator's work, and
    // for large pages fresh zeroed pages from the kernel, would otherwise recur per document).
    let mut spans = SPARE_SPANS
        .try_with(|cell| cell.try_borrow_mut().map(|mut s| std::mem::take(&mut *s)))
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default();
    spans.clear();
    // English web text has about one word per 5-6 bytes: one allocation for almost every text.
    spans.reserve(text.len() / 5 + 8);
    thresher_text::SpacyEnTokenizer.tokenize_spans_into(text, &mut spans);
    spans
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_point_at_the_words() {
        let text = "Hello,  world.\nBye";
        let spans = word_spans(text);
        let words: Vec<&str> = spans.iter().map(|&(a, b)| &text[a..b]).collect();
        assert_eq!(words, thresher_text::split_into_words(text));
    }

    #[test]
    fn recycled_word_buffers_start_empty() {
        let long = "one two three four five six seven eight nine ten. ".repeat(50);
        let mut doc = Document::new("a", long.as_str());
        let n = analysis(&mut doc).words(doc.text()).len();
        assert_eq!(n, 550);
        drop(doc);
        let mut doc = Document::new("b", "Hello, world.");
        let an = analysis(&mut doc);
        assert_eq!(an.words(doc.text()), &[(0, 5), (5, 6), (7, 12), (12, 13)]);
        assert_eq!(an.vocab(doc.text()).count, vec![1, 1, 1, 1]);
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
