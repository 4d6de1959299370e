//! Markdown output: the blocks the selection kept, rendered with their structure.
//!
//! A second walk over the pruned tree ([`segment`]) cuts it into the same blocks as
//! `blocks::collect_blocks` (same boundaries, same visible characters), and for each block also
//! records its inline markup (bold, italic, inline code, links) and where it sits: heading level,
//! enclosing list items, blockquote depth, table, row and cell. The selection's `keep` flags then
//! pick the blocks to render ([`render`]). The plain-text mode never runs this walk, so it costs
//! nothing there.
//!
//! Output rules (CommonMark, with GitHub's pipe tables): ATX headings (`#`..`######`), one blank
//! line between blocks, tight lists (`-`, or `1.` numbered in order over the kept items) nested by
//! indentation, fenced code blocks for `<pre>`, `>` for blockquotes, `**bold**`, `*italic*`,
//! `` `code` ``, links `[text](href)` only with [`Options::include_links`]. Emphasis markers are
//! written lazily, right before the first visible word inside the element, so there is never an
//! empty `****` nor a marker next to the space it should enclose. Characters that Markdown would
//! read as markup are escaped with a backslash where they would be read so (`*`, `` ` ``, `\`,
//! `_` at word edges, `<tag`, `&name;`, `](`, and list, heading and quote markers at line start).
//! No line ends in spaces.

use std::collections::HashMap;

use html5ever::{local_name, LocalName};

use crate::dom::{Dom, Kind, NodeId, NONE};

use super::blocks::{block_kind, push_word, Block, BlockKind, SMALL_CELL_MAX_CHARS};
use super::element::{is_link, T_A, T_BLOCK, T_BR, T_CELL, T_HEADING, T_PRE, T_TR};
use super::names::is_comment_section;
use super::options::Options;
use super::prune::Facts;

/// A table whose kept cells all have at most this many characters, and at least two columns,
/// is a data table and becomes a pipe table; otherwise (a layout table) its cells are paragraphs.
const PIPE_TABLE_MAX_CELL_CHARS: u32 = 400;

/// Innermost list levels kept per block: deeper nesting renders as this deep (and a page of
/// thousands of nested lists cannot make every block carry thousands of levels).
const MAX_LIST_LEVELS: usize = 8;

/// An enclosing list item of a block.
#[derive(Debug, Clone, Copy)]
struct Level {
    /// The `<ul>`/`<ol>` (or [`NONE`] for an item outside any list).
    list: NodeId,
    /// An `<ol>`.
    ordered: bool,
    /// The `start` of an `<ol>`.
    start: u32,
    /// The `<li>`.
    item: NodeId,
}

/// One block with its Markdown inline text and its place in the structure.
#[derive(Debug)]
struct Seg {
    /// Inline Markdown; `\n` for `<br>` (raw text in `<pre>`).
    md: String,
    /// Innermost block-level element (as [`Block::owner`]).
    owner: NodeId,
    /// As [`Block::kind`].
    kind: BlockKind,
    /// Visible characters (as [`Block::chars`]).
    chars: u32,
    /// Enclosing list items, outermost first.
    levels: Vec<Level>,
    /// Blockquote depth.
    quote: u8,
    /// Innermost table, or [`NONE`].
    table: NodeId,
    /// Inside a table inside another table (a layout table).
    nested_table: bool,
    /// Innermost table row, or [`NONE`].
    row: NodeId,
    /// Innermost table cell, or [`NONE`].
    cell: NodeId,
}

/// An open inline element that writes markers around its text.
#[derive(Debug)]
struct Inline {
    open: String,
    close: String,
    /// The opening marker is written in the current block.
    emitted: bool,
}

/// What an element pushed on the walker's context stacks when it was entered.
const P_LIST: u16 = 1;
const P_ITEM: u16 = 2;
const P_QUOTE: u16 = 4;
const P_TABLE: u16 = 8;
const P_CELL: u16 = 16;
const P_HEADING: u16 = 32;
const P_INLINE: u16 = 64;
const P_CODE: u16 = 128;
const P_LINK: u16 = 256;

/// Mirror of `blocks::Builder` that also writes Markdown.
struct Walker<'a> {
    dom: &'a Dom,
    opts: &'a Options,
    segs: Vec<Seg>,
    md: String,
    chars: u32,
    pending_space: bool,
    owners: Vec<(NodeId, BlockKind)>,
    rows: Vec<NodeId>,
    cells: Vec<NodeId>,
    tables: Vec<NodeId>,
    lists: Vec<Level>,
    levels: Vec<Level>,
    quote: u8,
    pre_depth: u32,
    code_depth: u32,
    link_depth: u32,
    heading_depth: u32,
    inline: Vec<Inline>,
    /// Closing markers written since the last word (where each starts, and the marker; only
    /// markers and a space follow them): an opening marker of the same style right after
    /// cancels one, so `**a****b**` is `**ab**` and `**a** **b**` is `**a b**`.
    closed: Vec<(usize, String)>,
    word: String,
}

