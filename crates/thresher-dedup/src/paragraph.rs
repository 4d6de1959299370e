//! `paragraph_dedup`: exact paragraph-level dedup across documents, with a Bloom filter.
//!
//! What it does: the text is split into paragraphs at line feeds (as dolma's and cc_net's
//! paragraph/line dedup do). Each paragraph with at least `min_paragraph_chars` characters is
//! normalised (whitespace collapsed, lower-cased: [`normalize_for_exact`]) and hashed (XXH3-128).
//! A paragraph already seen in an *earlier* document is removed from the text; a document left
//! without any non-blank paragraph is rejected with reason `paragraph_dedup:duplicate`. Documents
//! are handled in input order ([`StepMode::Ordered`]), so the first occurrence is the one kept.
//!
//! Why: boilerplate paragraphs (cookie notices, navigation, legal footers) repeat across
//! millions of pages; removing their repeats keeps the content and drops the template.
//!
//! Bloom filter: sized from `expected_paragraphs` and `fp_rate` (see [`BloomFilter`]); the
//! size is printed in `report()`, with the false-positive rate reached at the end of the run.
//! A false positive removes a paragraph that was never seen; its probability is that rate.
//!
//! No double insertion: DCLM's bff inserted a document's n-grams into the filter once for its
//! document-level pass and again for its paragraph-level pass, so the second pass found every
//! paragraph "already seen" and removed most of the data (mlfoundations/dclm issues 71 and 83).
//! Here all paragraphs of a document are first *looked up*, then the new ones are inserted,
//! once, under one lock: a document is never compared with itself. A paragraph repeated inside
//! one document is kept unless `within_document = true`.
//!
//! Sharded runs (`stage`): the bits set after a document are the bits set before it OR the bit
//! positions of every considered paragraph of it, whatever was removed (a paragraph found in
//! the filter has all its bits set already, so inserting it or not changes nothing). So the
//! filter one run has when it reaches shard `i`'s first document is the union of the filters of
//! shards `0..i`, each filled from empty with every considered paragraph of its documents. That
//! gives two stages with exactly the single run's decisions, false positives included:
//! `collect` fills the shard's filter from every document reaching the step and writes it to
//! `filter_file` (documents pass unchanged); `apply` starts from the union of the files named
//! by `filters` (the earlier shards'; none for the first) and decides as one run does.

use std::path::PathBuf;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use thresher_core::check::check_at_least;
use thresher_core::{Document, Error, Outcome, Reason, Result, Step, StepConfig, StepCx, StepMode};

use crate::bloom::{BloomFilter, BloomSizeError};
use crate::exact::normalize_for_exact;

const STEP: &str = "paragraph_dedup";

/// How `paragraph_dedup` runs: in one process, or as a sharded run's stage (module docs).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum ParagraphStage {
    /// Decide in input order in one run.
    #[default]
    Single,
    /// Insert every considered paragraph of the shard's documents, write the filter to
    /// `filter_file`, and pass the documents on unchanged.
    Collect,
    /// Start from the union of the filters named by `filters` (the earlier shards' collect
    /// stages) and decide as one run does.
    Apply,
}

/// Recipe parameters of `paragraph_dedup`.
#[derive(Debug, Clone, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ParagraphDedupConfig {
    /// Number of distinct paragraphs the filter is sized for.
    pub expected_paragraphs: u64,
    /// Target false-positive rate at `expected_paragraphs` items.
    pub fp_rate: f64,
    /// Largest filter allowed, in MiB: a bigger computed size is a configuration error.
    pub max_filter_mb: u64,
    /// Paragraphs shorter than this (in characters, after trimming) are never removed.
    pub min_paragraph_chars: usize,
    /// Normalise (collapse whitespace, lower-case) before hashing; `false` hashes raw lines.
    pub normalize: bool,
    /// Also remove a paragraph's repeats inside the same document.
    pub within_document: bool,
    /// `single`, or a sharded run's `collect` or `apply` stage (module docs).
    pub stage: ParagraphStage,
    /// `stage = "collect"`: where this shard's filter is written.
    pub filter_file: Option<PathBuf>,
    /// `stage = "apply"`: the collect stage's filter files of the shards before this one
    /// (files, or folders of `*.bloom` files); empty for the first shard.
    pub filters: Option<Vec<PathBuf>>,
}

