//! The `thresher` command: parses arguments, loads the recipe, runs it, prints the summary.
//! All logic lives in the `thresher` library crate. The command is this library's [`main`],
//! so that the Python package's `thresher` command is the same program.

use std::ffi::OsString;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::Arc;
use std::time::Duration;

mod logging;
mod progress;
mod shard_cmds;

use clap::{Parser, Subcommand};
use thresher::{Progress, RunOptions};

/// What `--help` opens with.
const ABOUT: &str = "thresher turns raw crawled web text (JSONL, WARC/WET/ARC, HTML, text, \
Parquet) into clean, deduplicated text for training language models: a TOML recipe of steps \
(repair, quality filters, language ID, exact and near dedup) runs on all cores, and every input \
record ends up kept, rejected with a reason, or reported as an error with its file and position. \
Each run writes stats.json and an HTML report (report.html) beside its outputs.";

/// `--version`: the version and the commit it was built from.
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("THRESHER_COMMIT"),
    ")"
);

#[derive(Parser)]
#[command(name = "thresher", version = VERSION, about = ABOUT, long_about = None, after_help = EXAMPLES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// More messages on stderr: -v for each pass and the run's end, -vv for debugging.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    /// No progress display and no summary; only errors on stderr.
    #[arg(short, long, global = true)]
    quiet: bool,
    /// Also write structured logs (JSON lines: the run's start and end, each pass, progress)
    /// to this file, for batch systems.
    #[arg(long, value_name = "FILE", global = true)]
    log_file: Option<PathBuf>,
}

const EXAMPLES: &str = "\
Examples:
  thresher run default -i pages.jsonl.gz -o out/      # bundled recipe, one input file
  thresher run my-recipe.toml -i 'shards/*.jsonl.zst' -o out/ --threads 8
  thresher recipes                                    # list bundled recipes
  thresher steps                                      # list step types
  thresher steps minhash_dedup                        # a step's parameters and defaults
  thresher report out/                                # draw out/report.html again
  thresher explain out/ DOC-ID                        # why one document was kept or rejected
  thresher stats out/ -d 'gopher_quality.mean_word_length<3'  # annotated values

Output: out/kept/, out/rejected/ (with reason and value), out/errors/ (with file and position),
out/stats.json (in = kept + rejected + errors, per file and per step) and out/report.html (the
funnel, rejections by reason, measured values against thresholds, samples; opens offline).

Exit codes: 0 the run completed (check errors in stats.json); 1 --strict and some records were
errors; 2 bad command line, recipe or input path; 3 output or runtime failure.";

/// Where `thresher run` runs the recipe.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Executor {
    /// In this process, with --threads worker threads.
    Local,
    /// On a Ray cluster, through the Python package's `thresher.ray`.
    Ray,
}