/// Cuts the kept tree into blocks with their Markdown, as `blocks::collect_blocks` does.
fn segment(dom: &Dom, facts: &Facts, opts: &Options) -> Vec<Seg> {
    let mut w = Walker {
        dom,
        opts,
        segs: Vec::new(),
        md: String::new(),
        chars: 0,
        pending_space: false,
        owners: vec![(0, BlockKind::Para)],
        rows: vec![NONE],
        cells: Vec::new(),
        tables: Vec::new(),
        lists: Vec::new(),
        levels: Vec::new(),
        quote: 0,
        pre_depth: 0,
        code_depth: 0,
        link_depth: 0,
        heading_depth: 0,
        inline: Vec::new(),
        closed: Vec::new(),
        word: String::new(),
    };
    // Stack entries: (node, exiting?, what it pushed).
    let mut stack: Vec<(NodeId, bool, u16)> = vec![(0, false, 0)];
    while let Some((id, exiting, pushed)) = stack.pop() {
        let node = dom.node(id);
        match &node.kind {
            Kind::Text(t) => w.text(t),
            Kind::Element { name, .. } => {
                let i = id as usize;
                let bits = facts.bits[i];
                if exiting {
                    w.close(bits, pushed);
                    continue;
                }
                if facts.dropped[i] {
                    // `collect_blocks` ends the block where a comment section starts.
                    if is_comment_section(node) {
                        w.flush();
                    }
                    continue;
                }
                if bits & T_BR != 0 {
                    w.line_break();
                    continue;
                }
                if !opts.include_tables
                    && bits & T_CELL != 0
                    && facts.text_chars[i] < SMALL_CELL_MAX_CHARS
                {
                    continue;
                }
                let link = bits & T_A != 0 && is_link(facts.flags[i], facts.text_chars[i]);
                let pushed = w.open(id, name, bits, link);
                stack.push((id, true, pushed));
                let mut c = node.last_child;
                while c != NONE {
                    stack.push((c, false, 0));
                    c = dom.node(c).prev;
                }
            }
            Kind::Document | Kind::Other => {
                let mut c = node.last_child;
                while c != NONE {
                    stack.push((c, false, 0));
                    c = dom.node(c).prev;
                }
            }
        }
    }
    w.flush();
    w.segs
}

