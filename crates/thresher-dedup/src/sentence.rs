//! `sentence_dedup`: removes every span of 3 sentences already seen, C4's sentence-level
//! dedup as datatrove's `SentenceDedup` does it.
//!
//! # What it does
//! 1. The text is cut into sentences by datatrove's English splitter (spaCy's `sentencizer` over
//!    spaCy's English tokens: [`thresher_filters::sentences`]); with `split_sentences = false`,
//!    into lines (Python's `str.splitlines()`).
//! 2. Each sentence (stripped; empty ones dropped, as datatrove's `sent_tokenize` does) is
//!    normalised with datatrove's `simplify_text` ([`simplify_text`], `norm`), and each run of
//!    `n_sentences` consecutive sentences is hashed: XXH64 (seed 0) of the normalised sentences
//!    joined by one space. Runs whose sentences are all empty after normalisation are skipped.
//! 3. Documents are handled in input order ([`StepMode::Ordered`]); a run whose hash was seen
//!    before (in an earlier document, or earlier in the same one) is a duplicate, and its
//!    sentences are removed. The first occurrence is kept.
//! 4. The text is rebuilt from the kept sentences, each with the whitespace before it, then
//!    left-stripped (lines are joined by `\n`). A document left with fewer than `min_doc_words`
//!    words (datatrove's word tokenizer) or fewer than `min_num_sentences` sentences is rejected
//!    (`sentence_dedup:too_few_words`, `sentence_dedup:too_few_sentences`); one whose text is
//!    empty (left empty, or empty to begin with) as `sentence_dedup:empty`. A document that lost
//!    nothing is kept whatever its length.
//!
//! # Why
//! Template sentences (disclaimers, cookie banners, "click here to subscribe" runs) recur across
//! millions of pages; C4 removed every repeat of a three-sentence span and kept one copy.
//!
//! # Source of each rule
//! datatrove 0.10.1 `pipeline/dedup/sentence_dedup.py` (`SentDedupConfig`: `n_sentences = 3`,
//! `split_sentences = True`, `min_doc_words = 50`, `min_num_sentences = 3`,
//! `min_words_to_remove_span = 0`, default `TextNormConfig`, `HashConfig` = 64-bit xxhash), in
//! its three stages: `SentenceDedupSignature.get_hashes` (steps 1-2), `SentenceFindDedups` (3:
//! signatures sorted by (hash, document index, sentence index), every one but the first of a
//! hash is a duplicate) and `SentenceDedupFilter.remove_dup_sentences` / `run` (4). The rule
//! itself is C4's (Raffel et al. 2020, JMLR 21(140), section 2.2: "we discarded all but one of
//! any three-sentence span occurring more than once in the data set"). Sentence splitting:
//! datatrove's `load_word_tokenizer("en")` = `SpaCyTokenizer("en")`, `spacy.blank("en")` with
//! the `sentencizer` pipe (spaCy 3.8).
//!
//! As datatrove does (kept so that the outputs are the same):
//! - when `min_words_to_remove_span` is above 0, only the *first* sentence of a removed run is
//!   measured, and only it is put back when it has fewer words;
//! - sentence indices of step 2 count the non-empty sentences, those of step 4 all of them
//!   (they differ only after a trailing whitespace-only sentence, which no run covers);
//! - the text after the last sentence's end (one trailing space) is lost when a document is
//!   edited, and kept when it is not.
//!
//! Differences from datatrove, all outside its defaults' single-task run (docs/filters-parity.md):
//! the first copy is the first in input order (datatrove with several tasks keeps the copy with
//! the lowest index *within its task*); datatrove fails on a document with more than 65,538
//! sentences (its sentence index is a `uint16`), thresher handles it; English splitting only.
//!
//! # Memory
//! One 64-bit hash per distinct run seen, in a hash set (about 9 to 18 bytes per entry with the
//! table's slack): `report()` gives the entries and the table's bytes.
//!
//! # Example
//! ```
//! use thresher_core::{Document, Outcome, StepConfig, StepCx};
//! use thresher_dedup::SentenceDedupConfig;
//!
//! let step = SentenceDedupConfig { min_doc_words: 0, min_num_sentences: 0, ..Default::default() }
//!     .build()
//!     .unwrap();
//! let mut cx = StepCx::default();
//! let a = "Subscribe now. Cancel any time. Terms apply. Our story begins here.";
//! let b = "A new report. Subscribe now. Cancel any time. Terms apply.";
//! assert!(matches!(step.process(Document::new("a", a), &mut cx), Outcome::Keep(d) if d.text() == a));
//! let Outcome::Keep(d) = step.process(Document::new("b", b), &mut cx) else { panic!() };
//! assert_eq!(d.text(), "A new report.");
//! ```

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use thresher_core::check::check_at_least;
use thresher_core::{
    Document, Outcome, Prepared, Reason, Result, Step, StepConfig, StepCx, StepMode,
};
use thresher_filters::{analysis, pychar, sentences};
use xxhash_rust::xxh64::Xxh64;

