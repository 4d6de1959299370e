//! The document record.

use std::any::Any;
use std::fmt;
use std::sync::{Arc, OnceLock};

use serde_json::{Map, Value};

use crate::InputBuf;

/// Where a record came from: the input file and its position in it.
///
/// `line` is 1-based for line-oriented inputs (JSONL) and 0 where lines make no sense (a whole
/// `.txt` file, a WARC record); `byte_offset` is the offset of the record's first byte in the
/// decompressed stream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourcePos {
    /// Path of the input file, as given or found by the reader.
    pub file: Arc<str>,
    /// 1-based line number, or 0 when the input is not line-oriented.
    pub line: u64,
    /// Byte offset of the record in the (decompressed) input.
    pub byte_offset: u64,
}

impl fmt::Display for SourcePos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "{}:{} (byte {})", self.file, self.line, self.byte_offset)
        } else {
            write!(f, "{} (byte {})", self.file, self.byte_offset)
        }
    }
}

/// One document moving through the pipeline.
///
/// The text is private so that every edit goes through [`Document::set_text`], which drops the
/// cached text analysis (see [`Document::analysis`]); everything else is a plain field.
///
/// A document read from JSONL may hold its text only as the escaped bytes of the input line
/// (see [`Document::from_json_text`]): the text is unescaped the first time a step asks for it,
/// so a run whose steps never read it (exact dedup hashes the escaped bytes) never copies it.
pub struct Document {
    /// The document's identifier, unique within a run as far as the input is.
    pub id: String,
    /// Set, except while the text is only known as `text_json` (then filled on first use).
    text: OnceLock<String>,
    /// Where the record was read from.
    pub source: SourcePos,
    /// Position of the record in the whole input stream (0-based, in reading order). The executor
    /// sets it; steps use it for deterministic decisions such as "lowest sequence number wins".
    pub seq: u64,
    /// The input record's metadata object, carried through untouched unless a step adds to it.
    pub metadata: Map<String, Value>,
    /// What steps noted about the document (scores, spans removed, cluster ids), by step name.
    pub annotations: Map<String, Value>,
    /// Text analysis computed once and shared by the steps that need it (see `analysis`).
    cache: Option<Arc<dyn Any + Send + Sync>>,
    /// How many times the text was replaced (see `text_edits`).
    edits: u32,
    /// What a step's `prepare` left for its own `process` (see `Step::prepare`).
    prepared: Option<Box<dyn Any + Send + Sync>>,
    /// The text as a JSON string body, exactly as the output escaper would write it, when the
    /// reader found it so in the input (see [`Document::set_text_json`]).
    text_json: Option<TextJson>,
}

/// Bytes of a shared input buffer: the JSON-escaped form of a document's text.
#[derive(Clone)]
struct TextJson {
    buf: Arc<InputBuf>,
    range: std::ops::Range<usize>,
}

impl Document {
    /// A document with the given id and text and empty metadata.
    pub fn new(id: impl Into<String>, text: impl Into<String>) -> Self {
        Document {
            id: id.into(),
            text: OnceLock::from(text.into()),
            source: SourcePos::default(),
            seq: 0,
            metadata: Map::new(),
            annotations: Map::new(),
            cache: None,
            edits: 0,
            prepared: None,
            text_json: None,
        }
    }

    /// A document whose text is `buf[range]`, the body of a JSON string (without the quotes)
    /// escaped exactly as thresher's writer escapes it (see [`Document::set_text_json`]). The
    /// text is unescaped on first use; the writer writes these bytes as they are.
    ///
    /// The caller guarantees that the bytes are valid UTF-8 and valid JSON string escapes (the
    /// JSONL reader has checked both); should they not be, the text gets replacement characters.
    pub fn from_json_text(
        id: impl Into<String>,
        buf: Arc<InputBuf>,
        range: std::ops::Range<usize>,
    ) -> Self {
        let mut doc = Document::new(id, String::new());
        doc.text = OnceLock::new();
        doc.set_text_json(buf, range);
        doc
    }

