//! Sentence splitting as datatrove's `split_into_sentences` does it for English: spaCy's
//! rule-based sentencizer over spaCy's tokens.
//!
//! The sentencizer starts a new sentence at the first token after a sentence-final mark (a token
//! that is exactly one of its punctuation characters, e.g. `.`) that is neither such a mark nor
//! punctuation (every character of category P). Whitespace that spaCy keeps as a token of its own
//! (whitespace between or after tokens other than one single space) counts as such a token.

use std::cell::RefCell;

use crate::pychar;

/// Calls `on_sentence_end(end)` with the byte offset where each sentence ends (the end of its
/// last token), in order; returns the number of sentences.
fn sentencize(text: &str, mut on_sentence_end: impl FnMut(usize)) -> usize {
    SPANS.with(|cell| match cell.try_borrow_mut() {
        Ok(mut spans) => {
            spans.clear();
            thresher_text::SpacyEnTokenizer.tokenize_spans_into(text, &mut spans);
            walk(text, &spans, &mut on_sentence_end)
        }
        // Re-entered (not expected): a fresh buffer.
        Err(_) => {
            let mut spans = Vec::new();
            thresher_text::SpacyEnTokenizer.tokenize_spans_into(text, &mut spans);
            walk(text, &spans, &mut on_sentence_end)
        }
    })
}

thread_local! {
    static SPANS: RefCell<Vec<(usize, usize)>> = const { RefCell::new(Vec::new()) };
}

/// The sentencizer over the word spans of `text` (see [`sentencize`]).
fn walk(text: &str, spans: &[(usize, usize)], on_sentence_end: &mut impl FnMut(usize)) -> usize {
    let mut sentences = 0;
    let mut seen_period = false;
    // End of the previous token (None before the first one).
    let mut prev_end: Option<usize> = None;
    let mut pos = 0;
    let mut step = |end: usize, is_mark: bool, is_punct: bool, prev_end: Option<usize>| {
        if prev_end.is_none() {
            sentences = 1;
        } else if seen_period && !is_mark && !is_punct {
            if let Some(p) = prev_end {
                on_sentence_end(p);
            }
            sentences += 1;
            seen_period = false;
        }
        if is_mark {
            seen_period = true;
        }
        Some(end)
    };
    for &(start, end) in spans {
        let Some(w) = text.get(start..end) else {
            continue;
        };
        if let Some(gap) = text.get(pos..start) {
            if is_space_token(gap, prev_end.is_some()) {
                prev_end = step(start, false, false, prev_end);
            }
        }
        let mut chars = w.chars();
        let is_mark =
            matches!((chars.next(), chars.next()), (Some(c), None) if pychar::is_sentence_punct(c));
        let is_punct = w.chars().all(pychar::is_unicode_punct);
        prev_end = step(end, is_mark, is_punct, prev_end);
        pos = end;
    }
    if let Some(tail) = text.get(pos..) {
        if is_space_token(tail, prev_end.is_some()) {
            prev_end = step(text.len(), false, false, prev_end);
        }
    }
    if let Some(p) = prev_end {
        on_sentence_end(p);
    }
    sentences
}

/// Whether the whitespace `gap` before a token (or at the end) is a token of its own in spaCy:
/// after a token, one leading space belongs to that token and the rest, if any, is a token; at
/// the start of the text the whole run is a token.
fn is_space_token(gap: &str, after_token: bool) -> bool {
    if after_token {
        !gap.is_empty() && gap != " "
    } else {
        !gap.is_empty()
    }
}

/// The number of sentences datatrove's `split_into_sentences` returns for `text` (at least 1:
/// for a text without tokens it returns the whole text).
pub fn count_sentences(text: &str) -> usize {
    sentencize(text, |_| {}).max(1)
}

/// Appends to `out` the byte offset where each sentence of `text` ends (spaCy's
/// `Span.end_char`, trailing whitespace excluded), in order: the ends of datatrove's English
/// `span_tokenize`. A sentence starts where the previous one ends (whitespace between them
/// belongs to the next one). Nothing for a text without tokens (the empty text).
pub fn sentence_ends_into(text: &str, out: &mut Vec<usize>) {
    sentencize(text, |e| out.push(e));
}

/// datatrove's `split_into_sentences`: the text cut at the end of each sentence but the last, so
/// the pieces concatenate back to the text (whitespace between sentences starts the next piece).
pub fn split_into_sentences(text: &str) -> Vec<&str> {
    let mut ends = Vec::new();
    sentencize(text, |e| ends.push(e));
    ends.pop();
    let mut out = Vec::with_capacity(ends.len() + 1);
    let mut start = 0;
    for e in ends {
        out.push(text.get(start..e).unwrap_or(""));
        start = e;
    }
    out.push(text.get(start..).unwrap_or(""));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_like_the_sentencizer() {
        assert_eq!(count_sentences(""), 1);
        assert_eq!(count_sentences("One sentence"), 1);
        assert_eq!(count_sentences("One . Two ! Three ?"), 3);
        // Closing punctuation stays with the sentence it ends.
        assert_eq!(count_sentences("He said \" Hi . \" Then left ."), 2);
        // A trailing mark does not start a sentence.
        assert_eq!(count_sentences("Ends here ."), 1);
        // Whitespace of more than one space is a token and starts the next sentence.
        assert_eq!(count_sentences("Hi .  ."), 2);
        assert_eq!(count_sentences("Hi . ."), 1);
        assert_eq!(count_sentences("Hi .  "), 2);
        assert_eq!(count_sentences("Hi . "), 1);
    }

    #[test]
    fn pieces_concatenate_to_the_text() {
        let t = "One . Two ! Three";
        let p = split_into_sentences(t);
        assert_eq!(p, ["One .", " Two !", " Three"]);
        assert_eq!(split_into_sentences(""), [""]);
    }
}
