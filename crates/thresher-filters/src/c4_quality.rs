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
use serde::{Deserialize, Serialize};
use thresher_core::check::check_at_least;
use thresher_core::{
    Document, Error, Filter, Outcome, Reason, Result, Rules, Step, StepConfig, StepCx,
};

use std::borrow::Cow;
use std::ops::ControlFlow;

use crate::analysis::analysis;
use crate::pychar;
use crate::sentences::{count_sentences, split_into_sentences};

/// Recipe parameters of `c4_quality` (defaults: datatrove 0.10.1's).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, schemars::JsonSchema)]
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
    /// The numeric rules are -1 (off) or a count: below -1 is a typo, and a `max_word_length`
    /// of 0 would drop every line that has a word.
    fn validate(&self) -> Result<()> {
        const STEP: &str = "c4_quality";
        check_at_least(STEP, "min_num_sentences", self.min_num_sentences, -1)?;
        check_at_least(STEP, "min_words_per_line", self.min_words_per_line, -1)?;
        if self.max_word_length != -1 {
            check_at_least(STEP, "max_word_length", self.max_word_length, 1).map_err(|_| {
                Error::config(
                    STEP,
                    format!(
                        "`max_word_length` = {} must be -1 (off) or at least 1",
                        self.max_word_length
                    ),
                )
            })?;
        }
        Ok(())
    }

    fn build(self) -> Result<Box<dyn Step>> {
        self.validate()?;
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
    /// Searchers for "lorem ipsum" (bit 0 of a line's pattern set), "javascript" (bit 1) and
    /// the policy phrases (the other bits), built once.
    patterns: Vec<Finder<'static>>,
    /// The whole-text searches of [`TextMatches`]: fewer than the patterns, see [`text_scans`].
    scans: Vec<Scan>,
}

