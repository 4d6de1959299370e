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
//!
//! The modules: [`outdir`] readies the output directory and `.work`; [`phases`] cuts the steps
//! into phases and feeds each phase's batches to the pool; [`batch`] parses a batch, runs the
//! steps on it and serializes its outcomes; [`outputs`] writes the lines to the shards and the
//! spill file.

pub(crate) mod batch;
mod convert;
mod meter;
mod outdir;
mod outputs;
mod phases;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize};
use std::sync::Arc;
use std::time::Instant;

use crossbeam_channel::bounded;
use thresher_core::{InputBuf, NamedStepStats, Stats, Step, StepStats};
use thresher_io::outdir::WORK;
use thresher_io::parquet::MetaColumn;
use thresher_io::remote::RemoteOut;
use thresher_io::{expand_inputs_report, Folder, InputFile, IoError, OutDir, OutDirError};

use crate::recipe::{Recipe, RecipeError};
use batch::Ctx;
use outputs::Outputs;
use phases::Pipeline;

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
    /// Read only this shard's block of the input files (see [`crate::shard`]).
    pub shard: Option<crate::shard::Shard>,
    /// Do not write the HTML run report (`report.html`, `report-data.json`; see
    /// [`crate::report`]).
    pub no_report: bool,
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
    /// Bytes on disk of all the input files (set before the first batch).
    pub total_bytes: AtomicU64,
    /// Bytes on disk of the input read so far: exact for uncompressed files, estimated from
    /// the compression ratio seen so far for compressed ones.
    pub input_done: AtomicU64,
    /// Documents the current phase reads when it is a later pass over a spill file (known in
    /// advance); 0 in the first phase, which is measured in input bytes.
    pub phase_total: AtomicU64,
    /// What the current phase does, for a person: its steps (e.g. `steps 1-8: collapse_repeats
    /// … exact_dedup, then minhash_dedup observes`).
    pub phase_name: std::sync::Mutex<String>,
}

