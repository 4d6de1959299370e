//! The fixed schema of each output category's Parquet shards, and the rows built from the
//! records' JSON lines.
//!
//! | category | columns |
//! | --- | --- |
//! | kept | `id` string, `text` string, `metadata` string (a JSON object), `annotations` string (a JSON object; null when none) |
//! | rejected | the kept columns' `id`, `text`, `metadata`, then `reason` string, `value` float64 (null when the value is not a number), `value_text` string (the value when it is not a number: strings as they are, anything else as JSON; else `""`), `step` string, `annotations` |
//! | errors | `id` string, `file` string, `line` int64, `byte` int64, `error` string, `step` string (null for a reading error) |
//!
//! Then, in kept and rejected shards, one typed column per metadata key whose type the run's
//! Parquet inputs fix (see [`super::meta`] for the rule; none for JSONL inputs or with
//! `[output] metadata_columns = "json"`).
//!
//! The rule for metadata: every key without a typed column goes into `metadata`, one JSON
//! string column, whatever the keys and their types, so every shard of every run has the same
//! schema (a column per key found in the data would change with the data, and loaders refuse
//! shards whose schemas differ). `json.loads`, DuckDB's `json` functions or thresher itself
//! (which reads a string `metadata` column of a Parquet input back as the document's metadata
//! object, and every other column into the metadata under its name) recover the typed values.

use std::borrow::Cow;
use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Float64Builder, Int64Builder, StringBuilder, StringViewBuilder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_buffer::Buffer;
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use thresher_core::{Document, Reason};

use super::meta::{write_json_without, MetaColumn};
use crate::jsonl::json_str_len;
use crate::jsonl::write::text_json_len;
use crate::RejectedText;

/// An output category.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    /// Documents every step kept.
    Kept,
    /// Documents a step rejected, with the reason.
    Rejected,
    /// Records that could not be read or processed.
    Errors,
}

impl Category {
    /// The category's folder name.
    pub fn name(self) -> &'static str {
        match self {
            Category::Kept => "kept",
            Category::Rejected => "rejected",
            Category::Errors => "errors",
        }
    }

    /// The category from its folder name.
    pub fn from_name(name: &str) -> Option<Category> {
        match name {
            "kept" => Some(Category::Kept),
            "rejected" => Some(Category::Rejected),
            "errors" => Some(Category::Errors),
            _ => None,
        }
    }

    /// The schema of the category's shards.
    pub fn schema(self) -> SchemaRef {
        let s = |n: &str| Field::new(n, DataType::Utf8, false);
        let opt = |n: &str| Field::new(n, DataType::Utf8, true);
        let fields = match self {
            Category::Kept => vec![s("id"), s("text"), s("metadata"), opt("annotations")],
            Category::Rejected => vec![
                s("id"),
                s("text"),
                s("metadata"),
                s("reason"),
                Field::new("value", DataType::Float64, true),
                opt("value_text"),
                s("step"),
                opt("annotations"),
            ],
            Category::Errors => vec![
                s("id"),
                s("file"),
                Field::new("line", DataType::Int64, false),
                Field::new("byte", DataType::Int64, false),
                s("error"),
                opt("step"),
            ],
        };
        Arc::new(Schema::new(fields))
    }

    /// The schema of the category's shards with the typed metadata columns `meta` after the
    /// fixed ones (errors have none).
    pub fn schema_with(self, meta: &[MetaColumn]) -> SchemaRef {
        if meta.is_empty() || self == Category::Errors {
            return self.schema();
        }
        let base = self.schema();
        let mut fields: Vec<Field> = base.fields().iter().map(|f| (**f).clone()).collect();
        fields.extend(
            meta.iter()
                .map(|c| Field::new(&c.name, c.kind.data_type(), true)),
        );
        Arc::new(Schema::new(fields))
    }

    /// The schema of the rows [`Rows`] gathers for the category's shards: [`Category::schema_with`]
    /// with the `text` column as a string view array (kept and rejected rows), whose values are
    /// the documents' own texts rather than copies (see [`Rows::take_kept`]). The Parquet
    /// writer takes it for the shards' schema, whose `text` is a plain string column: both are
    /// the same Parquet column, byte for byte.
    pub fn rows_schema_with(self, meta: &[MetaColumn]) -> SchemaRef {
        let schema = self.schema_with(meta);
        if self == Category::Errors {
            return schema;
        }
        let fields: Vec<Field> = schema
            .fields()
            .iter()
            .map(|f| match f.name().as_str() {
                "text" => f.as_ref().clone().with_data_type(DataType::Utf8View),
                _ => f.as_ref().clone(),
            })
            .collect();
        Arc::new(Schema::new(fields))
    }

    /// The names of the category's fixed columns (a metadata key of one of these names stays
    /// in JSON).
    pub fn reserved(self) -> Vec<&'static str> {
        match self {
            Category::Kept => vec!["id", "text", "metadata", "annotations"],
            _ => vec![
                "id",
                "text",
                "metadata",
                "reason",
                "value",
                "value_text",
                "step",
                "annotations",
            ],
        }
    }

    /// The columns whose values repeat (reasons, steps, file names): dictionary-encoded.
    pub fn dictionary_columns(self) -> &'static [&'static str] {
        match self {
            Category::Kept => &[],
            Category::Rejected => &["reason", "step", "value_text"],
            Category::Errors => &["file", "step"],
        }
    }
}

