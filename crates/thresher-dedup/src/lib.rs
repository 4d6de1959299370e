//! Deduplication steps.
//!
//! - [`ExactDedup`] (`exact_dedup`): whole-document exact dedup on a normalised text hash.
//! - [`MinhashDedup`] (`minhash_dedup`): near-duplicate removal with MinHash-LSH, out of core
//!   and shardable; the `fineweb` profile reproduces datatrove's MinHash.
//! - [`ParagraphDedup`] (`paragraph_dedup`): exact paragraph-level dedup across documents with
//!   a Bloom filter sized from the expected count and false-positive rate.
//! - [`SentenceDedup`] (`sentence_dedup`): removes spans of 3 sentences seen before (C4's rule,
//!   as datatrove's `SentenceDedup` does it).
#![warn(missing_docs)]

pub mod bloom;
pub mod cc;
mod exact;
pub mod lsh;
mod minhash;
mod mt19937;
pub mod normalize;
mod paragraph;
mod sentence;
pub mod signature;
pub mod union_find;

pub use exact::{normalize_bytes, normalize_for_exact, ExactDedup, ExactDedupConfig};
pub use lsh::{cluster_work_dir, ClusterOptions, ClusterReport, Keeper};
pub use minhash::{catch_probability, MinhashDedup, MinhashDedupConfig, Profile, Stage, PROFILES};
pub use normalize::{simplify_text, TextNorm};
pub use paragraph::{ParagraphDedup, ParagraphDedupConfig, ParagraphStage};
pub use sentence::{SentenceDedup, SentenceDedupConfig};
pub use signature::{MinHasher, SigScratch, SignatureParams};
