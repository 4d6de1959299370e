//! Finding, checking and unescaping a JSON string in a line: the reader's hot loop. The
//! escape rules themselves are in [`super::string`].

use super::string::{json_escape, json_escape_is_canonical};

#[cfg(not(target_arch = "x86_64"))]
const ONES: u64 = 0x0101_0101_0101_0101;
#[cfg(not(target_arch = "x86_64"))]
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The top bit of each byte of `w` that is `"`, `\` or a control character. Exact for the
/// lowest such byte (borrows only run towards higher bytes), which is the only one used.
#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn special_bytes(w: u64) -> u64 {
    let control = w.wrapping_sub(ONES * 0x20) & !w;
    let q = w ^ (ONES * u64::from(b'"'));
    let quote = q.wrapping_sub(ONES) & !q;
    let s = w ^ (ONES * u64::from(b'\\'));
    let backslash = s.wrapping_sub(ONES) & !s;
    (control | quote | backslash) & HIGHS
}

/// Index of the first `"`, `\` or control character at or after `i`, or `b.len()`.
#[inline]
fn next_special(b: &[u8], mut i: usize) -> usize {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        // SAFETY: the processor has AVX2 (checked just above).
        i = unsafe { skip_plain_avx2::<false>(b, i) };
    }
    while let Some(chunk) = b.get(i..i + 16) {
        let m = special16(chunk);
        if m != 0 {
            return i + m.trailing_zeros() as usize;
        }
        i += 16;
    }
    while let Some(&c) = b.get(i) {
        if c == b'"' || c == b'\\' || c < 0x20 {
            return i;
        }
        i += 1;
    }
    i
}

/// The index of the first `"`, `\\` or control character (and with `HIGH`, non-ASCII byte) at
/// or after `i`, found 32 bytes per step, or of the last bytes (fewer than 32): the text between
/// escapes is most of every line, and this scans it twice as fast as the SSE2 step.
/// Callers check that the processor supports AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn skip_plain_avx2<const HIGH: bool>(b: &[u8], mut i: usize) -> usize {
    use std::arch::x86_64::*;
    let quote = _mm256_set1_epi8(b'"' as i8);
    let backslash = _mm256_set1_epi8(b'\\' as i8);
    let space = _mm256_set1_epi8(0x20);
    let low = _mm256_set1_epi8(0x1F);
    while let Some(chunk) = b.get(i..i + 32) {
        // SAFETY: the unaligned load reads the 32 bytes of `chunk`.
        let v = unsafe { _mm256_loadu_si256(chunk.as_ptr().cast::<__m256i>()) };
        let stops = if HIGH {
            // Signed v < 0x20: the control characters and (negative) every byte >= 0x80.
            _mm256_cmpgt_epi8(space, v)
        } else {
            // Unsigned v <= 0x1F: max(v, 0x1F) == 0x1F.
            _mm256_cmpeq_epi8(_mm256_max_epu8(v, low), low)
        };
        let special = _mm256_or_si256(
            _mm256_or_si256(_mm256_cmpeq_epi8(v, quote), _mm256_cmpeq_epi8(v, backslash)),
            stops,
        );
        let m = _mm256_movemask_epi8(special);
        if m != 0 {
            return i + m.trailing_zeros() as usize;
        }
        i += 32;
    }
    i
}

/// One bit per byte of the 16 bytes at the start of `chunk`: set for `"`, `\` and control
/// characters. SSE2, which every x86-64 processor has.
#[cfg(target_arch = "x86_64")]
#[inline]
fn special16(chunk: &[u8]) -> u32 {
    use std::arch::x86_64::*;
    assert!(chunk.len() >= 16);
    // SAFETY: SSE2 is part of x86-64, and the unaligned load reads 16 bytes, which `chunk` has
    // (checked above).
    #[allow(unused_unsafe)]
    unsafe {
        let v = _mm_loadu_si128(chunk.as_ptr().cast::<__m128i>());
        let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
        let backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
        // Unsigned v <= 0x1F: max(v, 0x1F) == 0x1F.
        let low = _mm_set1_epi8(0x1F);
        let control = _mm_cmpeq_epi8(_mm_max_epu8(v, low), low);
        _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, backslash), control)) as u32
    }
}

