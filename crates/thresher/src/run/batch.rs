//! One batch's way through a phase. [`Ctx::parse_batch`] parses the records on the pool's
//! threads; it needs nothing of the batches before it, so it overlaps the previous batch. [`Ctx::finish_batch`] then
//! counts the input, runs the phase's steps (runs of `Parallel` steps on all documents at once,
//! an `Ordered` step one document at a time in input order), lets the next two-pass step
//! observe the survivors, tallies the outcomes and serializes them into [`OutChunk`]s. A
//! document's state between steps is its [`Slot`].

use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use crossbeam_channel::Sender;
use rayon::prelude::*;
use thresher_core::{
    Document, InputBuf, Outcome, Prepared, Reason, SourcePos, Stats, Step, StepCx, StepMode,
    StepStats, Tally,
};
use thresher_io::jsonl::spill::write_spill;
use thresher_io::jsonl::write::{line_size_hint, write_error, write_kept, write_rejected, OutBuf};
use thresher_io::parquet::{Category, Rows};
use thresher_io::{Batch, Item, ReadOptions, Record};

use super::outputs::{Cat, OutChunk};
use super::{Progress, RunError};

/// What every batch of the run shares: the steps, the pool, the progress counters and the way
/// back to the reader for consumed input buffers.
pub(super) struct Ctx<'a> {
    pub(super) steps: &'a [Box<dyn Step>],
    pub(super) pool: &'a rayon::ThreadPool,
    pub(super) progress: Option<Arc<Progress>>,
    pub(super) recycle: Sender<InputBuf>,
    /// How much of a rejected text to write (`[output] rejected_text`).
    pub(super) rejected_text: thresher_io::RejectedText,
    /// What the run report gathers from the documents as they end (none: no report).
    pub(super) report: Option<std::sync::Mutex<crate::report::Collector>>,
    /// Input bytes on disk read so far, for the progress display (with `progress`).
    pub(super) meter: Option<std::sync::Mutex<super::meter::InputMeter>>,
    /// Whether the output is Parquet: kept and rejected documents then become rows of its
    /// schema here, on the pool's threads, rather than lines the writer parses back.
    pub(super) parquet: bool,
    /// The Parquet output's typed metadata columns.
    pub(super) meta_columns: std::sync::Arc<[thresher_io::parquet::MetaColumn]>,
}

/// The part of the pipeline a batch goes through now.
pub(super) struct Phase<'a> {
    /// Whether the batches come from the inputs (not from a spill file).
    pub(super) first_phase: bool,
    /// The phase's steps, as indices into [`Ctx::steps`].
    pub(super) steps: std::ops::Range<usize>,
    /// The next phase's two-pass step, which observes the documents that reach the phase's end.
    pub(super) observer: Option<&'a dyn Step>,
    pub(super) read_opts: &'a ReadOptions,
}

/// Where a record is after the steps (also the in-memory [`crate::pipeline`]'s state).
pub(crate) enum Slot {
    Live(Document),
    Rejected {
        doc: Document,
        reason: Reason,
        step: usize,
    },
    Error {
        id: String,
        source: SourcePos,
        message: String,
        step: Option<usize>,
    },
    Skipped {
        source: SourcePos,
        kind: String,
    },
    /// Transient, while a step holds the document.
    Taken,
}

impl Slot {
    /// The output category of the slot's line; `spill`: live documents go to the spill file.
    fn cat(&self, spill: bool) -> Option<Cat> {
        match self {
            Slot::Live(_) if spill => Some(Cat::Spill),
            Slot::Live(_) => Some(Cat::Kept),
            Slot::Rejected { .. } => Some(Cat::Rejected),
            Slot::Error { .. } => Some(Cat::Errors),
            Slot::Skipped { .. } | Slot::Taken => None,
        }
    }
}

/// A batch's output: its lines, and how many documents went to the spill file.
pub(super) struct BatchOut {
    pub(super) lines: Vec<OutChunk>,
    pub(super) spilled: u64,
}

thread_local! {
    static CX: RefCell<StepCx> = RefCell::new(StepCx::default());
}

/// A batch whose records are parsed: the part of a batch's work that needs nothing of the
/// batches before it.
pub(super) struct Parsed {
    buf: Arc<InputBuf>,
    slots: Vec<Slot>,
    file_bytes: Vec<(Arc<str>, u64)>,
    /// Wall time of the parsing: in a later phase, the two-pass step's (its spill file).
    parse_time: std::time::Duration,
}

