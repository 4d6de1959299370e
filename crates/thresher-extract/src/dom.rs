//! A compact arena DOM built by html5ever, with budgets on nodes and nesting depth.
//!
//! html5ever gives a browser-grade tree (implied end tags, misnested formatting, table
//! foster-parenting), which matters for old hand-written pages. Nodes live in one `Vec` and link
//! to each other by index, so building and walking the tree allocates little and needs no
//! reference counting; every walk over it is iterative, so depth cannot overflow the stack.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::rc::Rc;

use html5ever::interface::{ElementFlags, NodeOrText, QuirksMode, TreeSink};
use html5ever::tendril::{StrTendril, TendrilSink};
use html5ever::tree_builder::{TreeBuilder, TreeBuilderOpts};
use html5ever::{
    parse_document, Attribute, ExpandedName, LocalName, Namespace, ParseOpts, QualName,
};

/// Index of a node in [`Dom::nodes`].
pub type NodeId = u32;
/// "No node" in the link fields.
pub const NONE: NodeId = u32::MAX;

/// What a node is.
#[derive(Debug)]
pub enum Kind {
    /// The document root.
    Document,
    /// An element: its local name (HTML namespace assumed; SVG/MathML names kept as they are)
    /// and attributes.
    Element {
        /// Local tag name, lower case.
        name: LocalName,
        /// Attributes as the tree builder gave them (HTML attributes have no namespace;
        /// `name.local` is the name).
        attrs: Vec<Attribute>,
    },
    /// A run of text.
    Text(StrTendril),
    /// Comments, doctypes, processing instructions: never text.
    Other,
}

/// One node with its tree links.
#[derive(Debug)]
pub struct Node {
    /// Parent node, or [`NONE`].
    pub parent: NodeId,
    /// First child, or [`NONE`].
    pub first_child: NodeId,
    /// Last child, or [`NONE`].
    pub last_child: NodeId,
    /// Previous sibling, or [`NONE`].
    pub prev: NodeId,
    /// Next sibling, or [`NONE`].
    pub next: NodeId,
    /// Depth below the document (approximate after the parser moves nodes around).
    pub depth: u32,
    /// What the node is.
    pub kind: Kind,
}

impl Node {
    /// The tag name if the node is an element.
    pub fn tag(&self) -> Option<&LocalName> {
        match &self.kind {
            Kind::Element { name, .. } => Some(name),
            _ => None,
        }
    }

    /// An attribute value by name.
    pub fn attr(&self, name: &str) -> Option<&str> {
        match &self.kind {
            Kind::Element { attrs, .. } => attrs
                .iter()
                .find(|a| &*a.name.local == name)
                .map(|a| &*a.value),
            _ => None,
        }
    }
}

/// A parsed page.
#[derive(Debug)]
pub struct Dom {
    /// All nodes; index 0 is the document.
    pub nodes: Vec<Node>,
}

/// Limits on the work one page may cause.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// Largest number of nodes (elements, text runs, comments).
    pub max_nodes: usize,
    /// Deepest element nesting.
    pub max_depth: u32,
}

/// Why a page could not be parsed within its budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BudgetError {
    /// More nodes than [`Budget::max_nodes`].
    TooManyNodes(usize),
    /// Nesting deeper than [`Budget::max_depth`].
    TooDeep(u32),
    /// A page that needs html5ever's tokenizer has a tag with more than this many attributes
    /// (see [`MAX_ATTRS_FOR_HTML5EVER`]).
    TooManyAttributes(usize),
}

impl std::fmt::Display for BudgetError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BudgetError::TooManyNodes(n) => write!(f, "page has more than {n} DOM nodes"),
            BudgetError::TooDeep(d) => write!(f, "page nests elements deeper than {d} levels"),
            BudgetError::TooManyAttributes(n) => {
                write!(f, "page has a tag with more than {n} attributes")
            }
        }
    }
}

/// Input is handed to the parser in slices of this many bytes, and the budgets are checked in
/// between: html5ever cannot be stopped from inside, and some of its steps are linear in the
/// depth of the open-element stack, so a 100,000-deep page must be cut off early rather than
/// parsed to the end.
const FEED_CHUNK: usize = 16 * 1024;

/// Parses `html` into a [`Dom`], or stops with an error once the budget is exceeded.
///
/// Tokenized by `crate::tokenize` (fast, for the constructs real pages use) into html5ever's
/// tree builder; a page with a rarer construct is parsed again by html5ever's own tokenizer. Both
/// give the same tree ([`parse_with_html5ever`] is the reference the tests compare against).
pub fn parse(html: &str, budget: Budget) -> Result<Dom, BudgetError> {
    let stripped = prestrip(html);
    match parse_fast(&stripped, budget) {
        Ok(res) => res,
        Err(crate::tokenize::Unsupported) => parse_stripped(&stripped, budget),
    }
}

