//! MinHash signatures: shingles of normalised words, hashed, then permuted and minimised.
//!
//! The scheme is datatrove's (`pipeline/dedup/minhash.py`, version 0.10.1):
//! - the text is normalised by [`simplify_text`] and split into words by
//!   [`thresher_text::split_into_words`];
//! - each run of `n_grams` consecutive words, joined by single spaces, is hashed with 64-bit
//!   xxHash (XXH64, seed 0); a text with fewer words than `n_grams` has no shingle and no
//!   signature;
//! - hash function `i` maps a shingle hash `s` to `((a_i * s + b_i) mod 2^64) mod (2^61 - 1)`.
//!   The `mod 2^64` is numpy's silent `uint64` overflow in datatrove's `shingles * a + b`; we
//!   reproduce it on purpose, since the goal of the `fineweb` profile is the same signatures;
//! - `a_i` and `b_i` are drawn from numpy's `RandomState(seed)` (see `mt19937`);
//! - the signature is the minimum of each hash function over the shingles, cut into `bands`
//!   bands of `rows` values.

use thresher_core::{Error, Result};

use crate::mt19937::Mt19937;
use crate::normalize::{simplify_text, TextNorm};

/// The Mersenne prime 2^61 - 1, the modulus of datatrove's universal hash family.
pub const MERSENNE_61: u64 = (1 << 61) - 1;

/// The parameters that define a signature (and so which documents can ever collide).
#[derive(Debug, Clone, PartialEq)]
pub struct SignatureParams {
    /// Words per shingle.
    pub n_grams: usize,
    /// Number of LSH bands (datatrove's `num_buckets`).
    pub bands: usize,
    /// Hash values per band (datatrove's `hashes_per_bucket`).
    pub rows: usize,
    /// Seed of the permutation parameters (numpy `RandomState` seed).
    pub seed: u32,
    /// Normalisation applied before splitting into words.
    pub norm: TextNorm,
}

/// Computes MinHash signatures; built once, shared by all threads.
#[derive(Debug, Clone)]
pub struct MinHasher {
    params: SignatureParams,
    a: Vec<u64>,
    b: Vec<u64>,
}

/// Reusable buffers for [`MinHasher`], one per thread.
#[derive(Default)]
pub struct SigScratch {
    norm: String,
    shingle: String,
    /// The shingle hashes of the last document (see [`MinHasher::shingles`]).
    pub shingles: Vec<u64>,
    /// Byte ranges of the words of `norm`.
    spans: Vec<(usize, usize)>,
}

/// Buffers of more than this many words are not kept for the next document: one huge page
/// must not pin its memory (the shingle hashes, which the caller still reads, stay).
const KEEP_MAX_WORDS: usize = 1 << 18;

fn shrink_if_huge(scratch: &mut SigScratch) {
    if scratch.spans.capacity() > KEEP_MAX_WORDS {
        scratch.spans = Vec::new();
        scratch.norm = String::new();
    }
}

impl SigScratch {
    /// Sorts the shingle hashes and drops repeats: the shingle *set*, which true-Jaccard
    /// verification compares.
    pub fn sort_dedup(&mut self) {
        self.shingles.sort_unstable();
        self.shingles.dedup();
    }
}

impl MinHasher {
    /// Draws the permutation parameters; errors on a zero-sized shingle, band or row count.
    pub fn new(params: SignatureParams) -> Result<Self> {
        if params.n_grams == 0 || params.bands == 0 || params.rows == 0 {
            return Err(Error::config(
                "minhash_dedup",
                "n_grams, bands and rows must all be at least 1",
            ));
        }
        let n = params.bands.saturating_mul(params.rows);
        if n > 1 << 16 {
            return Err(Error::config(
                "minhash_dedup",
                format!("bands x rows = {n} hash functions is more than 65536"),
            ));
        }
        let mut rng = Mt19937::new(params.seed);
        // Same call order as datatrove: all `a` first (from 1), then all `b` (from 0).
        let a = (0..n).map(|_| rng.randint_u64(1, MERSENNE_61)).collect();
        let b = (0..n).map(|_| rng.randint_u64(0, MERSENNE_61)).collect();
        Ok(MinHasher { params, a, b })
    }