impl Ctx<'_> {
    /// Parses `batch`, whose first record is the run's `first_seq`-th, on the pool's threads.
    pub(super) fn parse_batch(&self, phase: &Phase<'_>, batch: Batch, first_seq: u64) -> Parsed {
        let Batch {
            buf,
            items,
            file_bytes,
        } = batch;
        // Shared with the documents, which may keep their text as bytes of it.
        let buf = Arc::new(buf);
        let first_phase = phase.first_phase;
        let read_opts = phase.read_opts;
        let t0 = Instant::now();
        let slots = self.pool.install(|| {
            items
                .into_par_iter()
                .enumerate()
                .map(|(i, item)| {
                    let seq = first_seq + i as u64;
                    to_slot(item, &buf, first_phase, read_opts, seq)
                })
                .collect()
        });
        Parsed {
            buf,
            slots,
            file_bytes,
            parse_time: t0.elapsed(),
        }
    }

    /// Runs the phase's steps on a parsed batch, in input order where a step asks for it, and
    /// serializes its output lines.
    pub(super) fn finish_batch(
        &self,
        phase: &Phase<'_>,
        parsed: Parsed,
        stats: &mut Stats,
        step_stats: &mut [StepStats],
    ) -> Result<BatchOut, RunError> {
        let Parsed {
            buf,
            mut slots,
            file_bytes,
            parse_time,
        } = parsed;
        if phase.first_phase {
            self.count_input(&slots, &file_bytes, stats);
        } else if let Some(st) = step_stats.get_mut(phase.steps.start) {
            // Reading the spill file back is the two-pass step's doing.
            st.add_wall_and_time(parse_time);
        }
        self.run_steps(phase, &mut slots, step_stats);
        if let Some(obs) = phase.observer {
            let t0 = Instant::now();
            self.observe(obs, &slots)?;
            // The observing pass of the next phase's two-pass step (its first step).
            if let Some(st) = step_stats.get_mut(phase.steps.end) {
                st.add_wall_and_time(t0.elapsed());
            }
        }
        let spill = phase.observer.is_some();
        if let Some(c) = &self.report {
            let mut c = c.lock().unwrap_or_else(|e| e.into_inner());
            collect(&mut c, &slots, spill, self.steps);
        }
        let (kept, spilled) = tally(&slots, spill, stats);
        let lines = self.serialize(&mut slots, &buf, spill);
        if let Some(p) = &self.progress {
            p.kept.fetch_add(kept, Ordering::Relaxed);
            p.phase_docs
                .fetch_add(slots.len() as u64, Ordering::Relaxed);
        }
        drop(slots);
        // The writer hands the buffer back to the reader once the output pointing into it is
        // written; if nothing does (no line kept its text), it goes back from here.
        if let Some(buf) = Arc::into_inner(buf) {
            let _ = self.recycle.try_send(buf);
        }
        Ok(BatchOut { lines, spilled })
    }

    /// Counts what a first-phase batch read: bytes per file, records in (and skipped ones).
    fn count_input(&self, slots: &[Slot], file_bytes: &[(Arc<str>, u64)], stats: &mut Stats) {
        for (file, bytes) in file_bytes {
            stats.count_bytes(file, *bytes);
            if let Some(p) = &self.progress {
                p.bytes.fetch_add(*bytes, Ordering::Relaxed);
                if let Some(m) = &self.meter {
                    let done = m
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .add(file, *bytes);
                    p.input_done.store(done, Ordering::Relaxed);
                }
            }
        }
        for slot in slots {
            let file = match slot {
                Slot::Live(d) => &d.source.file,
                Slot::Error { source, .. } => &source.file,
                Slot::Skipped { source, kind } => {
                    stats.count_skipped(&source.file, kind);
                    continue;
                }
                _ => continue,
            };
            stats.count_read(file);
        }
        if let Some(p) = &self.progress {
            let n = slots
                .iter()
                .filter(|s| !matches!(s, Slot::Skipped { .. }))
                .count();
            p.docs.fetch_add(n as u64, Ordering::Relaxed);
        }
    }

    /// Runs the phase's steps on the pool (see [`run_steps`]).
    fn run_steps(&self, phase: &Phase<'_>, slots: &mut [Slot], step_stats: &mut [StepStats]) {
        run_steps(
            self.steps,
            Some(self.pool),
            phase.steps.clone(),
            slots,
            step_stats,
        );
    }

    /// Lets the next phase's two-pass step observe the documents that reached the phase's end.
    fn observe(&self, obs: &dyn Step, slots: &[Slot]) -> Result<(), RunError> {
        let failed = self.pool.install(|| {
            slots.par_iter().find_map_any(|s| match s {
                Slot::Live(d) => obs.observe(d).err(),
                _ => None,
            })
        });
        match failed {
            Some(e) => Err(RunError::Step {
                step: obs.name().to_string(),
                message: e.to_string(),
            }),
            None => Ok(()),
        }
    }

    /// Serializes the slots' lines (emptying the slots), in a few chunks of consecutive
    /// documents (two per thread), each into one buffer per category: few allocations, and the
    /// writer gets long runs of lines. `spill`: live documents go to the spill file.
    fn serialize(&self, slots: &mut [Slot], buf: &Arc<InputBuf>, spill: bool) -> Vec<OutChunk> {
        let per_chunk = slots
            .len()
            .div_ceil(2 * self.pool.current_num_threads())
            .max(1);
        self.pool.install(|| {
            slots
                .par_chunks_mut(per_chunk)
                .map(|chunk| self.serialize_chunk(chunk, buf, spill))
                .collect()
        })
    }

    /// Serializes a run of consecutive slots into one chunk, emptying them.
    fn serialize_chunk(&self, chunk: &mut [Slot], buf: &Arc<InputBuf>, spill: bool) -> OutChunk {
        let mut out = OutChunk {
            cats: std::array::from_fn(|_| OutBuf::new(Some(buf.clone()))),
            rows: self.parquet.then(|| {
                Box::new([
                    Rows::with_meta(Category::Kept, self.meta_columns.clone()),
                    Rows::with_meta(Category::Rejected, self.meta_columns.clone()),
                ])
            }),
        };
        // Per category: the bytes of its lines, and its rows.
        let mut sizes = [0usize; 4];
        let mut rows = [0usize; 2];
        for s in chunk.iter() {
            let size = match s {
                Slot::Live(d) | Slot::Rejected { doc: d, .. } => {
                    if let (true, Some(c @ (Cat::Kept | Cat::Rejected))) =
                        (self.parquet, s.cat(spill))
                    {
                        rows[c as usize] += 1;
                        continue;
                    }
                    line_size_hint(d)
                }
                Slot::Error { message, .. } => message.len() + 128,
                _ => 0,
            };
            if let Some(c) = s.cat(spill) {
                sizes[c as usize] += size;
            }
        }
        for (buf, size) in out.cats.iter_mut().zip(sizes) {
            buf.reserve(size);
        }
        if let Some(r) = out.rows.as_deref_mut() {
            for (r, n) in r.iter_mut().zip(rows) {
                r.reserve(n);
            }
        }
        for s in chunk.iter_mut() {
            let Some(cat) = s.cat(spill) else { continue };
            match (out.rows.as_deref_mut(), &mut *s) {
                // The texts are moved into the rows: the slot is emptied below.
                (Some([kept, _]), Slot::Live(d)) if cat == Cat::Kept => kept.take_kept(d),
                (Some([_, rejected]), Slot::Rejected { doc, reason, step }) => rejected
                    .take_rejected(
                        doc,
                        reason,
                        steps_type(self.steps, *step),
                        self.rejected_text,
                    ),
                (_, s) => self.write_line(&mut out.cats[cat as usize], s, spill),
            }
            // Freed here, on the thread that is already at it, rather than all together on the
            // main thread after the batch.
            *s = Slot::Taken;
        }
        out
    }

    /// Writes a slot's line (with its end) into `buf`.
    fn write_line(&self, buf: &mut OutBuf, s: &Slot, spill: bool) {
        match s {
            Slot::Live(d) if spill => write_spill(buf, d),
            Slot::Live(d) => write_kept(buf, d),
            Slot::Rejected { doc, reason, step } => write_rejected(
                buf,
                doc,
                reason,
                steps_type(self.steps, *step),
                self.rejected_text,
            ),
            Slot::Error {
                id,
                source,
                message,
                step,
            } => write_error(
                buf,
                id,
                source,
                message,
                step.map(|s| steps_type(self.steps, s)),
            ),
            Slot::Skipped { .. } | Slot::Taken => {}
        }
        buf.end_line();
    }
}

