//! Integration tests of thresher-text (one binary, see STYLE.md).

mod golden;
mod invariants;
mod parity;
