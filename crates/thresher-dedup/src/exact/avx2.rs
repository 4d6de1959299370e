//! The AVX2 step of the `exact_dedup` normaliser: 32 bytes at a time without a branch per
//! whitespace run (see [`normalize_avx2`]).

use super::normalize::Pos;

/// For each 8-bit mask, the indices of its set bits in order: the `pshufb` control that packs
/// the bytes a mask keeps to the front of an 8-byte group.
static PACK: [u64; 256] = {
    let mut t = [0u64; 256];
    let mut m = 0;
    while m < 256 {
        let (mut bit, mut k, mut v) = (0, 0, 0u64);
        while bit < 8 {
            if m & (1 << bit) != 0 {
                v |= (bit as u64) << (8 * k);
                k += 1;
            }
            bit += 1;
        }
        t[m] = v;
        m += 1;
    }
    t
};

/// The AVX2 part of the normaliser (`normalize::normalize_into`): 32 bytes per step without a
/// branch per whitespace run. Each block is mapped (lower case, whitespace to space), the bytes
/// that the normalised text drops (whitespace after whitespace) are masked out, and the rest
/// are packed with `pshufb`. Returns at a non-ASCII byte outside the common characters that
/// normalise to themselves, which the general loop handles one character at a time, or when
/// fewer than 34 bytes are left.
///
/// Web text is mostly ASCII with whitespace runs everywhere (indentation and blank lines: half
/// the bytes of the benchmark texts): a loop that stops at each run mispredicts a branch or two
/// there; this one does not stop.
///
/// # Safety
/// The processor must support AVX2 and POPCNT. `out` must hold at least
/// `p.n + (src.len() - p.i) + 16` bytes (what the general loop keeps); this writes no more bytes
/// than it reads.
#[target_feature(enable = "avx2,popcnt")]
pub(super) unsafe fn normalize_avx2(src: &[u8], out: &mut [u8], p: &mut Pos) {
    use std::arch::x86_64::*;
    let (mut i, mut n) = (p.i, p.n);
    // Whether the byte before the block is whitespace (a space was written, or nothing yet).
    let mut prev_ws = u32::from(p.prev_space);
    let space = _mm256_set1_epi8(0x20);
    while i + 34 <= src.len() {
        // SAFETY: 34 bytes from `i` are in `src` (checked by the loop condition).
        let v = unsafe { _mm256_loadu_si256(src.as_ptr().add(i).cast::<__m256i>()) };
        let (lower, ws_v) = map32(v);
        let mut ws = _mm256_movemask_epi8(ws_v) as u32;
        let high = _mm256_movemask_epi8(v) as u32;
        if high == 0 {
            // Most blocks are plain ASCII that is kept whole (prose) or dropped whole (inside
            // a run of spaces): no packing for those.
            let dropped = ws & ((ws << 1) | prev_ws);
            if dropped == 0 {
                let dst = &mut out[n..n + 32];
                let mapped = _mm256_blendv_epi8(lower, space, ws_v);
                // SAFETY: `dst` is 32 bytes long.
                unsafe { _mm256_storeu_si256(dst.as_mut_ptr().cast::<__m256i>(), mapped) };
                n += 32;
                i += 32;
                prev_ws = ws >> 31;
                continue;
            }
            if dropped == u32::MAX {
                i += 32;
                continue;
            }
        }
        // Non-ASCII bytes outside the common characters that normalise to themselves.
        let mut bad = 0;
        // Bytes before the end of the block where it must end (a character cut by the end).
        let mut cut = 32;
        if high != 0 {
            // SAFETY: 34 bytes from `i` are in `src`.
            let (next, next2) = unsafe {
                (
                    _mm256_loadu_si256(src.as_ptr().add(i + 1).cast::<__m256i>()),
                    _mm256_loadu_si256(src.as_ptr().add(i + 2).cast::<__m256i>()),
                )
            };
            let (one, two) = same_chars(v, next, next2);
            let covered = one | (one << 1) | two | (two << 1) | (two << 2);
            bad = high & !covered;
            let crossing = (one >> 31) << 31 | (two >> 30) << 30;
            if crossing != 0 {
                cut = crossing.trailing_zeros();
            }
        }
        let mut keep = !(ws & ((ws << 1) | prev_ws));
        let mut step = 32;
        if bad != 0 || cut < 32 {
            step = (bad | 1u32.checked_shl(cut).unwrap_or(0)).trailing_zeros();
            // Only the bytes before the first one the general loop must see.
            let below = (1u32 << step).wrapping_sub(1);
            keep &= below;
            ws &= below;
            if step == 0 {
                break;
            }
        }
        let mapped = _mm256_blendv_epi8(lower, space, ws_v);
        // Pack the kept bytes, 8 at a time: four 8-byte stores, each `popcount` past the last.
        let lo = _mm256_castsi256_si128(mapped);
        let hi = _mm256_extracti128_si256::<1>(mapped);
        let ctl = |m: u32| PACK[(m & 0xFF) as usize];
        let eights = 0x0808_0808_0808_0808u64;
        let c_lo = _mm_shuffle_epi8(
            lo,
            _mm_set_epi64x(ctl(keep >> 8).wrapping_add(eights) as i64, ctl(keep) as i64),
        );
        let c_hi = _mm_shuffle_epi8(
            hi,
            _mm_set_epi64x(
                ctl(keep >> 24).wrapping_add(eights) as i64,
                ctl(keep >> 16) as i64,
            ),
        );
        // The room is there: `out` holds `n` + the (34 or more) bytes left to read + 16, and
        // the four stores end at most 32 bytes past `n`.
        let dst = &mut out[n..n + 32];
        let base = dst.as_mut_ptr();
        let mut at = 0usize;
        // SAFETY: each store writes 8 bytes at `at` <= 24 within `dst`.
        unsafe {
            _mm_storel_epi64(base.add(at).cast::<__m128i>(), c_lo);
            at += (keep & 0xFF).count_ones() as usize;
            _mm_storel_epi64(
                base.add(at).cast::<__m128i>(),
                _mm_unpackhi_epi64(c_lo, c_lo),
            );
            at += ((keep >> 8) & 0xFF).count_ones() as usize;
            _mm_storel_epi64(base.add(at).cast::<__m128i>(), c_hi);
            at += ((keep >> 16) & 0xFF).count_ones() as usize;
            _mm_storel_epi64(
                base.add(at).cast::<__m128i>(),
                _mm_unpackhi_epi64(c_hi, c_hi),
            );
            at += (keep >> 24).count_ones() as usize;
        }
        n += at;
        i += step as usize;
        prev_ws = (ws >> (step - 1)) & 1;
        if step < cut {
            break; // at a character the general loop must see
        }
        // (Else the next block starts at the character the block's end cut.)
    }
    (p.i, p.n, p.prev_space) = (i, n, prev_ws != 0);
}