/// Tallies each record's outcome per file (documents going to the spill file are not done
/// yet); returns the numbers kept and spilled.
fn tally(slots: &[Slot], spill: bool, stats: &mut Stats) -> (u64, u64) {
    let mut spilled = 0;
    let mut kept = 0;
    for slot in slots {
        let (file, outcome) = match slot {
            Slot::Live(_) if spill => {
                spilled += 1;
                continue;
            }
            Slot::Live(d) => {
                kept += 1;
                (&d.source.file, Tally::Kept)
            }
            Slot::Rejected { doc, .. } => (&doc.source.file, Tally::Rejected),
            Slot::Error { source, .. } => (&source.file, Tally::Error),
            _ => continue,
        };
        stats.tally(file, outcome);
    }
    (kept, spilled)
}

/// Splits the wall time of a run of steps done together (each document through all of them)
/// between them by their thread times.
fn split_wall(stats: &mut [StepStats], wall: f64) {
    let total: f64 = stats.iter().map(|s| s.seconds).sum();
    let n = stats.len().max(1) as f64;
    for s in stats.iter_mut() {
        s.wall_seconds += if total > 0.0 {
            wall * s.seconds / total
        } else {
            wall / n
        };
    }
}

/// Shows the run report's collector the documents of a batch that are done (those going to
/// the spill file are not yet).
fn collect(c: &mut crate::report::Collector, slots: &[Slot], spill: bool, steps: &[Box<dyn Step>]) {
    for slot in slots {
        match slot {
            Slot::Live(d) if !spill => c.kept(d),
            Slot::Rejected { doc, reason, step } => {
                c.rejected(doc, steps_type(steps, *step), &reason.code, &reason.value)
            }
            Slot::Error {
                id,
                source,
                message,
                step,
            } => c.error(
                None,
                &source.file,
                id,
                source.line,
                step.map_or("reader", |s| steps_type(steps, s)),
                message,
            ),
            _ => {}
        }
    }
}

