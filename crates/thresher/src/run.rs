//! The executor: reads the inputs, runs the steps on all cores, writes the outputs and accounts
//! for every record.
//!
//! Data flow: a reader thread cuts the input into batches (bounded channel) -> for each batch,
//! the worker pool parses the records and runs the steps (a run of `Parallel` steps on all
//! documents at once; an `Ordered` step one document at a time, in input order) -> the lines
//! are serialized in parallel and written, batch after batch, by the pool thread that finishes
//! the batch (an unedited text is written from the batch's input buffer, which then goes back
//! to the reader). The pool parses the next batch while the current one goes through its steps
//! and is written, so the one-at-a-time parts of a batch do not leave the cores idle.
//! Documents keep their input order end to end, so the output is byte-identical whatever the
//! number of threads.
//!
//! A `TwoPass` step splits the pipeline into phases: the documents that reach it are written to
//! a spill file under `OUTDIR/.work/` while the step `observe`s them; then the next phase reads
//! the spill back and calls the step's `process` on each, in input order, followed by the steps
//! after it. Memory stays bounded by a few batches plus what the steps themselves keep.

use std::cell::RefCell;
use std::fs;
use std::io::{BufWriter, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use crossbeam_channel::{bounded, Sender};
use rayon::prelude::*;
use serde_json::json;
use thresher_core::{
    Document, InputBuf, NamedStepStats, Outcome, Reason, SourcePos, Stats, Step, StepCx, StepMode,
    StepStats, TextScan,
};
use thresher_io::outdir::{step_work_name, WORK};
use thresher_io::{
    expand_inputs, parse_jsonl_line_scanned, Batch, BatchReader, Folder, Format, InputFile,
    IoError, Item, OutDir, OutDirError, ReadOptions, Record, ShardedWriter, WriteOptions,
};

use crate::output::{
    line_size_hint, parse_spill_line, write_error, write_kept, write_rejected, write_spill, OutBuf,
};
use crate::recipe::{Recipe, RecipeError};

/// How to run a recipe.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Input files, directories or globs.
    pub inputs: Vec<PathBuf>,
    /// Output directory.
    pub outdir: PathBuf,
    /// Worker threads; 0 means one per core.
    pub threads: usize,
    /// Finish an interrupted run in `outdir` (see the crate docs).
    pub resume: bool,
    /// Replace a previous run's output in `outdir`.
    pub overwrite: bool,
    /// Live counters for a progress display.
    pub progress: Option<Arc<Progress>>,
    /// Set to a signal's number (SIGINT, SIGTERM...) to stop the run after the batch in hand:
    /// the shards written so far stay, `.work` is removed, and the run returns
    /// [`RunError::Interrupted`]; `--resume` finishes it.
    pub cancel: Option<Arc<AtomicUsize>>,
}

/// Live counters, updated after each batch (for a progress bar).
#[derive(Debug, Default)]
pub struct Progress {
    /// Records read.
    pub docs: AtomicU64,
    /// Bytes read (decompressed).
    pub bytes: AtomicU64,
    /// Records kept so far.
    pub kept: AtomicU64,
    /// Records that reached the end of the current phase.
    pub phase_docs: AtomicU64,
    /// Current phase (0-based) and number of phases, packed as `phase << 32 | phases`.
    pub phase: AtomicU64,
}

/// Why a run could not be done.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// The recipe is invalid.
    #[error("recipe error: {0}")]
    Recipe(#[from] RecipeError),
    /// An input is missing or unreadable (checked before any work starts).
    #[error("input error: {0}")]
    Input(#[from] IoError),
    /// The output directory cannot be used.
    #[error("output error: {path}: {message}")]
    Output {
        /// The path concerned.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A step failed as a whole (not on one document).
    #[error("step `{step}` failed: {message}")]
    Step {
        /// The step's name.
        step: String,
        /// What went wrong.
        message: String,
    },
    /// The run was stopped by a signal (see [`RunOptions::cancel`]).
    #[error(
        "interrupted by signal {signal}: the shards written so far are complete; finish the run \
         with --resume"
    )]
    Interrupted {
        /// The signal's number.
        signal: i32,
    },
}

