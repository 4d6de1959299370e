//! thresher-repair: see the crate description.
#![warn(missing_docs)]
