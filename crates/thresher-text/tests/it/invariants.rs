//! Properties that hold for any input: no panic, and the words are the non-whitespace text of the
//! input, in order, cut into non-empty, non-overlapping pieces (spaCy never drops or rewrites a
//! character, and datatrove only drops whitespace tokens).

use proptest::prelude::*;
use thresher_text::{for_each_word, split_into_words, tokenizer_for};

const PIECES: &[&str] = &[
    "a",
    "Z",
    "word",
    "don't",
    "can't",
    "It's",
    "e.g.",
    "U.S.",
    "Mr.",
    "a.m.",
    "10",
    "3.5",
    "km",
    "$",
    "US$",
    "€",
    "%",
    "'",
    "\"",
    "’",
    "“",
    "(",
    ")",
    "[",
    "]",
    ".",
    "..",
    "...",
    "…",
    ",",
    ":",
    ";",
    "!",
    "?",
    "-",
    "--",
    "—",
    "–",
    "/",
    "+",
    "*",
    "^",
    "=",
    "<",
    ">",
    "@",
    "#",
    "&",
    "_",
    "~",
    "°",
    "²",
    "http://",
    "www.",
    ".com",
    "x@y.org",
    "192.168.0.1",
    "1.2.3.4",
    ":)",
    ":-(",
    "<3",
    "é",
    "Ж",
    "中",
    "😀",
    "©",
    "\u{200b}",
    "\u{301}",
    "٣",
    " ",
    " ",
    "  ",
    "\n",
    "\t",
    "\u{a0}",
    "\u{2009}",
    "\u{3000}",
    "\u{85}",
    "\u{1c}",
    "\r\n",
    "\0",
];

/// Python's `str.isspace()`: Unicode White_Space plus the ASCII separators U+001C..U+001F.
fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

fn check(text: &str) {
    let words = split_into_words(text);
    let mut pos = 0;
    for w in &words {
        assert!(!w.is_empty(), "empty word in {text:?}");
        let start = w.as_ptr() as usize - text.as_ptr() as usize;
        assert!(start >= pos, "words out of order in {text:?}");
        let gap = &text[pos..start];
        assert!(
            gap.chars().all(is_py_space),
            "{gap:?} dropped from {text:?}"
        );
        assert!(!w.chars().any(is_py_space), "whitespace inside word {w:?}");
        pos = start + w.len();
    }
    assert!(
        text[pos..].chars().all(is_py_space),
        "tail {:?} dropped from {text:?}",
        &text[pos..]
    );
    let mut via_callback = Vec::new();
    for_each_word(text, |w| via_callback.push(w.to_string()));
    assert_eq!(via_callback, words);
    let mut spans = vec![(7, 7)];
    if let Some(tok) = tokenizer_for("en") {
        tok.tokenize_spans_into(text, &mut spans);
    }
    assert_eq!(
        spans.len(),
        words.len() + 1,
        "tokenize_spans_into must append"
    );
}

proptest! {
    // 20,000 texts of the pieces the rules care about, as the hand-rolled generator made before;
    // a few seconds in the dev profile.
    #![proptest_config(ProptestConfig::with_cases(20_000))]

    #[test]
    fn texts_of_tricky_pieces_keep_every_non_whitespace_character(
        pieces in prop::collection::vec(prop::sample::select(PIECES), 1..=16)
    ) {
        check(&pieces.concat());
    }
}

proptest! {
    // Any string (every code point, not only the pieces above).
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn any_text_keeps_every_non_whitespace_character(text in any::<String>()) {
        check(&text);
    }
}

#[test]
fn edge_inputs() {
    for text in [
        "",
        " ",
        "\n\n",
        "a",
        "....................",
        "((((((((((((((((((((((((x))))))))))))))))))))))))",
        "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!",
        "'''''''''''''''''''''''''",
        &"a".repeat(100_000),
        &"-".repeat(10_000),
        &"a-".repeat(5_000),
        &"😀".repeat(1000),
        "\u{feff}word",
        &"@a".repeat(50_000),
        &"x@".repeat(50_000),
        &":)".repeat(50_000),
        &"a.".repeat(50_000),
        &"1.2.3.4@".repeat(20_000),
        &"(((:".repeat(20_000),
    ] {
        check(text);
    }
}
