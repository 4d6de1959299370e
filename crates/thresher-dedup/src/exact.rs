//! `exact_dedup`: the first occurrence of a text is kept, later copies are rejected.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use thresher_core::{
    Document, Outcome, Reason, Result, Step, StepConfig, StepCx, StepMode, TextScan,
};

/// Recipe parameters of `exact_dedup`.
#[derive(Debug, Clone, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ExactDedupConfig {
    /// Normalise the text before hashing (see [`normalize_for_exact`]). With `false` the raw
    /// bytes are hashed: only byte-identical texts are duplicates.
    pub normalize: bool,
}

impl Default for ExactDedupConfig {
    fn default() -> Self {
        ExactDedupConfig { normalize: true }
    }
}

impl StepConfig for ExactDedupConfig {
    fn build(self) -> Result<Box<dyn Step>> {
        Ok(Box::new(ExactDedup::new(self)))
    }
}

/// Exact document dedup on a 128-bit hash of the normalised text.
///
/// Runs in [`StepMode::Ordered`]: the executor hands documents over in input order, so the copy
/// that is kept is always the first one in the input, whatever the number of threads. Memory:
/// one 16-byte hash plus the kept document's id per distinct text.
pub struct ExactDedup {
    cfg: ExactDedupConfig,
    seen: Mutex<HashMap<u128, String, BuildHasherDefault<KeyIsHash>>>,
}

impl ExactDedup {
    /// A step with the given parameters and an empty table of seen texts.
    pub fn new(cfg: ExactDedupConfig) -> Self {
        ExactDedup {
            cfg,
            seen: Mutex::new(HashMap::default()),
        }
    }
}

/// The hasher of the table of seen texts, whose keys are already XXH3 hashes (uniform bits):
/// their low 64 bits are the table's hash, instead of hashing them again with SipHash (this
/// lookup is the part of the step that runs on one thread, in input order).
#[derive(Default)]
struct KeyIsHash(u64);

impl Hasher for KeyIsHash {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Not used by `u128` keys; any other input is folded in, so the hasher stays correct.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u128(&mut self, v: u128) {
        self.0 = v as u64;
    }
}

/// The normalisation applied before hashing: Unicode whitespace runs become one space, leading and
/// trailing whitespace is dropped, and letters are lower-cased. So two copies of a page that
/// differ only in line breaks, indentation or case are duplicates; punctuation and digits count.
pub fn normalize_for_exact(text: &str, out: &mut String) {
    let mut bytes = std::mem::take(out).into_bytes();
    normalize_bytes(text, &mut bytes);
    // `normalize_bytes` only pushes whole UTF-8 sequences, so this cannot fail; should it ever,
    // the reference implementation gives the same result.
    match String::from_utf8(bytes) {
        Ok(s) => *out = s,
        Err(_) => normalize_slow(text, out),
    }
}

/// What [`normalize_bytes`] writes for an ASCII byte: a space for whitespace, else the byte
/// lower-cased. ASCII White_Space is \t \n \x0B \x0C \r and space (the set
/// `char::is_whitespace` uses; `u8::is_ascii_whitespace` lacks \x0B). Bytes >= 0x80 start a
/// multi-byte character and are handled apart.
static ASCII_MAP: [u8; 128] = {
    let mut t = [0u8; 128];
    let mut b = 0;
    while b < 128 {
        t[b] = (b as u8).to_ascii_lowercase();
        b += 1;
    }
    t[b'\t' as usize] = b' ';
    t[b'\n' as usize] = b' ';
    t[0x0B] = b' ';
    t[0x0C] = b' ';
    t[b'\r' as usize] = b' ';
    t
};

/// [`normalize_for_exact`] into a byte buffer (replacing its content), in one pass: ASCII bytes
/// through a table, other characters decoded one by one. The output is always valid UTF-8.
pub fn normalize_bytes(text: &str, out: &mut Vec<u8>) {
    let n = normalize_into(text, out);
    out.truncate(n);
}

/// Room [`normalize_into`] needs past the bytes it writes.
const SLACK: usize = 16;

/// Whitespace and stop masks of 16 bytes, one bit per byte (a stop is a non-ASCII byte or a whitespace byte right after whitespace, or at the start when `prev_space`),
/// and the 16 bytes normalised. SSE2, which every x86-64 processor has.
#[cfg(target_arch = "x86_64")]
#[inline]
fn map16<const JSON: bool, const END: bool>(
    chunk: &[u8],
    prev_space: bool,
) -> ([u8; 16], u32, u32) {
    use std::arch::x86_64::*;
    debug_assert!(chunk.len() >= 16);
    // SAFETY: SSE2 is part of x86-64; the load reads 16 bytes, which `chunk` has (callers pass
    // a slice of at least 16 bytes, checked above in debug builds and by the slicing there).
    #[allow(unused_unsafe)]
    unsafe {
        let v = _mm_loadu_si128(chunk.as_ptr().cast::<__m128i>());
        // Signed compares: bytes >= 0x80 are negative, so neither letters nor whitespace.
        let upper = _mm_and_si128(
            _mm_cmpgt_epi8(v, _mm_set1_epi8(0x40)),
            _mm_cmplt_epi8(v, _mm_set1_epi8(0x5B)),
        );
        let ctrl = _mm_and_si128(
            _mm_cmpgt_epi8(v, _mm_set1_epi8(0x08)),
            _mm_cmplt_epi8(v, _mm_set1_epi8(0x0E)),
        );
        let space = _mm_set1_epi8(0x20);
        let ws = _mm_or_si128(ctrl, _mm_cmpeq_epi8(v, space));
        let lower = _mm_or_si128(v, _mm_and_si128(upper, space));
        let mapped = _mm_or_si128(_mm_andnot_si128(ws, lower), _mm_and_si128(ws, space));
        let mut out = [0u8; 16];
        _mm_storeu_si128(out.as_mut_ptr().cast::<__m128i>(), mapped);
        let ws = _mm_movemask_epi8(ws) as u32;
        let high = _mm_movemask_epi8(v) as u32;
        let mut stop = high | (ws & ((ws << 1) | u32::from(prev_space)));
        if JSON {
            let bs = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
            stop |= _mm_movemask_epi8(bs) as u32;
        }
        if END {
            // A quote (the string's end) and a control character (an error) also stop.
            let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
            let ctrl = _mm_cmplt_epi8(v, _mm_set1_epi8(0x20));
            stop |= _mm_movemask_epi8(_mm_or_si128(quote, ctrl)) as u32;
        }
        (out, ws, stop)
    }
}

