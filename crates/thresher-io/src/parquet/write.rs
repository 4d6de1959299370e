//! Sharded, crash-safe Parquet output, with the same promises as the JSONL shards of
//! [`crate::ShardedWriter`]: an intent marker before a shard is begun, a temporary name
//! (`.NNNNN.parquet.tmp`) until it is complete, a rename, then a completion marker; with
//! `--resume`, a completed shard is not written again but regenerated in memory and checked
//! against its marker (documents, bytes, and the XXH3-128 of the file's bytes).
//!
//! The writer takes rows of the category's fixed schema ([`super::schema`]) with the size of
//! each row's JSONL line: built from the documents on the threads that serialize a batch
//! ([`RowChunk`]), or from the JSON lines the JSONL writer takes (one per record, in order).
//! Everything that decides the file's bytes depends only on the sequence of rows and line
//! sizes, not on how they come in chunks: a row group is cut after [`ROW_GROUP_ROWS`] rows or
//! once its lines hold [`ROW_GROUP_BYTES`] bytes, and handed to the Arrow writer whole (one
//! record batch); shards are cut by `shard_max_docs` / `shard_max_bytes` counted on the lines,
//! as for JSONL; `created_by` is a constant. So a resumed run writes byte-identical shards.

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::sync::Arc;

use arrow_array::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, GzipLevel, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;
use serde::{Deserialize, Serialize};
use twox_hash::XxHash3_128;

use super::schema::{Category, RowChunk, Rows};
use crate::outdir::{Folder, OutDir, OutDirError, MARKERS};
use crate::writer::{OutputCompression, WriteOptions};

/// A row group is cut after this many rows...
pub const ROW_GROUP_ROWS: usize = 10_000;
/// ...or once its records' JSON lines add up to this many bytes, whichever comes first.
pub const ROW_GROUP_BYTES: u64 = 64 << 20;

/// Rows the Arrow writer encodes at a time: it checks a page against the page size limit (1
/// MiB, Arrow's default) after each such run of rows, so this keeps the pages of long texts
/// near that size. With Arrow's default of 1,024 rows, a page of web text was 1,024 texts (15
/// MB on the bench of docs/parquet.md), encoded and compressed in buffers of that size that
/// came fresh from the kernel each time; with 64, the 1.1 GB copy bench takes 12% less CPU
/// time (3.30 -> 2.92 s) and 28% less memory (440 -> 320 MB), for shards 0.9% larger.
const WRITE_BATCH_ROWS: usize = 64;

/// The `created_by` of every file: a constant, so that the bytes do not depend on the build.
const CREATED_BY: &str = "thresher";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Marker {
    docs: u64,
    bytes: u64,
    xxh3: String,
}

/// A sink that hashes and counts what goes through it.
struct Hashing<W> {
    inner: W,
    hash: XxHash3_128,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.write(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

enum Target {
    File(BufWriter<std::fs::File>),
    /// Replaying a shard a previous run completed: the bytes are only hashed.
    Replay(std::io::Sink),
}

impl Write for Target {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Target::File(f) => f.write(buf),
            Target::Replay(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Target::File(f) => f.flush(),
            Target::Replay(_) => Ok(()),
        }
    }
}

struct Shard {
    index: u32,
    writer: ArrowWriter<Hashing<Target>>,
    /// The marker of the completed shard being replayed.
    replay: Option<Marker>,
    docs: u64,
    bytes: u64,
}

/// Writes one output category as numbered Parquet shards (see the module docs).
pub struct ParquetShardedWriter {
    dir: Folder,
    markers: Folder,
    category: Category,
    /// The shards' schema: the category's, with the run's typed metadata columns.
    schema: arrow_schema::SchemaRef,
    /// The schema of the rows the writer takes ([`Category::rows_schema_with`]): the shards'
    /// with the text as a string view column, which the Arrow writer writes as the same
    /// Parquet column.
    rows_schema: arrow_schema::SchemaRef,
    opts: WriteOptions,
    compression: OutputCompression,
    resume: bool,
    shard: Option<Shard>,
    /// Rows made from JSON lines ([`ParquetShardedWriter::write_pieces`]).
    lines: Rows,
    /// The rows of the next row group, in order (slices of the chunks they came in).
    pending: Vec<RecordBatch>,
    /// How many rows `pending` holds.
    pending_rows: usize,
    /// Bytes of the lines of the rows not yet written.
    rows_bytes: u64,
    next_index: u32,
    line: Vec<u8>,
    completed: Vec<(PathBuf, u64)>,
}

fn other(e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(e.to_string())
}

impl ParquetShardedWriter {
    /// A writer of `outdir/<category>/NNNNN.parquet` shards, compressed with `compression`.
    pub fn new(
        outdir: &OutDir,
        category: Category,
        opts: WriteOptions,
        compression: OutputCompression,
        resume: bool,
    ) -> Result<Self, OutDirError> {
        Ok(ParquetShardedWriter {
            dir: outdir.folder(category.name())?,
            markers: outdir.folder(MARKERS)?,
            category,
            schema: category.schema_with(&opts.meta_columns),
            rows_schema: category.rows_schema_with(&opts.meta_columns),
            lines: Rows::with_meta(category, opts.meta_columns.clone()),
            compression,
            opts,
            resume,
            shard: None,
            pending: Vec::new(),
            pending_rows: 0,
            rows_bytes: 0,
            next_index: 0,
            line: Vec::new(),
            completed: Vec::new(),
        })
    }