/// Parses `html` with html5ever's own tokenizer (after the same [`prestrip`]): the slower
/// reference for [`parse`], for tests and checks.
pub fn parse_with_html5ever(html: &str, budget: Budget) -> Result<Dom, BudgetError> {
    parse_stripped(&prestrip(html), budget)
}

/// Whether [`parse`] takes the fast tokenizer for `html` (false: html5ever's tokenizer).
pub fn parses_fast(html: &str) -> bool {
    let big = Budget {
        max_nodes: usize::MAX,
        max_depth: u32::MAX,
    };
    parse_fast(&prestrip(html), big).is_ok()
}

/// Input newlines as the tokenizer sees them: `\r\n` and a lone `\r` become `\n`.
fn normalize_newlines(html: &str) -> Cow<'_, str> {
    if memchr::memchr(b'\r', html.as_bytes()).is_none() {
        return Cow::Borrowed(html);
    }
    let b = html.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(k) = memchr::memchr(b'\r', &b[i..]) {
        out.extend_from_slice(&b[i..i + k]);
        out.push(b'\n');
        i += k + 1;
        if b.get(i) == Some(&b'\n') {
            i += 1;
        }
    }
    out.extend_from_slice(&b[i..]);
    // Only ASCII bytes were replaced or dropped.
    Cow::Owned(
        String::from_utf8(out)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
    )
}

fn new_sink(html_len: usize, budget: Budget, over: Rc<Cell<Option<BudgetError>>>) -> Sink {
    let sink = Sink {
        nodes: RefCell::new(Vec::with_capacity(html_len / 40 + 16)),
        budget,
        over,
        namespaces: [
            html5ever::ns!(html),
            html5ever::ns!(svg),
            html5ever::ns!(mathml),
            html5ever::ns!(),
        ],
    };
    sink.nodes.borrow_mut().push(Node {
        parent: NONE,
        first_child: NONE,
        last_child: NONE,
        prev: NONE,
        next: NONE,
        depth: 0,
        kind: Kind::Document,
    });
    sink
}

/// With scripting off, `<noscript>` content is parsed as markup (not one raw text node), so the
/// extractor can use the text some sites put there for crawlers.
fn tree_builder_opts() -> TreeBuilderOpts {
    TreeBuilderOpts {
        scripting_enabled: false,
        ..TreeBuilderOpts::default()
    }
}

fn parse_fast(
    html: &str,
    budget: Budget,
) -> Result<Result<Dom, BudgetError>, crate::tokenize::Unsupported> {
    let html = normalize_newlines(html);
    let src = StrTendril::from_slice(&html);
    let over = Rc::new(Cell::new(None));
    let tb = TreeBuilder::new(
        new_sink(html.len(), budget, over.clone()),
        tree_builder_opts(),
    );
    let stop = || over.get().is_some();
    crate::tokenize::run(&tb, &src, &stop)?;
    if let Some(e) = over.get() {
        return Ok(Err(e));
    }
    Ok(Ok(tb.sink.finish()))
}

/// Removes `<script>` (except JSON-LD, which holds metadata), `<style>`, `<svg>` elements and
/// comments with a byte scan before parsing. None of them is ever text, and on today's pages
/// they are often half of the bytes: the tokenizer would walk them character by character only
/// for the extractor to drop them.
pub fn prestrip(html: &str) -> std::borrow::Cow<'_, str> {
    let b = html.as_bytes();
    let mut out: Option<String> = None;
    let mut copied = 0; // bytes of `html` already handled
    let mut i = 0;
    let mut memo = None;
    while let Some(p) = memchr::memchr(b'<', &b[i..]) {
        let at = i + p;
        let rest = &b[at..];
        let end = if rest.starts_with(b"<!--") {
            Some(memchr::memmem::find(&rest[4..], b"-->").map_or(b.len(), |e| at + 4 + e + 3))
        } else {
            let mut found = None;
            for (open, close) in [
                (&b"<script"[..], &b"</script"[..]),
                (b"<style", b"</style"),
                (b"<svg", b"</svg"),
            ] {
                if starts_with_ci(rest, open)
                    && rest
                        .get(open.len())
                        .is_some_and(|&c| c == b'>' || c == b'/' || c.is_ascii_whitespace())
                {
                    let tag = scan_tag(b, at, &mut memo);
                    let tag_end = tag.end - at;
                    if open == b"<script" && tag.ld_json_after(b, at, &mut memo) {
                        break;
                    }
                    found = Some(match find_ci(&rest[tag_end..], close) {
                        Some(c) => {
                            let close_at = tag_end + c;
                            at + memchr::memchr(b'>', &rest[close_at..])
                                .map_or(rest.len(), |e| close_at + e + 1)
                        }
                        None => b.len(),
                    });
                    break;
                }
            }
            found
        };
        match end {
            Some(end) => {
                let o = out.get_or_insert_with(|| String::with_capacity(html.len()));
                // `at` and `end` sit on ASCII bytes ('<' and after '>') or at the end, so they are
                // char boundaries.
                o.push_str(html.get(copied..at).unwrap_or(""));
                copied = end;
                i = end;
            }
            None => i = at + 1,
        }
        if i >= b.len() {
            break;
        }
    }
    match out {
        None => std::borrow::Cow::Borrowed(html),
        Some(mut o) => {
            o.push_str(html.get(copied..).unwrap_or(""));
            std::borrow::Cow::Owned(o)
        }
    }
}

