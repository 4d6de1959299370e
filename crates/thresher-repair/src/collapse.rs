//! `collapse_repeats`: keeps the first copy of a repeated run of lines inside a document.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use thresher_core::check::{check_at_least, check_fraction};
use thresher_core::{Document, Outcome, Result, Step, StepConfig, StepCx};

use crate::lines::{
    count_lines, line_key, normalize_line, note_annotate_only, remove_lines, spans_json,
    split_lines,
};

/// Recipe parameters of `collapse_repeats`.
///
/// # What
/// Finds runs of consecutive lines that occur a second time later in the same document (a
/// second copy of the article, a quoted copy of a whole post, a repeated block) and removes the
/// later copy, keeping the first. Lines are compared after [`crate::normalize_line`]: case,
/// whitespace and punctuation do not matter, so near-exact copies are found too. Lines with no
/// letter or digit (blank lines, rules of dashes) are skipped when comparing runs; inside a
/// removed copy they go with it.
///
/// # Why
/// Crawled pages often carry the body twice (a print version and a screen version, an AMP copy,
/// a teaser expanded in place). Gopher's repetition rules then reject the whole page (datatrove
/// drops the project's seed page this way) although one copy is good text. Removing the second
/// copy keeps the text and makes the repetition rules judge what is left.
///
/// # Source of the thresholds
/// A run counts as a repeated body when it covers at least `min_repeat_frac` (0.2) of the
/// document's letters and digits and has at least `min_repeat_chars_small` (40) of them, or when
/// it has at least `min_repeat_chars` (2000, about a page of text) whatever the document's size.
/// A second copy of the body is about half of the damaged page, far above 0.2. Real texts repeat
/// smaller things on purpose (a teaser above its article, a quoted comment, a signature), and
/// those are kept: measured on the 801 human gold texts of scrapinghub-aeb, cleaneval,
/// cleanportaleval and dragnet (tests/it/twins.rs), an absolute floor of 200 letters changed 14
/// of them, 500 changed 10, and 2000 with the 0.2 share changes 4. The trailer rule
/// (`strip_copy_trailers`) only fires on a `Label: value` line of at most seven words that ends
/// every copy, like the seed's "Read more: ...".
///
/// # Example
/// ```toml
/// [[step]]
/// type = "collapse_repeats"
/// min_repeat_frac = 0.2
/// ```
#[derive(Debug, Clone, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct CollapseRepeatsConfig {
    /// Letters and digits a repeated run needs to be removed whatever the document's size.
    pub min_repeat_chars: usize,
    /// Fraction of the document's letters and digits above which a shorter run is also removed.
    pub min_repeat_frac: f64,
    /// Letters and digits a run needs at the least to be removed under `min_repeat_frac`.
    pub min_repeat_chars_small: usize,
    /// Earlier occurrences of a line that are tried as the start of a copy; bounds the work on
    /// pages made of a few lines repeated thousands of times.
    pub max_candidates_per_line: usize,
    /// Documents with more lines than this are left unchanged, so that one huge record cannot
    /// stall a worker.
    pub max_lines: usize,
    /// When every copy of a repeated run ends with the same `Label: value` line (a trailer such
    /// as "Read more: ..."), remove it from the kept copy too.
    pub strip_copy_trailers: bool,
}

impl Default for CollapseRepeatsConfig {
    fn default() -> Self {
        CollapseRepeatsConfig {
            min_repeat_chars: 2000,
            min_repeat_frac: 0.2,
            min_repeat_chars_small: 40,
            max_candidates_per_line: 16,
            max_lines: 200_000,
            strip_copy_trailers: true,
        }
    }
}

impl StepConfig for CollapseRepeatsConfig {
    /// `min_repeat_frac` is a fraction; `max_candidates_per_line` and `max_lines` are at least
    /// 1 (0 would leave every document unchanged).
    fn validate(&self) -> Result<()> {
        const STEP: &str = "collapse_repeats";
        check_fraction(STEP, "min_repeat_frac", self.min_repeat_frac)?;
        check_at_least(
            STEP,
            "max_candidates_per_line",
            self.max_candidates_per_line,
            1,
        )?;
        check_at_least(STEP, "max_lines", self.max_lines, 1)
    }

    fn build(self) -> Result<Box<dyn Step>> {
        Ok(Box::new(CollapseRepeats::new(self)?))
    }
}

/// The `collapse_repeats` step (see [`CollapseRepeatsConfig`]).
pub struct CollapseRepeats {
    cfg: CollapseRepeatsConfig,
    /// Annotate-only mode: record, do not remove.
    annotate_only: bool,
}

/// What [`CollapseRepeats::find`] decided: the line indexes to drop and the number of copies.
#[derive(Debug, Default)]
pub struct Repeats {
    /// One flag per line of the text: `true` when the line belongs to a removed copy.
    pub drop: Vec<bool>,
    /// Number of removed copies (runs).
    pub copies: usize,
    /// Per-copy trailers removed from the kept copy (see [`CollapseRepeatsConfig`]).
    pub trailers: usize,
    /// For each removed copy, the first and last line index of the copy that is kept.
    pub kept_copies: Vec<(usize, usize)>,
}

