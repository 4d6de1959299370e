//! `thresher to-parquet`: a run's JSONL output records of one category rewritten as that
//! category's Parquet shards, as a run with `[output] format = "parquet"` writes them. The Ray
//! executor's stages pass JSONL between them; its last task per shard turns the shard's final
//! records into the Parquet output the recipe asks for.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use thresher_io::parquet::{Category, ParquetShardedWriter};
use thresher_io::{expand_inputs_report, OutDir, OutputFormat};

use super::{meta_columns, out_err, RunError};
use crate::Recipe;

/// Writes the records of `files` (JSONL lines of the `category` output of a run of `recipe`
/// over `inputs`, in order) as Parquet shards in `outdir/<category>/`, with the recipe's
/// `[output]` options and the typed metadata columns that `inputs` give (as the run would
/// have). Returns the shards written with their record counts.
pub fn jsonl_to_parquet(
    recipe: &Recipe,
    inputs: &[PathBuf],
    category: &str,
    files: &[PathBuf],
    outdir: &Path,
) -> Result<Vec<(PathBuf, u64)>, RunError> {
    let bad = |message: String| {
        RunError::Recipe(crate::RecipeError {
            origin: recipe.origin.clone(),
            line: None,
            message,
        })
    };
    if recipe.output.format != OutputFormat::Parquet {
        return Err(bad(
            "to-parquet: the recipe's [output] format is not parquet".into(),
        ));
    }
    let Some(cat) = Category::from_name(category) else {
        return Err(bad(format!(
            "to-parquet: unknown category {category:?} (kept, rejected or errors)"
        )));
    };
    let schema_files = if inputs.is_empty() {
        Vec::new()
    } else {
        expand_inputs_report(inputs)?.files
    };
    let mut output = recipe.output.clone();
    output.meta_columns = meta_columns(recipe, &schema_files);
    let out = OutDir::open(outdir)?;
    let compression = output.compression_of(cat.name());
    let mut writer = ParquetShardedWriter::new(&out, cat, output, compression, false)?;
    let mut line = Vec::new();
    for f in files {
        let file = std::fs::File::open(f).map_err(|e| out_err(f, e))?;
        let mut r = BufReader::with_capacity(1 << 20, file);
        loop {
            line.clear();
            let n = r.read_until(b'\n', &mut line).map_err(|e| out_err(f, e))?;
            if n == 0 {
                break;
            }
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            if line.last() != Some(&b'\n') {
                line.push(b'\n');
            }
            writer.write_line(&line).map_err(|e| out_err(f, e))?;
        }
    }
    writer.finish().map_err(|e| out_err(outdir, e))
}