/// What [`prestrip`] found about the tag opening at some `<`: where it ends (after the first `>`,
/// or at the end of the input) and the first `ld+json` inside it at or after `ld_from`. Kept for
/// the next opening inside the same tag, so a run of `<script` openings inside one long or
/// unterminated tag is scanned once, not once per opening (which was quadratic: 23 s for 4 MB).
#[derive(Clone, Copy)]
struct TagScan {
    end: usize,
    ld_from: usize,
    ld: Option<usize>,
}

/// The tag opening at `b[at] == b'<'`, reusing `memo` when `at` is inside the tag it describes
/// (then the first `>` at or after `at` is the same one).
fn scan_tag(b: &[u8], at: usize, memo: &mut Option<TagScan>) -> TagScan {
    match *memo {
        Some(t) if at < t.end => t,
        _ => {
            let t = TagScan {
                end: memchr::memchr(b'>', &b[at..]).map_or(b.len(), |e| at + e + 1),
                ld_from: usize::MAX,
                ld: None,
            };
            *memo = Some(t);
            t
        }
    }
}

impl TagScan {
    /// Whether `b[at..self.end]` holds `ld+json` (any case).
    fn ld_json_after(self, b: &[u8], at: usize, memo: &mut Option<TagScan>) -> bool {
        if self.ld_from <= at {
            match self.ld {
                None => return false,
                Some(p) if p >= at => return true,
                Some(_) => {}
            }
        }
        let ld = find_ci(&b[at..self.end], b"ld+json").map(|p| at + p);
        *memo = Some(TagScan {
            ld_from: at,
            ld,
            ..self
        });
        ld.is_some()
    }
}

fn starts_with_ci(hay: &[u8], needle: &[u8]) -> bool {
    hay.len() >= needle.len() && hay[..needle.len()].eq_ignore_ascii_case(needle)
}

/// Case-insensitive search for an ASCII needle that starts with `<` or a letter.
fn find_ci(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let first = needle.first()?;
    let (lo, up) = (first.to_ascii_lowercase(), first.to_ascii_uppercase());
    let mut i = 0;
    while let Some(p) = memchr::memchr2(lo, up, &hay[i..]) {
        let at = i + p;
        if starts_with_ci(&hay[at..], needle) {
            return Some(at);
        }
        i = at + 1;
    }
    None
}

/// Attributes on one tag beyond which a page is not given to html5ever's tokenizer: it looks for
/// a repeated name with a linear search per attribute, so a tag with k attributes costs k²/2
/// comparisons (100,000 attributes: 2.6 s; the 20 MB page limit allows 2.5 million, about half
/// an hour by extrapolation). With this limit, 19 MB of 2,000-attribute tags took 2.4 s.
/// The fast tokenizer finds repeats with a hash set and has no such limit; real pages have a
/// few dozen attributes at most.
pub const MAX_ATTRS_FOR_HTML5EVER: usize = 2000;

