//! Reading documents from Parquet files, row group by row group.
//!
//! Memory stays bounded: one row group is open at a time and it is decoded [`BATCH_ROWS`] rows
//! at a time. Columns map as the JSONL reader maps fields (see [`ReadOptions`]): the id column
//! (a string, or a number turned into a string; null or absent: `<file>:<row>`), the text column
//! (a string; null is an error record), the metadata column (a struct or map, or a string that
//! holds a JSON object, whose entries become the document's metadata), and every other column
//! into the metadata under its own name, with its type (see [`super::value`]).
//!
//! Positions: a document's `line` is its 1-based row number in the file (rows counted across row
//! groups), and its byte offset 0 (Parquet has no per-row offset). Error messages name the row
//! group. A file that cannot be opened as Parquet is one error record (row 0); a row group that
//! cannot be decoded is one error record at its first row not read, naming how many rows were
//! lost, and the reader goes on with the next row group.

use std::collections::VecDeque;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::{downcast_dictionary_array, Array, RecordBatch};
use arrow_schema::DataType;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReader,
    ParquetRecordBatchReaderBuilder,
};
use parquet::arrow::ProjectionMask;
use parquet::file::reader::{ChunkReader, Length};
use serde_json::{Map, Value};
use thresher_core::{Document, SourcePos};

use crate::options::{ReadOptions, Utf8Policy};
use crate::record::{Record, RecordError};

/// Rows decoded at a time (one Arrow record batch).
pub const BATCH_ROWS: usize = 512;

/// Any source of bytes the Parquet reader can read ranges of, shared between the row groups'
/// readers: a local file now; an object-store range reader can be one too.
pub struct Shared<R>(Arc<R>);

impl<R> Clone for Shared<R> {
    fn clone(&self) -> Self {
        Shared(self.0.clone())
    }
}

impl<R: Length> Length for Shared<R> {
    fn len(&self) -> u64 {
        self.0.len()
    }
}

impl<R: ChunkReader> ChunkReader for Shared<R> {
    type T = R::T;
    fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
        self.0.get_read(start)
    }
    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<bytes::Bytes> {
        self.0.get_bytes(start, length)
    }
}

/// Where the document's fields are among the batch's columns.
struct Columns {
    id: Option<usize>,
    text: usize,
    metadata: Option<usize>,
    /// The other columns, with their names.
    others: Vec<(usize, String)>,
}

/// The records of one Parquet file, in row order (an iterator of [`Record`]s).
pub struct ParquetReader<R: ChunkReader + 'static> {
    name: Arc<str>,
    opts: ReadOptions,
    source: Option<Shared<R>>,
    meta: Option<ArrowReaderMetadata>,
    mask: Option<ProjectionMask>,
    /// Next row group to open.
    next_group: usize,
    /// The row group being read: its index, reader, first row (0-based, in the file) and the
    /// rows read from it so far.
    group: Option<(usize, ParquetRecordBatchReader, u64, u64)>,
    /// The batch being read: its columns, next row, first row (0-based, in the file) and row
    /// group.
    batch: Option<(RecordBatch, Columns, usize, u64, usize)>,
    /// Records made ahead (a file-level error).
    pending: VecDeque<Record>,
    /// The byte range read ([`InputFile::range`](crate::InputFile::range)): only the row
    /// groups whose first byte is in it; `None` for the whole file.
    range: Option<std::ops::Range<u64>>,
    /// Rows (records) yielded so far.
    pub records: u64,
}

