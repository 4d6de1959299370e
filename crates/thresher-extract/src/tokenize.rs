//! A byte-level HTML tokenizer that feeds html5ever's tree builder.
//!
//! html5ever's own tokenizer reads its input one character at a time through a buffer queue and
//! builds every tag and attribute name and value by pushing characters onto tendrils; on the
//! extraction workload it is over half of all instructions. This one follows the same WHATWG
//! tokenization rules but scans whole runs with `memchr` and hands out text and attribute values
//! as slices of one shared input tendril (no copy), so the tree builder, and therefore the tree,
//! is unchanged.
//!
//! Only the states real pages need are implemented: text, tags and attributes, character
//! references, RCDATA/RAWTEXT/script data without escapes, PLAINTEXT, bogus comments and the
//! usual DOCTYPE forms. Anything rarer (a `<!--` that [`crate::dom::prestrip`] left, a script
//! holding `<!--`, CDATA in SVG/MathML, an odd DOCTYPE, a NUL inside a tag) returns
//! [`Unsupported`] and the caller parses the page again with html5ever's tokenizer, so the result
//! never depends on this subset.
//!
//! The tests parse hand-written edge cases and random markup both ways and compare the trees, so
//! an html5ever upgrade that changes its tokenizer's behaviour shows up there.

use std::collections::HashSet;

use html5ever::interface::TreeSink;
use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{Doctype, Tag, TagKind, Token, TokenSink, TokenSinkResult};
use html5ever::tree_builder::TreeBuilder;
use html5ever::{local_name, ns, Attribute, LocalName, QualName};

/// The page uses a construct this tokenizer leaves to html5ever's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Unsupported;

type Res<T> = Result<T, Unsupported>;

/// The content model the tree builder asked for after the last start tag.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Data,
    Rcdata,
    Rawtext,
    ScriptData,
    Plaintext,
}

/// What a character reference stands for.
struct CharRef {
    chars: [char; 2],
    len: usize,
}

/// Tokenizes `src` (newlines already normalised to `\n`) into `tb`. Stops early, with `Ok`,
/// as soon as `stop()` says the tree's budget is exceeded.
pub(crate) fn run<S: TreeSink>(
    tb: &TreeBuilder<S::Handle, S>,
    src: &StrTendril,
    stop: &dyn Fn() -> bool,
) -> Res<()>
where
    S::Handle: Clone,
{
    let mut t = Tok {
        tb,
        src,
        b: src.as_bytes(),
        mode: Mode::Data,
        last_start: None,
        stop,
    };
    // The tokenizer's default: a byte-order mark at the start is not text.
    let start = if src.starts_with('\u{feff}') { 3 } else { 0 };
    t.run(start)
}

/// Attributes on one tag beyond which repeats are found with a hash set.
const MANY_ATTRS: usize = 16;

/// Whitespace inside tags (`\r` is gone after newline normalisation).
#[inline]
fn is_tag_ws(c: u8) -> bool {
    matches!(c, b'\t' | b'\n' | b'\x0c' | b' ')
}

struct Tok<'a, S: TreeSink> {
    tb: &'a TreeBuilder<S::Handle, S>,
    src: &'a StrTendril,
    b: &'a [u8],
    mode: Mode,
    /// Name of the last start tag, for the end tag that closes RCDATA/RAWTEXT/script data.
    last_start: Option<LocalName>,
    stop: &'a dyn Fn() -> bool,
}

