//! The AVX-512 step of the `exact_dedup` normaliser: 64 bytes at a time, packed by
//! `vpcompressb` (see [`normalize_avx512`]).

use super::normalize::Pos;

/// [`super::avx2::normalize_avx2`] with AVX-512 (F, BW, VBMI2): 64 bytes per step, the byte
/// masks held in mask registers and the kept bytes packed by one `vpcompressb` instead of four
/// `pshufb`. The same blocks stop it (a non-ASCII byte outside the common characters), and the
/// same result comes out: the tests compare the two at every alignment.
///
/// # Safety
/// The processor must support AVX-512F, AVX-512BW, AVX-512VBMI2 and POPCNT. `out` must hold at
/// least `p.n + (src.len() - p.i) + 16` bytes (what the general loop keeps); this writes no more
/// bytes than it reads, but stores 64 at a time, which that room allows while 66 are left.
#[target_feature(enable = "avx512f,avx512bw,avx512vbmi2,popcnt")]
pub(super) unsafe fn normalize_avx512(src: &[u8], out: &mut [u8], p: &mut Pos) {
    use std::arch::x86_64::*;
    let (mut i, mut n) = (p.i, p.n);
    // Whether the byte before the block is whitespace (a space was written, or nothing yet).
    let mut prev_ws = u64::from(p.prev_space);
    let is = |v: __m512i, c: u8| _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(c as i8));
    let space = _mm512_set1_epi8(0x20);
    let load = |at: usize| {
        debug_assert!(at + 64 <= src.len());
        // SAFETY: callers load at most 2 bytes past `i`, and 66 bytes from `i` are in `src`.
        unsafe { _mm512_loadu_si512(src.as_ptr().add(at).cast()) }
    };
    while i + 66 <= src.len() {
        let v = load(i);
        let upper = within512(v, b'A', b'Z');
        let lower = _mm512_mask_add_epi8(v, upper, v, space);
        let ws_ascii = within512(v, 0x09, 0x0D) | is(v, b' ');
        let mut ws = ws_ascii;
        let high = _mm512_movepi8_mask(v);
        if high == 0 {
            // Plain ASCII kept whole (prose) or dropped whole (inside a run of spaces).
            let dropped = ws & ((ws << 1) | prev_ws);
            if dropped == 0 {
                let mapped = _mm512_mask_blend_epi8(ws, lower, space);
                // SAFETY: `out` has room for 64 bytes at `n` (see the function's contract).
                unsafe { _mm512_storeu_si512(out.as_mut_ptr().add(n).cast(), mapped) };
                n += 64;
                i += 64;
                prev_ws = ws >> 63;
                continue;
            }
            if dropped == u64::MAX {
                i += 64;
                continue;
            }
        }
        // Non-ASCII bytes outside the common characters that normalise to themselves.
        let mut bad = 0;
        // Bytes before the end of the block where it must end (a character cut by the end).
        let mut cut = 64;
        if high != 0 {
            let (one, two) = same_chars512(v, load(i + 1), load(i + 2));
            let covered = one | (one << 1) | two | (two << 1) | (two << 2);
            bad = high & !covered;
            let crossing = ((one >> 63) << 63) | ((two >> 62) << 62);
            if crossing != 0 {
                cut = crossing.trailing_zeros();
            }
        }
        let mut keep = !(ws & ((ws << 1) | prev_ws));
        let mut step = 64;
        if bad != 0 || cut < 64 {
            step = (bad | 1u64.checked_shl(cut).unwrap_or(0)).trailing_zeros();
            // Only the bytes before the first one the general loop must see.
            let below = (1u64 << step).wrapping_sub(1);
            keep &= below;
            ws &= below;
            if step == 0 {
                break;
            }
        }
        let mapped = _mm512_mask_blend_epi8(ws_ascii, lower, space);
        let packed = _mm512_maskz_compress_epi8(keep, mapped);
        // SAFETY: `out` has room for 64 bytes at `n` (see the function's contract).
        unsafe { _mm512_storeu_si512(out.as_mut_ptr().add(n).cast(), packed) };
        n += keep.count_ones() as usize;
        i += step as usize;
        prev_ws = (ws >> (step - 1)) & 1;
        if step < cut {
            break; // at a character the general loop must see
        }
        // (Else the next block starts at the character the block's end cut.)
    }
    (p.i, p.n, p.prev_space) = (i, n, prev_ws != 0);
}

/// Unsigned `lo <= x <= hi` per byte, as a mask.
#[target_feature(enable = "avx512f,avx512bw")]
#[inline]
fn within512(x: std::arch::x86_64::__m512i, lo: u8, hi: u8) -> u64 {
    use std::arch::x86_64::*;
    let d = _mm512_sub_epi8(x, _mm512_set1_epi8(lo as i8));
    _mm512_cmple_epu8_mask(d, _mm512_set1_epi8((hi - lo) as i8))
}

/// [`same_chars`] on 64 bytes, as masks.
#[target_feature(enable = "avx512f,avx512bw")]
#[inline]
pub(super) fn same_chars512(
    v: std::arch::x86_64::__m512i,
    next: std::arch::x86_64::__m512i,
    next2: std::arch::x86_64::__m512i,
) -> (u64, u64) {
    use std::arch::x86_64::*;
    let is = |x: __m512i, c: u8| _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8(c as i8));
    let c2 = is(v, 0xC2) & within512(next, 0x80, 0xBF) & !(is(next, 0x85) | is(next, 0xA0));
    let c3 = is(v, 0xC3) & within512(next, 0x9F, 0xBF);
    let d0 = is(v, 0xD0) & within512(next, 0xB0, 0xBF);
    let d1 = is(v, 0xD1) & within512(next, 0x80, 0x9F);
    let one = c2 | c3 | d0 | d1;
    let third = (within512(next2, 0x8B, 0xA7) | within512(next2, 0xAA, 0xBF)) & !is(next2, 0xAF);
    let punct = is(v, 0xE2) & is(next, 0x80) & third;
    let cont = within512(next, 0x80, 0xBF) & within512(next2, 0x80, 0xBF);
    let ideographic_space = is(v, 0xE3) & is(next, 0x80) & is(next2, 0x80);
    let cjk = within512(v, 0xE3, 0xE9) & cont & !ideographic_space;
    let boxes = is(v, 0xE2) & within512(next, 0x94, 0x9F) & cont;
    let hangul = (within512(v, 0xEB, 0xEC) | (is(v, 0xEA) & within512(next, 0xB0, 0xBF))) & cont;
    (one, punct | cjk | boxes | hangul)
}
