//! thresher's facade: TOML [`recipe`]s, the step [`registry`], and the executor ([`run()`]) that
//! streams documents through the steps on all cores and accounts for every record.
//!
//! ```no_run
//! use thresher::{run, Recipe, RunOptions};
//! let recipe = Recipe::load("default").unwrap();
//! let opts = RunOptions {
//!     inputs: vec!["data/".into()],
//!     outdir: "out".into(),
//!     ..Default::default()
//! };
//! let stats = run(&recipe, &opts).unwrap();
//! assert_eq!(stats.docs_in, stats.kept + stats.rejected + stats.errors);
//! ```
#![warn(missing_docs)]

pub mod annotations;
pub mod cluster;
pub mod merge_stats;
pub mod pipeline;
pub mod recipe;
pub mod registry;
pub mod report;
mod run;
pub mod set;
pub mod shard;

pub use cluster::minhash_cluster;
pub use recipe::{Recipe, RecipeError};
pub use run::{jsonl_to_parquet, run, Progress, RunError, RunOptions};
pub use shard::Shard;
pub use thresher_core::Stats;
pub use thresher_repair::sum_sketch_files;

/// The most worker threads a run accepts (`--threads`, [`RunOptions::threads`]). The output does
/// not depend on the thread count, and more threads than cores only help while some wait on the
/// disk, so a value this large is a typo (100,000 threads would take minutes to start and
/// gigabytes of stacks). A fixed bound, rather than one from the number of cores, lets the same
/// command run on every machine; it is above the core count of today's largest servers.
pub const MAX_THREADS: usize = 1024;