/// An upper bound on the attributes of any tag html5ever's tokenizer can read in `b`, stopping
/// once it reaches `limit`. The tag states of the WHATWG tokenizer (tag name, before/in/after an
/// attribute name, before a value, quoted and unquoted values, after a quoted value, self-closing)
/// are run from every `<` or `</` followed by a letter at once, keeping one count per state:
/// whatever state the tokenizer is in elsewhere (text, comment, raw text), each of its tags starts
/// at one of those places, and parses that reach the same state at the same byte go on alike, so
/// the largest count per state bounds them all. Linear in the input.
fn most_attributes_in_a_tag(b: &[u8], limit: usize) -> usize {
    const NAME: usize = 0; // tag name
    const BEFORE: usize = 1; // before an attribute name
    const ATTR: usize = 2; // in an attribute name
    const AFTER: usize = 3; // after an attribute name
    const BEFORE_VALUE: usize = 4;
    const DQ: usize = 5;
    const SQ: usize = 6;
    const UNQUOTED: usize = 7;
    const AFTER_QUOTED: usize = 8;
    const SLASH: usize = 9; // self-closing start tag state
    let mut cur: [Option<usize>; 10] = [None; 10];
    let mut most = 0;
    for (p, &c) in b.iter().enumerate() {
        if c.is_ascii_alphabetic()
            && p >= 1
            && (b[p - 1] == b'<' || (p >= 2 && b[p - 1] == b'/' && b[p - 2] == b'<'))
            && cur[NAME].is_none()
        {
            cur[NAME] = Some(0);
        }
        if cur.iter().all(Option::is_none) {
            continue;
        }
        let mut next: [Option<usize>; 10] = [None; 10];
        let mut put = |s: usize, n: usize| next[s] = Some(next[s].map_or(n, |m: usize| m.max(n)));
        let ws = matches!(c, b'\t' | b'\n' | b'\x0c' | b'\r' | b' ');
        for (s, n) in cur.iter().enumerate() {
            let Some(n) = *n else { continue };
            // `>` ends the tag in every state but the quoted values; so does nothing else.
            match (s, c) {
                (DQ, b'"') | (SQ, b'\'') => put(AFTER_QUOTED, n),
                (DQ | SQ, _) => put(s, n),
                (_, b'>') => {}
                (NAME, _) if ws => put(BEFORE, n),
                (NAME | ATTR | AFTER | AFTER_QUOTED | SLASH | BEFORE, b'/') => put(SLASH, n),
                (NAME, _) => put(NAME, n),
                (ATTR | AFTER, b'=') => put(BEFORE_VALUE, n),
                (ATTR | AFTER, _) if ws => put(AFTER, n),
                (ATTR, _) => put(ATTR, n),
                (BEFORE_VALUE, _) if ws => put(BEFORE_VALUE, n),
                (BEFORE_VALUE, b'"') => put(DQ, n),
                (BEFORE_VALUE, b'\'') => put(SQ, n),
                (BEFORE_VALUE | UNQUOTED, _) if !ws => put(UNQUOTED, n),
                (_, _) if ws => put(BEFORE, n),
                // A new attribute name starts (BEFORE, AFTER, AFTER_QUOTED, SLASH).
                _ => {
                    put(ATTR, n + 1);
                    most = most.max(n + 1);
                }
            }
        }
        if most >= limit {
            return most;
        }
        cur = next;
    }
    most
}

fn parse_stripped(html: &str, budget: Budget) -> Result<Dom, BudgetError> {
    if most_attributes_in_a_tag(html.as_bytes(), MAX_ATTRS_FOR_HTML5EVER + 1)
        > MAX_ATTRS_FOR_HTML5EVER
    {
        return Err(BudgetError::TooManyAttributes(MAX_ATTRS_FOR_HTML5EVER));
    }
    let over = Rc::new(Cell::new(None));
    let sink = new_sink(html.len(), budget, over.clone());
    // html5ever 0.40 drops a U+FEFF at the front of its input queue on every `feed`, i.e. after
    // each chunk and each `</script>`, not only at the start of the stream; so the BOM is dropped
    // here, once, as the fast tokenizer does (found by the fuzz test).
    let opts = ParseOpts {
        tree_builder: tree_builder_opts(),
        tokenizer: html5ever::tokenizer::TokenizerOpts {
            discard_bom: false,
            ..Default::default()
        },
    };
    let mut parser = parse_document(sink, opts);
    let mut rest = html.strip_prefix('\u{feff}').unwrap_or(html);
    while !rest.is_empty() {
        let mut cut = rest.len().min(FEED_CHUNK);
        while !rest.is_char_boundary(cut) {
            cut += 1;
        }
        let (chunk, tail) = rest.split_at(cut);
        parser.process(StrTendril::from_slice(chunk));
        rest = tail;
        if let Some(e) = over.get() {
            return Err(e);
        }
    }
    let dom = parser.finish();
    match over.get() {
        Some(e) => Err(e),
        None => Ok(dom),
    }
}

impl Dom {
    /// Whether two parses gave the same tree: same nodes in the same order (tags, attributes,
    /// text) with the same links. Comments, doctypes and processing instructions compare as
    /// nodes only.
    pub fn same_tree(&self, other: &Dom) -> bool {
        self.nodes.len() == other.nodes.len()
            && self.nodes.iter().zip(&other.nodes).all(|(a, b)| {
                (
                    a.parent,
                    a.first_child,
                    a.last_child,
                    a.prev,
                    a.next,
                    a.depth,
                ) == (
                    b.parent,
                    b.first_child,
                    b.last_child,
                    b.prev,
                    b.next,
                    b.depth,
                ) && match (&a.kind, &b.kind) {
                    (Kind::Document, Kind::Document) | (Kind::Other, Kind::Other) => true,
                    (Kind::Text(x), Kind::Text(y)) => x == y,
                    (
                        Kind::Element { name, attrs },
                        Kind::Element {
                            name: n2,
                            attrs: a2,
                        },
                    ) => name == n2 && attrs == a2,
                    _ => false,
                }
            })
    }

    /// The first element with this tag name, in document order.
    pub fn find_first(&self, tag: &str) -> Option<NodeId> {
        self.nodes
            .iter()
            .position(|n| n.tag().is_some_and(|t| &**t == tag))
            .map(|i| i as NodeId)
    }

