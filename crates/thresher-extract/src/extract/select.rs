//! Pass 5, selection: which blocks are kept. Blocks inside the main content are kept unless they
//! are mostly links; blocks outside it only when they read as prose on their own, are a lead
//! paragraph, or sit in another part of a split article. Then a few corrections in order:
//! headings of kept text, labels of link lists, picture credits, the comment section, and a
//! fallback for pages where the container found nothing convincing.

use crate::dom::{Dom, NodeId, NONE};

use super::blocks::{Block, BlockKind};
use super::container::Main;
use super::element::COMMENT;
use super::element::LEAD;
use super::options::{
    Options, Tuning, R_CELLS, R_CREDIT, R_DECK, R_HEADINGS, R_LEAD, R_LEAD_FAR, R_LINK_LABEL,
    R_SAME_CLASS, R_SHORT_LINKS,
};
use super::prune::Facts;
use super::text::{is_credit_line, is_legal, is_sentence};

/// The same for a heading inside the main content.
const MAIN_HEADING_MAX_LINK_DENSITY: f32 = 0.6;

/// A short block ([`SHORT_BLOCK_CHARS`]) inside the main content with a larger share of link
/// text is dropped unless it reads as a sentence.
const SHORT_BLOCK_MAX_LINK_DENSITY: f32 = 0.3;

/// Below this many characters a block is short, for [`SHORT_BLOCK_MAX_LINK_DENSITY`].
const SHORT_BLOCK_CHARS: u32 = 100;

/// Levels above the main container within which a lead paragraph outside it joins.
const LEAD_MAX_LEVELS: u32 = 3;

/// The same, for a lead paragraph that comes before the main container's text (a standfirst in
/// a page header far up the tree; one after the article is an advert's).
const LEAD_FAR_MAX_LEVELS: u32 = 6;

/// Most link density of a lead paragraph or of a block in another part of a split article.
const OUTSIDE_MAX_LINK_DENSITY: f32 = 0.3;

/// Shortest lead paragraph (in characters) that joins.
const LEAD_MIN_CHARS: u32 = 30;

/// Shortest heading (in characters) outside the main content that is a deck (standfirst)
/// when it comes before the article's text ([`R_DECK`]): shorter ones are titles and labels.
const DECK_MIN_CHARS: u32 = 80;

/// Levels above a block's owner searched for an element of the main container's tag and class.
const SAME_CLASS_MAX_LEVELS: u32 = 3;

/// A heading outside the main content with a larger share of link text never joins.
const HEADING_MAX_LINK_DENSITY: f32 = 0.5;

/// How many blocks after a heading are looked at for kept text. (Looking further ahead, past
/// bylines to the page title, helps Dragnet and hurts AEB, whose gold has no titles: measured,
/// not adopted.)
const HEADING_LOOKAHEAD: usize = 1;

/// A block longer than this (in characters) between a heading and kept text separates them.
const HEADING_GAP_MAX_CHARS: u32 = 120;

/// Smallest kept text (in characters) for a short label before a link list to be dropped.
const LINK_LABEL_MIN_KEPT: u32 = 500;

/// Longest label (in characters) of a link list.
const LINK_LABEL_MAX_CHARS: u32 = 80;

/// Share of link text above which the block after a label is a link list.
const LINK_LIST_MIN_LINK_SHARE: f32 = 0.8;

/// Kept text (in characters) before a comment-section marker from which the marker cuts...
const COMMENTS_CUT_MIN_BEFORE: u32 = 400;

/// ... or this much, if it is also [`COMMENTS_CUT_MIN_SHARE`] of all kept text: a "3 comments"
/// link next to the title must not cut the article.
const COMMENTS_CUT_MIN_BEFORE_SHORT: u32 = 150;

/// See [`COMMENTS_CUT_MIN_BEFORE_SHORT`].
const COMMENTS_CUT_MIN_SHARE: f32 = 0.3;

/// When less than [`Tuning::fallback_max_kept`](super::options::Tuning) characters are kept
/// and the page's text is more than this many times the kept text, every prose-like block
/// joins.
const FALLBACK_PAGE_TO_KEPT: u32 = 5;

/// Shortest block (in characters) that joins in the fallback.
const FALLBACK_MIN_CHARS: u32 = 40;

