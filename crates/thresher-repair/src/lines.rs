//! Line splitting and line normalisation shared by the repair steps.
//!
//! Every repair step works on whole lines: it decides which lines to drop and then removes each
//! dropped line together with its line terminator, so that the kept text is byte-for-byte the
//! original text minus the dropped lines (no re-joining, no whitespace changes).

use serde_json::Value;

/// One line of a text: byte offsets into the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line {
    /// Offset of the line's first byte.
    pub start: usize,
    /// Offset just past the line's content (before `\r\n` or `\n`).
    pub end: usize,
    /// Offset just past the line terminator (equal to `end` for a last line without one).
    pub next: usize,
}

/// Splits `text` into lines on `\n` (a `\r` before it belongs to the terminator). A text that
/// ends with `\n` has no empty line after it.
pub fn split_lines(text: &str) -> Vec<Line> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    while start < bytes.len() {
        let (end, next) = match memchr_newline(&bytes[start..]) {
            Some(i) => {
                let nl = start + i;
                let end = if nl > start && bytes[nl - 1] == b'\r' {
                    nl - 1
                } else {
                    nl
                };
                (end, nl + 1)
            }
            None => (bytes.len(), bytes.len()),
        };
        out.push(Line { start, end, next });
        start = next;
    }
    out
}

/// The number of lines [`split_lines`] finds in `text`, without listing them (a [`Line`] takes
/// 24 bytes: a text of short lines would need many times its size).
pub fn count_lines(text: &str) -> usize {
    let bytes = text.as_bytes();
    let newlines = bytes.iter().filter(|&&c| c == b'\n').count();
    newlines + usize::from(bytes.last().is_some_and(|&c| c != b'\n'))
}

fn memchr_newline(b: &[u8]) -> Option<usize> {
    b.iter().position(|&c| c == b'\n')
}

/// The comparison form of a line for near-exact matching: its letters and digits, lower-cased,
/// with everything else (whitespace, punctuation, symbols) dropped. Two lines that differ only
/// in spacing, punctuation or case have the same key.
pub fn normalize_line(line: &str, out: &mut String) {
    out.clear();
    for c in line.chars() {
        if c.is_alphanumeric() {
            if c.is_ascii() {
                out.push(c.to_ascii_lowercase());
            } else {
                out.extend(c.to_lowercase());
            }
        }
    }
}

/// 64-bit hash of a normalised line (see [`normalize_line`]).
pub fn line_key(normalized: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(normalized.as_bytes())
}

/// Removes the lines whose indexes are marked in `drop` from `text` (each with its terminator)
/// and returns the new text and the removed byte spans `[start, next)` of the input, merged where
/// adjacent.
pub fn remove_lines(text: &str, lines: &[Line], drop: &[bool]) -> (String, Vec<(usize, usize)>) {
    let mut out = String::with_capacity(text.len());
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for (line, &d) in lines.iter().zip(drop) {
        if d {
            match spans.last_mut() {
                Some(last) if last.1 == line.start => last.1 = line.next,
                _ => spans.push((line.start, line.next)),
            }
        } else {
            out.push_str(&text[line.start..line.next]);
        }
    }
    (out, spans)
}

/// In annotate-only mode (see `Step::set_annotate_only`), marks the step's annotations as a
/// record of what would have been removed and writes a summary under `metadata.<step>` (where
/// `thresher stats` reads numbers): `lines_removed` and `bytes_removed`.
pub(crate) fn note_annotate_only(
    doc: &mut thresher_core::Document,
    step: &str,
    lines: usize,
    bytes: usize,
) {
    doc.annotate(step, "mode", "annotate");
    let mut m = serde_json::Map::new();
    m.insert("lines_removed".into(), lines.into());
    m.insert("bytes_removed".into(), bytes.into());
    doc.metadata.insert(step.to_string(), Value::Object(m));
}

/// Spans as a JSON array of `[start, end)` byte-offset pairs, for annotations.
pub fn spans_json(spans: &[(usize, usize)]) -> Value {
    Value::Array(
        spans
            .iter()
            .map(|&(a, b)| Value::Array(vec![a.into(), b.into()]))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_keeps_terminators_out_of_content() {
        let t = "a\r\nbb\n\nc";
        let ls = split_lines(t);
        let content: Vec<&str> = ls.iter().map(|l| &t[l.start..l.end]).collect();
        assert_eq!(content, ["a", "bb", "", "c"]);
        assert_eq!(ls[0].next, 3);
        assert_eq!(ls[3].next, t.len());
        assert!(split_lines("").is_empty());
        for t in ["", "\n", "a", "a\n", "a\nb", "\n\nb\r\n", t] {
            assert_eq!(count_lines(t), split_lines(t).len(), "{t:?}");
        }
        assert_eq!(split_lines("x\n").len(), 1);
    }

    #[test]
    fn normalisation_ignores_case_space_punctuation() {
        let mut a = String::new();
        let mut b = String::new();
        normalize_line("Hello,  World!", &mut a);
        normalize_line("hello world", &mut b);
        assert_eq!(a, b);
        normalize_line("Ünïcode — Straße", &mut a);
        assert_eq!(a, "ünïcodestraße");
    }

    #[test]
    fn remove_lines_merges_spans() {
        let t = "a\nb\nc\nd";
        let ls = split_lines(t);
        let (out, spans) = remove_lines(t, &ls, &[false, true, true, false]);
        assert_eq!(out, "a\nd");
        assert_eq!(spans, vec![(2, 6)]);
    }
}
