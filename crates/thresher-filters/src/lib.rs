//! thresher-filters: see the crate description.
#![warn(missing_docs)]