impl Default for ParagraphDedupConfig {
    fn default() -> Self {
        ParagraphDedupConfig {
            expected_paragraphs: 100_000_000,
            fp_rate: 0.001,
            max_filter_mb: 4096,
            min_paragraph_chars: 0,
            normalize: true,
            within_document: false,
            stage: ParagraphStage::Single,
            filter_file: None,
            filters: None,
        }
    }
}

impl StepConfig for ParagraphDedupConfig {
    /// `expected_paragraphs` at least 1, `fp_rate` strictly between 0 and 1, and a filter of
    /// at most `max_filter_mb` (its size is computed, not allocated).
    fn validate(&self) -> Result<()> {
        check_at_least(STEP, "expected_paragraphs", self.expected_paragraphs, 1)?;
        if !(self.fp_rate > 0.0 && self.fp_rate < 1.0) {
            return Err(Error::config(
                STEP,
                format!(
                    "`fp_rate` = {} must be strictly between 0 and 1",
                    self.fp_rate
                ),
            ));
        }
        // The stage's files are checked when the step is built: `--set` changes `stage` and
        // its file one at a time, and each change is validated alone.
        let (bits, _) = BloomFilter::size_for(self.expected_paragraphs, self.fp_rate)
            .map_err(|_| Error::config(STEP, "`expected_paragraphs`: cannot size the filter"))?;
        let bytes = bits.div_ceil(64).saturating_mul(8);
        if bytes > self.max_filter_mb.saturating_mul(1 << 20) {
            return Err(too_big(bytes, self.max_filter_mb));
        }
        Ok(())
    }

    fn build(self) -> Result<Box<dyn Step>> {
        Ok(Box::new(ParagraphDedup::new(self)?))
    }
}

fn too_big(bytes: u64, max_filter_mb: u64) -> Error {
    Error::config(
        STEP,
        format!(
            "the Bloom filter would take {:.1} MiB, more than `max_filter_mb` = {max_filter_mb}",
            bytes as f64 / f64::from(1 << 20),
        ),
    )
}

/// The paragraph of `line` that the step considers (trimmed), if any: not blank, and at least
/// `min_chars` characters.
fn considered(line: &str, min_chars: usize) -> Option<&str> {
    let t = line.trim();
    (!t.is_empty() && t.chars().count() >= min_chars).then_some(t)
}

/// The `paragraph_dedup` step. See the module docs.
pub struct ParagraphDedup {
    cfg: ParagraphDedupConfig,
    state: Mutex<State>,
}

struct State {
    bloom: BloomFilter,
    paragraphs_seen: u64,
    paragraphs_removed: u64,
    docs_edited: u64,
    docs_rejected: u64,
}

impl ParagraphDedup {
    /// Sizes the filter; errors on bad parameters or a filter above `max_filter_mb`. With
    /// `stage = "apply"`, ORs the named filter files into it (an error names a file that is
    /// missing or of another size).
    pub fn new(cfg: ParagraphDedupConfig) -> Result<Self> {
        cfg.validate()?;
        check_stage(&cfg)?;
        let mut bloom = BloomFilter::new(
            cfg.expected_paragraphs,
            cfg.fp_rate,
            cfg.max_filter_mb.saturating_mul(1 << 20),
        )
        .map_err(|e| match e {
            BloomSizeError::BadParams => Error::config(
                STEP,
                "expected_paragraphs must be at least 1 and fp_rate within (0, 1)",
            ),
            BloomSizeError::TooBig { bytes } => too_big(bytes, cfg.max_filter_mb),
        })?;
        if let (ParagraphStage::Apply, Some(paths)) = (cfg.stage, &cfg.filters) {
            for f in filter_files(paths)? {
                let bad = |m: String| Error::config(STEP, format!("{}: {m}", f.display()));
                let file = std::fs::File::open(&f)
                    .map_err(|e| bad(format!("cannot open the filter: {e}")))?;
                bloom
                    .or_from(&mut std::io::BufReader::new(file))
                    .map_err(bad)?;
            }
        }
        Ok(ParagraphDedup {
            cfg,
            state: Mutex::new(State {
                bloom,
                paragraphs_seen: 0,
                paragraphs_removed: 0,
                docs_edited: 0,
                docs_rejected: 0,
            }),
        })
    }