#[derive(Subcommand)]
enum Command {
    /// Run a recipe over input files.
    Run {
        /// A bundled recipe's name (see `thresher recipes`) or a path to a TOML recipe.
        recipe: String,
        /// Input files, directories or globs: JSONL (.jsonl, .json, .ndjson), WARC/WET/ARC
        /// (.warc, .wet, .wat, .arc), HTML pages (.html, .htm, .xhtml), text (.txt, one
        /// document a file), each optionally .gz or .zst; and Parquet (.parquet). Other files
        /// in a directory are skipped (and counted); an explicit path of another name is an
        /// error. A previous run's output directory means its kept/ documents.
        #[arg(short, long = "input", required = true, num_args = 1..)]
        inputs: Vec<PathBuf>,
        /// Output directory.
        #[arg(short, long = "output")]
        outdir: PathBuf,
        /// Worker threads (default: one per core; at most 1024): they parse, run the steps and
        /// write; one more thread reads ahead. The output does not depend on it.
        #[arg(short = 't', long, default_value_t = 0)]
        threads: usize,
        /// Finish a run that was interrupted (killed) in OUTDIR; the result is identical to an
        /// uninterrupted run.
        #[arg(long, conflicts_with = "overwrite")]
        resume: bool,
        /// Replace a previous run's output in OUTDIR.
        #[arg(long)]
        overwrite: bool,
        /// Exit with code 1 if any record was an error.
        #[arg(long)]
        strict: bool,
        /// Do not write the HTML report (report.html, report-data.json).
        #[arg(long)]
        no_report: bool,
        /// When stderr is not a terminal: print a progress line every SECS seconds (0: none).
        #[arg(long, value_name = "SECS", default_value_t = 30.0)]
        progress_every: f64,
        /// Read only shard I of N (zero-based) of the inputs, a contiguous block of about 1/N of
        /// the input bytes (uncompressed JSONL files are cut into byte ranges at record starts,
        /// Parquet files at row group starts; other files stay whole; `[input] mmap = false` keeps every file whole); default: from SLURM_ARRAY_TASK_ID minus SLURM_ARRAY_TASK_MIN (0 if unset) and
        /// SLURM_ARRAY_TASK_COUNT when those are set. Also sets minhash_dedup's shard_index.
        #[arg(long, value_name = "I/N")]
        shard: Option<thresher::Shard>,
        /// Change a step parameter: STEP.KEY=VALUE (the only step of type STEP) or
        /// steps.N.KEY=VALUE (the N-th step, from 1); VALUE is TOML, else a string. Repeatable.
        #[arg(long = "set", value_name = "STEP.KEY=VALUE")]
        sets: Vec<String>,
        /// Where the run happens: `local` (this process) or `ray` (a Ray cluster: runs
        /// `python -m thresher.ray`, the Python package's executor; the Python is
        /// THRESHER_PYTHON, else this program when it is Python, else `python3`).
        #[arg(long, value_enum, default_value_t = Executor::Local)]
        executor: Executor,
        /// With --executor ray: the cluster's address (default: a local Ray session).
        #[arg(long)]
        address: Option<String>,
        /// With --executor ray: tasks per stage (default: the cluster's CPUs / --threads).
        #[arg(long)]
        tasks: Option<u32>,
    },
    /// Draw OUTDIR/report.html again for a finished run (from its stats.json, run.json and
    /// report-data.json); prints the report's path.
    Report {
        /// The run's output directory.
        outdir: PathBuf,
    },
    /// Tell what became of one document of a finished run: the steps it went through, what
    /// they measured and noted, and why it was kept or rejected (with the threshold).
    Explain {
        /// The run's output directory.
        outdir: PathBuf,
        /// The document's id (the `id` field of the output records).
        id: String,
    },
    /// List the bundled recipes.
    Recipes {
        /// Print this recipe's TOML text.
        name: Option<String>,
    },
    /// List the step types a recipe can use, each with a one-line description.
    Steps {
        /// Describe this step: each parameter with its type, default and doc line.
        name: Option<String>,
    },
    /// Sharded near-dedup, middle stage: cluster the band files that every shard's
    /// `minhash_dedup` (stage = "signatures") wrote to the recipe's work_dir; then run each
    /// shard again with stage = "filter".
    MinhashCluster {
        /// The recipe the shards ran (its minhash_dedup step must set work_dir).
        #[arg(required_unless_present = "recipe_opt", conflicts_with = "recipe_opt")]
        recipe: Option<String>,
        /// The same, as an option.
        #[arg(long = "recipe", value_name = "RECIPE")]
        recipe_opt: Option<String>,
        /// Change a step parameter, as for `run` (e.g. --set minhash_dedup.work_dir=/scratch/mh).
        #[arg(long = "set", value_name = "STEP.KEY=VALUE")]
        sets: Vec<String>,
        /// Refuse unless the work_dir holds exactly the shards 0..N (a failed or stale shard).
        #[arg(long, value_name = "N")]
        shards: Option<u32>,
    },
    /// Distributed near-dedup, first task of the cluster stage (one of P; then `cc-round`):
    /// the candidate pairs of part K/P of the band buckets in the recipe's work_dir, written to
    /// round 0 of CC_DIR. For `keeper = "lowest_seq"` without `verify_jaccard`. Prints JSON.
    MinhashPairs {
        /// The recipe the shards ran (its minhash_dedup step must set work_dir).
        #[arg(long)]
        recipe: String,
        /// Change a step parameter, as for `run`.
        #[arg(long = "set", value_name = "STEP.KEY=VALUE")]
        sets: Vec<String>,
        /// This task's part, K/P (zero-based).
        #[arg(long, value_name = "K/P")]
        part: thresher::Shard,
        /// The connected components' folder (shared by all tasks).
        #[arg(long, value_name = "DIR")]
        cc_dir: PathBuf,
    },
    /// Connected components, one task of one round (large-star on even rounds, small-star on odd
    /// ones): reads CC_DIR/r-ROUND/from-*/to-K.bin, writes CC_DIR/r-(ROUND+1)/from-K/. Prints
    /// JSON; when every task of a round prints `"converged": true`, r-(ROUND+1) holds the labels.
    CcRound {
        /// The connected components' folder.
        #[arg(long, value_name = "DIR")]
        cc_dir: PathBuf,
        /// The round, from 0.
        #[arg(long)]
        round: u32,
        /// This task's part, K/P (zero-based).
        #[arg(long, value_name = "K/P")]
        part: thresher::Shard,
        /// Memory for the sort buffer, in MiB (more spills to disk).
        #[arg(long, default_value_t = 256)]
        memory_mb: u64,
    },
    /// Distributed near-dedup: the ids of MinHash shard S's keepers that the converged round
    /// ROUND asks for, written for the shards that need them. Run for every shard, then
    /// `minhash-decide`.
    MinhashIds {
        /// The recipe the shards ran.
        #[arg(long)]
        recipe: String,
        /// Change a step parameter, as for `run`.
        #[arg(long = "set", value_name = "STEP.KEY=VALUE")]
        sets: Vec<String>,
        /// The connected components' folder.
        #[arg(long, value_name = "DIR")]
        cc_dir: PathBuf,
        /// The converged round (the last `cc-round`'s ROUND + 1).
        #[arg(long)]
        round: u32,
        /// The MinHash shard.
        #[arg(long)]
        shard: u32,
    },
    /// Distributed near-dedup, last task of the cluster stage: MinHash shard S's decisions.bin
    /// (as `minhash-cluster` writes it) from the labels and keeper ids. Prints JSON.
    MinhashDecide {
        /// The recipe the shards ran.
        #[arg(long)]
        recipe: String,
        /// Change a step parameter, as for `run`.
        #[arg(long = "set", value_name = "STEP.KEY=VALUE")]
        sets: Vec<String>,
        /// The connected components' folder.
        #[arg(long, value_name = "DIR")]
        cc_dir: PathBuf,
        /// The converged round.
        #[arg(long)]
        round: u32,
        /// The MinHash shard.
        #[arg(long)]
        shard: u32,
    },
    /// The distribution of the values that annotating filters (`mode = "annotate"`) wrote into
    /// the documents' metadata: quantiles and a histogram per value, and what thresholds would
    /// drop. Every number of `metadata` (one object deep: `gopher_quality.mean_word_length`).
    Stats {
        /// A run's output directory (its kept/ documents), or files, directories, globs.
        #[arg(required = true, num_args = 1..)]
        inputs: Vec<PathBuf>,
        /// Only the values whose key starts with this (e.g. `gopher_quality.`). Repeatable.
        #[arg(short, long = "key", value_name = "PREFIX")]
        keys: Vec<String>,
        /// What this threshold would drop: KEY<VALUE (also <=, >, >=, ==, !=), e.g.
        /// 'gopher_quality.mean_word_length<3'. Repeatable; several are also counted together.
        #[arg(short, long = "drop", value_name = "KEY<VALUE")]
        drops: Vec<thresher::annotations::Threshold>,
        /// Histogram bins.
        #[arg(long, default_value_t = 10)]
        bins: usize,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Rewrite a run's JSONL output records of one category (kept, rejected or errors) as the
    /// Parquet shards a run with the recipe's `[output] format = "parquet"` writes; the Ray
    /// executor's last task per shard. Prints the shards written, one per line with its
    /// record count.
    ToParquet {
        /// The run's recipe (its `[output]` options: compression, shard sizes, metadata
        /// columns); a bundled recipe's name or a path.
        recipe: String,
        /// `kept`, `rejected` or `errors`.
        #[arg(long)]
        category: String,
        /// The run's inputs: the typed metadata columns come from their Parquet schemas.
        #[arg(short, long = "input", num_args = 1..)]
        inputs: Vec<PathBuf>,
        /// The JSONL files to rewrite, in order.
        #[arg(long = "from", required = true, num_args = 1..)]
        from: Vec<PathBuf>,
        /// Output directory: the shards go to OUTDIR/CATEGORY/.
        #[arg(short, long = "output")]
        outdir: PathBuf,
    },
    /// Sharded corpus stages: add the count stage's sketch files (of `corpus_boilerplate` or
    /// `strip_chrome`, one shape) into one, which each apply stage then reads (`sketches =
    /// ["SUM"]`) instead of every shard's. Prints {"sketches": N, "docs_observed": D}
    SumSketches {
        /// The shards' sketch files, or folders of `*.sketch` files.
        #[arg(required = true, num_args = 1..)]
        sketches: Vec<PathBuf>,
        /// The sum's file.
        #[arg(short, long = "output")]
        output: PathBuf,
    },
    /// Merge the stats.json of a run's shards into one: counts summed overall, per step and per
    /// file, checked (in = kept + rejected + errors; a file in one shard only, or in byte
    /// ranges that do not overlap).
    MergeStats {
        /// The shards' stats.json files or output directories.
        #[arg(required = true, num_args = 1..)]
        stats: Vec<PathBuf>,
        /// Where to write the merged stats (default: standard output).
        #[arg(short, long = "output")]
        output: Option<PathBuf>,
    },
}

/// What a bus error means here: a file read through a memory map (`[input] mmap`, on by
/// default for large uncompressed JSONL) was cut by another process while mapped. The outputs
/// written so far are consistent (shards are renamed when complete), so the run can be finished
/// with `--resume` once the input is stable.
const SIGBUS_MESSAGE: &[u8] = b"thresher: bus error: an input file read through a memory map \
changed (was it truncated by another process during the run?). The output so far is \
consistent: finish with --resume once the input is stable, or set mmap = false in the \
recipe's [input] for inputs that may change.\n";

/// Turns SIGBUS into that message and exit code 3 instead of a core dump.
#[cfg(unix)]
fn on_bus_error() {
    extern "C" fn handler(_: libc::c_int) {
        // Only async-signal-safe calls here: write(2) and _exit(2).
        // SAFETY: writes a static buffer to stderr, then ends the process.
        unsafe {
            libc::write(2, SIGBUS_MESSAGE.as_ptr().cast(), SIGBUS_MESSAGE.len());
            libc::_exit(3);
        }
    }
    // SAFETY: installs a handler that only makes async-signal-safe calls; the struct is
    // zero-initialised as sigaction(2) allows, with an empty mask.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = handler as extern "C" fn(libc::c_int) as usize;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(libc::SIGBUS, &action, std::ptr::null_mut());
    }
}

