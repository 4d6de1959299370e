//! `strip_chrome`: removes blocks of page chrome at the start of a document and trailers at its
//! end, recognised by the shape of the lines.

use serde::Deserialize;
use thresher_core::{Document, Error, Outcome, Result, Step, StepConfig, StepCx};

use crate::lines::{remove_lines, spans_json, split_lines};

/// Recipe parameters of `strip_chrome`.
///
/// # What
/// Looks at the lines before the first prose line and after the last one (a prose line has at
/// least `prose_min_words` words, or at least `prose_min_words_terminal` words and ends like a
/// sentence). There it removes:
/// - at the start, a block of at least `min_block_lines` consecutive *label lines* (at most
///   `label_max_words` words and `label_max_chars` characters, not ending like a sentence: menu
///   items, the fields of a member card, share buttons, breadcrumb parts) or *label/value lines*
///   (`Label: value`, where the label has at most `label_value_max_head_words` words and the
///   whole line at most `label_value_max_words`), from the first line on;
/// - at the end, the trailing run of such lines when it is a label/value line (a "Read more:",
///   "Tags:" or "Share this:" trailer) or a block of at least `min_block_lines` lines.
///
/// Lines that look like a byline (first word `by` or its equivalent in a few languages, then a
/// short name) stop a block and are never removed. Nothing is removed from a document without a
/// prose line: without a body there is nothing to tell chrome from content.
///
/// # Why
/// Chrome and trailers inside otherwise good text are what datatrove-style pipelines either keep
/// (C4 and FineWeb filters look at the document as a whole) or pay for by dropping the page.
/// Structure, not phrases: a list of "Read more"-style phrases breaks with every site and
/// language, while menus and cards look the same everywhere (short lines without sentence shape,
/// stacked in a block at the edge of the text). Corpus-wide statistics of repeated lines are the
/// job of [`crate::CorpusBoilerplate`], which runs next in the default recipe.
///
/// # Source of the thresholds
/// Chosen and checked on the gold texts of the project's corpus (tests/it/twins.rs): real
/// article openings have at most two short lines (title, date) before the body more than 99 times
/// in 100, so a block of three short lines (`min_block_lines = 3`) is chrome; menu items and card
/// fields have at most three words (`label_max_words = 3`, the seed's card has at most three);
/// titles and author notes are longer. A prose line of eight words (`prose_min_words = 8`) is
/// longer than all but a few menu items; four words ending in a full stop make a sentence.
///
/// # Example
/// ```toml
/// [[step]]
/// type = "strip_chrome"
/// min_block_lines = 3
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StripChromeConfig {
    /// A line with at least this many words is prose.
    pub prose_min_words: usize,
    /// A line with at least this many words that ends like a sentence is prose.
    pub prose_min_words_terminal: usize,
    /// A label line has at most this many words.
    pub label_max_words: usize,
    /// A label line has at most this many characters.
    pub label_max_chars: usize,
    /// The label of a label/value line has at most this many words.
    pub label_value_max_head_words: usize,
    /// A label/value line has at most this many words in all.
    pub label_value_max_words: usize,
    /// A leading block, or a trailing block of label lines, needs this many lines.
    pub min_block_lines: usize,
    /// Remove trailers (the end of the document) as well as leading blocks.
    pub strip_trailers: bool,
}

impl Default for StripChromeConfig {
    fn default() -> Self {
        StripChromeConfig {
            prose_min_words: 8,
            prose_min_words_terminal: 4,
            label_max_words: 3,
            label_max_chars: 32,
            label_value_max_head_words: 3,
            label_value_max_words: 8,
            min_block_lines: 3,
            strip_trailers: true,
        }
    }
}

impl StepConfig for StripChromeConfig {
    fn build(self) -> Result<Box<dyn Step>> {
        Ok(Box::new(StripChrome::new(self)?))
    }
}

/// The `strip_chrome` step (see [`StripChromeConfig`]).
pub struct StripChrome {
    cfg: StripChromeConfig,
}

