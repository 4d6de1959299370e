//! `sample`: keeps a fixed fraction of documents, chosen by a hash of their id.
//!
//! # What it does
//! Each document draws `u = (xxh3_64(id, seed) >> 11) / 2^53`, a number in [0, 1) (XXH3's
//! 64-bit hash of the id's UTF-8 bytes with `seed`, its top 53 bits); it is kept when
//! `u < rate` and otherwise rejected as `sample:not_sampled` with `u` as the value. The same
//! id, seed and rate always give the same decision, whatever the thread count, the input
//! order or the other documents; a higher rate keeps a superset of a lower one's documents.
//!
//! # Why
//! Teams sample a corpus to try a recipe, or to fix a dataset's size; a sample that a rerun
//! reproduces (and that grows by raising the rate) makes runs comparable.
//!
//! # Source of each threshold
//! datatrove 0.10.1 `SamplerFilter` (`rate` 0.5 kept). datatrove draws from numpy's generator
//! in document order, so its choice depends on the order and on which task reads which
//! document; here the draw is a hash of the id instead, so the decisions are not datatrove's
//! (the kept fraction is the same in expectation). Documents with the same id get the same
//! decision.
//!
//! # Example
//! ```
//! use thresher_core::{Document, Outcome, StepConfig, StepCx};
//! use thresher_filters::SampleConfig;
//!
//! let step = SampleConfig { rate: 0.25, seed: 7 }.build().unwrap();
//! let mut cx = StepCx::default();
//! let kept = (0..10_000)
//!     .filter(|i| matches!(step.process(Document::new(i.to_string(), "t"), &mut cx), Outcome::Keep(_)))
//!     .count();
//! assert!((2300..2700).contains(&kept));
//! ```

use serde::{Deserialize, Serialize};
use std::ops::ControlFlow;
use thresher_core::check::check_fraction;

use thresher_core::{Document, Filter, Outcome, Result, Rules, Step, StepConfig, StepCx};

/// Recipe parameters of `sample` (defaults: datatrove's `SamplerFilter`, seed 0).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct SampleConfig {
    /// Fraction of documents kept, in [0, 1].
    pub rate: f64,
    /// Seed of the id hash: another seed draws another sample.
    pub seed: u64,
}

impl Default for SampleConfig {
    fn default() -> Self {
        SampleConfig { rate: 0.5, seed: 0 }
    }
}

impl StepConfig for SampleConfig {
    /// `rate` is a fraction.
    fn validate(&self) -> Result<()> {
        check_fraction("sample", "rate", self.rate)
    }

    fn build(self) -> Result<Box<dyn Step>> {
        self.validate()?;
        Ok(Box::new(Sample { cfg: self }))
    }
}

/// The `sample` step; see the module documentation.
#[derive(Debug)]
pub struct Sample {
    cfg: SampleConfig,
}

impl Sample {
    /// The document's draw in [0, 1): the top 53 bits of XXH3-64 of the id with the seed.
    pub fn draw(&self, id: &str) -> f64 {
        let h = xxhash_rust::xxh3::xxh3_64_with_seed(id.as_bytes(), self.cfg.seed);
        (h >> 11) as f64 / (1u64 << 53) as f64
    }
}

impl Step for Sample {
    fn name(&self) -> &str {
        "sample"
    }

    fn process(&self, doc: Document, cx: &mut StepCx) -> Outcome {
        Rules::filter().run(self, doc, cx, "sample")
    }

    fn as_filter(&self) -> Option<&dyn Filter> {
        Some(self)
    }
}

impl Filter for Sample {
    /// Annotates `draw`, the document's number in [0, 1): kept when below `rate`.
    fn judge(&self, doc: &mut Document, _cx: &mut StepCx, rules: &mut Rules) -> ControlFlow<()> {
        let u = self.draw(&doc.id);
        rules.rule("draw", u, u >= self.cfg.rate, "sample:not_sampled")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept(rate: f64, seed: u64) -> Vec<usize> {
        let step = Sample {
            cfg: SampleConfig { rate, seed },
        };
        let mut cx = StepCx::default();
        (0..20_000)
            .filter(|i| {
                let doc = Document::new(format!("doc-{i}"), "text");
                matches!(step.process(doc, &mut cx), Outcome::Keep(_))
            })
            .collect()
    }

    #[test]
    fn rate_is_kept_fraction_and_samples_nest() {
        let low = kept(0.1, 0);
        let high = kept(0.3, 0);
        // 20,000 draws: the standard deviation of the count is about 42 (rate 0.1), 65 (0.3).
        assert!((1800..2200).contains(&low.len()), "{}", low.len());
        assert!((5700..6300).contains(&high.len()), "{}", high.len());
        assert!(low.iter().all(|i| high.binary_search(i).is_ok()));
        assert_ne!(kept(0.1, 1), low, "another seed, another sample");
        assert_eq!(kept(0.1, 0), low, "deterministic");
        assert!(kept(0.0, 0).is_empty());
        assert_eq!(kept(1.0, 0).len(), 20_000);
    }

    #[test]
    fn draw_is_the_documented_hash() {
        let step = Sample {
            cfg: SampleConfig::default(),
        };
        let h = xxhash_rust::xxh3::xxh3_64_with_seed(b"abc", 0);
        assert_eq!(step.draw("abc"), (h >> 11) as f64 / 9_007_199_254_740_992.0);
        assert!(SampleConfig { rate: 1.5, seed: 0 }.validate().is_err());
    }
}