impl<S: TreeSink> Tok<'_, S>
where
    S::Handle: Clone,
{
    /// Input bytes `from..to` as a tendril sharing the input's buffer.
    #[inline]
    fn slice(&self, from: usize, to: usize) -> StrTendril {
        self.src.subtendril(from as u32, (to - from) as u32)
    }

    fn process(&mut self, token: Token) {
        match self.tb.process_token(token, 1) {
            TokenSinkResult::Plaintext => self.mode = Mode::Plaintext,
            TokenSinkResult::RawData(RawKind::Rcdata) => self.mode = Mode::Rcdata,
            TokenSinkResult::RawData(RawKind::Rawtext) => self.mode = Mode::Rawtext,
            TokenSinkResult::RawData(_) => self.mode = Mode::ScriptData,
            TokenSinkResult::Script(_) => self.mode = Mode::Data,
            TokenSinkResult::Continue | TokenSinkResult::EncodingIndicator(_) => {}
        }
    }

    /// Emits input bytes `from..to` as text (never an empty token: the tree builder's
    /// "skip the newline after `<pre>`" flag is used up by any token).
    #[inline]
    fn text(&mut self, from: usize, to: usize) {
        if from < to {
            let t = self.slice(from, to);
            self.process(Token::CharacterTokens(t));
        }
    }

    /// A parse error where html5ever's tokenizer reports one that changes the tree: the tree
    /// builder skips a newline right after `<pre>`, `<listing>` or `<textarea>` only if no token,
    /// a parse error included, comes between. The errors that can come there with no character
    /// token before the newline are `</>` and a numeric reference without `;` (`<pre>&#10x`);
    /// other errors are not reported (found by the fuzz test in tests/it/fuzz.rs).
    fn parse_error(&mut self) {
        self.process(Token::ParseError(std::borrow::Cow::Borrowed("")));
    }

    /// Emits a numeric reference's parse error when it has no `;` (see [`Self::parse_error`]).
    #[inline]
    fn numeric_ref_error(&mut self, at: usize, len: usize) {
        if self.b[at + 1] == b'#' && self.b[at + len] != b';' {
            self.parse_error();
        }
    }

    fn text_str(&mut self, s: &str) {
        if !s.is_empty() {
            self.process(Token::CharacterTokens(StrTendril::from_slice(s)));
        }
    }

    fn run(&mut self, mut pos: usize) -> Res<()> {
        let n = self.b.len();
        while pos < n {
            if (self.stop)() {
                return Ok(());
            }
            pos = match self.mode {
                Mode::Data => self.data(pos)?,
                Mode::Rcdata | Mode::Rawtext | Mode::ScriptData => self.raw(pos)?,
                Mode::Plaintext => {
                    self.raw_text_run(pos, n);
                    n
                }
            };
        }
        self.process(Token::EOFToken);
        self.tb.end();
        Ok(())
    }

    /// Text in the data state up to the next tag (which it also handles); returns where to go on.
    fn data(&mut self, pos: usize) -> Res<usize> {
        let b = self.b;
        let mut run = pos; // start of text not yet emitted
        let mut i = pos;
        while let Some(k) = memchr::memchr3(b'<', b'&', 0, &b[i..]) {
            let at = i + k;
            match b[at] {
                0 => {
                    self.text(run, at);
                    self.process(Token::NullCharacterToken);
                    run = at + 1;
                    i = at + 1;
                }
                b'&' => match char_ref(b, at, false) {
                    Some(r) => {
                        self.text(run, at);
                        self.numeric_ref_error(at, r.len);
                        let mut buf = [0u8; 8];
                        let mut len = r.chars[0].encode_utf8(&mut buf).len();
                        if r.chars[1] != '\0' {
                            len += r.chars[1].encode_utf8(&mut buf[len..]).len();
                        }
                        let s = std::str::from_utf8(&buf[..len]).unwrap_or("\u{fffd}");
                        self.text_str(s);
                        run = at + 1 + r.len;
                        i = run;
                    }
                    None => i = at + 1,
                },
                _ => {
                    // '<'
                    match b.get(at + 1).copied() {
                        Some(c) if c.is_ascii_alphabetic() => {
                            self.text(run, at);
                            return self.tag(at + 1, TagKind::StartTag);
                        }
                        Some(b'/') => match b.get(at + 2).copied() {
                            Some(c) if c.is_ascii_alphabetic() => {
                                self.text(run, at);
                                return self.tag(at + 2, TagKind::EndTag);
                            }
                            Some(b'>') => {
                                self.text(run, at);
                                self.parse_error();
                                return Ok(at + 3);
                            }
                            None => i = at + 2,
                            Some(_) => {
                                self.text(run, at);
                                return Ok(self.bogus_comment(at + 2));
                            }
                        },
                        Some(b'!') => {
                            self.text(run, at);
                            return self.markup_declaration(at + 2);
                        }
                        Some(b'?') => {
                            self.text(run, at);
                            return Ok(self.bogus_comment(at + 1));
                        }
                        // A '<' that starts nothing is text.
                        _ => i = at + 1,
                    }
                }
            }
        }
        self.text(run, b.len());
        Ok(b.len())
    }

    /// A comment from `from` to the next `>` (the spec's bogus comment state). Comments are not
    /// kept in the tree's text, but the tree builder still places them.
    fn bogus_comment(&mut self, from: usize) -> usize {
        let end = memchr::memchr(b'>', &self.b[from..]).map_or(self.b.len(), |e| from + e);
        let data = if self.b[from..end].contains(&0) {
            StrTendril::from_slice(
                &String::from_utf8_lossy(&self.b[from..end]).replace('\0', "\u{fffd}"),
            )
        } else {
            self.slice(from, end)
        };
        self.process(Token::CommentToken(data));
        (end + 1).min(self.b.len())
    }

    /// After `<!`.
    fn markup_declaration(&mut self, from: usize) -> Res<usize> {
        let rest = &self.b[from..];
        if rest.starts_with(b"--") {
            return Err(Unsupported);
        }
        if rest.len() >= 7 && rest[..7].eq_ignore_ascii_case(b"doctype") {
            return self.doctype(from + 7);
        }
        if rest.starts_with(b"[CDATA[") {
            if self
                .tb
                .adjusted_current_node_present_but_not_in_html_namespace()
            {
                return Err(Unsupported);
            }
            return Ok(self.bogus_comment(from));
        }
        Ok(self.bogus_comment(from))
    }

    /// After `<!DOCTYPE`: the name and the optional PUBLIC/SYSTEM identifiers, in the forms
    /// pages use; anything else is left to html5ever.
    fn doctype(&mut self, mut i: usize) -> Res<usize> {
        let b = self.b;
        let skip_ws = |mut i: usize| {
            while i < b.len() && is_tag_ws(b[i]) {
                i += 1;
            }
            i
        };
        let mut dt = Doctype::default();
        i = skip_ws(i);
        match b.get(i) {
            None => return Err(Unsupported),
            Some(b'>') => {
                dt.force_quirks = true;
                self.process(Token::DoctypeToken(dt));
                return Ok(i + 1);
            }
            Some(_) => {}
        }
        let s = i;
        while i < b.len() && !is_tag_ws(b[i]) && b[i] != b'>' {
            if b[i] == 0 {
                return Err(Unsupported);
            }
            i += 1;
        }
        if i >= b.len() {
            return Err(Unsupported);
        }
        dt.name = Some(lower_tendril(&self.src[s..i]));
        i = skip_ws(i);
        let rest = &b[i..];
        let (is_public, after) = if rest.len() >= 6 && rest[..6].eq_ignore_ascii_case(b"public") {
            (true, i + 6)
        } else if rest.len() >= 6 && rest[..6].eq_ignore_ascii_case(b"system") {
            (false, i + 6)
        } else if rest.first() == Some(&b'>') {
            self.process(Token::DoctypeToken(dt));
            return Ok(i + 1);
        } else {
            return Err(Unsupported);
        };
        // Keyword, whitespace, quoted identifier; for PUBLIC optionally whitespace and a second
        // quoted (system) identifier; then '>'.
        if !b.get(after).copied().is_some_and(is_tag_ws) {
            return Err(Unsupported);
        }
        i = skip_ws(after);
        let (first, next) = self.quoted_id(i)?;
        i = next;
        if is_public {
            dt.public_id = Some(first);
            let j = skip_ws(i);
            if j > i && matches!(b.get(j), Some(b'"' | b'\'')) {
                let (second, next) = self.quoted_id(j)?;
                dt.system_id = Some(second);
                i = next;
            }
        } else {
            dt.system_id = Some(first);
        }
        i = skip_ws(i);
        if b.get(i) != Some(&b'>') {
            return Err(Unsupported);
        }
        self.process(Token::DoctypeToken(dt));
        Ok(i + 1)
    }

    /// A DOCTYPE identifier in quotes at `i`, without `>` or NUL inside.
    fn quoted_id(&self, i: usize) -> Res<(StrTendril, usize)> {
        let q = *self.b.get(i).ok_or(Unsupported)?;
        if q != b'"' && q != b'\'' {
            return Err(Unsupported);
        }
        let end = memchr::memchr(q, &self.b[i + 1..]).ok_or(Unsupported)? + i + 1;
        if self.b[i + 1..end].iter().any(|&c| c == b'>' || c == 0) {
            return Err(Unsupported);
        }
        Ok((self.slice(i + 1, end), end + 1))
    }

    /// A start or end tag whose name starts at `i` (an ASCII letter); returns where the text
    /// after it starts.
    fn tag(&mut self, mut i: usize, kind: TagKind) -> Res<usize> {
        let b = self.b;
        let s = i;
        while i < b.len() && !is_tag_ws(b[i]) && b[i] != b'/' && b[i] != b'>' {
            if b[i] == 0 {
                return Err(Unsupported);
            }
            i += 1;
        }
        if i >= b.len() {
            // EOF in a tag: the tag is dropped.
            return Ok(b.len());
        }
        let name = local_name(&self.src[s..i]);
        self.attrs_and_emit(i, kind, name)
    }

    /// The rest of a tag from `i` (just after its name): attributes, `/`, `>`; emits the tag.
    fn attrs_and_emit(&mut self, mut i: usize, kind: TagKind, name: LocalName) -> Res<usize> {
        let b = self.b;
        let n = b.len();
        let mut attrs: Vec<Attribute> = Vec::new();
        // Names seen so far, once a tag has many attributes: a linear search per attribute would
        // make a tag with a million attributes (a hostile page) quadratic.
        let mut seen: Option<HashSet<LocalName>> = None;
        let mut dup = false;
        let mut self_closing = false;
        loop {
            while i < n && is_tag_ws(b[i]) {
                i += 1;
            }
            if i >= n {
                return Ok(n);
            }
            match b[i] {
                b'>' => {
                    i += 1;
                    break;
                }
                b'/' => {
                    if b.get(i + 1) == Some(&b'>') {
                        self_closing = true;
                        i += 2;
                        break;
                    }
                    i += 1;
                    continue;
                }
                _ => {}
            }
            // Attribute name: its first character is taken whatever it is (even '=').
            let s = i;
            i += 1;
            while i < n && !is_tag_ws(b[i]) && !matches!(b[i], b'/' | b'>' | b'=') {
                i += 1;
            }
            if b[s..i].contains(&0) {
                return Err(Unsupported);
            }
            // `s` is on an ASCII byte or a char start, `i` on an ASCII byte or the end.
            let aname = &self.src[s..i];
            while i < n && is_tag_ws(b[i]) {
                i += 1;
            }
            let value = if i < n && b[i] == b'=' {
                i += 1;
                while i < n && is_tag_ws(b[i]) {
                    i += 1;
                }
                if i >= n {
                    return Ok(n);
                }
                match b[i] {
                    q @ (b'"' | b'\'') => {
                        let Some(e) = memchr::memchr(q, &b[i + 1..]) else {
                            return Ok(n);
                        };
                        let (vs, ve) = (i + 1, i + 1 + e);
                        // After a quoted value anything but whitespace, '/' or '>' starts the
                        // next attribute (a parse error, same result): the loop goes on at `i`.
                        i = ve + 1;
                        self.attr_value(vs, ve)?
                    }
                    b'>' => StrTendril::new(),
                    _ => {
                        let vs = i;
                        while i < n && !is_tag_ws(b[i]) && b[i] != b'>' {
                            i += 1;
                        }
                        if i >= n {
                            return Ok(n);
                        }
                        self.attr_value(vs, i)?
                    }
                }
            } else {
                StrTendril::new()
            };
            let local = local_name(aname);
            // The first of two attributes with one name wins.
            let repeated = if attrs.len() < MANY_ATTRS {
                attrs.iter().any(|a| a.name.local == local)
            } else {
                !seen
                    .get_or_insert_with(|| attrs.iter().map(|a| a.name.local.clone()).collect())
                    .insert(local.clone())
            };
            if repeated {
                dup = true;
            } else {
                attrs.push(Attribute {
                    name: QualName::new(None, ns!(), local),
                    value,
                });
            }
        }
        if kind == TagKind::StartTag {
            self.last_start = Some(name.clone());
        }
        self.process(Token::TagToken(Tag {
            kind,
            name,
            self_closing,
            attrs,
            had_duplicate_attributes: dup,
        }));
        Ok(i)
    }

    /// An attribute value from input bytes `from..to`, character references decoded.
    fn attr_value(&self, from: usize, to: usize) -> Res<StrTendril> {
        let v = &self.b[from..to];
        if memchr::memchr2(b'&', 0, v).is_none() {
            return Ok(self.slice(from, to));
        }
        if v.contains(&0) {
            return Err(Unsupported);
        }
        let mut out = String::with_capacity(v.len());
        let mut run = from;
        let mut i = from;
        while let Some(k) = memchr::memchr(b'&', &self.b[i..to]) {
            let at = i + k;
            // A reference never runs past the value: its end is checked against `to`.
            match char_ref(&self.b[..to], at, true) {
                Some(r) => {
                    out.push_str(&self.src[run..at]);
                    out.push(r.chars[0]);
                    if r.chars[1] != '\0' {
                        out.push(r.chars[1]);
                    }
                    run = at + 1 + r.len;
                    i = run;
                }
                None => i = at + 1,
            }
        }
        out.push_str(&self.src[run..to]);
        Ok(StrTendril::from_slice(&out))
    }

    /// RCDATA, RAWTEXT or script data from `pos` up to the end tag of the element that opened
    /// it (which it also handles).
    fn raw(&mut self, pos: usize) -> Res<usize> {
        let b = self.b;
        let mode = self.mode;
        let Some(open) = self.last_start.clone() else {
            // Cannot happen (a raw mode follows a start tag); treat the rest as text.
            self.raw_text_run(pos, b.len());
            return Ok(b.len());
        };
        let name = open.as_bytes();
        let mut run = pos;
        let mut i = pos;
        loop {
            let found = if mode == Mode::Rcdata {
                memchr::memchr3(b'<', b'&', 0, &b[i..])
            } else {
                memchr::memchr2(b'<', 0, &b[i..])
            };
            let Some(k) = found else {
                self.raw_text_run(run, b.len());
                return Ok(b.len());
            };
            let at = i + k;
            match b[at] {
                0 => {
                    self.text(run, at);
                    self.text_str("\u{fffd}");
                    run = at + 1;
                    i = at + 1;
                }
                b'&' => match char_ref(b, at, false) {
                    Some(r) => {
                        self.text(run, at);
                        self.numeric_ref_error(at, r.len);
                        let mut s = String::new();
                        s.push(r.chars[0]);
                        if r.chars[1] != '\0' {
                            s.push(r.chars[1]);
                        }
                        self.text_str(&s);
                        run = at + 1 + r.len;
                        i = run;
                    }
                    None => i = at + 1,
                },
                _ => {
                    let rest = &b[at + 1..];
                    if mode == Mode::ScriptData && rest.starts_with(b"!--") {
                        // Script data escapes: left to html5ever.
                        return Err(Unsupported);
                    }
                    let e = 1 + name.len();
                    if rest.len() > e
                        && rest[0] == b'/'
                        && rest[1..e].eq_ignore_ascii_case(name)
                        && (is_tag_ws(rest[e]) || rest[e] == b'/' || rest[e] == b'>')
                    {
                        self.text(run, at);
                        self.mode = Mode::Data;
                        return self.attrs_and_emit(at + 1 + e, TagKind::EndTag, open);
                    }
                    i = at + 1;
                }
            }
        }
    }

    /// Emits `from..to` as text in a raw mode, NUL replaced by U+FFFD.
    fn raw_text_run(&mut self, from: usize, to: usize) {
        let mut run = from;
        while let Some(k) = memchr::memchr(0, &self.b[run..to]) {
            self.text(run, run + k);
            self.text_str("\u{fffd}");
            run += k + 1;
        }
        self.text(run, to);
    }
}

