//! Parsing one JSONL line into a document.
//!
//! Most lines have the plain `{"id": "..", "text": "..", "metadata": {..}}` layout; a hand-written
//! parser reads those in one pass, unescaping the strings straight into the document's `String`s
//! (see [`parse_common`]); a text in a shared buffer whose escapes are the canonical ones is only
//! checked, and left escaped in the buffer for the document to unescape if a step reads it.
//! Anything it is not sure of (other fields, repeated fields, a
//! non-string id, odd escapes, broken JSON) goes to the general serde_json path, which also
//! makes every error message.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde_json::{Map, Value};
use thresher_core::{Document, InputBuf, SourcePos, TextScan};

use crate::options::{ReadOptions, Utf8Policy};
use crate::record::{Record, RecordError};

/// Parses one JSONL line (without its newline) read at `source`.
///
/// Errors are records, never panics: invalid UTF-8 (unless the policy replaces it), broken JSON,
/// a line that is not an object, a missing `text` field, a `text` that is not a string.
pub fn parse_jsonl_line(line: &[u8], source: SourcePos, opts: &ReadOptions) -> Record {
    parse_line(line, None, source, opts, None)
}

/// [`parse_jsonl_line`] for the line `buf[range]` of a shared buffer. The result is the same;
/// in addition, when the text's escapes in the line are exactly the ones thresher's writer
/// produces, the document is made from those bytes ([`Document::from_json_text`]): the text is
/// unescaped only if a step reads it, and an unedited text is written back as these bytes.
pub fn parse_jsonl_line_shared(
    buf: &Arc<InputBuf>,
    range: Range<usize>,
    source: SourcePos,
    opts: &ReadOptions,
) -> Record {
    parse_jsonl_line_scanned(buf, range, source, opts, None)
}

/// [`parse_jsonl_line_shared`] where `scan` (a step's [`TextScan`]) may check the text field in
/// its own pass instead of the reader's: the record is the same, and a document whose text it
/// scanned has the step's prepared value ([`Document::has_prepared`]).
pub fn parse_jsonl_line_scanned(
    buf: &Arc<InputBuf>,
    range: Range<usize>,
    source: SourcePos,
    opts: &ReadOptions,
    scan: Option<&dyn TextScan>,
) -> Record {
    let start = range.start;
    parse_line(&buf[range], Some((buf, start)), source, opts, scan)
}

fn parse_line(
    line: &[u8],
    shared: Option<(&Arc<InputBuf>, usize)>,
    source: SourcePos,
    opts: &ReadOptions,
    scan: Option<&dyn TextScan>,
) -> Record {
    // A line of the common layout in a shared buffer is read without checking its UTF-8 first:
    // `parse_common` checks each part as it reads it (the text in the same pass that finds its
    // end), and gives up on anything invalid, which the paths below then report.
    if let Some((buf, at)) = shared {
        if let Some(doc) = parse_common(line, None, opts, true, scan)
            .and_then(|c| common_doc(c, Some((buf, at)), source.clone()))
        {
            return Record::Doc(doc);
        }
    }
    // simdutf8 checks long lines several times faster than the standard library; it does not
    // say where a line is broken, so the standard library is asked again for the message.
    let checked = match simdutf8::basic::from_utf8(line) {
        Ok(s) => Ok(s),
        Err(_) => std::str::from_utf8(line),
    };
    let (text, lossy): (Cow<str>, bool) = match checked {
        Ok(s) => {
            // (A shared line was tried above: this one is not of the common layout.)
            if shared.is_none() {
                if let Some(doc) = parse_common(s.as_bytes(), Some(s), opts, false, None)
                    .and_then(|c| common_doc(c, None, source.clone()))
                {
                    return Record::Doc(doc);
                }
            }
            (Cow::Borrowed(s), false)
        }
        Err(e) => match opts.invalid_utf8 {
            Utf8Policy::Error => {
                return Record::Error(RecordError {
                    source,
                    message: format!("invalid UTF-8 at byte {} of the line", e.valid_up_to()),
                    id: String::new(),
                })
            }
            Utf8Policy::Replace => (String::from_utf8_lossy(line), true),
        },
    };
    parse_general(&text, lossy, source, opts)
}

