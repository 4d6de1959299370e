//! Parsing one JSONL line into a document.

use std::borrow::Cow;
use std::fmt;

use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde_json::{Map, Value};
use thresher_core::{Document, SourcePos};

use crate::options::{ReadOptions, Utf8Policy};
use crate::record::{Record, RecordError};

/// Parses one JSONL line (without its newline) read at `source`.
///
/// Errors are records, never panics: invalid UTF-8 (unless the policy replaces it), broken JSON,
/// a line that is not an object, a missing `text` field, a `text` that is not a string.
pub fn parse_jsonl_line(line: &[u8], source: SourcePos, opts: &ReadOptions) -> Record {
    let err = |message: String, id: String| {
        Record::Error(RecordError {
            source: source.clone(),
            message,
            id,
        })
    };
    let (text, lossy): (Cow<str>, bool) = match std::str::from_utf8(line) {
        Ok(s) => (Cow::Borrowed(s), false),
        Err(e) => match opts.invalid_utf8 {
            Utf8Policy::Error => {
                return err(
                    format!("invalid UTF-8 at byte {} of the line", e.valid_up_to()),
                    String::new(),
                )
            }
            Utf8Policy::Replace => (String::from_utf8_lossy(line), true),
        },
    };
    // From a `&str`, which is already valid UTF-8: serde_json does not check each string again.
    let mut de = serde_json::Deserializer::from_str(&text);
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