impl<R: ChunkReader + 'static> ParquetReader<R> {
    /// A reader of the Parquet bytes in `source`, named `name` in positions and messages.
    pub fn new(source: R, name: Arc<str>, opts: ReadOptions) -> Self {
        Self::with_range(source, name, opts, None)
    }

    /// [`ParquetReader::new`] for the row groups whose first byte is in `range` of the file
    /// (`None`: all of them), so that the ranges of a file (a shard's or a task's part, see
    /// `InputFile::range`) read every row group once. Row numbers stay the whole file's. An
    /// error about the whole file (unreadable footer, no rows) is the record of the range
    /// that holds byte 0 only, so the ranges of a broken file give one error between them.
    pub fn with_range(
        source: R,
        name: Arc<str>,
        opts: ReadOptions,
        range: Option<std::ops::Range<u64>>,
    ) -> Self {
        let mut r = ParquetReader {
            name,
            opts,
            source: None,
            meta: None,
            mask: None,
            next_group: 0,
            group: None,
            batch: None,
            pending: VecDeque::new(),
            range,
            records: 0,
        };
        let source = Shared(Arc::new(source));
        let loaded = catch(|| ArrowReaderMetadata::load(&source, ArrowReaderOptions::new()))
            .map(|meta| text_as_views(meta, &r.opts.text_field));
        match loaded {
            Ok(meta) => match r.projection(&meta) {
                Ok(mask) => {
                    r.mask = Some(mask);
                    r.meta = Some(meta);
                    r.source = Some(source);
                    if r.total_rows() == 0 {
                        r.file_error("empty file: no rows".into());
                    }
                }
                Err(m) => r.file_error(m),
            },
            Err(e) => r.file_error(format!("not a readable Parquet file: {e}")),
        }
        r
    }

    fn total_rows(&self) -> u64 {
        self.meta.as_ref().map_or(0, |m| {
            let md = m.metadata();
            (0..md.num_row_groups())
                .map(|g| md.row_group(g).num_rows().max(0) as u64)
                .sum()
        })
    }

    fn file_error(&mut self, message: String) {
        self.source = None;
        if self.range.as_ref().is_some_and(|r| r.start > 0) {
            return; // the range that holds byte 0 reports it
        }
        self.pending.push_back(Record::Error(RecordError {
            source: self.pos(0),
            message,
            id: String::new(),
        }));
    }

    fn pos(&self, line: u64) -> SourcePos {
        SourcePos {
            file: self.name.clone(),
            line,
            byte_offset: 0,
        }
    }

    /// The columns to read: all, or with `[input] columns`, only those plus id, text and
    /// metadata. An error if the text column is missing (the file then is one error record).
    fn projection(&self, meta: &ArrowReaderMetadata) -> Result<ProjectionMask, String> {
        let schema = meta.schema();
        let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        if !names.contains(&self.opts.text_field.as_str()) {
            return Err(format!(
                "no `{}` column (columns: {}); set [input] text_field",
                self.opts.text_field,
                names.join(", ")
            ));
        }
        let keep: Vec<usize> = (0..names.len())
            .filter(|&i| match &self.opts.columns {
                None => true,
                Some(cols) => {
                    let n = names[i];
                    n == self.opts.text_field
                        || n == self.opts.id_field
                        || n == self.opts.metadata_field
                        || cols.iter().any(|c| c == n)
                }
            })
            .collect();
        Ok(ProjectionMask::roots(
            meta.metadata().file_metadata().schema_descr(),
            keep,
        ))
    }

    /// Opens the next row group; false when there are none left.
    fn open_group(&mut self) -> bool {
        let (Some(source), Some(meta), Some(mask)) = (&self.source, &self.meta, &self.mask) else {
            return false;
        };
        let (source, meta, mask) = (source.clone(), meta.clone(), mask.clone());
        let md = meta.metadata().clone();
        while self.next_group < md.num_row_groups() {
            let g = self.next_group;
            self.next_group += 1;
            if let Some(range) = &self.range {
                // A row group's first byte: the lowest start of its column chunks.
                let rg = md.row_group(g);
                let start = (0..rg.num_columns())
                    .map(|c| rg.column(c).byte_range().0)
                    .min()
                    .unwrap_or(0);
                if !range.contains(&start) {
                    continue;
                }
            }
            let first: u64 = (0..g)
                .map(|i| md.row_group(i).num_rows().max(0) as u64)
                .sum();
            let built = catch(|| {
                ParquetRecordBatchReaderBuilder::new_with_metadata(source.clone(), meta.clone())
                    .with_row_groups(vec![g])
                    .with_projection(mask.clone())
                    .with_batch_size(BATCH_ROWS)
                    .build()
            });
            match built {
                Ok(reader) => {
                    self.group = Some((g, reader, first, 0));
                    return true;
                }
                Err(e) => {
                    let rows = md.row_group(g).num_rows().max(0) as u64;
                    if rows > 0 {
                        self.group_error(g, first, 0, rows, &e.to_string());
                    }
                }
            }
        }
        false
    }

    /// An error record for the rows `read..rows` of row group `g` (first row `first`).
    fn group_error(&mut self, g: usize, first: u64, read: u64, rows: u64, e: &str) {
        let lost = rows.saturating_sub(read).max(1);
        self.pending.push_back(Record::Error(RecordError {
            source: self.pos(first + read + 1),
            message: format!(
                "row group {g}: rows {}..{} cannot be read ({lost} rows lost): {e}",
                first + read + 1,
                first + rows.max(read + 1)
            ),
            id: String::new(),
        }));
    }

    /// The next record batch of the open row group, or `None` at its end (or on an error,
    /// which is queued as a record).
    fn next_batch(&mut self) -> Option<RecordBatch> {
        let (g, reader, first, read) = self.group.as_mut()?;
        let (g, first) = (*g, *first);
        let rows = self
            .meta
            .as_ref()
            .map_or(0, |m| m.metadata().row_group(g).num_rows().max(0) as u64);
        match catch(|| reader.next().transpose()) {
            Ok(Some(b)) if b.num_rows() > 0 => {
                *read += b.num_rows() as u64;
                Some(b)
            }
            Ok(_) => {
                let read = *read;
                self.group = None;
                if read < rows {
                    self.group_error(g, first, read, rows, "row group ended early");
                }
                None
            }
            Err(e) => {
                let read = *read;
                self.group = None;
                self.group_error(g, first, read, rows, &e);
                None
            }
        }
    }

    /// The record of row `row` of the current batch, whose first row is row `first` of the
    /// file (0-based), in row group `group`.
    fn record(
        &self,
        batch: &RecordBatch,
        cols: &Columns,
        row: usize,
        first: u64,
        group: usize,
    ) -> Record {
        row_record(
            batch,
            cols,
            row,
            first + row as u64 + 1,
            &self.name,
            &self.opts,
            Some(group),
        )
    }
}

