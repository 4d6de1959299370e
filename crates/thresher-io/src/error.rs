//! Errors of the io crate that stop a run (as opposed to per-record errors, see `RecordError`).

use std::path::PathBuf;

/// Result alias for the io crate.
pub type Result<T, E = IoError> = std::result::Result<T, E>;

/// An error that concerns a whole input or output, not one record.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IoError {
    /// An input path does not exist (checked before any work starts).
    #[error("input not found: {0}")]
    NotFound(PathBuf),
    /// An input path is a symbolic link that cannot be resolved (a loop, or a link to nothing).
    #[error("input {path} is a symbolic link that cannot be resolved: {source}")]
    Unresolvable {
        /// The path as given.
        path: PathBuf,
        /// Why it cannot be resolved ("Too many levels of symbolic links" for a loop).
        source: std::io::Error,
    },
    /// A glob pattern is malformed.
    #[error("bad glob pattern `{pattern}`: {message}")]
    Glob {
        /// The pattern as given.
        pattern: String,
        /// What is wrong with it.
        message: String,
    },
    /// An input file named explicitly has a name of no format thresher reads.
    #[error(
        "{0}: unknown input format (thresher reads {known}); rename the file to say its format",
        known = crate::input::Format::KNOWN
    )]
    UnknownFormat(PathBuf),
    /// A glob or directory matched no input file.
    #[error("no input files match {0}")]
    NoFiles(String),
    /// An I/O error on a path (unreadable directory, unwritable output...).
    #[error("{path}: {source}")]
    Path {
        /// The path concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

impl IoError {
    pub(crate) fn path(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        IoError::Path {
            path: path.into(),
            source,
        }
    }
}