use crate::normalize::{simplify_text, TextNorm};

const STEP: &str = "sentence_dedup";

/// Recipe parameters of `sentence_dedup` (defaults: datatrove's `SentDedupConfig`).
#[derive(Debug, Clone, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct SentenceDedupConfig {
    /// Sentences per hashed span: a span seen before is removed.
    pub n_sentences: usize,
    /// Cut into sentences (datatrove's English splitter); `false`: into lines.
    pub split_sentences: bool,
    /// Fewest words (datatrove's word tokenizer) an edited document keeps; 0: no minimum.
    pub min_doc_words: usize,
    /// Fewest sentences an edited document keeps; 0: no minimum.
    pub min_num_sentences: usize,
    /// A removed span whose first sentence has fewer words is put back (datatrove's rule); 0: off.
    pub min_words_to_remove_span: usize,
    /// Sentence normalisation before hashing (datatrove's `TextNormConfig`).
    pub norm: TextNorm,
}

impl Default for SentenceDedupConfig {
    fn default() -> Self {
        SentenceDedupConfig {
            n_sentences: 3,
            split_sentences: true,
            min_doc_words: 50,
            min_num_sentences: 3,
            min_words_to_remove_span: 0,
            norm: TextNorm::default(),
        }
    }
}

impl StepConfig for SentenceDedupConfig {
    /// `n_sentences` is at least 1.
    fn validate(&self) -> Result<()> {
        check_at_least(STEP, "n_sentences", self.n_sentences, 1)
    }

    fn build(self) -> Result<Box<dyn Step>> {
        Ok(Box::new(SentenceDedup::new(self)?))
    }
}

/// The table's hasher: the keys are XXH64 values already, so they are their own hash.
#[derive(Default)]
struct KeyIsHash(u64);

impl Hasher for KeyIsHash {
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is used; fold anything else in, in case.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    #[inline]
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

type SpanSet = HashSet<u64, BuildHasherDefault<KeyIsHash>>;

/// The `sentence_dedup` step; see the module documentation.
pub struct SentenceDedup {
    cfg: SentenceDedupConfig,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    seen: SpanSet,
    docs: u64,
    spans_hashed: u64,
    spans_duplicate: u64,
    sentences_seen: u64,
    sentences_removed: u64,
    docs_edited: u64,
    docs_rejected: u64,
}

/// What [`Step::prepare`] computes for one document: where its pieces are and its span hashes.
struct Pieces {
    /// Byte ranges of the pieces the text is rebuilt from (a sentence with the whitespace
    /// before it, or a line without its end), in order.
    ranges: Vec<(usize, usize)>,
    /// `(hash, index of the span's first sentence)` of every hashed span, in order.
    hashes: Vec<(u64, usize)>,
}

impl SentenceDedup {
    /// The step with an empty table; errors on bad parameters.
    pub fn new(cfg: SentenceDedupConfig) -> Result<Self> {
        cfg.validate()?;
        Ok(SentenceDedup {
            cfg,
            state: Mutex::new(State::default()),
        })
    }

