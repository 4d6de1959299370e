//! A Bloom filter sized from the expected number of items and the false-positive rate.
//!
//! Sizing (the textbook optimum): `m = ceil(-n ln p / (ln 2)^2)` bits and `k = round(m/n ln 2)`
//! hash functions for `n` expected items and false-positive rate `p`. Bit positions come from
//! one 128-bit hash by double hashing (`h1 + i h2`, Kirsch and Mitzenmacher), mapped to `0..m`
//! by a multiply-shift instead of a division.

/// First bytes of a filter file (then bits, hashes and words as little-endian `u64`s, then the
/// words, little-endian).
const BLOOM_MAGIC: &[u8; 8] = b"THRBLM01";

/// A Bloom filter over 128-bit item hashes.
#[derive(Debug, Clone)]
pub struct BloomFilter {
    words: Vec<u64>,
    bits: u64,
    hashes: u32,
    inserted: u64,
    expected: u64,
    fp_rate: f64,
}

/// Why a filter could not be sized.
#[derive(Debug, Clone, PartialEq)]
pub enum BloomSizeError {
    /// `expected` was 0 or the rate not strictly between 0 and 1.
    BadParams,
    /// The filter would need more bytes than allowed.
    TooBig {
        /// Bytes the filter would need.
        bytes: u64,
    },
}

impl BloomFilter {
    /// Bits and hash count for `expected` items at false-positive rate `fp_rate`.
    pub fn size_for(expected: u64, fp_rate: f64) -> Result<(u64, u32), BloomSizeError> {
        if expected == 0 || !(fp_rate > 0.0 && fp_rate < 1.0) {
            return Err(BloomSizeError::BadParams);
        }
        let ln2 = std::f64::consts::LN_2;
        let bits = (-(expected as f64) * fp_rate.ln() / (ln2 * ln2))
            .ceil()
            .max(64.0);
        let hashes = ((bits / expected as f64) * ln2).round().clamp(1.0, 32.0) as u32;
        Ok((bits as u64, hashes))
    }

    /// A filter for `expected` items at `fp_rate`, refusing to allocate more than `max_bytes`.
    pub fn new(expected: u64, fp_rate: f64, max_bytes: u64) -> Result<Self, BloomSizeError> {
        let (bits, hashes) = Self::size_for(expected, fp_rate)?;
        let words = bits.div_ceil(64);
        let bytes = words.saturating_mul(8);
        if bytes > max_bytes {
            return Err(BloomSizeError::TooBig { bytes });
        }
        let words = usize::try_from(words).map_err(|_| BloomSizeError::TooBig { bytes })?;
        Ok(BloomFilter {
            words: vec![0; words],
            bits,
            hashes,
            inserted: 0,
            expected,
            fp_rate,
        })
    }

