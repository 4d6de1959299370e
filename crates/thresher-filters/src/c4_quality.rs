//! `c4_quality`: C4's line cleaning and page rules.
//!
//! # What it does
//! Each line (Python `splitlines`, stripped) is dropped when it has a word (whitespace-separated)
//! longer than `max_word_length` code points, ends without terminal punctuation
//! (`filter_no_terminal_punct`: `.` `?` `!` `"` `'`, and not `...`, looked at after citation
//! removal), has fewer than `min_words_per_line` words, mentions "javascript", or mentions a
//! cookie / terms-of-use / privacy policy phrase (`filter_policy`). Wikipedia-style citations
//! (`[1]`, `[edit]`, `[citation needed]`) are removed from the lines (`remove_citations`). The
//! whole document is rejected when a line that reaches those checks contains "lorem ipsum"
//! (`c4_quality:lorem_ipsum`) or `{` (`c4_quality:curly_bracket`), or when the kept lines hold
//! fewer than `min_num_sentences` sentences (`c4_quality:too_few_sentences`, value: the count;
//! sentences as spaCy's sentencizer splits them). The kept lines, joined by `\n` and stripped,
//! replace the text.
//!
//! With `split_paragraph = false` the units are sentences instead of lines, each counting as
//! one sentence, joined by a space.
//!
//! # Why
//! C4 (Raffel et al. 2020) cleans Common Crawl pages into prose this way: navigation, code and
//! cookie banners go, pages of boilerplate and code are dropped.
//!
//! # Source of each threshold
//! datatrove 0.10.1 `C4QualityFilter` defaults, after TensorFlow Datasets' `c4_utils`: 5
//! sentences, 3 words per line, 1000 code points per word, every rule on. FineWeb ran it with
//! `filter_no_terminal_punct = false` (the bundled `fineweb` recipe does too). `-1` switches
//! the numeric rules off, as in datatrove.
//!
//! # Example
//! ```
//! use thresher_core::{Document, Outcome, StepConfig, StepCx};
//! use thresher_filters::C4QualityConfig;
//!
//! let step = C4QualityConfig::default().build().unwrap();
//! let text = "Home | About\nThis is a sentence. And another one. And a third one.\n\
//!             One more line here. And the fifth sentence!";
//! match step.process(Document::new("d", text), &mut StepCx::default()) {
//!     Outcome::Keep(doc) => assert!(doc.text().starts_with("This is a sentence.")),
//!     _ => panic!("expected the page to be kept"),
//! }
//! ```

use memchr::memmem::Finder;
use serde::Deserialize;
use thresher_core::{Document, Outcome, Reason, Result, Step, StepConfig, StepCx};

use crate::pychar;
use crate::sentences::{count_sentences, split_into_sentences};

/// Recipe parameters of `c4_quality` (defaults: datatrove 0.10.1's).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct C4QualityConfig {
    /// Work on lines (true, as C4) or on sentences (false).
    pub split_paragraph: bool,
    /// Remove `[1]`, `[]`, `[edit]`, `[citation needed]` from lines.
    pub remove_citations: bool,
    /// Drop lines that do not end with terminal punctuation (FineWeb: false).
    pub filter_no_terminal_punct: bool,
    /// Minimum number of sentences in the kept lines (-1 = off).
    pub min_num_sentences: i64,
    /// Minimum number of words of a kept line (-1 = off).
    pub min_words_per_line: i64,
    /// Lines with a longer word (in code points) are dropped (-1 = off).
    pub max_word_length: i64,
    /// Reject documents containing "lorem ipsum".
    pub filter_lorem_ipsum: bool,
    /// Drop lines mentioning "javascript".
    pub filter_javascript: bool,
    /// Reject documents containing `{`.
    pub filter_curly_bracket: bool,
    /// Drop lines with cookie / terms of use / privacy policy phrases.
    pub filter_policy: bool,
}

impl Default for C4QualityConfig {
    fn default() -> Self {
        C4QualityConfig {
            split_paragraph: true,
            remove_citations: true,
            filter_no_terminal_punct: true,
            min_num_sentences: 5,
            min_words_per_line: 3,
            max_word_length: 1000,
            filter_lorem_ipsum: true,
            filter_javascript: true,
            filter_curly_bracket: true,
            filter_policy: true,
        }
    }
}

