//! Integration tests of thresher-extract: pathological inputs through the `html_extract` step,
//! and the crawl samples of ../shared read by the WARC reader and extracted.

mod fuzz;
mod no_empty;
mod robustness;