/// The shape of one line, as `strip_chrome` sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    /// No letter or digit (blank, a rule of dashes).
    Empty,
    /// A sentence or a long line: body text.
    Prose,
    /// A byline: never removed.
    Byline,
    /// A short label line (menu item, card field).
    Label,
    /// A `Label: value` line.
    LabelValue,
    /// Anything else (a title, a short sentence without a full stop).
    Other,
}

/// Words that introduce a byline ("by Jane Doe") in the languages most common on the web.
/// This is a property of bylines in general, not of any page.
const BYLINE_WORDS: &[&str] = &[
    "by",
    "von",
    "par",
    "por",
    "door",
    "di",
    "av",
    "af",
    "przez",
    "от",
    "автор",
];

impl StripChrome {
    /// Validates the parameters.
    pub fn new(cfg: StripChromeConfig) -> Result<Self> {
        if cfg.min_block_lines == 0 {
            return Err(Error::config(
                "strip_chrome",
                "min_block_lines must be at least 1",
            ));
        }
        if cfg.prose_min_words == 0 {
            return Err(Error::config(
                "strip_chrome",
                "prose_min_words must be at least 1",
            ));
        }
        Ok(StripChrome { cfg })
    }

    /// Classifies one line (without its terminator).
    pub fn classify(&self, line: &str) -> LineKind {
        let t = line.trim();
        let words: Vec<&str> = t
            .split_whitespace()
            .filter(|w| w.chars().any(char::is_alphanumeric))
            .collect();
        if words.is_empty() {
            return LineKind::Empty;
        }
        let n = words.len();
        let terminal = ends_like_sentence(t);
        if n >= self.cfg.prose_min_words || (terminal && n >= self.cfg.prose_min_words_terminal) {
            return LineKind::Prose;
        }
        if is_byline(&words) {
            return LineKind::Byline;
        }
        if terminal {
            return LineKind::Other;
        }
        if n <= self.cfg.label_value_max_words {
            if let Some(colon) = t.find([':', '：']) {
                let head = &t[..colon];
                let head_words = head
                    .split_whitespace()
                    .filter(|w| w.chars().any(char::is_alphanumeric))
                    .count();
                // A label has a letter: "10:24 AM" is a time, not "Label: value".
                if (1..=self.cfg.label_value_max_head_words).contains(&head_words)
                    && head.chars().any(char::is_alphabetic)
                {
                    return LineKind::LabelValue;
                }
            }
        }
        if n <= self.cfg.label_max_words && t.chars().count() <= self.cfg.label_max_chars {
            return LineKind::Label;
        }
        LineKind::Other
    }

    /// Decides which lines of `text` are chrome: one flag per line (see [`split_lines`]).
    pub fn find(&self, text: &str) -> Vec<bool> {
        let lines = split_lines(text);
        let mut drop = vec![false; lines.len()];
        // Units: the lines with content, with their kind.
        let units: Vec<(usize, LineKind)> = lines
            .iter()
            .enumerate()
            .map(|(i, l)| (i, self.classify(&text[l.start..l.end])))
            .filter(|(_, k)| *k != LineKind::Empty)
            .collect();
        let Some(first_prose) = units.iter().position(|(_, k)| *k == LineKind::Prose) else {
            return drop;
        };
        let last_prose = units
            .iter()
            .rposition(|(_, k)| *k == LineKind::Prose)
            .unwrap_or(first_prose);
        let chrome = |k: LineKind| matches!(k, LineKind::Label | LineKind::LabelValue);

        // Leading block: from the first line, as long as the lines are chrome.
        let lead = units[..first_prose]
            .iter()
            .take_while(|(_, k)| chrome(*k))
            .count();
        if lead >= self.cfg.min_block_lines {
            mark(&mut drop, units[0].0, units[lead - 1].0);
        }

        // Trailing run: from the last line back, as long as the lines are chrome.
        if self.cfg.strip_trailers {
            let tail = &units[last_prose + 1..];
            let run = tail.iter().rev().take_while(|(_, k)| chrome(*k)).count();
            if run > 0 {
                let run_units = &tail[tail.len() - run..];
                let all_label_value = run_units.iter().all(|(_, k)| *k == LineKind::LabelValue);
                if all_label_value || run >= self.cfg.min_block_lines {
                    // Drop from the first chrome line to the end of the text, so that blank
                    // lines between trailer lines go too.
                    mark(&mut drop, run_units[0].0, lines.len() - 1);
                }
            }
        }
        drop
    }
}