    /// The parameters this hasher was built with.
    pub fn params(&self) -> &SignatureParams {
        &self.params
    }

    /// Number of hash values in a signature (`bands * rows`).
    pub fn num_hashes(&self) -> usize {
        self.a.len()
    }

    /// Fills `scratch.shingles` with the shingle hashes of `text`, in text order (repeats
    /// included: they do not change a minimum). See [`SigScratch::sort_dedup`] for a set.
    pub fn shingles(&self, text: &str, scratch: &mut SigScratch) {
        scratch.shingles.clear();
        simplify_text(text, &self.params.norm, &mut scratch.norm);
        let norm = scratch.norm.as_str();
        // The words as byte ranges of `norm` (datatrove's `split_into_words`, whose words are
        // these slices), in a buffer kept with the scratch: no list of slices beside it.
        let spans = &mut scratch.spans;
        spans.clear();
        thresher_text::SpacyEnTokenizer.tokenize_spans_into(norm, spans);
        let n = self.params.n_grams;
        if spans.len() < n {
            shrink_if_huge(scratch);
            return;
        }
        // A window whose words are separated by single spaces is a slice of `norm` equal to the
        // words joined by spaces, and is hashed in place instead of being copied. `last_bad`:
        // the last word so far whose gap before it is not exactly one space.
        let bytes = norm.as_bytes();
        let mut last_bad = 0;
        scratch.shingles.reserve(spans.len() + 1 - n);
        for last in 0..spans.len() {
            if last > 0 {
                let (prev_end, next_start) = (spans[last - 1].1, spans[last].0);
                if !(next_start == prev_end + 1 && bytes.get(prev_end) == Some(&b' ')) {
                    last_bad = last;
                }
            }
            if last + 1 < n {
                continue;
            }
            let i = last + 1 - n;
            let hash = if last_bad <= i {
                xxhash_rust::xxh64::xxh64(&bytes[spans[i].0..spans[last].1], 0)
            } else {
                scratch.shingle.clear();
                for (k, &(a, b)) in spans[i..=last].iter().enumerate() {
                    if k > 0 {
                        scratch.shingle.push(' ');
                    }
                    scratch.shingle.push_str(&norm[a..b]);
                }
                xxhash_rust::xxh64::xxh64(scratch.shingle.as_bytes(), 0)
            };
            scratch.shingles.push(hash);
        }
        shrink_if_huge(scratch);
    }

    /// Writes the signature of a (non-empty) shingle set into `sig` (`bands * rows` values).
    pub fn signature_of(&self, shingles: &[u64], sig: &mut Vec<u64>) {
        sig.clear();
        sig.resize(self.a.len(), u64::MAX);
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU supports AVX2 (checked just above), the only requirement of
                // a `#[target_feature(enable = "avx2")]` function.
                unsafe { min_hashes_avx2(&self.a, &self.b, shingles, sig) };
                return;
            }
        }
        min_hashes(&self.a, &self.b, shingles, sig);
    }

    /// Shingles and signature of `text` in one call; `false` (and `sig` empty) when the text
    /// has fewer than `n_grams` words.
    pub fn signature(&self, text: &str, scratch: &mut SigScratch, sig: &mut Vec<u64>) -> bool {
        self.shingles(text, scratch);
        if scratch.shingles.is_empty() {
            sig.clear();
            return false;
        }
        self.signature_of(&scratch.shingles, sig);
        true
    }
}

