//! Pass 3, scoring: paragraph-like blocks give points (for their length and commas) to their
//! ancestors, fading with distance, as in Arc90's Readability; the best element, its score
//! scaled by its non-link share, is the core of the main content.

use crate::dom::{Dom, NodeId, NONE};

use super::blocks::{Block, BlockKind};
use super::element::COMMENT;
use super::prune::Facts;
use super::text::count_commas;

/// Shortest block (in characters) that gives points, as in Readability; shorter ones are labels
/// and links. Pages where no block is this long score all blocks instead.
const SCORE_MIN_CHARS: u32 = 25;

/// Blocks with a larger share of link text give no points (link lists).
const SCORE_MAX_LINK_DENSITY: f32 = 0.5;

/// A block gets a point per this many characters, up to [`MAX_LENGTH_POINTS`].
const CHARS_PER_POINT: f32 = 100.0;

/// Most points a block gets for its length (Readability's cap).
const MAX_LENGTH_POINTS: f32 = 3.0;

/// How many ancestors receive a block's points (Readability's five).
const SCORE_MAX_LEVELS: u32 = 5;

/// Weight of an element's name hint (-1, 0, +1) in its score: Readability's class weight.
const NAME_HINT_WEIGHT: f32 = 25.0;

/// Points given to an ancestor are divided by this times its level from level 2 up (level 0
/// gets them whole, level 1 half), as in Readability.
const FAR_LEVEL_DIVISOR: f32 = 3.0;

/// Scores of elements.
pub(super) struct Scores {
    /// Sum of points and base score of each element.
    pub(super) score: Vec<f32>,
    /// Whether the element received points (its base score is counted then).
    pub(super) scored: Vec<bool>,
}

/// Scores the ancestors of the paragraph-like blocks.
pub(super) fn score_ancestors(dom: &Dom, facts: &Facts, blocks: &[Block]) -> Scores {
    let n = dom.nodes.len();
    let mut s = Scores {
        score: vec![0f32; n],
        scored: vec![false; n],
    };
    give_points(dom, facts, blocks, SCORE_MIN_CHARS, &mut s);
    // A page with only short text (a photo post, a one-line note): score the short
    // paragraphs too rather than keep nothing.
    if !s.scored.iter().any(|&x| x) {
        give_points(dom, facts, blocks, 1, &mut s);
    }
    s
}

/// Adds the points of each block with at least `min_chars` characters to its ancestors.
fn give_points(dom: &Dom, facts: &Facts, blocks: &[Block], min_chars: u32, s: &mut Scores) {
    for b in blocks {
        // A kept comment section never becomes the main content.
        if b.kind == BlockKind::Heading
            || b.chars < min_chars
            || facts.flags[b.owner as usize] & COMMENT != 0
        {
            continue;
        }
        if b.link_density() > SCORE_MAX_LINK_DENSITY {
            continue;
        }
        let points = 1.0
            + count_commas(&b.text) as f32
            + (b.chars as f32 / CHARS_PER_POINT).min(MAX_LENGTH_POINTS);
        let owner_tag = dom.node(b.owner).tag().map_or("", |t| t);
        let mut anc = if matches!(
            owner_tag,
            "div" | "article" | "section" | "main" | "body" | "td"
        ) {
            b.owner
        } else {
            dom.node(b.owner).parent
        };
        let mut level = 0u32;
        while anc != NONE && level < SCORE_MAX_LEVELS {
            let node = dom.node(anc);
            let Some(tag) = node.tag() else {
                break;
            };
            let a = anc as usize;
            if !s.scored[a] {
                s.scored[a] = true;
                s.score[a] += tag_base_score(tag) + NAME_HINT_WEIGHT * facts.hint[a] as f32;
            }
            s.score[a] += points / level_divisor(level);
            anc = node.parent;
            level += 1;
        }
    }
}

/// What the points given at `level` above the owner are divided by.
fn level_divisor(level: u32) -> f32 {
    match level {
        0 => 1.0,
        1 => 2.0,
        l => l as f32 * FAR_LEVEL_DIVISOR,
    }
}

/// Readability's base score of an element by its tag: containers up, lists and headings down.
fn tag_base_score(tag: &str) -> f32 {
    match tag {
        "div" | "article" | "main" | "section" => 5.0,
        "pre" | "td" | "blockquote" => 3.0,
        "address" | "ol" | "ul" | "dl" | "dd" | "dt" | "li" | "form" => -3.0,
        "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "th" => -5.0,
        _ => 0.0,
    }
}

/// The kept, scored element (not `<html>`) with the best score times its non-link share, and
/// that value; [`NONE`] when no element was scored.
pub(super) fn best_element(dom: &Dom, facts: &Facts, s: &Scores) -> (NodeId, f32) {
    let mut best = NONE;
    let mut best_score = f32::MIN;
    for (i, &score) in s.score.iter().enumerate() {
        if !s.scored[i] || facts.dropped[i] {
            continue;
        }
        let tag = dom.node(i as NodeId).tag().map_or("", |t| t);
        if matches!(tag, "html") {
            continue;
        }
        let f = score * (1.0 - facts.link_density(i as NodeId));
        if f > best_score {
            best_score = f;
            best = i as NodeId;
        }
    }
    (best, best_score)
}