impl Walker<'_> {
    /// Ends the current block, closing the inline markers written in it (they open again
    /// before the next word, in the next block).
    fn flush(&mut self) {
        for k in (0..self.inline.len()).rev() {
            if self.inline[k].emitted {
                let close = std::mem::take(&mut self.inline[k].close);
                push_closer(&mut self.md, &close);
                self.inline[k].close = close;
                self.inline[k].emitted = false;
            }
        }
        self.closed.clear();
        if self.chars > 0 {
            let (owner, kind) = self.owners.last().copied().unwrap_or((0, BlockKind::Para));
            let md = self.md.trim_end().to_string();
            self.segs.push(Seg {
                md,
                owner,
                kind,
                chars: self.chars,
                levels: self.levels[self.levels.len().saturating_sub(MAX_LIST_LEVELS)..].to_vec(),
                quote: self.quote,
                table: self.tables.last().copied().unwrap_or(NONE),
                nested_table: self.tables.len() > 1,
                row: self.rows.last().copied().unwrap_or(NONE),
                cell: self.cells.last().copied().unwrap_or(NONE),
            });
        }
        self.md.clear();
        self.chars = 0;
        self.pending_space = false;
    }

    /// Writes the opening markers not yet written, right before a visible word.
    fn emit_openers(&mut self) {
        for k in 0..self.inline.len() {
            if self.inline[k].emitted {
                continue;
            }
            self.inline[k].emitted = true;
            // `**a**` right followed by `**b**`: one run, not `**a****b**`. Only markers follow
            // a closer in `closed`, so taking it out leaves the styles open in the right order.
            if let Some(j) = self
                .closed
                .iter()
                .rposition(|(_, c)| *c == self.inline[k].close)
            {
                let (at, c) = self.closed.remove(j);
                self.md.replace_range(at..at + c.len(), "");
                for e in &mut self.closed[j..] {
                    e.0 -= c.len();
                }
                continue;
            }
            // `!` before a link's `[` would make it an image.
            if self.inline[k].open.starts_with('[') && self.md.ends_with('!') {
                self.md.pop();
                self.md.push_str("\\!");
            }
            let open = std::mem::take(&mut self.inline[k].open);
            self.md.push_str(&open);
            self.inline[k].open = open;
        }
    }

    /// Adds a text node, with the same whitespace rules as `blocks::Builder::text`.
    fn text(&mut self, t: &str) {
        if self.pre_depth > 0 {
            if self.pending_space && !self.md.is_empty() {
                self.md.push(' ');
            }
            self.pending_space = false;
            for c in t.chars() {
                self.md.push(if c == '\u{a0}' { ' ' } else { c });
                if !c.is_whitespace() {
                    self.chars += 1;
                }
            }
            return;
        }
        if t.starts_with(char::is_whitespace) {
            self.pending_space = true;
        }
        for (k, w) in t.split_whitespace().enumerate() {
            if (k > 0 || self.pending_space) && !self.md.is_empty() && !self.md.ends_with('\n') {
                // `closed` stays: `**a** **b**` is `**a b**` (the space moves inside).
                self.md.push(' ');
            }
            self.pending_space = false;
            self.word.clear();
            let n = push_word(&mut self.word, w);
            if n == 0 {
                continue;
            }
            self.chars += n;
            self.emit_openers();
            let word = std::mem::take(&mut self.word);
            if self.code_depth > 0 {
                self.md.push_str(&word);
            } else {
                let in_cell = self.owners.last().is_some_and(|o| o.1 == BlockKind::Cell);
                push_escaped(&mut self.md, &word, in_cell, self.link_depth > 0);
            }
            self.closed.clear();
            self.word = word;
        }
        if t.ends_with(char::is_whitespace) {
            self.pending_space = true;
        }
    }

    /// A `<br>`.
    fn line_break(&mut self) {
        if !self.md.is_empty() && !self.md.ends_with('\n') {
            self.md.push('\n');
            self.closed.clear();
        }
        self.pending_space = false;
    }

    /// Enters a kept element; returns what it pushed ([`P_LIST`]...).
    fn open(&mut self, id: NodeId, name: &LocalName, bits: u8, link: bool) -> u16 {
        let mut pushed = 0;
        if bits & T_PRE != 0 {
            self.pre_depth += 1;
        }
        if bits & T_BLOCK != 0 {
            self.flush();
            let kind = block_kind(bits, self.owners.last().map(|o| o.1));
            self.owners.push((id, kind));
            if bits & T_TR != 0 {
                self.rows.push(id);
            }
            pushed |= self.open_block_context(id, name, bits);
        } else if self.pre_depth == 0 {
            pushed |= self.open_inline(id, name, link);
        }
        pushed
    }

    /// Lists, items, quotes, tables, cells and headings.
    fn open_block_context(&mut self, id: NodeId, name: &LocalName, bits: u8) -> u16 {
        let node = self.dom.node(id);
        if *name == local_name!("ul") || *name == local_name!("ol") {
            let ordered = *name == local_name!("ol");
            let start = node
                .attr("start")
                .and_then(|s| s.trim().parse::<u32>().ok())
                .filter(|&s| s < 1_000_000_000)
                .unwrap_or(1);
            self.lists.push(Level {
                list: id,
                ordered,
                start,
                item: NONE,
            });
            P_LIST
        } else if *name == local_name!("li") {
            let mut lv = self.lists.last().copied().unwrap_or(Level {
                list: NONE,
                ordered: false,
                start: 1,
                item: NONE,
            });
            lv.item = id;
            self.levels.push(lv);
            P_ITEM
        } else if *name == local_name!("blockquote") {
            self.quote = self.quote.saturating_add(1);
            P_QUOTE
        } else if *name == local_name!("table") {
            self.tables.push(id);
            P_TABLE
        } else if bits & T_CELL != 0 {
            self.cells.push(id);
            P_CELL
        } else if bits & T_HEADING != 0 {
            self.heading_depth += 1;
            P_HEADING
        } else {
            0
        }
    }

    /// Bold, italic, inline code and links.
    fn open_inline(&mut self, id: NodeId, name: &LocalName, link: bool) -> u16 {
        if self.code_depth > 0 {
            return 0;
        }
        let (open, close, kind): (String, String, u16) = match name {
            n if *n == local_name!("b") || *n == local_name!("strong") => {
                ("**".into(), "**".into(), P_INLINE)
            }
            n if *n == local_name!("i") || *n == local_name!("em") => {
                ("*".into(), "*".into(), P_INLINE)
            }
            n if *n == local_name!("code")
                || *n == local_name!("kbd")
                || *n == local_name!("samp")
                || *n == local_name!("tt") =>
            {
                let text = self.dom.text_of(id);
                let fence = "`".repeat(longest_run(&text, '`') + 1);
                let t = text.trim();
                let pad = if t.starts_with('`') || t.ends_with('`') {
                    " "
                } else {
                    ""
                };
                (
                    format!("{fence}{pad}"),
                    format!("{pad}{fence}"),
                    P_INLINE | P_CODE,
                )
            }
            _ if link && self.opts.include_links && self.link_depth == 0 => {
                let Some(href) = self.dom.node(id).attr("href").and_then(link_target) else {
                    return 0;
                };
                ("[".into(), format!("]({href})"), P_INLINE | P_LINK)
            }
            _ => return 0,
        };
        // Emphasis says nothing inside a heading, and the same style twice is one.
        if kind == P_INLINE
            && (self.heading_depth > 0 || self.inline.iter().any(|s| s.open == open))
        {
            return 0;
        }
        if kind & P_LINK != 0 && self.heading_depth > 0 {
            return 0;
        }
        self.inline.push(Inline {
            open,
            close,
            emitted: false,
        });
        if kind & P_CODE != 0 {
            self.code_depth += 1;
        }
        if kind & P_LINK != 0 {
            self.link_depth += 1;
        }
        kind
    }

    /// Leaves an element entered with [`Walker::open`].
    fn close(&mut self, bits: u8, pushed: u16) {
        if pushed & P_INLINE != 0 {
            if let Some(s) = self.inline.pop() {
                if s.emitted {
                    let at = self.md.len();
                    if push_closer(&mut self.md, &s.close) {
                        self.closed.push((at, s.close));
                    } else {
                        self.closed.clear();
                    }
                }
            }
            if pushed & P_CODE != 0 {
                self.code_depth = self.code_depth.saturating_sub(1);
            }
            if pushed & P_LINK != 0 {
                self.link_depth = self.link_depth.saturating_sub(1);
            }
        }
        if bits & T_BLOCK != 0 {
            self.flush();
            self.owners.pop();
            if bits & T_TR != 0 {
                self.rows.pop();
            }
            if pushed & P_LIST != 0 {
                self.lists.pop();
            }
            if pushed & P_ITEM != 0 {
                self.levels.pop();
            }
            if pushed & P_QUOTE != 0 {
                self.quote = self.quote.saturating_sub(1);
            }
            if pushed & P_TABLE != 0 {
                self.tables.pop();
            }
            if pushed & P_CELL != 0 {
                self.cells.pop();
            }
            if pushed & P_HEADING != 0 {
                self.heading_depth = self.heading_depth.saturating_sub(1);
            }
        }
        if bits & T_PRE != 0 {
            self.pre_depth = self.pre_depth.saturating_sub(1);
        }
    }
}