/// A tag or attribute name as an atom, ASCII upper case lowered.
fn local_name(s: &str) -> LocalName {
    if s.bytes().any(|c| c.is_ascii_uppercase()) {
        return LocalName::from(s.to_ascii_lowercase());
    }
    // The most frequent names without a lookup in the atom table (which hashes the name with
    // SipHash first); the same atoms as the lookup gives.
    match s {
        "a" => local_name!("a"),
        "div" => local_name!("div"),
        "span" => local_name!("span"),
        "p" => local_name!("p"),
        "li" => local_name!("li"),
        "ul" => local_name!("ul"),
        "img" => local_name!("img"),
        "br" => local_name!("br"),
        "td" => local_name!("td"),
        "tr" => local_name!("tr"),
        "i" => local_name!("i"),
        "b" => local_name!("b"),
        "option" => local_name!("option"),
        "meta" => local_name!("meta"),
        "link" => local_name!("link"),
        "class" => local_name!("class"),
        "id" => local_name!("id"),
        "href" => local_name!("href"),
        "src" => local_name!("src"),
        "style" => local_name!("style"),
        "title" => local_name!("title"),
        "alt" => local_name!("alt"),
        "rel" => local_name!("rel"),
        "type" => local_name!("type"),
        "target" => local_name!("target"),
        "width" => local_name!("width"),
        "height" => local_name!("height"),
        "content" => local_name!("content"),
        "name" => local_name!("name"),
        "value" => local_name!("value"),
        _ => LocalName::from(s),
    }
}

