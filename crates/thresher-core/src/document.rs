//! The document record.

use std::any::Any;
use std::fmt;
use std::ops::Range;
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
/// A reader may hand the text over only as the bytes its input holds it in (see [`RawText`]):
/// the text is decoded the first time a step asks for it, so a document no step reads is never
/// decoded, and an unedited one is written back as those bytes by a writer of that encoding.
pub struct Document {
    /// The document's identifier, unique within a run as far as the input is.
    pub id: String,
    /// Set, except while the text is only known as `raw` (then filled on first use).
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
    /// The unedited text as the input encoded it (see [`Document::set_raw_text`]).
    raw: Option<RawText>,
}

/// How the bytes of a [`RawText`] encode a text (e.g. as the body of a JSON string). The reader
/// that makes the handle gives it, so that this crate knows no input format.
pub trait TextEncoding: Any + Send + Sync {
    /// The text that `raw` encodes. `raw` is what the reader checked; should it not decode, the
    /// broken parts become U+FFFD.
    fn decode(&self, raw: &[u8]) -> String;
}

/// A text as its input held it: a range of a shared input buffer, in the encoding a reader
/// found it in. Opaque to the steps (they read [`Document::text`]); a writer that writes the
/// same encoding copies these bytes (or points at them) instead of encoding the text again.
#[derive(Clone)]
pub struct RawText {
    buf: Arc<InputBuf>,
    range: Range<usize>,
    encoding: &'static dyn TextEncoding,
}

impl RawText {
    /// The text `encoding` encodes as `buf[range]`.
    pub fn new(
        buf: Arc<InputBuf>,
        range: Range<usize>,
        encoding: &'static dyn TextEncoding,
    ) -> Self {
        debug_assert!(buf.get(range.clone()).is_some());
        RawText {
            buf,
            range,
            encoding,
        }
    }

    /// The encoded bytes.
    #[inline]
    pub fn bytes(&self) -> &[u8] {
        &self.buf[self.range.clone()]
    }

    /// The shared buffer the bytes are in, and their place there, so a writer can point at them
    /// instead of copying them.
    #[inline]
    pub fn source(&self) -> (&Arc<InputBuf>, Range<usize>) {
        (&self.buf, self.range.clone())
    }

    /// Whether the bytes are in encoding `E` (so a writer of `E` can copy them as they are).
    #[inline]
    pub fn is_encoded_as<E: TextEncoding>(&self) -> bool {
        (self.encoding as &dyn Any).is::<E>()
    }

    /// The text the bytes encode.
    pub fn decode(&self) -> String {
        self.encoding.decode(self.bytes())
    }
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
            raw: None,
        }
    }

    /// A document whose text is the one `raw` encodes, decoded on first use (see
    /// [`Document::set_raw_text`]).
    pub fn from_raw_text(id: impl Into<String>, raw: RawText) -> Self {
        let mut doc = Document::new(id, String::new());
        doc.text = OnceLock::new();
        doc.raw = Some(raw);
        doc
    }

    /// Records that `raw` encodes the document's text, so that a writer of its encoding can
    /// copy those bytes instead of encoding the text again. Any edit of the text drops it.
    ///
    /// The caller guarantees the equality; a wrong handle would corrupt the output.
    pub fn set_raw_text(&mut self, raw: RawText) {
        self.raw = Some(raw);
    }

    /// The unedited text as the input encoded it, if the reader kept it (see
    /// [`Document::set_raw_text`]).
    #[inline]
    pub fn raw_text(&self) -> Option<&RawText> {
        self.raw.as_ref()
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
        self.text.get_or_init(|| match &self.raw {
            Some(raw) => raw.decode(),
            None => String::new(), // not reached: the text is set whenever `raw` is not
        })
    }

    /// Replaces the text and drops any cached analysis of the old text.
    pub fn set_text(&mut self, text: String) {
        self.text = OnceLock::from(text);
        self.cache = None;
        self.raw = None;
        self.edits = self.edits.wrapping_add(1);
    }

    /// Takes the text out (leaving it empty) and drops the cached analysis.
    pub fn take_text(&mut self) -> String {
        self.text();
        self.cache = None;
        self.raw = None;
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
            raw: self.raw.clone(),
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

    /// An encoding for the tests: the text is the bytes, upper-cased.
    struct Upper;

    impl TextEncoding for Upper {
        fn decode(&self, raw: &[u8]) -> String {
            String::from_utf8_lossy(raw).to_uppercase()
        }
    }

    /// Another one, to tell apart.
    struct Other;

    impl TextEncoding for Other {
        fn decode(&self, _raw: &[u8]) -> String {
            String::new()
        }
    }

    #[test]
    fn raw_text_is_decoded_on_first_use_and_dropped_by_edits() {
        let buf = Arc::new(InputBuf::owned(b"xxabc".to_vec()));
        let raw = RawText::new(buf.clone(), 2..5, &Upper);
        assert!(raw.is_encoded_as::<Upper>() && !raw.is_encoded_as::<Other>());
        let doc = Document::from_raw_text("a", raw.clone());
        assert_eq!(doc.raw_text().map(RawText::bytes), Some(&b"abc"[..]));
        assert_eq!(doc.clone().text(), "ABC");
        assert_eq!(doc.text(), "ABC");
        let mut d = doc.clone();
        d.set_text("z".into());
        assert!(d.raw_text().is_none());
        let mut d = Document::from_raw_text("a", raw.clone());
        assert_eq!(d.take_text(), "ABC");
        assert_eq!((d.text(), d.raw_text().is_none()), ("", true));
        let mut d = Document::new("a", "ABC");
        d.set_raw_text(raw);
        assert_eq!(d.raw_text().unwrap().source().1, 2..5);
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