#[cfg(not(unix))]
fn on_bus_error() {}

/// SIGINT and SIGTERM set `cancel` to the signal's number: the run stops after the batch in
/// hand, removes `OUTDIR/.work` and exits 130 or 143, resumable. A second signal ends the
/// process at once (with the same code); `--resume` cleans up after it.
fn on_stop_signals() -> Arc<AtomicUsize> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let cancel = Arc::new(AtomicUsize::new(0));
    let again = Arc::new(AtomicBool::new(false));
    for sig in [SIGINT, SIGTERM] {
        // Registered first, so it sees the flag as the previous signal left it.
        let code = 128 + sig;
        let _ = signal_hook::flag::register_conditional_shutdown(sig, code, again.clone());
        let _ = signal_hook::flag::register(sig, again.clone());
        let _ = signal_hook::flag::register_usize(sig, cancel.clone(), sig as usize);
    }
    cancel
}

/// Sets mimalloc's purge mode for a run, unless the environment sets it
/// (`MIMALLOC_PURGE_DECOMMITS`): freed memory is handed back to the kernel with `MADV_FREE`
/// (reclaimed when the system needs it) rather than decommitted, so the buffers of the next
/// batch or row group reuse the pages instead of faulting them in zeroed again. Measured on
/// Parquet -> `text_length` -> Parquet, 1.1 GB (docs/parquet.md): 10.6 -> 7.9 CPU seconds; peak
/// RSS 455 -> 667 MB, the difference being pages the kernel may take back at any time. Call it
/// before the first allocation of the run; it has no effect when mimalloc is not the allocator.
pub fn tune_allocator() {
    // `mi_option_purge_decommits` of mimalloc.h (v3, what libmimalloc-sys builds by default;
    // the same in v2): the sixth option. The crate names only some of the options.
    const PURGE_DECOMMITS: libmimalloc_sys::mi_option_t = 5;
    // SAFETY: mi_option_set_default only stores the option's value (mimalloc reads it when it
    // next purges); it has no preconditions and is safe to call from any thread.
    unsafe {
        libmimalloc_sys::mi_option_set_default(PURGE_DECOMMITS, 0);
    }
}

