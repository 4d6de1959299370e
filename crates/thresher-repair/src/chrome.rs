//! `strip_chrome`: removes blocks of page chrome at the start of a document and trailers at its
//! end, recognised by the shape of the lines.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use thresher_core::check::check_at_least;
use thresher_core::{Document, Outcome, Result, Step, StepConfig, StepCx, StepMode};

use crate::collapse::BODY_SPANS;
use crate::lines::{
    normalize_line, note_annotate_only, remove_lines, spans_json, split_lines, Line,
};
use crate::model::{best_cut, ChromeModel, Doc, WordWeights};
use crate::sketch::{
    check_shape, check_stage, end_counting, group_key, group_seed, load_sketches, CorpusStage,
    CountSketch, Observed,
};

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
/// With `method = "model"`, a classifier decides instead of the block rules: each line gets
/// the log-odds that it is chrome from [`crate::ChromeModel`] (boosted trees over a logistic
/// regression on general features of the line and its neighbours: length, words, sentence end,
/// stop-word share in seven languages, capitals, digits, years and times, `label: value` and
/// list shapes, learned word weights, and its distance from the edge in lines, bytes and
/// prose; one scorer per edge), and the step removes, from the start, the run of lines whose
/// summed log-odds less the model's `threshold` (or `model_threshold`) is highest, then
/// likewise from the end (`trail_threshold`, or `model_trail_threshold`). The `label_*`,
/// `prose_*` and `min_*` block parameters do not apply; bylines, repeated bodies and corpus
/// statistics work as below, except that from the end a repeated body's last lines can go (a
/// trailer that ended each copy).
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
/// With `corpus_min_docs` above 0, the step also uses corpus statistics and becomes a two-pass
/// step. First pass: for every document (of a group, with `corpus_group_by`, as
/// [`crate::CorpusBoilerplate`] groups), the distinct normalised lines (see
/// [`crate::normalize_line`]) of its *edges* are counted once: the lines before its first prose
/// line and after its last, at most `corpus_edge_lines` at each end. Second pass: the label and
/// label/value lines from the first line on (and from the last line back) that were each at the
/// edge of at least `corpus_min_docs` documents of the group are chrome even when the block is
/// shorter than `min_block_lines`; the leading run stops at the first line that is not frequent
/// or not label-shaped. The structure rules still hold: a prose line, a byline and the lines of a
/// repeated body are never removed, and a document without a prose line is left alone. Counts
/// live in a count-min sketch (`sketch_width` × `sketch_depth` 32-bit counters, allocated only
/// when the statistics are on).
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
/// `method = "model"`: the weights, thresholds (`threshold` 5, `trail_threshold` 4), the
/// repeated-body bonus (10) and the stop margin (8) come from `examples/train_chrome.rs` on the
/// visible lines of the 807 pages of the same four sets; the thresholds are those that restore
/// the most twins out of fold with at most 0.5% of gold lines lost and 99% of undamaged texts
/// unchanged (docs/repair.md has the leave-one-source-out figures and the trade-off table:
/// held out, the model removes 59-65% of the pages' own chrome lines against the rules'
/// 13-17%, at the rules' gold loss, but restores only 0-1.5 points more twins exactly; so
/// `rules` stays the default).
/// Corpus statistics are off unless asked for (`corpus_min_docs = 0`, so that the step alone
/// stays one-pass); the bundled `default` recipe asks for 2, by site. Measured on the same-site pages
/// of CleanPortalEval and Dragnet (tests/it/chrome_corpus.rs, 132 pages of 35 sites, grouped by
/// site): with `corpus_min_docs = 2` they add 326 removed lines to the structure's 9, of which
/// 325 are not in the gold text (footer links, share bars, network menus); with 3, 112 (111);
/// with 5, 15 (15). On the gold texts of those pages, grouped the same way, 2 removes 6 of 2,375
/// gold lines (one-line trailers the annotators kept, "Related Content"), 5 removes none. In
/// the default repair chain, where `corpus_boilerplate` follows and already removes lines on
/// more than two pages of a site, 2 adds 210 lines (209 not in gold), while 3 adds nothing: the
/// lines it takes from the edges no longer count for `corpus_boilerplate`, which then keeps a
/// few of them elsewhere. `corpus_edge_lines = 32` covers a footer or menu of a typical page;
/// the sketch's default (2^18 counters × 4 rows, 4 MiB) keeps the expected over-count under one
/// document up to about 96,000 counted (document, edge line) pairs per unit (e·N/width): edges
/// are a small part of a text, so a smaller sketch than `corpus_boilerplate`'s suffices.
/// Statistics are per site by default (`corpus_group_by = "url"`): counted over the whole
/// input, chrome-shaped lines that clean texts of different sites share at their edges
/// ("Advertisement", a shared dateline) make 2 change 22 of the 801 undamaged gold texts of
/// tests/it/twins.rs (3: 14) instead of 5. Lines with a digit are not judged by the statistics
/// (see `judged_by_corpus`): that costs 75 of the 401 lines that 2 would otherwise add.
///
/// Sharded runs: as `corpus_boilerplate`'s, `stage = "count"` writes the shard's edge-line
/// sketch to `sketch_file` (documents pass unchanged) and `stage = "apply"` sums the sketches
/// named by `sketches` and strips in one pass, as one run over the whole input does.
///
/// # Example
/// ```toml
/// [[step]]
/// type = "strip_chrome"
/// min_block_lines = 8
/// corpus_min_docs = 2
/// corpus_group_by = "url"
/// ```
#[derive(Debug, Clone, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct StripChromeConfig {
    /// How leading and trailing chrome is recognised: `rules` (the default), the label-line
    /// block rules, or `model`, the line classifier trained on the gold sets (removes far more
    /// chrome of unseen sites, but changes more clean texts; see docs/repair.md).
    pub method: ChromeMethod,
    /// `method = "model"`: the log-odds a line must pass to go from the start of the text
    /// (each removed block's summed log-odds less this per line must be the best); `None` uses
    /// the trained model's (5). Lower removes more chrome and more article lines: see the
    /// held-out trade-off table in docs/repair.md.
    pub model_threshold: Option<f32>,
    /// `method = "model"`: the same for the end of the text; `None` uses the trained model's
    /// (4).
    pub model_trail_threshold: Option<f32>,
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
    /// A label line at an edge of the document that was at the edge of at least this many
    /// documents (of its group) is chrome, whatever the block's length; 0 turns corpus
    /// statistics off (and the step is then a one-pass step).
    pub corpus_min_docs: u32,
    /// At most this many lines at each end of a document (before its first prose line, after
    /// its last) are counted.
    pub corpus_edge_lines: usize,
    /// Metadata field whose value groups documents for the statistics (a URL is reduced to its
    /// host, so the default `url` groups by site); an empty string counts over the whole input.
    /// With a field, documents without it are neither counted nor judged by the statistics (the
    /// structure rules still apply).
    pub corpus_group_by: String,
    /// Counters per sketch row.
    pub sketch_width: usize,
    /// Rows (independent hashes) of the sketch.
    pub sketch_depth: usize,
    /// With corpus statistics: `single` (count and strip in one run), or a sharded run's
    /// `count`, `apply` or `exchange` stage (see `corpus_boilerplate`).
    pub stage: CorpusStage,
    /// `stage = "count"` or `"exchange"`: where this shard's sketch is written.
    pub sketch_file: Option<PathBuf>,
    /// `stage = "apply"`: the count stage's sketch files, or folders of `*.sketch` files;
    /// `stage = "exchange"`: every shard's `sketch_file` (files only).
    pub sketches: Option<Vec<PathBuf>>,
}

