//! Typed metadata columns of the Parquet output (`[output] metadata_columns`).
//!
//! The rule (`"auto"`, the default): a metadata key gets a column of its own, with a type, when
//! the run's Parquet inputs say what it holds: a key that is a column of an input (or a field of
//! an input's struct `metadata` column), with the same type in every input that has it. The
//! columns come from the input files' schemas (their footers, read before the run starts), so
//! they are known before the first row is written and are the same in every shard of the run,
//! in every task of a sharded run given the same inputs, and again on `--resume`. Keys only the
//! data could reveal (JSONL inputs, keys the steps add, a JSON string `metadata` column) stay
//! in the `metadata` column, a JSON object as before; `"json"` keeps every key there.
//!
//! Types: strings (and dictionary-encoded strings, dates and timestamps, which the reader turns
//! into ISO 8601 strings) become `string`; integers up to 64 bits `int64`; floats `float64`;
//! booleans `bool`. Any other type (lists, structs, decimals, binary...) stays in JSON.
//!
//! Per document: a key's value goes into its column when it has the column's type (an integer
//! that fits `int64` for `int64`, a float for `float64`...); otherwise (a step changed it, or a
//! JSON null) the column holds null and the key stays in the JSON object, so nothing is lost and
//! reading the output back (thresher reads every column into the metadata) gives the same
//! values. A null in a typed column means the document did not have the key.

use std::collections::BTreeMap;
use std::io;
use std::path::Path;
use std::sync::Arc;

use arrow_schema::{DataType, Schema, SchemaRef};
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions};
use parquet::file::metadata::ParquetMetaDataReader;
use serde::ser::{SerializeMap, Serializer};
use serde_json::{Map, Value};

use crate::input::{Format, InputFile};
use crate::ReadOptions;

/// What a typed metadata column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MetaKind {
    /// `string`.
    Utf8,
    /// `int64`.
    Int64,
    /// `float64`.
    Float64,
    /// `bool`.
    Boolean,
}

impl MetaKind {
    /// The kind an input column of type `t` gives its metadata key (see the module docs), if
    /// any.
    pub fn of(t: &DataType) -> Option<MetaKind> {
        Some(match t {
            DataType::Utf8
            | DataType::LargeUtf8
            | DataType::Utf8View
            | DataType::Date32
            | DataType::Date64
            | DataType::Timestamp(..) => MetaKind::Utf8,
            DataType::Dictionary(_, v) => return MetaKind::of(v).filter(|k| *k == MetaKind::Utf8),
            DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::UInt64 => MetaKind::Int64,
            DataType::Float16 | DataType::Float32 | DataType::Float64 => MetaKind::Float64,
            DataType::Boolean => MetaKind::Boolean,
            _ => return None,
        })
    }

    /// The column's Arrow type.
    pub fn data_type(self) -> DataType {
        match self {
            MetaKind::Utf8 => DataType::Utf8,
            MetaKind::Int64 => DataType::Int64,
            MetaKind::Float64 => DataType::Float64,
            MetaKind::Boolean => DataType::Boolean,
        }
    }

    /// Whether `v` goes into a column of this kind.
    pub fn fits(self, v: &Value) -> bool {
        match (self, v) {
            (MetaKind::Utf8, Value::String(_)) | (MetaKind::Boolean, Value::Bool(_)) => true,
            (MetaKind::Int64, Value::Number(n)) => n.is_i64(),
            (MetaKind::Float64, Value::Number(n)) => n.is_f64(),
            _ => false,
        }
    }
}

/// A typed metadata column: the key and what it holds.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MetaColumn {
    /// The metadata key, which is also the column's name.
    pub name: String,
    /// Its type.
    pub kind: MetaKind,
}

/// The typed metadata columns that the input `schemas` give (see the module docs), in the
/// order of the keys' names. `reserved` are the names the output's own columns use: a key of
/// that name stays in JSON.
pub fn columns_of(schemas: &[SchemaRef], opts: &ReadOptions, reserved: &[&str]) -> Vec<MetaColumn> {
    // None: seen with two kinds (or a kind thresher does not type).
    let mut seen: BTreeMap<String, Option<MetaKind>> = BTreeMap::new();
    let mut note = |name: &str, t: &DataType| {
        let k = MetaKind::of(t);
        seen.entry(name.to_string())
            .and_modify(|e| {
                if *e != k {
                    *e = None
                }
            })
            .or_insert(k);
    };
    for s in schemas {
        for (name, t) in keys_of(s, opts) {
            note(&name, &t);
        }
    }
    seen.into_iter()
        .filter(|(name, _)| !reserved.contains(&name.as_str()))
        .filter_map(|(name, k)| k.map(|kind| MetaColumn { name, kind }))
        .collect()
}

/// The metadata keys a Parquet file of schema `s` gives its documents, with their types: every
/// column but the text, id and metadata ones, then the fields of a struct metadata column
/// (which win over a column of the same name, as in the reader).
fn keys_of(s: &Schema, opts: &ReadOptions) -> Vec<(String, DataType)> {
    let Some(text) = super::text_column(s, opts) else {
        return Vec::new();
    };
    let mut out: BTreeMap<String, DataType> = BTreeMap::new();
    let mut meta_fields = Vec::new();
    for (i, f) in s.fields().iter().enumerate() {
        if i == text {
            continue;
        }
        if f.name() == &opts.id_field {
            continue;
        }
        if f.name() == &opts.metadata_field {
            if let DataType::Struct(children) = f.data_type() {
                meta_fields.extend(children.iter().cloned());
            }
            // A string or map metadata column: its keys are only known from the data.
            continue;
        }
        out.insert(f.name().clone(), f.data_type().clone());
    }
    for f in meta_fields {
        out.insert(f.name().clone(), f.data_type().clone());
    }
    out.into_iter().collect()
}