/// Counts the bytes written to it.
struct Counter(usize);

impl std::io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[derive(Deserialize)]
struct DocLine<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
    #[serde(borrow)]
    text: Cow<'a, str>,
    #[serde(borrow)]
    metadata: &'a RawValue,
    #[serde(default, borrow)]
    annotations: Option<&'a RawValue>,
    #[serde(default, borrow)]
    reason: Option<Cow<'a, str>>,
    #[serde(default)]
    value: Option<f64>,
    #[serde(default, borrow)]
    value_text: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    step: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Position {
    line: u64,
    byte: u64,
}

#[derive(Deserialize)]
struct ErrorLine<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
    #[serde(borrow)]
    file: Cow<'a, str>,
    position: Position,
    #[serde(borrow)]
    error: Cow<'a, str>,
    #[serde(default, borrow)]
    step: Option<Cow<'a, str>>,
}

enum Col {
    Str(StringBuilder),
    /// The text column: views of the texts, moved in whole or copied (see [`Rows::take_kept`]).
    View(StringViewBuilder),
    F64(Float64Builder),
    I64(Int64Builder),
    Bool(BooleanBuilder),
}

/// Rows of one category being gathered, a builder per column in schema order, with the size
/// of each row's JSONL line (what shards and row groups are cut by, as for JSONL output).
///
/// Rows are added from a record's JSON line ([`Rows::push`]), or, on the threads that serialize
/// a batch, straight from the document ([`Rows::push_kept`], [`Rows::push_rejected`], or
/// [`Rows::take_kept`] and [`Rows::take_rejected`], which move the text into the row instead of
/// copying it): the same values and sizes, without writing the line and parsing it back.
///
/// The rows' schema is [`Category::rows_schema_with`]: the text column is a string view array.
pub struct Rows {
    category: Category,
    schema: SchemaRef,
    /// The typed metadata columns, after the fixed ones (from column `first_meta` on).
    meta: Arc<[MetaColumn]>,
    first_meta: usize,
    cols: Vec<Col>,
    /// The size of each row's line, newline included.
    lens: Vec<u64>,
    /// Reused for the JSON of metadata and annotations.
    scratch: Vec<u8>,
}

/// Finished rows: a record batch of a category's schema, and the size of each row's JSONL line.
pub struct RowChunk {
    /// The rows.
    pub batch: RecordBatch,
    /// The size of each row's JSONL line, newline included.
    pub lens: Vec<u64>,
}

impl Rows {
    /// No rows yet, no typed metadata columns.
    pub fn new(category: Category) -> Self {
        Rows::with_meta(category, Arc::from([]))
    }

    /// No rows yet; the typed metadata columns `meta` (for kept and rejected rows).
    pub fn with_meta(category: Category, meta: Arc<[MetaColumn]>) -> Self {
        let meta = if category == Category::Errors {
            Arc::from([])
        } else {
            meta
        };
        let first_meta = category.schema().fields().len();
        let schema = category.rows_schema_with(&meta);
        let cols = schema
            .fields()
            .iter()
            .map(|f| match f.data_type() {
                DataType::Utf8View => Col::View(StringViewBuilder::new()),
                DataType::Float64 => Col::F64(Float64Builder::new()),
                DataType::Int64 => Col::I64(Int64Builder::new()),
                DataType::Boolean => Col::Bool(BooleanBuilder::new()),
                _ => Col::Str(StringBuilder::new()),
            })
            .collect();
        Rows {
            category,
            schema,
            meta,
            first_meta,
            cols,
            lens: Vec::new(),
            scratch: Vec::new(),
        }
    }

