//! Where a batch's lines go: [`OutChunk`] holds the serialized lines of a run of consecutive
//! documents, one buffer per category ([`Cat`]); [`Outputs`] writes them, chunk after chunk in
//! input order, to the shards of `kept`, `rejected` and `errors` and to the spill file of a
//! two-pass step. The buffers may point into the batch's input buffer, which goes back to the
//! reader once the lines are written.

use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crossbeam_channel::Sender;
use thresher_core::InputBuf;
use thresher_io::parquet::{Category, ParquetShardedWriter, Rows};
use thresher_io::{Folder, OutDir, OutDirError, OutputFormat, ShardedWriter, WriteOptions};

use thresher_io::jsonl::write::OutBuf;

/// `e` with the file it happened on in its message.
fn name_file(path: &Path, e: std::io::Error) -> std::io::Error {
    std::io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

/// Output category of a line.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Cat {
    Kept = 0,
    Rejected = 1,
    Errors = 2,
    Spill = 3,
}

/// The output lines of a run of consecutive documents, by category (each category is its own
/// file, so only the order within a category matters).
pub(super) struct OutChunk {
    pub(super) cats: [OutBuf; 4],
    /// With Parquet output, the rows of the kept and rejected documents, built where the lines
    /// would be (their lines are then not in `cats`).
    pub(super) rows: Option<Box<[Rows; 2]>>,
}

impl OutChunk {
    /// Hands the batch buffer the chunk points into back to the reader if no one else holds it.
    pub(super) fn recycle(mut self, recycle: &Sender<InputBuf>) {
        for c in &mut self.cats {
            if let Some(buf) = c.take_shared().and_then(Arc::into_inner) {
                // Full (the reader has enough spares) or closed: the buffer is simply freed.
                let _ = recycle.try_send(buf);
            }
        }
    }
}

/// The shards of one category, in the recipe's output format.
enum CatWriter {
    Jsonl(Box<ShardedWriter>),
    Parquet(Box<ParquetShardedWriter>),
}

impl CatWriter {
    fn new(
        outdir: &OutDir,
        category: Category,
        opts: &WriteOptions,
        resume: bool,
    ) -> Result<Self, OutDirError> {
        let compression = opts.compression_of(category.name());
        Ok(match opts.format {
            OutputFormat::Jsonl => CatWriter::Jsonl(Box::new(ShardedWriter::new(
                outdir,
                category.name(),
                opts.clone(),
                resume,
            )?)),
            OutputFormat::Parquet => CatWriter::Parquet(Box::new(ParquetShardedWriter::new(
                outdir,
                category,
                opts.clone(),
                compression,
                resume,
            )?)),
        })
    }

    fn write_pieces(&mut self, pieces: &[&[u8]], ends: &[usize]) -> std::io::Result<()> {
        match self {
            CatWriter::Jsonl(w) => w.write_pieces(pieces, ends),
            CatWriter::Parquet(w) => w.write_pieces(pieces, ends),
        }
    }

    fn write_rows(&mut self, rows: &mut Rows) -> std::io::Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        match self {
            CatWriter::Jsonl(_) => Err(std::io::Error::other("Parquet rows for a JSONL output")),
            CatWriter::Parquet(w) => {
                let chunk = rows.finish_chunk().map_err(std::io::Error::other)?;
                w.write_rows(&chunk)
            }
        }
    }

    fn finish(self) -> std::io::Result<()> {
        match self {
            CatWriter::Jsonl(w) => (*w).finish().map(drop),
            CatWriter::Parquet(w) => (*w).finish().map(drop),
        }
    }
}

/// The run's output files: the shards of each category and the spill file of a two-pass step.
/// Written by the pool thread that finishes each batch, in input order.
pub(super) struct Outputs {
    /// The output directory's path (for messages).
    pub(super) outdir: PathBuf,
    kept: CatWriter,
    rejected: CatWriter,
    errors: CatWriter,
    /// The spill file of a two-pass step, and its path (for messages).
    spill: Option<(BufWriter<fs::File>, PathBuf)>,
}

impl Outputs {
    /// Opens the shard writers of the three categories (`resume`: see [`ShardedWriter::new`]).
    pub(super) fn new(
        outdir: &OutDir,
        opts: WriteOptions,
        resume: bool,
    ) -> Result<Self, OutDirError> {
        Ok(Outputs {
            outdir: outdir.path().to_path_buf(),
            kept: CatWriter::new(outdir, Category::Kept, &opts, resume)?,
            rejected: CatWriter::new(outdir, Category::Rejected, &opts, resume)?,
            errors: CatWriter::new(outdir, Category::Errors, &opts, resume)?,
            spill: None,
        })
    }

    /// Writes a batch's lines, each category to its own files.
    pub(super) fn write(&mut self, chunks: &mut [OutChunk]) -> std::io::Result<()> {
        for chunk in chunks {
            if let Some(rows) = chunk.rows.as_deref_mut() {
                let [kept, rejected] = rows;
                self.kept.write_rows(kept)?;
                self.rejected.write_rows(rejected)?;
            }
            let [kept_buf, rejected_buf, errors_buf, spill_buf] = &chunk.cats;
            let (pieces, ends) = kept_buf.pieces();
            self.kept.write_pieces(&pieces, ends)?;
            let (pieces, ends) = rejected_buf.pieces();
            self.rejected.write_pieces(&pieces, ends)?;
            let (pieces, ends) = errors_buf.pieces();
            self.errors.write_pieces(&pieces, ends)?;
            if !spill_buf.is_empty() {
                let (w, path) = self
                    .spill
                    .as_mut()
                    .ok_or_else(|| std::io::Error::other("spill line without spill"))?;
                for p in spill_buf.pieces().0 {
                    w.write_all(p).map_err(|e| name_file(path, e))?;
                }
            }
        }
        Ok(())
    }

    /// Creates the spill file `name` in `work` for the phase that feeds a two-pass step.
    pub(super) fn open_spill(&mut self, work: &Folder, name: &str) -> std::io::Result<()> {
        let file = BufWriter::with_capacity(1 << 20, work.create_fresh(name)?);
        self.spill = Some((file, work.join(name)));
        Ok(())
    }

    /// Flushes and closes the spill file, if one is open.
    pub(super) fn close_spill(&mut self) -> std::io::Result<()> {
        if let Some((mut w, path)) = self.spill.take() {
            w.flush().map_err(|e| name_file(&path, e))?;
        }
        Ok(())
    }

    /// Closes the last shards.
    pub(super) fn finish(self) -> std::io::Result<()> {
        self.kept.finish()?;
        self.rejected.finish()?;
        self.errors.finish()?;
        Ok(())
    }
}