/// The same as the SSE2 version, a byte at a time.
#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn map16<const JSON: bool, const END: bool>(
    chunk: &[u8],
    prev_space: bool,
) -> ([u8; 16], u32, u32) {
    let mut out = [0u8; 16];
    let (mut ws, mut high) = (0u32, 0u32);
    for (k, &b) in chunk[..16].iter().enumerate() {
        if b >= 0x80 || (JSON && b == b'\\') || (END && (b == b'"' || b < 0x20)) {
            high |= 1 << k;
            out[k] = b;
        } else {
            out[k] = ASCII_MAP[b as usize];
            ws |= u32::from(out[k] == b' ') << k;
        }
    }
    let stop = high | (ws & ((ws << 1) | u32::from(prev_space)));
    (out, ws, stop)
}

/// Characters of the General Punctuation block that are neither whitespace nor letters, so
/// normalisation keeps them as they are (typographic quotes, dashes, ellipsis: common in web
/// text), without the Unicode tables.
#[inline]
fn plain_punctuation(c: char) -> bool {
    matches!(c, '\u{2010}'..='\u{2027}' | '\u{2030}'..='\u{205E}')
}

/// The lower case of a basic Cyrillic letter (U+0400-U+045F; Russian, Ukrainian, Serbian...),
/// without the Unicode tables.
#[inline]
fn basic_cyrillic_lower(c: char) -> Option<char> {
    let v = c as u32;
    let lower = match v {
        0x0400..=0x040F => v + 0x50,
        0x0410..=0x042F => v + 0x20,
        0x0430..=0x045F => v,
        _ => return None,
    };
    char::from_u32(lower)
}

/// [`normalize_bytes`] without the final truncation: writes the normalised text to the start of
/// `out` and returns its length. `out` keeps its length otherwise, so a reused buffer is not
/// zeroed again for each text.
///
/// Most web text is ASCII with a few typographic quotes or accented letters; this keeps those
/// documents on the byte path. Sixteen bytes are mapped at a time (lower case, whitespace to
/// space) and written up to the first "stop": a non-ASCII byte or a whitespace byte right after
/// whitespace. A run of whitespace is then skipped sixteen bytes at a time (pages padded with
/// thousands of spaces are common).
fn normalize_into(text: &str, out: &mut Vec<u8>) -> usize {
    // A `&str` has no broken character, and no escapes are looked for.
    normalize_src::<false, false>(text.as_bytes(), out).map_or(0, |r| r.n)
}

/// `normalize_into` for a text given as the body of a JSON string (without the quotes, valid
/// UTF-8), straight from its escaped bytes: the result is that of the unescaped text. `None`
/// for a broken escape or character (the caller then unescapes and uses `normalize_into`).
///
/// Escapes are rare in web text (mostly `\n`), so this skips a whole copy of the text.
pub fn normalize_json_into(body: &[u8], out: &mut Vec<u8>) -> Option<usize> {
    normalize_src::<true, false>(body, out).map(|r| r.n)
}

/// What [`normalize_src`] read and wrote.
struct Normalized {
    /// Bytes written.
    n: usize,
    /// Bytes read: all of `src`, or (`END`) up to the closing quote.
    end: usize,
    /// (`END`) whether every escape is canonical, as the JSONL reader's scan says it.
    canonical: bool,
}

/// The character at the start of `b` (which starts with a byte >= 0x80) and its length.
#[inline(always)]
/// `None` if it is not a well-formed UTF-8 sequence (decoded by hand: a call to the standard
/// library's validator per character cost more than the rest of the normalisation of it).
fn decode_char(b: &[u8]) -> Option<(char, usize)> {
    let b0 = u32::from(*b.first()?);
    let cont = |k: usize| {
        b.get(k)
            .filter(|&&x| x & 0xC0 == 0x80)
            .map(|&x| u32::from(x & 0x3F))
    };
    let (v, len) = match b0 {
        0xC2..=0xDF => (((b0 & 0x1F) << 6) | cont(1)?, 2),
        0xE0..=0xEF => {
            let v = ((b0 & 0x0F) << 12) | (cont(1)? << 6) | cont(2)?;
            (v, 3)
        }
        0xF0..=0xF4 => {
            let v = ((b0 & 0x07) << 18) | (cont(1)? << 12) | (cont(2)? << 6) | cont(3)?;
            (v, 4)
        }
        _ => return None,
    };
    // Overlong forms; `from_u32` refuses surrogates and values over U+10FFFF.
    let min = [0, 0, 0x80, 0x800, 0x10000][len];
    if v < min {
        return None;
    }
    Some((char::from_u32(v)?, len))
}

/// Lower-cases the basic Cyrillic letters (U+0400-U+045F) at the start of `src` into `out`
/// (as many bytes out as in). Returns the bytes read and written.
#[inline]
fn cyrillic_run(src: &[u8], out: &mut [u8]) -> (usize, usize) {
    let mut k = 0;
    while let (Some(&b0), Some(&b1)) = (src.get(k), src.get(k + 1)) {
        if !matches!(b0, 0xD0 | 0xD1) || b1 & 0xC0 != 0x80 {
            break;
        }
        let v = (u32::from(b0 & 0x1F) << 6) | u32::from(b1 & 0x3F);
        let Some(lower) = char::from_u32(v).and_then(basic_cyrillic_lower) else {
            break;
        };
        if out.len() < k + 2 {
            break; // not reached: `out` has room for every byte of `src`
        }
        let l = lower as u32;
        out[k] = 0xC0 | (l >> 6) as u8;
        out[k + 1] = 0x80 | (l & 0x3F) as u8;
        k += 2;
    }
    (k, k)
}

/// The index of the first byte at or after `i` that is not ASCII whitespace.
#[inline]
fn skip_ascii_ws(src: &[u8], mut i: usize) -> usize {
    // Long runs are mostly plain spaces (pages padded with thousands of them): 32 bytes per
    // test, with four 8-byte compares.
    const SPACES: u64 = u64::from_ne_bytes([b' '; 8]);
    while let Some(c) = src.get(i..i + 32) {
        let w = |k: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&c[k..k + 8]);
            u64::from_ne_bytes(b) ^ SPACES
        };
        if w(0) | w(8) | w(16) | w(24) != 0 {
            break;
        }
        i += 32;
    }
    while let Some(chunk) = src.get(i..i + 16) {
        let (_, ws, _) = map16::<false, false>(chunk, true);
        let run = (!ws).trailing_zeros() as usize;
        i += run;
        if run < 16 {
            return i;
        }
    }
    while src
        .get(i)
        .is_some_and(|&b| b < 0x80 && ASCII_MAP[b as usize] == b' ')
    {
        i += 1;
    }
    i
}

