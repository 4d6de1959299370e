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
    // Lines go to the writer in batches (each call makes one Arrow chunk: one per line would
    // hold thousands of tiny chunks, and their buffers, until a row group is cut).
    let mut batch = Vec::with_capacity(BATCH_BYTES + (1 << 16));
    let mut starts: Vec<usize> = Vec::new();
    let flush = |batch: &mut Vec<u8>,
                 starts: &mut Vec<usize>,
                 writer: &mut ParquetShardedWriter,
                 f: &Path|
     -> Result<(), RunError> {
        if starts.is_empty() {
            return Ok(());
        }
        let pieces: Vec<&[u8]> = starts
            .iter()
            .zip(starts.iter().skip(1).chain(std::iter::once(&batch.len())))
            .map(|(&a, &b)| &batch[a..b])
            .collect();
        let ends: Vec<usize> = (1..=pieces.len()).collect();
        writer
            .write_pieces(&pieces, &ends)
            .map_err(|e| out_err(f, e))?;
        batch.clear();
        starts.clear();
        Ok(())
    };
    for f in files {
        let file = std::fs::File::open(f).map_err(|e| out_err(f, e))?;
        let mut r = BufReader::with_capacity(1 << 20, file);
        loop {
            let start = batch.len();
            let n = r.read_until(b'\n', &mut batch).map_err(|e| out_err(f, e))?;
            if n == 0 {
                break;
            }
            if batch[start..].iter().all(u8::is_ascii_whitespace) {
                batch.truncate(start);
                continue;
            }
            if batch.last() != Some(&b'\n') {
                batch.push(b'\n');
            }
            starts.push(start);
            if batch.len() >= BATCH_BYTES || starts.len() >= BATCH_LINES {
                flush(&mut batch, &mut starts, &mut writer, f)?;
            }
        }
        flush(&mut batch, &mut starts, &mut writer, f)?;
    }
    writer.finish().map_err(|e| out_err(outdir, e))
}

/// Lines handed to the Parquet writer at a time: at most this many...
const BATCH_LINES: usize = 4096;
/// ...or about this many bytes.
const BATCH_BYTES: usize = 8 << 20;