    /// Node by id.
    #[inline]
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id as usize]
    }

    /// Children of a node, in order.
    pub fn children(&self, id: NodeId) -> Children<'_> {
        Children {
            dom: self,
            next: self.node(id).first_child,
        }
    }

    /// All text under `id`, concatenated (no whitespace normalisation).
    pub fn text_of(&self, id: NodeId) -> String {
        let mut out = String::new();
        let mut stack = vec![id];
        while let Some(n) = stack.pop() {
            let node = self.node(n);
            if let Kind::Text(t) = &node.kind {
                out.push_str(t);
            }
            let mut c = node.last_child;
            while c != NONE {
                stack.push(c);
                c = self.node(c).prev;
            }
        }
        out
    }
}

/// Iterator over the children of a node.
pub struct Children<'a> {
    dom: &'a Dom,
    next: NodeId,
}

impl Iterator for Children<'_> {
    type Item = NodeId;
    fn next(&mut self) -> Option<NodeId> {
        if self.next == NONE {
            return None;
        }
        let id = self.next;
        self.next = self.dom.node(id).next;
        Some(id)
    }
}

/// A handle the tree builder holds: the node index plus the element name, kept beside the index
/// so that `elem_name` can lend it without borrowing the arena. The tree builder clones and
/// drops handles all the time, so the namespace is an index into [`Sink::namespaces`] and only
/// the local name is an atom (one reference count, not three).
#[derive(Clone)]
struct Handle {
    id: NodeId,
    /// Index into [`Sink::namespaces`].
    ns: u8,
    local: LocalName,
}

/// Namespace indexes of [`Handle::ns`]; html5ever creates elements only in the first three.
const NS_HTML: u8 = 0;
const NS_SVG: u8 = 1;
const NS_MATHML: u8 = 2;
const NS_OTHER: u8 = 3;

impl Handle {
    /// A handle for a node that is not an element; `elem_name` on it (the tree builder never
    /// asks) says `div`, so it cannot panic.
    fn other(id: NodeId) -> Handle {
        Handle {
            id,
            ns: NS_HTML,
            local: html5ever::local_name!("div"),
        }
    }
}

struct Sink {
    nodes: RefCell<Vec<Node>>,
    budget: Budget,
    over: Rc<Cell<Option<BudgetError>>>,
    /// HTML, SVG, MathML and the empty namespace, lent by `elem_name`.
    namespaces: [Namespace; 4],
}

impl Sink {
    fn new_node(&self, kind: Kind) -> NodeId {
        let mut nodes = self.nodes.borrow_mut();
        let id = nodes.len();
        if id >= self.budget.max_nodes && self.over.get().is_none() {
            self.over
                .set(Some(BudgetError::TooManyNodes(self.budget.max_nodes)));
        }
        nodes.push(Node {
            parent: NONE,
            first_child: NONE,
            last_child: NONE,
            prev: NONE,
            next: NONE,
            depth: 0,
            kind,
        });
        id as NodeId
    }

    fn detach(nodes: &mut [Node], id: NodeId) {
        let (parent, prev, next) = {
            let n = &nodes[id as usize];
            (n.parent, n.prev, n.next)
        };
        if parent == NONE {
            return;
        }
        if prev != NONE {
            nodes[prev as usize].next = next;
        } else {
            nodes[parent as usize].first_child = next;
        }
        if next != NONE {
            nodes[next as usize].prev = prev;
        } else {
            nodes[parent as usize].last_child = prev;
        }
        let n = &mut nodes[id as usize];
        n.parent = NONE;
        n.prev = NONE;
        n.next = NONE;
    }

    /// Links `child` (detached) as the last child of `parent`.
    fn link_last(&self, nodes: &mut [Node], parent: NodeId, child: NodeId) {
        let last = nodes[parent as usize].last_child;
        let depth = nodes[parent as usize].depth + 1;
        {
            let c = &mut nodes[child as usize];
            c.parent = parent;
            c.prev = last;
            c.next = NONE;
            c.depth = depth;
        }
        if last != NONE {
            nodes[last as usize].next = child;
        } else {
            nodes[parent as usize].first_child = child;
        }
        nodes[parent as usize].last_child = child;
        self.check_depth(depth);
    }

    /// Links `child` (detached) just before `sibling`.
    fn link_before(&self, nodes: &mut [Node], sibling: NodeId, child: NodeId) {
        let parent = nodes[sibling as usize].parent;
        if parent == NONE {
            return;
        }
        let prev = nodes[sibling as usize].prev;
        let depth = nodes[parent as usize].depth + 1;
        {
            let c = &mut nodes[child as usize];
            c.parent = parent;
            c.prev = prev;
            c.next = sibling;
            c.depth = depth;
        }
        nodes[sibling as usize].prev = child;
        if prev != NONE {
            nodes[prev as usize].next = child;
        } else {
            nodes[parent as usize].first_child = child;
        }
        self.check_depth(depth);
    }