impl Default for StripChromeConfig {
    fn default() -> Self {
        StripChromeConfig {
            method: ChromeMethod::Rules,
            model_threshold: None,
            model_trail_threshold: None,
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
            corpus_min_docs: 0,
            corpus_edge_lines: 32,
            corpus_group_by: "url".into(),
            sketch_width: 1 << 18,
            sketch_depth: 4,
            stage: CorpusStage::Single,
            sketch_file: None,
            sketches: None,
        }
    }
}

impl StepConfig for StripChromeConfig {
    /// Word and line counts that define a kind of line or block are at least 1 (0 would make
    /// every line prose, or no line a label); with corpus statistics on, the edge lines and
    /// the sketch's shape too.
    fn validate(&self) -> Result<()> {
        const STEP: &str = "strip_chrome";
        for (key, v) in [
            ("prose_min_words", self.prose_min_words),
            ("prose_min_words_terminal", self.prose_min_words_terminal),
            ("label_max_words", self.label_max_words),
            ("label_max_chars", self.label_max_chars),
            (
                "label_value_max_head_words",
                self.label_value_max_head_words,
            ),
            ("label_value_max_words", self.label_value_max_words),
            ("min_block_lines", self.min_block_lines),
        ] {
            check_at_least(STEP, key, v, 1)?;
        }
        if self.corpus_min_docs > 0 {
            check_at_least(STEP, "corpus_edge_lines", self.corpus_edge_lines, 1)?;
            check_shape(STEP, self.sketch_width, self.sketch_depth)?;
        } else if self.stage != CorpusStage::Single {
            return Err(thresher_core::Error::config(
                STEP,
                "`stage` needs corpus statistics (`corpus_min_docs` above 0)",
            ));
        }
        for (key, v) in [
            ("model_threshold", self.model_threshold),
            ("model_trail_threshold", self.model_trail_threshold),
        ] {
            if v.is_some_and(|v| !v.is_finite()) {
                return Err(thresher_core::Error::config(
                    STEP,
                    format!("`{key}` must be a finite number"),
                ));
            }
        }
        // The stage's files are checked when the step is built (see `corpus_boilerplate`).
        Ok(())
    }