/// The `thresher` command on `args` (the first is the program's name); returns the exit code.
pub fn main(args: impl IntoIterator<Item = OsString>) -> u8 {
    on_bus_error();
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    let log = match logging::init(cli.verbose, cli.quiet, cli.log_file.as_deref()) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("thresher: --log-file: {e}");
            return 2;
        }
    };
    let quiet = cli.quiet;
    let _guard = tracing::dispatcher::set_default(&log);
    match cli.command {
        Command::Report { outdir } => match thresher::report::write_report(&outdir) {
            Ok(path) => {
                println!("{}", path.display());
                0
            }
            Err(e) => {
                eprintln!("thresher: report: {e}");
                2
            }
        },
        Command::Explain { outdir, id } => match thresher::report::explain(&outdir, &id) {
            Ok(text) => {
                print!("{text}");
                0
            }
            Err(e) => {
                eprintln!("thresher: explain: {e}");
                2
            }
        },
        Command::Recipes { name: Some(name) } => {
            match thresher::recipe::bundled().iter().find(|(n, _)| *n == name) {
                Some((_, text)) => {
                    print!("{text}");
                    0
                }
                None => {
                    let names: Vec<&str> = thresher::recipe::bundled()
                        .iter()
                        .map(|(n, _)| *n)
                        .collect();
                    eprintln!(
                        "thresher: no bundled recipe `{name}` (bundled: {}; `thresher recipes` \
                         describes them)",
                        names.join(", ")
                    );
                    2
                }
            }
        }
        Command::Recipes { name: None } => {
            for (name, text) in thresher::recipe::bundled() {
                let desc = thresher::recipe::description(text);
                println!("{name:<14} {desc}");
            }
            0
        }
        Command::Stats {
            inputs,
            keys,
            drops,
            bins,
            json,
        } => match thresher::annotations::report(&inputs, &keys, &drops, bins) {
            Ok(report) if json => {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&report).unwrap_or_default()
                );
                0
            }
            Ok(report) => {
                print!("{}", report.to_text());
                0
            }
            Err(e) => {
                eprintln!("thresher: {e}");
                2
            }
        },
        Command::MergeStats { stats, output } => shard_cmds::merge_stats(&stats, output.as_deref()),
        Command::SumSketches { sketches, output } => {
            match thresher::sum_sketch_files(&sketches, &output) {
                Ok((n, docs)) => {
                    println!(
                        "{}",
                        serde_json::json!({"sketches": n, "docs_observed": docs})
                    );
                    0
                }
                Err(e) => {
                    eprintln!("thresher: {e}");
                    2
                }
            }
        }
        Command::ToParquet {
            recipe,
            category,
            inputs,
            from,
            outdir,
        } => {
            let recipe = match thresher::Recipe::load(&recipe) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("thresher: {e}");
                    return 2;
                }
            };
            match thresher::jsonl_to_parquet(&recipe, &inputs, &category, &from, &outdir) {
                Ok(shards) => {
                    for (path, docs) in shards {
                        println!("{}\t{docs}", path.display());
                    }
                    0
                }
                Err(e) => {
                    eprintln!("thresher: {e}");
                    e.exit_code() as u8
                }
            }
        }
        Command::MinhashPairs {
            recipe,
            sets,
            part,
            cc_dir,
        } => cc_task(&recipe, &sets, |budget, work| {
            thresher::cluster::cc::minhash_pairs(work, &cc_dir, part.index, part.count, budget)
                .map_err(|e| e.to_string())
                .and_then(|r| serde_json::to_string(&r).map_err(|e| e.to_string()))
        }),
        Command::CcRound {
            cc_dir,
            round,
            part,
            memory_mb,
        } => print_task(
            thresher::cluster::cc::cc_round(
                &cc_dir,
                round,
                part.index,
                part.count,
                memory_mb.saturating_mul(1 << 20),
            )
            .map_err(|e| e.to_string())
            .and_then(|r| serde_json::to_string(&r).map_err(|e| e.to_string())),
        ),
        Command::MinhashIds {
            recipe,
            sets,
            cc_dir,
            round,
            shard,
        } => cc_task(&recipe, &sets, |_, work| {
            thresher::cluster::cc::minhash_ids(work, &cc_dir, round, shard)
                .map(|n| format!("{{\"shard\": {shard}, \"ids\": {n}}}"))
                .map_err(|e| e.to_string())
        }),
        Command::MinhashDecide {
            recipe,
            sets,
            cc_dir,
            round,
            shard,
        } => cc_task(&recipe, &sets, |_, work| {
            thresher::cluster::cc::minhash_decide(work, &cc_dir, round, shard)
                .map_err(|e| e.to_string())
                .and_then(|r| serde_json::to_string(&r).map_err(|e| e.to_string()))
        }),
        Command::MinhashCluster {
            recipe,
            recipe_opt,
            sets,
            shards,
        } => {
            let recipe = recipe.or(recipe_opt).unwrap_or_default();
            let result = shard_cmds::load_recipe(&recipe, &sets, None)
                .and_then(|r| thresher::cluster::minhash_cluster_shards(&r, shards));
            match result {
                Ok(report) => {
                    println!(
                        "{}",
                        serde_json::to_string_pretty(&report).unwrap_or_default()
                    );
                    0
                }
                Err(e) => {
                    eprintln!("thresher: {e}");
                    2
                }
            }
        }
        Command::Steps { name: None } => {
            use thresher::registry;
            for name in registry::step_names() {
                let desc = registry::step_description(name).unwrap_or_default();
                println!("{name:<22} {desc}");
            }
            for (name, feature) in registry::FEATURE_STEPS {
                if registry::feature_message(name).is_some() {
                    println!("{name:<22} (not in this build: needs the `{feature}` feature)");
                }
            }
            0
        }
        Command::Steps { name: Some(name) } => print_step(&name),
        Command::Run {
            recipe,
            inputs,
            outdir,
            threads,
            resume,
            overwrite,
            strict,
            no_report,
            progress_every,
            shard,
            sets,
            executor,
            address,
            tasks,
        } => {
            if executor == Executor::Ray {
                let ray = RayRun {
                    recipe: &recipe,
                    inputs: &inputs,
                    outdir: &outdir,
                    threads,
                    overwrite,
                    strict,
                    quiet,
                    address: address.as_deref(),
                    tasks,
                };
                if resume || shard.is_some() || !sets.is_empty() {
                    eprintln!(
                        "thresher: --executor ray: --resume, --shard and --set are for local \
                         runs (a Ray job submitted again skips its completed tasks)"
                    );
                    return 2;
                }
                return ray.exec();
            }
            if address.is_some() || tasks.is_some() {
                eprintln!("thresher: --address and --tasks need --executor ray");
                return 2;
            }
            if threads > thresher::MAX_THREADS {
                eprintln!(
                    "thresher: --threads {threads} is more than {} (the output does not depend \
                     on the thread count; 0 means one per core)",
                    thresher::MAX_THREADS
                );
                return 2;
            }
            let shard = match shard.map(Ok).or_else(thresher::Shard::from_env).transpose() {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("thresher: --shard: {e}");
                    return 2;
                }
            };
            let recipe = match shard_cmds::load_recipe(&recipe, &sets, shard) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("thresher: {e}");
                    return 2;
                }
            };
            let mode = if std::io::stderr().is_terminal() {
                Some(progress::Mode::Bar)
            } else if progress_every > 0.0 && progress_every.is_finite() {
                Some(progress::Mode::Lines(Duration::from_secs_f64(
                    progress_every,
                )))
            } else {
                None
            };
            let mode = mode.filter(|_| !quiet);
            let progress = Some(Arc::new(Progress::default()));
            let opts = RunOptions {
                inputs,
                outdir: outdir.clone(),
                threads,
                resume,
                overwrite,
                progress: progress.clone(),
                cancel: Some(on_stop_signals()),
                shard,
                no_report,
            };
            tracing::info!(
                recipe = %recipe.origin,
                inputs = opts.inputs.len(),
                outdir = %outdir.display(),
                "run started"
            );
            let display = mode
                .zip(progress)
                .map(|(m, p)| progress::Display::start(p, m, log.clone()));
            let result = thresher::run(&recipe, &opts);
            if let Some(d) = display {
                d.stop();
            }
            match result {
                Ok(stats) => {
                    tracing::info!(
                        docs_in = stats.docs_in,
                        kept = stats.kept,
                        rejected = stats.rejected,
                        errors = stats.errors,
                        bytes_in = stats.bytes_in,
                        seconds = stats.seconds,
                        "run finished"
                    );
                    if !quiet {
                        print_summary(&stats, &outdir, !no_report);
                    }
                    if strict && stats.errors > 0 {
                        1
                    } else {
                        0
                    }
                }
                Err(e) => {
                    tracing::info!(error = %e, "run failed");
                    eprintln!("thresher: {e}");
                    e.exit_code() as u8
                }
            }
        }
    }
}