/// Frequent entities, answered without walking the entity table. Each name ends with `;`, and
/// no entity name continues past a `;`, so a match here is the longest match.
const COMMON_ENTITIES: &[(&[u8], char)] = &[
    (b"amp;", '&'),
    (b"nbsp;", '\u{a0}'),
    (b"quot;", '"'),
    (b"lt;", '<'),
    (b"gt;", '>'),
    (b"copy;", '\u{a9}'),
    (b"raquo;", '\u{bb}'),
    (b"laquo;", '\u{ab}'),
    (b"hellip;", '\u{2026}'),
    (b"mdash;", '\u{2014}'),
    (b"ndash;", '\u{2013}'),
    (b"rsquo;", '\u{2019}'),
    (b"lsquo;", '\u{2018}'),
    (b"rdquo;", '\u{201d}'),
    (b"ldquo;", '\u{201c}'),
];

fn lower_tendril(s: &str) -> StrTendril {
    StrTendril::from_slice(&s.to_ascii_lowercase())
}

/// The character reference at `b[at] == b'&'`, with the length of what follows the `&`, or
/// `None` when the `&` is plain text. `b` ends where the reference must end (the end of an
/// attribute value, or of the input).
fn char_ref(b: &[u8], at: usize, in_attribute: bool) -> Option<CharRef> {
    let first = *b.get(at + 1)?;
    if first == b'#' {
        return numeric_ref(b, at);
    }
    if !first.is_ascii_alphanumeric() {
        return None;
    }
    let rest = &b[at + 1..];
    for &(name, c) in COMMON_ENTITIES {
        if rest.starts_with(name) {
            return Some(CharRef {
                chars: [c, '\0'],
                len: name.len(),
            });
        }
    }
    // Longest entity name that is a prefix of the input: walk while the bytes so far start some
    // entity name (the table holds every prefix, with a zero value for those that are not names
    // themselves).
    let mut best: Option<((u32, u32), usize)> = None;
    let mut k = at + 2;
    while k <= b.len() {
        if b[k - 1] >= 0x80 {
            break;
        }
        // ASCII up to `k`, so this is a str.
        let key = std::str::from_utf8(&b[at + 1..k]).ok()?;
        match html5ever::data::NAMED_ENTITIES.get(key) {
            Some(&m) => {
                if m.0 != 0 {
                    best = Some((m, k - at - 1));
                }
            }
            None => break,
        }
        k += 1;
    }
    let ((c1, c2), len) = best?;
    let last = b[at + len];
    let next = b.get(at + 1 + len).copied();
    if in_attribute && last != b';' && next.is_some_and(|c| c == b'=' || c.is_ascii_alphanumeric())
    {
        return None;
    }
    Some(CharRef {
        chars: [
            char::from_u32(c1).unwrap_or('\u{fffd}'),
            char::from_u32(c2).unwrap_or('\0'),
        ],
        len,
    })
}

