//! How inputs are read: field names, size limit, UTF-8 policy.

use serde::{Deserialize, Serialize};

/// What to do with bytes that are not valid UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Utf8Policy {
    /// The record is an error (the default): text with broken encoding is better found than
    /// silently altered.
    #[default]
    Error,
    /// Invalid sequences are replaced by U+FFFD and the document is annotated
    /// `reader.lossy_utf8 = true`.
    Replace,
}

/// Options of the readers, set in a recipe's `[input]` table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReadOptions {
    /// JSONL field that holds the document id (datatrove and dolma: `id`). Numbers are turned into
    /// strings; a record without it gets `<file>:<line>`.
    pub id_field: String,
    /// JSONL field that holds the text (datatrove and dolma: `text`).
    pub text_field: String,
    /// JSONL field whose object is carried through as the document's metadata (`metadata`).
    /// Other top-level fields are added to the metadata too (as datatrove's reader does), so
    /// nothing in the record is lost.
    pub metadata_field: String,
    /// A record (JSONL line, text file, page) larger than this many bytes is an error record; the
    /// reader never holds more than this much of one record in memory.
    pub max_doc_bytes: u64,
    /// What to do with invalid UTF-8.
    pub invalid_utf8: Utf8Policy,
    /// Read uncompressed JSONL files of 4 MiB or more through memory maps instead of `read`
    /// (one copy of every byte less). A mapped file must not be truncated by another process
    /// while thresher reads it (the `thresher` command stops with a bus-error message and exit
    /// code 3; `--resume` finishes the run): set `false` for inputs that may change under it.
    /// Byte ranges of a file ([`InputFile::range`](crate::InputFile::range), made by sharded
    /// runs only when this is on) are always read through maps.
    pub mmap: bool,
    /// Parquet inputs: read only these columns besides the id, text and metadata ones (the
    /// others are not even decoded). Unset: every column, each into the metadata.
    pub columns: Option<Vec<String>>,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            id_field: "id".into(),
            text_field: "text".into(),
            metadata_field: "metadata".into(),
            max_doc_bytes: 64 << 20,
            invalid_utf8: Utf8Policy::Error,
            mmap: true,
            columns: None,
        }
    }
}
