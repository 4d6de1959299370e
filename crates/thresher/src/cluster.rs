//! The middle stage of a sharded near-dedup run: cluster the band files that the `signatures`
//! stage of each shard wrote, so that each shard's `filter` stage can apply the decisions.

use thresher_dedup::{ClusterReport, MinhashDedupConfig};

/// The distributed cluster stage's tasks (see [`distributed_config`]).
pub use thresher_dedup::cc;

use crate::recipe::{Recipe, RecipeError};

/// Runs the cluster stage for the (first) `minhash_dedup` step of `recipe`, over its
/// `work_dir`. The recipe is the one the shards ran (the stage and shard index in it are
/// ignored); it must set `work_dir`.
pub fn minhash_cluster(recipe: &Recipe) -> Result<ClusterReport, RecipeError> {
    minhash_cluster_shards(recipe, None)
}

fn recipe_err(recipe: &Recipe, message: String) -> RecipeError {
    RecipeError {
        origin: recipe.origin.clone(),
        line: None,
        message,
    }
}

/// The `minhash_dedup` step's configuration in `recipe`, and its `work_dir` (which a sharded
/// run needs).
fn sharded_config(
    recipe: &Recipe,
) -> Result<(MinhashDedupConfig, std::path::PathBuf), RecipeError> {
    let err = |message: String| recipe_err(recipe, message);
    let spec = recipe
        .steps
        .iter()
        .find(|s| s.type_name == "minhash_dedup")
        .ok_or_else(|| err("the recipe has no minhash_dedup step".into()))?;
    let cfg: MinhashDedupConfig = toml::Value::Table(spec.params.clone())
        .try_into()
        .map_err(|e: toml::de::Error| err(format!("minhash_dedup: {}", e.message())))?;
    let work_dir = cfg
        .work_dir
        .clone()
        .ok_or_else(|| err("minhash_dedup: a sharded run needs `work_dir`".into()))?;
    Ok((cfg, work_dir))
}

/// [`minhash_cluster`], first checking that `work_dir` holds exactly shards `0..n` when `n` is
/// given: a shard missing (its task failed) or left over from an earlier job with more shards
/// would otherwise be clustered silently.
pub fn minhash_cluster_shards(
    recipe: &Recipe,
    expect: Option<u32>,
) -> Result<ClusterReport, RecipeError> {
    let err = |message: String| recipe_err(recipe, message);
    let (cfg, work_dir) = sharded_config(recipe)?;
    if let Some(n) = expect {
        let found = thresher_dedup::lsh::shard_dirs(&work_dir)
            .map_err(|e| err(format!("{}: {e}", work_dir.display())))?;
        let want: Vec<_> = (0..n)
            .map(|i| thresher_dedup::lsh::shard_dir(&work_dir, i))
            .collect();
        if found != want {
            let names = |v: &[std::path::PathBuf]| {
                v.iter()
                    .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            return Err(err(format!(
                "{} holds shards [{}], expected the {n} shards [{}] (a failed task, or shards \
                 left from another job: use a fresh work_dir per job)",
                work_dir.display(),
                names(&found),
                names(&want)
            )));
        }
    }
    thresher_dedup::cluster_work_dir(&work_dir, &cfg.cluster_options())
        .map_err(|e| err(format!("clustering {}: {e}", work_dir.display())))
}

/// The `minhash_dedup` configuration of `recipe` for the distributed cluster stage
/// ([`thresher_dedup::cc`]): its `work_dir`, refusing what that stage does not do
/// (`keeper` other than `lowest_seq`, `verify_jaccard`: use [`minhash_cluster`]).
pub fn distributed_config(
    recipe: &Recipe,
) -> Result<(MinhashDedupConfig, std::path::PathBuf), RecipeError> {
    let err = |message: String| recipe_err(recipe, message);
    let (cfg, work_dir) = sharded_config(recipe)?;
    if cfg.keeper != thresher_dedup::Keeper::LowestSeq || cfg.verify_jaccard.is_some() {
        return Err(err(
            "minhash_dedup: the distributed cluster stage does keeper = \"lowest_seq\" without \
             verify_jaccard only; run `thresher minhash-cluster` (one process) instead"
                .into(),
        ));
    }
    Ok((cfg, work_dir))
}
