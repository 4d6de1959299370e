//! The middle stage of a sharded near-dedup run: cluster the band files that the `signatures`
//! stage of each shard wrote, so that each shard's `filter` stage can apply the decisions.

use thresher_dedup::{ClusterReport, MinhashDedupConfig};

use crate::recipe::{Recipe, RecipeError};

/// Runs the cluster stage for the (first) `minhash_dedup` step of `recipe`, over its
/// `work_dir`. The recipe is the one the shards ran (the stage and shard index in it are
/// ignored); it must set `work_dir`.
pub fn minhash_cluster(recipe: &Recipe) -> Result<ClusterReport, RecipeError> {
    let err = |message: String| RecipeError {
        origin: recipe.origin.clone(),
        line: None,
        message,
    };
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
    thresher_dedup::cluster_work_dir(&work_dir, &cfg.cluster_options())
        .map_err(|e| err(format!("clustering {}: {e}", work_dir.display())))
}