    fn check_depth(&self, depth: u32) {
        if depth > self.budget.max_depth && self.over.get().is_none() {
            self.over
                .set(Some(BudgetError::TooDeep(self.budget.max_depth)));
        }
    }

    fn append_text_at(&self, parent: NodeId, before: Option<NodeId>, text: &StrTendril) {
        let mut nodes = self.nodes.borrow_mut();
        // Merge with the neighbouring text node, as the tree builder expects.
        let neighbour = match before {
            None => nodes[parent as usize].last_child,
            Some(s) => nodes[s as usize].prev,
        };
        if neighbour != NONE {
            if let Kind::Text(t) = &mut nodes[neighbour as usize].kind {
                t.push_tendril(text);
                return;
            }
        }
        drop(nodes);
        let id = self.new_node(Kind::Text(text.clone()));
        let mut nodes = self.nodes.borrow_mut();
        match before {
            None => self.link_last(&mut nodes, parent, id),
            Some(s) => self.link_before(&mut nodes, s, id),
        }
    }
}

impl TreeSink for Sink {
    type Handle = Handle;
    type Output = Dom;
    type ElemName<'a>
        = ExpandedName<'a>
    where
        Self: 'a;

    fn finish(self) -> Dom {
        Dom {
            nodes: self.nodes.into_inner(),
        }
    }