/// The Arrow schema of each Parquet input that can be read (a file whose footer cannot be read
/// is left out here; the reader reports it as an error record when the run reaches it).
pub fn input_schemas(files: &[InputFile]) -> Vec<SchemaRef> {
    files
        .iter()
        .filter(|f| f.format == Format::Parquet)
        .filter_map(|f| schema_of_file(&f.path).ok())
        .collect()
}

fn schema_of_file(path: &Path) -> io::Result<SchemaRef> {
    let md = if crate::store::path_is_url(path) {
        let loc = crate::store::Location::parse(&path.to_string_lossy())?;
        let size = loc
            .head()?
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such object"))?;
        if size < 8 {
            return Err(io::Error::other("too small for Parquet"));
        }
        let tail = loc.get_range(size - 8..size)?;
        let len = u64::from(u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]));
        if len + 8 > size {
            return Err(io::Error::other("bad Parquet footer"));
        }
        let footer = loc.get_range(size - 8 - len..size - 8)?;
        ParquetMetaDataReader::decode_metadata(&footer).map_err(io::Error::other)?
    } else {
        let file = std::fs::File::open(path)?;
        let mut r = ParquetMetaDataReader::new();
        r.try_parse(&file).map_err(io::Error::other)?;
        r.finish().map_err(io::Error::other)?
    };
    let md = ArrowReaderMetadata::try_new(Arc::new(md), ArrowReaderOptions::new())
        .map_err(io::Error::other)?;
    Ok(md.schema().clone())
}

/// `map` as a JSON object without the entries that `skip` says go to typed columns (what
/// serde_json writes for the rest, in the same order).
pub(crate) fn write_json_without(
    out: &mut Vec<u8>,
    map: &Map<String, Value>,
    skip: impl Fn(&str, &Value) -> bool,
) {
    let mut ser = serde_json::Serializer::new(out);
    // Writing `Value`s into a Vec cannot fail.
    let _ = (|| {
        let mut m = ser.serialize_map(None)?;
        for (k, v) in map {
            if !skip(k, v) {
                m.serialize_entry(k, v)?;
            }
        }
        m.end()
    })();
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_schema::Field;
    use serde_json::json;

    fn schema(fields: Vec<Field>) -> SchemaRef {
        Arc::new(Schema::new(fields))
    }

    #[test]
    fn columns_follow_the_inputs_types() {
        let opts = ReadOptions::default();
        let a = schema(vec![
            Field::new("text", DataType::Utf8, false),
            Field::new("id", DataType::Utf8, false),
            Field::new("url", DataType::LargeUtf8, true),
            Field::new("token_count", DataType::Int32, true),
            Field::new("language_score", DataType::Float32, true),
            Field::new("mixed", DataType::Int64, true),
            Field::new("tags", DataType::new_list(DataType::Utf8, true), true),
            Field::new("text_", DataType::Boolean, true),
            Field::new("value", DataType::Int64, true),
        ]);
        let b = schema(vec![
            Field::new("text", DataType::Utf8, false),
            Field::new("mixed", DataType::Utf8, true),
            Field::new("dump", DataType::Utf8, true),
        ]);
        let cols = columns_of(&[a, b], &opts, &["value"]);
        let got: Vec<(&str, MetaKind)> = cols.iter().map(|c| (c.name.as_str(), c.kind)).collect();
        assert_eq!(
            got,
            [
                ("dump", MetaKind::Utf8),
                ("language_score", MetaKind::Float64),
                ("text_", MetaKind::Boolean),
                ("token_count", MetaKind::Int64),
                ("url", MetaKind::Utf8),
            ]
        );
    }

    #[test]
    fn struct_metadata_fields_are_keys() {
        let opts = ReadOptions::default();
        let meta = DataType::Struct(
            vec![
                Field::new("url", DataType::Utf8, true),
                Field::new("n", DataType::UInt16, true),
            ]
            .into(),
        );
        let s = schema(vec![
            Field::new("text", DataType::Utf8, false),
            Field::new("metadata", meta, true),
        ]);
        let got: Vec<String> = columns_of(&[s], &opts, &[])
            .into_iter()
            .map(|c| format!("{}:{:?}", c.name, c.kind))
            .collect();
        assert_eq!(got, ["n:Int64", "url:Utf8"]);
    }

    #[test]
    fn fits_only_its_own_type() {
        assert!(MetaKind::Int64.fits(&json!(3)));
        assert!(!MetaKind::Int64.fits(&json!(3.0)));
        assert!(!MetaKind::Int64.fits(&json!(u64::MAX)));
        assert!(MetaKind::Float64.fits(&json!(0.5)));
        assert!(!MetaKind::Float64.fits(&json!(1)));
        assert!(MetaKind::Utf8.fits(&json!("x")));
        assert!(!MetaKind::Utf8.fits(&Value::Null));
        assert!(MetaKind::Boolean.fits(&json!(true)));
    }

    #[test]
    fn json_without_skips_entries() {
        let m: Map<String, Value> = serde_json::from_str(r#"{"a":1,"b":"x","c":[1]}"#).unwrap();
        let mut out = Vec::new();
        write_json_without(&mut out, &m, |k, _| k == "b");
        assert_eq!(std::str::from_utf8(&out).unwrap(), r#"{"a":1,"c":[1]}"#);
        out.clear();
        write_json_without(&mut out, &m, |_, _| true);
        assert_eq!(out, b"{}");
    }
}