/// `thresher run --executor ray`: the same run by the Python package's Ray executor.
struct RayRun<'a> {
    recipe: &'a str,
    inputs: &'a [PathBuf],
    outdir: &'a std::path::Path,
    threads: usize,
    overwrite: bool,
    strict: bool,
    quiet: bool,
    address: Option<&'a str>,
    tasks: Option<u32>,
}

impl RayRun<'_> {
    /// The Python that runs `thresher.ray`: THRESHER_PYTHON, else this process's program when
    /// it is a Python (the package's `thresher` command), else `python3` from the PATH.
    fn python() -> OsString {
        if let Some(p) = std::env::var_os("THRESHER_PYTHON") {
            return p;
        }
        std::env::current_exe()
            .ok()
            .filter(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("python"))
            })
            .map(OsString::from)
            .unwrap_or_else(|| "python3".into())
    }

    /// Runs `python -m thresher.ray run ...` and returns its exit code (3 if it cannot start).
    fn exec(&self) -> u8 {
        let python = Self::python();
        let mut cmd = std::process::Command::new(&python);
        cmd.args(["-m", "thresher.ray", "run", self.recipe, "-i"])
            .args(self.inputs)
            .arg("-o")
            .arg(self.outdir)
            .args(["--threads", &self.threads.max(1).to_string()]);
        if let Some(a) = self.address {
            cmd.args(["--address", a]);
        }
        if let Some(t) = self.tasks {
            cmd.args(["--tasks", &t.to_string()]);
        }
        for (flag, on) in [
            ("--overwrite", self.overwrite),
            ("--strict", self.strict),
            ("-q", self.quiet),
        ] {
            if on {
                cmd.arg(flag);
            }
        }
        match cmd.status() {
            Ok(s) => s.code().map_or(3, |c| c.clamp(0, 255) as u8),
            Err(e) => {
                eprintln!(
                    "thresher: --executor ray: cannot run {} -m thresher.ray ({e}); set \
                     THRESHER_PYTHON to a Python with the thresher package and ray",
                    python.to_string_lossy()
                );
                3
            }
        }
    }
}