impl<R: ChunkReader + 'static> Iterator for ParquetReader<R> {
    type Item = Record;

    fn next(&mut self) -> Option<Record> {
        loop {
            if let Some(r) = self.pending.pop_front() {
                self.records += 1;
                return Some(r);
            }
            if let Some((batch, cols, row, first, group)) = self.batch.take() {
                if row < batch.num_rows() {
                    let rec = self.record(&batch, &cols, row, first, group);
                    self.batch = Some((batch, cols, row + 1, first, group));
                    self.records += 1;
                    return Some(rec);
                }
            }
            if self.group.is_none() && !self.open_group() {
                if self.pending.is_empty() {
                    return None;
                }
                continue;
            }
            if let Some(b) = self.next_batch() {
                let cols = columns(&b, &self.opts);
                let (end, group) = self.group.as_ref().map_or((0, 0), |g| (g.2 + g.3, g.0));
                let first = end - b.num_rows() as u64;
                self.batch = Some((b, cols, 0, first, group));
            }
        }
    }
}

/// The records of an Arrow record batch's rows, read with the Parquet reader's column rules
/// (see the module's doc): row `i` is line `first_line + i + 1` of `name`. The Python package's
/// `Pipeline.process` reads pyarrow data with it. Without the text column every row is an error
/// record.
pub fn batch_records(
    batch: &RecordBatch,
    name: &Arc<str>,
    first_line: u64,
    opts: &ReadOptions,
) -> Vec<Record> {
    let rows = 0..batch.num_rows();
    let line = |row: usize| first_line + row as u64 + 1;
    if text_column(batch.schema_ref(), opts).is_none() {
        let names: Vec<&str> = batch
            .schema_ref()
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect();
        return rows
            .map(|row| {
                Record::Error(RecordError {
                    source: SourcePos {
                        file: name.clone(),
                        line: line(row),
                        byte_offset: 0,
                    },
                    message: format!(
                        "no `{}` column (columns: {}); set [input] text_field",
                        opts.text_field,
                        names.join(", ")
                    ),
                    id: String::new(),
                })
            })
            .collect();
    }
    let cols = columns(batch, opts);
    rows.map(|row| row_record(batch, &cols, row, line(row), name, opts, None))
        .collect()
}