    /// Records that `buf[range]` is the text written as the body of a JSON string (without the
    /// quotes) exactly as thresher's writer escapes it, so the writer can copy these bytes
    /// instead of escaping the text again. The JSONL reader sets it when the input's escapes
    /// are the canonical ones; any edit of the text drops it.
    ///
    /// The caller guarantees the equality; a wrong range would corrupt the output.
    pub fn set_text_json(&mut self, buf: Arc<InputBuf>, range: std::ops::Range<usize>) {
        debug_assert!(buf.get(range.clone()).is_some());
        self.text_json = Some(TextJson { buf, range });
    }

    /// The escaped form of the unchanged text, if the reader kept it (see
    /// [`Document::set_text_json`]).
    #[inline]
    pub fn text_json(&self) -> Option<&[u8]> {
        self.text_json.as_ref().map(|t| &t.buf[t.range.clone()])
    }

    /// [`Document::text_json`] as the shared buffer it is in and its place there, so a writer
    /// can point at the bytes instead of copying them.
    #[inline]
    pub fn text_json_source(&self) -> Option<(&Arc<InputBuf>, std::ops::Range<usize>)> {
        self.text_json.as_ref().map(|t| (&t.buf, t.range.clone()))
    }

    /// Stores what a step's [`Step::prepare`](crate::Step::prepare) computed, for the same
    /// step's `process` to take.
    pub fn set_prepared<T: Any + Send + Sync>(&mut self, value: T) {
        self.prepared = Some(Box::new(value));
    }

    /// [`Document::set_prepared`] with a value already boxed (what a [`crate::TextScan`] gives).
    pub fn set_prepared_boxed(&mut self, value: Box<dyn Any + Send + Sync>) {
        self.prepared = Some(value);
    }

    /// Whether a prepared value is stored (and not yet taken).
    pub fn has_prepared(&self) -> bool {
        self.prepared.is_some()
    }

    /// Takes what [`Document::set_prepared`] stored, if it is a `T`.
    pub fn take_prepared<T: Any + Send + Sync>(&mut self) -> Option<T> {
        let b = self.prepared.take()?;
        b.downcast::<T>().ok().map(|b| *b)
    }

    /// How many times the text has been replaced since the document was read; the executor
    /// compares it before and after a step to count the documents a step edited.
    #[inline]
    pub fn text_edits(&self) -> u32 {
        self.edits
    }

    /// The document's text.
    #[inline]
    pub fn text(&self) -> &str {
        self.text.get_or_init(|| match &self.text_json {
            Some(t) => unescape_json_body(&t.buf[t.range.clone()]),
            None => String::new(), // not reached: the text is set whenever text_json is not
        })
    }

    /// Replaces the text and drops any cached analysis of the old text.
    pub fn set_text(&mut self, text: String) {
        self.text = OnceLock::from(text);
        self.cache = None;
        self.prepared = None;
        self.text_json = None;
        self.edits = self.edits.wrapping_add(1);
    }

    /// Takes the text out (leaving it empty) and drops the cached analysis.
    pub fn take_text(&mut self) -> String {
        self.text();
        self.cache = None;
        self.text_json = None;
        self.edits = self.edits.wrapping_add(1);
        let text = self.text.take().unwrap_or_default();
        self.text = OnceLock::from(String::new());
        text
    }

    /// A shared analysis of the current text, computed by `compute` the first time a step asks
    /// for this type and reused by the following steps until the text changes.
    ///
    /// Several rules (Gopher, C4, FineWeb, MinHash shingles) read the same words, lines and
    /// paragraphs; this is how they split the text once per document instead of once per rule.
    pub fn analysis<T, F>(&mut self, compute: F) -> Arc<T>
    where
        T: Any + Send + Sync,
        F: FnOnce(&str) -> T,
    {
        if let Some(cached) = &self.cache {
            if let Ok(hit) = Arc::clone(cached).downcast::<T>() {
                return hit;
            }
        }
        let value = Arc::new(compute(self.text()));
        self.cache = Some(value.clone() as Arc<dyn Any + Send + Sync>);
        value
    }

