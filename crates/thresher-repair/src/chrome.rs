//! `strip_chrome`: removes blocks of page chrome at the start of a document and trailers at its
//! end, recognised by the shape of the lines.

use serde::Deserialize;
use thresher_core::{Document, Error, Outcome, Result, Step, StepConfig, StepCx};

use crate::collapse::BODY_SPANS;
use crate::lines::{remove_lines, spans_json, split_lines};

/// Recipe parameters of `strip_chrome`.
///
/// # What
/// Removes a block of page chrome at the start of a document: the lines from the first one on,
/// as long as each is a *label line* (at most `label_max_words` words and `label_max_chars`
/// characters, not ending like a sentence: menu items, the fields of a member card, share
/// buttons, breadcrumb parts) or a *label/value line* (`Label: value`, the label at most
/// `label_value_max_head_words` words, the line at most `label_value_max_words`), when the block
/// has at least `min_block_lines` lines and a prose line follows it (at least `prose_min_words`
/// words, or `prose_min_words_terminal` words ending like a sentence). Optionally
/// (`min_trailing_block_lines`, off by default) the same at the end of the document.
///
/// A line that looks like a byline (first word `by` or its equivalent in a few languages, then a
/// capitalised name of at most five words) stops the block and is never removed. Nothing is
/// removed from a document without a prose line.
///
/// When `collapse_repeats` ran before and found the body repeated, its `body_spans` annotation
/// says which lines are the kept copy of the body. Such a page is known to be damaged, and
/// the evidence is strong: lines inside the body are never removed (a short title that the page
/// repeated with its body stays), and a block before the body needs only
/// `min_block_lines_repeated` lines.
///
/// # Why
/// Chrome inside otherwise good text is what datatrove-style pipelines either keep or pay for
/// by dropping the page. Structure, not phrases: a list of "Read more"-style phrases breaks with
/// every site and language, while menus and cards look the same everywhere (short lines without
/// sentence shape, stacked at the edge of the text). Lines repeated across the pages of a site
/// are [`crate::CorpusBoilerplate`]'s job, which runs next in the default recipe.
///
/// # Source of the thresholds
/// Measured on the 801 human gold texts of scrapinghub-aeb, cleaneval, cleanportaleval and
/// dragnet and on damaged twins of them (tests/it/twins.rs). Gold texts do open with blocks of
/// short lines (a dateline split in four, a press-release header, a list of names, even a menu
/// the annotator kept): a block of 5 lines would have changed 7 of the 801, 6 changed 3, and 8
/// (`min_block_lines`) changes none. After a repeated body, 2 lines (`min_block_lines_repeated`)
/// suffice: on the twins, whose chrome blocks have 3 to 10 lines, that restores 97.9%. Menu
/// items and card fields have at most three words (`label_max_words = 3`; the seed's card lines
/// have at most three, and a title usually has more); a line of eight words
/// (`prose_min_words = 8`) is prose, as is a sentence of four (`prose_min_words_terminal = 4`).
/// Trailing blocks are off by default: gold texts end with lists of short lines (scores, prices,
/// contacts) more often than 1 time in 100, and a trailer that ends each copy of a repeated body
/// is removed by `collapse_repeats` instead.
///
/// # Example
/// ```toml
/// [[step]]
/// type = "strip_chrome"
/// min_block_lines = 8
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
    /// A leading block needs this many lines.
    pub min_block_lines: usize,
    /// A leading block needs this many lines when `collapse_repeats` found the body repeated
    /// (its `body_spans` annotation): such a page is known to be damaged, and the lines before
    /// the body's first copy are not body.
    pub min_block_lines_repeated: usize,
    /// A trailing block needs this many lines; 0 turns trailing blocks off.
    pub min_trailing_block_lines: usize,
    /// Read `collapse_repeats`' `body_spans` annotation: lines inside a repeated body are never
    /// chrome.
    pub use_repeat_evidence: bool,
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
            min_block_lines: 8,
            min_block_lines_repeated: 2,
            min_trailing_block_lines: 0,
            use_repeat_evidence: true,
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
    /// `body_spans` are byte spans known to be body (the kept copy of a repeated body); lines
    /// starting inside one count as prose and are never removed.
    pub fn find(&self, text: &str, body_spans: &[(usize, usize)]) -> Vec<bool> {
        let lines = split_lines(text);
        let mut drop = vec![false; lines.len()];
        let in_body = |start: usize| body_spans.iter().any(|&(a, b)| a <= start && start < b);
        // Units: the lines with content, with their kind.
        let units: Vec<(usize, LineKind)> = lines
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let k = self.classify(&text[l.start..l.end]);
                if k != LineKind::Empty && in_body(l.start) {
                    (i, LineKind::Prose)
                } else {
                    (i, k)
                }
            })
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
        let min_lead = if body_spans.is_empty() {
            self.cfg.min_block_lines
        } else {
            self.cfg.min_block_lines_repeated
        };
        if lead >= min_lead.max(1) {
            mark(&mut drop, units[0].0, units[lead - 1].0);
        }

        // Trailing run: from the last line back, as long as the lines are chrome.
        if self.cfg.min_trailing_block_lines > 0 {
            let tail = &units[last_prose + 1..];
            let run = tail.iter().rev().take_while(|(_, k)| chrome(*k)).count();
            if run >= self.cfg.min_trailing_block_lines {
                // Drop from the first chrome line to the end of the text, so that blank lines
                // between trailer lines go too.
                mark(&mut drop, tail[tail.len() - run].0, lines.len() - 1);
            }
        }
        drop
    }
}