    /// Cuts `text` into pieces and hashes its spans (datatrove's stage 1).
    fn pieces(&self, text: &str, scratch: &mut String) -> Pieces {
        let n = self.cfg.n_sentences;
        let mut ranges = Vec::new();
        // The sentences hashed: datatrove's `sent_tokenize` (stripped, empty ones dropped) or
        // `splitlines()`. Their indices are the ones the removal uses.
        let mut units: Vec<&str> = Vec::new();
        if self.cfg.split_sentences {
            let mut ends = Vec::new();
            sentences::sentence_ends_into(text, &mut ends);
            ranges.reserve_exact(ends.len());
            let mut start = 0;
            for &end in &ends {
                ranges.push((start, end));
                // A sentence's own text starts after the previous one's end, apart from
                // whitespace, which the strip removes.
                let s = pychar::strip(&text[start..end]);
                if !s.is_empty() {
                    units.push(s);
                }
                start = end;
            }
        } else {
            let base = text.as_ptr() as usize;
            for line in pychar::splitlines(text) {
                let start = line.as_ptr() as usize - base;
                ranges.push((start, start + line.len()));
                units.push(line);
            }
        }
        let mut hashes = Vec::new();
        if units.len() >= n {
            // The normalised sentences, one buffer; (start, end, blank) of each.
            let mut norm = String::with_capacity(text.len());
            let mut spans: Vec<(usize, usize, bool)> = Vec::with_capacity(units.len());
            for u in &units {
                simplify_text(u, &self.cfg.norm, scratch);
                let start = norm.len();
                norm.push_str(scratch);
                spans.push((start, norm.len(), pychar::strip(scratch).is_empty()));
            }
            hashes.reserve_exact(units.len() + 1 - n);
            for (i, w) in spans.windows(n).enumerate() {
                // `" ".join(window).strip() != ""`: some sentence is not blank.
                if w.iter().all(|&(_, _, blank)| blank) {
                    continue;
                }
                let mut h = Xxh64::new(0);
                for (k, &(a, b, _)) in w.iter().enumerate() {
                    if k > 0 {
                        h.update(b" ");
                    }
                    h.update(&norm.as_bytes()[a..b]);
                }
                hashes.push((h.digest(), i));
            }
        }
        Pieces { ranges, hashes }
    }

    /// Words of `text` as datatrove's `word_tokenize` counts them.
    fn words(text: &str) -> usize {
        analysis::word_spans(text).len()
    }

    /// The text without the pieces of the duplicate spans starting at `dups` (sorted), as
    /// datatrove's `remove_dup_sentences` rebuilds it; and the number of pieces removed.
    fn rebuild(&self, text: &str, ranges: &[(usize, usize)], dups: &[usize]) -> (String, usize) {
        let n = self.cfg.n_sentences;
        let merge = if self.cfg.split_sentences { "" } else { "\n" };
        let mut kept: Vec<&str> = Vec::with_capacity(ranges.len());
        // datatrove keeps only the first piece of a removed run, to put it back when it has
        // fewer than `min_words_to_remove_span` words.
        let min_words = self.cfg.min_words_to_remove_span;
        let put_back = |first: &str| min_words > 0 && Self::words(first) < min_words;
        let mut removed_first: Option<&str> = None;
        let mut drop_until = 0;
        let mut d = 0;
        for (idx, &(a, b)) in ranges.iter().enumerate() {
            let piece = &text[a..b];
            if d < dups.len() && dups[d] == idx {
                drop_until = idx + n;
                d += 1;
            }
            if idx >= drop_until {
                if let Some(first) = removed_first.take() {
                    if put_back(first) {
                        kept.push(first);
                    }
                }
                kept.push(piece);
            } else if removed_first.is_none() {
                removed_first = Some(piece);
            }
        }
        if let Some(first) = removed_first.take() {
            if put_back(first) {
                kept.push(first);
            }
        }
        let removed = ranges.len() - kept.len();
        let joined = kept.join(merge);
        let out = pychar::lstrip(&joined);
        let out = if out.len() == joined.len() {
            joined
        } else {
            out.to_string()
        };
        (out, removed)
    }
}

impl Step for SentenceDedup {
    fn name(&self) -> &str {
        STEP
    }

    fn mode(&self) -> StepMode {
        StepMode::Ordered
    }