/// The same from two eight-byte words.
#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn special16(chunk: &[u8]) -> u32 {
    let word = |k: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&chunk[k..k + 8]);
        special_bytes(u64::from_le_bytes(w))
    };
    let (m0, m1) = (word(0), word(8));
    if m0 != 0 {
        1 << (m0.trailing_zeros() / 8)
    } else if m1 != 0 {
        1 << (8 + m1.trailing_zeros() / 8)
    } else {
        0
    }
}

/// Reads a JSON string whose body starts at `start` (after the opening quote), unescaping it.
/// Returns the string, the index of the closing quote, and whether every escape is the one
/// serde_json would write for that character (then the body is byte for byte the escaped text
/// thresher writes). `None` when serde_json would reject the string or a rare case (surrogate
/// escapes) is left to it.
pub(super) fn read_string(
    line: &str,
    start: usize,
    capacity: usize,
) -> Option<(String, usize, bool)> {
    let mut out = String::with_capacity(capacity);
    let (end, canonical) = unescape_into(line, start, Some(&mut out))?;
    Some((out, end, canonical))
}

/// [`read_string`] that unescapes into `out` only when given one: the same checks, the same
/// closing quote and the same canonical flag.
fn unescape_into(line: &str, start: usize, mut out: Option<&mut String>) -> Option<(usize, bool)> {
    let b = line.as_bytes();
    let mut canonical = true;
    let mut run = start;
    loop {
        let i = next_special(b, run);
        // `line[run..i]` lies between ASCII bytes (or the string's ends): char boundaries.
        if let Some(out) = out.as_deref_mut() {
            out.push_str(&line[run..i]);
        }
        match b.get(i)? {
            b'"' => return Some((i, canonical)),
            b'\\' => {
                // Surrogates (paired or lone) are left to serde_json.
                let (v, len) = json_escape(&b[i..]).filter(|&(v, _)| v < 0x10000)?;
                let c = char::from_u32(v)?;
                run = i + len;
                canonical &= json_escape_is_canonical(&b[i..], v);
                if let Some(out) = out.as_deref_mut() {
                    out.push(c);
                }
            }
            _ => return None, // a raw control character: serde_json rejects it
        }
    }
}

/// Checks the JSON string whose body starts at `b[start]` (after the opening quote) without
/// unescaping it: returns the index of the closing quote and whether every escape is canonical,
/// as [`read_string`] would, and `None` where it would (a broken escape, a surrogate escape, a
/// raw control character, no closing quote), and also for invalid UTF-8, which it checks in
/// the same pass: so `b` need not be checked before.
///
/// One scan of 32 bytes per step stops at quotes, backslashes, control characters and
/// non-ASCII bytes; a run of non-ASCII bytes (between ASCII ones, so whole characters) is
/// checked on its own. Web text is mostly ASCII: this replaces a UTF-8 check of the whole line
/// and a second scan of the text.
pub(super) fn scan_string(b: &[u8], start: usize) -> Option<(usize, bool)> {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("avx512bw") {
        // SAFETY: the processor has AVX-512F and BW (checked just above).
        return unsafe { scan_string_avx512(b, start) };
    }
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        // SAFETY: the processor has AVX2 (checked just above).
        return unsafe { scan_string_avx2(b, start) };
    }
    scan_string_events(b, start)
}

/// Alternate bits: the even (and odd) positions of a 64-byte block.
#[cfg(target_arch = "x86_64")]
const EVEN_BITS: u64 = 0x5555_5555_5555_5555;

