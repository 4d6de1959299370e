//! Integration tests of thresher-filters (one binary; see the modules).

mod bounds;
mod c4_paragraph;
mod parity;
mod pii;
mod url_filter;