impl From<OutDirError> for RunError {
    fn from(e: OutDirError) -> Self {
        let path = match &e {
            OutDirError::Locked { path, .. }
            | OutDirError::NotAFolder { path, .. }
            | OutDirError::Io { path, .. } => path.clone(),
            OutDirError::Foreign { dir, .. } => dir.clone(),
        };
        let message = e.to_string();
        // The message names the path already.
        let message = message
            .strip_prefix(&format!("{}: ", path.display()))
            .map_or(message.clone(), str::to_string);
        RunError::Output { path, message }
    }
}

impl RunError {
    /// The process exit code for this error: 2 for a bad recipe or input (the user's command
    /// must change), 3 for an output or runtime failure.
    pub fn exit_code(&self) -> i32 {
        match self {
            RunError::Recipe(_) | RunError::Input(_) => 2,
            RunError::Output { .. } | RunError::Step { .. } => 3,
            // As a shell reports a process ended by the signal: 130 for SIGINT, 143 for SIGTERM.
            RunError::Interrupted { signal } => 128 + signal,
        }
    }
}

fn out_err(path: &Path, e: impl std::fmt::Display) -> RunError {
    RunError::Output {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// Runs `recipe` over the inputs and writes `OUTDIR/{kept,rejected,errors}/` and
/// `OUTDIR/stats.json`. Returns the run's stats.
///
/// The output directory is locked for the run (a second run into it is refused), only files
/// thresher wrote are ever removed from it, and no link inside it is followed (see
/// [`thresher_io::outdir`]). Temporary data lives in `OUTDIR/.work`, removed when the run
/// ends, fails or is interrupted.
pub fn run(recipe: &Recipe, opts: &RunOptions) -> Result<Stats, RunError> {
    let started = Instant::now();
    let files = expand_inputs(&opts.inputs)?;
    let steps = recipe.build_steps()?;
    let out = OutDir::open(&opts.outdir)?;
    prepare_outdir(recipe, &files, opts, &out)?;
    let work = out.folder(WORK)?;
    let result = execute(recipe, opts, &files, &steps, &out, &work, started);
    // Whatever happened, the temporary data goes (a resume makes it again); shards stay.
    drop(steps);
    let own = out.ownership()?;
    let cleaned = out.remove_owned(&own, &[WORK]);
    out.remove_empty_folder(WORK);
    let stats = result?;
    cleaned?;
    Ok(stats)
}

/// The run itself, once the output directory is ready.
fn execute(
    recipe: &Recipe,
    opts: &RunOptions,
    files: &[InputFile],
    steps: &[Box<dyn Step>],
    out: &OutDir,
    work: &Folder,
    started: Instant,
) -> Result<Stats, RunError> {
    // Steps that need scratch space (the two-pass ones) get a folder of their own in `.work`.
    for (i, step) in steps.iter().enumerate() {
        if step.mode() == StepMode::TwoPass {
            let dir = work.folder(&step_work_name(i, step.name()))?;
            step.set_work_dir(dir.path()).map_err(|e| RunError::Step {
                step: step.name().to_string(),
                message: e.to_string(),
            })?;
        }
    }
    let cancelled = || {
        opts.cancel
            .as_ref()
            .and_then(|c| match c.load(Ordering::Relaxed) {
                0 => None,
                s => Some(RunError::Interrupted {
                    signal: i32::try_from(s).unwrap_or(i32::MAX),
                }),
            })
    };
    let threads = if opts.threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        opts.threads.min(crate::MAX_THREADS) // the CLI refuses more
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("thresher-worker-{i}"))
        .build()
        .map_err(|e| out_err(&opts.outdir, e))?;

    let mut stats = Stats::default();
    for f in files {
        stats
            .files
            .insert(f.path.to_string_lossy().into_owned(), Default::default());
    }
    let mut step_stats: Vec<StepStats> = vec![StepStats::default(); steps.len()];
    let phases = split_phases(steps);

    // Consumed batch buffers go back to the reader for reuse once their output is written (it
    // points into them). Mapped ones go back too, to be unmapped there: unmapping 2 MB costs
    // about as much as writing it, and writing is the part of a batch that runs on one thread.
    let (recycle_tx, recycle_rx) = bounded::<InputBuf>(16);
    let mut outputs = Outputs::new(out, recipe.output.clone(), opts.resume)?;

    let ctx = Ctx {
        steps,
        pool: &pool,
        progress: opts.progress.clone(),
        recycle: recycle_tx,
    };
    let mut result = Ok(());
    let mut seq = 0u64;
    let mut spill: Option<(PathBuf, u64)> = None;
    for (k, range) in phases.iter().enumerate() {
        if let Some(p) = &opts.progress {
            p.phase
                .store(((k as u64) << 32) | phases.len() as u64, Ordering::Relaxed);
            p.phase_docs.store(0, Ordering::Relaxed);
        }
        let next_two_pass = phases.get(k + 1).map(|r| &*steps[r.start]);
        let spill_out = next_two_pass.map(|_| format!("spill-{k}.jsonl"));
        if let Some(name) = &spill_out {
            if let Err(e) = outputs.open_spill(work, name) {
                result = Err(out_err(&work.join(name), e));
                break;
            }
        }
        let source: Box<dyn Iterator<Item = Batch> + Send> = match (k, &spill) {
            (0, _) => {
                let r = BatchReader::new(files.to_vec(), recipe.input.clone());
                Box::new(recycling(r, recycle_rx.clone()))
            }
            (_, Some((path, n))) if *n > 0 => {
                let opts = ReadOptions {
                    max_doc_bytes: u64::MAX,
                    ..ReadOptions::default()
                };
                let file = InputFile {
                    path: path.clone(),
                    format: Format::Jsonl,
                };
                let r = BatchReader::new(vec![file], opts);
                Box::new(recycling(r, recycle_rx.clone()))
            }
            _ => Box::new(std::iter::empty()),
        };
        let phase = Phase {
            first_phase: k == 0,
            steps: range.clone(),
            observer: next_two_pass,
            read_opts: &recipe.input,
        };
        let spilled = std::thread::scope(|s| -> Result<u64, RunError> {
            let (btx, brx) = bounded::<Batch>(2);
            s.spawn(move || {
                for b in source {
                    if btx.send(b).is_err() {
                        break;
                    }
                }
            });
            // Batch k+1 is parsed while batch k goes through the steps in order, is serialized
            // and written (`join`: the pool's threads take both), so no thread waits for the
            // one-at-a-time parts of a batch; and batch k's texts are still in the processor's
            // cache when the kernel copies them into the output files.
            let outputs = &mut outputs;
            pool.install(|| {
                let mut spilled = 0;
                let (ctx, phase) = (&ctx, &phase);
                let mut parse = |batch: Batch| {
                    let first = seq;
                    seq += batch.items.len() as u64;
                    move || ctx.parse_batch(phase, batch, first)
                };
                let mut pending = brx.recv().ok().map(|b| parse(b)());
                while let Some(parsed) = pending.take() {
                    if let Some(e) = cancelled() {
                        return Err(e);
                    }
                    let next = brx.recv().ok().map(&mut parse);
                    let (out, next) = rayon::join(
                        || {
                            let out =
                                ctx.finish_batch(phase, parsed, &mut stats, &mut step_stats)?;
                            outputs
                                .write(&out.lines)
                                .map_err(|e| out_err(&outputs.outdir, e))?;
                            Ok::<_, RunError>(out)
                        },
                        || next.map(|parse_next| parse_next()),
                    );
                    let out = out?;
                    spilled += out.spilled;
                    out.lines.into_iter().for_each(|c| c.recycle(&ctx.recycle));
                    pending = next;
                }
                Ok(spilled)
            })
        });
        let spilled = match spilled {
            Ok(n) => n,
            Err(e) => {
                result = Err(e);
                break;
            }
        };
        if let Some(e) = cancelled() {
            result = Err(e);
            break;
        }
        if let Some(step) = next_two_pass {
            if let Err(e) = outputs.close_spill() {
                result = Err(out_err(work.path(), e));
                break;
            }
            if let Err(e) = step.end_observe() {
                result = Err(RunError::Step {
                    step: step.name().to_string(),
                    message: e.to_string(),
                });
                break;
            }
            spill = spill_out.map(|name| (work.join(&name), spilled));
        }
    }
    result?;
    outputs.finish().map_err(|e| out_err(&opts.outdir, e))?;

    stats.steps = steps
        .iter()
        .zip(&recipe.steps)
        .zip(step_stats)
        .map(|((step, spec), st)| NamedStepStats {
            type_name: spec.type_name.clone(),
            name: step.name().to_string(),
            stats: st,
            report: step.report(),
        })
        .collect();
    stats.seconds = started.elapsed().as_secs_f64();
    let path = opts.outdir.join("stats.json");
    let text = serde_json::to_string_pretty(&stats).map_err(|e| out_err(&path, e))?;
    out.root()
        .write_atomic("stats.json", (text + "\n").as_bytes(), recipe.output.fsync)
        .map_err(|e| out_err(&path, e))?;
    Ok(stats)
}

/// The batches of `r`, which first takes back the buffers of consumed batches (`back`): owned
/// ones for reuse; mapped ones are unmapped here, on the reader's thread.
fn recycling(
    mut r: BatchReader,
    back: crossbeam_channel::Receiver<InputBuf>,
) -> impl Iterator<Item = Batch> + Send {
    std::iter::from_fn(move || {
        while let Ok(buf) = back.try_recv() {
            if let Some(buf) = buf.into_vec() {
                r.recycle(buf);
            }
        }
        r.next_batch()
    })
}

/// Splits the steps into phases: a new phase starts at each `TwoPass` step.
fn split_phases(steps: &[Box<dyn Step>]) -> Vec<std::ops::Range<usize>> {
    let mut phases = Vec::new();
    let mut start = 0;
    for (i, s) in steps.iter().enumerate() {
        if s.mode() == StepMode::TwoPass {
            phases.push(start..i);
            start = i;
        }
    }
    phases.push(start..steps.len());
    phases
}

const RUN_FILE: &str = ".run.json";

/// Checks that the (locked) output directory can be used: refuses to mix a new run with a
/// previous one's output unless asked to resume or overwrite, and refuses to remove anything
/// thresher did not write. Then records the run (recipe and inputs) in `.run.json`.
fn prepare_outdir(
    recipe: &Recipe,
    files: &[InputFile],
    opts: &RunOptions,
    out: &OutDir,
) -> Result<(), RunError> {
    let dir = out.path();
    let root = out.root();
    let fingerprint = json!({
        "recipe_xxh3": format!("{:016x}", xxhash_rust::xxh3::xxh3_64(recipe.text.as_bytes())),
        "inputs": files.iter().map(|f| {
            let len = fs::metadata(&f.path).map(|m| m.len()).unwrap_or(0);
            json!([f.path.to_string_lossy(), len])
        }).collect::<Vec<_>>(),
    });
    let previous = match root.read_to_string(RUN_FILE) {
        Ok(p) => p,
        // Replaced anyway (a link there is removed, not followed).
        Err(_) if opts.overwrite => None,
        Err(e) => return Err(out_err(dir, e)),
    };
    let own = out.ownership()?;
    if opts.overwrite {
        // Exactly what a previous run wrote; refused, with nothing removed, if anything else
        // is in thresher's folders.
        out.remove_owned(&own, &[])?;
        for name in ["stats.json", RUN_FILE] {
            root.remove_file(name).map_err(|e| out_err(dir, e))?;
        }
    } else if opts.resume {
        if let Some(prev) = &previous {
            let prev: serde_json::Value = serde_json::from_str(prev).unwrap_or_default();
            if prev != fingerprint {
                return Err(out_err(
                    dir,
                    "--resume: the recipe or the inputs differ from the interrupted run's",
                ));
            }
        }
        // The interrupted run's temporary data is made again; its complete shards are kept.
        out.remove_temporaries(&own)?;
        root.remove_file("stats.json")
            .map_err(|e| out_err(dir, e))?;
    } else if !own.foreign.is_empty() {
        out.remove_owned(&own, &[])?; // the refusal that names the foreign files
    } else if previous.is_some() || own.has_output {
        return Err(out_err(
            dir,
            "holds a previous run's output; use --resume to finish it or --overwrite to replace it",
        ));
    }
    root.write_atomic(RUN_FILE, fingerprint.to_string().as_bytes(), false)
        .map_err(|e| out_err(dir, format!("not writable: {e}")))?;
    Ok(())
}

/// `e` with the file it happened on in its message.
fn name_file(path: &Path, e: std::io::Error) -> std::io::Error {
    std::io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

/// Output category of a line.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Cat {
    Kept = 0,
    Rejected = 1,
    Errors = 2,
    Spill = 3,
}

/// The output lines of a run of consecutive documents, by category (each category is its own
/// file, so only the order within a category matters).
struct OutChunk {
    cats: [OutBuf; 4],
}

impl OutChunk {
    /// Hands the batch buffer the chunk points into back to the reader if no one else holds it.
    fn recycle(mut self, recycle: &Sender<InputBuf>) {
        for c in &mut self.cats {
            if let Some(buf) = c.take_shared().and_then(Arc::into_inner) {
                // Full (the reader has enough spares) or closed: the buffer is simply freed.
                let _ = recycle.try_send(buf);
            }
        }
    }
}

/// The run's output files: the shards of each category and the spill file of a two-pass step.
/// Written by the pool thread that finishes each batch, in input order.
struct Outputs {
    outdir: PathBuf,
    kept: ShardedWriter,
    rejected: ShardedWriter,
    errors: ShardedWriter,
    /// The spill file of a two-pass step, and its path (for messages).
    spill: Option<(BufWriter<fs::File>, PathBuf)>,
}

impl Outputs {
    fn new(outdir: &OutDir, opts: WriteOptions, resume: bool) -> Result<Self, OutDirError> {
        Ok(Outputs {
            outdir: outdir.path().to_path_buf(),
            kept: ShardedWriter::new(outdir, "kept", opts.clone(), resume)?,
            rejected: ShardedWriter::new(outdir, "rejected", opts.clone(), resume)?,
            errors: ShardedWriter::new(outdir, "errors", opts, resume)?,
            spill: None,
        })
    }

    /// Writes a batch's lines, each category to its own files.
    fn write(&mut self, chunks: &[OutChunk]) -> std::io::Result<()> {
        for chunk in chunks {
            let [kept_buf, rejected_buf, errors_buf, spill_buf] = &chunk.cats;
            let (pieces, ends) = kept_buf.pieces();
            self.kept.write_pieces(&pieces, ends)?;
            let (pieces, ends) = rejected_buf.pieces();
            self.rejected.write_pieces(&pieces, ends)?;
            let (pieces, ends) = errors_buf.pieces();
            self.errors.write_pieces(&pieces, ends)?;
            if !spill_buf.is_empty() {
                let (w, path) = self
                    .spill
                    .as_mut()
                    .ok_or_else(|| std::io::Error::other("spill line without spill"))?;
                for p in spill_buf.pieces().0 {
                    w.write_all(p).map_err(|e| name_file(path, e))?;
                }
            }
        }
        Ok(())
    }

    fn open_spill(&mut self, work: &Folder, name: &str) -> std::io::Result<()> {
        let file = BufWriter::with_capacity(1 << 20, work.create_fresh(name)?);
        self.spill = Some((file, work.join(name)));
        Ok(())
    }

    fn close_spill(&mut self) -> std::io::Result<()> {
        if let Some((mut w, path)) = self.spill.take() {
            w.flush().map_err(|e| name_file(&path, e))?;
        }
        Ok(())
    }

    /// Closes the last shards.
    fn finish(self) -> std::io::Result<()> {
        self.kept.finish()?;
        self.rejected.finish()?;
        self.errors.finish()?;
        Ok(())
    }
}

struct Ctx<'a> {
    steps: &'a [Box<dyn Step>],
    pool: &'a rayon::ThreadPool,
    progress: Option<Arc<Progress>>,
    recycle: Sender<InputBuf>,
}

