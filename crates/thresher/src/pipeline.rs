//! In-memory processing: a recipe's steps over documents the caller holds (the Python
//! package's `Pipeline.process`), without files, an output directory or a reader thread.
//!
//! Each call decides about one batch and returns one [`Decision`] per record, in input order.
//! A step runs as in [`crate::run()`]: runs of `Parallel` steps on every document at once (on
//! the pipeline's threads), an `Ordered` step one document at a time in input order after its
//! per-document `prepare`. Ordered steps keep their state from one call to the next (exact
//! dedup drops a text seen in an earlier batch). `TwoPass` steps (near dedup, corpus
//! boilerplate) need the whole corpus before they decide about any document: a recipe with one
//! is refused, with a message that points to [`crate::run()`].
//!
//! ```
//! use thresher::pipeline::{Decision, Pipeline};
//! use thresher::Recipe;
//! use thresher_core::Document;
//! use thresher_io::Record;
//! let p = Pipeline::new(Recipe::load("fineweb").unwrap(), 1).unwrap();
//! let out = p.process(vec![Record::Doc(Document::new("a", "too short"))]);
//! assert!(matches!(&out[0], Decision::Rejected { .. }));
//! ```

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use rayon::prelude::*;
use serde_json::{Map, Value};
use thresher_core::{
    Document, NamedStepStats, Outcome, Reason, SourcePos, Step, StepCx, StepMode, StepStats,
};
use thresher_io::{Record, RecordError};

use crate::recipe::{Recipe, RecipeError};

/// A recipe's steps, built once, ready to decide about batches of documents in memory.
pub struct Pipeline {
    recipe: Recipe,
    steps: Vec<Box<dyn Step>>,
    /// `None`: each batch runs on the calling thread.
    pool: Option<rayon::ThreadPool>,
    /// The next document's sequence number (steps break ties by it: lowest wins).
    seq: AtomicU64,
    /// Each step's counts over every batch so far.
    stats: Mutex<Vec<StepStats>>,
}

/// What became of one input record.
#[derive(Debug)]
pub enum Decision {
    /// The document passed every step (its text may have been edited).
    Kept(Document),
    /// A step dropped the document.
    Rejected {
        /// The document as the rejecting step saw it.
        doc: Document,
        /// Why.
        reason: Reason,
        /// The rejecting step's versioned name (as in the CLI's rejected output).
        step: String,
    },
    /// The record could not be read, or a step could not process it.
    Error {
        /// The record's id, when known.
        id: String,
        /// Where it was (for records of a batch: `line` is the 1-based index in the batch).
        source: SourcePos,
        /// What went wrong.
        message: String,
        /// The step that failed, or `None` for a record that could not be read.
        step: Option<String>,
    },
}

/// Where a record is between steps.
enum Slot {
    Live(Document),
    Done(Decision),
    /// Transient, while a step holds the document.
    Taken,
}

impl Pipeline {
    /// Builds the recipe's steps. `threads`: 1 runs each batch on the calling thread (call
    /// from several threads to use several cores), 0 one thread per core, else that many
    /// (at most [`crate::MAX_THREADS`]).
    pub fn new(recipe: Recipe, threads: usize) -> Result<Pipeline, RecipeError> {
        if let Some(spec) = recipe.steps.iter().find(|s| two_pass(&s.type_name)) {
            return Err(RecipeError {
                origin: recipe.origin.clone(),
                line: None,
                message: format!(
                    "step `{}` needs the whole corpus before it decides about any document \
                     (a two-pass step): in-memory batches cannot run it; run the recipe over \
                     files instead (`thresher run`, or `thresher.run()` in Python)",
                    spec.type_name
                ),
            });
        }
        let steps = recipe.build_steps()?;
        let pool = match threads {
            1 => None,
            n => {
                let n = if n == 0 {
                    std::thread::available_parallelism().map_or(1, |n| n.get())
                } else {
                    n.min(crate::MAX_THREADS)
                };
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(n)
                    .thread_name(|i| format!("thresher-pipeline-{i}"))
                    .build()
                    .map_err(|e| RecipeError {
                        origin: recipe.origin.clone(),
                        line: None,
                        message: format!("cannot start the worker threads: {e}"),
                    })?;
                Some(pool)
            }
        };
        let stats = Mutex::new(vec![StepStats::default(); steps.len()]);
        Ok(Pipeline {
            recipe,
            steps,
            pool,
            seq: AtomicU64::new(0),
            stats,
        })
    }

    /// The recipe the pipeline runs.
    pub fn recipe(&self) -> &Recipe {
        &self.recipe
    }