    fn hash(&self, para: &str, scratch: &mut String) -> u128 {
        if self.cfg.normalize {
            normalize_for_exact(para, scratch);
            xxhash_rust::xxh3::xxh3_128(scratch.as_bytes())
        } else {
            xxhash_rust::xxh3::xxh3_128(para.as_bytes())
        }
    }
}

/// The stage's parameters: `collect` needs `filter_file`, `apply` needs `filters`, and neither
/// is accepted with another stage (a forgotten `stage` would otherwise dedup within the shard).
fn check_stage(cfg: &ParagraphDedupConfig) -> Result<()> {
    match (cfg.stage, &cfg.filter_file, &cfg.filters) {
        (ParagraphStage::Collect, None, _) => Err(Error::config(
            STEP,
            "`stage` = \"collect\" needs `filter_file` (where this shard's filter goes)",
        )),
        (ParagraphStage::Apply, _, None) => Err(Error::config(
            STEP,
            "`stage` = \"apply\" needs `filters` (the earlier shards' filter files; [] for the \
             first shard)",
        )),
        (s, f, l)
            if (s != ParagraphStage::Collect && f.is_some())
                || (s != ParagraphStage::Apply && l.is_some()) =>
        {
            Err(Error::config(
                STEP,
                "`filter_file` goes with `stage` = \"collect\" and `filters` with `stage` = \
                 \"apply\"",
            ))
        }
        _ => Ok(()),
    }
}

/// The files a list of paths names: a file itself; a folder, its `*.bloom` files (sorted).
fn filter_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let rd = std::fs::read_dir(p)
                .map_err(|e| Error::config(STEP, format!("{}: cannot list: {e}", p.display())))?;
            let mut found: Vec<PathBuf> = rd
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.extension().is_some_and(|x| x == "bloom"))
                .collect();
            found.sort();
            out.extend(found);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

impl Step for ParagraphDedup {
    fn name(&self) -> &str {
        STEP
    }

    fn mode(&self) -> StepMode {
        match self.cfg.stage {
            // Every considered paragraph goes in, whatever the order: the first pass does it.
            ParagraphStage::Collect => StepMode::TwoPass,
            ParagraphStage::Single | ParagraphStage::Apply => StepMode::Ordered,
        }
    }

    fn observe(&self, doc: &Document) -> Result<()> {
        if self.cfg.stage != ParagraphStage::Collect {
            return Ok(());
        }
        let mut scratch = String::new();
        let hashes: Vec<u128> = doc
            .text()
            .split('\n')
            .filter_map(|line| {
                considered(line, self.cfg.min_paragraph_chars).map(|t| self.hash(t, &mut scratch))
            })
            .collect();
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        for &h in &hashes {
            st.bloom.insert(h);
        }
        st.paragraphs_seen += hashes.len() as u64;
        Ok(())
    }

    fn end_observe(&self) -> Result<()> {
        let (ParagraphStage::Collect, Some(path)) = (self.cfg.stage, &self.cfg.filter_file) else {
            return Ok(());
        };
        let st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        // Through a temporary name: a killed task leaves no half-written filter.
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        let write = || -> std::io::Result<()> {
            let mut w = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
            st.bloom.write_to(&mut w)?;
            std::io::Write::flush(&mut w)?;
            std::fs::rename(&tmp, path)
        };
        write().map_err(|e| {
            Error::config(
                STEP,
                format!("{}: cannot write the filter: {e}", path.display()),
            )
        })
    }