    fn names(&self, index: u32) -> (String, String, String) {
        (
            format!(".{index:05}.parquet.tmp"),
            format!("{index:05}.parquet"),
            format!("{}-{index:05}", self.category.name()),
        )
    }

    fn props(&self) -> WriterProperties {
        let level = self.opts.level;
        let compression = match self.compression {
            OutputCompression::None => Compression::UNCOMPRESSED,
            OutputCompression::Gzip => Compression::GZIP(
                GzipLevel::try_new(level.map_or(6, |l| l.clamp(0, 9) as u32)).unwrap_or_default(),
            ),
            // Level 1 unless `level` says otherwise: the level Arrow (C++ and Rust) and so
            // pyarrow use for zstd. 1.1 GB `fineweb` Parquet -> Parquet: 15% less CPU time than
            // level 3 for 23% larger kept shards (docs/parquet.md).
            OutputCompression::Zstd => {
                Compression::ZSTD(ZstdLevel::try_new(level.unwrap_or(1)).unwrap_or_default())
            }
        };
        let mut b = WriterProperties::builder()
            .set_created_by(CREATED_BY.into())
            .set_compression(compression)
            .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
            .set_max_row_group_bytes(None)
            .set_write_batch_size(WRITE_BATCH_ROWS)
            // Texts and JSON rarely repeat: a dictionary would be tried and dropped on every
            // row group. The short, repetitive columns get one.
            .set_dictionary_enabled(false);
        for col in self.category.dictionary_columns() {
            b = b.set_column_dictionary_enabled(ColumnPath::from(*col), true);
        }
        // Min/max of whole texts and JSON objects help no reader, and cost a comparison of
        // every value.
        for col in ["text", "metadata", "annotations"] {
            b = b.set_column_statistics_enabled(ColumnPath::from(col), EnabledStatistics::None);
        }
        b.build()
    }

    fn open(&mut self) -> std::io::Result<Shard> {
        let index = self.next_index;
        self.next_index += 1;
        let (tmp, fin, marker) = self.names(index);
        let mut replay = None;
        if self.resume && self.dir.exists(&fin) {
            if let Ok(Some(m)) = self.markers.read_to_string(&format!("{marker}.done")) {
                replay = serde_json::from_str::<Marker>(&m).ok();
            }
        }
        let target = match replay {
            Some(_) => Target::Replay(std::io::sink()),
            None => {
                self.markers
                    .create_fresh(&format!("{marker}.open"))?
                    .write_all(fin.as_bytes())?;
                Target::File(BufWriter::with_capacity(
                    1 << 20,
                    self.dir.create_fresh(&tmp)?,
                ))
            }
        };
        let sink = Hashing {
            inner: target,
            hash: XxHash3_128::new(),
        };
        let writer =
            ArrowWriter::try_new(sink, self.schema.clone(), Some(self.props())).map_err(other)?;
        Ok(Shard {
            index,
            writer,
            replay,
            docs: 0,
            bytes: 0,
        })
    }

    /// The file an error happened on, in its message.
    fn name_file(&self, e: std::io::Error) -> std::io::Error {
        let path = match self.next_index.checked_sub(1) {
            Some(i) => self.dir.join(&self.names(i).0),
            None => self.dir.path().to_path_buf(),
        };
        std::io::Error::new(e.kind(), format!("{}: {e}", path.display()))
    }

    /// Writes consecutive records given as JSON lines in pieces, as
    /// [`crate::ShardedWriter::write_pieces`] takes them.
    pub fn write_pieces(&mut self, pieces: &[&[u8]], ends: &[usize]) -> std::io::Result<()> {
        let mut start = 0;
        let mut line = std::mem::take(&mut self.line);
        for &end in ends {
            line.clear();
            for p in &pieces[start..end] {
                line.extend_from_slice(p);
            }
            start = end;
            if let Err(e) = self.lines.push(&line) {
                self.lines.finish();
                let e = other(format!(
                    "output line does not fit the {} schema: {e}",
                    self.category.name()
                ));
                return Err(self.name_file(e));
            }
        }
        self.line = line;
        if self.lines.is_empty() {
            return Ok(());
        }
        let chunk = self.lines.finish_chunk().map_err(other)?;
        self.write_rows(&chunk)
    }