/// Where the common non-ASCII characters that normalise to themselves start in a block `v`
/// (`next` and `next2`: the block one and two bytes on): two-byte ones (U+0080-U+00BF but NEL
/// and no-break space, which are whitespace; ß-ÿ; Cyrillic а-я and ѐ-џ) and three-byte ones
/// (U+200B-U+2027 and U+202A-U+203F but U+202F: typographic quotes, dashes, ellipsis; box
/// drawing; CJK, kana and Hangul syllables). Each bit marks a lead byte whose continuation
/// bytes are checked.
#[target_feature(enable = "avx2")]
#[inline]
pub(super) fn same_chars(
    v: std::arch::x86_64::__m256i,
    next: std::arch::x86_64::__m256i,
    next2: std::arch::x86_64::__m256i,
) -> (u32, u32) {
    use std::arch::x86_64::*;
    let is = |x: __m256i, c: u8| _mm256_cmpeq_epi8(x, _mm256_set1_epi8(c as i8));
    // Unsigned lo <= x <= hi.
    let within = |x: __m256i, lo: u8, hi: u8| {
        let d = _mm256_sub_epi8(x, _mm256_set1_epi8(lo as i8));
        _mm256_cmpeq_epi8(_mm256_min_epu8(d, _mm256_set1_epi8((hi - lo) as i8)), d)
    };
    let (and, or, andnot) = (_mm256_and_si256, _mm256_or_si256, _mm256_andnot_si256);
    let c2 = andnot(
        or(is(next, 0x85), is(next, 0xA0)),
        and(is(v, 0xC2), within(next, 0x80, 0xBF)),
    );
    let c3 = and(is(v, 0xC3), within(next, 0x9F, 0xBF));
    let d0 = and(is(v, 0xD0), within(next, 0xB0, 0xBF));
    let d1 = and(is(v, 0xD1), within(next, 0x80, 0x9F));
    let one = or(or(c2, c3), or(d0, d1));
    let third = andnot(
        is(next2, 0xAF),
        or(within(next2, 0x8B, 0xA7), within(next2, 0xAA, 0xBF)),
    );
    let two = and(and(is(v, 0xE2), is(next, 0x80)), third);
    // Characters without case or whitespace (see `caseless_ranges_have_no_case_and_no_whitespace`):
    // box drawing and symbols U+2500-U+27FF, CJK, kana and the rest of U+3001-U+9FFF, Hangul
    // syllables U+AC00-U+CFFF (the lead bytes are never a surrogate's).
    let cont = and(within(next, 0x80, 0xBF), within(next2, 0x80, 0xBF));
    let ideographic_space = and(is(v, 0xE3), and(is(next, 0x80), is(next2, 0x80)));
    let cjk = andnot(ideographic_space, and(within(v, 0xE3, 0xE9), cont));
    let boxes = and(is(v, 0xE2), and(within(next, 0x94, 0x9F), cont));
    let hangul = and(
        or(
            within(v, 0xEB, 0xEC),
            and(is(v, 0xEA), within(next, 0xB0, 0xBF)),
        ),
        cont,
    );
    let two = or(or(two, cjk), or(boxes, hangul));
    (
        _mm256_movemask_epi8(one) as u32,
        _mm256_movemask_epi8(two) as u32,
    )
}

/// 32 bytes normalised (lower case, whitespace to space; the caller blends in spaces) and the
/// mask of their ASCII whitespace.
#[target_feature(enable = "avx2")]
#[inline]
fn map32(
    v: std::arch::x86_64::__m256i,
) -> (std::arch::x86_64::__m256i, std::arch::x86_64::__m256i) {
    use std::arch::x86_64::*;
    // Signed compares: bytes >= 0x80 are negative, so neither letters nor whitespace.
    let upper = _mm256_and_si256(
        _mm256_cmpgt_epi8(v, _mm256_set1_epi8(0x40)),
        _mm256_cmpgt_epi8(_mm256_set1_epi8(0x5B), v),
    );
    let ctrl = _mm256_and_si256(
        _mm256_cmpgt_epi8(v, _mm256_set1_epi8(0x08)),
        _mm256_cmpgt_epi8(_mm256_set1_epi8(0x0E), v),
    );
    let space = _mm256_set1_epi8(0x20);
    let ws = _mm256_or_si256(ctrl, _mm256_cmpeq_epi8(v, space));
    let lower = _mm256_or_si256(v, _mm256_and_si256(upper, space));
    (lower, ws)
}