struct Phase<'a> {
    first_phase: bool,
    steps: std::ops::Range<usize>,
    observer: Option<&'a dyn Step>,
    read_opts: &'a ReadOptions,
}

/// Where a record is after the steps.
enum Slot {
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

struct BatchOut {
    lines: Vec<OutChunk>,
    spilled: u64,
}

thread_local! {
    static CX: RefCell<StepCx> = RefCell::new(StepCx::default());
}

/// A batch whose records are parsed, and prepared for the phase's first step when that one is
/// ordered: the part of a batch's work that needs nothing of the batches before it.
struct Parsed {
    buf: Arc<InputBuf>,
    slots: Vec<Slot>,
    early_secs: f64,
    file_bytes: Vec<(Arc<str>, u64)>,
}

impl Ctx<'_> {
    /// Parses `batch`, whose first record is the run's `first_seq`-th, on the pool's threads.
    fn parse_batch(&self, phase: &Phase<'_>, batch: Batch, first_seq: u64) -> Parsed {
        let Batch {
            buf,
            items,
            file_bytes,
        } = batch;
        // Shared with the documents, which keep a reference to their escaped text in it.
        let buf = Arc::new(buf);
        let first_phase = phase.first_phase;
        let read_opts = phase.read_opts;
        // When the phase starts with an ordered step, its per-document `prepare` runs right
        // after each record is parsed, in the same parallel pass: the text is still in the
        // core's cache, and the batch goes through one fewer wait for the slowest thread.
        let early_step = self.early_step(phase);
        // The step may also check the text in the reader's pass (a document it did so for is
        // prepared already).
        let scan = early_step.and_then(|s| s.text_scan());
        let (slots, early_secs): (Vec<Slot>, Vec<f64>) = self.pool.install(|| {
            items
                .into_par_iter()
                .enumerate()
                .map(|(i, item)| {
                    let seq = first_seq + i as u64;
                    let mut slot = to_slot(item, &buf, first_phase, read_opts, seq, scan);
                    let secs = early_step.map_or(0.0, |step| prepare_slot(step, &mut slot));
                    (slot, secs)
                })
                .unzip()
        });
        Parsed {
            buf,
            slots,
            early_secs: early_secs.iter().sum(),
            file_bytes,
        }
    }