    /// Decides about a batch of records (documents, or records that could not be read, which
    /// become errors): one decision per record, in the same order.
    pub fn process(&self, records: Vec<Record>) -> Vec<Decision> {
        let n = records.len() as u64;
        let first = self.seq.fetch_add(n, Ordering::Relaxed);
        let mut slots: Vec<Slot> = records
            .into_iter()
            .enumerate()
            .map(|(i, r)| match r {
                Record::Doc(mut d) => {
                    d.seq = first + i as u64;
                    Slot::Live(d)
                }
                Record::Error(RecordError {
                    source,
                    message,
                    id,
                }) => Slot::Done(Decision::Error {
                    id,
                    source,
                    message,
                    step: None,
                }),
                Record::Skipped { source, kind } => Slot::Done(Decision::Error {
                    id: String::new(),
                    source,
                    message: format!("not a document ({kind})"),
                    step: None,
                }),
            })
            .collect();
        let mut counts = vec![StepStats::default(); self.steps.len()];
        match &self.pool {
            Some(pool) => pool.install(|| self.run_steps(&mut slots, &mut counts)),
            None => self.run_steps(&mut slots, &mut counts),
        }
        if let Ok(mut stats) = self.stats.lock() {
            for (total, c) in stats.iter_mut().zip(&counts) {
                *total += c;
            }
        }
        slots
            .into_iter()
            .map(|s| match s {
                Slot::Live(d) => Decision::Kept(d),
                Slot::Done(d) => d,
                // Not left behind: `apply` puts every document it takes back.
                Slot::Taken => Decision::Error {
                    id: String::new(),
                    source: SourcePos::default(),
                    message: "document lost (a thresher bug; please report it)".into(),
                    step: None,
                },
            })
            .collect()
    }