/// The core loop: for each hash function, the minimum over all shingles. The inner loop is a
/// min-reduction over the contiguous shingle array, which the compiler vectorises with the
/// running minimum kept in registers (the other loop order, min over 112 stored values per
/// shingle, became masked stores, which are slow on AMD CPUs). Every value after the first
/// reduction is below 2^62, so the comparisons are done on `i64`: AVX2 has a signed 64-bit
/// compare but no unsigned one.
#[inline(always)]
fn min_hashes_body(a: &[u64], b: &[u64], shingles: &[u64], sig: &mut [u64]) {
    const P: i64 = MERSENNE_61 as i64;
    for ((&ai, &bi), out) in a.iter().zip(b).zip(sig.iter_mut()) {
        let m = shingles
            .iter()
            .map(|&s| {
                let x = ai.wrapping_mul(s).wrapping_add(bi);
                // x mod (2^61 - 1) without a division: x = hi * 2^61 + lo and 2^61 = 1, so
                // x = hi + lo (mod p), and hi + lo <= p + 7 needs one conditional subtraction.
                let r = ((x & MERSENNE_61) + (x >> 61)) as i64;
                if r >= P {
                    r - P
                } else {
                    r
                }
            })
            .fold(i64::MAX, i64::min);
        *out = (*out).min(m as u64);
    }
}

fn min_hashes(a: &[u64], b: &[u64], shingles: &[u64], sig: &mut [u64]) {
    min_hashes_body(a, b, shingles, sig);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn min_hashes_avx2(a: &[u64], b: &[u64], shingles: &[u64], sig: &mut [u64]) {
    min_hashes_body(a, b, shingles, sig);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fineweb() -> MinHasher {
        MinHasher::new(SignatureParams {
            n_grams: 5,
            bands: 14,
            rows: 8,
            seed: 1,
            norm: TextNorm::default(),
        })
        .unwrap()
    }

    #[test]
    fn shingle_hash_is_xxh64_of_space_joined_words() {
        // datatrove: xxhash.xxh64_intdigest("a b c d e") = 10121740836305097868.
        let h = fineweb();
        let mut sc = SigScratch::default();
        h.shingles("A, b; C d E!", &mut sc);
        assert_eq!(sc.shingles, vec![10121740836305097868]);
        // Extra spaces, and words the tokenizer splits without a space ("cannot"): the joined
        // form is hashed either way.
        h.shingles("a  b c d e", &mut sc);
        assert_eq!(sc.shingles, vec![10121740836305097868]);
        h.shingles("we cannot stop", &mut sc);
        let want = vec![xxhash_rust::xxh64::xxh64(b"we can not stop", 0)];
        let h4 = MinHasher::new(SignatureParams {
            n_grams: 4,
            ..h.params().clone()
        })
        .unwrap();
        h4.shingles("we cannot stop", &mut sc);
        assert_eq!(sc.shingles, want);
        h.shingles("a b c d", &mut sc);
        assert!(sc.shingles.is_empty());
    }

    #[test]
    fn signature_equals_datatrove() {
        // datatrove 0.10.1 MinhashDedupSignature().get_signature(get_shingles(TEXT)): band 0 and
        // the last value of band 13.
        const TEXT: &str = "The quick brown fox jumps over the lazy dog. Numbers like 3.14 and \
                            2,718 are normalised; Café au lait!";
        let h = fineweb();
        let (mut sc, mut sig) = (SigScratch::default(), Vec::new());
        assert!(h.signature(TEXT, &mut sc, &mut sig));
        assert_eq!(
            &sig[..8],
            &[
                85330943174081874,
                2718609169349332,
                302227827184868053,
                34440879854629237,
                126829734303978567,
                117899488208280896,
                163739360740614983,
                204404170303891102
            ]
        );
        assert_eq!(sig[111], 3963570588256049);
    }

    #[test]
    fn vectorised_and_plain_loops_agree() {
        let h = fineweb();
        let shingles: Vec<u64> = (0..50u64)
            .map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15))
            .collect();
        let mut s1 = Vec::new();
        h.signature_of(&shingles, &mut s1);
        let mut s2 = vec![u64::MAX; h.num_hashes()];
        min_hashes(&h.a, &h.b, &shingles, &mut s2);
        assert_eq!(s1, s2);
        // The reference definition, with the 64-bit wrap and the modulo done the slow way.
        for ((&a, &b), &got) in h.a.iter().zip(&h.b).zip(&s1) {
            let want = shingles
                .iter()
                .map(|&s| a.wrapping_mul(s).wrapping_add(b) % MERSENNE_61)
                .min()
                .unwrap();
            assert_eq!(got, want);
        }
    }
}