    /// The schema of the rows.
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// Rows gathered.
    pub fn len(&self) -> usize {
        self.lens.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.lens.is_empty()
    }

    /// Reserves room for `rows` rows, when there are no rows yet (else does nothing). No room
    /// for the texts' bytes: moved texts are blocks of their own, copied ones go into blocks
    /// that grow.
    pub fn reserve(&mut self, rows: usize) {
        if !self.is_empty() {
            return;
        }
        for c in self.cols.iter_mut() {
            match c {
                Col::Str(b) => *b = StringBuilder::with_capacity(rows, 0),
                Col::View(b) => *b = StringViewBuilder::with_capacity(rows),
                _ => {}
            }
        }
        self.lens.reserve(rows);
    }

    /// `map` as JSON (what serde_json writes for it) into the scratch buffer.
    fn json_of(&mut self, map: &Map<String, Value>) -> usize {
        self.scratch.clear();
        // Serializing a map of `Value`s into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut self.scratch, map);
        self.scratch.len()
    }

    /// Appends the scratch buffer (JSON serde_json wrote: UTF-8) to string column `i`.
    fn s_scratch(&mut self, i: usize) {
        if let Col::Str(b) = &mut self.cols[i] {
            b.append_value(std::str::from_utf8(&self.scratch).unwrap_or_default());
        }
    }

    /// `id`, `text` (as much as `text` says) and `metadata` of a document; returns the size of
    /// its line's `{"id":..,"text":..,"metadata":{..}` (as [`crate::jsonl::write`] writes it).
    fn doc_cols(&mut self, doc: &Document, text: RejectedText) -> usize {
        let t = text.apply(doc.text());
        let text_len = match text {
            RejectedText::Full => text_json_len(doc),
            _ => json_str_len(t),
        };
        self.s(1, Some(t));
        self.id_meta_cols(doc) + text_len
    }

    /// As [`Rows::doc_cols`] with the whole text, moved out of the document into the row.
    fn doc_cols_taking(&mut self, doc: &mut Document) -> usize {
        // Measured before the text leaves the document (the size of its JSON may come from the
        // raw text the reader kept).
        let text_len = text_json_len(doc);
        self.text_owned(doc.take_text());
        self.id_meta_cols(doc) + text_len
    }

    /// `id` and `metadata` of a document; returns the size of its line's
    /// `{"id":..,"text":,"metadata":{..}`, the text's own JSON left out.
    fn id_meta_cols(&mut self, doc: &Document) -> usize {
        self.s(0, Some(&doc.id));
        let meta = self.metadata_cols(&doc.metadata);
        6 + json_str_len(&doc.id) + 8 + 12 + meta
    }

    /// Appends `text` to the text column (1) without copying it: the string's buffer becomes
    /// a block of the view array (texts of up to 12 bytes are held in their views).
    fn text_owned(&mut self, text: String) {
        let Col::View(b) = &mut self.cols[1] else {
            return;
        };
        let len = text.len();
        match u32::try_from(len) {
            Ok(n) if len > 12 => {
                let block = b.append_block(Buffer::from_vec(text.into_bytes()));
                // SAFETY: the block was just added by `append_block`, the range is the whole
                // block, and its bytes are a `String`'s: valid UTF-8.
                unsafe { b.append_view_unchecked(block, 0, n) };
            }
            _ => b.append_value(&text),
        }
    }

    /// The `metadata` column and the typed metadata columns of a document's metadata; returns
    /// the size of the whole object's JSON (as the JSONL line holds it).
    fn metadata_cols(&mut self, map: &Map<String, Value>) -> usize {
        if self.meta.is_empty() {
            let n = self.json_of(map);
            self.s_scratch(2);
            return n;
        }
        let meta = self.meta.clone();
        // The typed entries' share of the whole object's JSON: `"key":value` each.
        let mut typed_len = 0;
        let mut typed_n = 0;
        for (j, c) in meta.iter().enumerate() {
            let col = self.first_meta + j;
            let v = map.get(&c.name).filter(|v| c.kind.fits(v));
            if let Some(v) = v {
                typed_n += 1;
                typed_len += json_str_len(&c.name) + 1 + self.value_len(v);
            }
            match (&mut self.cols[col], v) {
                (Col::Str(b), Some(Value::String(s))) => b.append_value(s),
                (Col::I64(b), Some(Value::Number(n))) => b.append_option(n.as_i64()),
                (Col::F64(b), Some(Value::Number(n))) => b.append_option(n.as_f64()),
                (Col::Bool(b), Some(Value::Bool(x))) => b.append_value(*x),
                (Col::Str(b), _) => b.append_null(),
                (Col::View(b), _) => b.append_null(),
                (Col::I64(b), _) => b.append_null(),
                (Col::F64(b), _) => b.append_null(),
                (Col::Bool(b), _) => b.append_null(),
            }
        }
        self.scratch.clear();
        write_json_without(&mut self.scratch, map, |k, v| {
            meta.iter().any(|c| c.name == k && c.kind.fits(v))
        });
        let rest = self.scratch.len();
        self.s_scratch(2);
        // {a,b} + typed entries: one comma more per entry, less one when the rest is empty.
        let rest_n = map.len() - typed_n;
        rest + typed_len + typed_n - usize::from(rest_n == 0 && typed_n > 0)
    }

