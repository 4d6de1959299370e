//! The normalisation `exact_dedup` hashes: Unicode whitespace runs become one space, leading
//! and trailing whitespace goes, letters are lower-cased. [`normalize_for_exact`] is the
//! definition (checked against `normalize_slow`, the reference, by the tests); the work is
//! done on bytes by [`normalize_bytes`]: a general loop, one character (or 16 ASCII bytes) at a
//! time, which hands long ASCII stretches to the wide steps of the `avx2` and `avx512` modules
//! when the processor has them.

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

/// Whitespace and stop masks of 16 bytes, one bit per byte (a stop is a non-ASCII byte, or a
/// whitespace byte right after whitespace, or at the start when `prev_space`), and the 16 bytes
/// normalised. SSE2, which every x86-64 processor has.
#[cfg(target_arch = "x86_64")]
#[inline]
fn map16(chunk: &[u8], prev_space: bool) -> ([u8; 16], u32, u32) {
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
        let stop = high | (ws & ((ws << 1) | u32::from(prev_space)));
        (out, ws, stop)
    }
}

/// The same as the SSE2 version, a byte at a time.
#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn map16(chunk: &[u8], prev_space: bool) -> ([u8; 16], u32, u32) {
    let mut out = [0u8; 16];
    let (mut ws, mut high) = (0u32, 0u32);
    for (k, &b) in chunk[..16].iter().enumerate() {
        if b >= 0x80 {
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

/// The character at the start of `b` (which starts with a byte >= 0x80) and its length.
/// `None` if it is not a well-formed UTF-8 sequence (decoded by hand: a call to the standard
/// library's validator per character cost more than the rest of the normalisation of it).
#[inline(always)]
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
        let (_, ws, _) = map16(chunk, true);
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

/// State of the normaliser between its general loop and a wide step.
#[cfg(target_arch = "x86_64")]
pub(super) struct Pos {
    /// Bytes of `src` read.
    pub(super) i: usize,
    /// Bytes of `out` written.
    pub(super) n: usize,
    /// Whether the last byte written is a space.
    pub(super) prev_space: bool,
}

/// [`normalize_bytes`] without the final truncation: writes the normalised text to the start of
/// `out` and returns its length. `out` keeps its length otherwise, so a reused buffer is not
/// zeroed again for each text.
///
/// Most web text is ASCII with a few typographic quotes or accented letters; this keeps those
/// documents on the byte path. Sixteen bytes are mapped at a time (lower case, whitespace to
/// space) and written up to the first "stop": a non-ASCII byte or a whitespace byte right after
/// whitespace. A run of whitespace is then skipped sixteen bytes at a time (pages padded with
/// thousands of spaces are common). With AVX2 (and AVX-512), long ASCII stretches go to the
/// wide steps, which do not stop at whitespace runs.
pub(super) fn normalize_into(text: &str, out: &mut Vec<u8>) -> usize {
    // A `&str` has no broken character: `decode_char` never refuses one of its characters.
    normalize_src(text.as_bytes(), out).unwrap_or(0)
}

/// The loop of [`normalize_into`] on the bytes of a `&str`; `None` only for a broken UTF-8
/// sequence, which a `&str` does not have.
fn normalize_src(src: &[u8], out: &mut Vec<u8>) -> Option<usize> {
    // Room for every ASCII byte plus some slack; a non-ASCII character re-checks the room, since
    // lower-casing can lengthen it (U+0130 is 2 bytes, its lower case 3).
    if out.len() < src.len() + SLACK {
        out.resize(src.len() + SLACK, 0);
    }
    let mut n = 0; // bytes written
                   // Whether the last byte written is a space (true at the start, so leading spaces vanish).
    let mut prev_space = true;
    let mut i = 0;
    #[cfg(target_arch = "x86_64")]
    let (avx2, avx512) = wide_steps();
    while i < src.len() {
        #[cfg(target_arch = "x86_64")]
        if avx2 && i + 33 <= src.len() && src[i] < 0x80 {
            let mut p = Pos { i, n, prev_space };
            // A longer lower case (İ) may have eaten into the slack.
            let need = n + (src.len() - i) + SLACK;
            if out.len() < need {
                out.resize(need, 0);
            }
            if avx512 {
                // SAFETY: the processor has AVX-512F/BW/VBMI2 and POPCNT (`wide_steps`), and
                // `out` has the room it needs.
                unsafe { super::avx512::normalize_avx512(src, out, &mut p) };
            }
            // The AVX2 step takes the last 33 to 65 bytes (or all, without AVX-512).
            if src.len() - p.i < 66 {
                // SAFETY: the processor has AVX2 and POPCNT (`wide_steps`), and `out` has the
                // room it needs (the step above wrote no more bytes than it read).
                unsafe { super::avx2::normalize_avx2(src, out, &mut p) };
            }
            (i, n, prev_space) = (p.i, p.n, p.prev_space);
            if i >= src.len() {
                break;
            }
        }
        // A non-ASCII byte would stop the 16-byte step at once: in a run of such characters
        // (Cyrillic, Greek, CJK text) each goes straight to the code below.
        if let Some(chunk) = src.get(i..i + 16).filter(|_| src[i] < 0x80) {
            let (mapped, ws, stop) = map16(chunk, prev_space);
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
            if src[i] < 0x80 {
                // Whitespace after whitespace: this byte and the rest of the run write nothing.
                i = skip_ascii_ws(src, i + 1);
                prev_space = true;
                continue;
            }
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
        // A byte of the last few, or a non-ASCII character.
        let (c, len) = if src[i] < 0x80 {
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
    Some(n)
}

/// Which wide steps the processor can run: (AVX2 with POPCNT, and also AVX-512F/BW/VBMI2).
#[cfg(target_arch = "x86_64")]
#[inline]
pub(super) fn wide_steps() -> (bool, bool) {
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

#[cfg(test)]
mod tests;