    fn build(self) -> Result<Box<dyn Step>> {
        Ok(Box::new(StripChrome::new(self)?))
    }
}

/// How `strip_chrome` recognises chrome (see [`StripChromeConfig`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ChromeMethod {
    /// The line classifier of [`crate::ChromeModel`]: the best cut at each edge by the sum of
    /// the lines' log-odds.
    Model,
    /// Blocks of label lines (the `label_*`, `prose_*` and `min_*block_lines` parameters).
    Rules,
}

/// The `strip_chrome` step (see [`StripChromeConfig`]).
pub struct StripChrome {
    cfg: StripChromeConfig,
    /// The classifier, with `method = "model"`.
    model: Option<ChromeModel>,
    /// The model's word weights, for lookups.
    words: WordWeights,
    /// Annotate-only mode: record, do not remove.
    annotate_only: bool,
    /// Edge-line counts; `Some` only when `corpus_min_docs > 0`.
    sketch: Option<CountSketch>,
    docs_observed: AtomicU64,
    docs_without_group: AtomicU64,
    pairs_counted: AtomicU64,
    docs_edited: AtomicU64,
    lines_removed: AtomicU64,
    lines_removed_by_corpus: AtomicU64,
}

/// The lines with content of a text, with their kind, and where its prose starts and ends.
struct Units {
    lines: Vec<Line>,
    /// `(line index, kind)` of each line that is not [`LineKind::Empty`].
    units: Vec<(usize, LineKind)>,
    /// Indexes into `units` of the first and last prose line.
    prose: Option<(usize, usize)>,
}