/// The name of step `i`, or `reader` for records that never reached a step.
fn steps_type(steps: &[Box<dyn Step>], i: usize) -> &str {
    steps.get(i).map_or("reader", |s| s.name())
}

/// The slot of a read item: a parsed document (numbered `seq` in the first phase; later phases
/// read the spill file, whose documents keep their number), an error or a skipped record.
fn to_slot(
    item: Item,
    buf: &Arc<InputBuf>,
    first_phase: bool,
    opts: &ReadOptions,
    seq: u64,
) -> Slot {
    let record = if first_phase {
        item.into_record(buf, opts)
    } else {
        item.into_spilled_record(buf)
    };
    match record {
        Record::Doc(mut d) => {
            if first_phase {
                d.seq = seq;
            }
            Slot::Live(d)
        }
        Record::Error(e) => Slot::Error {
            id: e.id,
            source: e.source,
            message: e.message,
            step: None,
        },
        Record::Skipped { source, kind } => Slot::Skipped { source, kind },
    }
}

/// Runs `steps[range]` on the slots: runs of Parallel steps on all documents at once, each
/// document through all of them in turn; other steps one document at a time in input order
/// (after an Ordered step's per-document `prepare` on all documents at once). "At once" means
/// on `pool`'s threads, or on the calling thread without a pool. Adds each step's counts to
/// `step_stats[i]` (indexed as `steps`).
pub(crate) fn run_steps(
    steps: &[Box<dyn Step>],
    pool: Option<&rayon::ThreadPool>,
    range: std::ops::Range<usize>,
    slots: &mut [Slot],
    step_stats: &mut [StepStats],
) {
    let mut i = range.start;
    while i < range.end {
        let parallel = steps[i].mode() == StepMode::Parallel;
        let j = if parallel {
            (i..range.end)
                .find(|&j| steps[j].mode() != StepMode::Parallel)
                .unwrap_or(range.end)
        } else {
            i + 1
        };
        let t0 = Instant::now();
        let mut merged = if parallel {
            run_parallel(steps, pool, i..j, slots)
        } else {
            run_one(steps, pool, i, slots)
        };
        split_wall(&mut merged, t0.elapsed().as_secs_f64());
        for (k, st) in merged.iter().enumerate() {
            step_stats[i + k] += st;
        }
        i = j;
    }
}