/// State of the normaliser between its fast and general parts.
#[cfg(target_arch = "x86_64")]
struct Pos {
    /// Bytes of `src` read.
    i: usize,
    /// Bytes of `out` written.
    n: usize,
    /// Whether the last byte written is a space.
    prev_space: bool,
    /// Whether every escape read is canonical (tracked in the `END` mode only).
    canonical: bool,
}

/// For each 8-bit mask, the indices of its set bits in order: the `pshufb` control that packs
/// the bytes a mask keeps to the front of an 8-byte group.
#[cfg(target_arch = "x86_64")]
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

/// The AVX2 part of [`normalize_src`]: 32 bytes per step without a branch per whitespace run.
/// Each block is mapped (lower case, whitespace to space), the bytes that the normalised text
/// drops are masked out (whitespace after whitespace; in a JSON body, the second byte of a `\n`
/// `\t` `\r` `\f` escape, which counts as whitespace, and the backslash of `\"` `\/`), and the
/// rest are packed with `pshufb`. Returns at a non-ASCII byte or any other escape, which the
/// general loop handles one character at a time, or when fewer than 33 bytes are left.
///
/// Web text is mostly ASCII with whitespace runs everywhere (indentation and blank lines: half
/// the bytes of the benchmark texts), and in JSON each line break is an escape: a loop that
/// stops at each run mispredicts a branch or two there; this one does not stop.
///
/// # Safety
/// The processor must support AVX2 and POPCNT. `out` must hold at least `p.n + (src.len() - p.i) + 16`
/// bytes (what [`normalize_src`] keeps); this writes no more bytes than it reads.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,popcnt")]
unsafe fn normalize_avx2<const JSON: bool>(src: &[u8], out: &mut [u8], p: &mut Pos) {
    use std::arch::x86_64::*;
    let (mut i, mut n) = (p.i, p.n);
    // Whether the unit before the block is whitespace (a space was written, or nothing yet).
    let mut prev_ws = u32::from(p.prev_space);
    // Whether the block starts with the letter of a whitespace escape begun in the last one.
    let mut letter_in = 0u32;
    let is = |v: __m256i, c: u8| _mm256_cmpeq_epi8(v, _mm256_set1_epi8(c as i8));
    let space = _mm256_set1_epi8(0x20);
    while i + 34 <= src.len() {
        // SAFETY: 34 bytes from `i` are in `src` (checked by the loop condition).
        let v = unsafe { _mm256_loadu_si256(src.as_ptr().add(i).cast::<__m256i>()) };
        let (lower, ws_v) = map32(v);
        let mut ws = _mm256_movemask_epi8(ws_v) as u32;
        let high = _mm256_movemask_epi8(v) as u32;
        let plain =
            high == 0 && letter_in == 0 && (!JSON || _mm256_movemask_epi8(is(v, b'\\')) == 0);
        if plain {
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
        let mut drop_bs = 0;
        let mut space_v = ws_v;
        if JSON {
            let bs_v = is(v, b'\\');
            let bs = _mm256_movemask_epi8(bs_v) as u32;
            if bs != 0 {
                // The byte after each: what the escape is.
                // SAFETY: the loop runs while 34 bytes from `i` are in `src`, so 33 from `i + 1`.
                let next = unsafe { _mm256_loadu_si256(src.as_ptr().add(i + 1).cast::<__m256i>()) };
                let blank = _mm256_or_si256(
                    _mm256_or_si256(is(next, b'n'), is(next, b't')),
                    _mm256_or_si256(is(next, b'r'), is(next, b'f')),
                );
                let plain = _mm256_or_si256(is(next, b'"'), is(next, b'/'));
                let blank_v = _mm256_and_si256(bs_v, blank);
                let esc_ws = _mm256_movemask_epi8(blank_v) as u32;
                let esc_plain = bs & _mm256_movemask_epi8(plain) as u32;
                // `\\`, `\u`, `\b` or broken: the general loop decodes it. Every backslash before
                // the first of those starts an escape, since none is the second of `\\`.
                bad |= bs & !(esc_ws | esc_plain);
                // The backslash of a whitespace escape stands for it (written as a space, or
                // dropped after whitespace); its letter always goes (it follows whitespace).
                ws |= esc_ws | (esc_ws << 1);
                space_v = _mm256_or_si256(space_v, blank_v);
                drop_bs = esc_plain;
            }
        }
        ws |= letter_in;
        let mut keep = !((ws & ((ws << 1) | prev_ws)) | drop_bs);
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
        let mapped = _mm256_blendv_epi8(lower, space, space_v);
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
        // The room is there: `out` holds `n` + the (33 or more) bytes left to read + 16, and
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
        if step < 32 {
            letter_in = 0;
            if step < cut {
                break;
            }
            continue; // the next block starts at the cut character
        }
        letter_in = (ws >> 31) & u32::from(JSON && src[i - 1] == b'\\');
    }
    // A whitespace escape cut by the block's end: its letter is consumed here.
    i += letter_in as usize;
    (p.i, p.n, p.prev_space) = (i, n, prev_ws != 0);
}

/// [`normalize_avx2`] with AVX-512 (F, BW, VBMI2): 64 bytes per step, the byte masks held in
/// mask registers and the kept bytes packed by one `vpcompressb` instead of four `pshufb`.
/// The same blocks stop it (a non-ASCII byte outside the common characters, an escape other
/// than a whitespace one, `\"` or `\/`), and the same result comes out: the tests compare the
/// two at every alignment.
///
/// With `END` (see [`normalize_src`]) a quote that no backslash escapes and a raw control
/// character stop it too, and `p.canonical` is cleared at a `\/`; the general loop then ends
/// the string at that quote or refuses it.
///
/// # Safety
/// The processor must support AVX-512F, AVX-512BW, AVX-512VBMI2 and POPCNT. `out` must hold at
/// least `p.n + (src.len() - p.i) + 16` bytes (what [`normalize_src`] keeps); this writes no more
/// bytes than it reads, but stores 64 at a time, which that room allows while 66 are left.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vbmi2,popcnt")]
unsafe fn normalize_avx512<const JSON: bool, const END: bool>(
    src: &[u8],
    out: &mut [u8],
    p: &mut Pos,
) {
    use std::arch::x86_64::*;
    let (mut i, mut n) = (p.i, p.n);
    // Whether the unit before the block is whitespace (a space was written, or nothing yet).
    let mut prev_ws = u64::from(p.prev_space);
    // Whether the block starts with the letter of a whitespace escape begun in the last one.
    let mut letter_in = 0u64;
    // Whether the block starts with the letter of a `\"` or `\/` begun in the last one.
    let mut plain_in = 0u64;
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
        // (With `END` the other whitespace bytes are control characters, which stop the step:
        // the spaces are all it needs.)
        let ws_ascii = if END {
            is(v, b' ')
        } else {
            within512(v, 0x09, 0x0D) | is(v, b' ')
        };
        let mut ws = ws_ascii;
        let high = _mm512_movepi8_mask(v);
        let bs = if JSON { is(v, b'\\') } else { 0 };
        // With `END`: the quotes and control characters (the string's end, or an error).
        let (quote, ctrl) = if END {
            (is(v, b'"'), _mm512_cmplt_epu8_mask(v, space))
        } else {
            (0, 0)
        };
        if high == 0 && letter_in == 0 && bs == 0 && quote | ctrl | plain_in == 0 {
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
        let next = load(i + 1);
        if high != 0 {
            let (one, two) = same_chars512(v, next, load(i + 2));
            let covered = one | (one << 1) | two | (two << 1) | (two << 2);
            bad = high & !covered;
            let crossing = ((one >> 63) << 63) | ((two >> 62) << 62);
            if crossing != 0 {
                cut = crossing.trailing_zeros();
            }
        }
        let mut drop_bs = 0;
        let mut space_m = ws_ascii;
        // `\/` escapes (not canonical).
        let mut slashes = 0;
        if JSON && bs != 0 {
            // The byte after each backslash: what the escape is.
            let blank = is(next, b'n') | is(next, b't') | is(next, b'r') | is(next, b'f');
            let esc_ws = bs & blank;
            let slash = is(next, b'/');
            let esc_plain = bs & (is(next, b'"') | slash);
            // `\\`, `\u`, `\b` or broken: the general loop decodes it (see `normalize_avx2`).
            bad |= bs & !(esc_ws | esc_plain);
            ws |= esc_ws | (esc_ws << 1);
            space_m |= esc_ws;
            drop_bs = esc_plain;
            slashes = bs & slash;
        }
        if END {
            // A quote not escaped ends the string, and a raw control character is an error:
            // both go to the general loop, which stops there. (Before the first stop, every
            // backslash begins an escape: `\\` is one.)
            let escaped = ((drop_bs << 1) | plain_in) & quote;
            bad |= (quote & !escaped) | ctrl;
        }
        ws |= letter_in;
        let mut keep = !((ws & ((ws << 1) | prev_ws)) | drop_bs);
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
        if END && slashes & ((1u64 << (step - 1)) | ((1u64 << (step - 1)) - 1)) != 0 {
            p.canonical = false;
        }
        let mapped = _mm512_mask_blend_epi8(space_m, lower, space);
        let packed = _mm512_maskz_compress_epi8(keep, mapped);
        // SAFETY: `out` has room for 64 bytes at `n` (see the function's contract).
        unsafe { _mm512_storeu_si512(out.as_mut_ptr().add(n).cast(), packed) };
        n += keep.count_ones() as usize;
        i += step as usize;
        prev_ws = (ws >> (step - 1)) & 1;
        if step < 64 {
            letter_in = 0;
            plain_in = 0;
            if step < cut {
                break;
            }
            continue; // the next block starts at the cut character
        }
        letter_in = (ws >> 63) & u64::from(JSON && src[i - 1] == b'\\');
        plain_in = if END { drop_bs >> 63 } else { 0 };
    }
    // A whitespace escape cut by the block's end: its letter is consumed here.
    i += letter_in as usize;
    if plain_in != 0 {
        // The letter of a `\"` or `\/` cut by the block's end: written here, as it is (with
        // `END`, the general loop would take that quote for the string's end).
        out[n] = src[i];
        n += 1;
        i += 1;
        prev_ws = 0;
    }
    (p.i, p.n, p.prev_space) = (i, n, prev_ws != 0);
}

/// Unsigned `lo <= x <= hi` per byte, as a mask.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw")]
#[inline]
fn within512(x: std::arch::x86_64::__m512i, lo: u8, hi: u8) -> u64 {
    use std::arch::x86_64::*;
    let d = _mm512_sub_epi8(x, _mm512_set1_epi8(lo as i8));
    _mm512_cmple_epu8_mask(d, _mm512_set1_epi8((hi - lo) as i8))
}

/// [`same_chars`] on 64 bytes, as masks.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw")]
#[inline]
fn same_chars512(
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

/// Where the common non-ASCII characters that normalise to themselves start in a block `v`
/// (`next` and `next2`: the block one and two bytes on): two-byte ones (U+0080-U+00BF but NEL
/// and no-break space, which are whitespace; ß-ÿ; Cyrillic а-я and ѐ-џ) and three-byte ones
/// (U+200B-U+2027 and U+202A-U+203F but U+202F: typographic quotes, dashes, ellipsis; box
/// drawing; CJK, kana and Hangul syllables). Each bit marks a lead byte whose continuation
/// bytes are checked.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
fn same_chars(
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
#[cfg(target_arch = "x86_64")]
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

/// The normaliser of [`normalize_into`] (`JSON` false: `src` is the text) and
/// [`normalize_json_into`] (`JSON` true: `src` is the escaped body; a backslash is one more
/// "stop" of the fast loop, and the escape is decoded there).
///
/// With `END`, `src` is the rest of a JSON line from the first byte of a string's body, whose
/// end is found here (the first quote not escaped), and the string is checked as the JSONL
/// reader checks it: `None` for a raw control character, a broken escape or character, or no
/// closing quote; the result says whether its escapes are canonical. (`None` also where the
/// `JSON` mode gives it, for surrogate escapes.)
fn normalize_src<const JSON: bool, const END: bool>(
    src: &[u8],
    out: &mut Vec<u8>,
) -> Option<Normalized> {
    // Room for every ASCII byte plus some slack; a non-ASCII character re-checks the room, since
    // lower-casing can lengthen it (U+0130 is 2 bytes, its lower case 3).
    if out.len() < src.len() + SLACK {
        out.resize(src.len() + SLACK, 0);
    }
    let mut n = 0; // bytes written
                   // Whether the last byte written is a space (true at the start, so leading spaces vanish).
    let mut prev_space = true;
    let mut i = 0;
    let mut canonical = true;
    let mut end = None;
    #[cfg(target_arch = "x86_64")]
    let (avx2, avx512) = wide_steps();
    while i < src.len() {
        #[cfg(target_arch = "x86_64")]
        if avx2 && i + 33 <= src.len() && src[i] < 0x80 {
            let mut p = Pos {
                i,
                n,
                prev_space,
                canonical,
            };
            // A longer lower case (İ) may have eaten into the slack.
            let need = n + (src.len() - i) + SLACK;
            if out.len() < need {
                out.resize(need, 0);
            }
            if avx512 {
                // SAFETY: the processor has AVX-512F/BW/VBMI2 and POPCNT (`wide_steps`), and
                // `out` has the room it needs.
                unsafe { normalize_avx512::<JSON, END>(src, out, &mut p) };
            }
            // The AVX2 step takes the last 33 to 65 bytes (or all, without AVX-512); it does
            // not look for the string's end.
            if !END && src.len() - p.i < 66 {
                // SAFETY: the processor has AVX2 and POPCNT (`wide_steps`), and `out` has the
                // room it needs (the step above wrote no more bytes than it read).
                unsafe { normalize_avx2::<JSON>(src, out, &mut p) };
            }
            (i, n, prev_space, canonical) = (p.i, p.n, p.prev_space, p.canonical);
            if i >= src.len() {
                break;
            }
        }
        // With `END`, a quote or a control character ends the string or refuses it.
        let end_or_error = END && (src[i] == b'"' || src[i] < 0x20);
        // A non-ASCII byte or an escape would stop the 16-byte step at once: in a run of such
        // characters (Cyrillic, Greek, CJK text) each goes straight to the code below.
        let at_stop = src[i] >= 0x80 || (JSON && src[i] == b'\\') || end_or_error;
        if let Some(chunk) = src.get(i..i + 16).filter(|_| !at_stop) {
            let (mapped, ws, stop) = map16::<JSON, END>(chunk, prev_space);
            // The room for 16 bytes is there: `out` holds `n` + the bytes left to read + SLACK.
            out[n..n + 16].copy_from_slice(&mapped);
            if stop == 0 {
                n += 16;
                i += 16;
                prev_space = ws >> 15 != 0;
                continue;
            }
            let k = stop.trailing_zeros() as usize;
            n += k;
            i += k;
            if k > 0 {
                prev_space = (ws >> (k - 1)) & 1 != 0;
            }
            if (JSON && src[i] == b'\\') || (END && (src[i] == b'"' || src[i] < 0x20)) {
                // Handled below, with the last bytes.
            } else if src[i] < 0x80 {
                // Whitespace after whitespace: this byte and the rest of the run write nothing.
                // (With `END` it is a space: the other whitespace bytes are control characters.)
                i = if END {
                    skip_spaces(src, i + 1)
                } else {
                    skip_ascii_ws(src, i + 1)
                };
                prev_space = true;
                continue;
            }
        }
        if END && src[i] == b'"' {
            end = Some(i);
            break;
        }
        if END && src[i] < 0x20 {
            return None; // a raw control character: the reader refuses the string
        }
        if matches!(src[i], 0xD0 | 0xD1) {
            // A run of basic Cyrillic letters (two bytes each): lower-cased on the bytes, in a
            // loop of its own, since one every few bytes would each stop the 16-byte step.
            let (m, written) = cyrillic_run(&src[i..], &mut out[n..]);
            if m > 0 {
                i += m;
                n += written;
                prev_space = false;
                continue;
            }
        }
        // An escape (JSON only), a byte of the last few, or a non-ASCII character.
        let (c, len) = if JSON && src[i] == b'\\' {
            // Only escapes of one `char` of the Basic Multilingual Plane are decoded here; a
            // broken escape or any surrogate (paired or not) is left to the unescaping path.
            let (v, len) = thresher_core::json_escape(&src[i..]).filter(|&(v, _)| v < 0x10000)?;
            if END {
                canonical &= thresher_core::json_escape_is_canonical(&src[i..], v);
            }
            (char::from_u32(v)?, len)
        } else if src[i] < 0x80 {
            (char::from(src[i]), 1)
        } else {
            decode_char(&src[i..])?
        };
        if c.is_ascii() {
            let m = ASCII_MAP[c as usize];
            out[n] = m;
            let space = m == b' ';
            n += usize::from(!(space && prev_space));
            prev_space = space;
            i += len;
            continue;
        }
        // A non-ASCII character (`len` bytes of input: its UTF-8 form, or an escape).
        if matches!(c, '\u{C0}'..='\u{DE}') && c != '\u{D7}' {
            // Latin-1 capitals (À-Þ but ×): the lower case is 0x20 further, the same length.
            let lower = char::from_u32(c as u32 + 0x20).unwrap_or(c);
            n += lower.encode_utf8(&mut out[n..]).len();
            i += len;
            prev_space = false;
            continue;
        }
        if let Some(lower) = basic_cyrillic_lower(c) {
            // Two bytes in UTF-8, written here rather than by the general encoder.
            let v = lower as u32;
            out[n] = 0xC0 | (v >> 6) as u8;
            out[n + 1] = 0x80 | (v & 0x3F) as u8;
            n += 2;
            i += len;
            prev_space = false;
            continue;
        }
        if plain_punctuation(c) || matches!(c, '\u{DF}'..='\u{FF}') {
            // Latin-1 small letters and ÷ are their own lower case.
            // Not whitespace, its own lower case: copied as is.
            n += c.encode_utf8(&mut out[n..]).len();
            i += len;
            prev_space = false;
            continue;
        }
        i += len;
        if matches!(c, '\u{2500}'..='\u{27FF}' | '\u{3001}'..='\u{A4CF}' | '\u{AC00}'..='\u{D7A3}')
        {
            // Box drawing, symbols, CJK, kana, Hangul: no case, no whitespace (U+3000 is).
            n += c.encode_utf8(&mut out[n..]).len();
            prev_space = false;
            continue;
        }
        if c.is_whitespace() {
            out[n] = b' ';
            n += usize::from(!prev_space);
            prev_space = true;
            continue;
        }
        let need = n + (src.len() - i) + SLACK;
        if out.len() < need {
            out.resize(need, 0);
        }
        for l in c.to_lowercase() {
            n += l.encode_utf8(&mut out[n..]).len();
        }
        prev_space = false;
    }
    if prev_space && n > 0 {
        n -= 1; // a trailing space
    }
    let end = match end {
        Some(e) => e,
        None if END => return None, // no closing quote
        None => src.len(),
    };
    Some(Normalized { n, end, canonical })
}

/// The index of the first byte at or after `i` that is not a space.
#[inline]
fn skip_spaces(src: &[u8], mut i: usize) -> usize {
    const SPACES: u64 = u64::from_ne_bytes([b' '; 8]);
    while let Some(c) = src.get(i..i + 8) {
        let mut b = [0u8; 8];
        b.copy_from_slice(c);
        let diff = u64::from_ne_bytes(b) ^ SPACES;
        if diff != 0 {
            return i + (diff.to_le().trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while src.get(i) == Some(&b' ') {
        i += 1;
    }
    i
}

/// Which wide steps the processor can run: (AVX2 with POPCNT, and also AVX-512F/BW/VBMI2).
#[cfg(target_arch = "x86_64")]
#[inline]
fn wide_steps() -> (bool, bool) {
    use std::is_x86_feature_detected as has;
    let avx2 = has!("avx2") && has!("popcnt");
    let avx512 = avx2 && has!("avx512f") && has!("avx512bw") && has!("avx512vbmi2");
    #[cfg(test)]
    let avx512 = avx512 && !tests::NO_AVX512.with(|c| c.get());
    (avx2, avx512)
}

/// The reference definition, per word: what [`normalize_bytes`] must equal (tests compare them).
fn normalize_slow(text: &str, out: &mut String) {
    out.clear();
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        if word.is_ascii() {
            let start = out.len();
            out.push_str(word);
            // Lower-casing ASCII letters keeps the string valid UTF-8.
            out[start..].make_ascii_lowercase();
        } else {
            out.extend(word.chars().flat_map(char::to_lowercase));
        }
    }
}

thread_local! {
    static NORM: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl ExactDedup {
    fn hash(&self, doc: &Document) -> u128 {
        if self.cfg.normalize {
            // A byte buffer rather than `cx.scratch`: the normalised text is only hashed, so it
            // need not be re-validated as a `String`.
            NORM.with(|buf| {
                let mut buf = buf.borrow_mut();
                // Straight from the input's escaped bytes when the document still has them.
                let n = match doc.text_json() {
                    Some(body) => normalize_json_into(body, &mut buf),
                    None => None,
                }
                .unwrap_or_else(|| normalize_into(doc.text(), &mut buf));
                twox_hash::XxHash3_128::oneshot(&buf[..n])
            })
        } else {
            twox_hash::XxHash3_128::oneshot(doc.text().as_bytes())
        }
    }
}

/// The text's hash straight from the JSON line, in the reader's pass (see [`TextScan`]): the
/// normaliser finds the string's end and checks it as the reader would (it decodes every escape
/// and non-ASCII character it meets anyway), so the reader does not scan the text apart. Only
/// with AVX-512: without it the normaliser's 32-byte step does not look for the end, and the
/// reader's own scan plus `prepare` is the faster way.
impl TextScan for ExactDedup {
    fn scan_json_text(
        &self,
        b: &[u8],
        start: usize,
    ) -> Option<(usize, bool, Box<dyn std::any::Any + Send + Sync>)> {
        let rest = b.get(start..)?;
        NORM.with(|buf| {
            let mut buf = buf.borrow_mut();
            let r = normalize_src::<true, true>(rest, &mut buf)?;
            let hash = twox_hash::XxHash3_128::oneshot(&buf[..r.n]);
            let prepared: Box<dyn std::any::Any + Send + Sync> = Box::new(hash);
            Some((start + r.end, r.canonical, prepared))
        })
    }
}

impl Step for ExactDedup {
    fn name(&self) -> &str {
        "exact_dedup"
    }

    fn text_scan(&self) -> Option<&dyn TextScan> {
        #[cfg(target_arch = "x86_64")]
        if self.cfg.normalize && wide_steps().1 {
            return Some(self);
        }
        None
    }

    fn mode(&self) -> StepMode {
        StepMode::Ordered
    }

    fn prepare(&self, doc: &mut Document, _cx: &mut StepCx) {
        // Normalising and hashing is most of the work; done here, in parallel, it leaves only the
        // table lookup to the one-at-a-time `process`.
        let h = self.hash(doc);
        doc.set_prepared(h);
    }

    fn process(&self, mut doc: Document, _cx: &mut StepCx) -> Outcome {
        let hash = match doc.take_prepared::<u128>() {
            Some(h) => h,
            None => self.hash(&doc),
        };
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        match seen.get(&hash) {
            Some(twin) => {
                let twin = twin.clone();
                drop(seen);
                Outcome::reject(doc, Reason::new("exact_dedup:duplicate", twin))
            }
            None => {
                seen.insert(hash, doc.id.clone());
                drop(seen);
                Outcome::Keep(doc)
            }
        }
    }

    fn report(&self) -> Map<String, Value> {
        let mut m = Map::new();
        let n = self.seen.lock().map(|s| s.len()).unwrap_or(0);
        m.insert("distinct_texts".into(), n.into());
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    thread_local! {
        /// Set to run the AVX2 step alone on a processor that also has AVX-512.
        pub(super) static NO_AVX512: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }

    /// Runs `f` with each wide step this processor has: AVX-512 (if any), then AVX2 alone.
    fn each_width(mut f: impl FnMut()) {
        #[cfg(target_arch = "x86_64")]
        {
            let (avx2, avx512) = wide_steps();
            if !avx512 {
                eprintln!("no AVX-512 VBMI2 here: its normaliser step is not tested");
            }
            if !avx2 {
                eprintln!("no AVX2 here: its normaliser step is not tested");
            }
            if avx512 {
                f();
            }
            NO_AVX512.with(|c| c.set(true));
            f();
            NO_AVX512.with(|c| c.set(false));
        }
        #[cfg(not(target_arch = "x86_64"))]
        f();
    }

    fn run(step: &ExactDedup, id: &str, text: &str) -> Outcome {
        step.process(Document::new(id, text), &mut StepCx::default())
    }

    #[test]
    fn first_copy_kept_later_copies_name_the_twin() {
        let step = ExactDedup::new(ExactDedupConfig::default());
        assert!(matches!(
            run(&step, "a", "Hello  World\n"),
            Outcome::Keep(_)
        ));
        assert!(matches!(run(&step, "b", "other"), Outcome::Keep(_)));
        match run(&step, "c", "hello world") {
            Outcome::Reject { reason, .. } => {
                assert_eq!(reason.code, "exact_dedup:duplicate");
                assert_eq!(reason.value, "a");
            }
            o => panic!("expected reject, got {o:?}"),
        }
    }

    #[test]
    fn fast_and_slow_normalisation_agree() {
        each_width(|| {
            let mut a = String::new();
            let mut b = String::new();
            for t in [
                "  Hello\t\x0bWORLD \r\n x ",
                "",
                "   ",
                "a\x1cb",
                "MiXeD  case\n\nText.",
                "a\0b \0",
                " \u{3000}İstanbul\u{2028}ΣΑΣ  ß\u{a0}\u{a0}x\u{85}",
                "“Quoted” — CAFÉ\tnaïve\u{1F600}END ",
                "\u{2029}",
            ] {
                normalize_for_exact(t, &mut a);
                normalize_slow(t, &mut b);
                assert_eq!(a, b, "{t:?}");
                let mut bytes = Vec::new();
                normalize_bytes(t, &mut bytes);
                assert_eq!(bytes, b.as_bytes(), "{t:?}");
            }
            normalize_for_exact("Ünïcode  ÉTÉ\u{a0}x", &mut a);
            assert_eq!(a, "ünïcode été x");
        });
    }

    /// The normaliser of escaped JSON bodies gives `want` (the reference normalisation of `t`)
    /// from `t` escaped as serde_json does it, and escaped with `\uXXXX` for every character
    /// of the Basic Multilingual Plane (as `ensure_ascii` writers do, in upper-case hex).
    fn assert_json_path_agrees(t: &str, want: &str) {
        let canonical = serde_json::to_string(t).unwrap();
        let mut all = String::new();
        for c in t.chars() {
            match c as u32 {
                v @ 0..=0xFFFF => all.push_str(&format!("\\u{v:04X}")),
                _ => all.push(c),
            }
        }
        let mut out = vec![b'#'; 5];
        for body in [&canonical[1..canonical.len() - 1], &all] {
            let n = normalize_json_into(body.as_bytes(), &mut out).expect(body);
            assert_eq!(&out[..n], want.as_bytes(), "{t:?} as {body}");
        }
    }

    #[test]
    fn json_path_refuses_broken_escapes() {
        each_width(|| {
            let mut out = Vec::new();
            for body in [r"a\q", r"\u12", r"\ud83d\ude00", "x\\"] {
                assert_eq!(
                    normalize_json_into(body.as_bytes(), &mut out),
                    None,
                    "{body}"
                );
            }
            assert_eq!(normalize_json_into(b"caf\xe9 x", &mut out), None);
            // Overlong, surrogate, too high, cut short.
            for bad in [
                &b"\xc0\x80"[..],
                b"\xe0\x80\x80",
                b"\xed\xa0\x80",
                b"\xf4\x90\x80\x80",
                b"\xe2\x82",
            ] {
                assert_eq!(decode_char(bad), None, "{bad:?}");
            }
            for c in [
                '\u{80}',
                '\u{7ff}',
                '\u{800}',
                '\u{ffff}',
                '\u{10000}',
                '\u{10ffff}',
            ] {
                let mut b = [0u8; 4];
                let s = c.encode_utf8(&mut b);
                assert_eq!(decode_char(s.as_bytes()), Some((c, s.len())));
            }
        });
    }

    #[test]
    fn byte_path_equals_reference_on_mixed_strings() {
        each_width(|| {
            // Pseudo-random strings from pieces that stress each branch: whitespace runs of both
            // kinds at the edges and in the middle, case, characters whose lower case is longer.
            let pieces = [
                " ",
                "\t",
                "\n\r",
                "\u{b}",
                "\u{a0}",
                "\u{3000}",
                "\u{2028}",
                "A",
                "b",
                "Z9",
                "İ",
                "ẞ",
                "Σ",
                "é",
                "😀",
                "\0",
                "x",
                "WORD",
                "ﬃ",
                "\u{85}",
                "hello world ",
                "The Quick  Brown\tFox",
                "@[`{AZaz09\u{7f}\u{1}",
                "abcdefghijklmnop",
                "ПРИВЕТ",
                "мир",
                "ЁжЂђѐЏџ",
            ];
            let mut state = 12345u64;
            let (mut reference, mut bytes) = (String::new(), Vec::new());
            for _ in 0..3000 {
                let mut t = String::new();
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                for _ in 0..(state >> 58) {
                    state = state
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    t.push_str(pieces[(state >> 33) as usize % pieces.len()]);
                }
                normalize_slow(&t, &mut reference);
                normalize_bytes(&t, &mut bytes);
                assert_eq!(bytes, reference.as_bytes(), "{t:?}");
                assert_json_path_agrees(&t, &reference);
            }
            // Every ASCII byte at every position of an 8-byte word, after a space or not.
            for c in 0u8..128 {
                for pad in 0..17 {
                    for lead in ["", " ", "x"] {
                        let t = format!("{lead}{}{}ABCDEFGHIJKLMNOPQ", "a".repeat(pad), c as char);
                        normalize_slow(&t, &mut reference);
                        normalize_bytes(&t, &mut bytes);
                        assert_eq!(bytes, reference.as_bytes(), "{t:?}");
                        assert_json_path_agrees(&t, &reference);
                    }
                }
            }
        });
    }

    /// Long texts (the 32-byte step needs 33 bytes) of whitespace runs, escapes and look-alikes
    /// (a backslash before `n`, `\\` pairs, quotes) at every alignment, so that runs and escapes
    /// cross the 32-byte blocks at each offset.
    #[test]
    fn wide_steps_agree_with_the_reference_at_every_alignment() {
        each_width(|| {
            let pieces = [
                " ",
                "  ",
                "\n",
                "\n    ",
                "\t\t",
                "\r\n",
                "\u{c}",
                "\\",
                "\\n",
                "\\\\n",
                "\"",
                "/",
                "\\\"",
                "a",
                "Bc",
                "word ",
                "XYZ",
                "é",
                "\u{a0}",
                "\u{8}",
                "\u{b}",
                "Ω",
                "’",
                "                                  ",
                "ü",
                "Ü",
                "ß",
                "×",
                "ÿ",
                "\u{ad}",
                "\u{85}",
                "п",
                "П",
                "ѐ",
                "Ѡ",
                "ѡ",
                "\u{2000}",
                "\u{200b}",
                "—",
                "“",
                "\u{2028}",
                "\u{202f}",
                "‰",
                "\u{2040}",
                "€",
            ];
            let mut state = 99u64;
            let mut next = || {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (state >> 33) as usize
            };
            let mut reference = String::new();
            let mut bytes = Vec::new();
            for _ in 0..20000 {
                let mut t = "p".repeat(next() % 40);
                for _ in 0..next() % 60 {
                    t.push_str(pieces[next() % pieces.len()]);
                }
                normalize_slow(&t, &mut reference);
                normalize_bytes(&t, &mut bytes);
                assert_eq!(bytes, reference.as_bytes(), "{t:?}");
                assert_json_path_agrees(&t, &reference);
            }
        });
    }

    /// Each character of the ranges the 32-byte step copies (and their neighbours) at every
    /// offset of a block, including cut by the block's end.
    #[test]
    fn wide_steps_place_non_ascii_characters_anywhere() {
        each_width(|| {
            let (mut reference, mut bytes) = (String::new(), Vec::new());
            // The caseless three-byte ranges sampled (every 97th character) with their edges.
            let sampled = (0x2400u32..0xD800)
                .filter(|c| c % 97 == 0)
                .chain([
                    0x24FF, 0x2500, 0x27FF, 0x2800, 0x2FFF, 0x3000, 0x3001, 0x9FFF, 0xA000,
                ])
                .chain([
                    0xABFF, 0xAC00, 0xAFFF, 0xB000, 0xCFFF, 0xD000, 0xD7A3, 0xD7FF, 0xE000,
                ]);
            let chars = (0x80u32..0x500)
                .chain(0x2000..0x2070)
                .chain(sampled)
                .filter_map(char::from_u32);
            for c in chars {
                for offset in 0..36 {
                    let t = format!(
                        "{}{c}{c} Tail of the text, long enough.",
                        "a".repeat(offset)
                    );
                    normalize_slow(&t, &mut reference);
                    normalize_bytes(&t, &mut bytes);
                    assert_eq!(bytes, reference.as_bytes(), "{t:?}");
                    assert_json_path_agrees(&t, &reference);
                }
            }
        });
    }

    #[test]
    fn caseless_ranges_have_no_case_and_no_whitespace() {
        let (mut reference, mut bytes) = (String::new(), Vec::new());
        let ranges = [0x2500..0x2800, 0x3001..0xA4D0, 0xAC00..0xD7A4];
        for c in ranges.into_iter().flatten().filter_map(char::from_u32) {
            assert!(!c.is_whitespace() && c.to_lowercase().eq([c]), "{c:?}");
            let t = format!("Ab {c}{c}");
            normalize_slow(&t, &mut reference);
            normalize_bytes(&t, &mut bytes);
            assert_eq!(bytes, reference.as_bytes(), "{t:?}");
        }
    }

    #[test]
    fn every_character_below_u3100_normalises_as_the_reference() {
        each_width(|| {
            let (mut reference, mut bytes) = (String::new(), Vec::new());
            // A buffer that keeps its (longer) length between texts, as the hashing does.
            let mut reused = vec![b'#'; 64];
            for c in (0u32..0x3100).filter_map(char::from_u32) {
                for t in [
                    format!("{c}"),
                    format!("aB {c}  x"),
                    format!("0123456789abcdef{c}{c} tail of the text"),
                    format!("0123456789abcde {c}0123456789ABCDEF"),
                ] {
                    normalize_slow(&t, &mut reference);
                    normalize_bytes(&t, &mut bytes);
                    assert_eq!(bytes, reference.as_bytes(), "{t:?}");
                    assert_json_path_agrees(&t, &reference);
                    let n = normalize_into(&t, &mut reused);
                    assert_eq!(&reused[..n], reference.as_bytes(), "{t:?}");
                }
            }
        });
    }

    /// The `END` mode (the text's end found in the normaliser's pass, for the JSONL reader)
    /// gives the same end, flag and bytes with the AVX-512 step as with the general loop alone.
    /// (That they are the reader's own is tested in the thresher crate, `tests/text_scan.rs`.)
    #[test]
    fn end_mode_is_the_same_at_each_width() {
        let pieces: [&[u8]; 16] = [
            b"ab Cd ",
            b"   ",
            b"\\n",
            b"\\\\",
            b"\\\"",
            b"\"",
            b"\\/",
            b"\\u00e9",
            b"\\u0001",
            "Été".as_bytes(),
            "’".as_bytes(),
            "漢".as_bytes(),
            b"\t",
            b"\x01",
            b"\xc3",
            b"\\ud83d\\ude00",
        ];
        let mut state = 3u64;
        let mut next = |n: usize| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as usize % n
        };
        let mut ended = 0;
        for _ in 0..20_000 {
            let mut line: Vec<u8> = std::iter::repeat_n(b'p', next(140)).collect();
            for _ in 0..next(16) {
                line.extend_from_slice(pieces[next(pieces.len())]);
                line.extend(std::iter::repeat_n(b'q', next(70)));
            }
            line.extend_from_slice(b"\",\"metadata\":{}}");
            let mut runs = Vec::new();
            each_width(|| {
                let mut out = Vec::new();
                let r = normalize_src::<true, true>(&line, &mut out)
                    .map(|r| (r.end, r.canonical, out[..r.n].to_vec()));
                runs.push(r);
            });
            assert!(
                runs.windows(2).all(|w| w[0] == w[1]),
                "{:?}",
                String::from_utf8_lossy(&line)
            );
            ended += usize::from(runs[0].is_some());
        }
        assert!(ended > 3_000, "{ended}");
    }

    #[test]
    fn long_whitespace_runs_are_skipped() {
        each_width(|| {
            let (mut reference, mut bytes) = (String::new(), Vec::new());
            for run in [1, 2, 15, 16, 17, 31, 32, 33, 100, 1000] {
                for ws in [" ", "\t", "\n", " \r\n", "\u{a0}"] {
                    for lead in ["", "a", "abcdefghijklmnopq"] {
                        let t = format!("{lead}{}End{}", ws.repeat(run), ws.repeat(run));
                        normalize_slow(&t, &mut reference);
                        normalize_bytes(&t, &mut bytes);
                        assert_eq!(bytes, reference.as_bytes(), "{t:?}");
                        assert_json_path_agrees(&t, &reference);
                    }
                }
            }
        });
    }

    #[test]
    fn prepared_hash_is_used() {
        let step = ExactDedup::new(ExactDedupConfig::default());
        let mut cx = StepCx::default();
        let mut d = Document::new("a", "Same text");
        step.prepare(&mut d, &mut cx);
        assert!(matches!(step.process(d, &mut cx), Outcome::Keep(_)));
        assert!(matches!(
            run(&step, "b", "same TEXT"),
            Outcome::Reject { .. }
        ));
    }

    #[test]
    fn raw_mode_is_byte_exact() {
        let step = ExactDedup::new(ExactDedupConfig { normalize: false });
        assert!(matches!(run(&step, "a", "Hello"), Outcome::Keep(_)));
        assert!(matches!(run(&step, "b", "hello"), Outcome::Keep(_)));
        assert!(matches!(run(&step, "c", "Hello"), Outcome::Reject { .. }));
    }
}
