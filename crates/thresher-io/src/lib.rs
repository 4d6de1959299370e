//! Readers and writers for thresher. Every record knows its file and position.
//!
//! - [`expand_inputs`] turns paths, directories and globs into the list of input files.
//! - [`BatchReader`] reads them in order (`.gz` and `.zst` transparently) and cuts the records
//!   into batches; JSONL lines are parsed by [`parse_jsonl_line`] on the worker threads.
//! - [`jsonl`] is the JSONL record format: reading a line, writing kept / rejected / error
//!   lines, the spill format of two-pass steps, and the JSON string rules they share.
//! - [`ShardedWriter`] writes output shards (plain, `.gz` or `.zst`) under temporary names,
//!   renames each when complete and leaves a completion marker, so a killed run can resume.
//! - [`parquet`] reads Parquet inputs row group by row group and writes Parquet shards with the
//!   same markers and the same resume promise.
//! - [`store`] reads inputs from object stores and http(s) (`s3://`, `gs://`, `az://`,
//!   `https://`) and [`remote`] writes outputs to object stores, through the `object_store`
//!   crate, with the same atomicity and resume promises as local files.
//!
//! ```
//! use thresher_io::{parse_jsonl_line, ReadOptions, Record};
//! let rec = parse_jsonl_line(br#"{"id": "a", "text": "hi"}"#, Default::default(), &ReadOptions::default());
//! assert!(matches!(rec, Record::Doc(d) if d.text() == "hi"));
//! ```
#![warn(missing_docs)]

pub mod charset;
mod decode;
mod error;
mod input;
pub mod jsonl;
mod lines;
mod mapped;
mod options;
pub mod outdir;
pub mod parquet;
mod record;
pub mod remote;
mod source;
pub mod store;
mod warc;
mod warc_range;
mod writer;

pub use decode::{open_decoded, Compression};
pub use error::{IoError, Result};
pub use input::{
    expand_inputs, expand_inputs_report, is_output_dir, strip_compression, Expanded, Format,
    InputFile,
};
pub use jsonl::read::{parse_jsonl_line, parse_jsonl_line_shared, record_from_map};
pub use lines::{LineEvent, LineSplitter};
pub use options::{ReadOptions, Utf8Policy};
pub use outdir::{Folder, OutDir, OutDirError};
pub use record::{Record, RecordError};
pub use source::{id_from_path, Batch, BatchReader, Item};
pub use warc::{read_html_file, read_html_file_limited, WarcReader, DEFAULT_MAX_RECORD_BYTES};
pub use writer::{
    MetadataColumns, OutputCompression, OutputFormat, RejectedText, ShardedWriter, WriteOptions,
};
