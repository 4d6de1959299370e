// Shared by build.rs (`include!`) and the library: how an n-gram becomes a table key, and what
// the table stores for a language that knows none of an n-gram's prefixes.
// An n-gram of 1 to 5 characters is packed 21 bits per character (every Unicode scalar fits),
// then mixed to 64 bits: the high 32 bits are the stored fingerprint, the low 32 pick the home slot.

/// What an n-gram adds for a language that knows none of its prefixes, as q = -1000 ln p:
/// ln p = -3 (lingua adds 0 there, which rewards a language for *not* knowing a letter). Dense
/// rows of 2 or more characters hold it in place of "unknown" (0), so adding them needs no
/// substitution; letters' rows keep 0, which tells which letters a language knows.
pub const MISSING_Q: u16 = 3000;

/// Packs the characters of an n-gram (at most 5) into one integer key.
#[inline]
pub fn pack_ngram(chars: &[char]) -> u128 {
    let mut packed = 0u128;
    for (i, &c) in chars.iter().enumerate() {
        packed |= (c as u128) << (21 * i);
    }
    packed
}

/// Mixes a packed n-gram into a well-spread 64-bit hash.
#[inline]
pub fn ngram_hash(packed: u128) -> u64 {
    let lo = packed as u64;
    let hi = (packed >> 64) as u64;
    let mut h = lo.wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ hi.wrapping_mul(0xC2B2_AE3D_27D4_EB4F).rotate_left(31);
    h ^= h >> 29;
    h = h.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    h ^= h >> 32;
    h = h.wrapping_mul(0x94D0_49BB_1331_11EB);
    h ^ (h >> 31)
}

/// The fingerprint stored in a slot (never 0: 0 marks an empty slot).
#[inline]
pub fn fingerprint(hash: u64) -> u32 {
    ((hash >> 32) as u32) | 1
}

/// The home slot of a hash in a table of `slots` slots.
#[inline]
pub fn home_slot(hash: u64, slots: u32) -> u32 {
    (((hash as u32) as u64 * slots as u64) >> 32) as u32
}