/// `&#...;` and `&#x...;`, with the spec's replacements for invalid code points.
fn numeric_ref(b: &[u8], at: usize) -> Option<CharRef> {
    let mut i = at + 2;
    let base = if matches!(b.get(i), Some(b'x' | b'X')) {
        i += 1;
        16
    } else {
        10
    };
    let digits_at = i;
    let mut num: u32 = 0;
    let mut too_big = false;
    while let Some(d) = b.get(i).and_then(|&c| (c as char).to_digit(base)) {
        num = num.wrapping_mul(base);
        if num > 0x10FFFF {
            too_big = true;
        }
        num = num.wrapping_add(d);
        i += 1;
    }
    if i == digits_at {
        return None;
    }
    if b.get(i) == Some(&b';') {
        i += 1;
    }
    let c = match num {
        n if n > 0x10FFFF || too_big => '\u{fffd}',
        0 | 0xD800..=0xDFFF => '\u{fffd}',
        0x80..=0x9F => html5ever::data::C1_REPLACEMENTS[(num - 0x80) as usize]
            .unwrap_or_else(|| char::from_u32(num).unwrap_or('\u{fffd}')),
        n => char::from_u32(n).unwrap_or('\u{fffd}'),
    };
    Some(CharRef {
        chars: [c, '\0'],
        len: i - at - 1,
    })
}

