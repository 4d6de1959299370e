//! Charset handling for web pages: from the bytes a crawler stored to UTF-8 text.
//!
//! The order follows what browsers do (WHATWG "encoding sniffing"), because the page author
//! tested the page in a browser: a byte-order mark wins, then the charset the HTTP server sent,
//! then a `<meta charset>` / `http-equiv` declaration or an XML declaration in the first bytes,
//! then the bytes themselves: valid UTF-8 is taken as UTF-8, and anything else goes to a
//! statistical detector (chardetng, the one Firefox uses).

use encoding_rs::{Encoding, UTF_16BE, UTF_16LE, UTF_8};

/// How many leading bytes are searched for a `<meta>` or XML charset declaration. Browsers look
/// at 1024 bytes; real pages put long `<head>`s (scripts, styles) before the meta tag, so we look
/// further, like the evaluation tools do.
const PRESCAN_BYTES: usize = 16 * 1024;

/// How the charset of a page was decided, for the metadata and for debugging.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CharsetSource {
    /// A byte-order mark at the start of the bytes.
    Bom,
    /// The `charset` parameter of the HTTP `Content-Type` header.
    Http,
    /// A `<meta charset>`, `<meta http-equiv>` or `<?xml encoding>` declaration.
    Meta,
    /// The bytes were valid UTF-8 (or plain ASCII).
    Utf8Valid,
    /// Statistical detection (chardetng).
    Detected,
}

/// A page decoded to UTF-8.
#[derive(Debug, Clone)]
pub struct Decoded {
    /// The text, with undecodable bytes replaced by U+FFFD.
    pub text: String,
    /// The encoding used (WHATWG name, e.g. `windows-1252`).
    pub encoding: &'static str,
    /// How the encoding was chosen.
    pub source: CharsetSource,
    /// Whether some bytes could not be decoded and were replaced.
    pub had_errors: bool,
}

/// Decodes the bytes of an HTML page (or any text a crawler stored) to UTF-8.
///
/// `http_charset` is the `charset` parameter of the HTTP `Content-Type` header, if any. Never
/// fails: the worst case is a lossy decode with replacement characters.
///
/// ```
/// use thresher_io::charset::decode_html;
/// let page = b"<meta charset=\"iso-8859-1\"><p>caf\xe9</p>";
/// let d = decode_html(page, None);
/// assert!(d.text.contains("caf\u{e9}"));
/// assert_eq!(d.encoding, "windows-1252");
/// ```
pub fn decode_html(bytes: &[u8], http_charset: Option<&str>) -> Decoded {
    if let Some((enc, bom_len)) = Encoding::for_bom(bytes) {
        return decode_with(enc, &bytes[bom_len..], CharsetSource::Bom);
    }
    // A server or page that says UTF-8 when the bytes are another encoding is common (a default
    // in the server config, a template copied over); a declared UTF-8 is kept only when the
    // bytes are mostly UTF-8 (see `mostly_utf8`), else the bytes decide.
    if let Some(enc) = http_charset.and_then(lookup_label) {
        if enc != UTF_8 || mostly_utf8(bytes) {
            return decode_with(enc, bytes, CharsetSource::Http);
        }
    }
    if let Some(enc) = prescan_declared(&bytes[..bytes.len().min(PRESCAN_BYTES)]) {
        if enc != UTF_8 || mostly_utf8(bytes) {
            return decode_with(enc, bytes, CharsetSource::Meta);
        }
    }
    if let Ok(s) = std::str::from_utf8(bytes) {
        return Decoded {
            text: s.to_owned(),
            encoding: "UTF-8",
            source: CharsetSource::Utf8Valid,
            had_errors: false,
        };
    }
    let mut det = chardetng::EncodingDetector::new();
    det.feed(bytes, true);
    let enc = det.guess(None, true);
    decode_with(enc, bytes, CharsetSource::Detected)
}

/// Whether bytes declared as UTF-8 should be decoded as UTF-8 (invalid sequences replaced by
/// U+FFFD) rather than handed to detection: they are valid UTF-8, or they hold at least as many
/// valid multi-byte characters as invalid sequences. Decoding as UTF-8 then damages fewer
/// characters than a single-byte encoding would (which turns every multi-byte character into
/// two or three wrong ones), and a page in a single-byte encoding almost never forms a valid
/// multi-byte sequence by chance, so a wrong UTF-8 declaration still goes to detection.
fn mostly_utf8(bytes: &[u8]) -> bool {
    if std::str::from_utf8(bytes).is_ok() {
        return true;
    }
    let mut rest = bytes;
    let (mut valid_multibyte, mut invalid) = (0usize, 0usize);
    loop {
        match std::str::from_utf8(rest) {
            Ok(s) => {
                valid_multibyte += count_lead_bytes(s.as_bytes());
                break;
            }
            Err(e) => {
                let (good, bad) = rest.split_at(e.valid_up_to());
                valid_multibyte += count_lead_bytes(good);
                invalid += 1;
                // A sequence cut off by the end of the bytes (`error_len() == None`) is one
                // invalid sequence too.
                let skip = e.error_len().unwrap_or(bad.len()).max(1);
                rest = &bad[skip.min(bad.len())..];
            }
        }
    }
    valid_multibyte >= invalid
}

