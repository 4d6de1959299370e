//! The embedded n-gram table (built by build.rs from lingua-rs's models; layout documented there).

use crate::hash::{fingerprint, home_slot, ngram_hash};
use crate::lang::LANGUAGE_COUNT;
use std::sync::OnceLock;

static TABLE_BYTES: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/langid.bin"));

/// One n-gram table per length, over the embedded bytes (no copy, no parse).
pub(crate) struct Model {
    bytes: &'static [u8],
    /// (slot count, byte offset of the slots) for n-gram lengths 1..=5 at index 0..=4.
    orders: [(u32, usize); 5],
    postings: usize,
}

#[inline]
fn u32_at(b: &[u8], at: usize) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(a)
}

#[inline]
fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

impl Model {
    /// The embedded model, checked once.
    pub(crate) fn get() -> &'static Model {
        static MODEL: OnceLock<Model> = OnceLock::new();
        MODEL.get_or_init(|| Model::parse(TABLE_BYTES))
    }

    fn parse(bytes: &'static [u8]) -> Model {
        // The table is produced by our own build script in the same build: a mismatch is a build
        // bug, not an input error, so it is fatal.
        assert!(
            bytes.len() > 88 && &bytes[..8] == b"THLID001",
            "langid table: bad magic"
        );
        assert_eq!(
            u32_at(bytes, 8) as usize,
            LANGUAGE_COUNT,
            "langid table: language count"
        );
        let mut orders = [(0u32, 0usize); 5];
        for (n, o) in orders.iter_mut().enumerate() {
            let at = 12 + n * 12;
            *o = (u32_at(bytes, at), u64_at(bytes, at + 4) as usize);
            assert!(
                o.1 + o.0 as usize * 8 <= bytes.len(),
                "langid table: slots out of range"
            );
        }
        let postings = u64_at(bytes, 72) as usize;
        let count = u64_at(bytes, 80) as usize;
        assert_eq!(
            postings + count * 3,
            bytes.len(),
            "langid table: postings size"
        );
        Model {
            bytes,
            orders,
            postings,
        }
    }

    /// Size of the embedded table in bytes.
    pub(crate) fn size(&self) -> usize {
        self.bytes.len()
    }

    /// Finds the postings of an n-gram of `n` characters (packed by `pack_ngram`): the byte
    /// offset of its first posting, or None when no language has it.
    #[inline]
    pub(crate) fn find(&self, n: usize, packed: u128) -> Option<usize> {
        let (slots, base) = self.orders[n - 1];
        let h = ngram_hash(packed);
        let fp = fingerprint(h);
        let mut s = home_slot(h, slots);
        loop {
            let v = u64_at(self.bytes, base + s as usize * 8);
            if v == 0 {
                return None;
            }
            if (v >> 32) as u32 == fp {
                return Some(self.postings + (v as u32 as usize) * 3);
            }
            s += 1;
            if s == slots {
                s = 0;
            }
        }
    }

    /// Calls `f(language index, ln p)` for each posting of a list found by `find`.
    #[inline]
    pub(crate) fn for_each_posting(&self, mut at: usize, mut f: impl FnMut(usize, f32)) {
        loop {
            let b = self.bytes[at];
            let q = u16::from_le_bytes([self.bytes[at + 1], self.bytes[at + 2]]);
            f((b & 0x7f) as usize, -(q as f32) / 1000.0);
            if b & 0x80 != 0 {
                return;
            }
            at += 3;
        }
    }
}