    /// Each step's counts over every batch so far (as in a run's `stats.json`).
    pub fn step_stats(&self) -> Vec<NamedStepStats> {
        let stats = match self.stats.lock() {
            Ok(s) => s.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        self.steps
            .iter()
            .zip(&self.recipe.steps)
            .zip(stats)
            .map(|((step, spec), st)| NamedStepStats {
                type_name: spec.type_name.clone(),
                name: step.name().to_string(),
                stats: st,
                report: step.report(),
            })
            .collect()
    }

    /// Runs the steps: runs of Parallel steps over all documents at once, each document through
    /// all of them in turn; other steps one document at a time, in input order.
    fn run_steps(&self, slots: &mut [Slot], counts: &mut [StepStats]) {
        let parallel = self.pool.is_some();
        let mut i = 0;
        while i < self.steps.len() {
            if self.steps[i].mode() == StepMode::Parallel {
                let j = (i..self.steps.len())
                    .find(|&j| self.steps[j].mode() != StepMode::Parallel)
                    .unwrap_or(self.steps.len());
                let run = i..j;
                let each = |mut st: Vec<StepStats>, slot: &mut Slot| {
                    let mut cx = StepCx::default();
                    for (k, s) in run.clone().enumerate() {
                        self.apply(s, slot, &mut cx, &mut st[k]);
                    }
                    st
                };
                let merged = if parallel {
                    slots
                        .par_iter_mut()
                        .fold(|| vec![StepStats::default(); run.len()], each)
                        .reduce(|| vec![StepStats::default(); run.len()], add_all)
                } else {
                    slots
                        .iter_mut()
                        .fold(vec![StepStats::default(); run.len()], each)
                };
                add_all_into(&mut counts[i..j], &merged);
                i = j;
            } else {
                let step = &*self.steps[i];
                let t0 = Instant::now();
                // The per-document part of the step on all cores; its results reach each
                // document's `process` in order, as in a run.
                let prepare = |slot: &mut Slot| match slot {
                    Slot::Live(doc) => {
                        let mut cx = StepCx::default();
                        // A panic here is caught again, and reported, by `apply`.
                        catch_unwind(AssertUnwindSafe(|| step.prepare(doc, &mut cx)))
                            .ok()
                            .flatten()
                    }
                    _ => None,
                };
                let prepared: Vec<_> = if parallel {
                    slots.par_iter_mut().map(prepare).collect()
                } else {
                    slots.iter_mut().map(prepare).collect()
                };
                counts[i].add_time(t0.elapsed());
                let mut cx = StepCx::default();
                for (slot, p) in slots.iter_mut().zip(prepared) {
                    cx.set_prepared(p);
                    self.apply(i, slot, &mut cx, &mut counts[i]);
                }
                i += 1;
            }
        }
    }

    /// Runs step `index` on one slot (if its document is still live) and counts what it
    /// decided. A panic in a step makes the document an error record, as in a run.
    fn apply(&self, index: usize, slot: &mut Slot, cx: &mut StepCx, st: &mut StepStats) {
        let Slot::Live(_) = slot else { return };
        let Slot::Live(doc) = std::mem::replace(slot, Slot::Taken) else {
            return;
        };
        let step = &*self.steps[index];
        st.docs_in += 1;
        let id = doc.id.clone();
        let source = doc.source.clone();
        let edits = doc.text_edits();
        let t0 = Instant::now();
        let outcome = catch_unwind(AssertUnwindSafe(|| step.process(doc, cx)));
        st.add_time(t0.elapsed());
        *slot = match outcome {
            Ok(Outcome::Keep(d)) => {
                st.kept += 1;
                if d.text_edits() != edits {
                    st.edited += 1;
                }
                Slot::Live(d)
            }
            Ok(Outcome::Reject { doc, reason }) => {
                st.rejected += 1;
                *st.reasons.entry(reason.code.to_string()).or_default() += 1;
                Slot::Done(Decision::Rejected {
                    doc,
                    reason,
                    step: step.name().to_string(),
                })
            }
            Ok(Outcome::Error { doc, error }) => {
                st.errors += 1;
                Slot::Done(Decision::Error {
                    id: doc.id,
                    source: doc.source,
                    message: error,
                    step: Some(step.name().to_string()),
                })
            }
            Err(panic) => {
                st.errors += 1;
                let what = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                Slot::Done(Decision::Error {
                    id,
                    source,
                    message: format!("step panicked (a thresher bug; please report it): {what}"),
                    step: Some(step.name().to_string()),
                })
            }
        };
    }
}

/// Whether a step type is two-pass, known from its name alone (its mode is only known once it
/// is built, and building one may allocate its whole filter).
fn two_pass(type_name: &str) -> bool {
    TWO_PASS_STEPS.contains(&type_name)
}

/// The registered steps whose mode is [`StepMode::TwoPass`] (a test checks the list against
/// the built steps).
const TWO_PASS_STEPS: &[&str] = &["minhash_dedup", "corpus_boilerplate"];

fn add_all(mut a: Vec<StepStats>, b: Vec<StepStats>) -> Vec<StepStats> {
    add_all_into(&mut a, &b);
    a
}

fn add_all_into(a: &mut [StepStats], b: &[StepStats]) {
    for (x, y) in a.iter_mut().zip(b) {
        *x += y;
    }
}

/// A document made from a record's fields as the JSONL reader reads them with `opts`: the id
/// (a string; a number becomes its text; absent or null: `<file>:<line>` of `source`), the
/// text (a string, else the record is an error), and the metadata: the object under
/// `opts.metadata_field` plus every other field (the object's keys win).
pub fn document_from_fields(
    fields: Map<String, Value>,
    source: SourcePos,
    opts: &thresher_io::ReadOptions,
) -> Record {
    let mut id = None;
    let mut text = None;
    let mut metadata = Map::new();
    let mut extra = Vec::new();
    for (key, v) in fields {
        if key == opts.text_field {
            text = Some(v);
        } else if key == opts.id_field {
            id = Some(v);
        } else if key == opts.metadata_field {
            match v {
                Value::Object(m) => {
                    let stashed = std::mem::replace(&mut metadata, m);
                    for (k, v) in stashed {
                        metadata.entry(k).or_insert(v);
                    }
                }
                Value::Null => {}
                other => extra.push((key, other)),
            }
        } else if !key.is_empty() {
            metadata.entry(key).or_insert(v);
        }
    }
    for (k, v) in extra {
        metadata.entry(k).or_insert(v);
    }
    let id = match id {
        Some(Value::String(s)) => s,
        Some(Value::Null) | None => format!("{}:{}", source.file, source.line),
        Some(v) => v.to_string(),
    };
    let text = match text {
        Some(Value::String(s)) => s,
        other => {
            let message = match other {
                None => format!("no `{}` field", opts.text_field),
                Some(v) => format!(
                    "field `{}` is {}, not a string",
                    opts.text_field,
                    kind_of(&v)
                ),
            };
            return Record::Error(RecordError {
                source,
                message,
                id,
            });
        }
    };
    let mut doc = Document::new(id, text);
    doc.source = source;
    doc.metadata = metadata;
    Record::Doc(doc)
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry;
    use thresher_io::{parse_jsonl_line, ReadOptions};

    fn docs(texts: &[&str]) -> Vec<Record> {
        texts
            .iter()
            .enumerate()
            .map(|(i, t)| Record::Doc(Document::new(i.to_string(), *t)))
            .collect()
    }

    #[test]
    fn two_pass_list_matches_the_registry() {
        for name in registry::step_names() {
            let Some(Ok(step)) = registry::build_step(name, toml::Table::new()) else {
                continue;
            };
            assert_eq!(
                step.mode() == StepMode::TwoPass,
                two_pass(name),
                "{name}: update TWO_PASS_STEPS"
            );
        }
    }

    #[test]
    fn two_pass_steps_are_refused() {
        let r = Recipe::parse("r", "[[step]]\ntype = \"minhash_dedup\"\n").unwrap();
        let e = Pipeline::new(r, 1).err().expect("refused");
        assert!(
            e.message.contains("`minhash_dedup` needs the whole corpus"),
            "{e}"
        );
        assert!(e.message.contains("thresher run"), "{e}");
    }

    /// Exact dedup keeps its state across batches; every record gets one decision, in order.
    #[test]
    fn ordered_state_spans_batches_and_every_record_is_decided() {
        for threads in [1, 2] {
            let r = Recipe::parse("r", "[[step]]\ntype = \"exact_dedup\"\n").unwrap();
            let p = Pipeline::new(r, threads).unwrap();
            let mut batch = docs(&["a", "b", "a"]);
            batch.push(Record::Error(RecordError {
                source: SourcePos::default(),
                message: "broken".into(),
                id: "x".into(),
            }));
            let out = p.process(batch);
            assert_eq!(out.len(), 4);
            assert!(matches!(&out[0], Decision::Kept(d) if d.id == "0"));
            assert!(matches!(&out[1], Decision::Kept(_)));
            assert!(matches!(&out[2], Decision::Rejected { doc, .. } if doc.id == "2"));
            assert!(
                matches!(&out[3], Decision::Error { message, step: None, .. } if message == "broken")
            );
            let out = p.process(docs(&["b", "c"]));
            assert!(matches!(&out[0], Decision::Rejected { .. }));
            assert!(matches!(&out[1], Decision::Kept(_)));
            let st = &p.step_stats()[0].stats;
            assert_eq!((st.docs_in, st.kept, st.rejected), (5, 3, 2));
        }
    }

    /// The same decisions and texts whatever the thread count, on real documents.
    #[test]
    fn parallel_and_serial_agree() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fixtures/sample/dclm-majority_data.jsonl"
        );
        let text = std::fs::read_to_string(path).unwrap();
        let records = || {
            text.lines()
                .enumerate()
                .map(|(i, l)| {
                    let source = SourcePos {
                        file: "dclm".into(),
                        line: i as u64 + 1,
                        byte_offset: 0,
                    };
                    parse_jsonl_line(l.as_bytes(), source, &ReadOptions::default())
                })
                .collect::<Vec<_>>()
        };
        let run = |threads| {
            let p = Pipeline::new(Recipe::load("fineweb").unwrap(), threads).unwrap();
            p.process(records())
                .into_iter()
                .map(|d| match d {
                    Decision::Kept(d) => format!("keep {}", d.text()),
                    Decision::Rejected { reason, step, .. } => format!("{step} {}", reason.code),
                    Decision::Error { message, .. } => message,
                })
                .collect::<Vec<_>>()
        };
        let serial = run(1);
        assert_eq!(serial.len(), text.lines().count());
        assert_eq!(serial, run(2));
        assert!(serial.iter().any(|s| s.starts_with("keep")));
        assert!(serial.iter().any(|s| !s.starts_with("keep")));
    }

    /// `document_from_fields` reads a record as the JSONL reader reads its line.
    #[test]
    fn fields_are_read_as_the_reader_reads_them() {
        let opts = ReadOptions::default();
        let source = SourcePos {
            file: "batch".into(),
            line: 3,
            byte_offset: 0,
        };
        for line in [
            r#"{"id": "a", "text": "hi", "metadata": {"k": 1}, "url": "u"}"#,
            r#"{"id": 7, "text": "hi", "k": 2, "metadata": {"k": 1}}"#,
            r#"{"text": "hi", "metadata": 5}"#,
            r#"{"text": "hi", "metadata": null, "": 1}"#,
            r#"{"id": "a", "text": 5}"#,
            r#"{"id": "a"}"#,
        ] {
            let fields: Map<String, Value> = serde_json::from_str(line).unwrap();
            let ours = document_from_fields(fields, source.clone(), &opts);
            let reader = parse_jsonl_line(line.as_bytes(), source.clone(), &opts);
            match (ours, reader) {
                (Record::Doc(a), Record::Doc(b)) => {
                    assert_eq!(
                        (&a.id, a.text(), &a.metadata),
                        (&b.id, b.text(), &b.metadata)
                    );
                }
                (Record::Error(a), Record::Error(b)) => assert_eq!(a, b),
                (a, b) => panic!("{line}: {a:?} vs {b:?}"),
            }
        }
    }
}