impl Progress {
    /// The current phase's description (see [`Progress::phase_name`]).
    pub fn phase_name(&self) -> String {
        self.phase_name
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default()
    }
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

/// An output error on `path`.
fn out_err(path: &Path, e: impl std::fmt::Display) -> RunError {
    RunError::Output {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

pub use convert::jsonl_to_parquet;

/// Runs `recipe` over the inputs and writes `OUTDIR/{kept,rejected,errors}/` and
/// `OUTDIR/stats.json`. Returns the run's stats.
///
/// The output directory is locked for the run (a second run into it is refused), only files
/// thresher wrote are ever removed from it, and no link inside it is followed (see
/// [`thresher_io::outdir`]). Temporary data lives in `OUTDIR/.work`, removed when the run
/// ends, fails or is interrupted.
pub fn run(recipe: &Recipe, opts: &RunOptions) -> Result<Stats, RunError> {
    let started = Instant::now();
    let expanded = expand_inputs_report(&opts.inputs)?;
    warn_skipped(&expanded.skipped);
    let mut files = expanded.files;
    if let Some(shard) = &opts.shard {
        // Byte ranges are read through maps: without them, whole files.
        files = if recipe.input.mmap {
            shard.select_ranges(files)
        } else {
            shard.select(files)
        };
    }
    let steps = recipe.build_steps()?;
    // An object store's OUTDIR is written through a local staging directory, uploaded shard by
    // shard (see thresher_io::remote).
    let remote = if thresher_io::store::path_is_url(&opts.outdir) {
        let url = opts.outdir.to_string_lossy();
        Some(RemoteOut::new(&url).map_err(|e| out_err(&opts.outdir, e))?)
    } else {
        None
    };
    let out = OutDir::open(remote.as_ref().map_or(&*opts.outdir, |r| r.staging()))?;
    if let Some(r) = &remote {
        r.prepare(&out, opts.resume, opts.overwrite)?;
    }
    outdir::prepare_outdir(recipe, &files, opts, &out)?;
    let syncer = remote.as_ref().map(|r| r.start(&out)).transpose()?;
    let work = out.folder(WORK)?;
    let result =
        execute(recipe, opts, &files, &steps, &out, &work, started).map(|(mut stats, report)| {
            if !expanded.skipped.is_empty() {
                *stats.skipped.entry(SKIPPED_FILES.into()).or_default() +=
                    expanded.skipped.len() as u64;
            }
            (stats, report)
        });
    let result = result.and_then(|(stats, report)| {
        write_stats(&stats, recipe, opts, &out)?;
        write_run_file(recipe, opts, &files, &expanded.skipped, &out)?;
        if let Some(data) = report {
            write_report(&data, recipe, opts, &out)?;
        }
        Ok(stats)
    });
    // Whatever happened, the temporary data goes (a resume makes it again); shards stay.
    drop(steps);
    let cleaned = outdir::clean_work(&out)?;
    // The completed shards go to the store whatever happened (a resume goes on from them);
    // run.json and stats.json only after a successful run.
    let synced = syncer.map(|s| s.finish(result.is_ok()));
    if let Some(r) = &remote {
        drop(out);
        if synced.as_ref().is_some_and(|s| s.is_ok()) {
            // Everything is in the store: the staging directory is not needed any more.
            let _ = std::fs::remove_dir_all(r.staging());
        }
    }
    let stats = result?;
    cleaned?;
    synced.transpose()?;
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
) -> Result<(Stats, Option<crate::report::ReportData>), RunError> {
    outdir::set_work_dirs(steps, work)?;
    let pool = build_pool(opts)?;
    let mut stats = Stats::default();
    for f in files {
        // A byte range names itself, so that merge-stats can add the file's ranges up.
        let entry = match &f.range {
            Some(r) => thresher_core::FileStats {
                ranges: vec![[r.start, r.end]],
                size: Some(f.len()),
                ..Default::default()
            },
            None => Default::default(),
        };
        stats
            .files
            .insert(f.path.to_string_lossy().into_owned(), entry);
    }
    let mut step_stats: Vec<StepStats> = vec![StepStats::default(); steps.len()];

    // Consumed batch buffers go back to the reader for reuse once their output is written (it
    // points into them). Mapped ones go back too, to be unmapped there: unmapping 2 MB costs
    // about as much as writing it, and writing is the part of a batch that runs on one thread.
    let (recycle_tx, recycle_rx) = bounded::<InputBuf>(16);
    let mut output = recipe.output.clone();
    output.meta_columns = meta_columns(recipe, files);
    let mut outputs = Outputs::new(out, output.clone(), opts.resume)?;
    let mut pipeline = Pipeline {
        recipe,
        opts,
        files,
        work,
        ctx: Ctx {
            steps,
            pool: &pool,
            progress: opts.progress.clone(),
            recycle: recycle_tx,
            rejected_text: recipe.output.rejected_text,
            report: (!opts.no_report).then(Default::default),
            meter: opts.progress.as_ref().map(|p| {
                let (meter, total) = meter::InputMeter::new(files);
                p.total_bytes
                    .store(total, std::sync::atomic::Ordering::Relaxed);
                std::sync::Mutex::new(meter)
            }),
            parquet: recipe.output.format == thresher_io::OutputFormat::Parquet,
            meta_columns: output.meta_columns.clone(),
        },
        recycled: recycle_rx,
    };
    pipeline.run_phases(&mut outputs, &mut stats, &mut step_stats)?;
    let report = pipeline
        .ctx
        .report
        .take()
        .map(|c| c.into_inner().unwrap_or_else(|e| e.into_inner()).finish());
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
    Ok((stats, report))
}

/// The typed metadata columns of a Parquet output (`[output] metadata_columns = "auto"`): from
/// the schemas of the Parquet inputs, read before the run (see `thresher_io::parquet::MetaColumn`).
fn meta_columns(recipe: &Recipe, files: &[InputFile]) -> std::sync::Arc<[MetaColumn]> {
    use thresher_io::{MetadataColumns, OutputFormat};
    let out = &recipe.output;
    if out.format != OutputFormat::Parquet || out.metadata_columns != MetadataColumns::Auto {
        return std::sync::Arc::from([]);
    }
    let schemas = thresher_io::parquet::input_schemas(files);
    // A key named like a fixed column of either category stays in JSON (one list for both, so
    // kept and rejected shards have the same typed columns).
    let reserved = thresher_io::parquet::Category::Rejected.reserved();
    thresher_io::parquet::meta_columns_of(&schemas, &recipe.input, &reserved).into()
}

/// The `skipped` key of `stats.json` that counts the files of directories and globs not read
/// because their names are of no input format.
pub const SKIPPED_FILES: &str = "unknown_format_file";

/// One warning line for the files of directories and globs that are not read.
fn warn_skipped(skipped: &[PathBuf]) {
    if skipped.is_empty() {
        return;
    }
    let names: Vec<String> = skipped
        .iter()
        .take(3)
        .map(|p| p.display().to_string())
        .collect();
    let more = skipped.len().saturating_sub(names.len());
    eprintln!(
        "warning: {} input files of no format thresher reads were skipped: {}{} (counted as \
         `{SKIPPED_FILES}` under `skipped` in stats.json)",
        skipped.len(),
        names.join(", "),
        if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        }
    );
}

/// Writes `OUTDIR/run.json`: what made the directory (thresher's version, the recipe as
/// given and as resolved, the inputs, the threads), so a later run or a person can tell.
fn write_run_file(
    recipe: &Recipe,
    opts: &RunOptions,
    files: &[InputFile],
    skipped: &[PathBuf],
    out: &OutDir,
) -> Result<(), RunError> {
    let path = opts.outdir.join(RUN_JSON);
    let steps: Vec<serde_json::Value> = recipe
        .steps
        .iter()
        .map(|s| {
            let mut v = serde_json::to_value(&s.params).unwrap_or_default();
            if let Some(m) = v.as_object_mut() {
                m.insert("type".into(), s.type_name.clone().into());
            }
            v
        })
        .collect();
    let threads = if opts.threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        opts.threads.min(crate::MAX_THREADS)
    };
    let run = serde_json::json!({
        "thresher_version": env!("CARGO_PKG_VERSION"),
        "recipe": {
            "origin": recipe.origin,
            "text": recipe.text,
            "input": recipe.input,
            "output": recipe.output,
            "steps": steps,
        },
        "inputs": opts.inputs.iter().map(|p| p.to_string_lossy()).collect::<Vec<_>>(),
        "files": files.iter().map(|f| f.path.to_string_lossy()).collect::<Vec<_>>(),
        "skipped_files": skipped.iter().map(|p| p.to_string_lossy()).collect::<Vec<_>>(),
        "threads": threads,
        "resume": opts.resume,
    });
    let text = serde_json::to_string_pretty(&run).map_err(|e| out_err(&path, e))?;
    out.root()
        .write_atomic(RUN_JSON, (text + "\n").as_bytes(), recipe.output.fsync)
        .map_err(|e| out_err(&path, e))?;
    Ok(())
}

/// The file beside `stats.json` that records the run's settings.
pub const RUN_JSON: &str = "run.json";

/// The worker pool: `opts.threads` threads, or one per core.
fn build_pool(opts: &RunOptions) -> Result<rayon::ThreadPool, RunError> {
    let threads = if opts.threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        opts.threads.min(crate::MAX_THREADS) // the CLI refuses more
    };
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("thresher-worker-{i}"))
        .build()
        .map_err(|e| out_err(&opts.outdir, e))
}

