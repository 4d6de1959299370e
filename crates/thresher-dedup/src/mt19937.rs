//! The Mersenne Twister as numpy's legacy `RandomState` uses it, and its bounded 64-bit integers.
//!
//! Why: datatrove draws the MinHash permutation parameters with
//! `np.random.RandomState(seed).randint(low, high, dtype=np.uint64, size=...)`. Producing the
//! same parameters from the same seed is what makes our signatures equal to datatrove's, so this
//! re-implements the two pieces involved: MT19937 seeded with a 32-bit integer (`init_genrand`)
//! and numpy's masked rejection sampling for 64-bit ranges (two 32-bit outputs, high word first).

const N: usize = 624;
const M: usize = 397;
const MATRIX_A: u32 = 0x9908_b0df;
const UPPER_MASK: u32 = 0x8000_0000;
const LOWER_MASK: u32 = 0x7fff_ffff;

/// A 32-bit Mersenne Twister (MT19937).
pub(crate) struct Mt19937 {
    state: [u32; N],
    pos: usize,
}

impl Mt19937 {
    /// Seeds the generator as `RandomState(seed)` does for an integer seed below 2^32.
    pub(crate) fn new(seed: u32) -> Self {
        let mut state = [0u32; N];
        state[0] = seed;
        for i in 1..N {
            let prev = state[i - 1];
            state[i] = 1_812_433_253u32
                .wrapping_mul(prev ^ (prev >> 30))
                .wrapping_add(i as u32);
        }
        Mt19937 { state, pos: N }
    }

    fn regenerate(&mut self) {
        for i in 0..N {
            let y = (self.state[i] & UPPER_MASK) | (self.state[(i + 1) % N] & LOWER_MASK);
            let mut v = self.state[(i + M) % N] ^ (y >> 1);
            if y & 1 == 1 {
                v ^= MATRIX_A;
            }
            self.state[i] = v;
        }
        self.pos = 0;
    }

    /// The next 32-bit output.
    pub(crate) fn next_u32(&mut self) -> u32 {
        if self.pos >= N {
            self.regenerate();
        }
        let mut y = self.state[self.pos];
        self.pos += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^= y >> 18;
        y
    }

    /// The next 64-bit output: numpy joins two 32-bit outputs, the first one as the high word.
    pub(crate) fn next_u64(&mut self) -> u64 {
        let hi = u64::from(self.next_u32());
        let lo = u64::from(self.next_u32());
        (hi << 32) | lo
    }

    /// A uniform integer in `low..high` (`high` exclusive, `low < high`, range wider than
    /// 32 bits), drawn as `RandomState.randint(low, high, dtype=np.uint64)` draws it.
    pub(crate) fn randint_u64(&mut self, low: u64, high: u64) -> u64 {
        let rng = high.saturating_sub(low).saturating_sub(1);
        // numpy's mask: the smallest all-ones value covering the range.
        let mask = if rng == 0 {
            0
        } else {
            u64::MAX >> rng.leading_zeros()
        };
        loop {
            let v = self.next_u64() & mask;
            if v <= rng {
                return low + v;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: u64 = (1 << 61) - 1;

    #[test]
    fn same_draws_as_numpy_random_state() {
        // numpy 2.4.6: RandomState(1).randint(1, P, dtype=uint64, size=112), then (0, P).
        let mut g = Mt19937::new(1);
        let a: Vec<u64> = (0..112).map(|_| g.randint_u64(1, P)).collect();
        let b: Vec<u64> = (0..112).map(|_| g.randint_u64(0, P)).collect();
        assert_eq!(
            &a[..3],
            &[775169054918279404, 1758426461858698313, 2109959069025162]
        );
        assert_eq!(a[111], 223865076026037746);
        assert_eq!(
            &b[..3],
            &[
                1062448801025099917,
                1324811268927594100,
                1217488311597731462
            ]
        );
        assert_eq!(b[111], 1097409548522419201);
        let mut g = Mt19937::new(42);
        let c: Vec<u64> = (0..4).map(|_| g.randint_u64(1, P)).collect();
        assert_eq!(
            c,
            [
                2297359619001564596,
                1396682528897996047,
                1973689801170867272,
                1819927849474927637
            ]
        );
    }
}