    fn process(&self, mut doc: Document, cx: &mut StepCx) -> Outcome {
        if self.cfg.stage == ParagraphStage::Collect {
            // The shard's filter is the stage's product; the decisions are the apply stage's.
            return Outcome::Keep(doc);
        }
        let text = doc.text();
        // Hash outside the lock. Only the hashes of the considered lines are kept (16 bytes a
        // line, not the line itself): the lines are found again by splitting when the text is
        // rebuilt, so one huge document costs at most 8 bytes per byte of text here.
        let min_chars = self.cfg.min_paragraph_chars;
        // Sized once (a growing vector would briefly hold its old and new buffers): at most one
        // considered line per line, and per two bytes (a character and a line feed).
        let lines = text.bytes().filter(|&b| b == b'\n').count() + 1;
        let mut hashes: Vec<u128> = Vec::with_capacity(lines.min(text.len() / 2 + 1));
        hashes.extend(
            text.split('\n').filter_map(|line| {
                considered(line, min_chars).map(|t| self.hash(t, &mut cx.scratch))
            }),
        );
        // One flag per considered line.
        let mut removed = vec![false; hashes.len()];
        let n_removed = {
            let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
            if self.cfg.within_document {
                // Check-and-insert in one go, paragraph by paragraph: a repeat later in the same
                // document is found.
                for (r, &h) in removed.iter_mut().zip(&hashes) {
                    *r = st.bloom.insert(h);
                }
            } else {
                // Look everything up first, then insert the new paragraphs once each: the
                // document is compared with earlier documents only.
                for (r, &h) in removed.iter_mut().zip(&hashes) {
                    *r = st.bloom.contains(h);
                }
                for (&r, &h) in removed.iter().zip(&hashes) {
                    if !r {
                        st.bloom.insert(h);
                    }
                }
            }
            let n_removed = removed.iter().filter(|&&r| r).count();
            st.paragraphs_seen += hashes.len() as u64;
            st.paragraphs_removed += n_removed as u64;
            n_removed
        };
        if n_removed == 0 {
            return Outcome::Keep(doc);
        }
        let total = hashes.len();
        drop(hashes);
        // The kept lines joined by `\n`, in one buffer.
        let mut new_text = String::with_capacity(text.len());
        let mut k = 0;
        let mut first = true;
        for line in text.split('\n') {
            if considered(line, min_chars).is_some() {
                k += 1;
                if removed[k - 1] {
                    continue;
                }
            }
            if !first {
                new_text.push('\n');
            }
            first = false;
            new_text.push_str(line);
        }
        drop(removed);
        let left = !new_text.trim().is_empty();
        {
            let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
            if left {
                st.docs_edited += 1;
            } else {
                st.docs_rejected += 1;
            }
        }
        if !left {
            return Outcome::reject(doc, Reason::new("paragraph_dedup:duplicate", total as u64));
        }
        doc.set_text(new_text);
        doc.annotate(STEP, "removed_paragraphs", n_removed as u64);
        Outcome::Keep(doc)
    }