    /// Adds a note from `step` under `annotations[step]` (merging into an object if the step
    /// already noted something).
    pub fn annotate(&mut self, step: &str, key: &str, value: impl Into<Value>) {
        let entry = self
            .annotations
            .entry(step.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        if let Value::Object(m) = entry {
            m.insert(key.to_string(), value.into());
        }
    }
}

impl Clone for Document {
    fn clone(&self) -> Self {
        Document {
            id: self.id.clone(),
            text: self.text.clone(),
            source: self.source.clone(),
            seq: self.seq,
            metadata: self.metadata.clone(),
            annotations: self.annotations.clone(),
            cache: self.cache.clone(),
            edits: self.edits,
            prepared: None,
            text_json: self.text_json.clone(),
        }
    }
}

impl fmt::Debug for Document {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Document")
            .field("id", &self.id)
            .field("text", &self.text())
            .field("source", &self.source)
            .field("seq", &self.seq)
            .field("metadata", &self.metadata)
            .field("annotations", &self.annotations)
            .finish()
    }
}

/// The text a JSON string body (without the quotes) stands for: escapes decoded, invalid UTF-8
/// or a broken escape replaced by U+FFFD (the JSONL reader only hands over checked bodies).
fn unescape_json_body(body: &[u8]) -> String {
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while let Some(k) = body[i..].iter().position(|&c| c == b'\\') {
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
    match String::from_utf8(out) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

/// Whether the escape at the start of `b` (a backslash; `v` the code point it stands for, as
/// [`json_escape`] gives it) is written the way thresher's writer and serde_json write it: never
/// `\/`, and `\u` only for the control characters without a short form, in lower-case hex.
pub fn json_escape_is_canonical(b: &[u8], v: u32) -> bool {
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
pub fn json_escape(b: &[u8]) -> Option<(u32, usize)> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn analysis_is_cached_until_text_changes() {
        let mut doc = Document::new("a", "one two");
        let mut calls = 0;
        let n1 = doc.analysis(|t| {
            calls += 1;
            t.split_whitespace().count()
        });
        let n2 = doc.analysis(|t: &str| t.len());
        // Same type asked twice: second closure not run, cached value returned.
        assert_eq!((*n1, *n2), (2, 2));
        assert_eq!(calls, 1);
        doc.set_text("one two three".into());
        let n3 = doc.analysis(|t| t.split_whitespace().count());
        assert_eq!(*n3, 3);
    }

    #[test]
    fn text_json_is_dropped_by_edits() {
        let buf = Arc::new(InputBuf::owned(b"x\\ny".to_vec()));
        let mut doc = Document::new("a", "\ny");
        doc.set_text_json(buf.clone(), 1..4);
        assert_eq!(doc.clone().text_json(), Some(&b"\\ny"[..]));
        doc.set_text("z".into());
        assert_eq!(doc.text_json(), None);
        let mut doc = Document::new("a", "\ny");
        doc.set_text_json(buf, 1..4);
        doc.take_text();
        assert_eq!(doc.text_json(), None);
    }

    #[test]
    fn json_text_is_unescaped_on_first_use() {
        let text = "a\"b\\c/\n\u{1}é\u{1F600}\u{8}\u{c}\r\t";
        let body = serde_json::to_string(text).unwrap();
        let buf = Arc::new(InputBuf::owned(
            format!("xx{}", &body[1..body.len() - 1]).into_bytes(),
        ));
        let doc = Document::from_json_text("a", buf.clone(), 2..buf.len());
        assert_eq!(doc.text_json(), Some(&buf[2..]));
        assert_eq!(doc.text(), text);
        assert_eq!(doc.clone().text(), text);
        let mut d = Document::from_json_text("a", buf.clone(), 2..buf.len());
        assert_eq!(d.take_text(), text);
        assert_eq!((d.text(), d.text_json()), ("", None));
        // Escapes serde_json does not write, and broken ones.
        let odd = br"\/\u00e9\ud83d\ude00\ud83d\q\u12".to_vec();
        let n = odd.len();
        let doc = Document::from_json_text("b", Arc::new(InputBuf::owned(odd)), 0..n);
        assert_eq!(doc.text(), "/é😀\u{fffd}\u{fffd}q\u{fffd}u12");
    }

    #[test]
    fn annotate_merges_per_step() {
        let mut doc = Document::new("a", "x");
        doc.annotate("s", "k1", 1);
        doc.annotate("s", "k2", "v");
        assert_eq!(doc.annotations["s"]["k1"], 1);
        assert_eq!(doc.annotations["s"]["k2"], "v");
    }
}