/// Lead bytes of multi-byte characters in valid UTF-8.
fn count_lead_bytes(s: &[u8]) -> usize {
    s.iter().filter(|&&b| b >= 0xC0).count()
}

/// Maps a charset label (as found in a header or a meta tag) to an encoding, the WHATWG way
/// (`iso-8859-1` and `us-ascii` mean windows-1252; a UTF-16 label in an ASCII-compatible
/// declaration means UTF-8, since the declaration itself could not have been read otherwise).
pub fn lookup_label(label: &str) -> Option<&'static Encoding> {
    let label = label.trim().trim_matches(|c| c == '"' || c == '\'');
    let enc = Encoding::for_label(label.as_bytes())?;
    if enc == UTF_16LE || enc == UTF_16BE {
        return Some(UTF_8);
    }
    // The "replacement" encoding exists to block some dangerous labels; for text extraction a
    // best-effort decode is more useful than one replacement character.
    if enc == encoding_rs::REPLACEMENT {
        return None;
    }
    Some(enc)
}

/// The charset parameter of a `Content-Type` value (`text/html; charset=UTF-8` -> `UTF-8`).
pub fn charset_param(content_type: &str) -> Option<&str> {
    content_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        if k.trim().eq_ignore_ascii_case("charset") {
            let v = v.trim().trim_matches(|c| c == '"' || c == '\'');
            (!v.is_empty()).then_some(v)
        } else {
            None
        }
    })
}

fn decode_with(enc: &'static Encoding, bytes: &[u8], source: CharsetSource) -> Decoded {
    let (text, had_errors) = enc.decode_without_bom_handling(bytes);
    Decoded {
        text: text.into_owned(),
        encoding: enc.name(),
        source,
        had_errors,
    }
}

/// Finds a charset declared in `<meta charset=...>`, `<meta http-equiv content="...charset=...">`
/// or `<?xml ... encoding="...">` in `head`. A byte scan, not a parse: it must work on bytes of
/// an unknown ASCII-compatible encoding.
fn prescan_declared(head: &[u8]) -> Option<&'static Encoding> {
    let mut i = 0;
    while let Some(p) = memchr::memchr(b'<', &head[i..]) {
        let start = i + p;
        let rest = &head[start + 1..];
        if starts_with_ci(rest, b"meta") || starts_with_ci(rest, b"?xml") {
            let end = memchr::memchr(b'>', rest).map_or(rest.len(), |e| e);
            let tag = &rest[..end];
            if let Some(enc) = charset_in_tag(tag) {
                return Some(enc);
            }
            i = start + 1 + end;
        } else {
            i = start + 1;
        }
        if i >= head.len() {
            break;
        }
    }
    None
}

/// The encoding named after `charset=` or `encoding=` inside one tag's bytes.
fn charset_in_tag(tag: &[u8]) -> Option<&'static Encoding> {
    for key in [b"charset".as_slice(), b"encoding".as_slice()] {
        let mut from = 0;
        while let Some(pos) = find_ci(&tag[from..], key) {
            let mut j = from + pos + key.len();
            while j < tag.len() && tag[j].is_ascii_whitespace() {
                j += 1;
            }
            if j < tag.len() && tag[j] == b'=' {
                j += 1;
                while j < tag.len()
                    && (tag[j].is_ascii_whitespace() || tag[j] == b'"' || tag[j] == b'\'')
                {
                    j += 1;
                }
                let s = j;
                while j < tag.len()
                    && (tag[j].is_ascii_alphanumeric()
                        || matches!(tag[j], b'-' | b'_' | b'.' | b':'))
                {
                    j += 1;
                }
                if j > s {
                    if let Ok(label) = std::str::from_utf8(&tag[s..j]) {
                        if let Some(enc) = lookup_label(label) {
                            return Some(enc);
                        }
                    }
                }
            }
            from = from + pos + key.len();
        }
    }
    None
}

fn starts_with_ci(hay: &[u8], needle: &[u8]) -> bool {
    hay.len() >= needle.len() && hay[..needle.len()].eq_ignore_ascii_case(needle)
}