    /// Writes one record, given as its JSON line.
    pub fn write_line(&mut self, line: &[u8]) -> std::io::Result<()> {
        self.write_pieces(&[line], &[1])
    }

    /// Writes consecutive rows (in order, after those written before).
    pub fn write_rows(&mut self, chunk: &RowChunk) -> std::io::Result<()> {
        self.write_chunk(chunk).map_err(|e| self.name_file(e))
    }

    fn write_chunk(&mut self, chunk: &RowChunk) -> std::io::Result<()> {
        let mut start = 0; // the first row not in `pending` yet
        for (i, &n) in chunk.lens.iter().enumerate() {
            if self.shard.is_none() {
                self.shard = Some(self.open()?);
            }
            let shard = self.shard.as_mut().expect("opened above");
            shard.docs += 1;
            shard.bytes += n;
            self.rows_bytes += n;
            self.pending_rows += 1;
            let shard_full =
                shard.docs >= self.opts.shard_max_docs || shard.bytes >= self.opts.shard_max_bytes;
            let group_full =
                self.pending_rows >= ROW_GROUP_ROWS || self.rows_bytes >= ROW_GROUP_BYTES;
            if shard_full || group_full {
                self.pending.push(chunk.batch.slice(start, i + 1 - start));
                start = i + 1;
                if shard_full {
                    self.close_shard()?;
                } else {
                    self.flush_rows()?;
                }
            }
        }
        if start < chunk.lens.len() {
            self.pending
                .push(chunk.batch.slice(start, chunk.lens.len() - start));
        }
        Ok(())
    }

    /// Writes the pending rows as one row group.
    fn flush_rows(&mut self) -> std::io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let Some(shard) = self.shard.as_mut() else {
            return Ok(());
        };
        // One record batch per row group, whatever chunks its rows came in: the Arrow writer
        // cuts pages by the batches it is given, and the bytes must not depend on the chunks.
        // (The texts are not copied: the views are, and the blocks they point into shared.)
        let batch = match self.pending.as_slice() {
            [one] => one.clone(),
            many => arrow_select::concat::concat_batches(&self.rows_schema, many).map_err(other)?,
        };
        self.pending.clear();
        shard.writer.write(&batch).map_err(other)?;
        shard.writer.flush().map_err(other)?;
        self.pending_rows = 0;
        self.rows_bytes = 0;
        Ok(())
    }

    fn close_shard(&mut self) -> std::io::Result<()> {
        self.flush_rows()?;
        let Some(shard) = self.shard.take() else {
            return Ok(());
        };
        let (tmp, fin, marker_name) = self.names(shard.index);
        let sink = shard.writer.into_inner().map_err(other)?;
        let marker = Marker {
            docs: shard.docs,
            bytes: shard.bytes,
            xxh3: format!("{:032x}", sink.hash.finish_128()),
        };
        let file = match sink.inner {
            Target::Replay(_) => {
                let before = shard.replay.unwrap_or_else(|| marker.clone());
                if before != marker {
                    return Err(other(format!(
                        "--resume: shard {} differs from the interrupted run's ({} docs, {} \
                         bytes, hash {} now; {} docs, {} bytes, hash {} before): the input or \
                         the recipe changed, or the shard was damaged; start again without \
                         --resume",
                        self.dir.join(&fin).display(),
                        marker.docs,
                        marker.bytes,
                        marker.xxh3,
                        before.docs,
                        before.bytes,
                        before.xxh3,
                    )));
                }
                self.completed.push((self.dir.join(&fin), shard.docs));
                return Ok(());
            }
            Target::File(w) => w.into_inner().map_err(|e| e.into_error())?,
        };
        if self.opts.fsync {
            file.sync_all()?;
        }
        drop(file);
        self.dir.rename(&tmp, &fin)?;
        let m = serde_json::to_string(&marker).map_err(other)?;
        self.markers
            .write_atomic(&format!("{marker_name}.done"), m.as_bytes(), false)?;
        self.markers.remove_file(&format!("{marker_name}.open"))?;
        self.completed.push((self.dir.join(&fin), shard.docs));
        Ok(())
    }

    /// Closes the last shard. Returns the completed shards with their row counts.
    pub fn finish(mut self) -> std::io::Result<Vec<(PathBuf, u64)>> {
        self.close_shard().map_err(|e| self.name_file(e))?;
        Ok(std::mem::take(&mut self.completed))
    }
}

/// The schema of a category's shards (for readers that want to check).
pub fn schema_of(category: Category) -> Arc<arrow_schema::Schema> {
    category.schema()
}