    /// The size of `v`'s JSON.
    fn value_len(&self, v: &Value) -> usize {
        match v {
            Value::String(s) => json_str_len(s),
            Value::Bool(true) => 4,
            Value::Bool(false) => 5,
            other => {
                let mut c = Counter(0);
                let _ = serde_json::to_writer(&mut c, other);
                c.0
            }
        }
    }

    /// The `annotations` column (`i`) of a document (null when it has none); returns the size
    /// of its line's `,"annotations":{..}`.
    fn annotations(&mut self, i: usize, doc: &Document) -> usize {
        if doc.annotations.is_empty() {
            self.s(i, None);
            return 0;
        }
        let n = self.json_of(&doc.annotations);
        self.s_scratch(i);
        15 + n
    }

    /// Adds a kept document's row: what [`Rows::push`] adds for its line
    /// ([`crate::jsonl::write::write_kept`]).
    pub fn push_kept(&mut self, doc: &Document) {
        debug_assert_eq!(self.category, Category::Kept);
        let n = self.doc_cols(doc, RejectedText::Full) + self.annotations(3, doc) + 2;
        self.lens.push(n as u64);
    }

    /// Adds a kept document's row as [`Rows::push_kept`] does, moving the text into the row
    /// instead of copying it: the document is left with an empty text (and its id, metadata
    /// and annotations). For a writer that is done with the document.
    pub fn take_kept(&mut self, doc: &mut Document) {
        debug_assert_eq!(self.category, Category::Kept);
        let n = self.doc_cols_taking(doc) + self.annotations(3, doc) + 2;
        self.lens.push(n as u64);
    }

    /// Adds a rejected document's row: what [`Rows::push`] adds for its line
    /// ([`crate::jsonl::write::write_rejected`] with the same arguments).
    pub fn push_rejected(
        &mut self,
        doc: &Document,
        reason: &Reason,
        step: &str,
        text: RejectedText,
    ) {
        debug_assert_eq!(self.category, Category::Rejected);
        let n = self.doc_cols(doc, text);
        self.rejected_cols(n, doc, reason, step);
    }

    /// Adds a rejected document's row as [`Rows::push_rejected`] does; with the whole text
    /// (`RejectedText::Full`), the text is moved into the row instead of copied, as
    /// [`Rows::take_kept`] does.
    pub fn take_rejected(
        &mut self,
        doc: &mut Document,
        reason: &Reason,
        step: &str,
        text: RejectedText,
    ) {
        debug_assert_eq!(self.category, Category::Rejected);
        let n = match text {
            RejectedText::Full => self.doc_cols_taking(doc),
            _ => self.doc_cols(doc, text),
        };
        self.rejected_cols(n, doc, reason, step);
    }

    /// The columns of a rejected row after `id`, `text` and `metadata` (whose part of the line
    /// is `n` bytes long); adds the row's line size.
    fn rejected_cols(&mut self, mut n: usize, doc: &Document, reason: &Reason, step: &str) {
        self.s(3, Some(&reason.code));
        n += 10 + json_str_len(&reason.code);
        // `value` as the line holds it, and as a reader of the line gets it back.
        let (value, value_text) = match &reason.value {
            Value::Number(num) => match num.as_f64().and_then(serde_json::Number::from_f64) {
                Some(f) => {
                    self.scratch.clear();
                    let _ = serde_json::to_writer(&mut self.scratch, &f);
                    n += 9 + self.scratch.len() + 16;
                    (
                        serde_json::from_slice::<f64>(&self.scratch).ok(),
                        Cow::Borrowed(""),
                    )
                }
                None => {
                    n += 29;
                    (None, Cow::Borrowed(""))
                }
            },
            Value::Null => {
                n += 29;
                (None, Cow::Borrowed(""))
            }
            Value::String(s) => {
                n += 27 + json_str_len(s);
                (None, Cow::Borrowed(s.as_str()))
            }
            other => {
                let s = other.to_string();
                n += 27 + json_str_len(&s);
                (None, Cow::Owned(s))
            }
        };
        self.f(4, value);
        self.s(5, Some(&value_text));
        self.s(6, Some(step));
        n += 8 + json_str_len(step);
        n += self.annotations(7, doc) + 2;
        self.lens.push(n as u64);
    }

