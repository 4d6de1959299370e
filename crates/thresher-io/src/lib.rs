//! Readers and writers for thresher. Every record knows its file and position.
#![warn(missing_docs)]

mod record;

pub use record::{Record, RecordError};