    #[inline]
    fn positions(&self, h: u128) -> impl Iterator<Item = u64> + '_ {
        let h1 = h as u64;
        // Odd, so that the positions of one item are all different for any m.
        let h2 = ((h >> 64) as u64) | 1;
        (0..u64::from(self.hashes)).map(move |i| {
            let x = h1.wrapping_add(i.wrapping_mul(h2));
            ((u128::from(x) * u128::from(self.bits)) >> 64) as u64
        })
    }

    /// Whether the item is (probably) in the filter.
    pub fn contains(&self, h: u128) -> bool {
        self.positions(h)
            .all(|p| self.words[(p / 64) as usize] & (1 << (p % 64)) != 0)
    }

    /// Adds the item. Returns whether it was (probably) there already, so that a check and an
    /// insertion are one operation and an item is never counted twice.
    pub fn insert(&mut self, h: u128) -> bool {
        let mut present = true;
        let positions: Vec<u64> = self.positions(h).collect();
        for p in positions {
            let w = &mut self.words[(p / 64) as usize];
            let bit = 1u64 << (p % 64);
            present &= *w & bit != 0;
            *w |= bit;
        }
        if !present {
            self.inserted += 1;
        }
        present
    }

    /// Number of bits.
    pub fn bits(&self) -> u64 {
        self.bits
    }

    /// Bytes held by the bit array.
    pub fn bytes(&self) -> u64 {
        self.words.len() as u64 * 8
    }

    /// Number of hash functions.
    pub fn hashes(&self) -> u32 {
        self.hashes
    }

    /// Items inserted that were not (probably) present before.
    pub fn inserted(&self) -> u64 {
        self.inserted
    }

    /// The expected item count the filter was sized for.
    pub fn expected(&self) -> u64 {
        self.expected
    }

    /// The false-positive rate the filter was sized for.
    pub fn target_fp_rate(&self) -> f64 {
        self.fp_rate
    }

    /// The false-positive rate now, from the number of items inserted:
    /// `(1 - e^(-k n / m))^k`.
    pub fn current_fp_rate(&self) -> f64 {
        let k = f64::from(self.hashes);
        (1.0 - (-k * self.inserted as f64 / self.bits as f64).exp()).powf(k)
    }

    /// Writes the filter's shape and bits (8 magic bytes `THRBLM01`; bits, hashes and words as
    /// little-endian `u64`s; the words, little-endian), for a sharded run's next
    /// stage ([`BloomFilter::or_from`]).
    pub fn write_to(&self, w: &mut dyn std::io::Write) -> std::io::Result<()> {
        w.write_all(BLOOM_MAGIC)?;
        for v in [self.bits, u64::from(self.hashes), self.words.len() as u64] {
            w.write_all(&v.to_le_bytes())?;
        }
        let mut buf = Vec::with_capacity(1 << 16);
        for chunk in self.words.chunks(1 << 13) {
            buf.clear();
            for x in chunk {
                buf.extend_from_slice(&x.to_le_bytes());
            }
            w.write_all(&buf)?;
        }
        Ok(())
    }

    /// Sets every bit that the filter written to `r` (by [`BloomFilter::write_to`]) has set:
    /// the union of the two filters' items, false positives included. The written filter must
    /// have this one's bits and hash count; `inserted` is left as it is. Errors name what does
    /// not match.
    pub fn or_from(&mut self, r: &mut dyn std::io::Read) -> Result<(), String> {
        let mut magic = [0u8; 8];
        r.read_exact(&mut magic)
            .map_err(|e| format!("not a Bloom filter file: {e}"))?;
        if &magic != BLOOM_MAGIC {
            return Err("not a Bloom filter file (written by a collect stage)".into());
        }
        let mut head = [0u64; 3];
        for h in &mut head {
            let mut b = [0u8; 8];
            r.read_exact(&mut b)
                .map_err(|e| format!("truncated Bloom filter header: {e}"))?;
            *h = u64::from_le_bytes(b);
        }
        let [bits, hashes, words] = head;
        if bits != self.bits || hashes != u64::from(self.hashes) || words != self.words.len() as u64
        {
            return Err(format!(
                "a filter of {bits} bits and {hashes} hashes; the step's has {} bits and {} \
                 hashes (the stages must use the same `expected_paragraphs` and `fp_rate`)",
                self.bits, self.hashes
            ));
        }
        let mut buf = vec![0u8; 1 << 16];
        let mut i = 0;
        while i < self.words.len() {
            let n = (self.words.len() - i).min(buf.len() / 8);
            r.read_exact(&mut buf[..n * 8])
                .map_err(|e| format!("truncated Bloom filter: {e}"))?;
            for (w, b) in self.words[i..i + n].iter_mut().zip(buf.chunks_exact(8)) {
                *w |= u64::from_le_bytes(b.try_into().expect("8 bytes"));
            }
            i += n;
        }
        if r.read(&mut buf[..1]).map_err(|e| e.to_string())? != 0 {
            return Err("trailing bytes after the filter's bits".into());
        }
        Ok(())
    }

    /// Fraction of bits set.
    pub fn fill_ratio(&self) -> f64 {
        let ones: u64 = self.words.iter().map(|w| u64::from(w.count_ones())).sum();
        ones as f64 / self.bits as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(i: u64) -> u128 {
        xxhash_rust::xxh3::xxh3_128(&i.to_le_bytes())
    }

    #[test]
    fn sizing_follows_the_formula() {
        // n = 1e6, p = 1%: m = 9,585,059 bits (about 1.14 MiB), k = 7.
        let (m, k) = BloomFilter::size_for(1_000_000, 0.01).unwrap();
        assert_eq!((m, k), (9_585_059, 7));
        let (m, k) = BloomFilter::size_for(1_000, 0.001).unwrap();
        assert_eq!((m, k), (14_378, 10));
        assert_eq!(
            BloomFilter::size_for(0, 0.01),
            Err(BloomSizeError::BadParams)
        );
        assert_eq!(
            BloomFilter::size_for(10, 1.0),
            Err(BloomSizeError::BadParams)
        );
        assert!(matches!(
            BloomFilter::new(1 << 40, 0.01, 1 << 30),
            Err(BloomSizeError::TooBig { .. })
        ));
    }

    #[test]
    fn measured_false_positive_rate_is_near_the_target() {
        let n = 20_000u64;
        let mut f = BloomFilter::new(n, 0.01, 1 << 30).unwrap();
        // Distinct items reported present while filling are false positives too, and rarer
        // than at the end since the filter is emptier.
        let early_fp = (0..n).filter(|&i| f.insert(h(i))).count();
        assert!(early_fp < (n / 200) as usize, "{early_fp}");
        assert_eq!(f.inserted() + early_fp as u64, n);
        assert!((0..n).all(|i| f.contains(h(i))), "no false negatives");
        let fp = (n..n + 100_000).filter(|&i| f.contains(h(i))).count() as f64 / 100_000.0;
        assert!(fp < 0.015 && fp > 0.005, "measured FP rate {fp}");
        assert!((f.current_fp_rate() - 0.01).abs() < 0.003);
    }

    /// The union of two filters written and read back holds the items of both, bit for bit
    /// the filter of all the items; a filter of another size is refused.
    #[test]
    fn union_of_written_filters_is_the_filter_of_all_items() {
        let mut all = BloomFilter::new(1000, 0.01, 1 << 20).unwrap();
        let mut parts = [all.clone(), all.clone()];
        for i in 0..600u64 {
            all.insert(h(i));
            parts[(i % 2) as usize].insert(h(i));
        }
        let mut u = BloomFilter::new(1000, 0.01, 1 << 20).unwrap();
        for p in &parts {
            let mut buf = Vec::new();
            p.write_to(&mut buf).unwrap();
            u.or_from(&mut buf.as_slice()).unwrap();
        }
        assert_eq!(u.words, all.words);
        let mut buf = Vec::new();
        parts[0].write_to(&mut buf).unwrap();
        let mut other = BloomFilter::new(2000, 0.01, 1 << 20).unwrap();
        let e = other.or_from(&mut buf.as_slice()).unwrap_err();
        assert!(e.contains("bits"), "{e}");
        assert!(u.or_from(&mut &buf[..buf.len() - 1]).is_err());
        assert!(u.or_from(&mut &b"hello world, not a filter"[..]).is_err());
    }

    #[test]
    fn insert_reports_presence_and_counts_once() {
        let mut f = BloomFilter::new(100, 0.001, 1 << 20).unwrap();
        assert!(!f.insert(h(1)));
        assert!(f.insert(h(1)));
        assert!(f.insert(h(1)));
        assert_eq!(f.inserted(), 1);
    }
}