/// A link's target as written in Markdown, or `None` for links that lead nowhere useful
/// (in-page anchors, `javascript:`). Targets with spaces or brackets go in `<...>`.
fn link_target(href: &str) -> Option<String> {
    let h = href.trim();
    if h.is_empty()
        || h.starts_with('#')
        || h.get(..11)
            .is_some_and(|p| p.eq_ignore_ascii_case("javascript:"))
    {
        return None;
    }
    if h.contains(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | '<' | '>')) {
        let mut s = String::with_capacity(h.len() + 2);
        s.push('<');
        for c in h.chars() {
            match c {
                '<' => s.push_str("%3C"),
                '>' => s.push_str("%3E"),
                c if c.is_whitespace() => s.push_str("%20"),
                c => s.push(c),
            }
        }
        s.push('>');
        Some(s)
    } else {
        Some(h.to_string())
    }
}

/// Writes a closing marker after the text, before any trailing whitespace (a `<br>` at the
/// end of a bold run must not leave the marker alone on the next line); whether it went at the
/// end.
fn push_closer(md: &mut String, close: &str) -> bool {
    let end = md.trim_end().len();
    if end == md.len() {
        md.push_str(close);
        true
    } else {
        md.insert_str(end, close);
        false
    }
}

/// Longest run of `c` in `s`.
fn longest_run(s: &str, c: char) -> usize {
    let (mut best, mut cur) = (0, 0);
    for x in s.chars() {
        if x == c {
            cur += 1;
            best = best.max(cur);
        } else {
            cur = 0;
        }
    }
    best
}

/// Appends a word of text, escaping the characters Markdown would read as markup there.
fn push_escaped(out: &mut String, w: &str, in_cell: bool, in_link: bool) {
    if !w.bytes().any(|b| {
        matches!(
            b,
            b'\\' | b'*' | b'`' | b'_' | b'[' | b']' | b'<' | b'&' | b'|' | b'~'
        )
    }) {
        out.push_str(w);
        return;
    }
    let cs: Vec<char> = w.chars().collect();
    for (k, &c) in cs.iter().enumerate() {
        let prev = k.checked_sub(1).map(|p| cs[p]);
        let next = cs.get(k + 1).copied();
        let escape = match c {
            '\\' | '*' | '`' => true,
            '_' => {
                !(prev.is_some_and(char::is_alphanumeric)
                    && next.is_some_and(char::is_alphanumeric))
            }
            '[' => in_link,
            ']' => in_link || matches!(next, Some('(' | '[' | ':')),
            '<' => next.is_some_and(|n| n.is_ascii_alphabetic() || matches!(n, '/' | '!' | '?')),
            '&' => is_entity(&cs[k + 1..]),
            '|' => in_cell,
            '~' => prev == Some('~') || next == Some('~'),
            _ => false,
        };
        if escape {
            out.push('\\');
        }
        out.push(c);
    }
}

/// Whether the characters after an `&` make an entity reference (`amp;`, `#169;`).
fn is_entity(rest: &[char]) -> bool {
    let body = rest.strip_prefix(&['#']).unwrap_or(rest);
    let n = body
        .iter()
        .take(32)
        .take_while(|c| c.is_ascii_alphanumeric())
        .count();
    n > 0 && body.get(n) == Some(&';')
}

/// Escapes what Markdown would read as a block marker at the start of a line of text: `#`
/// headings, `>` quotes, `-`/`+` bullets, `1.` numbers, `---`/`===` rules and underlines,
/// `~~~` fences.
fn push_line_escaped(out: &mut String, line: &str) {
    let b = line.as_bytes();
    let first = b.first().copied().unwrap_or(b' ');
    let after = |i: usize| b.get(i).is_none_or(|&c| c == b' ' || c == b'\t');
    let escape_at = match first {
        b'#' => {
            let n = b.iter().take_while(|&&c| c == b'#').count();
            (n <= 6 && after(n)).then_some(0)
        }
        b'>' => Some(0),
        b'-' | b'+' | b'=' => {
            let rule = b.iter().all(|&c| c == first || c == b' ');
            (after(1) || rule).then_some(0)
        }
        b'~' if line.starts_with("~~~") => Some(0),
        b'0'..=b'9' => {
            let n = b.iter().take_while(|c| c.is_ascii_digit()).count();
            (n <= 9 && matches!(b.get(n), Some(b'.' | b')')) && after(n + 1)).then_some(n)
        }
        _ => None,
    };
    match escape_at {
        Some(at) => {
            out.push_str(&line[..at]);
            out.push('\\');
            out.push_str(&line[at..]);
        }
        None => out.push_str(line),
    }
}