impl CollapseRepeats {
    /// Validates the parameters.
    pub fn new(cfg: CollapseRepeatsConfig) -> Result<Self> {
        cfg.validate()?;
        Ok(CollapseRepeats {
            cfg,
            annotate_only: false,
        })
    }

    /// Finds the later copies of repeated runs in `text`.
    ///
    /// Greedy, left to right: at each line the longest run (in letters and digits) that equals a
    /// run starting at an earlier kept occurrence of the same line, without overlapping it, is
    /// removed if it is long enough; scanning goes on after it. So the first copy is always the
    /// one kept, and each line is compared against at most `max_candidates_per_line` earlier ones.
    pub fn find(&self, text: &str, scratch: &mut String) -> Repeats {
        // Counted before they are listed: a document over the limit costs no line list.
        let n_lines = count_lines(text);
        if n_lines > self.cfg.max_lines {
            return Repeats {
                drop: vec![false; n_lines],
                ..Repeats::default()
            };
        }
        let lines = split_lines(text);
        let mut drop = vec![false; lines.len()];
        // Units: lines with at least one letter or digit, with their key and weight.
        let mut unit_line = Vec::new();
        let mut keys = Vec::new();
        let mut weight = Vec::new();
        for (i, l) in lines.iter().enumerate() {
            normalize_line(&text[l.start..l.end], scratch);
            if scratch.is_empty() {
                continue;
            }
            unit_line.push(i);
            keys.push(line_key(scratch));
            weight.push(scratch.chars().count());
        }
        let total: usize = weight.iter().sum();
        let small_floor = (self.cfg.min_repeat_frac * total as f64).ceil() as usize;
        let qualifies = |chars: usize| {
            chars >= self.cfg.min_repeat_chars
                || (chars >= self.cfg.min_repeat_chars_small && chars >= small_floor)
        };

        let n = keys.len();
        let mut seen: HashMap<u64, Vec<usize>> = HashMap::new();
        let mut copies = 0;
        let mut trailers = 0;
        let mut kept_copies = Vec::new();
        let mut j = 0;
        while j < n {
            let mut best: Option<(usize, usize, usize)> = None; // (first copy, units, chars)
            if let Some(cands) = seen.get(&keys[j]) {
                for &i in cands {
                    let mut len = 0;
                    let mut chars = 0;
                    while j + len < n && i + len < j && keys[i + len] == keys[j + len] {
                        chars += weight[j + len];
                        len += 1;
                    }
                    if best.is_none_or(|(_, _, c)| chars > c) {
                        best = Some((i, len, chars));
                    }
                }
            }
            if let Some((i, len, chars)) = best {
                if len > 0 && qualifies(chars) {
                    let first = unit_line[j];
                    let last = unit_line[j + len - 1];
                    for d in &mut drop[first..=last] {
                        *d = true;
                    }
                    copies += 1;
                    let mut kept_last = unit_line[i + len - 1];
                    // A trailer that ends every copy ("Read more: ...") is page furniture
                    // attached to each copy of the body, not part of the body.
                    if self.cfg.strip_copy_trailers && len >= 2 {
                        let l = &lines[kept_last];
                        if is_trailer_line(&text[l.start..l.end]) {
                            drop[kept_last] = true;
                            trailers += 1;
                            kept_last = unit_line[i + len - 2];
                        }
                    }
                    kept_copies.push((unit_line[i], kept_last));
                    j += len;
                    continue;
                }
            }
            let cands = seen.entry(keys[j]).or_default();
            if cands.len() < self.cfg.max_candidates_per_line {
                cands.push(j);
            }
            j += 1;
        }
        Repeats {
            drop,
            copies,
            trailers,
            kept_copies,
        }
    }
}

/// Annotation key (under `collapse_repeats`) of the byte spans, in the repaired text, of the
/// copies that were kept: lines that the page carried twice are body, not chrome.
pub const BODY_SPANS: &str = "body_spans";

/// A `Label: value` line of at most seven words that does not end like a sentence: the shape of
/// a trailer such as `Read more: <title>` or `Tags: a, b`.
pub fn is_trailer_line(line: &str) -> bool {
    let t = line.trim();
    let words = |s: &str| {
        s.split_whitespace()
            .filter(|w| w.chars().any(char::is_alphanumeric))
            .count()
    };
    let Some(colon) = t.find([':', '：']) else {
        return false;
    };
    let head = &t[..colon];
    let core = t.trim_end_matches(['"', '\'', '”', '’', ')', ']']);
    (1..=3).contains(&words(head))
        && head.chars().any(char::is_alphabetic)
        && words(&t[colon..]) >= 1
        && words(t) <= 7
        && !core.ends_with(['.', '!', '?'])
}

impl Step for CollapseRepeats {
    fn name(&self) -> &str {
        "collapse_repeats"
    }

    fn set_annotate_only(&mut self) -> bool {
        self.annotate_only = true;
        true
    }