impl StepConfig for C4QualityConfig {
    fn build(self) -> Result<Box<dyn Step>> {
        Ok(Box::new(C4Quality::new(self)))
    }
}

/// Phrases of the policy rule (matched in the lower-cased line).
const POLICY_SUBSTRINGS: [&str; 6] = [
    "terms of use",
    "privacy policy",
    "cookie policy",
    "uses cookies",
    "use of cookies",
    "use cookies",
];

/// The `c4_quality` step; see the module documentation.
#[derive(Debug, Clone)]
pub struct C4Quality {
    cfg: C4QualityConfig,
    /// Searchers for "lorem ipsum", "javascript" and the policy phrases, built once (a
    /// `str::contains` builds its searcher at every call, for every line).
    lorem: Finder<'static>,
    javascript: Finder<'static>,
    policy: Vec<Finder<'static>>,
}

/// What C4 decided about a text.
#[derive(Debug, Clone, PartialEq)]
pub enum C4Verdict {
    /// Kept, with the cleaned text (`None` when it equals the input).
    Keep(Option<String>),
    /// Rejected.
    Reject(Reason),
}

impl C4Quality {
    /// A step with the given parameters (every combination is valid).
    pub fn new(cfg: C4QualityConfig) -> Self {
        C4Quality {
            cfg,
            lorem: Finder::new("lorem ipsum"),
            javascript: Finder::new("javascript"),
            policy: POLICY_SUBSTRINGS.iter().map(Finder::new).collect(),
        }
    }

    /// Applies the rules to `text`.
    pub fn apply(&self, text: &str) -> C4Verdict {
        let c = &self.cfg;
        let units: Vec<&str> = if c.split_paragraph {
            pychar::splitlines(text).collect()
        } else {
            split_into_sentences(text)
        };
        let mut kept: Vec<std::borrow::Cow<'_, str>> = Vec::with_capacity(units.len());
        let mut num_sentences: i64 = 0;
        let mut lower = String::new();
        let lower_rules = c.filter_lorem_ipsum || c.filter_javascript || c.filter_policy;
        for unit in units {
            let line = pychar::strip(unit);
            let mut n_words: i64 = 0;
            let mut too_long = false;
            // Only whether the line reaches `min_words_per_line` words matters, and a word can
            // only be too long in a line longer than the limit: most lines stop after a few words.
            let enough = c.min_words_per_line.max(0);
            let check_long = c.max_word_length != -1 && line.len() as i64 > c.max_word_length;
            for w in pychar::split_whitespace(line) {
                n_words += 1;
                // A word of more bytes than the limit may still be short enough in code points.
                if check_long
                    && w.len() as i64 > c.max_word_length
                    && pychar::char_len(w) as i64 > c.max_word_length
                {
                    too_long = true;
                    break;
                }
                if !check_long && n_words >= enough {
                    break;
                }
            }
            if too_long {
                continue;
            }
            let line = if c.remove_citations {
                remove_citations(line)
            } else {
                line.into()
            };
            if c.filter_no_terminal_punct
                && (!line.ends_with(['.', '?', '!', '"', '\'']) || line.ends_with("..."))
            {
                continue;
            }
            if n_words < c.min_words_per_line {
                continue;
            }
            let line_l: &str = if !lower_rules {
                ""
            } else if line.is_ascii() {
                lower.clear();
                lower.push_str(&line);
                lower.make_ascii_lowercase();
                &lower
            } else {
                lower = line.to_lowercase();
                &lower
            };
            let line_lb = line_l.as_bytes();
            if c.filter_lorem_ipsum && self.lorem.find(line_lb).is_some() {
                return C4Verdict::Reject(Reason::new("c4_quality:lorem_ipsum", true));
            }
            if c.filter_javascript && self.javascript.find(line_lb).is_some() {
                continue;
            }
            if c.filter_curly_bracket && memchr::memchr(b'{', line.as_bytes()).is_some() {
                return C4Verdict::Reject(Reason::new("c4_quality:curly_bracket", true));
            }
            if c.filter_policy && self.policy.iter().any(|f| f.find(line_lb).is_some()) {
                continue;
            }
            // Only whether the count reaches the minimum matters, so once it does the remaining
            // lines need no sentence splitting.
            if c.min_num_sentences != -1 && num_sentences < c.min_num_sentences {
                num_sentences += if c.split_paragraph {
                    count_sentences(&line) as i64
                } else {
                    1
                };
            }
            kept.push(line);
        }
        if num_sentences < c.min_num_sentences {
            return C4Verdict::Reject(Reason::new("c4_quality:too_few_sentences", num_sentences));
        }
        let sep = if c.split_paragraph { "\n" } else { " " };
        let mut out = String::with_capacity(text.len());
        for (i, l) in kept.iter().enumerate() {
            if i > 0 {
                out.push_str(sep);
            }
            out.push_str(l);
        }
        let stripped = pychar::strip(&out);
        if stripped == text {
            C4Verdict::Keep(None)
        } else if stripped.len() == out.len() {
            C4Verdict::Keep(Some(out))
        } else {
            C4Verdict::Keep(Some(stripped.to_string()))
        }
    }
}