/// One whole-text search: occurrences of `finder`'s needle, each checked against the patterns
/// that contain it, as (offset of the needle in the pattern, pattern, pattern bit).
#[derive(Debug, Clone)]
struct Scan {
    finder: Finder<'static>,
    checks: Vec<(usize, &'static str, u32)>,
}

/// The whole-text searches for `patterns` (bit k = pattern k): the four phrases containing
/// "cookie" share one search for "cookie", each hit then checked in place; every other
/// pattern is searched for itself. Fewer passes over the text, same occurrences.
fn text_scans(patterns: &[&'static str]) -> Vec<Scan> {
    const SHARED: &str = "cookie";
    let mut scans = Vec::new();
    let mut shared = Vec::new();
    for (k, &p) in patterns.iter().enumerate() {
        match p.find(SHARED) {
            Some(off) => shared.push((off, p, 1u32 << k)),
            None => scans.push(Scan {
                finder: Finder::new(p),
                checks: vec![(0, p, 1u32 << k)],
            }),
        }
    }
    if !shared.is_empty() {
        scans.push(Scan {
            finder: Finder::new(SHARED),
            checks: shared,
        });
    }
    scans
}

const LOREM: u32 = 1;
const JAVASCRIPT: u32 = 2;

/// The pattern occurrences of a whole text, by start offset, for [`C4Quality::apply`]'s lines.
///
/// The patterns are ASCII and hold no whitespace at their ends and no line break, so an
/// occurrence lies in one line, inside its stripped part. In the Unicode lower-casing of a line
/// the ASCII characters are the line's own ASCII characters lower-cased, plus `i` from `İ`
/// (always followed by U+0307, so never inside an occurrence: no pattern ends with `i`) and
/// `k` from U+212A KELVIN SIGN (texts holding it take the per-line path). So an occurrence in a
/// lower-cased line is an occurrence in the ASCII lower-casing of the text, found in one scan
/// per pattern instead of one lower-cased copy and eight searches per line.
struct TextMatches {
    /// (start offset, pattern bit), sorted.
    starts: Vec<(usize, u32)>,
    next: usize,
}

impl TextMatches {
    fn new(text: &str, scans: &[Scan]) -> Option<TextMatches> {
        if memchr::memmem::find(text.as_bytes(), "\u{212A}".as_bytes()).is_some() {
            return None;
        }
        // The lower-cased copy goes into a buffer reused across documents on this thread.
        thread_local! {
            static LOWERED: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        LOWERED.with(|cell| match cell.try_borrow_mut() {
            Ok(mut buf) => Some(Self::scan(text, scans, &mut buf)),
            Err(_) => Some(Self::scan(text, scans, &mut Vec::new())),
        })
    }

    fn scan(text: &str, scans: &[Scan], lowered: &mut Vec<u8>) -> TextMatches {
        lowered.clear();
        lowered.extend_from_slice(text.as_bytes());
        lowered.make_ascii_lowercase();
        let lowered = &lowered[..];
        let mut starts = Vec::new();
        for scan in scans {
            if let [(0, _, bit)] = scan.checks[..] {
                // The needle is the pattern.
                starts.extend(scan.finder.find_iter(lowered).map(|at| (at, bit)));
                continue;
            }
            for at in scan.finder.find_iter(lowered) {
                for &(off, p, bit) in &scan.checks {
                    if at >= off && lowered[at - off..].starts_with(p.as_bytes()) {
                        starts.push((at - off, bit));
                    }
                }
            }
        }
        starts.sort_unstable();
        TextMatches { starts, next: 0 }
    }

    /// The patterns occurring in `start..end`; lines must be asked in order.
    fn in_range(&mut self, start: usize, end: usize) -> u32 {
        while self.starts.get(self.next).is_some_and(|m| m.0 < start) {
            self.next += 1;
        }
        self.starts[self.next..]
            .iter()
            .take_while(|m| m.0 < end)
            .fold(0, |bits, m| bits | m.1)
    }
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
            patterns: ["lorem ipsum", "javascript"]
                .iter()
                .chain(&POLICY_SUBSTRINGS)
                .map(Finder::new)
                .collect(),
            scans: text_scans(
                &["lorem ipsum", "javascript"]
                    .into_iter()
                    .chain(POLICY_SUBSTRINGS)
                    .collect::<Vec<_>>(),
            ),
        }
    }

    /// Applies the rules to `text`.
    pub fn apply(&self, text: &str) -> C4Verdict {
        let mut rules = Rules::filter();
        match self.decide(text, &mut rules) {
            ControlFlow::Break(()) => match rules.take_reason() {
                Some(reason) => C4Verdict::Reject(reason),
                None => unreachable!("c4_quality only stops on a rejection"),
            },
            ControlFlow::Continue(kept) => C4Verdict::Keep(self.join(text, &kept)),
        }
    }

    /// The kept lines (or sentences) of `text`; breaks when a page rule rejects it. When
    /// annotating, every line is looked at and every sentence counted.
    fn decide<'t>(&self, text: &'t str, rules: &mut Rules) -> ControlFlow<(), Vec<Cow<'t, str>>> {
        let c = &self.cfg;
        let all = rules.annotating();
        let (mut lorem, mut curly) = (false, false);
        // Lines are walked as they are split (no list of them); sentences come as a list.
        let units: Box<dyn Iterator<Item = &'t str>> = if c.split_paragraph {
            Box::new(pychar::splitlines(text))
        } else {
            Box::new(split_into_sentences(text).into_iter())
        };
        // Lines average some 60 bytes on web pages: a guess that rarely regrows.
        let mut kept: Vec<Cow<'_, str>> = Vec::with_capacity(text.len() / 64 + 1);
        let mut num_sentences: i64 = 0;
        let lower_rules = c.filter_lorem_ipsum || c.filter_javascript || c.filter_policy;
        // Lines are slices of `text` (sentences are not searched this way).
        let mut text_matches = if lower_rules && c.split_paragraph {
            TextMatches::new(text, &self.scans)
        } else {
            None
        };
        let text_range = text.as_bytes().as_ptr_range();
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
            let found = match (&mut text_matches, &line) {
                _ if !lower_rules => 0,
                // A line of the text itself (no citation removed): its occurrences are known.
                (Some(tm), Cow::Borrowed(l))
                    if text_range.contains(&l.as_ptr()) || l.is_empty() =>
                {
                    let start = l.as_ptr() as usize - text_range.start as usize;
                    tm.in_range(start, start + l.len())
                }
                _ => {
                    let lower = line.to_lowercase();
                    self.patterns
                        .iter()
                        .enumerate()
                        .filter(|(_, f)| f.find(lower.as_bytes()).is_some())
                        .fold(0, |bits, (k, _)| bits | 1 << k)
                }
            };
            if c.filter_lorem_ipsum && found & LOREM != 0 {
                lorem = true;
                // Annotating: recorded once the page is done.
                if !all {
                    rules.rule("lorem_ipsum", true, true, "c4_quality:lorem_ipsum")?;
                }
            }
            if c.filter_javascript && found & JAVASCRIPT != 0 {
                continue;
            }
            if c.filter_curly_bracket && memchr::memchr(b'{', line.as_bytes()).is_some() {
                curly = true;
                if !all {
                    rules.rule("curly_bracket", true, true, "c4_quality:curly_bracket")?;
                }
            }
            if c.filter_policy && found & !(LOREM | JAVASCRIPT) != 0 {
                continue;
            }
            // Only whether the count reaches the minimum matters, so once it does the remaining
            // lines need no sentence splitting.
            if all || (c.min_num_sentences != -1 && num_sentences < c.min_num_sentences) {
                num_sentences += if c.split_paragraph {
                    count_sentences(&line) as i64
                } else {
                    1
                };
            }
            kept.push(line);
        }
        if all {
            rules.rule("lorem_ipsum", lorem, lorem, "c4_quality:lorem_ipsum")?;
            rules.rule("curly_bracket", curly, curly, "c4_quality:curly_bracket")?;
        }
        rules.rule(
            "sentences",
            num_sentences,
            num_sentences < c.min_num_sentences,
            "c4_quality:too_few_sentences",
        )?;
        ControlFlow::Continue(kept)
    }

    /// The cleaned text from the kept units, `None` when it equals `text`.
    fn join(&self, text: &str, kept: &[Cow<'_, str>]) -> Option<String> {
        let sep = if self.cfg.split_paragraph { "\n" } else { " " };
        let mut out = String::with_capacity(text.len());
        for (i, l) in kept.iter().enumerate() {
            if i > 0 {
                out.push_str(sep);
            }
            out.push_str(l);
        }
        let stripped = pychar::strip(&out);
        if stripped == text {
            None
        } else if stripped.len() == out.len() {
            Some(out)
        } else {
            Some(stripped.to_string())
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
        "c4_quality"
    }

    fn process(&self, doc: Document, cx: &mut StepCx) -> Outcome {
        Rules::filter().run(self, doc, cx, "c4_quality")
    }

    fn as_filter(&self) -> Option<&dyn Filter> {
        Some(self)
    }
}

impl Filter for C4Quality {
    /// The line edits happen in both modes: later steps see the cleaned text either way.
    fn judge(&self, doc: &mut Document, _cx: &mut StepCx, rules: &mut Rules) -> ControlFlow<()> {
        let an = analysis(doc);
        let text = doc.text();
        let kept = self.decide(text, rules)?;
        let Some(new_text) = self.join(text, &kept) else {
            return ControlFlow::Continue(());
        };
        // The words of the kept lines are already known when an earlier filter tokenized the
        // text: FineWeb's rule then needs no second tokenization of the cleaned text.
        let words = an
            .words_if_computed()
            .filter(|_| self.cfg.split_paragraph)
            .map(|spans| kept_word_count(text, spans, &kept));
        drop(kept);
        doc.set_text(new_text);
        if let Some(n) = words {
            analysis(doc).seed_word_count(n);
        }
        ControlFlow::Continue(())
    }
}

/// The number of words of the kept lines joined by `\n`: the words (`spans`, in order) of
/// `text` inside each kept line that is a slice of it, and a fresh count for lines a citation
/// removal changed. Exact because the tokenizer splits at every whitespace character first and
/// then works on each whitespace-free chunk alone, a line boundary is whitespace, and a stripped
/// line starts and ends at chunk boundaries (checked over the reference documents by a test).
pub fn kept_word_count(text: &str, spans: &[(usize, usize)], kept: &[Cow<'_, str>]) -> usize {
    let range = text.as_bytes().as_ptr_range();
    let mut scratch = Vec::new();
    kept.iter()
        .map(|line| match line {
            Cow::Borrowed(l) if range.contains(&l.as_ptr()) => {
                let start = l.as_ptr() as usize - range.start as usize;
                let end = start + l.len();
                spans.partition_point(|s| s.0 < end) - spans.partition_point(|s| s.0 < start)
            }
            _ => {
                scratch.clear();
                thresher_text::SpacyEnTokenizer.tokenize_spans_into(line, &mut scratch);
                scratch.len()
            }
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The premise of `TextMatches`: lower-casing a non-ASCII character gives ASCII only for
    /// U+0130 (`i` + U+0307) and U+212A KELVIN SIGN (`k`); and no pattern ends with `i`.
    #[test]
    fn lowercase_of_non_ascii_is_non_ascii_but_two() {
        let makes_ascii: Vec<char> = (0x80..=0x10FFFF)
            .filter_map(char::from_u32)
            .filter(|c| c.to_lowercase().any(|l| l.is_ascii()))
            .collect();
        assert_eq!(makes_ascii, ['\u{130}', '\u{212A}']);
        assert_eq!('\u{130}'.to_lowercase().collect::<String>(), "i\u{307}");
        let patterns = ["lorem ipsum", "javascript"]
            .into_iter()
            .chain(POLICY_SUBSTRINGS);
        assert!(patterns.clone().all(|p| !p.ends_with('i') && p.is_ascii()));
    }

    #[test]
    fn shared_cookie_search_finds_what_each_pattern_finds() {
        let f = C4Quality::new(C4QualityConfig::default());
        let text = "We use cookies.\nThis site uses cookies and a cookie policy.\n\
                    cookie\nuse of cookies\nUSE OF COOKIES here\nuse  cookies\n\
                    cookies use cookie policy, Privacy Policy, Terms of Use\n\
                    cookiecookie policy\nlorem ipsum javascript\nnothing";
        let mut tm = TextMatches::new(text, &f.scans).expect("no Kelvin sign");
        let mut start = 0;
        for line in text.split('\n') {
            let lower = line.to_lowercase();
            let want = f
                .patterns
                .iter()
                .enumerate()
                .filter(|(_, p)| p.find(lower.as_bytes()).is_some())
                .fold(0, |bits, (k, _)| bits | 1 << k);
            assert_eq!(tm.in_range(start, start + line.len()), want, "{line:?}");
            start += line.len() + 1;
        }
    }

    #[test]
    fn patterns_on_lines_with_unicode_and_citations() {
        let f = C4Quality::new(C4QualityConfig {
            min_num_sentences: -1,
            filter_no_terminal_punct: false,
            ..Default::default()
        });
        let keep = |text: &str| match f.apply(text) {
            C4Verdict::Keep(t) => t.unwrap_or_else(|| text.to_string()),
            C4Verdict::Reject(r) => r.code.into_owned(),
        };
        // Unicode lower-casing: the Kelvin sign becomes `k`.
        assert_eq!(
            keep("We use coo\u{212A}ies here ok.\nA line that stays here."),
            "A line that stays here."
        );
        // Non-ASCII lines, mixed case, pattern at the line's start and end.
        assert_eq!(
            keep("Café JavaScript needed now.\nÉté line stays put.\nend with Privacy Policy"),
            "Été line stays put."
        );
        // A citation removed inside a word makes the pattern.
        assert_eq!(
            keep("Enable java[1]script please now.\nKept line is here."),
            "Kept line is here."
        );
        // Occurrences in lines dropped earlier do not count; later lines still reject.
        assert_eq!(
            keep("lorem ipsum\nA good line here.\nLOREM IPSUM dolor sit."),
            "c4_quality:lorem_ipsum"
        );
        assert_eq!(keep("A good line here.\nlorem ipsum"), "A good line here.");
    }

    #[test]
    fn word_count_handed_on_matches_a_fresh_count() {
        let f = C4Quality::new(C4QualityConfig {
            min_num_sentences: 1,
            filter_no_terminal_punct: false,
            ..Default::default()
        });
        let texts = [
            "Short\nA kept line, with words (and marks)!\nKept too: don't stop.",
            // Citations removed inside a chunk, other line breaks, stripped ends.
            "  Line one has a citation[1]here ok.\u{2028}Tab\tsep line is kept.\r\nx y\n\u{85}Last line was here now.  ",
            "Enable JavaScript now please.\nWe use cookies here.\nThe U.S. and e.g. stay kept here.",
        ];
        for t in texts {
            let mut d = Document::new("d", t);
            analysis(&mut d).words(t);
            let Outcome::Keep(mut d) = f.process(d, &mut StepCx::default()) else {
                panic!("{t:?} kept");
            };
            assert_ne!(d.text(), t);
            let fresh = thresher_text::SpacyEnTokenizer.words(d.text()).len();
            assert_eq!(analysis(&mut d).word_count(d.text()), fresh, "{t:?}");
        }
    }

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

    /// -1 switches a numeric rule off; below that is a typo, and `max_word_length = 0` drops
    /// every line with a word.
    #[test]
    fn counts_below_minus_one_are_refused() {
        let ok = C4QualityConfig {
            min_num_sentences: -1,
            min_words_per_line: -1,
            max_word_length: -1,
            ..Default::default()
        };
        assert!(ok.validate().is_ok());
        for cfg in [
            C4QualityConfig {
                min_num_sentences: -5,
                ..Default::default()
            },
            C4QualityConfig {
                min_words_per_line: -2,
                ..Default::default()
            },
            C4QualityConfig {
                max_word_length: 0,
                ..Default::default()
            },
        ] {
            assert!(cfg.clone().validate().is_err(), "{cfg:?}");
            assert!(cfg.build().is_err());
        }
    }
}