/// Most link density of a block that joins in the fallback.
const FALLBACK_MAX_LINK_DENSITY: f32 = 0.3;

/// The selection, and what it was based on (for the debug view).
pub(super) struct Selection {
    /// Whether each block is kept.
    pub(super) keep: Vec<bool>,
    /// Share of the page's prose that the main container holds.
    pub(super) main_share: f32,
}

/// Selects the blocks to keep.
pub(super) fn select(
    dom: &Dom,
    facts: &Facts,
    blocks: &[Block],
    markers: &[usize],
    main: &Main,
    opts: &Options,
) -> Selection {
    let t = &opts.tuning;
    let main_share = main_prose_share(blocks, main, t.prose_min_chars);
    let mut keep = keep_main_and_outside(dom, facts, blocks, main, opts, main_share);
    if t.on(R_HEADINGS) {
        keep_headings_of_kept_text(blocks, main, &mut keep);
        // A deck is a heading that joins without text right after it (an extension of the
        // headings rule, as the far lead is of the lead rule); after the headings, so that a
        // deck does not bring its title along.
        if t.on(R_DECK) && opts.union_outside_prose {
            keep_decks(dom, blocks, main, &mut keep);
        }
    }
    if t.on(R_LINK_LABEL) {
        drop_link_list_labels(blocks, &mut keep);
    }
    if t.on(R_CREDIT) {
        drop_credit_lines(blocks, &mut keep);
    }
    if !opts.include_comments {
        cut_comment_section(blocks, markers, &mut keep);
    }
    fall_back_to_prose(blocks, &mut keep, t.fallback_max_kept);
    Selection { keep, main_share }
}

/// Characters of the kept blocks.
pub(super) fn kept_chars(blocks: &[Block], keep: &[bool]) -> u32 {
    blocks
        .iter()
        .zip(keep)
        .filter(|(_, &k)| k)
        .map(|(b, _)| b.chars)
        .sum()
}

/// How much of the page's prose the main container holds: when it holds most of it, prose
/// elsewhere is comments and teasers and only close-by blocks join; when it holds little
/// (table layouts, pages in several parts), prose anywhere joins.
fn main_prose_share(blocks: &[Block], main: &Main, prose_min_chars: u32) -> f32 {
    let (mut prose_in, mut prose_out) = (0u32, 0u32);
    for b in blocks {
        if b.is_prose(prose_min_chars) {
            if main.in_main[b.owner as usize] {
                prose_in += b.chars;
            } else {
                prose_out += b.chars;
            }
        }
    }
    prose_in as f32 / (prose_in + prose_out).max(1) as f32
}

/// Blocks inside the main content unless mostly links; outside it (with
/// [`Options::union_outside_prose`]), prose close enough to it, lead paragraphs and other
/// parts of a split article.
fn keep_main_and_outside(
    dom: &Dom,
    facts: &Facts,
    blocks: &[Block],
    main: &Main,
    opts: &Options,
    main_share: f32,
) -> Vec<bool> {
    let max_levels = if main_share >= opts.union_dominant_share {
        opts.union_max_levels
    } else {
        u32::MAX
    };
    let first_main = blocks
        .iter()
        .position(|b| main.in_main[b.owner as usize])
        .unwrap_or(blocks.len());
    let (best_tag, best_class) = if main.best == NONE {
        (None, None)
    } else {
        let node = dom.node(main.best);
        (
            node.tag(),
            node.attr("class").filter(|c| !c.trim().is_empty()),
        )
    };
    let t = &opts.tuning;
    let lead_max_levels = if t.on(R_LEAD_FAR) {
        LEAD_FAR_MAX_LEVELS
    } else {
        LEAD_MAX_LEVELS
    };
    let data = if t.on(R_CELLS) {
        data_table_cells(dom, blocks)
    } else {
        Vec::new()
    };
    let mut keep = vec![false; blocks.len()];
    for (i, b) in blocks.iter().enumerate() {
        let ld = b.link_density();
        let flags = facts.flags[b.owner as usize];
        if main.in_main[b.owner as usize] {
            keep[i] = keeps_in_main(b, t);
        } else if flags & COMMENT != 0 {
            // A kept comment section (`include_comments`): its text, not its link lists.
            keep[i] = keeps_in_main(b, t) && !is_legal(&b.text);
        } else if opts.union_outside_prose {
            let lv = main.levels_to(dom, b.owner);
            // The lead paragraph (standfirst) often sits in the article header, outside the
            // container of the body text, and is too short to read as prose on its own.
            keep[i] = (b.is_prose(t.prose_min_chars) && lv <= max_levels && !is_legal(&b.text))
                || (t.on(R_LEAD)
                    && flags & LEAD != 0
                    && b.kind != BlockKind::Heading
                    && (lv <= LEAD_MAX_LEVELS || (lv <= lead_max_levels && i < first_main))
                    && ld < OUTSIDE_MAX_LINK_DENSITY
                    && b.chars >= LEAD_MIN_CHARS);
            // A data table beside the text (product facts, figures): its cells are too short
            // to read as prose.
            if !keep[i]
                && t.on(R_CELLS)
                && data[i]
                && lv <= t.cells_max_levels
                && ld < OUTSIDE_MAX_LINK_DENSITY
                && !is_legal(&b.text)
            {
                keep[i] = true;
            }
            if !keep[i]
                && t.on(R_SAME_CLASS)
                && best_class.is_some()
                && b.kind != BlockKind::Heading
                && ld < OUTSIDE_MAX_LINK_DENSITY
                && !is_legal(&b.text)
            {
                keep[i] = in_same_tag_and_class(dom, b.owner, best_tag, best_class);
            }
        }
    }
    keep
}