/// What `strip_chrome` decided for one text.
struct Found {
    /// One flag per line: removed.
    drop: Vec<bool>,
    /// Of the removed lines (with the model: units), how many only corpus statistics removed.
    by_corpus: usize,
    /// With the model: `(line index, score)` of each removed line that the model scored (its
    /// log-odds of being chrome, less the threshold).
    scores: Vec<(usize, f32)>,
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
        let model = (cfg.method == ChromeMethod::Model).then(ChromeModel::builtin);
        Self::with_model(cfg, model)
    }

    /// With another classifier than the built-in one (`None`: the rules), for evaluation.
    pub fn with_model(cfg: StripChromeConfig, model: Option<ChromeModel>) -> Result<Self> {
        cfg.validate()?;
        check_stage("strip_chrome", cfg.stage, &cfg.sketch_file, &cfg.sketches)?;
        if let Some(m) = &model {
            m.check()
                .map_err(|e| thresher_core::Error::config("strip_chrome", e))?;
        }
        let sketch = if cfg.corpus_min_docs > 0 {
            Some(CountSketch::new(
                "strip_chrome",
                cfg.sketch_width,
                cfg.sketch_depth,
            )?)
        } else {
            None
        };
        // The apply stage starts from the sum of the count stage's sketches.
        let seen = match (&sketch, cfg.stage, &cfg.sketches) {
            (Some(sk), CorpusStage::Apply, Some(paths)) => {
                load_sketches("strip_chrome", sk, paths)?
            }
            _ => Observed::default(),
        };
        let words = model
            .as_ref()
            .map(|m| WordWeights::from(&m.vocab))
            .unwrap_or_default();
        Ok(StripChrome {
            cfg,
            words,
            model,
            annotate_only: false,
            sketch,
            docs_observed: AtomicU64::new(seen.docs_observed),
            docs_without_group: AtomicU64::new(seen.docs_without_group),
            pairs_counted: AtomicU64::new(seen.pairs_counted),
            docs_edited: AtomicU64::new(0),
            lines_removed: AtomicU64::new(0),
            lines_removed_by_corpus: AtomicU64::new(0),
        })
    }

    /// The metadata field that groups documents for the statistics, if any.
    fn group_field(&self) -> Option<&str> {
        Some(self.cfg.corpus_group_by.as_str()).filter(|f| !f.is_empty())
    }

    /// The repeated-body evidence of `doc`, when the step reads it.
    fn body_spans(&self, doc: &Document) -> Vec<(usize, usize)> {
        if self.cfg.use_repeat_evidence {
            body_spans_of(doc)
        } else {
            Vec::new()
        }
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

    /// Splits `text` into lines and classifies them; lines starting inside one of `body_spans`
    /// count as prose.
    fn units(&self, text: &str, body_spans: &[(usize, usize)]) -> Units {
        let lines = split_lines(text);
        let in_body = |start: usize| body_spans.iter().any(|&(a, b)| a <= start && start < b);
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
        let prose = units
            .iter()
            .position(|(_, k)| *k == LineKind::Prose)
            .map(|first| {
                let last = units
                    .iter()
                    .rposition(|(_, k)| *k == LineKind::Prose)
                    .unwrap_or(first);
                (first, last)
            });
        Units {
            lines,
            units,
            prose,
        }
    }

    /// Decides which lines of `text` are chrome: one flag per line (see [`split_lines`]).
    /// `body_spans` are byte spans known to be body (the kept copy of a repeated body); lines
    /// starting inside one count as prose and are never removed.
    pub fn find(&self, text: &str, body_spans: &[(usize, usize)]) -> Vec<bool> {
        self.find_with(text, body_spans, |_| false).drop
    }

    /// [`StripChrome::find`] with the classifier: the best cut at the start, then at the end,
    /// each extended by lines at the new edge that corpus statistics know as frequent.
    fn find_model(
        &self,
        model: &ChromeModel,
        text: &str,
        body_spans: &[(usize, usize)],
        frequent: impl Fn(&str) -> bool,
    ) -> Found {
        let lines = split_lines(text);
        let mut doc = Doc::new(text, &lines).with_vocab(&self.words);
        let n = doc.units.len();
        let mut found = Found {
            drop: vec![false; lines.len()],
            by_corpus: 0,
            scores: Vec::new(),
        };
        if n == 0 || !doc.has_long_line() {
            return found;
        }
        let line_text = |u: usize, doc: &Doc| {
            let l = &lines[doc.units[u]];
            &text[l.start..l.end]
        };
        let in_body = |u: usize, doc: &Doc| {
            let start = lines[doc.units[u]].start;
            body_spans.iter().any(|&(a, b)| a <= start && start < b)
        };
        // Lines inside a repeated body and bylines are never removed: they end a scan.
        let protected = |u: usize, doc: &Doc| {
            in_body(u, doc) || self.classify(line_text(u, doc)) == LineKind::Byline
        };
        let first_body = (0..n).find(|&u| in_body(u, &doc));
        let last_body = (0..n).rev().find(|&u| in_body(u, &doc));
        let lead_threshold = self.cfg.model_threshold.unwrap_or(model.threshold);
        let trail_threshold = self
            .cfg
            .model_trail_threshold
            .unwrap_or(model.trail_threshold);
        let mut scores: Vec<(usize, f32)> = Vec::new();
        let mut lead = best_cut(n, model.stop_margin, |k| {
            if protected(k, &doc) {
                return None;
            }
            let mut s = model.logit(&doc.features(text, k, false), false) - lead_threshold;
            if first_body.is_some_and(|b| k < b) {
                s += model.repeated_bonus;
            }
            scores.push((k, s));
            Some(s)
        });
        let rest = n - lead;
        // A repeated body protects its lines from the start only: a trailer that ended each
        // copy ("Read more: ...") is inside the kept copy and still a trailer.
        let mut trail = best_cut(rest, model.stop_margin, |k| {
            let u = n - 1 - k;
            if self.classify(line_text(u, &doc)) == LineKind::Byline {
                return None;
            }
            let mut s = model.logit(&doc.features(text, u, true), true) - trail_threshold;
            if last_body.is_some_and(|b| u > b) {
                s += model.repeated_bonus;
            }
            scores.push((u, s));
            Some(s)
        });
        // Corpus statistics: label lines at the new edges that many documents share.
        let known = |u: usize, doc: &Doc| {
            let t = line_text(u, doc);
            !protected(u, doc)
                && matches!(self.classify(t), LineKind::Label | LineKind::LabelValue)
                && judged_by_corpus(t)
                && frequent(t)
        };
        let mut by_corpus_units = 0;
        while lead + trail < n && known(lead, &doc) {
            lead += 1;
            by_corpus_units += 1;
        }
        while lead + trail < n && known(n - 1 - trail, &doc) {
            trail += 1;
            by_corpus_units += 1;
        }
        // A text that would lose every line is not chrome around a body: leave it.
        if lead + trail >= n {
            return found;
        }
        if lead > 0 {
            mark(&mut found.drop, 0, doc.units[lead - 1]);
        }
        if trail > 0 {
            mark(&mut found.drop, doc.units[n - trail], lines.len() - 1);
        }
        found.by_corpus = by_corpus_units;
        scores.retain(|&(u, _)| u < lead || u >= n - trail);
        scores.sort_by_key(|&(u, _)| u);
        scores.dedup_by_key(|&mut (u, _)| u);
        found.scores = scores.into_iter().map(|(u, s)| (doc.units[u], s)).collect();
        found
    }

    /// [`StripChrome::find`] with corpus evidence: `frequent(line)` says whether a line was at
    /// the edge of enough documents. Also returns how many of the removed lines only the
    /// evidence removed.
    fn find_with(
        &self,
        text: &str,
        body_spans: &[(usize, usize)],
        frequent: impl Fn(&str) -> bool,
    ) -> Found {
        if let Some(m) = &self.model {
            return self.find_model(m, text, body_spans, frequent);
        }
        let Units {
            lines,
            units,
            prose,
        } = self.units(text, body_spans);
        let mut drop = vec![false; lines.len()];
        let Some((first_prose, last_prose)) = prose else {
            return Found {
                drop,
                by_corpus: 0,
                scores: Vec::new(),
            };
        };
        let chrome = |k: LineKind| matches!(k, LineKind::Label | LineKind::LabelValue);
        let frequent_unit = |&(i, _): &(usize, LineKind)| {
            let l = &lines[i];
            let t = &text[l.start..l.end];
            judged_by_corpus(t) && frequent(t)
        };
        let mut by_corpus = 0;

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
        } else {
            // Too short for the structure alone: the part of it whose lines are each at the
            // edge of many documents of the corpus goes.
            let known = units[..lead]
                .iter()
                .take_while(|u| frequent_unit(u))
                .count();
            if known > 0 {
                mark(&mut drop, units[0].0, units[known - 1].0);
                by_corpus += units[known - 1].0 + 1 - units[0].0;
            }
        }

        // Trailing run: from the last line back, as long as the lines are chrome.
        let tail = &units[last_prose + 1..];
        let run = tail.iter().rev().take_while(|(_, k)| chrome(*k)).count();
        let structural =
            self.cfg.min_trailing_block_lines > 0 && run >= self.cfg.min_trailing_block_lines;
        let known = if structural {
            0
        } else {
            tail[tail.len() - run..]
                .iter()
                .rev()
                .take_while(|u| frequent_unit(u))
                .count()
        };
        let run = if structural { run } else { known };
        if run > 0 {
            // Drop from the first chrome line to the end of the text, so that blank lines
            // between trailer lines go too.
            let from = tail[tail.len() - run].0;
            mark(&mut drop, from, lines.len() - 1);
            if !structural {
                by_corpus += lines.len() - from;
            }
        }
        Found {
            drop,
            by_corpus,
            scores: Vec::new(),
        }
    }

    /// The keys of the lines at the edges of `text` (before its first prose line and after its
    /// last, at most `corpus_edge_lines` at each end), distinct. A text without prose has no
    /// edges: it is not a page with chrome around a body.
    fn edge_keys(
        &self,
        text: &str,
        body_spans: &[(usize, usize)],
        seed: u64,
        scratch: &mut String,
    ) -> HashSet<u64> {
        let Units {
            lines,
            units,
            prose,
        } = self.units(text, body_spans);
        let mut keys = HashSet::new();
        let Some((first_prose, last_prose)) = prose else {
            return keys;
        };
        let n = self.cfg.corpus_edge_lines;
        let head = units[..first_prose].iter().take(n);
        let tail = units[last_prose + 1..].iter().rev().take(n);
        for &(i, _) in head.chain(tail) {
            let l = &lines[i];
            if !judged_by_corpus(&text[l.start..l.end]) {
                continue;
            }
            normalize_line(&text[l.start..l.end], scratch);
            if !scratch.is_empty() {
                keys.insert(group_key(scratch, seed));
            }
        }
        keys
    }
}