/// [`scan_string`] 64 bytes per step, without a branch per escape or per non-ASCII byte:
/// `masks` gives, for a 64-byte block, one bit per byte for its quotes, backslashes, control
/// bytes, non-ASCII bytes and short escape letters (`"` `\\` `n` `t` `r` `b` `f`). Which bytes
/// are escaped follows from the backslash runs (within a run, the backslashes at even distance
/// from its start begin an escape, and each escapes the next byte); the end is the first quote
/// not escaped. Escaped bytes that are not short escape letters (`\/`, `\u`, broken ones) are
/// checked one by one, and the UTF-8 of the whole string once, at the end, if it has a
/// non-ASCII byte at all. The last bytes (fewer than 64) go to [`scan_string_events`].
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn scan_blocks(
    b: &[u8],
    start: usize,
    masks: impl Fn(&[u8]) -> BlockMasks,
) -> Option<(usize, bool)> {
    let mut canonical = true;
    let mut high_seen = false;
    // Whether the block's first byte is escaped (by a backslash ending the last block).
    let mut carry = 0u64;
    let mut i = start;
    while let Some(block) = b.get(i..i + 64) {
        let m = masks(block);
        // An escaped first byte (even a backslash) is taken; the runs start after it.
        let bs = m.backslash & !carry;
        let run_starts = bs & !(bs << 1);
        // Adding a run's start bit clears the whole run (the carry ends past it): so the runs
        // that start at an even position are found at once, and the others are the rest.
        let even_runs = bs & !bs.wrapping_add(run_starts & EVEN_BITS);
        let odd_runs = bs & !even_runs;
        let escapers = (even_runs & EVEN_BITS) | (odd_runs & !EVEN_BITS);
        let escaped = (escapers << 1) | carry;
        let ends = m.quote & !escaped;
        // The string's bytes in this block: all, or those before its closing quote.
        let inside = (ends & ends.wrapping_neg()).wrapping_sub(1);
        if m.control & inside != 0 {
            return None; // a raw control character: serde_json rejects it
        }
        high_seen |= m.high & inside != 0;
        let mut esc = escaped & inside & !m.short_escape;
        while esc != 0 {
            let at = i + esc.trailing_zeros() as usize;
            esc &= esc - 1;
            match block[at - i] {
                b'/' => canonical = false,
                b'u' => canonical &= unicode_escape(b, at - 1)?,
                _ => return None,
            }
        }
        if ends != 0 {
            let end = i + ends.trailing_zeros() as usize;
            if high_seen {
                simdutf8::basic::from_utf8(&b[start..end]).ok()?;
            }
            return Some((end, canonical));
        }
        carry = escapers >> 63;
        i += 64;
    }
    // The last bytes, from the backslash if one escapes the next byte, or from the lead byte
    // of a character the block boundary cut (up to 3 bytes back; a continuation byte without
    // one is left for the scan below to refuse).
    let mut from = i - carry as usize;
    if carry == 0 && b.get(from).is_some_and(|&c| c & 0xC0 == 0x80) {
        if let Some(lead) = (from.saturating_sub(3).max(start)..from)
            .rev()
            .find(|&k| b[k] & 0xC0 != 0x80)
            .filter(|&k| b[k] >= 0xC0)
        {
            from = lead;
        }
    }
    let (end, rest_canonical) = scan_string_events(b, from)?;
    if high_seen {
        simdutf8::basic::from_utf8(&b[start..end]).ok()?;
    }
    Some((end, canonical && rest_canonical))
}

/// The masks [`scan_blocks`] works on, one bit per byte of a 64-byte block.
#[cfg(target_arch = "x86_64")]
struct BlockMasks {
    quote: u64,
    backslash: u64,
    /// Bytes below 0x20.
    control: u64,
    /// Bytes of 0x80 and above.
    high: u64,
    /// `"` `\\` `n` `t` `r` `b` `f`: the bytes that make a short escape after a backslash.
    short_escape: u64,
}

/// Nibble tables of the short escape letters `"` (0x22) `\\` (0x5C) `n` (0x6E) `t` (0x74)
/// `r` (0x72) `b` (0x62) `f` (0x66): a byte is one when the entry of its low nibble and the
/// entry of its high nibble share a bit (one bit per high nibble 2, 5, 6 and 7).
#[cfg(target_arch = "x86_64")]
const SHORT_LO: [i8; 16] = [
    0, 0, 0b1101, 0, 0b1000, 0, 0b0100, 0, 0, 0, 0, 0, 0b0010, 0, 0b0100, 0,
];
#[cfg(target_arch = "x86_64")]
const SHORT_HI: [i8; 16] = [
    0, 0, 0b0001, 0, 0, 0b0010, 0b0100, 0b1000, 0, 0, 0, 0, 0, 0, 0, 0,
];