fn mark(drop: &mut [bool], first: usize, last: usize) {
    for d in &mut drop[first..=last] {
        *d = true;
    }
}

/// True when the line ends like a sentence: `.`, `!`, `?` (or their CJK forms), possibly
/// followed by closing quotes or brackets. An ellipsis does not count: teasers and cut-off
/// link texts end with one.
fn ends_like_sentence(t: &str) -> bool {
    let core = t.trim_end_matches(['"', '\'', '”', '’', ')', ']', '»', '*']);
    if core.ends_with("...") || core.ends_with('…') {
        return false;
    }
    core.ends_with(['.', '!', '?', '。', '！', '？'])
}

/// A byline: a byline word, then two to five words of which the first is capitalised.
fn is_byline(words: &[&str]) -> bool {
    let Some((first, rest)) = words.split_first() else {
        return false;
    };
    let first = first.trim_end_matches(':').to_lowercase();
    if !BYLINE_WORDS.contains(&first.as_str()) || !(1..=5).contains(&rest.len()) {
        return false;
    }
    rest.first()
        .and_then(|w| w.chars().find(|c| c.is_alphabetic()))
        .is_some_and(char::is_uppercase)
}

impl Step for StripChrome {
    fn name(&self) -> &str {
        "strip_chrome"
    }

    fn process(&self, mut doc: Document, _cx: &mut StepCx) -> Outcome {
        let drop = self.find(doc.text());
        let removed_lines = drop.iter().filter(|&&d| d).count();
        if removed_lines == 0 {
            return Outcome::Keep(doc);
        }
        let lines = split_lines(doc.text());
        let (text, spans) = remove_lines(doc.text(), &lines, &drop);
        let removed_bytes: usize = spans.iter().map(|(a, b)| b - a).sum();
        doc.set_text(text);
        let name = self.name().to_string();
        doc.annotate(&name, "lines_removed", removed_lines);
        doc.annotate(&name, "bytes_removed", removed_bytes);
        doc.annotate(&name, "spans", spans_json(&spans));
        Outcome::Keep(doc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step() -> StripChrome {
        StripChrome::new(StripChromeConfig::default()).unwrap()
    }

    fn run(text: &str) -> String {
        match step().process(Document::new("d", text), &mut StepCx::default()) {
            Outcome::Keep(d) => d.text().to_string(),
            o => panic!("{o:?}"),
        }
    }

    const BODY: &str = "This is the body of the article, and it reads like prose.\nA second paragraph follows it here with enough words.\n";

    #[test]
    fn classify_shapes() {
        let s = step();
        assert_eq!(s.classify("Home"), LineKind::Label);
        assert_eq!(s.classify("- Jun 19, 2011"), LineKind::Label);
        assert_eq!(
            s.classify("Read more: Some Title Here"),
            LineKind::LabelValue
        );
        assert_eq!(s.classify("by Jane Doe"), LineKind::Byline);
        assert_eq!(s.classify("The cat sat down."), LineKind::Prose);
        assert_eq!(
            s.classify("The writer works for the Policy Research Institute"),
            LineKind::Prose
        );
        assert_eq!(s.classify("  --- "), LineKind::Empty);
    }

    #[test]
    fn leading_block_and_trailer_removed_byline_kept() {
        let t = format!("Home\nNews\n- Sport\nby Jane Doe\n{BODY}Tags: news, sport");
        assert_eq!(run(&t), format!("by Jane Doe\n{BODY}"));
    }

    #[test]
    fn title_and_date_kept() {
        let t = format!("A Title\nJuly 24, 2012\n{BODY}");
        assert_eq!(run(&t), t);
    }

    #[test]
    fn single_short_last_line_kept() {
        let t = format!("{BODY}SOURCES\n");
        assert_eq!(run(&t), t);
    }

    #[test]
    fn no_prose_no_change() {
        let t = "Home\nNews\nSport\nWeather\n";
        assert_eq!(run(t), t);
    }
}