/// Fewest cells of a row of a data table ([`data_table_cells`]).
const DATA_ROW_MIN_CELLS: u32 = 2;

/// Fewest such rows of a data table (in one row group).
const DATA_TABLE_MIN_ROWS: u32 = 2;

/// Which blocks are cells of a data table: a row with [`DATA_ROW_MIN_CELLS`] cells or more,
/// in a table (row group) with [`DATA_TABLE_MIN_ROWS`] such rows or more. Layout tables (one
/// cell a row: page headers, date lines, columns of a page) are not data.
fn data_table_cells(dom: &Dom, blocks: &[Block]) -> Vec<bool> {
    use std::collections::HashMap;
    let mut per_row: HashMap<NodeId, u32> = HashMap::new();
    for b in blocks {
        if b.kind == BlockKind::Cell && b.row != NONE {
            *per_row.entry(b.row).or_default() += 1;
        }
    }
    let mut per_table: HashMap<NodeId, u32> = HashMap::new();
    for (&row, &n) in &per_row {
        if n >= DATA_ROW_MIN_CELLS {
            *per_table.entry(dom.node(row).parent).or_default() += 1;
        }
    }
    blocks
        .iter()
        .map(|b| {
            b.kind == BlockKind::Cell
                && b.row != NONE
                && per_row
                    .get(&b.row)
                    .is_some_and(|&n| n >= DATA_ROW_MIN_CELLS)
                && per_table
                    .get(&dom.node(b.row).parent)
                    .is_some_and(|&n| n >= DATA_TABLE_MIN_ROWS)
        })
        .collect()
}

/// Whether a block inside the main content is kept: not a link list, unless it reads as a
/// sentence with inline links.
fn keeps_in_main(b: &Block, t: &Tuning) -> bool {
    let ld = b.link_density();
    if b.kind == BlockKind::Heading {
        ld < MAIN_HEADING_MAX_LINK_DENSITY
    } else {
        !(ld > t.main_max_link_density
            || (ld > SHORT_BLOCK_MAX_LINK_DENSITY
                && b.chars < SHORT_BLOCK_CHARS
                && !(t.on(R_SHORT_LINKS) && b.kind == BlockKind::Para && is_sentence(&b.text))))
    }
}

/// Another part of an article cut in pieces (ads between them): `owner` or an ancestor close
/// by has the main container's tag and class.
fn in_same_tag_and_class(
    dom: &Dom,
    owner: NodeId,
    tag: Option<&html5ever::LocalName>,
    class: Option<&str>,
) -> bool {
    let mut up = owner;
    for _ in 0..SAME_CLASS_MAX_LEVELS {
        if up == NONE {
            break;
        }
        let node = dom.node(up);
        if node.tag() == tag && node.attr("class") == class {
            return true;
        }
        up = node.parent;
    }
    false
}