/// The document of a record read by [`parse_common`]. `None` for a text left escaped without
/// a shared buffer to keep it in (not made: `parse_common` leaves a text escaped only when
/// asked to, for a shared line).
fn common_doc(
    c: Common,
    shared: Option<(&Arc<InputBuf>, usize)>,
    source: SourcePos,
) -> Option<Document> {
    let id =
        c.id.unwrap_or_else(|| format!("{}:{}", source.file, source.line));
    let mut doc = match (c.text, shared) {
        (TextField::Escaped(raw), Some((buf, at))) => {
            Document::from_json_text(id, buf.clone(), at + raw.start..at + raw.end)
        }
        (TextField::Text(text, raw), shared) => {
            let mut doc = Document::new(id, text);
            if let (Some(raw), Some((buf, at))) = (raw, shared) {
                doc.set_text_json(buf.clone(), at + raw.start..at + raw.end);
            }
            doc
        }
        (TextField::Escaped(_), None) => return None,
    };
    doc.source = source;
    doc.metadata = c.metadata;
    if let Some(p) = c.prepared {
        doc.set_prepared_boxed(p);
    }
    Some(doc)
}

/// The general path: serde_json with the configured field names. `lossy` says the line was
/// decoded with replacement characters.
fn parse_general(text: &str, lossy: bool, source: SourcePos, opts: &ReadOptions) -> Record {
    let err = |message: String, id: String| {
        Record::Error(RecordError {
            source: source.clone(),
            message,
            id,
        })
    };
    // From a `&str`, which is already valid UTF-8: serde_json does not check each string again.
    let mut de = serde_json::Deserializer::from_str(text);
    let parsed = match (RecordSeed { opts }).deserialize(&mut de) {
        Ok(p) => p,
        Err(e) => return err(format!("broken JSON: {e}"), String::new()),
    };
    if let Err(e) = de.end() {
        return err(format!("broken JSON: {e}"), String::new());
    }
    let id = match parsed.id {
        Some(Value::String(s)) => s,
        Some(Value::Null) | None => format!("{}:{}", source.file, source.line),
        Some(v) => v.to_string(),
    };
    let text = match parsed.text {
        Some(Value::String(s)) => s,
        Some(v) => {
            return err(
                format!(
                    "field `{}` is {}, not a string",
                    opts.text_field,
                    kind_of(&v)
                ),
                id,
            )
        }
        None => return err(format!("no `{}` field", opts.text_field), id),
    };
    let mut doc = Document::new(id, text);
    doc.source = source;
    doc.metadata = parsed.metadata;
    if lossy {
        doc.annotate("reader", "lossy_utf8", true);
    }
    Record::Doc(doc)
}

/// A record read by [`parse_common`].
struct Common {
    id: Option<String>,
    text: TextField,
    metadata: Map<String, Value>,
    /// What a step's [`TextScan`] gave for the text.
    prepared: Option<Box<dyn std::any::Any + Send + Sync>>,
}

/// The text field of a [`Common`] record.
enum TextField {
    /// Unescaped, and where its escaped bytes are in the line if they are canonical (as
    /// `write_json_str` in the thresher crate, and serde_json, write the text).
    Text(String, Option<Range<usize>>),
    /// Left escaped (checked, canonical): where its bytes are in the line.
    Escaped(Range<usize>),
}

/// JSON whitespace, as serde_json skips it.
#[inline]
fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while let Some(b' ' | b'\n' | b'\t' | b'\r') = b.get(i) {
        i += 1;
    }
    i
}