/// Removes `[<decimal digits>]`, `[edit]` and `[citation needed]` (datatrove's citation regex;
/// digits are Unicode decimal digits, as Python's `\d`).
fn remove_citations(line: &str) -> std::borrow::Cow<'_, str> {
    if !line.contains('[') {
        return line.into();
    }
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(i) = rest.find('[') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let digits_end = after
            .find(|ch: char| !pychar::is_decimal(ch))
            .unwrap_or(after.len());
        let skip = if after[digits_end..].starts_with(']') {
            Some(1 + digits_end + 1)
        } else if after.starts_with("edit]") {
            Some(1 + 5)
        } else if after.starts_with("citation needed]") {
            Some(1 + 16)
        } else {
            None
        };
        match skip {
            Some(n) => rest = &rest[i + n..],
            None => {
                out.push('[');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out.into()
}

impl Step for C4Quality {
    fn name(&self) -> &str {
        "c4_quality_v1"
    }

    fn process(&self, mut doc: Document, _cx: &mut StepCx) -> Outcome {
        match self.apply(doc.text()) {
            C4Verdict::Keep(None) => Outcome::Keep(doc),
            C4Verdict::Keep(Some(text)) => {
                doc.set_text(text);
                Outcome::Keep(doc)
            }
            C4Verdict::Reject(reason) => Outcome::reject(doc, reason),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn citations() {
        assert_eq!(
            remove_citations("a[1] b[] c[edit] d[citation needed] e[x] [[2]]"),
            "a b c d e[x] []"
        );
        assert_eq!(remove_citations("[٣]x"), "x");
    }

    #[test]
    fn line_rules_and_page_rules() {
        let f = C4Quality::new(C4QualityConfig::default());
        // Punctuation is spaced so that any word tokenizer sees the same sentence marks.
        let body = "First sentence here . Second one here .\nThird sentence now . Fourth one now . Fifth one .";
        let text = format!(
            "Menu item\n  {body}  \nEnable JavaScript to see this.\nWe use cookies on this site."
        );
        match f.apply(&text) {
            C4Verdict::Keep(Some(t)) => assert_eq!(t, body),
            v => panic!("{v:?}"),
        }
        let lorem = format!("{body}\nLorem ipsum dolor sit amet.");
        assert!(
            matches!(f.apply(&lorem), C4Verdict::Reject(r) if r.code == "c4_quality:lorem_ipsum")
        );
        // The curly-bracket rule only sees lines that survive the earlier line rules.
        assert!(matches!(
            f.apply(&format!("{body}\nfn main() {{")),
            C4Verdict::Keep(_)
        ));
        let code = format!("{body}\nThe map {{a: 1}} is here.");
        assert!(
            matches!(f.apply(&code), C4Verdict::Reject(r) if r.code == "c4_quality:curly_bracket")
        );
        assert!(
            matches!(f.apply("Too short . Really ."), C4Verdict::Reject(r) if r.code == "c4_quality:too_few_sentences")
        );
        assert_eq!(f.apply(body), C4Verdict::Keep(None));
    }

    #[test]
    fn fineweb_option_keeps_lines_without_punctuation() {
        let cfg = C4QualityConfig {
            filter_no_terminal_punct: false,
            ..Default::default()
        };
        let text = "One two three . Four five six . Seven eight nine . Ten eleven twelve . End here now .\nno final mark here";
        assert_eq!(C4Quality::new(cfg).apply(text), C4Verdict::Keep(None));
    }
}