/// Headings right before kept text outside the main content introduce it.
fn keep_headings_of_kept_text(blocks: &[Block], main: &Main, keep: &mut [bool]) {
    for i in 0..blocks.len() {
        if keep[i] || blocks[i].kind != BlockKind::Heading || main.in_main[blocks[i].owner as usize]
        {
            continue;
        }
        if blocks[i].link_density() >= HEADING_MAX_LINK_DENSITY {
            continue;
        }
        for j in i + 1..(i + 1 + HEADING_LOOKAHEAD).min(blocks.len()) {
            if keep[j] {
                keep[i] = true;
                break;
            }
            if blocks[j].kind == BlockKind::Heading || blocks[j].chars > HEADING_GAP_MAX_CHARS {
                break;
            }
        }
    }
}

/// A deck (standfirst) written as a heading: long, outside the main content, before the
/// article's text and within the reach of a far lead paragraph.
fn keep_decks(dom: &Dom, blocks: &[Block], main: &Main, keep: &mut [bool]) {
    let first_main = blocks
        .iter()
        .position(|b| main.in_main[b.owner as usize])
        .unwrap_or(blocks.len());
    for (i, b) in blocks[..first_main].iter().enumerate() {
        if !keep[i]
            && b.kind == BlockKind::Heading
            && b.chars >= DECK_MIN_CHARS
            && b.link_density() < OUTSIDE_MAX_LINK_DENSITY
            && main.levels_to(dom, b.owner) <= LEAD_FAR_MAX_LEVELS
        {
            keep[i] = true;
        }
    }
}

/// A short label right before a link list ("Read also:", "More from this column") belongs to
/// the list; not on a page where that would leave little: the label may be all there is.
fn drop_link_list_labels(blocks: &[Block], keep: &mut [bool]) {
    if kept_chars(blocks, keep) < LINK_LABEL_MIN_KEPT {
        return;
    }
    for i in 0..blocks.len().saturating_sub(1) {
        let b = &blocks[i];
        if !keep[i] || b.chars >= LINK_LABEL_MAX_CHARS || is_sentence(&b.text) || keep[i + 1] {
            continue;
        }
        if !matches!(b.kind, BlockKind::Para | BlockKind::Heading) {
            continue;
        }
        let nb = &blocks[i + 1];
        if nb.link_chars as f32 > LINK_LIST_MIN_LINK_SHARE * nb.chars as f32 {
            keep[i] = false;
        }
    }
}

/// Picture credits and caption labels are not text, wherever they are.
fn drop_credit_lines(blocks: &[Block], keep: &mut [bool]) {
    for (i, b) in blocks.iter().enumerate() {
        if keep[i] && b.kind == BlockKind::Para && is_credit_line(&b.text) {
            keep[i] = false;
        }
    }
}

/// Everything after the start of the comment section goes, once enough text was kept before it.
fn cut_comment_section(blocks: &[Block], markers: &[usize], keep: &mut [bool]) {
    let kept_total = kept_chars(blocks, keep);
    for &m in markers {
        let before = kept_chars(&blocks[..m.min(blocks.len())], keep);
        if before >= COMMENTS_CUT_MIN_BEFORE
            || (before >= COMMENTS_CUT_MIN_BEFORE_SHORT
                && before as f32 >= COMMENTS_CUT_MIN_SHARE * kept_total as f32)
        {
            for k in keep.iter_mut().skip(m) {
                *k = false;
            }
            break;
        }
    }
}

/// The container strategy found nothing convincing: fall back to all prose-like blocks.
fn fall_back_to_prose(blocks: &[Block], keep: &mut [bool], max_kept: u32) {
    let kept = kept_chars(blocks, keep);
    let total: u32 = blocks.iter().map(|b| b.chars).sum();
    if kept < max_kept && kept.saturating_mul(FALLBACK_PAGE_TO_KEPT) < total {
        for (i, b) in blocks.iter().enumerate() {
            keep[i] = keep[i]
                || (b.chars >= FALLBACK_MIN_CHARS && b.link_density() < FALLBACK_MAX_LINK_DENSITY);
        }
    }
}