#[cfg(test)]
mod tests {
    use crate::dom::{parse, parse_with_html5ever, parses_fast, Budget};

    const BIG: Budget = Budget {
        max_nodes: 1_000_000,
        max_depth: 2000,
    };

    /// Pages the fast tokenizer handles itself: each must give html5ever's tree.
    const FAST: &[&str] = &[
        "a &amp; &amp &ampx &notit; &notin; &#x41; &#65 &#0; &#x110000; &#128; &#xD800; \
         &#; &#x; & ; &lt&gt &AElig &Aacute; &fjlig; &#99999999999; &#x80 &zz; &zz9; &",
        "<a href=\"?a=1&copy=2&amp;b&lang=en&not\" title='x&quot;y' data-x=a&amp;b&copy \
         CLASS=Foo class=dup id=\"&ampz\">x</a>",
        "<div a b=c d = \"e\" f='g'h=i/><br/><img src=x/><p =x>y<p a=\"1\"b=\"2\" / c>z",
        "<title>a &amp; <b> </titlex> </TITLE >t<textarea>\nx&lt;</textarea>\
         <style>p{}</style><xmp><p></xmp><iframe><p></iframe><noembed>&amp;</noembed>",
        "<script type=\"application/ld+json\">{\"a\":\"</scr\",\"b\":\"<b>\"}</script x=1>y",
        "<pre>\n\nx</pre><pre>&#10;x</pre><listing>\ny</listing><textarea>\n\nz</textarea>",
        "a\r\nb\rc\r\n&amp\r\nd<pre>\r\nx</pre>&#13;<p title=\"a\r\nb\">",
        "a\0b<title>a\0</title><p c=\"\">\0</p><table>\0<tr><td>x",
        "<table><tr><td>a</td>b<p>c</table><b><i>x</b>y</i><table>t<tr>u</table>",
        "<!DOCTYPE html><p><table><tr><td>x</table>",
        "<!doctype HTML PUBLIC \"-//W3C//DTD HTML 4.01 Transitional//EN\" \
         \"http://www.w3.org/TR/html4/loose.dtd\"><p><table><tr><td>x</table>",
        "<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Strict//EN\"><p><table></table>",
        "<!DOCTYPE html SYSTEM \"about:legacy-compat\"><p>x",
        "<!DOCTYPE><p><table></table>",
        "<?xml version=\"1.0\"?></ x><!foo></><3 a < b <p>x</p><",
        "<p>x</",
        "<div class=\"x",
        "<a href=x",
        "<a href=\"x\">t",
        "\u{feff}<p>x",
        "<DIV Class=\"A\"><P>x</DIV><Custom-El>y</custom-el>",
        "<p \u{e9}=1 data-\u{fc}=\"x\">\u{e9}t\u{e9}</p class=x><p/>",
        "<noscript><p>x</p></noscript><a href=x>&nbsp;</a><plaintext><p>a</p>&amp;",
        "<html><head><meta charset=utf-8><title>T</title><base href=/></head>\n<body>\n \
         <frameset></frameset><p>x</body></html>\n<p>after",
        "<select><option>a<option>b</select><form><form><input></form>",
        "<ul><li>a<li>b</ul><dl><dt>x<dd>y</dl><h1>a<h2>b</h1>",
        "<math><mi>x</mi></math><p>y",
        "<pre>&#10x</pre><listing>&#x0a</listing><textarea>&#0010x</textarea><pre>&#10;y</pre>",
        "<pre></>\nx</pre><listing></>\ny</listing><textarea></>\nz</textarea>",
        "<body a=1><p>x<body a=2 b=3 c=4><html lang=en id=h>",
    ];