    fn parse_error(&self, _msg: Cow<'static, str>) {}

    fn get_document(&self) -> Handle {
        Handle::other(0)
    }

    fn elem_name<'a>(&'a self, target: &'a Handle) -> ExpandedName<'a> {
        ExpandedName {
            ns: &self.namespaces[usize::from(target.ns)],
            local: &target.local,
        }
    }

    fn create_element(
        &self,
        name: QualName,
        attrs: Vec<Attribute>,
        _flags: ElementFlags,
    ) -> Handle {
        let id = self.new_node(Kind::Element {
            name: name.local.clone(),
            attrs,
        });
        let ns = if name.ns == html5ever::ns!(html) {
            NS_HTML
        } else if name.ns == html5ever::ns!(svg) {
            NS_SVG
        } else if name.ns == html5ever::ns!(mathml) {
            NS_MATHML
        } else {
            NS_OTHER
        };
        Handle {
            id,
            ns,
            local: name.local,
        }
    }

    fn create_comment(&self, _text: StrTendril) -> Handle {
        Handle::other(self.new_node(Kind::Other))
    }

    fn create_pi(&self, _target: StrTendril, _data: StrTendril) -> Handle {
        Handle::other(self.new_node(Kind::Other))
    }

    fn append(&self, parent: &Handle, child: NodeOrText<Handle>) {
        match child {
            NodeOrText::AppendNode(c) => {
                let mut nodes = self.nodes.borrow_mut();
                Self::detach(&mut nodes, c.id);
                self.link_last(&mut nodes, parent.id, c.id);
            }
            NodeOrText::AppendText(t) => self.append_text_at(parent.id, None, &t),
        }
    }

    fn append_based_on_parent_node(
        &self,
        element: &Handle,
        prev_element: &Handle,
        child: NodeOrText<Handle>,
    ) {
        let has_parent = self.nodes.borrow()[element.id as usize].parent != NONE;
        if has_parent {
            self.append_before_sibling(element, child);
        } else {
            self.append(prev_element, child);
        }
    }

    fn append_doctype_to_document(&self, _: StrTendril, _: StrTendril, _: StrTendril) {}

    fn get_template_contents(&self, target: &Handle) -> Handle {
        // Template contents are inert (never rendered): keep them in the element itself; the
        // extractor drops `<template>` anyway.
        target.clone()
    }

    fn same_node(&self, x: &Handle, y: &Handle) -> bool {
        x.id == y.id
    }

    fn set_quirks_mode(&self, _mode: QuirksMode) {}

    fn append_before_sibling(&self, sibling: &Handle, new_node: NodeOrText<Handle>) {
        match new_node {
            NodeOrText::AppendNode(c) => {
                let mut nodes = self.nodes.borrow_mut();
                Self::detach(&mut nodes, c.id);
                self.link_before(&mut nodes, sibling.id, c.id);
            }
            NodeOrText::AppendText(t) => {
                let parent = self.nodes.borrow()[sibling.id as usize].parent;
                if parent != NONE {
                    self.append_text_at(parent, Some(sibling.id), &t);
                }
            }
        }
    }

    fn add_attrs_if_missing(&self, target: &Handle, attrs: Vec<Attribute>) {
        let mut nodes = self.nodes.borrow_mut();
        if let Kind::Element { attrs: have, .. } = &mut nodes[target.id as usize].kind {
            // A set, not a search per attribute: repeated `<body>` tags with huge attribute
            // lists would otherwise be quadratic.
            let mut names: std::collections::HashSet<LocalName> =
                have.iter().map(|h| h.name.local.clone()).collect();
            for a in attrs {
                if names.insert(a.name.local.clone()) {
                    have.push(a);
                }
            }
        }
    }

    fn remove_from_parent(&self, target: &Handle) {
        Self::detach(&mut self.nodes.borrow_mut(), target.id);
    }

    fn reparent_children(&self, node: &Handle, new_parent: &Handle) {
        let mut nodes = self.nodes.borrow_mut();
        let mut c = nodes[node.id as usize].first_child;
        while c != NONE {
            let next = nodes[c as usize].next;
            Self::detach(&mut nodes, c);
            self.link_last(&mut nodes, new_parent.id, c);
            c = next;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BIG: Budget = Budget {
        max_nodes: 1_000_000,
        max_depth: 2000,
    };

    #[test]
    fn prestrip_removes_scripts_styles_comments_but_keeps_json_ld() {
        let html = "a<script>if (x<y) {}</script>b<!-- c -->d<STYLE type=x>p{}</Style >e\
                    <script type=\"application/ld+json\">{}</script><svg><text>t</text></svg>f<scripts>g";
        assert_eq!(
            prestrip(html),
            "abde<script type=\"application/ld+json\">{}</script>f<scripts>g"
        );
        assert_eq!(prestrip("x<script>never closed"), "x");
        assert_eq!(prestrip("x<!-- never closed"), "x");
        assert_eq!(prestrip("é<"), "é<");
    }

    /// [`prestrip`] as it was before [`TagScan`] (quadratic on many `<script` openings inside
    /// one tag): the reference the memoised version must agree with.
    fn prestrip_unmemoised(html: &str) -> String {
        let b = html.as_bytes();
        let mut out = String::new();
        let (mut copied, mut i) = (0, 0);
        while let Some(p) = memchr::memchr(b'<', &b[i..]) {
            let at = i + p;
            let rest = &b[at..];
            let end = if rest.starts_with(b"<!--") {
                Some(memchr::memmem::find(&rest[4..], b"-->").map_or(b.len(), |e| at + 4 + e + 3))
            } else {
                let mut found = None;
                for (open, close) in [
                    (&b"<script"[..], &b"</script"[..]),
                    (b"<style", b"</style"),
                    (b"<svg", b"</svg"),
                ] {
                    if starts_with_ci(rest, open)
                        && rest
                            .get(open.len())
                            .is_some_and(|&c| c == b'>' || c == b'/' || c.is_ascii_whitespace())
                    {
                        let tag_end = memchr::memchr(b'>', rest).map_or(rest.len(), |e| e + 1);
                        if open == b"<script" && find_ci(&rest[..tag_end], b"ld+json").is_some() {
                            break;
                        }
                        found = Some(match find_ci(&rest[tag_end..], close) {
                            Some(c) => {
                                let close_at = tag_end + c;
                                at + memchr::memchr(b'>', &rest[close_at..])
                                    .map_or(rest.len(), |e| close_at + e + 1)
                            }
                            None => b.len(),
                        });
                        break;
                    }
                }
                found
            };
            match end {
                Some(end) => {
                    out.push_str(&html[copied..at]);
                    copied = end;
                    i = end;
                }
                None => i = at + 1,
            }
            if i >= b.len() {
                break;
            }
        }
        out.push_str(&html[copied..]);
        out
    }

    #[test]
    fn prestrip_agrees_with_the_unmemoised_scan() {
        const PARTS: &[&str] = &[
            "<script",
            "<SCRIPT",
            " ",
            ">",
            "/",
            "</script",
            "</script>",
            "ld+json",
            "LD+JSON",
            "type=\"application/ld+json\"",
            "<style",
            "</style>",
            "<svg",
            "</svg>",
            "<!--",
            "-->",
            "<p>",
            "x",
            "\u{e9}",
            "<",
        ];
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        for _ in 0..20_000 {
            let len = 1 + next(30);
            let html: String = (0..len).map(|_| PARTS[next(PARTS.len())]).collect();
            assert_eq!(prestrip(&html), prestrip_unmemoised(&html), "{html:?}");
        }
    }

    /// Many `<script` openings inside one unterminated (or long) tag that says `ld+json`: each
    /// opening used to scan to the tag's end again.
    #[test]
    fn prestrip_is_linear_on_script_openings_inside_one_tag() {
        for html in [
            "<script ld+json ".repeat(100_000),
            "<script ld+json ".repeat(100_000) + ">",
            "<script ".repeat(100_000) + "ld+json",
        ] {
            // Nothing is stripped: every opening is a JSON-LD script's.
            assert_eq!(prestrip(&html), html);
            assert_eq!(parse(&html, BIG).unwrap().text_of(0), "");
        }
    }

    #[test]
    fn attributes_in_a_tag_are_bounded_from_every_start() {
        for (html, n) in [
            ("text only, a > b", 0),
            ("<p a b=1 c='2' d=\"3\">", 4),
            ("<p a=\"x>y z\" b>", 2),
            ("<p a=\">\" b='>' c>", 3),
            ("</p a b>", 2),
            ("<p/a/b c/>", 3),
            ("<p a=1/b =c\"d\"e>", 2),
            ("<p a b>text <i c>", 2),
            // Inside a comment or raw text a tokenizer would not read these tags: still counted.
            ("<title><p a b c d></title>", 4),
            ("<p \"a b c", 3),
        ] {
            assert_eq!(most_attributes_in_a_tag(html.as_bytes(), 100), n, "{html}");
        }
        // The bound holds for the tags html5ever's tokenizer reads in random markup (after the
        // pre-strip, as in `parse_stripped`; `<html>` and `<body>` excepted: the tree builder
        // merges the attributes of repeats into them).
        const PARTS: &[&str] = &[
            "<p",
            "<i",
            "</i",
            "<html",
            "<body",
            ">",
            "/",
            " ",
            "\n",
            "a",
            "b=",
            "=",
            "\"",
            "'",
            "<",
            "<title>",
            "</title>",
            "<textarea>",
            "<math>",
            "<![CDATA[",
            "]]>",
            "<!x>",
            "<!--",
            "-->",
            "c=\"d e\"",
            "f='>'",
            "\0",
        ];
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        let mut most = 0;
        for _ in 0..5000 {
            let len = 1 + next(40);
            let html: String = (0..len).map(|_| PARTS[next(PARTS.len())]).collect();
            let dom = parse_with_html5ever(&html, BIG).unwrap();
            let attrs = dom
                .nodes
                .iter()
                .filter_map(|n| match &n.kind {
                    Kind::Element { name, attrs } if !matches!(&**name, "html" | "body") => {
                        Some(attrs.len())
                    }
                    _ => None,
                })
                .max()
                .unwrap_or(0);
            let bound = most_attributes_in_a_tag(prestrip(&html).as_bytes(), 1000);
            assert!(bound >= attrs, "{html:?}: {bound} < {attrs}");
            most = most.max(attrs);
        }
        assert!(most >= 5, "{most}");
        let many: String = (0..5000).map(|i| format!(" a{i}=\">\"")).collect();
        assert_eq!(
            most_attributes_in_a_tag(format!("<p{many}>").as_bytes(), 10_000),
            5000
        );
        assert_eq!(
            most_attributes_in_a_tag(format!("<p{many}>").as_bytes(), 300),
            300
        );
    }

    /// Only a U+FEFF at the start is dropped, on both paths; html5ever's tokenizer used to drop
    /// one after `</script>` and at the start of each chunk it was fed.
    #[test]
    fn a_bom_after_the_start_is_text_on_both_paths() {
        let slow = "<b a\0=1>";
        let at_chunk = format!("{slow}{}\u{feff}z", "a".repeat(FEED_CHUNK - slow.len()));
        for (html, text) in [
            ("\u{feff}<p>x", "x"),
            ("<script type=ld+json>{}</script>\u{feff}y", "{}\u{feff}y"),
            (
                "<b a\0=1><script type=ld+json>{}</script>\u{feff}y",
                "{}\u{feff}y",
            ),
            (&at_chunk, &at_chunk[slow.len()..]),
        ] {
            let a = parse(html, BIG).unwrap();
            let b = parse_with_html5ever(html, BIG).unwrap();
            assert!(a.same_tree(&b), "{html:?}");
            assert_eq!(b.text_of(0), text, "{html:?}");
        }
    }

    #[test]
    fn builds_a_browser_tree() {
        let dom = parse(
            "<!DOCTYPE html><p>one<p>two<b>bold<i>x</b>y</i><table><tr><td>c</table>",
            BIG,
        )
        .unwrap();
        let body = dom.find_first("body").unwrap();
        let tags: Vec<String> = dom
            .children(body)
            .filter_map(|c| dom.node(c).tag().map(|t| t.to_string()))
            .collect();
        assert_eq!(tags, ["p", "p", "table"]);
        assert_eq!(dom.text_of(body), "onetwoboldxyc");
    }

    #[test]
    fn deep_nesting_and_node_floods_hit_the_budget() {
        let deep = "<div>".repeat(100_000);
        let t = std::time::Instant::now();
        assert_eq!(parse(&deep, BIG).unwrap_err(), BudgetError::TooDeep(2000));
        assert!(t.elapsed().as_secs() < 10);
        let many = "<span>a</span>".repeat(20_000);
        let small = Budget {
            max_nodes: 1000,
            max_depth: 100,
        };
        assert!(matches!(
            parse(&many, small),
            Err(BudgetError::TooManyNodes(_))
        ));
    }
}
