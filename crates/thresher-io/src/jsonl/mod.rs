//! The JSONL record format, all of it: reading a line into a document ([`read`]), writing the
//! kept, rejected and error lines of a run ([`mod@write`]), the spill format that carries documents
//! between the passes of a two-pass step ([`spill`]), and the JSON string rules they share
//! (`string`: escapes, unescaping, escaping; `scan`: the reader's string scan).
//!
//! A text the reader found with canonical escapes stays in the input buffer as the document's
//! [`RawText`](thresher_core::RawText) in [`JsonString`]: unescaped only if a step reads it,
//! and copied (or pointed at) by the writers if no step edited it.

pub mod read;
mod scan;
pub mod spill;
mod string;
pub mod write;

pub use string::{json_str_len, write_json_str, JsonString};