    /// Pages left to html5ever's tokenizer; they must still give its tree.
    const SLOW: &[&str] = &[
        "<math><mi>x</mi><![CDATA[y]]></math><p>z",
        "<!DOCTYPE html PUBLIC \"x\"\"y\"><p>a",
        "<!DOCTYPE html bogus><p>a",
        "<p a\0b=1>x",
    ];

    #[test]
    fn same_tree_as_html5evers_tokenizer() {
        for (list, fast) in [(FAST, true), (SLOW, false)] {
            for html in list {
                assert_eq!(parses_fast(html), fast, "{html:?}");
                let a = parse(html, BIG).unwrap();
                let b = parse_with_html5ever(html, BIG).unwrap();
                assert!(a.same_tree(&b), "{html:?}\n{a:?}\n{b:?}");
            }
        }
    }

    #[test]
    fn common_entities_and_names_match_the_tables() {
        for &(name, c) in super::COMMON_ENTITIES {
            let name = std::str::from_utf8(name).unwrap();
            assert_eq!(
                html5ever::data::NAMED_ENTITIES.get(name),
                Some(&(c as u32, 0)),
                "{name}"
            );
        }
        for n in ["a", "div", "class", "href", "value", "x-custom", "data-id"] {
            assert_eq!(super::local_name(n), html5ever::LocalName::from(n));
        }
        assert_eq!(super::local_name("DiV"), html5ever::LocalName::from("div"));
    }