    /// Splitting, normalising and hashing: all the per-document work, on all cores.
    fn prepare(&self, doc: &mut Document, cx: &mut StepCx) -> Option<Prepared> {
        Some(Box::new(self.pieces(doc.text(), &mut cx.scratch)))
    }

    fn process(&self, mut doc: Document, cx: &mut StepCx) -> Outcome {
        let pieces = match cx.take_prepared::<Pieces>() {
            Some(p) => p,
            None => self.pieces(doc.text(), &mut cx.scratch),
        };
        // Span indices of the duplicates, ascending (hashes are in span order).
        let dups: Vec<usize> = {
            let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
            let st = &mut *st;
            let mut dups = Vec::new();
            for &(h, i) in &pieces.hashes {
                if !st.seen.insert(h) {
                    dups.push(i);
                }
            }
            st.docs += 1;
            st.spans_hashed += pieces.hashes.len() as u64;
            st.spans_duplicate += dups.len() as u64;
            st.sentences_seen += pieces.ranges.len() as u64;
            dups
        };
        if dups.is_empty() {
            // datatrove keeps an untouched document whatever its length, unless it is empty.
            if doc.text().is_empty() {
                self.count(0, false);
                return Outcome::reject(doc, Reason::new("sentence_dedup:empty", 0));
            }
            return Outcome::Keep(doc);
        }
        let (new_text, removed) = self.rebuild(doc.text(), &pieces.ranges, &dups);
        drop(pieces);
        if new_text == doc.text() {
            // Duplicates put back (`min_words_to_remove_span`): nothing changed.
            return Outcome::Keep(doc);
        }
        let reason = if new_text.is_empty() {
            Some(Reason::new("sentence_dedup:empty", 0))
        } else {
            None
        };
        let reason = reason.or_else(|| {
            if self.cfg.min_doc_words == 0 {
                return None;
            }
            let words = Self::words(&new_text);
            (words < self.cfg.min_doc_words)
                .then(|| Reason::new("sentence_dedup:too_few_words", words as u64))
        });
        let reason = reason.or_else(|| {
            if self.cfg.min_num_sentences == 0 {
                return None;
            }
            let sents = sentences::count_sentences(&new_text);
            (sents < self.cfg.min_num_sentences)
                .then(|| Reason::new("sentence_dedup:too_few_sentences", sents as u64))
        });
        self.count(removed as u64, reason.is_none());
        match reason {
            Some(reason) => Outcome::reject(doc, reason),
            None => {
                doc.set_text(new_text);
                doc.annotate(STEP, "removed_sentences", removed as u64);
                Outcome::Keep(doc)
            }
        }
    }