    fn process(&self, mut doc: Document, cx: &mut StepCx) -> Outcome {
        let reps = self.find(doc.text(), &mut cx.scratch);
        if reps.copies == 0 {
            return Outcome::Keep(doc);
        }
        let lines = split_lines(doc.text());
        // Where each kept line starts in the new text, for the body spans below.
        let mut new_start = Vec::with_capacity(lines.len());
        let mut pos = 0;
        for (l, &d) in lines.iter().zip(&reps.drop) {
            new_start.push(pos);
            if !d {
                pos += l.next - l.start;
            }
        }
        let body_spans: Vec<(usize, usize)> = reps
            .kept_copies
            .iter()
            .map(|&(a, b)| {
                (
                    new_start[a],
                    new_start[b] + (lines[b].next - lines[b].start),
                )
            })
            .collect();
        let (text, spans) = remove_lines(doc.text(), &lines, &reps.drop);
        let removed_lines = reps.drop.iter().filter(|&&d| d).count();
        let removed_chars: usize = spans.iter().map(|(a, b)| b - a).sum();
        let name = self.name().to_string();
        let body_spans = if self.annotate_only {
            // The text stays as it is: the kept copies are where they were.
            note_annotate_only(&mut doc, &name, removed_lines, removed_chars);
            reps.kept_copies
                .iter()
                .map(|&(a, b)| (lines[a].start, lines[b].next))
                .collect()
        } else {
            doc.set_text(text);
            body_spans
        };
        doc.annotate(&name, "copies_removed", reps.copies);
        doc.annotate(&name, "trailers_removed", reps.trailers);
        // The kept copies, in the new text: evidence for strip_chrome that these lines are body.
        doc.annotate(&name, BODY_SPANS, spans_json(&body_spans));
        doc.annotate(&name, "lines_removed", removed_lines);
        doc.annotate(&name, "bytes_removed", removed_chars);
        doc.annotate(&name, "spans", spans_json(&spans));
        Outcome::Keep(doc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> String {
        let step = CollapseRepeats::new(CollapseRepeatsConfig::default()).unwrap();
        match step.process(Document::new("d", text), &mut StepCx::default()) {
            Outcome::Keep(d) => d.text().to_string(),
            o => panic!("{o:?}"),
        }
    }

    const P1: &str = "The first paragraph of the article is long enough to matter here, it has many words in it.";
    const P2: &str = "The second paragraph continues the story with more words, and then it ends with a full stop.";

    #[test]
    fn second_copy_removed_first_kept() {
        let t = format!("Menu\n{P1}\n{P2}\nNote\n{P1}\n{P2}\nNote\n");
        assert_eq!(run(&t), format!("Menu\n{P1}\n{P2}\nNote\n"));
    }

    #[test]
    fn near_exact_copies_are_found() {
        let t = format!(
            "{P1}\n\n{P2}\n{}\n{}",
            P1.to_uppercase(),
            P2.replace(',', "")
        );
        assert_eq!(run(&t), format!("{P1}\n\n{P2}\n"));
    }

    #[test]
    fn trailer_ending_each_copy_goes_too() {
        let t = format!("{P1}\n{P2}\nRead more: Some Title\n{P1}\n{P2}\nRead more: Some Title");
        assert_eq!(run(&t), format!("{P1}\n{P2}\n"));
        // A last line that is a sentence is body, even if it ends each copy.
        let t = format!("{P1}\n{P2}\nThe author works here.\n{P1}\n{P2}\nThe author works here.\n");
        assert_eq!(run(&t), format!("{P1}\n{P2}\nThe author works here.\n"));
    }

    #[test]
    fn short_repeats_are_kept() {
        let t = format!("Reply\n{P1}\nReply\n{P2}\nReply\n");
        assert_eq!(run(&t), t);
    }

    #[test]
    fn annotation_records_spans() {
        let t = format!("{P1}\n{P2}\n{P1}\n{P2}\n");
        let step = CollapseRepeats::new(CollapseRepeatsConfig::default()).unwrap();
        let Outcome::Keep(d) = step.process(Document::new("d", t.clone()), &mut StepCx::default())
        else {
            panic!()
        };
        let a = &d.annotations["collapse_repeats"];
        assert_eq!(a["copies_removed"], 1);
        assert_eq!(a["lines_removed"], 2);
        let start = P1.len() + P2.len() + 2;
        assert_eq!(a["spans"][0][0], start);
        assert_eq!(a["spans"][0][1], t.len());
    }

    #[test]
    fn bad_config_is_an_error() {
        let cfg = CollapseRepeatsConfig {
            min_repeat_frac: 2.0,
            ..Default::default()
        };
        assert!(CollapseRepeats::new(cfg).is_err());
    }

    #[test]
    fn zero_counts_are_refused() {
        for cfg in [
            CollapseRepeatsConfig {
                max_lines: 0,
                ..Default::default()
            },
            CollapseRepeatsConfig {
                min_repeat_frac: -0.2,
                ..Default::default()
            },
        ] {
            assert!(cfg.validate().is_err());
        }
    }
}