    /// The phase's first step if it is ordered (its `prepare` then runs in [`Ctx::parse_batch`]).
    fn early_step<'s>(&'s self, phase: &Phase<'_>) -> Option<&'s dyn Step> {
        self.steps
            .get(phase.steps.start)
            .filter(|s| phase.steps.start < phase.steps.end && s.mode() == StepMode::Ordered)
            .map(|s| &**s)
    }

    /// Runs the phase's steps on a parsed batch, in input order where a step asks for it, and
    /// serializes its output lines.
    fn finish_batch(
        &self,
        phase: &Phase<'_>,
        parsed: Parsed,
        stats: &mut Stats,
        step_stats: &mut [StepStats],
    ) -> Result<BatchOut, RunError> {
        let Parsed {
            buf,
            mut slots,
            early_secs,
            file_bytes,
        } = parsed;
        let early = self.early_step(phase).is_some();
        if early {
            step_stats[phase.steps.start].seconds += early_secs;
        }
        if phase.first_phase {
            for (file, bytes) in &file_bytes {
                stats.bytes_in += bytes;
                if let Some(f) = stats.files.get_mut(file.as_ref()) {
                    f.bytes += bytes;
                }
                if let Some(p) = &self.progress {
                    p.bytes.fetch_add(*bytes, Ordering::Relaxed);
                }
            }
        }
        if phase.first_phase {
            for slot in &slots {
                let file = match slot {
                    Slot::Live(d) => &d.source.file,
                    Slot::Error { source, .. } => &source.file,
                    Slot::Skipped { source, kind } => {
                        *stats.skipped.entry(kind.clone()).or_default() += 1;
                        if let Some(f) = stats.files.get_mut(source.file.as_ref()) {
                            *f.skipped.entry(kind.clone()).or_default() += 1;
                        }
                        continue;
                    }
                    _ => continue,
                };
                stats.docs_in += 1;
                if let Some(f) = stats.files.get_mut(file.as_ref()) {
                    f.docs_in += 1;
                }
            }
            if let Some(p) = &self.progress {
                let n = slots
                    .iter()
                    .filter(|s| !matches!(s, Slot::Skipped { .. }))
                    .count();
                p.docs.fetch_add(n as u64, Ordering::Relaxed);
            }
        }

        // Run the phase's steps: runs of Parallel steps on all documents at once, other steps
        // one document at a time in input order.
        let mut i = phase.steps.start;
        while i < phase.steps.end {
            let parallel = self.steps[i].mode() == StepMode::Parallel;
            let j = if parallel {
                (i..phase.steps.end)
                    .find(|&j| self.steps[j].mode() != StepMode::Parallel)
                    .unwrap_or(phase.steps.end)
            } else {
                i + 1
            };
            let run = i..j;
            let steps = self.steps;
            let merged = if parallel {
                self.pool.install(|| {
                    slots
                        .par_iter_mut()
                        .fold(
                            || vec![StepStats::default(); run.len()],
                            |mut st, slot| {
                                CX.with(|cx| {
                                    let mut cx = cx.borrow_mut();
                                    for (k, s) in run.clone().enumerate() {
                                        apply(&*steps[s], s, slot, &mut cx, &mut st[k]);
                                    }
                                });
                                st
                            },
                        )
                        .reduce(
                            || vec![StepStats::default(); run.len()],
                            |mut a, b| {
                                for (x, y) in a.iter_mut().zip(&b) {
                                    *x += y;
                                }
                                a
                            },
                        )
                })
            } else {
                let mut st = vec![StepStats::default()];
                let step = &*steps[i];
                if step.mode() == StepMode::Ordered && !(early && i == phase.steps.start) {
                    // The per-document part of an ordered step runs on all cores first.
                    let secs: f64 = self.pool.install(|| {
                        slots
                            .par_iter_mut()
                            .map(|slot| prepare_slot(step, slot))
                            .sum()
                    });
                    st[0].seconds += secs;
                }
                let mut cx = StepCx::default();
                for slot in slots.iter_mut() {
                    apply(&*steps[i], i, slot, &mut cx, &mut st[0]);
                }
                st
            };
            for (k, st) in merged.iter().enumerate() {
                step_stats[i + k] += st;
            }
            i = j;
        }

        // Observe for the next phase's two-pass step, then serialize.
        if let Some(obs) = phase.observer {
            let failed = self.pool.install(|| {
                slots.par_iter().find_map_any(|s| match s {
                    Slot::Live(d) => obs.observe(d).err(),
                    _ => None,
                })
            });
            if let Some(e) = failed {
                return Err(RunError::Step {
                    step: obs.name().to_string(),
                    message: e.to_string(),
                });
            }
        }
        let spill = phase.observer.is_some();
        let mut spilled = 0;
        let mut kept = 0;
        for slot in &slots {
            let (file, which) = match slot {
                Slot::Live(d) if spill => {
                    spilled += 1;
                    continue;
                }
                Slot::Live(d) => {
                    kept += 1;
                    (&d.source.file, 0)
                }
                Slot::Rejected { doc, .. } => (&doc.source.file, 1),
                Slot::Error { source, .. } => (&source.file, 2),
                _ => continue,
            };
            let f = stats.files.get_mut(file.as_ref());
            match which {
                0 => {
                    stats.kept += 1;
                    if let Some(f) = f {
                        f.kept += 1;
                    }
                }
                1 => {
                    stats.rejected += 1;
                    if let Some(f) = f {
                        f.rejected += 1;
                    }
                }
                _ => {
                    stats.errors += 1;
                    if let Some(f) = f {
                        f.errors += 1;
                    }
                }
            }
        }
        // Serialized in a few chunks of consecutive documents (two per thread), each into one
        // buffer per category: few allocations, and the writer gets long runs of lines.
        let per_chunk = slots
            .len()
            .div_ceil(2 * self.pool.current_num_threads())
            .max(1);
        let cat_of = |s: &Slot| match s {
            Slot::Live(_) if spill => Some(Cat::Spill),
            Slot::Live(_) => Some(Cat::Kept),
            Slot::Rejected { .. } => Some(Cat::Rejected),
            Slot::Error { .. } => Some(Cat::Errors),
            Slot::Skipped { .. } | Slot::Taken => None,
        };
        let lines: Vec<OutChunk> = self.pool.install(|| {
            slots
                .par_chunks_mut(per_chunk)
                .map(|chunk| {
                    let mut out = OutChunk {
                        cats: std::array::from_fn(|_| OutBuf::new(Some(buf.clone()))),
                    };
                    let mut sizes = [0usize; 4];
                    for s in chunk.iter() {
                        let size = match s {
                            Slot::Live(d) | Slot::Rejected { doc: d, .. } => line_size_hint(d),
                            Slot::Error { message, .. } => message.len() + 128,
                            _ => 0,
                        };
                        if let Some(c) = cat_of(s) {
                            sizes[c as usize] += size;
                        }
                    }
                    for (buf, size) in out.cats.iter_mut().zip(sizes) {
                        buf.reserve(size);
                    }
                    for s in chunk.iter_mut() {
                        let Some(cat) = cat_of(s) else { continue };
                        let buf = &mut out.cats[cat as usize];
                        match s {
                            Slot::Live(d) if spill => write_spill(buf, d),
                            Slot::Live(d) => write_kept(buf, d),
                            Slot::Rejected { doc, reason, step } => {
                                write_rejected(buf, doc, reason, steps_type(self.steps, *step))
                            }
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
                        // Freed here, on the thread that is already at it, rather than all
                        // together on the main thread after the batch.
                        *s = Slot::Taken;
                    }
                    out
                })
                .collect()
        });
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
}

fn steps_type(steps: &[Box<dyn Step>], i: usize) -> &str {
    steps.get(i).map_or("reader", |s| s.name())
}

fn to_slot(
    item: Item,
    buf: &Arc<InputBuf>,
    first_phase: bool,
    opts: &ReadOptions,
    seq: u64,
    scan: Option<&dyn TextScan>,
) -> Slot {
    let record = match item {
        Item::Line { range, source } => {
            if first_phase {
                parse_jsonl_line_scanned(buf, range, source, opts, scan)
            } else {
                match parse_spill_line(&buf[range]) {
                    Ok(doc) => Record::Doc(doc),
                    Err(message) => Record::Error(thresher_io::RecordError {
                        source,
                        message,
                        id: String::new(),
                    }),
                }
            }
        }
        Item::Record(r) => r,
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

/// Runs an ordered step's `prepare` on a live document (unless its `TextScan` did the work while
/// the document was read); returns the seconds it took.
fn prepare_slot(step: &dyn Step, slot: &mut Slot) -> f64 {
    let Slot::Live(doc) = slot else { return 0.0 };
    if doc.has_prepared() {
        return 0.0;
    }
    let t0 = Instant::now();
    CX.with(|cx| {
        let mut cx = cx.borrow_mut();
        // A panic here is caught again, and reported, by `apply`.
        let _ = catch_unwind(AssertUnwindSafe(|| step.prepare(doc, &mut cx)));
    });
    t0.elapsed().as_secs_f64()
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