    fn report(&self) -> Map<String, Value> {
        let st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let mut m = Map::new();
        m.insert("docs".into(), st.docs.into());
        m.insert("sentences_seen".into(), st.sentences_seen.into());
        m.insert("spans_hashed".into(), st.spans_hashed.into());
        m.insert("spans_duplicate".into(), st.spans_duplicate.into());
        m.insert("sentences_removed".into(), st.sentences_removed.into());
        m.insert("docs_edited".into(), st.docs_edited.into());
        m.insert("docs_rejected".into(), st.docs_rejected.into());
        m.insert("distinct_spans".into(), (st.seen.len() as u64).into());
        // hashbrown's layout: 8 bytes a bucket plus one control byte, buckets a power of two.
        let buckets = if st.seen.capacity() == 0 {
            0
        } else {
            (st.seen.capacity() * 8 / 7).next_power_of_two()
        };
        m.insert("table_bytes".into(), (buckets as u64 * 9).into());
        m
    }
}

impl SentenceDedup {
    /// Counts a document's outcome: the sentences removed from it (datatrove's
    /// `removed_sentences`, counted for kept and rejected documents alike) and whether it was
    /// kept (edited) or rejected.
    fn count(&self, removed: u64, kept: bool) {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        st.sentences_removed += removed;
        if kept {
            st.docs_edited += 1;
        } else {
            st.docs_rejected += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lenient() -> SentenceDedupConfig {
        SentenceDedupConfig {
            min_doc_words: 0,
            min_num_sentences: 0,
            ..Default::default()
        }
    }

    fn run(step: &SentenceDedup, text: &str) -> std::result::Result<String, String> {
        let mut doc = Document::new("d", text);
        let mut cx = StepCx::default();
        let p = step.prepare(&mut doc, &mut cx);
        cx.set_prepared(p);
        match step.process(doc, &mut cx) {
            Outcome::Keep(d) => Ok(d.text().to_string()),
            Outcome::Reject { reason, .. } => Err(reason.code.into_owned()),
            Outcome::Error { error, .. } => panic!("{error}"),
        }
    }

    #[test]
    fn later_copies_of_a_span_are_removed() {
        let s = SentenceDedup::new(lenient()).unwrap();
        let a = "One fish. Two fish. Red fish. Blue fish.";
        assert_eq!(run(&s, a).unwrap(), a);
        // Normalised: case, punctuation and numbers do not matter.
        let b = "Intro here.  ONE fish! two fish. red FISH? The end 42.";
        assert_eq!(run(&s, b).unwrap(), "Intro here. The end 42.");
        let r = s.report();
        assert_eq!(r["spans_duplicate"], 1);
        assert_eq!(r["sentences_removed"], 3);
        assert_eq!(r["docs_edited"], 1);
    }

    #[test]
    fn repeats_inside_one_document_and_overlapping_runs() {
        let s = SentenceDedup::new(lenient()).unwrap();
        // The second copy of "Ant. Bee. Cat." starts at sentence 3 and is removed; "Bee. Cat. Ant." and
        // "Cat. Ant. Bee." are new spans.
        assert_eq!(
            run(
                &s,
                "Ant one. Bee two. Cat three. Ant one. Bee two. Cat three. Dog four."
            )
            .unwrap(),
            "Ant one. Bee two. Cat three. Dog four."
        );
        // Overlapping duplicates merge into one removed run.
        let t = "Xx one. Xx two. Xx three. Xx four. Tail.";
        run(&s, t).unwrap();
        assert_eq!(
            run(&s, "Head. Xx one. Xx two. Xx three. Xx four. End.").unwrap(),
            "Head. End."
        );
    }

    #[test]
    fn short_and_empty_results_are_rejected() {
        let s = SentenceDedup::new(SentenceDedupConfig::default()).unwrap();
        let a = "First line here. Second line here. Third line here.";
        // Short but untouched: kept.
        assert_eq!(run(&s, a).unwrap(), a);
        assert_eq!(run(&s, a).unwrap_err(), "sentence_dedup:empty");
        assert_eq!(run(&s, "").unwrap_err(), "sentence_dedup:empty");
        let b = format!("{a} {}", "word ".repeat(60));
        assert_eq!(run(&s, &b).unwrap_err(), "sentence_dedup:too_few_sentences");
        let c = format!("Now. Then. {a} Later.");
        assert_eq!(run(&s, &c).unwrap_err(), "sentence_dedup:too_few_words");
    }

    #[test]
    fn lines_mode_joins_with_line_feeds() {
        let s = SentenceDedup::new(SentenceDedupConfig {
            split_sentences: false,
            ..lenient()
        })
        .unwrap();
        run(&s, "a\nb\nc\nd").unwrap();
        assert_eq!(run(&s, "  x\na\nb\nc\ny").unwrap(), "x\ny");
    }

    #[test]
    fn min_words_to_remove_span_puts_back_the_first_sentence_only() {
        let s = SentenceDedup::new(SentenceDedupConfig {
            min_words_to_remove_span: 3,
            ..lenient()
        })
        .unwrap();
        run(&s, "Hi. Two words. Three words here.").unwrap();
        assert_eq!(
            run(&s, "Hi. Two words. Three words here. End.").unwrap(),
            "Hi. End."
        );
    }

    #[test]
    fn trailing_space_is_lost_only_when_edited() {
        let s = SentenceDedup::new(lenient()).unwrap();
        assert_eq!(run(&s, "Aa. Bb. Cc. ").unwrap(), "Aa. Bb. Cc. ");
        assert_eq!(run(&s, "Zz. Aa. Bb. Cc. ").unwrap(), "Zz.");
    }
}
