//! Pass 2, blocks: the kept tree cut into text blocks at block-level elements, in document
//! order, and the places where a comment section starts.

use crate::dom::{Dom, Kind, NodeId, NONE};

use super::element::{is_link, T_A, T_BLOCK, T_BR, T_CELL, T_HEADING, T_ITEM, T_PRE, T_TR};
use super::names::is_comment_section;
use super::prune::Facts;
use super::text::{count_sentence_ends, is_comment_heading};

/// With [`Options::include_tables`](super::Options::include_tables) off, table cells with less
/// text (in characters) than this are skipped; a cell with more is a layout table's content.
pub(super) const SMALL_CELL_MAX_CHARS: u32 = 200;

/// Most link density of a block that reads as prose ([`Block::is_prose`]).
const PROSE_MAX_LINK_DENSITY: f32 = 0.2;

/// A prose block (at least [`Tuning::prose_min_chars`](super::options::Tuning) characters, 150
/// by default) has this many words or [`PROSE_MIN_CHARS_NO_WORDS`] characters (scripts without
/// spaces between words).
const PROSE_MIN_WORDS: usize = 25;

/// See [`PROSE_MIN_WORDS`].
const PROSE_MIN_CHARS_NO_WORDS: u32 = 200;

/// A prose block has two sentence ends, or one when it is at least this long (in characters).
const PROSE_ONE_SENTENCE_MIN_CHARS: u32 = 250;

/// The kind of a text block, for scoring and output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BlockKind {
    /// A paragraph or any other block.
    Para,
    /// `<h1>`-`<h6>`.
    Heading,
    /// A list item.
    Item,
    /// A table cell.
    Cell,
    /// Preformatted text.
    Pre,
}

/// The kind of block a block element (tag class `bits`) starts, inside a block of kind
/// `outer` (if any): a div or p inside a list item, cell or pre keeps that kind.
pub(super) fn block_kind(bits: u8, outer: Option<BlockKind>) -> BlockKind {
    if bits & T_HEADING != 0 {
        BlockKind::Heading
    } else if bits & T_ITEM != 0 {
        BlockKind::Item
    } else if bits & T_CELL != 0 {
        BlockKind::Cell
    } else if bits & T_PRE != 0 {
        BlockKind::Pre
    } else {
        match outer {
            Some(k @ (BlockKind::Item | BlockKind::Cell | BlockKind::Pre)) => k,
            _ => BlockKind::Para,
        }
    }
}

/// A run of text between block-level element boundaries.
#[derive(Debug)]
pub(super) struct Block {
    /// The text, whitespace collapsed (except in `<pre>`), `<br>` as newline.
    pub(super) text: String,
    /// Non-whitespace characters.
    pub(super) chars: u32,
    /// Of which inside links.
    pub(super) link_chars: u32,
    /// What kind of block it is.
    pub(super) kind: BlockKind,
    /// Innermost block-level element holding the text.
    pub(super) owner: NodeId,
    /// Table row for cells (cells of a row are joined on one line).
    pub(super) row: NodeId,
}

impl Block {
    /// Share of the block's characters inside links.
    pub(super) fn link_density(&self) -> f32 {
        self.link_chars as f32 / self.chars.max(1) as f32
    }

    /// Whether the block reads as prose worth keeping on its own, wherever it is: long, few
    /// links, sentence punctuation; `min_chars` long at least.
    pub(super) fn is_prose(&self, min_chars: u32) -> bool {
        if self.kind == BlockKind::Heading
            || self.link_density() > PROSE_MAX_LINK_DENSITY
            || self.chars < min_chars
        {
            return false;
        }
        let words = self.text.split_whitespace().count();
        let sentence_ends = count_sentence_ends(&self.text);
        (words >= PROSE_MIN_WORDS || self.chars >= PROSE_MIN_CHARS_NO_WORDS)
            && (sentence_ends >= 2
                || (sentence_ends >= 1 && self.chars >= PROSE_ONE_SENTENCE_MIN_CHARS))
    }
}

/// Cuts the kept tree into text blocks, in document order, and notes where a comment section
/// starts (block indexes, sorted).
pub(super) fn collect_blocks(
    dom: &Dom,
    facts: &Facts,
    include_tables: bool,
) -> (Vec<Block>, Vec<usize>) {
    let mut b = Builder::default();
    // Stack entries: (node, exiting?).
    let mut stack: Vec<(NodeId, bool)> = vec![(0, false)];
    while let Some((id, exiting)) = stack.pop() {
        let node = dom.node(id);
        match &node.kind {
            Kind::Text(t) => b.text(t),
            Kind::Element { .. } => {
                let i = id as usize;
                let bits = facts.bits[i];
                let link = bits & T_A != 0 && is_link(facts.flags[i], facts.text_chars[i]);
                if exiting {
                    b.close(bits, link);
                    continue;
                }
                if facts.dropped[i] {
                    if is_comment_section(node) {
                        b.flush();
                        b.markers.push(b.blocks.len());
                    }
                    continue;
                }
                if bits & T_BR != 0 {
                    b.line_break();
                    continue;
                }
                if !include_tables
                    && bits & T_CELL != 0
                    && facts.text_chars[i] < SMALL_CELL_MAX_CHARS
                {
                    continue;
                }
                b.open(id, bits, link);
                stack.push((id, true));
                push_children(dom, id, &mut stack);
            }
            Kind::Document | Kind::Other => push_children(dom, id, &mut stack),
        }
    }
    b.flush();
    let Builder {
        blocks,
        mut markers,
        ..
    } = b;
    for (i, blk) in blocks.iter().enumerate() {
        if blk.kind == BlockKind::Heading && is_comment_heading(&blk.text) {
            markers.push(i);
        }
    }
    markers.sort_unstable();
    (blocks, markers)
}