/// [`scan_blocks`] with AVX2, two 32-byte halves per block.
/// Callers check that the processor supports AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn scan_string_avx2(b: &[u8], start: usize) -> Option<(usize, bool)> {
    use std::arch::x86_64::*;
    let quote = _mm256_set1_epi8(b'"' as i8);
    let backslash = _mm256_set1_epi8(b'\\' as i8);
    let low = _mm256_set1_epi8(0x1F);
    let nibble = _mm256_set1_epi8(0x0F);
    // SAFETY: the tables are 16 bytes long.
    let (lo_t, hi_t) = unsafe {
        (
            _mm256_broadcastsi128_si256(_mm_loadu_si128(SHORT_LO.as_ptr().cast())),
            _mm256_broadcastsi128_si256(_mm_loadu_si128(SHORT_HI.as_ptr().cast())),
        )
    };
    let half = |v: __m256i| {
        let m = |x: __m256i| u64::from(_mm256_movemask_epi8(x) as u32);
        let lo = _mm256_shuffle_epi8(lo_t, _mm256_and_si256(v, nibble));
        let hi = _mm256_shuffle_epi8(hi_t, _mm256_and_si256(_mm256_srli_epi16::<4>(v), nibble));
        let none = _mm256_cmpeq_epi8(_mm256_and_si256(lo, hi), _mm256_setzero_si256());
        [
            m(_mm256_cmpeq_epi8(v, quote)),
            m(_mm256_cmpeq_epi8(v, backslash)),
            // Unsigned v <= 0x1F: max(v, 0x1F) == 0x1F.
            m(_mm256_cmpeq_epi8(_mm256_max_epu8(v, low), low)),
            m(v),
            !m(none) & 0xFFFF_FFFF,
        ]
    };
    scan_blocks(b, start, |block| {
        // SAFETY: the unaligned loads read the 64 bytes of `block`.
        let (v0, v1) = unsafe {
            (
                _mm256_loadu_si256(block.as_ptr().cast::<__m256i>()),
                _mm256_loadu_si256(block.as_ptr().add(32).cast::<__m256i>()),
            )
        };
        let (a, c) = (half(v0), half(v1));
        BlockMasks {
            quote: a[0] | c[0] << 32,
            backslash: a[1] | c[1] << 32,
            control: a[2] | c[2] << 32,
            high: a[3] | c[3] << 32,
            short_escape: a[4] | c[4] << 32,
        }
    })
}

/// [`scan_blocks`] with AVX-512 (F and BW): one register and mask compares per block.
/// Callers check that the processor supports AVX-512F and AVX-512BW.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw")]
fn scan_string_avx512(b: &[u8], start: usize) -> Option<(usize, bool)> {
    use std::arch::x86_64::*;
    let quote = _mm512_set1_epi8(b'"' as i8);
    let backslash = _mm512_set1_epi8(b'\\' as i8);
    let low = _mm512_set1_epi8(0x1F);
    let nibble = _mm512_set1_epi8(0x0F);
    // SAFETY: the tables are 16 bytes long.
    let (lo_t, hi_t) = unsafe {
        (
            _mm512_broadcast_i32x4(_mm_loadu_si128(SHORT_LO.as_ptr().cast())),
            _mm512_broadcast_i32x4(_mm_loadu_si128(SHORT_HI.as_ptr().cast())),
        )
    };
    scan_blocks(b, start, |block| {
        // SAFETY: the unaligned load reads the 64 bytes of `block`.
        let v = unsafe { _mm512_loadu_si512(block.as_ptr().cast()) };
        let lo = _mm512_shuffle_epi8(lo_t, _mm512_and_si512(v, nibble));
        let hi = _mm512_shuffle_epi8(hi_t, _mm512_and_si512(_mm512_srli_epi16::<4>(v), nibble));
        BlockMasks {
            quote: _mm512_cmpeq_epi8_mask(v, quote),
            backslash: _mm512_cmpeq_epi8_mask(v, backslash),
            control: _mm512_cmple_epu8_mask(v, low),
            high: _mm512_movepi8_mask(v),
            short_escape: _mm512_test_epi8_mask(lo, hi),
        }
    })
}