/// The index of the text column (`[input] text_field`) in `schema`, if there is one.
pub fn text_column(schema: &arrow_schema::Schema, opts: &ReadOptions) -> Option<usize> {
    schema
        .fields()
        .iter()
        .position(|f| f.name() == &opts.text_field)
}

/// Finds the columns of a batch.
fn columns(batch: &RecordBatch, opts: &ReadOptions) -> Columns {
    let schema = batch.schema();
    let find = |name: &str| schema.fields().iter().position(|f| f.name() == name);
    let text = find(&opts.text_field).unwrap_or(0);
    let id = find(&opts.id_field).filter(|&i| i != text);
    let metadata = find(&opts.metadata_field).filter(|&i| i != text && Some(i) != id);
    let others = schema
        .fields()
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != text && Some(*i) != id && Some(*i) != metadata)
        .map(|(i, f)| (i, f.name().clone()))
        .collect();
    Columns {
        id,
        text,
        metadata,
        others,
    }
}

/// The record of row `row` of `batch`, line `line` of `name` (in row group `group` of a
/// Parquet file, which error messages name).
fn row_record(
    batch: &RecordBatch,
    cols: &Columns,
    row: usize,
    line: u64,
    name: &Arc<str>,
    opts: &ReadOptions,
    group: Option<usize>,
) -> Record {
    let source = SourcePos {
        file: name.clone(),
        line,
        byte_offset: 0,
    };
    let id = match cols.id.map(|i| value_of(&**batch.column(i), row)) {
        Some(Value::String(s)) => s,
        Some(Value::Null) | None => format!("{name}:{line}"),
        Some(v) => v.to_string(),
    };
    let err = |message: String, id: String| {
        Record::Error(RecordError {
            source: source.clone(),
            message: match group {
                Some(g) => format!("row group {g}, row {line}: {message}"),
                None => format!("row {line}: {message}"),
            },
            id,
        })
    };
    let text_col = &**batch.column(cols.text);
    let (text, lossy) = match text_at(text_col, row, opts.invalid_utf8) {
        Ok(Some(t)) => t,
        Ok(None) => {
            return err(format!("`{}` is null", opts.text_field), id);
        }
        Err(m) => return err(format!("`{}` {m}", opts.text_field), id),
    };
    if text.len() as u64 > opts.max_doc_bytes {
        return err(
            format!(
                "record of {} bytes is over max_doc_bytes ({})",
                text.len(),
                opts.max_doc_bytes
            ),
            id,
        );
    }
    let mut metadata = Map::new();
    if let Some(m) = cols.metadata {
        match value_of(&**batch.column(m), row) {
            Value::Object(o) => metadata = o,
            Value::String(s) => match serde_json::from_str::<Value>(&s) {
                Ok(Value::Object(o)) => metadata = o,
                _ => {
                    metadata.insert(opts.metadata_field.clone(), Value::String(s));
                }
            },
            Value::Null => {}
            other => {
                metadata.insert(opts.metadata_field.clone(), other);
            }
        }
    }
    for (i, name) in &cols.others {
        // The metadata column's own entries win, as in the JSONL reader.
        if !metadata.contains_key(name) {
            metadata.insert(name.clone(), value_of(&**batch.column(*i), row));
        }
    }
    let mut doc = Document::new(id, text);
    doc.source = source;
    doc.metadata = metadata;
    if lossy {
        doc.annotate("reader", "lossy_utf8", true);
    }
    Record::Doc(doc)
}