    /// Pages glued together from fragments of markup (fixed seed): whichever tokenizer takes
    /// them, the tree is html5ever's.
    #[test]
    fn random_markup_gives_the_same_tree() {
        const PARTS: &[&str] = &[
            "<p>",
            "</p>",
            "<div class=a>",
            "</div>",
            "<a href=\"x&amp;y\">",
            "</a>",
            "<b>",
            "</b>",
            "<i>",
            "</i>",
            "<table>",
            "<tr>",
            "<td>",
            "</td>",
            "</table>",
            "<li>",
            "<ul>",
            "</ul>",
            "<title>",
            "</title>",
            "<textarea>",
            "</textarea>",
            "<style>",
            "</style>",
            "<pre>",
            "\n",
            "\r\n",
            "\r",
            " ",
            "text",
            "&amp",
            "&amp;",
            "&#",
            "&#x4e2d;",
            "&notin",
            "&ltx",
            "&",
            "<",
            ">",
            "</",
            "/>",
            "<br/>",
            "\0",
            "\u{e9}",
            "<!DOCTYPE html>",
            "<?x?>",
            "<!x>",
            "=",
            "\"",
            "'",
            "<img src=a alt='b'",
            "<math>",
            "</math>",
            "<select>",
            "<option>",
            "<plaintext>",
            "<head>",
            "<body>",
            "<frameset>",
            "<noscript>",
            "<h1>",
            "<form>",
            "<input value=&copy=1>",
            "<xmp>",
            "</xmp>",
            "<iframe>",
            "</iframe>",
            "<script type=application/ld+json>",
            "</script>",
            "<template>",
            "</template>",
            "<svg>",
            "<!--",
            "-->",
            "<![CDATA[x]]>",
            "<!DOCTYPE html PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"y\">",
            "<a b c=d e = 'f'g>",
            "<P CLASS=X>",
            "</P>",
            "</p x=1>",
            "&#128;",
            "&#0;",
            "&nbsp",
            "<caption>",
            "<col>",
        ];
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        let mut fast = 0;
        for _ in 0..3000 {
            let len = 1 + next(40);
            let html: String = (0..len).map(|_| PARTS[next(PARTS.len())]).collect();
            fast += usize::from(parses_fast(&html));
            let a = parse(&html, BIG).unwrap();
            let b = parse_with_html5ever(&html, BIG).unwrap();
            assert!(a.same_tree(&b), "{html:?}\n{a:?}\n{b:?}");
        }
        // Most of them take the fast tokenizer, so it is what is being checked.
        assert!(fast > 1500, "{fast}");
    }

    #[test]
    fn first_of_repeated_attributes_wins_on_long_tags() {
        let mut html = String::from("<p ");
        for i in 0..40 {
            html.push_str(&format!("a{i}={i} "));
        }
        html.push_str("a3=x a39=y class=c a0=z>t");
        let a = parse(&html, BIG).unwrap();
        assert!(a.same_tree(&parse_with_html5ever(&html, BIG).unwrap()));
        let p = a.find_first("p").unwrap();
        assert_eq!(a.node(p).attr("a3"), Some("3"));
        assert_eq!(a.node(p).attr("a39"), Some("39"));
        assert_eq!(a.node(p).attr("a0"), Some("0"));
        assert_eq!(a.node(p).attr("class"), Some("c"));
        if let crate::dom::Kind::Element { attrs, .. } = &a.node(p).kind {
            assert_eq!(attrs.len(), 41);
        }
    }

    #[test]
    fn a_changed_tree_is_noticed() {
        let a = parse("<p>a &amp; b</p>", BIG).unwrap();
        let b = parse_with_html5ever("<p>a &amp;b</p>", BIG).unwrap();
        assert!(!a.same_tree(&b));
    }
}
