//! thresher-extract: see the crate description.
#![warn(missing_docs)]
