//! Predicates and counts on plain text: what a block of text reads as (a sentence, a legal
//! notice, a picture credit, a comment heading) and how its characters are counted.

/// Longest line (in bytes) that can be a picture credit; longer lines are text.
const CREDIT_MAX_BYTES: usize = 200;

/// Characters at the start of a line searched for a credit label and its colon
/// ("Bildquelle 12:" fits).
const CREDIT_LABEL_CHARS: usize = 24;

/// Whether a short line is a picture credit or caption label ("Photo: AP", "Quelle: dpa").
pub(super) fn is_credit_line(text: &str) -> bool {
    if text.len() > CREDIT_MAX_BYTES {
        return false;
    }
    let head: String = text
        .chars()
        .take(CREDIT_LABEL_CHARS)
        .collect::<String>()
        .to_lowercase();
    let Some(colon) = head.find(':') else {
        return false;
    };
    let label = head[..colon].trim();
    let label = label.trim_end_matches(|c: char| c.is_ascii_digit() || c == ' ' || c == '.');
    matches!(
        label,
        "photo"
            | "photos"
            | "image"
            | "images"
            | "picture"
            | "source"
            | "credit"
            | "credits"
            | "figure"
            | "fig"
            | "foto"
            | "fotos"
            | "bild"
            | "bilder"
            | "titelbild"
            | "quelle"
            | "quellen"
            | "bildquelle"
            | "abbildung"
            | "abb"
            | "crédit"
            | "crédits"
            | "fuente"
            | "imagen"
            | "źródło"
            | "zdjęcie"
            | "fot"
    )
}

/// Longest heading (in characters) that can announce the comment section; a longer one is an
/// article heading that happens to start with "Comment...".
const COMMENT_HEADING_MAX_CHARS: usize = 60;

/// Whether a heading announces comments ("12 Comments", "Leave a Reply", "Responses to ...").
pub(super) fn is_comment_heading(text: &str) -> bool {
    if text.chars().count() > COMMENT_HEADING_MAX_CHARS {
        return false;
    }
    let t = text.to_lowercase();
    let t = t.trim_start_matches(|c: char| c.is_ascii_digit() || c.is_whitespace() || c == '(');
    [
        "comment",
        "responses",
        "response to",
        "replies",
        "leave a reply",
        "leave a comment",
        "reader comments",
        "discussion",
        "what others",
        "post a comment",
        "add a comment",
        "kommentar",
        "commentaires",
        "comentarios",
        "komentarze",
    ]
    .iter()
    .any(|p| {
        t.starts_with(p)
            // "Commentary on ..." is an article section.
            && !(*p == "comment" && t[p.len()..].starts_with(|c: char| c.is_alphabetic() && c != 's'))
    })
}

/// Whether a block is a copyright or legal notice (page footers written as prose).
pub(super) fn is_legal(text: &str) -> bool {
    if text.contains('©') {
        return true;
    }
    let t = text.to_lowercase();
    [
        "all rights reserved",
        "copyright",
        "non-commercial use",
        "terms of use",
        "terms of service",
        "privacy policy",
    ]
    .iter()
    .any(|p| t.contains(p))
}

/// Fewest words of a sentence: shorter lines ending in a full stop are labels and link titles.
const SENTENCE_MIN_WORDS: usize = 5;

/// Whether a short block reads as a sentence (inline links in a sentence are not a link list):
/// [`SENTENCE_MIN_WORDS`] words or more and sentence punctuation at the end.
pub(super) fn is_sentence(text: &str) -> bool {
    let t = text.trim_end_matches(|c: char| {
        c.is_whitespace() || matches!(c, '"' | '\'' | ')' | '”' | '’' | '»')
    });
    t.ends_with(['.', '!', '?', '。', '！', '？'])
        && text
            .split_whitespace()
            .nth(SENTENCE_MIN_WORDS - 1)
            .is_some()
}

/// Sentence-ending punctuation in a text (Latin and CJK full stops, question and exclamation
/// marks).
pub(super) fn count_sentence_ends(text: &str) -> usize {
    text.chars()
        .filter(|c| matches!(c, '.' | '!' | '?' | '。' | '！' | '？'))
        .count()
}

/// Characters that are not ASCII whitespace, counted from the bytes (a multi-byte character
/// counts once by its lead byte); the hot loop of the text passes, so no char decoding.
pub(super) fn count_visible(s: &str) -> u32 {
    s.bytes()
        .filter(|&b| !b.is_ascii_whitespace() && (b & 0xC0) != 0x80)
        .count() as u32
}

/// Commas and their CJK and Arabic forms (and semicolons): clause breaks, a sign of prose.
pub(super) fn count_commas(s: &str) -> u32 {
    s.chars()
        .filter(|c| matches!(c, ',' | '，' | '、' | '،' | '；' | ';'))
        .count() as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comment_headings() {
        assert!(is_comment_heading("12 Comments"));
        assert!(is_comment_heading("Comments (3)"));
        assert!(!is_comment_heading("Commentary on Python 3"));
    }

    #[test]
    fn credit_lines() {
        assert!(is_credit_line("Photo: AP"));
        assert!(is_credit_line("Abbildung 4: klassische Schwachschicht."));
        assert!(is_credit_line("Quelle: Deutscher Jagdverband (DJV)"));
        assert!(!is_credit_line(
            "Photographers: many of them came early to the scene and stayed late."
        ));
        assert!(!is_credit_line(
            "The source said: it will be done by Friday."
        ));
    }

    #[test]
    fn sentences() {
        assert!(is_sentence("We launched it in a sober way."));
        assert!(is_sentence("Was it done on Friday?\u{201d}"));
        assert!(!is_sentence("Read more."));
        assert!(!is_sentence("Another story about the budget vote"));
    }
}
