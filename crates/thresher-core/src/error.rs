//! The error type of the core crate.

use std::path::PathBuf;

/// Result alias for the core crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Errors raised by steps and by the machinery around them.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A step was configured with an invalid parameter.
    #[error("invalid configuration for step `{step}`: {message}")]
    Config {
        /// The step's type name.
        step: String,
        /// What is wrong.
        message: String,
    },
    /// An I/O error, with the path it concerns.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Anything else a step needs to report as fatal for the run.
    #[error("{0}")]
    Other(String),
}

impl Error {
    /// Builds a configuration error for `step`.
    pub fn config(step: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Config {
            step: step.into(),
            message: message.into(),
        }
    }

    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