/// Renders the kept blocks as Markdown. `blocks` and `keep` are the selection's; when the
/// Markdown walk did not cut the page into the same blocks (it mirrors `collect_blocks`, so
/// this is a bug, checked by the tests on real pages), the kept blocks' plain text is rendered
/// as paragraphs instead.
pub(super) fn render(
    dom: &Dom,
    facts: &Facts,
    blocks: &[Block],
    keep: &[bool],
    opts: &Options,
) -> String {
    let segs = segment(dom, facts, opts);
    let kept: Vec<&Seg> = if aligned(&segs, blocks) {
        segs.iter()
            .zip(keep)
            .filter(|(_, &k)| k)
            .map(|(s, _)| s)
            .collect()
    } else {
        return plain_paragraphs(blocks, keep);
    };
    let mut r = Renderer::default();
    r.run(dom, &kept, opts);
    let mut out = String::with_capacity(r.out.len());
    for line in r.out.lines() {
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out.truncate(out.trim_end().len());
    out
}

/// Whether the Markdown walk and `collect_blocks` cut the page into the same blocks.
fn aligned(segs: &[Seg], blocks: &[Block]) -> bool {
    segs.len() == blocks.len()
        && segs
            .iter()
            .zip(blocks)
            .all(|(s, b)| s.owner == b.owner && s.chars == b.chars && s.kind == b.kind)
}

/// The fallback: kept blocks as escaped paragraphs.
fn plain_paragraphs(blocks: &[Block], keep: &[bool]) -> String {
    let mut out = String::new();
    for (b, _) in blocks.iter().zip(keep).filter(|(_, &k)| k) {
        if !out.is_empty() {
            out.push_str("\n\n");
        }
        for (k, line) in b.text.lines().enumerate() {
            if k > 0 {
                out.push('\n');
            }
            let mut esc = String::new();
            for (j, w) in line.split(' ').enumerate() {
                if j > 0 {
                    esc.push(' ');
                }
                push_escaped(&mut esc, w, false, false);
            }
            push_line_escaped(&mut out, esc.trim_end());
        }
    }
    out
}

/// What the previous rendered block was, for the separator before the next.
#[derive(Default, Clone, Copy, PartialEq, Eq)]
enum Prev {
    #[default]
    Nothing,
    /// A block inside a list item.
    List,
    /// Anything else.
    Other,
}

#[derive(Default)]
struct Renderer {
    out: String,
    /// List items with a marker written, outermost first: the item, its marker's width and
    /// its list.
    items: Vec<(NodeId, usize, NodeId)>,
    /// Items written per list, for numbering.
    counts: HashMap<NodeId, u32>,
    prev: Prev,
    prev_quote: u8,
    /// The list of the last item marker written.
    last_list: NodeId,
}

impl Renderer {
    fn run(&mut self, dom: &Dom, segs: &[&Seg], opts: &Options) {
        let mut i = 0;
        while i < segs.len() {
            let s = segs[i];
            if s.kind == BlockKind::Cell && s.cell != NONE && opts.include_tables {
                let end = i + segs[i..]
                    .iter()
                    .take_while(|t| t.cell != NONE && t.table == s.table)
                    .count();
                if let Some(rows) = pipe_rows(dom, &segs[i..end]) {
                    self.table(&rows, s.quote);
                    i = end;
                    continue;
                }
            }
            self.block(dom, s);
            i += 1;
        }
    }

    /// Starts a new block: a blank line (inside the quote both share), or one newline between
    /// items of a list.
    fn separate(&mut self, new_item: bool, quote: u8) {
        if self.prev != Prev::Nothing {
            if new_item && self.prev == Prev::List {
                self.out.push('\n');
            } else {
                self.out.push('\n');
                for _ in 0..quote.min(self.prev_quote) {
                    self.out.push('>');
                }
                self.out.push('\n');
            }
        }
        self.prev_quote = quote;
    }

    /// One block, with its list marker or indentation and its quote prefix.
    fn block(&mut self, dom: &Dom, s: &Seg) {
        let (first, cont, new_item) = self.list_prefix(s);
        self.separate(new_item, s.quote);
        self.prev = if s.levels.is_empty() {
            Prev::Other
        } else {
            Prev::List
        };
        let quote = "> ".repeat(s.quote as usize);
        let mut lines: Vec<String> = Vec::new();
        match s.kind {
            BlockKind::Heading => {
                let level = heading_level(dom, s.owner);
                let mut text = s.md.replace('\n', " ");
                if text.ends_with('#') {
                    text.pop();
                    text.push_str("\\#");
                }
                lines.push(format!("{} {text}", "#".repeat(level)));
            }
            BlockKind::Pre => {
                let fence = "`".repeat((longest_run(&s.md, '`') + 1).max(3));
                lines.push(fence.clone());
                lines.extend(s.md.lines().map(str::to_string));
                lines.push(fence);
            }
            _ => {
                for l in s.md.lines() {
                    let mut e = String::with_capacity(l.len() + 1);
                    push_line_escaped(&mut e, l);
                    lines.push(e);
                }
            }
        }
        for (k, l) in lines.iter().enumerate() {
            if k > 0 {
                self.out.push('\n');
            }
            self.out.push_str(&quote);
            self.out.push_str(if k == 0 { &first } else { &cont });
            self.out.push_str(l);
        }
    }

    /// The prefix of a block's first line and of its other lines (list marker or indentation),
    /// and whether it is a new item in the list of the block before (one newline between them).
    fn list_prefix(&mut self, s: &Seg) -> (String, String, bool) {
        let Some(inner) = s.levels.last() else {
            self.items.clear();
            self.last_list = NONE;
            return (String::new(), String::new(), false);
        };
        // An item of another list than the last one, outside it, starts a new list (a blank
        // line before it: a `3.` right after an item would continue that item's text).
        let tight = inner.list == self.last_list || self.items.iter().any(|x| x.2 == inner.list);
        // Items the block is not inside are closed (also those cut off by MAX_LIST_LEVELS).
        self.items
            .retain(|(it, _, _)| s.levels.iter().any(|l| l.item == *it));
        let indent: usize = self.items.iter().map(|x| x.1).sum();
        if self.items.last().is_some_and(|x| x.0 == inner.item) {
            let pad = " ".repeat(indent);
            return (pad.clone(), pad, false);
        }
        let tight = tight || !self.items.is_empty();
        self.last_list = inner.list;
        let marker = if inner.ordered {
            let c = self.counts.entry(inner.list).or_insert(0);
            *c += 1;
            format!("{}. ", inner.start as u64 + *c as u64 - 1)
        } else {
            "- ".to_string()
        };
        let first = format!("{}{marker}", " ".repeat(indent));
        let cont = " ".repeat(indent + marker.len());
        self.items.push((inner.item, marker.len(), inner.list));
        (first, cont, tight)
    }

    /// A GitHub pipe table: the first row is the header.
    fn table(&mut self, rows: &[Vec<String>], quote: u8) {
        self.items.clear();
        self.last_list = NONE;
        self.separate(false, quote);
        self.prev = Prev::Other;
        let quote = "> ".repeat(quote as usize);
        let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
        for (r, row) in rows.iter().enumerate() {
            if r > 0 {
                self.out.push('\n');
            }
            self.out.push_str(&quote);
            self.out.push('|');
            for c in 0..cols {
                self.out.push(' ');
                self.out.push_str(row.get(c).map_or("", String::as_str));
                self.out.push_str(" |");
            }
            if r == 0 {
                self.out.push('\n');
                self.out.push_str(&quote);
                self.out.push('|');
                for _ in 0..cols {
                    self.out.push_str(" --- |");
                }
            }
        }
    }
}

/// The rows of a run of kept table cells when they make a data table: plain cells only, not
/// in a nested table, at least two columns, no long cell. `None` for a layout table. Each cell
/// goes in the column of its `<td>`/`<th>` in its row, so empty cells (pictures) keep their
/// place.
fn pipe_rows(dom: &Dom, segs: &[&Seg]) -> Option<Vec<Vec<String>>> {
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut long = false;
    let (mut row, mut cell, mut col) = (NONE, NONE, 0usize);
    let mut chars = 0u32;
    for s in segs {
        if s.kind != BlockKind::Cell || s.nested_table {
            return None;
        }
        let text = s.md.replace('\n', " ");
        if s.row != row || rows.is_empty() {
            rows.push(Vec::new());
            row = s.row;
            cell = NONE;
        }
        let r = rows.last_mut()?;
        if s.cell != cell {
            cell = s.cell;
            col = column_of(dom, s.row, s.cell).max(r.len());
            chars = 0;
        }
        if r.len() <= col {
            r.resize(col + 1, String::new());
        }
        if !r[col].is_empty() {
            r[col].push(' ');
        }
        r[col].push_str(&text);
        chars += s.chars;
        long |= chars > PIPE_TABLE_MAX_CELL_CHARS;
    }
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    (cols >= 2 && !long).then_some(rows)
}

/// The position of `cell` among the `<td>`/`<th>` children of `row` (0 when it is not one).
fn column_of(dom: &Dom, row: NodeId, cell: NodeId) -> usize {
    if row == NONE {
        return 0;
    }
    let mut k = 0;
    let mut c = dom.node(row).first_child;
    while c != NONE {
        if c == cell {
            return k;
        }
        if dom
            .node(c)
            .tag()
            .is_some_and(|t| *t == local_name!("td") || *t == local_name!("th"))
        {
            k += 1;
        }
        c = dom.node(c).next;
    }
    0
}

/// The level of a heading element (`h1` -> 1); 2 for anything else.
fn heading_level(dom: &Dom, id: NodeId) -> usize {
    match dom.node(id).tag().map(|t| &**t) {
        Some("h1") => 1,
        Some("h2") => 2,
        Some("h3") => 3,
        Some("h4") => 4,
        Some("h5") => 5,
        Some("h6") => 6,
        _ => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dom::{parse, Budget};
    use crate::extract::{extract, OutputFormat};

    const P: &str = "The committee met on Tuesday to discuss the budget, the schedule, and the new building. After a long debate, members agreed to postpone the decision until next month.";

    fn md_opts(links: bool) -> Options {
        Options {
            output_format: OutputFormat::Markdown,
            include_links: links,
            ..Options::default()
        }
    }

    fn dom(html: &str) -> Dom {
        parse(
            html,
            Budget {
                max_nodes: 100_000,
                max_depth: 500,
            },
        )
        .unwrap()
    }

    fn md(body: &str) -> String {
        extract(
            &dom(&format!(
                "<html><body><article>{body}</article></body></html>"
            )),
            &md_opts(false),
        )
        .text
    }

    fn md_links(body: &str) -> String {
        extract(
            &dom(&format!(
                "<html><body><article>{body}</article></body></html>"
            )),
            &md_opts(true),
        )
        .text
    }

    #[test]
    fn headings_paragraphs_and_emphasis() {
        let out = md(&format!(
            "<h1>Budget <em>delayed</em></h1><p>{P}</p><h3>Next steps</h3>\
             <p>It is <b>very</b> <i>important</i>, said <strong> the mayor </strong>.</p>"
        ));
        assert_eq!(
            out,
            format!(
                "# Budget delayed\n\n{P}\n\n### Next steps\n\nIt is **very** *important*, said **the mayor** ."
            )
        );
    }

    #[test]
    fn no_empty_emphasis_and_adjacent_runs_merge() {
        let out = md(&format!(
            "<p>{P}</p><p>A <b></b><i> </i>b <b>bo</b><b>ld</b> c <b>x<br></b>y</p>"
        ));
        assert!(out.ends_with("A b **bold** c **x**\ny"), "{out}");
        let out = md(&format!(
            "<p>{P}</p><p><b><i>one</i></b><b><i>two</i></b> <i>x</i><b><i>y</i></b> <b><i>z</i></b><i>w</i></p>"
        ));
        // Italic runs on over the spaces: em(strong(onetwo) x strong(y z) w).
        assert!(out.ends_with("***onetwo** x**y z**w*"), "{out}");
        let out = md(&format!(
            "<p>{P}</p><p><b>Die ersten</b> <b>Spieltage</b> sind <i>a</i> <b>b</b></p>"
        ));
        assert!(
            out.ends_with("**Die ersten Spieltage** sind *a* **b**"),
            "{out}"
        );
        assert!(!out.contains("****") && !out.contains("**  **"), "{out}");
    }

    #[test]
    fn nested_lists_are_indented_and_numbered() {
        let out = md(&format!(
            "<p>{P}</p><ul><li>one</li><li>two<ul><li>two a</li><li>two b</li></ul></li>\
             <li>three</li></ul><ol start=\"3\"><li>third</li><li>fourth<ol><li>inner</li></ol></li></ol>"
        ));
        assert!(
            out.ends_with(
                "- one\n- two\n  - two a\n  - two b\n- three\n\n3. third\n4. fourth\n   1. inner"
            ),
            "{out}"
        );
    }

    #[test]
    fn deep_lists_stay_bounded() {
        let n = 200;
        let body = format!(
            "<p>{P}</p>{}{}",
            "<ul><li>item text here".repeat(n),
            "</li></ul>".repeat(n)
        );
        let out = md(&body);
        assert_eq!(out.matches("item text here").count(), n, "{out}");
        let widest = out.lines().map(|l| l.len() - l.trim_start().len()).max();
        assert!(widest <= Some(2 * MAX_LIST_LEVELS), "{widest:?}");
    }

    #[test]
    fn item_with_two_paragraphs() {
        let out = md(&format!(
            "<p>{P}</p><ul><li><p>first</p><p>more of it</p></li><li>second</li></ul>"
        ));
        assert!(out.ends_with("- first\n\n  more of it\n- second"), "{out}");
    }

    #[test]
    fn code_and_pre() {
        let out = md(&format!(
            "<p>{P}</p><p>Call <code>a*b_c</code> or <code>x`y</code>.</p>\
             <pre><code>fn main() {{\n    let x = 1; // *not* markup\n}}</code></pre>"
        ));
        assert!(out.contains("Call `a*b_c` or ``x`y``."), "{out}");
        assert!(
            out.ends_with("```\nfn main() {\n    let x = 1; // *not* markup\n}\n```"),
            "{out}"
        );
    }

    #[test]
    fn blockquotes() {
        let out = md(&format!(
            "<p>{P}</p><blockquote><p>To be.</p><p>Or not.</p></blockquote><p>End of it.</p>"
        ));
        assert!(
            out.ends_with("> To be.\n>\n> Or not.\n\nEnd of it."),
            "{out}"
        );
    }

    #[test]
    fn tables_become_pipe_tables() {
        let out = md(&format!(
            "<p>{P}</p><table><tr><th>Name</th><th>Size</th></tr>\
             <tr><td>a|b</td><td>1</td></tr><tr><td>c</td></tr></table>"
        ));
        assert!(
            out.ends_with("| Name | Size |\n| --- | --- |\n| a\\|b | 1 |\n| c |  |"),
            "{out}"
        );
    }

    #[test]
    fn layout_tables_stay_paragraphs() {
        let long = P.repeat(3);
        let out = md(&format!(
            "<table><tr><td>{long}</td><td>{long}</td></tr></table>"
        ));
        assert!(!out.contains('|'), "{out}");
        assert_eq!(out.matches("The committee").count(), 6, "{out}");
    }

    #[test]
    fn links_only_when_asked() {
        let body = format!(
            "<p>{P} See <a href=\"https://e.x/a b\">the report</a> and <a href=\"#top\">top</a>, \
             or wow!<a href=\"/r\">this</a>.</p>"
        );
        assert!(md(&body).ends_with("See the report and top, or wow!this."));
        let out = md_links(&body);
        assert!(
            out.ends_with("See [the report](<https://e.x/a%20b>) and top, or wow\\![this](/r)."),
            "{out}"
        );
    }

    #[test]
    fn markup_characters_in_text_are_escaped() {
        let out = md(&format!(
            "<p>{P}</p><p>2 * 3 = 6, snake_case _x_ a\\b [1] [x](y) &lt;div&gt; &amp;amp; AT&amp;T ~~no~~</p>\
             <p># not a heading</p><p>1. not a list</p><p>- no</p><p>+ no</p><p>&gt; no</p><p>---</p>\
             <p>2019. A year</p><p>#hashtag</p>"
        ));
        assert!(
            out.contains(
                "2 \\* 3 = 6, snake_case \\_x\\_ a\\\\b [1] [x\\](y) \\<div> \\&amp; AT&T \\~\\~no\\~\\~"
            ),
            "{out}"
        );
        for line in [
            "\\# not a heading",
            "1\\. not a list",
            "\\- no",
            "\\+ no",
            "\\> no",
            "\\---",
            "2019\\. A year",
            "#hashtag",
        ] {
            assert!(out.lines().any(|l| l == line), "{line} in {out}");
        }
    }

    #[test]
    fn no_trailing_spaces() {
        let out = md(&format!(
            "<p>{P}</p><pre>code   \n  more  </pre><blockquote><p>a</p><p>b</p></blockquote>"
        ));
        assert!(out.lines().all(|l| l == l.trim_end()), "{out:?}");
    }

    #[test]
    fn text_mode_is_unchanged() {
        let html = format!(
            "<html><body><article><h2>T</h2><p>{P}</p><ul><li>a</li></ul></article></body></html>"
        );
        let text = extract(&dom(&html), &Options::default()).text;
        assert_eq!(text, format!("T\n{P}\na"));
    }

    /// Words (letters and digits) of a text; list numbers and code fences at line start are
    /// dropped in Markdown (it renumbers lists).
    fn tokens(s: &str, markdown: bool) -> Vec<String> {
        let mut out = Vec::new();
        for line in s.lines() {
            let mut l = line.trim_start_matches(['>', ' ']);
            if markdown {
                if l.starts_with("```") {
                    continue;
                }
                let digits = l.bytes().take_while(u8::is_ascii_digit).count();
                if digits > 0 && l[digits..].starts_with(". ") {
                    l = &l[digits + 2..];
                }
            }
            // Emphasis, code and escape marks may sit inside a word (`escucha**r**`): they go
            // on both sides before the words are cut.
            let l: String = l
                .chars()
                .filter(|c| !matches!(c, '*' | '`' | '\\'))
                .collect();
            out.extend(
                l.split(|c: char| !c.is_alphanumeric())
                    .filter(|w| !w.is_empty())
                    .map(str::to_string),
            );
        }
        out
    }

    /// Over every page of one gold set of ../shared (and the snapshot pages): the Markdown walk
    /// cuts the page into the same blocks as the text pass, and the Markdown without its markup
    /// has the same words, in the same order, as the text output.
    #[test]
    fn markdown_has_the_words_of_the_text_on_real_pages() {
        use std::io::Read;
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut paths: Vec<std::path::PathBuf> = Vec::new();
        for dir in [
            root.join("tests/pages"),
            root.join("../../../shared/corpus/trafilatura-eval"),
        ] {
            match std::fs::read_dir(&dir) {
                Ok(rd) => paths.extend(
                    rd.flatten()
                        .map(|e| e.path())
                        .filter(|p| p.to_string_lossy().ends_with(".html.gz")),
                ),
                Err(_) => {
                    assert!(
                        std::env::var_os("THRESHER_REQUIRE_SHARED").is_none(),
                        "../shared is required (THRESHER_REQUIRE_SHARED is set) but absent"
                    );
                    eprintln!("skipping: {} absent", dir.display());
                }
            }
        }
        paths.sort();
        let mut pages = 0;
        for p in &paths {
            let mut raw = Vec::new();
            flate2::read::GzDecoder::new(std::fs::File::open(p).unwrap())
                .read_to_end(&mut raw)
                .unwrap();
            let html = thresher_io::charset::decode_html(&raw, None).text;
            let d = dom(&html);
            let facts = super::super::prune::compute_facts(&d, &md_opts(false), false);
            for tables in [true, false] {
                let opts = Options {
                    include_tables: tables,
                    ..md_opts(false)
                };
                let (blocks, _) = super::super::blocks::collect_blocks(&d, &facts, tables);
                let segs = segment(&d, &facts, &opts);
                if !aligned(&segs, &blocks) {
                    let k = segs
                        .iter()
                        .zip(&blocks)
                        .position(|(s, b)| {
                            s.owner != b.owner || s.chars != b.chars || s.kind != b.kind
                        })
                        .unwrap_or(segs.len().min(blocks.len()));
                    panic!(
                        "{}: blocks differ at {k} ({} segs, {} blocks): {:?} / {:?}",
                        p.display(),
                        segs.len(),
                        blocks.len(),
                        segs.get(k).map(|s| (&s.md, s.owner, s.chars, s.kind)),
                        blocks.get(k).map(|b| (&b.text, b.owner, b.chars, b.kind)),
                    );
                }
                let text = extract(
                    &d,
                    &Options {
                        include_tables: tables,
                        ..Options::default()
                    },
                )
                .text;
                let md = extract(&d, &opts).text;
                assert_eq!(
                    tokens(&md, true),
                    tokens(&text, false),
                    "{}: words differ",
                    p.display()
                );
                assert!(md.lines().all(|l| l == l.trim_end()), "{}", p.display());
                if let Some(k) = md.find("****") {
                    panic!(
                        "{}: empty emphasis in {:?}",
                        p.display(),
                        &md[k.saturating_sub(40)..]
                    );
                }
            }
            pages += 1;
        }
        assert!(pages >= 20, "{pages} pages");
    }
}