/// Pushes the children of `id` so that they pop in document order.
fn push_children(dom: &Dom, id: NodeId, stack: &mut Vec<(NodeId, bool)>) {
    let mut c = dom.node(id).last_child;
    while c != NONE {
        stack.push((c, false));
        c = dom.node(c).prev;
    }
}

/// The block being built and the walk's state.
struct Builder {
    blocks: Vec<Block>,
    /// Block indexes where a comment section starts.
    markers: Vec<usize>,
    /// Text of the current block.
    text: String,
    chars: u32,
    link_chars: u32,
    /// Whitespace seen that is not written yet.
    pending_space: bool,
    /// Open block-level elements and the kind of block each makes.
    owners: Vec<(NodeId, BlockKind)>,
    /// Open table rows.
    rows: Vec<NodeId>,
    /// Open links.
    link_depth: u32,
    /// Open `<pre>` elements.
    pre_depth: u32,
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            blocks: Vec::new(),
            markers: Vec::new(),
            text: String::new(),
            chars: 0,
            link_chars: 0,
            pending_space: false,
            owners: vec![(0, BlockKind::Para)],
            rows: vec![NONE],
            link_depth: 0,
            pre_depth: 0,
        }
    }
}

impl Builder {
    /// Ends the current block (kept if it has visible text).
    fn flush(&mut self) {
        let text = self.text.trim_end();
        if self.chars > 0 && !text.is_empty() {
            let (owner, kind) = self.owners.last().copied().unwrap_or((0, BlockKind::Para));
            self.blocks.push(Block {
                text: text.to_string(),
                chars: self.chars,
                link_chars: self.link_chars,
                kind,
                owner,
                row: if kind == BlockKind::Cell {
                    self.rows.last().copied().unwrap_or(NONE)
                } else {
                    NONE
                },
            });
        }
        self.text.clear();
        self.chars = 0;
        self.link_chars = 0;
        self.pending_space = false;
    }

    /// Adds a text node: whitespace collapsed, except inside `<pre>`.
    fn text(&mut self, t: &str) {
        if self.pre_depth > 0 {
            if self.pending_space && !self.text.is_empty() {
                self.text.push(' ');
            }
            self.pending_space = false;
            for c in t.chars() {
                self.text.push(if c == '\u{a0}' { ' ' } else { c });
                if !c.is_whitespace() {
                    self.chars += 1;
                    if self.link_depth > 0 {
                        self.link_chars += 1;
                    }
                }
            }
            return;
        }
        if t.starts_with(char::is_whitespace) {
            self.pending_space = true;
        }
        for (k, w) in t.split_whitespace().enumerate() {
            if (k > 0 || self.pending_space) && !self.text.is_empty() && !self.text.ends_with('\n')
            {
                self.text.push(' ');
            }
            self.pending_space = false;
            let n = push_word(&mut self.text, w);
            self.chars += n;
            if self.link_depth > 0 {
                self.link_chars += n;
            }
        }
        if t.ends_with(char::is_whitespace) {
            self.pending_space = true;
        }
    }

    /// A `<br>`: a new line within the block.
    fn line_break(&mut self) {
        if !self.text.is_empty() && !self.text.ends_with('\n') {
            self.text.push('\n');
        }
        self.pending_space = false;
    }

    /// Enters a kept element (tag class `bits`; `link` if it is a link).
    fn open(&mut self, id: NodeId, bits: u8, link: bool) {
        if link {
            self.link_depth += 1;
        }
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
        }
    }

    /// Leaves an element entered with [`Builder::open`].
    fn close(&mut self, bits: u8, link: bool) {
        if bits & T_BLOCK != 0 {
            self.flush();
            self.owners.pop();
            if bits & T_TR != 0 {
                self.rows.pop();
            }
        }
        if link {
            self.link_depth = self.link_depth.saturating_sub(1);
        }
        if bits & T_PRE != 0 {
            self.pre_depth = self.pre_depth.saturating_sub(1);
        }
    }
}

/// Appends a word without the invisible characters that browsers do not render (soft hyphens,
/// zero-width spaces, stray byte-order marks), which would otherwise split words; returns
/// its visible length.
pub(super) fn push_word(out: &mut String, w: &str) -> u32 {
    if w.is_ascii() {
        out.push_str(w);
        return w.len() as u32;
    }
    let mut n = 0;
    for c in w.chars() {
        if !matches!(c, '\u{ad}' | '\u{200b}' | '\u{feff}' | '\u{2060}') && !c.is_control() {
            out.push(c);
            n += 1;
        }
    }
    n
}