fn print_summary(stats: &thresher::Stats, outdir: &std::path::Path, report: bool) {
    let pct = |n: u64| {
        if stats.docs_in > 0 {
            100.0 * n as f64 / stats.docs_in as f64
        } else {
            0.0
        }
    };
    eprintln!(
        "in {}  kept {} ({:.1}%)  rejected {} ({:.1}%)  errors {} ({:.1}%)  in {:.1}s ({:.1} MB/s)",
        stats.docs_in,
        stats.kept,
        pct(stats.kept),
        stats.rejected,
        pct(stats.rejected),
        stats.errors,
        pct(stats.errors),
        stats.seconds,
        stats.bytes_in as f64 / stats.seconds.max(1e-9) / 1e6
    );
    for s in &stats.steps {
        let mut reasons: Vec<_> = s.stats.reasons.iter().collect();
        reasons.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let top: Vec<String> = reasons
            .iter()
            .take(3)
            .map(|(r, n)| format!("{r} {n}"))
            .collect();
        eprintln!(
            "  {:<22} in {:>9}  kept {:>9}  rejected {:>9}  errors {:>5}  edited {:>7}  wall {:>7.2}s {:>5.1}%  thread {:>7.2}s  {}",
            s.name,
            s.stats.docs_in,
            s.stats.kept,
            s.stats.rejected,
            s.stats.errors,
            s.stats.edited,
            s.stats.wall_seconds,
            100.0 * s.stats.wall_seconds / stats.seconds.max(1e-9),
            s.stats.seconds,
            top.join(", ")
        );
    }
    if !stats.skipped.is_empty() {
        eprintln!("  skipped (not documents): {:?}", stats.skipped);
    }
    eprintln!("  output: {}", outdir.display());
    if report {
        eprintln!(
            "  report: {}",
            outdir.join(thresher::report::REPORT_HTML).display()
        );
    }
}

