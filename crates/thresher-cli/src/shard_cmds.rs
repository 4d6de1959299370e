//! The commands and options of sharded runs: `--set` and `--shard` applied to a loaded recipe,
//! and `thresher merge-stats`.

use std::path::{Path, PathBuf};

use thresher::{Recipe, RecipeError, Shard};

/// Loads a recipe, applies the `--set` overrides, then gives the shard to the steps that need
/// it (see [`Recipe::bind_shard`]).
pub fn load_recipe(
    spec: &str,
    sets: &[String],
    shard: Option<Shard>,
) -> Result<Recipe, RecipeError> {
    let mut recipe = Recipe::load(spec)?;
    recipe.apply_sets(sets)?;
    if let Some(shard) = shard {
        recipe.bind_shard(shard, sets)?;
    }
    Ok(recipe)
}

/// `thresher merge-stats`: exit 0 with the merged stats, 2 when an input is unreadable or the
/// stats do not merge, 3 when the output cannot be written.
pub fn merge_stats(inputs: &[PathBuf], output: Option<&Path>) -> u8 {
    let mut shards = Vec::with_capacity(inputs.len());
    for p in inputs {
        let path = if p.is_dir() {
            p.join("stats.json")
        } else {
            p.clone()
        };
        let parsed = std::fs::read_to_string(&path)
            .map_err(|e| e.to_string())
            .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()));
        match parsed {
            Ok(v) => shards.push((path.display().to_string(), v)),
            Err(e) => {
                eprintln!("thresher: {}: {e}", path.display());
                return 2;
            }
        }
    }
    let merged = match thresher::merge_stats::merge(&shards) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("thresher: merge-stats: {e}");
            return 2;
        }
    };
    let text = serde_json::to_string_pretty(&merged).unwrap_or_default() + "\n";
    match output {
        None => {
            print!("{text}");
            0
        }
        Some(o) => match std::fs::write(o, text) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("thresher: {}: {e}", o.display());
                3
            }
        },
    }
}