/// Runs a run of Parallel steps on all documents at once, each document through all of them
/// in turn; returns the steps' counts.
fn run_parallel(
    steps: &[Box<dyn Step>],
    pool: Option<&rayon::ThreadPool>,
    run: std::ops::Range<usize>,
    slots: &mut [Slot],
) -> Vec<StepStats> {
    let zero = || vec![StepStats::default(); run.len()];
    let each = |mut st: Vec<StepStats>, slot: &mut Slot| {
        CX.with(|cx| {
            let mut cx = cx.borrow_mut();
            for (k, s) in run.clone().enumerate() {
                apply(&*steps[s], s, slot, &mut cx, &mut st[k]);
            }
        });
        st
    };
    match pool {
        Some(pool) => pool.install(|| {
            slots
                .par_iter_mut()
                .fold(zero, each)
                .reduce(zero, |mut a, b| {
                    for (x, y) in a.iter_mut().zip(&b) {
                        *x += y;
                    }
                    a
                })
        }),
        None => slots.iter_mut().fold(zero(), each),
    }
}

/// Runs step `i` (not Parallel) one document at a time in input order, after the
/// per-document part of an Ordered step (its `prepare`) on all documents at once; returns its
/// counts.
fn run_one(
    steps: &[Box<dyn Step>],
    pool: Option<&rayon::ThreadPool>,
    i: usize,
    slots: &mut [Slot],
) -> Vec<StepStats> {
    let mut st = vec![StepStats::default()];
    let step = &*steps[i];
    let mut prepared: Vec<Option<Prepared>> = Vec::new();
    if step.mode() == StepMode::Ordered {
        let secs: Vec<f64>;
        (prepared, secs) = match pool {
            Some(pool) => pool.install(|| {
                slots
                    .par_iter_mut()
                    .map(|slot| prepare_slot(step, slot))
                    .unzip()
            }),
            None => slots
                .iter_mut()
                .map(|slot| prepare_slot(step, slot))
                .unzip(),
        };
        st[0].seconds += secs.iter().sum::<f64>();
    }
    let mut prepared = prepared.into_iter();
    let mut cx = StepCx::default();
    for slot in slots.iter_mut() {
        cx.set_prepared(prepared.next().flatten());
        apply(step, i, slot, &mut cx, &mut st[0]);
    }
    st
}

/// Runs an ordered step's `prepare` on a live document; returns what it gave and the seconds it
/// took.
fn prepare_slot(step: &dyn Step, slot: &mut Slot) -> (Option<Prepared>, f64) {
    let Slot::Live(doc) = slot else {
        return (None, 0.0);
    };
    let t0 = Instant::now();
    let prepared = CX.with(|cx| {
        let mut cx = cx.borrow_mut();
        // A panic here is caught again, and reported, by `apply` (the step runs without it).
        catch_unwind(AssertUnwindSafe(|| step.prepare(doc, &mut cx)))
            .ok()
            .flatten()
    });
    (prepared, t0.elapsed().as_secs_f64())
}

/// Runs one step on one slot (if its document is still live) and counts what it decided.
fn apply(step: &dyn Step, index: usize, slot: &mut Slot, cx: &mut StepCx, st: &mut StepStats) {
    let Slot::Live(_) = slot else { return };
    let Slot::Live(doc) = std::mem::replace(slot, Slot::Taken) else {
        return;
    };
    st.docs_in += 1;
    let id = doc.id.clone();
    let source = doc.source.clone();
    let edits = doc.text_edits();
    let t0 = Instant::now();
    // A panic in a step is a bug, but one document must not take the run down: the document
    // becomes an error record that names the step, and the run goes on.
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
            // Looked up before a key is made: most rejects repeat a known reason.
            match st.reasons.get_mut(reason.code.as_ref()) {
                Some(n) => *n += 1,
                None => {
                    st.reasons.insert(reason.code.to_string(), 1);
                }
            }
            Slot::Rejected {
                doc,
                reason,
                step: index,
            }
        }
        Ok(Outcome::Error { doc, error }) => {
            st.errors += 1;
            Slot::Error {
                id: doc.id,
                source: doc.source,
                message: error,
                step: Some(index),
            }
        }
        Err(panic) => {
            st.errors += 1;
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            Slot::Error {
                id,
                source,
                message: format!("step panicked (a thresher bug; please report it): {what}"),
                step: Some(index),
            }
        }
    };
}