/// `thresher steps NAME`: the step's description, then each parameter with its type, default
/// and doc line.
fn print_step(name: &str) -> u8 {
    use thresher::registry;
    let (Some(desc), Some(params)) = (
        registry::step_description(name),
        registry::step_params(name),
    ) else {
        match registry::feature_message(name) {
            Some(m) => eprintln!("thresher: {m}"),
            None => eprintln!(
                "thresher: no step `{name}` (known: {})",
                registry::step_names().join(", ")
            ),
        }
        return 2;
    };
    println!("{name}: {desc}\n");
    println!("Parameters (all optional: name, type, default, doc):");
    for p in params {
        println!("  {:<28} {}  (default: {})", p.name, p.ty, p.default);
        println!("      {}", p.doc);
    }
    0
}

/// Prints a task's JSON report (exit 0) or its error (exit 3).
fn print_task(result: Result<String, String>) -> u8 {
    match result {
        Ok(json) => {
            println!("{json}");
            0
        }
        Err(e) => {
            eprintln!("thresher: {e}");
            3
        }
    }
}

/// A task of the distributed cluster stage on the recipe's MinHash work_dir, given the step's
/// memory budget in bytes (exit 2 when the recipe is wrong or its keeper is not one the stage
/// does).
fn cc_task(
    recipe: &str,
    sets: &[String],
    task: impl FnOnce(u64, &std::path::Path) -> Result<String, String>,
) -> u8 {
    match shard_cmds::load_recipe(recipe, sets, None)
        .and_then(|r| thresher::cluster::distributed_config(&r))
    {
        Ok((cfg, work)) => print_task(task(cfg.memory_budget_mb.saturating_mul(1 << 20), &work)),
        Err(e) => {
            eprintln!("thresher: {e}");
            2
        }
    }
}

#[cfg(test)]
mod allocator_tests {
    /// `tune_allocator` takes effect when the environment does not set the option (the
    /// option's index itself is checked against mimalloc.h by hand: the crate does not name
    /// it).
    #[test]
    fn purge_mode_is_set() {
        if std::env::var_os("MIMALLOC_PURGE_DECOMMITS").is_some() {
            return;
        }
        super::tune_allocator();
        // SAFETY: reads an option's value; no preconditions.
        let v = unsafe { libmimalloc_sys::mi_option_get(5) };
        assert_eq!(v, 0);
    }
}
