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

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use thresher_core::{Document, NamedStepStats, Reason, SourcePos, Step, StepStats};
use thresher_io::{Record, RecordError};

use crate::recipe::{Recipe, RecipeError};
use crate::run::batch::{run_steps, Slot};

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
                }) => Slot::Error {
                    id,
                    source,
                    message,
                    step: None,
                },
                Record::Skipped { source, kind } => Slot::Skipped { source, kind },
            })
            .collect();
        let mut counts = vec![StepStats::default(); self.steps.len()];
        // The run's own code, on the pipeline's pool or on the calling thread.
        run_steps(
            &self.steps,
            self.pool.as_ref(),
            0..self.steps.len(),
            &mut slots,
            &mut counts,
        );
        if let Ok(mut stats) = self.stats.lock() {
            for (total, c) in stats.iter_mut().zip(&counts) {
                *total += c;
            }
        }
        let name = |i: usize| self.steps[i].name().to_string();
        slots
            .into_iter()
            .map(|s| match s {
                Slot::Live(d) => Decision::Kept(d),
                Slot::Rejected { doc, reason, step } => Decision::Rejected {
                    doc,
                    reason,
                    step: name(step),
                },
                Slot::Error {
                    id,
                    source,
                    message,
                    step,
                } => Decision::Error {
                    id,
                    source,
                    message,
                    step: step.map(name),
                },
                Slot::Skipped { source, kind } => Decision::Error {
                    id: String::new(),
                    source,
                    message: format!("not a document ({kind})"),
                    step: None,
                },
                // Not left behind: the steps put every document they take back.
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
}

/// Whether a step type is two-pass, known from its name alone (its mode is only known once it
/// is built, and building one may allocate its whole filter).
fn two_pass(type_name: &str) -> bool {
    TWO_PASS_STEPS.contains(&type_name)
}

/// The registered steps whose mode is [`thresher_core::StepMode::TwoPass`] (a test checks the list against
/// the built steps).
const TWO_PASS_STEPS: &[&str] = &["minhash_dedup", "corpus_boilerplate"];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry;
    use thresher_core::StepMode;
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
}