    fn report(&self) -> Map<String, Value> {
        let st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let b = &st.bloom;
        let mut m = Map::new();
        m.insert("bloom_expected_items".into(), b.expected().into());
        m.insert("bloom_target_fp_rate".into(), b.target_fp_rate().into());
        m.insert("bloom_bits".into(), b.bits().into());
        m.insert("bloom_bytes".into(), b.bytes().into());
        m.insert("bloom_hashes".into(), b.hashes().into());
        m.insert("bloom_inserted".into(), b.inserted().into());
        m.insert("bloom_fill_ratio".into(), b.fill_ratio().into());
        m.insert("bloom_fp_rate_at_end".into(), b.current_fp_rate().into());
        m.insert(
            "bloom_over_capacity".into(),
            (b.inserted() > b.expected()).into(),
        );
        m.insert("paragraphs_seen".into(), st.paragraphs_seen.into());
        if self.cfg.stage != ParagraphStage::Single {
            // `bloom_inserted` counts this stage's new items only: in the apply stages, summed
            // over the shards, the single run's.
            m.insert(
                "stage".into(),
                serde_json::to_value(self.cfg.stage).unwrap_or_default(),
            );
        }
        m.insert("paragraphs_removed".into(), st.paragraphs_removed.into());
        m.insert("docs_edited".into(), st.docs_edited.into());
        m.insert("docs_rejected".into(), st.docs_rejected.into());
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(cfg: ParagraphDedupConfig) -> ParagraphDedup {
        ParagraphDedup::new(cfg).unwrap()
    }

    fn small() -> ParagraphDedupConfig {
        ParagraphDedupConfig {
            expected_paragraphs: 10_000,
            fp_rate: 1e-6,
            ..Default::default()
        }
    }

    fn run(s: &ParagraphDedup, text: &str) -> Outcome {
        s.process(Document::new("d", text), &mut StepCx::default())
    }

    #[test]
    fn first_occurrence_kept_later_copies_removed() {
        let s = step(small());
        assert!(
            matches!(run(&s, "Intro A\nCookie notice\nBody A"), Outcome::Keep(d) if d.text() == "Intro A\nCookie notice\nBody A")
        );
        match run(&s, "Intro B\n  cookie   NOTICE \nBody B") {
            Outcome::Keep(d) => {
                assert_eq!(d.text(), "Intro B\nBody B");
                assert_eq!(d.annotations[STEP]["removed_paragraphs"], 1);
            }
            o => panic!("{o:?}"),
        }
        assert!(
            matches!(run(&s, "Body A\n\nIntro B"), Outcome::Reject { reason, .. } if reason.code == "paragraph_dedup:duplicate")
        );
        let r = s.report();
        assert_eq!(r["paragraphs_removed"], 3);
        assert_eq!(r["docs_rejected"], 1);
    }

    /// Three shards: collect stages, then each shard's apply stage from the union of the
    /// earlier shards' filters, give one run's texts and rejections, with a filter so small
    /// that false positives happen (they are the single run's too).
    #[test]
    fn collect_then_apply_equals_one_run() {
        let dir = tempfile::tempdir().unwrap();
        for within_document in [false, true] {
            let base = ParagraphDedupConfig {
                expected_paragraphs: 40,
                fp_rate: 0.2,
                within_document,
                ..Default::default()
            };
            let texts: Vec<String> = (0..60)
                .map(|i| {
                    format!(
                        "Para {}\nShared {}\nOwn {i}\nShared {}",
                        i % 7,
                        i % 5,
                        i % 5
                    )
                })
                .collect();
            let outcome = |o: Outcome| match o {
                Outcome::Keep(d) => d.text().to_string(),
                Outcome::Reject { reason, .. } => format!("rejected {}", reason.code),
                o => panic!("{o:?}"),
            };
            let one = step(base.clone());
            let want: Vec<String> = texts.iter().map(|t| outcome(run(&one, t))).collect();
            let shards = [&texts[..17], &texts[17..40], &texts[40..]];
            for (i, shard) in shards.iter().enumerate() {
                let s = step(ParagraphDedupConfig {
                    stage: ParagraphStage::Collect,
                    filter_file: Some(dir.path().join(format!("{i}.bloom"))),
                    ..base.clone()
                });
                assert_eq!(s.mode(), StepMode::TwoPass);
                for t in shard.iter() {
                    s.observe(&Document::new("d", t.as_str())).unwrap();
                }
                s.end_observe().unwrap();
                assert!(matches!(run(&s, &shard[0]), Outcome::Keep(d) if d.text() == shard[0]));
            }
            let mut got = Vec::new();
            for (i, shard) in shards.iter().enumerate() {
                let earlier = (0..i)
                    .map(|k| dir.path().join(format!("{k}.bloom")))
                    .collect();
                let s = step(ParagraphDedupConfig {
                    stage: ParagraphStage::Apply,
                    filters: Some(earlier),
                    ..base.clone()
                });
                got.extend(shard.iter().map(|t| outcome(run(&s, t))));
            }
            assert_eq!(got, want);
            assert!(want.iter().any(|t| t.starts_with("rejected")));
            assert!(want
                .iter()
                .any(|t| t.contains("Own") && !t.contains("Shared")));
            // A filter of another size is refused, naming the sizes.
            let e = ParagraphDedup::new(ParagraphDedupConfig {
                stage: ParagraphStage::Apply,
                filters: Some(vec![dir.path().join("0.bloom")]),
                expected_paragraphs: 41,
                ..base.clone()
            })
            .err()
            .unwrap()
            .to_string();
            assert!(e.contains("bits"), "{e}");
        }
        // Stage parameters: each stage needs its own, and only its own.
        for cfg in [
            ParagraphDedupConfig {
                stage: ParagraphStage::Collect,
                ..small()
            },
            ParagraphDedupConfig {
                stage: ParagraphStage::Apply,
                ..small()
            },
            ParagraphDedupConfig {
                filters: Some(vec![]),
                ..small()
            },
            ParagraphDedupConfig {
                filter_file: Some("x.bloom".into()),
                ..small()
            },
        ] {
            assert!(ParagraphDedup::new(cfg).is_err());
        }
        let missing = ParagraphDedupConfig {
            stage: ParagraphStage::Apply,
            filters: Some(vec![dir.path().join("missing.bloom")]),
            ..small()
        };
        assert!(ParagraphDedup::new(missing).is_err());
    }

    #[test]
    fn no_double_insertion_a_document_never_matches_itself() {
        // The DCLM bff bug: inserting a document's items before (or twice while) checking them
        // makes every document a duplicate of itself. Here unique documents lose nothing, and
        // each distinct paragraph is inserted exactly once.
        let s = step(small());
        for i in 0..500 {
            let text = format!("para one of {i}\npara two of {i}\npara three of {i}");
            match run(&s, &text) {
                Outcome::Keep(d) => assert_eq!(d.text(), text),
                o => panic!("{o:?}"),
            }
        }
        let r = s.report();
        assert_eq!(r["paragraphs_removed"], 0);
        assert_eq!(r["bloom_inserted"], 1500);
    }

    #[test]
    fn repeats_inside_one_document() {
        let s = step(small());
        let t = "Share\nText\nShare";
        assert!(matches!(run(&s, t), Outcome::Keep(d) if d.text() == t));
        let s = step(ParagraphDedupConfig {
            within_document: true,
            ..small()
        });
        assert!(matches!(run(&s, t), Outcome::Keep(d) if d.text() == "Share\nText"));
    }

    #[test]
    fn short_paragraphs_are_left_alone() {
        let s = step(ParagraphDedupConfig {
            min_paragraph_chars: 10,
            ..small()
        });
        run(&s, "Menu\nA long enough paragraph");
        assert!(
            matches!(run(&s, "Menu\nother text here"), Outcome::Keep(d) if d.text() == "Menu\nother text here")
        );
    }

    #[test]
    fn filter_size_is_checked_and_reported() {
        assert!(ParagraphDedup::new(ParagraphDedupConfig {
            expected_paragraphs: 10_000_000_000,
            max_filter_mb: 100,
            ..Default::default()
        })
        .is_err());
        assert!(ParagraphDedup::new(ParagraphDedupConfig {
            fp_rate: 0.0,
            ..Default::default()
        })
        .is_err());
        let r = step(ParagraphDedupConfig::default()).report();
        // 1e8 items at 0.1%: 1,437,758,757 bits (171.4 MiB), 10 hashes.
        assert_eq!(r["bloom_bits"], 1_437_758_757u64);
        assert_eq!(r["bloom_hashes"], 10);
    }

    /// The filter's size is checked without allocating it, so a recipe is refused when loaded.
    #[test]
    fn validate_checks_without_allocating() {
        let cfg = ParagraphDedupConfig {
            fp_rate: 1.5,
            ..Default::default()
        };
        assert!(cfg.validate().is_err());
        let cfg = ParagraphDedupConfig {
            expected_paragraphs: 1 << 40,
            ..Default::default()
        };
        assert!(cfg.validate().is_err());
        assert!(ParagraphDedupConfig::default().validate().is_ok());
    }
}