/// Writes `OUTDIR/report-data.json` and the page drawn from it, `OUTDIR/report.html`.
fn write_report(
    data: &crate::report::ReportData,
    recipe: &Recipe,
    opts: &RunOptions,
    out: &OutDir,
) -> Result<(), RunError> {
    use crate::report::REPORT_DATA;
    let path = opts.outdir.join(REPORT_DATA);
    let text = serde_json::to_string(data).map_err(|e| out_err(&path, e))?;
    out.root()
        .write_atomic(REPORT_DATA, (text + "\n").as_bytes(), recipe.output.fsync)
        .map_err(|e| out_err(&path, e))?;
    crate::report::write_report_to(out).map_err(|e| out_err(&e.path, e.message))?;
    Ok(())
}

/// Writes `OUTDIR/stats.json`, atomically.
fn write_stats(
    stats: &Stats,
    recipe: &Recipe,
    opts: &RunOptions,
    out: &OutDir,
) -> Result<(), RunError> {
    let path = opts.outdir.join("stats.json");
    let text = serde_json::to_string_pretty(stats).map_err(|e| out_err(&path, e))?;
    out.root()
        .write_atomic("stats.json", (text + "\n").as_bytes(), recipe.output.fsync)
        .map_err(|e| out_err(&path, e))?;
    Ok(())
}
