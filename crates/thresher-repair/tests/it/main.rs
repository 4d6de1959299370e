//! Integration tests of the repair steps: the seed page golden test, the damaged-twin generality
//! test on real gold texts, and corpus_boilerplate on same-site pages.

mod annotate;
mod boilerplate;
mod chrome_corpus;
mod common;
mod corpus;
mod golden;
mod loso;
mod robust;
mod twins;
