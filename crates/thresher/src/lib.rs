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

pub mod cluster;
mod output;
pub mod recipe;
pub mod registry;
mod run;

pub use cluster::minhash_cluster;
pub use recipe::{Recipe, RecipeError};
pub use run::{run, Progress, RunError, RunOptions};
pub use thresher_core::Stats;