fn find_ci(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    (0..=hay.len() - needle.len()).find(|&i| hay[i..i + needle.len()].eq_ignore_ascii_case(needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bom_wins_over_declarations() {
        let mut b = vec![0xEF, 0xBB, 0xBF];
        b.extend_from_slice("<meta charset=\"windows-1251\">é".as_bytes());
        let d = decode_html(&b, Some("iso-8859-2"));
        assert_eq!(d.source, CharsetSource::Bom);
        assert!(d.text.ends_with('é'));
        let utf16: Vec<u8> = [0xFF, 0xFE, b'h', 0, b'i', 0].to_vec();
        assert_eq!(decode_html(&utf16, None).text, "hi");
    }

    #[test]
    fn http_header_then_meta_then_detection() {
        let page = b"<meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1251\"><p>\xcf\xf0\xe8\xe2\xe5\xf2</p>";
        let d = decode_html(page, None);
        assert_eq!(d.source, CharsetSource::Meta);
        assert!(d.text.contains("Привет"));
        let d = decode_html(page, Some("koi8-r"));
        assert_eq!(d.source, CharsetSource::Http);
        assert_eq!(d.encoding, "KOI8-R");
        let xml = b"<?xml version='1.0' encoding='ISO-8859-2'?><p>\xb1</p>";
        assert_eq!(
            decode_html(xml, None).text,
            "<?xml version='1.0' encoding='ISO-8859-2'?><p>ą</p>"
        );
    }

    #[test]
    fn wrong_utf8_header_is_overridden_by_bytes() {
        let page = b"<p>na\xefve caf\xe9 cr\xe8me br\xfbl\xe9e</p>";
        let d = decode_html(page, Some("utf-8"));
        assert_ne!(d.source, CharsetSource::Http);
        assert!(d.text.contains("café"), "{}", d.text);
    }

    #[test]
    fn declared_utf8_with_one_bad_byte_stays_utf8() {
        // A UTF-8 news page with one stray Latin-1 byte (an `\xe9` pasted into the byline).
        let mut page = Vec::new();
        page.extend_from_slice(
            "<!DOCTYPE html>\n<html lang=\"de\"><head><meta charset=\"utf-8\">\n\
             <title>Stra\u{df}enbahn f\u{e4}hrt wieder \u{2013} Stadtnachrichten</title></head>\n\
             <body><article><h1>Stra\u{df}enbahn f\u{e4}hrt wieder</h1>\n<p class=\"byline\">Von Ren"
                .as_bytes(),
        );
        page.push(0xE9);
        page.extend_from_slice(
            " M\u{fc}ller</p>\n<p>Nach drei Monaten Bauzeit f\u{e4}hrt die Linie 4 ab Montag \
             wieder durch die Innenstadt. \u{201e}Wir sind froh\u{201c}, sagte die Sprecherin \
             der Verkehrsbetriebe. Die Haltestelle am Gro\u{df}en Markt bleibt bis M\u{e4}rz \
             geschlossen.</p></article></body></html>\n"
                .as_bytes(),
        );
        assert!(std::str::from_utf8(&page).is_err());
        let d = decode_html(&page, None);
        assert_eq!((d.encoding, d.source), ("UTF-8", CharsetSource::Meta));
        assert!(d.had_errors);
        assert!(d.text.contains("Von Ren\u{fffd} M\u{fc}ller"), "{}", d.text);
        assert!(d.text.contains("\u{201e}Wir sind froh\u{201c}"));
        assert_eq!(d.text.matches('\u{fffd}').count(), 1);
        // The same bytes with the charset in the HTTP header instead.
        let d = decode_html(&page, Some("UTF-8"));
        assert_eq!((d.encoding, d.source), ("UTF-8", CharsetSource::Http));
        assert!(d.text.contains("Stra\u{df}enbahn f\u{e4}hrt"));
        // A truncated last character counts as one invalid sequence, not a reason to leave UTF-8.
        let cut = "<meta charset=utf-8><p>gr\u{fc}n und gr\u{fc}\u{df}".as_bytes();
        let d = decode_html(&cut[..cut.len() - 1], None);
        assert_eq!(d.encoding, "UTF-8");
        assert!(d.text.ends_with("gr\u{fc}\u{fffd}"), "{}", d.text);
    }

    #[test]
    fn declared_utf8_that_is_mostly_latin1_goes_to_detection() {
        // One accidental valid pair (`\xc3\xa9`) among many Latin-1 letters.
        let page = b"<meta charset=\"utf-8\"><p>Le caf\xe9 de la gare, \xe0 c\xf4t\xe9 du \
                     th\xe9\xe2tre, ferme \xe0 midi. D\xe9j\xe0 vu: caf\xc3\xa9.</p>";
        let d = decode_html(page, None);
        assert_eq!(d.source, CharsetSource::Detected);
        assert!(d.text.contains("caf\u{e9} de la gare"), "{}", d.text);
    }

    #[test]
    fn utf16_meta_label_means_utf8_and_garbage_does_not_panic() {
        assert_eq!(lookup_label("utf-16"), Some(UTF_8));
        assert_eq!(lookup_label("no-such-charset"), None);
        let junk: Vec<u8> = (0..=255u8).cycle().take(5000).collect();
        let d = decode_html(&junk, Some("bogus"));
        assert!(!d.text.is_empty());
        assert_eq!(charset_param("text/html; Charset=\"UTF-8\""), Some("UTF-8"));
        assert_eq!(charset_param("text/html"), None);
        assert!(prescan_declared(b"<meta charset=").is_none());
        assert!(prescan_declared(b"<meta").is_none());
    }
}