/// Checks the `\u` escape at `b[i]`: `None` if broken or a surrogate (left to serde_json),
/// else whether it is canonical (what serde_json writes: `\u` only for the control characters
/// without a short form, in lower-case hex).
#[inline]
fn unicode_escape(b: &[u8], i: usize) -> Option<bool> {
    let (v, _) = json_escape(&b[i..]).filter(|&(v, _)| v < 0x10000)?;
    char::from_u32(v)?;
    Some(json_escape_is_canonical(&b[i..], v))
}

/// [`scan_string`] one event at a time: a fast skip to the next quote, backslash, control
/// character or non-ASCII byte, which is then handled.
fn scan_string_events(b: &[u8], start: usize) -> Option<(usize, bool)> {
    let mut canonical = true;
    let mut i = start;
    loop {
        i = next_event(b, i);
        let c = *b.get(i)?;
        match c {
            b'"' => return Some((i, canonical)),
            b'\\' => match *b.get(i + 1)? {
                b'"' | b'\\' | b'n' | b't' | b'r' | b'b' | b'f' => i += 2,
                b'/' => {
                    canonical = false;
                    i += 2;
                }
                b'u' => {
                    canonical &= unicode_escape(b, i)?;
                    i += 6; // `\uXXXX`: surrogate pairs are refused above
                }
                _ => return None,
            },
            0x80.. => {
                let end = next_ascii(b, i);
                if end - i > 64 {
                    simdutf8::basic::from_utf8(&b[i..end]).ok()?;
                } else {
                    std::str::from_utf8(&b[i..end]).ok()?;
                }
                i = end;
            }
            _ => return None, // a raw control character: serde_json rejects it
        }
    }
}

/// Index of the first `"`, `\`, control character or non-ASCII byte at or after `i`, or
/// `b.len()`.
#[inline]
fn next_event(b: &[u8], mut i: usize) -> usize {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        // SAFETY: the processor has AVX2 (checked just above).
        i = unsafe { skip_plain_avx2::<true>(b, i) };
    }
    while let Some(&c) = b.get(i) {
        if c == b'"' || c == b'\\' || !(0x20..0x80).contains(&c) {
            return i;
        }
        i += 1;
    }
    i
}

