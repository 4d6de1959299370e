//! The rules of a JSON string, in one place: what an escape stands for, which escapes are the
//! canonical ones (those thresher's writer and serde_json write), unescaping a string's body,
//! and escaping a text. [`JsonString`] is the [`TextEncoding`] of a text the reader left
//! escaped in its input buffer.

use thresher_core::TextEncoding;

/// The body of a JSON string (without the quotes), as the [`TextEncoding`] of a document's
/// [`RawText`](thresher_core::RawText): what the JSONL reader gives for a text whose escapes
/// are the canonical ones, so the JSONL writer can copy the bytes as they are.
pub struct JsonString;

impl TextEncoding for JsonString {
    fn decode(&self, raw: &[u8]) -> String {
        unescape_body(raw)
    }
}

/// The text a JSON string body (without the quotes) stands for: escapes decoded, invalid UTF-8
/// or a broken escape replaced by U+FFFD (the JSONL reader only hands over checked bodies).
pub(super) fn unescape_body(body: &[u8]) -> String {
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while let Some(k) = memchr::memchr(b'\\', &body[i..]) {
        out.extend_from_slice(&body[i..i + k]);
        i += k;
        // A broken escape is U+FFFD for its backslash; a lone surrogate, for the whole escape.
        let (c, len) = json_escape(&body[i..]).map_or(('\u{fffd}', 1), |(v, len)| {
            (char::from_u32(v).unwrap_or('\u{fffd}'), len)
        });
        let mut utf8 = [0u8; 4];
        out.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
        i += len;
    }
    out.extend_from_slice(&body[i..]);
    // The reader checked the UTF-8 already; checked again (simdutf8: a fraction of the copy's
    // cost) so that a wrong caller gets replacement characters, not a broken `String`.
    if simdutf8::basic::from_utf8(&out).is_ok() {
        // SAFETY: `out` was just checked to be valid UTF-8.
        return unsafe { String::from_utf8_unchecked(out) };
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether the escape at the start of `b` (a backslash; `v` the code point it stands for, as
/// [`json_escape`] gives it) is written the way thresher's writer and serde_json write it: never
/// `\/`, and `\u` only for the control characters without a short form, in lower-case hex.
pub(super) fn json_escape_is_canonical(b: &[u8], v: u32) -> bool {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    match b.get(1) {
        Some(b'/') => false,
        Some(b'u') => {
            let short = matches!(v, 0x08 | 0x09 | 0x0A | 0x0C | 0x0D);
            v < 0x20
                && !short
                && b.get(2..6).is_some_and(|hex| {
                    hex[..2] == *b"00"
                        && hex[2] == HEX[(v >> 4) as usize]
                        && hex[3] == HEX[(v & 0xF) as usize]
                })
        }
        _ => true,
    }
}

/// The JSON escape at the start of `b` (a backslash): the code point it stands for and its length
/// in bytes. A `\uD8xx\uDCxx` pair is one code point (12 bytes); a lone surrogate comes back as
/// its own code (6 bytes), which is not a `char`: callers replace or refuse it. `None` for a
/// broken escape.
pub(super) fn json_escape(b: &[u8]) -> Option<(u32, usize)> {
    let hex4 = |at: usize| -> Option<u32> {
        let h = b.get(at..at + 4)?;
        h.iter()
            .try_fold(0u32, |v, &d| Some(v * 16 + char::from(d).to_digit(16)?))
    };
    let c = match b.get(1)? {
        b'"' => '"',
        b'\\' => '\\',
        b'/' => '/',
        b'b' => '\u{8}',
        b'f' => '\u{c}',
        b'n' => '\n',
        b'r' => '\r',
        b't' => '\t',
        b'u' => {
            let v = hex4(2)?;
            if (0xD800..0xDC00).contains(&v) && b.get(6..8) == Some(b"\\u") {
                if let Some(lo @ 0xDC00..=0xDFFF) = hex4(8) {
                    return Some((0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00), 12));
                }
            }
            return Some((v, 6));
        }
        _ => return None,
    };
    Some((u32::from(c), 2))
}

/// How serde_json escapes an ASCII byte inside a string: 0 = as is, `u` = `\u00XX`, else the
/// letter after the backslash.
static ESCAPE: [u8; 128] = {
    let mut t = [0u8; 128];
    let mut b = 0;
    while b < 0x20 {
        t[b] = b'u';
        b += 1;
    }
    t[0x08] = b'b';
    t[b'\t' as usize] = b't';
    t[b'\n' as usize] = b'n';
    t[0x0C] = b'f';
    t[b'\r' as usize] = b'r';
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    t
};

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Whether any of the 8 bytes in `w` is a control character, `"` or `\` (exact as a whole-word
/// test: the classic "has a byte less than n" and "has a zero byte" tricks).
#[inline]
fn needs_escape(w: u64) -> bool {
    let lt_space = w.wrapping_sub(ONES * 0x20) & !w;
    let q = w ^ (ONES * b'"' as u64);
    let quote = q.wrapping_sub(ONES) & !q;
    let s = w ^ (ONES * b'\\' as u64);
    let backslash = s.wrapping_sub(ONES) & !s;
    (lt_space | quote | backslash) & HIGHS != 0
}

/// Writes `s` as a JSON string, byte for byte as serde_json does (`"`, `\` and control
/// characters escaped, short forms where JSON has them, lower-case hex; everything else as is).
/// Eight bytes are checked at a time, and runs that need no escape are copied whole.
pub fn write_json_str(out: &mut Vec<u8>, s: &str) {
    let b = s.as_bytes();
    out.reserve(b.len() + 2);
    out.push(b'"');
    let mut run = 0; // start of the bytes not yet copied
    let mut i = 0;
    while i < b.len() {
        // Sixteen bytes per test while the text is clean (most of it), then eight.
        if let Some(pair) = b.get(i..i + 16) {
            let (mut w0, mut w1) = ([0u8; 8], [0u8; 8]);
            w0.copy_from_slice(&pair[..8]);
            w1.copy_from_slice(&pair[8..]);
            if !needs_escape(u64::from_le_bytes(w0)) && !needs_escape(u64::from_le_bytes(w1)) {
                i += 16;
                continue;
            }
        }
        if let Some(word) = b.get(i..i + 8) {
            let mut w = [0u8; 8];
            w.copy_from_slice(word);
            if !needs_escape(u64::from_le_bytes(w)) {
                i += 8;
                continue;
            }
        }
        let end = (i + 8).min(b.len());
        while i < end {
            let c = b[i];
            let e = if c < 0x80 { ESCAPE[c as usize] } else { 0 };
            if e != 0 {
                out.extend_from_slice(&b[run..i]);
                if e == b'u' {
                    const HEX: &[u8; 16] = b"0123456789abcdef";
                    out.extend_from_slice(&[
                        b'\\',
                        b'u',
                        b'0',
                        b'0',
                        HEX[(c >> 4) as usize],
                        HEX[(c & 0xF) as usize],
                    ]);
                } else {
                    out.extend_from_slice(&[b'\\', e]);
                }
                run = i + 1;
            }
            i += 1;
        }
    }
    out.extend_from_slice(&b[run..]);
    out.push(b'"');
}

/// The length of what [`write_json_str`] writes for `s` (the quotes included), without
/// writing it: what a Parquet row counts as its JSONL line's size, so that shards and row
/// groups are cut where the lines would cut them.
pub fn json_str_len(s: &str) -> usize {
    // Branch-free, 32 bytes at a time, so that the compiler turns it into vector code: a text
    // has a newline every few dozen bytes, and the word-at-a-time test of `write_json_str`
    // took its slow path that often (this was 6% of a Parquet -> Parquet copy's CPU time, and
    // is 2-4 times faster). A chunk adds at most 32 * 5 to a `u8`: no overflow.
    let b = s.as_bytes();
    let mut len = b.len() + 2;
    let mut chunks = b.chunks_exact(32);
    for c in &mut chunks {
        len += usize::from(c.iter().fold(0u8, |a, &x| a.wrapping_add(escape_extra(x))));
    }
    len + chunks
        .remainder()
        .iter()
        .map(|&x| usize::from(escape_extra(x)))
        .sum::<usize>()
}

/// How many bytes escaping `c` adds (see [`ESCAPE`]): 1 for `"`, `\` and the control
/// characters with a short escape (`\b`, `\t`, `\n`, `\f`, `\r`), 5 for the other control
/// characters (`\u00XX`), else 0.
#[inline(always)]
fn escape_extra(c: u8) -> u8 {
    let control = u8::from(c < 0x20);
    let short = u8::from(c == b'"')
        | u8::from(c == b'\\')
        | (u8::from(c.wrapping_sub(0x08) < 6) & u8::from(c != 0x0B));
    short + (control & (short ^ 1)) * 5
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_unescaped() {
        let text = "a\"b\\c/\n\u{1}é\u{1F600}\u{8}\u{c}\r\t";
        let body = serde_json::to_string(text).unwrap();
        assert_eq!(unescape_body(&body.as_bytes()[1..body.len() - 1]), text);
        assert_eq!(JsonString.decode(br"x\ny"), "x\ny");
        // Escapes serde_json does not write, and broken ones.
        let odd = br"\/\u00e9\ud83d\ude00\ud83d\q\u12";
        assert_eq!(unescape_body(odd), "/é😀\u{fffd}\u{fffd}q\u{fffd}u12");
        assert_eq!(unescape_body(b"caf\xe9"), "caf\u{fffd}");
    }

    #[test]
    fn strings_are_escaped_as_serde_json_does() {
        let mut cases: Vec<String> = [
            "",
            "plain ascii text that is longer than eight bytes",
            "quote\" back\\slash / slash",
            "\u{0}\u{1}\u{8}\t\n\u{b}\u{c}\r\u{1f}\u{7f} end",
            "héllo “wörld” — 😀 \u{2028}\n",
            "12345678\"12345678\\1234567\n",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        // Every byte value in every position of a word, and of a 32-byte chunk of
        // `json_str_len`.
        for c in 0u8..128 {
            for pad in 0..40 {
                let mut s = "x".repeat(pad);
                s.push(c as char);
                s.push_str("yyyyyyyyy");
                cases.push(s);
            }
        }
        for s in cases {
            let mut ours = Vec::new();
            write_json_str(&mut ours, &s);
            assert_eq!(json_str_len(&s), ours.len(), "{s:?}");
            assert_eq!(
                String::from_utf8(ours).unwrap(),
                serde_json::to_string(&s).unwrap(),
                "{s:?}"
            );
        }
    }
}