/// The `body_spans` that `collapse_repeats` recorded, if it ran and found a repeated body.
/// Spans that do not fit the text (a step in between edited it) are ignored.
fn body_spans_of(doc: &Document) -> Vec<(usize, usize)> {
    let len = doc.text().len();
    doc.annotations
        .get("collapse_repeats")
        .and_then(|a| a.get(BODY_SPANS))
        .and_then(|v| v.as_array())
        .map(|spans| {
            spans
                .iter()
                .filter_map(|s| {
                    let a = usize::try_from(s.get(0)?.as_u64()?).ok()?;
                    let b = usize::try_from(s.get(1)?.as_u64()?).ok()?;
                    (a < b && b <= len).then_some((a, b))
                })
                .collect()
        })
        .unwrap_or_default()
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
        let body_spans = if self.cfg.use_repeat_evidence {
            body_spans_of(&doc)
        } else {
            Vec::new()
        };
        let drop = self.find(doc.text(), &body_spans);
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
        let t = format!(
            "Home\nNews\n- Sport\nWeather\nLog in\nJoin\nSearch\nMore\nby Jane Doe\n{BODY}"
        );
        assert_eq!(run(&t), format!("by Jane Doe\n{BODY}"));
        let short = format!("Home\nNews\nSport\n{BODY}");
        assert_eq!(run(&short), short);
    }

    #[test]
    fn repeated_body_is_evidence() {
        // After collapse_repeats: a short block before a body known to be repeated goes, and
        // the body's own short first line (a title) stays.
        let body = format!("Title\n{BODY}");
        let t = format!("Home\nNews\n{body}");
        let mut doc = Document::new("d", t.clone());
        doc.annotate(
            "collapse_repeats",
            BODY_SPANS,
            serde_json::json!([[10, t.len()]]),
        );
        let Outcome::Keep(d) = step().process(doc, &mut StepCx::default()) else {
            panic!()
        };
        assert_eq!(d.text(), body);
        assert_eq!(d.annotations["strip_chrome"]["lines_removed"], 2);
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
    fn trailing_blocks_only_when_asked() {
        let t = format!("{BODY}Share\nTweet\nEmail\n");
        assert_eq!(run(&t), t);
        let s = StripChrome::new(StripChromeConfig {
            min_trailing_block_lines: 3,
            ..Default::default()
        })
        .unwrap();
        let Outcome::Keep(d) = s.process(Document::new("d", t), &mut StepCx::default()) else {
            panic!()
        };
        assert_eq!(d.text(), BODY);
    }

    #[test]
    fn no_prose_no_change() {
        let t = "Home\nNews\nSport\nWeather\n";
        assert_eq!(run(t), t);
    }
}