/// Reads an object made only of the id (a string), text (a string) and metadata (an object)
/// fields, each at most once, in any order, with keys that need no unescaping. Returns `None`
/// for anything else, and for anything serde_json would reject: the caller then takes the
/// general path, which gives the same document or the error. On the lines it accepts, the
/// result is what [`parse_general`] gives.
///
/// `whole` is the line as a `&str` when its UTF-8 is already checked. Without it, each part is
/// checked as it is read (keys and punctuation must be the expected ASCII, the strings are
/// checked by [`scan_string`], the metadata by serde_json), so a line it accepts is valid UTF-8.
///
/// With `lazy`, a text whose escapes are canonical is only checked, not unescaped: the document
/// keeps the escaped bytes and unescapes them if a step asks for the text.
///
/// `scan` (given on the shared path only) checks the text instead of [`scan_string`] when it
/// can (see [`TextScan`]).
fn parse_common(
    b: &[u8],
    whole: Option<&str>,
    opts: &ReadOptions,
    lazy: bool,
    scan: Option<&dyn TextScan>,
) -> Option<Common> {
    // `b[start..end]` as a `&str`; the bounds are at ASCII bytes (quotes, braces).
    let sub = |start: usize, end: usize| match whole {
        Some(s) => s.get(start..end),
        None => std::str::from_utf8(&b[start..end]).ok(),
    };
    let mut i = skip_ws(b, 0);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    i = skip_ws(b, i + 1);
    let (mut id, mut text, mut metadata, mut prepared) = (None, None, None, None);
    loop {
        if b.get(i) != Some(&b'"') {
            return None;
        }
        let key_start = i + 1;
        let key_len = b[key_start..]
            .iter()
            .position(|&c| c == b'"' || c == b'\\' || c < 0x20)?;
        let key_end = key_start + key_len;
        if b[key_end] != b'"' {
            return None;
        }
        // Compared as bytes: a key equal to a (valid UTF-8) field name is valid UTF-8 itself.
        let key = &b[key_start..key_end];
        i = skip_ws(b, key_end + 1);
        if b.get(i) != Some(&b':') {
            return None;
        }
        i = skip_ws(b, i + 1);
        // The same precedence as the general path when field names coincide.
        if key == opts.text_field.as_bytes() {
            if text.is_some() || b.get(i) != Some(&b'"') {
                return None;
            }
            let (field, end) = match whole {
                Some(line) if !lazy => {
                    let (s, end, canonical) = read_string(line, i + 1, b.len() - i)?;
                    (TextField::Text(s, canonical.then_some(i + 1..end)), end)
                }
                _ => {
                    // One pass finds the end and checks the escapes and the UTF-8: the step's,
                    // if it has one and takes this string, else the reader's.
                    let (end, canonical) = match scan.and_then(|s| s.scan_json_text(b, i + 1)) {
                        Some((end, canonical, p)) => {
                            prepared = Some(p);
                            (end, canonical)
                        }
                        None => scan_string(b, i + 1)?,
                    };
                    if canonical && lazy {
                        (TextField::Escaped(i + 1..end), end)
                    } else {
                        let (s, _, _) = read_string(sub(i, end + 1)?, 1, end - i)?;
                        (TextField::Text(s, None), end)
                    }
                }
            };
            text = Some(field);
            i = end + 1;
        } else if key == opts.id_field.as_bytes() {
            if id.is_some() || b.get(i) != Some(&b'"') {
                return None;
            }
            let (s, end) = match whole {
                Some(line) => {
                    let (s, end, _) = read_string(line, i + 1, 32)?;
                    (s, end)
                }
                None => {
                    let (end, _) = scan_string(b, i + 1)?;
                    (read_string(sub(i, end + 1)?, 1, 32)?.0, end)
                }
            };
            id = Some(s);
            i = end + 1;
        } else if key == opts.metadata_field.as_bytes() {
            if metadata.is_some() || b.get(i) != Some(&b'{') {
                return None;
            }
            // From bytes, serde_json checks the UTF-8 of each string it reads (and refuses a
            // non-ASCII byte anywhere else); from a checked `&str` it does not check again.
            let parsed = match whole {
                Some(s) => {
                    let mut values = serde_json::Deserializer::from_str(&s[i..])
                        .into_iter::<Map<String, Value>>();
                    let m = values.next()?.ok()?;
                    (m, values.byte_offset())
                }
                None => {
                    let mut values =
                        serde_json::Deserializer::from_slice(&b[i..])
                            .into_iter::<Map<String, Value>>();
                    let m = values.next()?.ok()?;
                    (m, values.byte_offset())
                }
            };
            metadata = Some(parsed.0);
            i += parsed.1;
        } else {
            return None;
        }
        i = skip_ws(b, i);
        match b.get(i) {
            Some(b',') => i = skip_ws(b, i + 1),
            Some(b'}') => break,
            _ => return None,
        }
    }
    if skip_ws(b, i + 1) != b.len() {
        return None;
    }
    Some(Common {
        id,
        text: text?,
        metadata: metadata.unwrap_or_default(),
        prepared,
    })
}

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
///
/// # Safety
/// The processor must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn skip_plain_avx2<const HIGH: bool>(b: &[u8], mut i: usize) -> usize {
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
fn read_string(line: &str, start: usize, capacity: usize) -> Option<(String, usize, bool)> {
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
                let (v, len) = thresher_core::json_escape(&b[i..]).filter(|&(v, _)| v < 0x10000)?;
                let c = char::from_u32(v)?;
                run = i + len;
                canonical &= thresher_core::json_escape_is_canonical(&b[i..], v);
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
fn scan_string(b: &[u8], start: usize) -> Option<(usize, bool)> {
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
///
/// # Safety
/// The processor must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn scan_string_avx2(b: &[u8], start: usize) -> Option<(usize, bool)> {
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
///
/// # Safety
/// The processor must support AVX-512F and AVX-512BW.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw")]
unsafe fn scan_string_avx512(b: &[u8], start: usize) -> Option<(usize, bool)> {
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
    let (v, _) = thresher_core::json_escape(&b[i..]).filter(|&(v, _)| v < 0x10000)?;
    char::from_u32(v)?;
    Some(thresher_core::json_escape_is_canonical(&b[i..], v))
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

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

struct Parsed {
    id: Option<Value>,
    text: Option<Value>,
    metadata: Map<String, Value>,
}

/// Deserializes a record in one pass with the configured field names, without building a
/// `Value` for the whole line.
struct RecordSeed<'o> {
    opts: &'o ReadOptions,
}

impl<'de> DeserializeSeed<'de> for RecordSeed<'_> {
    type Value = Parsed;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Parsed, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for RecordSeed<'_> {
    type Value = Parsed;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Parsed, A::Error> {
        let mut p = Parsed {
            id: None,
            text: None,
            metadata: Map::new(),
        };
        let mut extra: Vec<(String, Value)> = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            if key == self.opts.text_field {
                p.text = Some(map.next_value()?);
            } else if key == self.opts.id_field {
                p.id = Some(map.next_value()?);
            } else if key == self.opts.metadata_field {
                match map.next_value::<Value>()? {
                    Value::Object(m) => {
                        // Fields seen before the metadata object were stashed in `extra`.
                        let stashed = std::mem::replace(&mut p.metadata, m);
                        for (k, v) in stashed {
                            p.metadata.entry(k).or_insert(v);
                        }
                    }
                    Value::Null => {}
                    other => extra.push((key, other)),
                }
            } else if key.is_empty() {
                map.next_value::<IgnoredAny>()?;
            } else {
                let v: Value = map.next_value()?;
                p.metadata.entry(key).or_insert(v);
            }
        }
        for (k, v) in extra {
            p.metadata.entry(k).or_insert(v);
        }
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Record {
        parse_jsonl_line(
            line.as_bytes(),
            SourcePos::default(),
            &ReadOptions::default(),
        )
    }

    fn error_of(r: Record) -> String {
        match r {
            Record::Error(e) => e.message,
            other => panic!("expected an error, got {other:?}"),
        }
    }

    #[test]
    fn reads_datatrove_layout_and_keeps_other_fields() {
        let r = parse(r#"{"id": 7, "text": "hé\n", "metadata": {"url": "u"}, "source": "cc"}"#);
        let Record::Doc(d) = r else { panic!() };
        assert_eq!(d.id, "7");
        assert_eq!(d.text(), "hé\n");
        assert_eq!(d.metadata["url"], "u");
        assert_eq!(d.metadata["source"], "cc");
    }

    #[test]
    fn bad_records_are_errors() {
        assert!(error_of(parse(r#"{"id": "a", "text": "x"#)).starts_with("broken JSON"));
        assert!(error_of(parse(r#"[1, 2]"#)).starts_with("broken JSON"));
        assert!(error_of(parse(r#"{"id": "a"}"#)).contains("no `text` field"));
        assert!(error_of(parse(r#"{"id": "a", "text": 3}"#)).contains("a number, not a string"));
        assert!(error_of(parse(r#"{"text": "a"} trailing"#)).starts_with("broken JSON"));
        let bad = b"{\"text\": \"caf\xe9\"}";
        let r = parse_jsonl_line(bad, SourcePos::default(), &ReadOptions::default());
        assert!(error_of(r).contains("invalid UTF-8 at byte 13"));
    }

    #[test]
    fn lossy_policy_replaces_and_flags() {
        let opts = ReadOptions {
            invalid_utf8: Utf8Policy::Replace,
            ..Default::default()
        };
        let r = parse_jsonl_line(b"{\"text\": \"caf\xe9\"}", SourcePos::default(), &opts);
        let Record::Doc(d) = r else { panic!() };
        assert_eq!(d.text(), "caf\u{fffd}");
        assert_eq!(d.annotations["reader"]["lossy_utf8"], true);
    }

    /// Every line through the shared (fast when possible) path gives the same record as the
    /// general serde path; a kept escaped text is exactly how serde_json writes the text.
    fn check_same(line: &str, opts: &ReadOptions) -> bool {
        let buf = Arc::new(InputBuf::owned(format!("xx{line}yy").into_bytes()));
        let src = SourcePos {
            file: Arc::from("f"),
            line: 3,
            byte_offset: 9,
        };
        let fast = parse_jsonl_line_shared(&buf, 2..2 + line.len(), src.clone(), opts);
        let general = parse_general(line, false, src, opts);
        assert_eq!(format!("{fast:?}"), format!("{general:?}"), "{line}");
        if let Record::Doc(d) = &fast {
            if let Some(raw) = d.text_json() {
                let want = serde_json::to_string(d.text()).unwrap();
                assert_eq!(raw, &want.as_bytes()[1..want.len() - 1], "{line}");
                return true;
            }
        }
        false
    }

    #[test]
    fn common_layout_parses_as_serde_does() {
        let opts = ReadOptions::default();
        let pieces = [
            "a",
            "plain text longer than sixteen bytes",
            "é",
            "😀",
            "\\n",
            "\\t",
            "\\r",
            "\\b",
            "\\f",
            "\\\"",
            "\\\\",
            "\\/",
            "\\u0001",
            "\\u001f",
            "\\u001F",
            "\\u0008",
            "\\u000a",
            "\\u00e9",
            "\\u0041",
            "\\ud83d\\ude00",
            "\\ud800",
            "\\udc00x",
            "\\u12",
            "\\x",
            "\t",
            "\u{1}",
            "\u{7f}",
            "\u{2028}",
            " ",
            "\\u007f",
            "\\",
            "\"",
        ];
        let mut state = 12345u64;
        let mut next = |n: usize| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as usize % n
        };
        let mut passed_through = 0;
        for round in 0..4000 {
            let mut body = String::new();
            for _ in 0..next(12) {
                body.push_str(pieces[next(pieces.len())]);
            }
            let line = match round % 8 {
                0 => format!(
                    r#"{{"id": "r{round}", "text": "{body}", "metadata": {{"u": "x", "n": [1, {{}}]}}}}"#
                ),
                1 => format!(r#"{{"text":"{body}","id":"{body}"}}"#),
                2 => format!(r#" {{ "metadata" : {{}} , "text" : "{body}" }} "#),
                3 => format!(r#"{{"id": "a", "text": "{body}", "text": "b"}}"#),
                4 => format!(r#"{{"id": 5, "text": "{body}", "metadata": null}}"#),
                5 => format!(
                    r#"{{"id": "a", "text": "{body}", "source": "cc", "metadata": {{"k": 1}}}}"#
                ),
                6 => format!(r#"{{"id": "a", "text": "{body}"}} x"#),
                _ => format!(r#"{{"id": "a", "te\u0078t": "{body}", "metadata": {{"k": 1,}}}}"#),
            };
            if check_same(&line, &opts) {
                passed_through += 1;
            }
        }
        // The canonical cases do keep their escaped text (the test would be void otherwise).
        assert!(passed_through > 150, "{passed_through}");
        for line in [
            r#"{"id": "a", "text": "x\ny"}"#,
            r#"{"id": "a", "text": "x", "metadata": {"a": 1}"#,
            r#"{"id": "a", "text": "x", "metadata": {"a": 1}},"#,
            r#"{"id": "a", "text": "x", "metadata": [1]}"#,
            r#"{"id": "a", "text": "x",}"#,
            r#"{"id": "a", "text": "x" "metadata": {}}"#,
            r#"{"id": "a"}"#,
            r#"{}"#,
            r#"{"text": 3}"#,
            r#"{"text": "a", "metadata": {"k": "v", "k": "w"}}"#,
            "{\"text\": \"a\"}\r\t ",
            r#"["text"]"#,
            "",
        ] {
            check_same(line, &opts);
        }
        let custom = ReadOptions {
            id_field: "text".into(),
            metadata_field: "text".into(),
            ..Default::default()
        };
        check_same(r#"{"text": "a", "metadata": {"k": 1}}"#, &custom);
        assert!(check_same(
            r#"{"id": "i", "text": "a\"\\\n\u0001é", "metadata": {}}"#,
            &opts
        ));
        assert!(!check_same(
            r#"{"id": "i", "text": "a\/", "metadata": {}}"#,
            &opts
        ));
    }

    /// A shared line is read without a UTF-8 check of the whole line first: a broken byte
    /// anywhere (key, id, text, metadata, punctuation, whitespace) must still make the error
    /// the checked path makes, and a valid non-ASCII character anywhere the same record.
    #[test]
    fn shared_path_checks_utf8_everywhere() {
        let opts = ReadOptions::default();
        let lines = [
            r#"{"id": "doc-1", "text": "Plain words, then \n more words: caf\u00e9 and some padding to pass 32 bytes.", "metadata": {"url": "http://x/y", "n": [1, 2]}}"#,
            r#"{"text": "Ünïcödé текст “quoted” 漢字 and ASCII long enough to need the wide scan step", "id": "é"}"#,
        ];
        let src = SourcePos::default();
        for line in lines {
            let line = line.as_bytes();
            for at in 0..line.len() {
                for bad in [
                    &[0xFFu8][..],
                    &[0xC3],
                    &[0x80],
                    &[0xE2, 0x80],
                    &[0xED, 0xA0, 0x80],
                ] {
                    let mut broken = line[..at].to_vec();
                    broken.extend_from_slice(bad);
                    broken.extend_from_slice(&line[at..]);
                    let buf = Arc::new(InputBuf::owned(broken.clone()));
                    let r = parse_jsonl_line_shared(&buf, 0..broken.len(), src.clone(), &opts);
                    let want = std::str::from_utf8(&broken).unwrap_err().valid_up_to();
                    match r {
                        Record::Error(e) => assert_eq!(
                            e.message,
                            format!("invalid UTF-8 at byte {want} of the line"),
                            "{at} {bad:?}"
                        ),
                        other => panic!("accepted broken UTF-8 at {at} {bad:?}: {other:?}"),
                    }
                }
                // A valid character (not at a quote or escape) keeps the record as the general
                // path reads it.
                if let Ok(s) = std::str::from_utf8(&line[..at]) {
                    let t = format!("{s}é{}", std::str::from_utf8(&line[at..]).unwrap());
                    check_same(&t, &opts);
                }
            }
        }
    }

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
        let mut state = 5u64;
        let mut next = |n: usize| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as usize % n
        };
        let mut ended = 0;
        for _ in 0..30000 {
            let mut b = b"\"".to_vec();
            b.extend(std::iter::repeat_n(b'p', next(40)));
            for _ in 0..next(30) {
                b.extend_from_slice(pieces[next(pieces.len())]);
            }
            b.push(b'"');
            let want = reference(&b);
            for (name, scan) in scan_variants() {
                assert_eq!(
                    scan(&b, 1),
                    want,
                    "{name}: {:?}",
                    String::from_utf8_lossy(&b)
                );
            }
            ended += usize::from(want.is_some());
        }
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

    #[test]
    fn field_names_are_configurable() {
        let opts = ReadOptions {
            id_field: "doc_id".into(),
            text_field: "content".into(),
            ..Default::default()
        };
        let r = parse_jsonl_line(
            br#"{"doc_id": "x", "content": "body", "text": "other"}"#,
            SourcePos::default(),
            &opts,
        );
        let Record::Doc(d) = r else { panic!() };
        assert_eq!((d.id.as_str(), d.text()), ("x", "body"));
        assert_eq!(d.metadata["text"], "other");
    }
}