/// Whether corpus statistics may call a line chrome: not when it has a digit. Template lines
/// (menus, footers, share bars) are the same words on every page; a line with a number that two
/// pages of a site share at their edge is as likely a coincidence of content (the dateline of
/// two articles of the same day, a score) as a template, and a dateline is kept by the structure
/// rules too.
fn judged_by_corpus(line: &str) -> bool {
    !line.chars().any(char::is_numeric)
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

/// `[start, end, score]` of each scored removed line: its byte span in the text the step
/// received (with its terminator) and its log-odds of being chrome less the threshold, rounded
/// to two decimals.
fn scores_json(lines: &[Line], scores: &[(usize, f32)]) -> Value {
    Value::Array(
        scores
            .iter()
            .map(|&(i, s)| {
                let l = &lines[i];
                let s = (f64::from(s) * 100.0).round() / 100.0;
                serde_json::json!([l.start, l.next, s])
            })
            .collect(),
    )
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

    fn mode(&self) -> StepMode {
        // The apply stage has its counts loaded: one pass.
        if self.sketch.is_some() && self.cfg.stage != CorpusStage::Apply {
            StepMode::TwoPass
        } else {
            StepMode::Parallel
        }
    }

    fn set_annotate_only(&mut self) -> bool {
        self.annotate_only = true;
        true
    }

    fn observe(&self, doc: &Document) -> Result<()> {
        let Some(sketch) = &self.sketch else {
            return Ok(());
        };
        let Some(seed) = group_seed(self.group_field(), doc) else {
            self.docs_without_group.fetch_add(1, Ordering::Relaxed);
            return Ok(());
        };
        let body_spans = self.body_spans(doc);
        let mut scratch = String::new();
        let keys = self.edge_keys(doc.text(), &body_spans, seed, &mut scratch);
        for &k in &keys {
            sketch.add(k);
        }
        self.docs_observed.fetch_add(1, Ordering::Relaxed);
        self.pairs_counted
            .fetch_add(keys.len() as u64, Ordering::Relaxed);
        Ok(())
    }

    fn end_observe(&self) -> Result<()> {
        let Some(sketch) = &self.sketch else {
            return Ok(());
        };
        let seen = Observed {
            docs_observed: self.docs_observed.load(Ordering::Relaxed),
            docs_without_group: self.docs_without_group.load(Ordering::Relaxed),
            pairs_counted: self.pairs_counted.load(Ordering::Relaxed),
        };
        let c = &self.cfg;
        if let Some(all) = end_counting(
            self.name(),
            sketch,
            c.stage,
            &c.sketch_file,
            &c.sketches,
            seen,
        )? {
            // The report gives every shard's figures, as the apply stage's does.
            self.docs_observed
                .store(all.docs_observed, Ordering::Relaxed);
            self.docs_without_group
                .store(all.docs_without_group, Ordering::Relaxed);
            self.pairs_counted
                .store(all.pairs_counted, Ordering::Relaxed);
        }
        Ok(())
    }

    fn process(&self, mut doc: Document, cx: &mut StepCx) -> Outcome {
        if self.cfg.stage == CorpusStage::Count {
            // The shard's counts are the stage's product; the chrome goes in the apply stage.
            return Outcome::Keep(doc);
        }
        let body_spans = self.body_spans(&doc);
        let seed = self
            .sketch
            .as_ref()
            .and_then(|s| Some((s, group_seed(self.group_field(), &doc)?)));
        let scratch = std::cell::RefCell::new(std::mem::take(&mut cx.scratch));
        let Found {
            drop,
            by_corpus,
            scores,
        } = self.find_with(doc.text(), &body_spans, |line| {
            let Some((sketch, seed)) = seed else {
                return false;
            };
            let mut buf = scratch.borrow_mut();
            normalize_line(line, &mut buf);
            !buf.is_empty() && sketch.estimate(group_key(&buf, seed)) >= self.cfg.corpus_min_docs
        });
        cx.scratch = scratch.into_inner();
        let removed_lines = drop.iter().filter(|&&d| d).count();
        if removed_lines == 0 {
            return Outcome::Keep(doc);
        }
        let lines = split_lines(doc.text());
        let (text, spans) = remove_lines(doc.text(), &lines, &drop);
        let removed_bytes: usize = spans.iter().map(|(a, b)| b - a).sum();
        if self.annotate_only {
            note_annotate_only(&mut doc, self.name(), removed_lines, removed_bytes);
        } else {
            doc.set_text(text);
        }
        self.docs_edited.fetch_add(1, Ordering::Relaxed);
        self.lines_removed
            .fetch_add(removed_lines as u64, Ordering::Relaxed);
        self.lines_removed_by_corpus
            .fetch_add(by_corpus as u64, Ordering::Relaxed);
        let name = self.name().to_string();
        doc.annotate(&name, "lines_removed", removed_lines);
        doc.annotate(&name, "bytes_removed", removed_bytes);
        if by_corpus > 0 {
            doc.annotate(&name, "lines_removed_by_corpus", by_corpus);
        }
        doc.annotate(&name, "spans", spans_json(&spans));
        if !scores.is_empty() {
            doc.annotate(&name, "scores", scores_json(&lines, &scores));
        }
        Outcome::Keep(doc)
    }

    fn report(&self) -> Map<String, Value> {
        let mut m = Map::new();
        let load = |a: &AtomicU64| Value::from(a.load(Ordering::Relaxed));
        m.insert("docs_edited".into(), load(&self.docs_edited));
        m.insert("lines_removed".into(), load(&self.lines_removed));
        if let Some(sketch) = &self.sketch {
            let pairs = self.pairs_counted.load(Ordering::Relaxed);
            m.insert(
                "lines_removed_by_corpus".into(),
                load(&self.lines_removed_by_corpus),
            );
            m.insert("docs_observed".into(), load(&self.docs_observed));
            m.insert("docs_without_group".into(), load(&self.docs_without_group));
            m.insert("edge_line_doc_pairs_counted".into(), pairs.into());
            m.insert("corpus_min_docs".into(), self.cfg.corpus_min_docs.into());
            if self.cfg.stage != CorpusStage::Single {
                m.insert(
                    "stage".into(),
                    serde_json::to_value(self.cfg.stage).unwrap_or_default(),
                );
            }
            m.insert("sketch_bytes".into(), sketch.bytes().into());
            // The count-min bound on the over-count of any one line (e·N/width).
            m.insert(
                "overcount_bound".into(),
                sketch.overcount_bound(pairs).into(),
            );
        }
        m
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

    /// Runs a corpus-statistics step over `texts` (each with a `url` of `site`) as the
    /// executor does: observe all, then process each.
    fn run_corpus(
        cfg: StripChromeConfig,
        texts: &[(&str, String)],
    ) -> (Vec<String>, Map<String, Value>) {
        let s = StripChrome::new(cfg).unwrap();
        assert_eq!(s.mode(), StepMode::TwoPass);
        let docs: Vec<Document> = texts
            .iter()
            .enumerate()
            .map(|(i, (site, t))| {
                let mut d = Document::new(format!("d{i}"), t.clone());
                d.metadata
                    .insert("url".into(), format!("https://{site}/{i}").into());
                d
            })
            .collect();
        for d in &docs {
            s.observe(d).unwrap();
        }
        s.end_observe().unwrap();
        let out = docs
            .into_iter()
            .map(|d| match s.process(d, &mut StepCx::default()) {
                Outcome::Keep(d) => d.text().to_string(),
                o => panic!("{o:?}"),
            })
            .collect();
        (out, s.report())
    }

    fn corpus_cfg(min_docs: u32) -> StripChromeConfig {
        StripChromeConfig {
            corpus_min_docs: min_docs,
            corpus_group_by: "url".into(),
            ..Default::default()
        }
    }

    #[test]
    fn off_by_default_is_one_pass() {
        assert_eq!(step().mode(), StepMode::Parallel);
        assert!(step().report().get("docs_observed").is_none());
    }

    #[test]
    fn short_blocks_seen_on_many_pages_go() {
        // Three pages of one site open with the same short menu and end with the same share bar;
        // the structure alone keeps both (3 lines < min_block_lines, trailers off).
        let texts: Vec<(&str, String)> = (0..3)
            .map(|i| {
                (
                    "a.com",
                    format!("Home\nNews\nTitle {i}\nPage {i} body has a sentence of prose in it.\nShare\nTweet\n"),
                )
            })
            .collect();
        let (out, rep) = run_corpus(corpus_cfg(3), &texts);
        for (i, o) in out.iter().enumerate() {
            // "Title i" is on one page only: the leading run stops there.
            assert_eq!(
                o,
                &format!("Title {i}\nPage {i} body has a sentence of prose in it.\n")
            );
        }
        assert_eq!(rep["lines_removed_by_corpus"], 12);
        assert_eq!(rep["docs_observed"], 3);
        // Seen on three pages, but the threshold is four: nothing goes.
        let (out, _) = run_corpus(corpus_cfg(4), &texts);
        assert_eq!(out[0], texts[0].1);
    }

    /// A site's pages in two shards: each shard's count stage writes its sketch, and each
    /// shard's apply stage strips what one run over both strips (per shard, the menu is on 2
    /// pages, under the threshold of 3).
    #[test]
    fn count_and_apply_stages_strip_as_one_run() {
        let dir = tempfile::tempdir().unwrap();
        let texts: Vec<(&str, String)> = (0..4)
            .map(|i| {
                (
                    "a.com",
                    format!(
                        "Home\nNews\nTitle {i}\nPage {i} body has a sentence of prose in it.\n"
                    ),
                )
            })
            .collect();
        let (want, want_rep) = run_corpus(corpus_cfg(3), &texts);
        assert!(want.iter().all(|t| t.starts_with("Title")));
        for (k, shard) in [&texts[..2], &texts[2..]].into_iter().enumerate() {
            let cfg = StripChromeConfig {
                stage: CorpusStage::Count,
                sketch_file: Some(dir.path().join(format!("{k}.sketch"))),
                ..corpus_cfg(3)
            };
            let (out, _) = run_corpus(cfg, shard);
            assert_eq!(
                out[0], shard[0].1,
                "the count stage passes documents unchanged"
            );
        }
        let apply = StripChromeConfig {
            stage: CorpusStage::Apply,
            sketches: Some(vec![
                dir.path().join("0.sketch"),
                dir.path().join("1.sketch"),
            ]),
            ..corpus_cfg(3)
        };
        let s = StripChrome::new(apply.clone()).unwrap();
        assert_eq!(s.mode(), StepMode::Parallel);
        let got: Vec<String> = texts
            .iter()
            .enumerate()
            .map(|(i, (site, t))| {
                let mut d = Document::new(format!("d{i}"), t.clone());
                d.metadata
                    .insert("url".into(), format!("https://{site}/{i}").into());
                match s.process(d, &mut StepCx::default()) {
                    Outcome::Keep(d) => d.text().to_string(),
                    o => panic!("{o:?}"),
                }
            })
            .collect();
        assert_eq!(got, want);
        assert_eq!(s.report()["docs_observed"], want_rep["docs_observed"]);
        // Stages need corpus statistics and their file parameters.
        let bad = [
            StripChromeConfig {
                corpus_min_docs: 0,
                ..apply.clone()
            },
            StripChromeConfig {
                sketches: None,
                ..apply.clone()
            },
            StripChromeConfig {
                stage: CorpusStage::Count,
                ..apply.clone()
            },
            StripChromeConfig {
                sketch_width: 1 << 10,
                ..apply
            },
        ];
        for cfg in bad {
            assert!(StripChrome::new(cfg).is_err());
        }
    }

    #[test]
    fn statistics_are_per_site_and_keep_structure() {
        let mut texts: Vec<(&str, String)> = Vec::new();
        for site in ["a.com", "b.com"] {
            // A frequent byline and a frequent prose line are never removed.
            texts.push((site, format!("Home\nby Jane Doe\n{BODY}")));
        }
        texts.push(("c.com", format!("Home\n{BODY}")));
        let (out, _) = run_corpus(corpus_cfg(2), &texts);
        assert_eq!(out[0], format!("Home\nby Jane Doe\n{BODY}"));
        assert_eq!(out[2], format!("Home\n{BODY}"));
        // Counted over the whole input, "Home" is at the edge of three documents.
        let cfg = StripChromeConfig {
            corpus_group_by: String::new(),
            ..corpus_cfg(3)
        };
        let (out, _) = run_corpus(cfg, &texts);
        assert_eq!(out[0], format!("by Jane Doe\n{BODY}"));
        assert_eq!(out[2], BODY);
    }

    #[test]
    fn docs_without_a_group_are_judged_by_structure_only() {
        let s = StripChrome::new(corpus_cfg(1)).unwrap();
        let d = Document::new("d", format!("Home\n{BODY}"));
        s.observe(&d).unwrap();
        s.end_observe().unwrap();
        let Outcome::Keep(d) = s.process(d, &mut StepCx::default()) else {
            panic!()
        };
        assert_eq!(d.text(), format!("Home\n{BODY}"));
        assert_eq!(s.report()["docs_without_group"], 1);
    }

    #[test]
    fn bad_sketch_is_a_config_error() {
        let cfg = StripChromeConfig {
            sketch_width: 0,
            ..corpus_cfg(2)
        };
        assert!(StripChrome::new(cfg).is_err());
        // Unused when the statistics are off.
        let cfg = StripChromeConfig {
            sketch_width: 0,
            ..Default::default()
        };
        assert!(StripChrome::new(cfg).is_ok());
    }

    fn model_step() -> StripChrome {
        StripChrome::new(StripChromeConfig {
            method: ChromeMethod::Model,
            ..Default::default()
        })
        .unwrap()
    }

    #[test]
    fn model_removes_a_menu_and_keeps_the_article() {
        let menu = "Home\nNews\nSport\nWeather\nTravel\nBusiness\nHealth\nTech\nVideo\n";
        let body = "Japan's main stock index rose to its highest level in almost five years on Friday, after the central bank announced new measures.\n\
                    The Bank of Japan said on Thursday it would double the money supply, buying government bonds and other assets over two years.\n\
                    Analysts said the move was larger than expected, and that it could weaken the yen further against the dollar.\n";
        let t = format!("{menu}{body}");
        let Outcome::Keep(d) = model_step().process(Document::new("d", t), &mut StepCx::default())
        else {
            panic!()
        };
        // The menu goes (its last lines, next to the article, may stay: the model is wary of
        // short lines just before prose, where titles are), the article stays whole.
        assert!(d.text().ends_with(body), "{}", d.text());
        let removed = d.annotations["strip_chrome"]["lines_removed"]
            .as_u64()
            .unwrap();
        assert!(removed >= 5, "{removed}");
        let scores = d.annotations["strip_chrome"]["scores"].as_array().unwrap();
        assert_eq!(scores.len() as u64, removed);
        // The undamaged article is left alone, and so is a text without a body.
        let Outcome::Keep(d) =
            model_step().process(Document::new("d", body), &mut StepCx::default())
        else {
            panic!()
        };
        assert_eq!(d.text(), body);
        let Outcome::Keep(d) =
            model_step().process(Document::new("d", menu), &mut StepCx::default())
        else {
            panic!()
        };
        assert_eq!(d.text(), menu);
    }

    #[test]
    fn model_thresholds_move_the_cut() {
        let menu = "Home\nNews\nSport\nWeather\nTravel\nBusiness\nHealth\nTech\nVideo\n";
        let body = "The Bank of Japan said on Thursday it would double the money supply, buying government bonds and other assets over two years.\n\
                    Analysts said the move was larger than expected, and that it could weaken the yen further against the dollar.\n";
        let t = format!("{menu}{body}");
        let removed = |threshold: Option<f32>| {
            let step = StripChrome::new(StripChromeConfig {
                method: ChromeMethod::Model,
                model_threshold: threshold,
                ..Default::default()
            })
            .unwrap();
            let Outcome::Keep(d) =
                step.process(Document::new("d", t.clone()), &mut StepCx::default())
            else {
                panic!()
            };
            d.annotations
                .get("strip_chrome")
                .and_then(|a| a["lines_removed"].as_u64())
                .unwrap_or(0)
        };
        // A threshold no line passes removes nothing; a low one at least as much as the
        // trained one.
        assert_eq!(removed(Some(100.0)), 0);
        assert!(removed(Some(-2.0)) >= removed(None));
        assert!(StripChromeConfig {
            model_threshold: Some(f32::NAN),
            ..Default::default()
        }
        .validate()
        .is_err());
    }

    #[test]
    fn no_prose_no_change() {
        let t = "Home\nNews\nSport\nWeather\n";
        assert_eq!(run(t), t);
    }
}