/// Index of the first ASCII byte at or after `i`, or `b.len()`.
#[inline]
fn next_ascii(b: &[u8], mut i: usize) -> usize {
    while let Some(chunk) = b.get(i..i + 8) {
        let mut w = [0u8; 8];
        w.copy_from_slice(chunk);
        // The top bit of each byte that is ASCII.
        let ascii = !u64::from_le_bytes(w) & 0x8080_8080_8080_8080;
        if ascii != 0 {
            return i + ascii.trailing_zeros() as usize / 8;
        }
        i += 8;
    }
    while b.get(i).is_some_and(|&c| c >= 0x80) {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The block scan of long strings gives what a UTF-8 check of the whole string and the
    /// unescaping scan give: escapes, quotes, control characters and non-ASCII characters at
    /// every offset of a 32-byte block (also cut by its end), with and without broken bytes.
    #[test]
    fn string_scan_equals_check_then_unescape() {
        let pieces: [&[u8]; 24] = [
            b"a",
            b"plain ascii words ",
            b"\\n",
            b"\\\\",
            b"\\\"",
            b"\\/",
            b"\\u00e9",
            b"\\u0001",
            b"\\ud83d\\ude00",
            b"\\x",
            b"\\",
            "é".as_bytes(),
            "текст".as_bytes(),
            "’".as_bytes(),
            "漢字".as_bytes(),
            "😀".as_bytes(),
            b"\t",
            b"\x01",
            b"\xff",
            b"\xc3",
            b"\xe2\x80",
            b"\x80",
            b"  ",
            b"0123456789abcdef0123456789abcdef",
        ];
        // The string's bytes end at the first quote not escaped (a lone backslash piece can
        // make the quote of a `\"` piece raw): only they must be valid UTF-8.
        let reference = |b: &[u8]| -> Option<(usize, bool)> {
            let mut k = 1;
            while k < b.len() && b[k] != b'"' {
                k += if b[k] == b'\\' { 2 } else { 1 };
            }
            let s = std::str::from_utf8(&b[..(k + 1).min(b.len())]).ok()?;
            unescape_into(s, 1, None)
        };
        // Run by hand (not the `proptest!` macro) so that a count over all cases can be checked.
        use proptest::prelude::*;
        use proptest::test_runner::{Config, TestRunner};
        let string = (
            0..40usize,
            prop::collection::vec(prop::sample::select(pieces.to_vec()), 0..30),
        )
            .prop_map(|(pad, pieces)| {
                let mut b = b"\"".to_vec();
                b.extend(std::iter::repeat_n(b'p', pad));
                b.extend(pieces.concat());
                b.push(b'"');
                b
            });
        let ended = std::cell::Cell::new(0);
        let config = Config {
            cases: 30_000,
            source_file: Some(file!()),
            ..Config::default()
        };
        TestRunner::new(config)
            .run(&string, |b| {
                let want = reference(&b);
                for (name, scan) in scan_variants() {
                    prop_assert_eq!(
                        scan(&b, 1),
                        want,
                        "{}: {:?}",
                        name,
                        String::from_utf8_lossy(&b)
                    );
                }
                ended.set(ended.get() + usize::from(want.is_some()));
                Ok(())
            })
            .unwrap();
        let ended = ended.get();
        assert!(ended > 2000, "{ended}");
        // Found by a longer run of this test: an escaped quote ending a 64-byte block, then a
        // stray continuation byte (the tail must not back up onto the quote).
        let mut b = b"\"".to_vec();
        b.extend_from_slice(&[b'p'; 35]);
        b.extend_from_slice("\\u00e9é\\u00e9漢字\\/\\\\’\\\"".as_bytes());
        b.push(0x80);
        b.extend_from_slice(b"\\u0001\"");
        assert_eq!(b[64], b'"');
        for (name, scan) in scan_variants() {
            assert_eq!(scan(&b, 1), reference(&b), "{name}");
        }
    }

    /// A string scan: the closing quote and whether the escapes are canonical.
    type Scan = fn(&[u8], usize) -> Option<(usize, bool)>;

    /// Every implementation of `scan_string` this processor can run, by name.
    fn scan_variants() -> Vec<(&'static str, Scan)> {
        let mut v: Vec<(&'static str, Scan)> = vec![("events", scan_string_events)];
        #[cfg(target_arch = "x86_64")]
        {
            if std::is_x86_feature_detected!("avx2") {
                // SAFETY: the processor has AVX2 (checked just above).
                v.push(("avx2", |b, s| unsafe { scan_string_avx2(b, s) }));
            } else {
                eprintln!("no AVX2 here: its string scan is not tested");
            }
            if std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("avx512bw")
            {
                // SAFETY: the processor has AVX-512F and BW (checked just above).
                v.push(("avx512", |b, s| unsafe { scan_string_avx512(b, s) }));
            } else {
                eprintln!("no AVX-512BW here: its string scan is not tested");
            }
        }
        v
    }

    /// Each byte value after a backslash, at each offset of a 64-byte block: the block scans
    /// classify it as the byte-at-a-time scan does (a short escape, `\/`, `\u`, or broken).
    #[test]
    fn every_escape_letter_at_every_offset() {
        for c in 0u8..=255 {
            for at in 0..70 {
                let mut b = vec![b'"'];
                b.extend(std::iter::repeat_n(b'p', at));
                b.extend_from_slice(&[b'\\', c]);
                if c == b'u' {
                    b.extend_from_slice(b"0041");
                }
                b.extend(std::iter::repeat_n(b'q', 80));
                b.push(b'"');
                let want = scan_string_events(&b, 1);
                for (name, scan) in scan_variants() {
                    assert_eq!(scan(&b, 1), want, "{name}: byte {c:#04x} at {at}");
                }
            }
        }
    }

    #[test]
    fn next_special_finds_the_first_quote_backslash_or_control() {
        let naive = |b: &[u8], i: usize| {
            (i..b.len())
                .find(|&k| b[k] == b'"' || b[k] == b'\\' || b[k] < 0x20)
                .unwrap_or(b.len())
        };
        for c in 0u8..=255 {
            for at in 0..80 {
                for len in [at + 1, 80] {
                    let mut b = vec![b'a'; len];
                    b[at] = c;
                    for from in [0, 1, at] {
                        assert_eq!(next_special(&b, from), naive(&b, from), "{c} {at} {len}");
                    }
                }
            }
        }
    }
}
