//! Text analysis shared by thresher's steps: the word tokenizer, line and paragraph splits.
//!
//! PLACEHOLDER (being replaced in this session by the spaCy-compatible tokenizer): the only
//! public entry point other crates may rely on is [`split_into_words`].
#![warn(missing_docs)]

/// Splits `text` into words the way datatrove's English `split_into_words` does (spaCy's
/// English tokenizer rules, whitespace tokens dropped).
pub fn split_into_words(text: &str) -> Vec<&str> {
    text.split_whitespace().collect()
}