    /// A record line's `metadata` object as a map, when there are typed columns to fill.
    fn parse_meta(&self, raw: &RawValue) -> Result<Option<Map<String, Value>>, serde_json::Error> {
        if self.meta.is_empty() {
            return Ok(None);
        }
        serde_json::from_str(raw.get()).map(Some)
    }

    /// The metadata columns of a record line (`map`: its parsed object, see `parse_meta`).
    fn meta_of_line(&mut self, raw: &RawValue, map: Option<Map<String, Value>>) {
        match map {
            Some(m) => {
                self.metadata_cols(&m);
            }
            None => self.s(2, Some(raw.get())),
        }
    }

    fn s(&mut self, i: usize, v: Option<&str>) {
        match &mut self.cols[i] {
            Col::Str(b) => b.append_option(v),
            Col::View(b) => b.append_option(v),
            _ => {}
        }
    }

    fn f(&mut self, i: usize, v: Option<f64>) {
        if let Col::F64(b) = &mut self.cols[i] {
            b.append_option(v);
        }
    }

    fn i(&mut self, i: usize, v: u64) {
        if let Col::I64(b) = &mut self.cols[i] {
            b.append_value(i64::try_from(v).unwrap_or(i64::MAX));
        }
    }

    /// Adds the row of one record's JSON line (with or without its newline). On an error
    /// nothing is added.
    pub fn push(&mut self, line: &[u8]) -> Result<(), serde_json::Error> {
        match self.category {
            Category::Kept => {
                let d: DocLine = serde_json::from_slice(line)?;
                // Parsed before any column is touched: on an error nothing is added.
                let map = self.parse_meta(d.metadata)?;
                self.s(0, Some(&d.id));
                self.s(1, Some(&d.text));
                self.meta_of_line(d.metadata, map);
                self.s(3, d.annotations.map(RawValue::get));
            }
            Category::Rejected => {
                let d: DocLine = serde_json::from_slice(line)?;
                let map = self.parse_meta(d.metadata)?;
                self.s(0, Some(&d.id));
                self.s(1, Some(&d.text));
                self.meta_of_line(d.metadata, map);
                self.s(3, Some(d.reason.as_deref().unwrap_or("")));
                self.f(4, d.value);
                self.s(5, d.value_text.as_deref());
                self.s(6, Some(d.step.as_deref().unwrap_or("")));
                self.s(7, d.annotations.map(RawValue::get));
            }
            Category::Errors => {
                let e: ErrorLine = serde_json::from_slice(line)?;
                self.s(0, Some(&e.id));
                self.s(1, Some(&e.file));
                self.i(2, e.position.line);
                self.i(3, e.position.byte);
                self.s(4, Some(&e.error));
                self.s(5, e.step.as_deref());
            }
        }
        self.lens.push(line.len() as u64);
        Ok(())
    }

    /// The gathered rows with their lines' sizes; the builders start again empty.
    pub fn finish_chunk(&mut self) -> Result<RowChunk, arrow_schema::ArrowError> {
        let lens = std::mem::take(&mut self.lens);
        let batch = RecordBatch::try_new(self.schema.clone(), self.finish())?;
        Ok(RowChunk { batch, lens })
    }

    /// The gathered rows as columns (in schema order); the builders start again empty.
    pub fn finish(&mut self) -> Vec<ArrayRef> {
        self.lens.clear();
        self.cols
            .iter_mut()
            .map(|c| -> ArrayRef {
                match c {
                    Col::Str(b) => Arc::new(b.finish()),
                    Col::View(b) => Arc::new(b.finish()),
                    Col::F64(b) => Arc::new(b.finish()),
                    Col::I64(b) => Arc::new(b.finish()),
                    Col::Bool(b) => Arc::new(b.finish()),
                }
            })
            .collect()
    }
}
