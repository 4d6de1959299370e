//! thresher's facade: the step registry (and, soon, recipes and the executor).
#![warn(missing_docs)]

pub mod registry;