/// `meta` with the text column read as a string (or binary) view array when it is a plain
/// string (or binary) column: its values then point into the decoded pages instead of being
/// copied out of them into one buffer per batch, and the text is copied once, into the
/// document. On the 1.1 GB bench of docs/parquet.md this copy and the fresh memory it was
/// written to were 15% of a Parquet -> Parquet run's CPU time. Unchanged (the values copied as
/// before) for a dictionary-typed text column, or should the reader refuse the view type.
fn text_as_views(meta: ArrowReaderMetadata, text_field: &str) -> ArrowReaderMetadata {
    let schema = meta.schema();
    let Some(i) = schema.fields().iter().position(|f| f.name() == text_field) else {
        return meta;
    };
    let view = match schema.field(i).data_type() {
        DataType::Utf8 | DataType::LargeUtf8 => DataType::Utf8View,
        DataType::Binary | DataType::LargeBinary => DataType::BinaryView,
        _ => return meta,
    };
    let mut fields: Vec<arrow_schema::FieldRef> = schema.fields().iter().cloned().collect();
    fields[i] = Arc::new(fields[i].as_ref().clone().with_data_type(view));
    let schema = arrow_schema::Schema::new_with_metadata(fields, schema.metadata().clone());
    let options = ArrowReaderOptions::new().with_schema(Arc::new(schema));
    ArrowReaderMetadata::try_new(meta.metadata().clone(), options).unwrap_or(meta)
}

/// Runs `f`, turning a panic of the decoder (on a damaged file) into an error.
fn catch<T, E: std::fmt::Display>(f: impl FnOnce() -> Result<T, E>) -> Result<T, String> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(r) => r.map_err(|e| e.to_string()),
        Err(p) => Err(format!(
            "decoder failed: {}",
            p.downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| p.downcast_ref::<&str>().copied())
                .unwrap_or("damaged data")
        )),
    }
}

fn value_of(array: &dyn Array, row: usize) -> Value {
    super::value::cell(array, row)
}

/// The text at `row`: a string column (plain, large, view or dictionary-encoded), or binary
/// holding UTF-8. `Ok(None)` when null; `Err` says what is wrong.
fn text_at(
    array: &dyn Array,
    row: usize,
    policy: Utf8Policy,
) -> Result<Option<(String, bool)>, String> {
    if array.is_null(row) {
        return Ok(None);
    }
    let bytes: &[u8] = match array.data_type() {
        DataType::Utf8 => return Ok(Some((array.as_string::<i32>().value(row).into(), false))),
        DataType::LargeUtf8 => {
            return Ok(Some((array.as_string::<i64>().value(row).into(), false)))
        }
        DataType::Utf8View => return Ok(Some((array.as_string_view().value(row).into(), false))),
        DataType::Binary => array.as_binary::<i32>().value(row),
        DataType::LargeBinary => array.as_binary::<i64>().value(row),
        DataType::BinaryView => array.as_binary_view().value(row),
        DataType::Dictionary(..) => {
            return downcast_dictionary_array!(
                array => {
                    let key = arrow_buffer::ArrowNativeType::as_usize(array.keys().value(row));
                    text_at(&**array.values(), key, policy)
                },
                _ => Err("is not a string column".into())
            )
        }
        other => return Err(format!("is {other}, not a string")),
    };
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(Some((s.to_owned(), false))),
        Err(e) => match policy {
            Utf8Policy::Error => Err(format!("is not valid UTF-8 (at byte {})", e.valid_up_to())),
            Utf8Policy::Replace => Ok(Some((String::from_utf8_lossy(bytes).into_owned(), true))),
        },
    }
}
