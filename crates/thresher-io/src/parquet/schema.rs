//! The fixed schema of each output category's Parquet shards, and the rows built from the
//! records' JSON lines.
//!
//! | category | columns |
//! | --- | --- |
//! | kept | `id` string, `text` string, `metadata` string (a JSON object), `annotations` string (a JSON object; null when none) |
//! | rejected | the kept columns' `id`, `text`, `metadata`, then `reason` string, `value` float64 (null when the value is not a number), `value_text` string (the value when it is not a number: strings as they are, anything else as JSON; else `""`), `step` string, `annotations` |
//! | errors | `id` string, `file` string, `line` int64, `byte` int64, `error` string, `step` string (null for a reading error) |
//!
//! The rule for metadata: one JSON string column, whatever the keys and their types, so every
//! shard of every run has the same schema (a column per key would change with the data, and
//! loaders refuse shards whose schemas differ). `json.loads`, DuckDB's `json` functions or
//! thresher itself (which reads a string `metadata` column of a Parquet input back as the
//! document's metadata object) recover the typed values.

use std::borrow::Cow;
use std::sync::Arc;

use arrow_array::builder::{Float64Builder, Int64Builder, StringBuilder};
use arrow_array::ArrayRef;
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use serde::Deserialize;
use serde_json::value::RawValue;

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

    /// The columns whose values repeat (reasons, steps, file names): dictionary-encoded.
    pub fn dictionary_columns(self) -> &'static [&'static str] {
        match self {
            Category::Kept => &[],
            Category::Rejected => &["reason", "step", "value_text"],
            Category::Errors => &["file", "step"],
        }
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
    F64(Float64Builder),
    I64(Int64Builder),
}

/// Rows of one category being gathered for a row group, a builder per column in schema order.
pub struct Rows {
    category: Category,
    cols: Vec<Col>,
    len: usize,
}

impl Rows {
    /// No rows yet.
    pub fn new(category: Category) -> Self {
        let cols = category
            .schema()
            .fields()
            .iter()
            .map(|f| match f.data_type() {
                DataType::Float64 => Col::F64(Float64Builder::new()),
                DataType::Int64 => Col::I64(Int64Builder::new()),
                _ => Col::Str(StringBuilder::new()),
            })
            .collect();
        Rows {
            category,
            cols,
            len: 0,
        }
    }

    /// Rows gathered.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn s(&mut self, i: usize, v: Option<&str>) {
        if let Col::Str(b) = &mut self.cols[i] {
            b.append_option(v);
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
                self.s(0, Some(&d.id));
                self.s(1, Some(&d.text));
                self.s(2, Some(d.metadata.get()));
                self.s(3, d.annotations.map(RawValue::get));
            }
            Category::Rejected => {
                let d: DocLine = serde_json::from_slice(line)?;
                self.s(0, Some(&d.id));
                self.s(1, Some(&d.text));
                self.s(2, Some(d.metadata.get()));
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
        self.len += 1;
        Ok(())
    }

    /// The gathered rows as columns (in schema order); the builders start again empty.
    pub fn finish(&mut self) -> Vec<ArrayRef> {
        self.len = 0;
        self.cols
            .iter_mut()
            .map(|c| -> ArrayRef {
                match c {
                    Col::Str(b) => Arc::new(b.finish()),
                    Col::F64(b) => Arc::new(b.finish()),
                    Col::I64(b) => Arc::new(b.finish()),
                }
            })
            .collect()
    }
}
