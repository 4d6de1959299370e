//! The fallback for pages where the main passes keep nothing (everything pruned by name, or
//! only short, link-heavy blocks left): the best of several candidates, taken from the page
//! pruned only of what is never visible, rather than no text.
//!
//! Candidates, in order of precision: the Readability-style main container of the relaxed
//! page (its blocks that are not link lists); its prose-like blocks anywhere; any block that is
//! not mostly links; every paragraph (`<p>`), links or not. The container wins unless the prose
//! candidate holds [`PROSE_OVER_CONTAINER`] times its text (a page in several parts); the
//! later candidates are used only when the earlier ones are empty.

use crate::dom::Dom;

use super::blocks::{collect_blocks, Block};
use super::container::Main;
use super::options::Options;
use super::prune::compute_facts;
use super::score::score_ancestors;

/// Blocks of a candidate with a larger share of link text are left out (link lists).
const MAX_LINK_DENSITY: f32 = 0.5;

/// Shortest block (in characters) of the prose candidate.
const PROSE_MIN_CHARS: u32 = 40;

/// Most link density of a block of the prose candidate.
const PROSE_MAX_LINK_DENSITY: f32 = 0.3;

/// The prose candidate replaces the container when it holds this many times its text.
const PROSE_OVER_CONTAINER: u32 = 2;

/// The blocks of the relaxed page and which of them the best candidate keeps; `None` when the
/// page has no visible text at all.
pub(super) fn best_candidate(dom: &Dom, opts: &Options) -> Option<(Vec<Block>, Vec<bool>)> {
    let facts = compute_facts(dom, opts, true);
    let (blocks, _) = collect_blocks(dom, &facts, true);
    if blocks.is_empty() {
        return None;
    }
    let scores = score_ancestors(dom, &facts, &blocks);
    let main = Main::find(dom, &facts, &scores, opts.tuning.sibling_min_share);
    let container: Vec<bool> = blocks
        .iter()
        .map(|b| main.in_main[b.owner as usize] && b.link_density() <= MAX_LINK_DENSITY)
        .collect();
    let prose: Vec<bool> = blocks
        .iter()
        .map(|b| b.chars >= PROSE_MIN_CHARS && b.link_density() < PROSE_MAX_LINK_DENSITY)
        .collect();
    let (c, p) = (text_chars(&blocks, &container), text_chars(&blocks, &prose));
    let keep = if c > 0 && c.saturating_mul(PROSE_OVER_CONTAINER) >= p {
        container
    } else if p > 0 {
        prose
    } else {
        let not_links: Vec<bool> = blocks
            .iter()
            .map(|b| b.link_density() <= MAX_LINK_DENSITY)
            .collect();
        if text_chars(&blocks, &not_links) > 0 {
            not_links
        } else {
            blocks
                .iter()
                .map(|b| dom.node(b.owner).tag().is_some_and(|t| &**t == "p"))
                .collect()
        }
    };
    Some((blocks, keep))
}

/// Characters outside links in the kept blocks.
fn text_chars(blocks: &[Block], keep: &[bool]) -> u32 {
    blocks
        .iter()
        .zip(keep)
        .filter(|(_, &k)| k)
        .map(|(b, _)| b.chars - b.link_chars.min(b.chars))
        .sum()
}
