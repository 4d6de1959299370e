//! What a reader yields for each record of its input.

use thresher_core::{Document, SourcePos};

/// One record of an input file, as a reader saw it.
#[derive(Debug)]
pub enum Record {
    /// A document to run through the pipeline.
    Doc(Document),
    /// A record that could not be read (broken JSON, invalid UTF-8, truncated file, over the size
    /// limit...). It goes to the errors output with its position and counts as one input record.
    Error(RecordError),
    /// A record that is not a document by nature (a WARC request or metadata record, a non-HTML
    /// response): counted per kind in the stats as skipped, not an input document.
    Skipped {
        /// Where the record was.
        source: SourcePos,
        /// Stable snake_case kind, e.g. `warc_request`, `non_html:image/png`.
        kind: String,
    },
}

/// A record that could not be read, with where it was and why.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordError {
    /// File, line and byte offset of the record.
    pub source: SourcePos,
    /// What went wrong, for a person to read.
    pub message: String,
    /// The record's id when it could be read before the error (else empty).
    pub id: String,
}
