//! Integration tests of thresher-filters (one binary; see the modules).

mod parity;
mod pii;
