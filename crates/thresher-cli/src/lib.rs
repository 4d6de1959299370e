//! The `thresher` command: parses arguments, loads the recipe, runs it, prints the summary.
//! All logic lives in the `thresher` library crate. The command is this library's [`main`],
//! so that the Python package's `thresher` command is the same program.

use std::ffi::OsString;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

mod shard_cmds;

use clap::{Parser, Subcommand};
use thresher::{Progress, RunOptions};

/// thresher: turn raw crawled web text into clean, deduplicated text for training language
/// models. Every input record ends up kept, rejected with a reason, or reported as an error.
#[derive(Parser)]
#[command(version, about, long_about = None, after_help = EXAMPLES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

const EXAMPLES: &str = "\
Examples:
  thresher run default -i pages.jsonl.gz -o out/      # bundled recipe, one input file
  thresher run my-recipe.toml -i 'shards/*.jsonl.zst' -o out/ --threads 8
  thresher recipes                                    # list bundled recipes
  thresher steps                                      # list step types
  thresher steps minhash_dedup                        # a step's parameters and defaults
  thresher stats out/ -d 'gopher_quality.mean_word_length<3'  # annotated values

Output: out/kept/, out/rejected/ (with reason and value), out/errors/ (with file and position),
and out/stats.json (in = kept + rejected + errors, per file and per step).

Exit codes: 0 the run completed (check errors in stats.json); 1 --strict and some records were
errors; 2 bad command line, recipe or input path; 3 output or runtime failure.";

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
        /// No progress bar and no summary.
        #[arg(short, long)]
        quiet: bool,
        /// Read only shard I of N (zero-based) of the inputs, a contiguous block of the input
        /// files; default: from SLURM_ARRAY_TASK_ID minus SLURM_ARRAY_TASK_MIN (0 if unset) and
        /// SLURM_ARRAY_TASK_COUNT when those are set. Also sets minhash_dedup's shard_index.
        #[arg(long, value_name = "I/N")]
        shard: Option<thresher::Shard>,
        /// Change a step parameter: STEP.KEY=VALUE (the only step of type STEP) or
        /// steps.N.KEY=VALUE (the N-th step, from 1); VALUE is TOML, else a string. Repeatable.
        #[arg(long = "set", value_name = "STEP.KEY=VALUE")]
        sets: Vec<String>,
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
    /// Merge the stats.json of a run's shards into one: counts summed overall, per step and per
    /// file, checked (in = kept + rejected + errors; each file in one shard only).
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
    match cli.command {
        Command::Recipes { name: Some(name) } => {
            match thresher::recipe::bundled().iter().find(|(n, _)| *n == name) {
                Some((_, text)) => {
                    print!("{text}");
                    0
                }
                None => {
                    eprintln!("thresher: no bundled recipe `{name}`");
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
            quiet,
            shard,
            sets,
        } => {
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
            let show_progress = !quiet && std::io::stderr().is_terminal();
            let progress = show_progress.then(|| Arc::new(Progress::default()));
            let opts = RunOptions {
                inputs,
                outdir: outdir.clone(),
                threads,
                resume,
                overwrite,
                progress: progress.clone(),
                cancel: Some(on_stop_signals()),
                shard,
            };
            let bar = progress.map(spawn_progress);
            let result = thresher::run(&recipe, &opts);
            if let Some((bar, handle, stop)) = bar {
                stop.store(true, Ordering::Relaxed);
                let _ = handle.join();
                bar.finish_and_clear();
            }
            match result {
                Ok(stats) => {
                    if !quiet {
                        print_summary(&stats, &outdir);
                    }
                    if strict && stats.errors > 0 {
                        1
                    } else {
                        0
                    }
                }
                Err(e) => {
                    eprintln!("thresher: {e}");
                    e.exit_code() as u8
                }
            }
        }
    }
}

type ProgressHandle = (
    indicatif::ProgressBar,
    std::thread::JoinHandle<()>,
    Arc<std::sync::atomic::AtomicBool>,
);

fn spawn_progress(p: Arc<Progress>) -> ProgressHandle {
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (b, s) = (bar.clone(), stop.clone());
    let handle = std::thread::spawn(move || {
        let t0 = std::time::Instant::now();
        while !s.load(Ordering::Relaxed) {
            let secs = t0.elapsed().as_secs_f64().max(1e-3);
            let docs = p.docs.load(Ordering::Relaxed);
            let bytes = p.bytes.load(Ordering::Relaxed);
            let kept = p.kept.load(Ordering::Relaxed);
            let phase = p.phase.load(Ordering::Relaxed);
            let (k, n) = (phase >> 32, phase & 0xffff_ffff);
            let pass = if n > 1 {
                format!(
                    "pass {}/{n}: {} docs | ",
                    k + 1,
                    p.phase_docs.load(Ordering::Relaxed)
                )
            } else {
                String::new()
            };
            b.set_message(format!(
                "{pass}{docs} docs read ({:.0} docs/s, {:.1} MB/s) | kept {kept} ({:.1}%)",
                docs as f64 / secs,
                bytes as f64 / secs / 1e6,
                if docs > 0 {
                    100.0 * kept as f64 / docs as f64
                } else {
                    0.0
                }
            ));
            b.tick();
            std::thread::sleep(Duration::from_millis(200));
        }
    });
    (bar, handle, stop)
}

fn print_summary(stats: &thresher::Stats, outdir: &std::path::Path) {
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
            "  {:<22} in {:>9}  kept {:>9}  rejected {:>9}  errors {:>5}  edited {:>7}  {:>7.2}s  {}",
            s.name,
            s.stats.docs_in,
            s.stats.kept,
            s.stats.rejected,
            s.stats.errors,
            s.stats.edited,
            s.stats.seconds,
            top.join(", ")
        );
    }
    if !stats.skipped.is_empty() {
        eprintln!("  skipped (not documents): {:?}", stats.skipped);
    }
    eprintln!("  output: {}", outdir.display());
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
