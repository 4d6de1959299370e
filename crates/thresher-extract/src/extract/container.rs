//! Pass 4, the main container: the best-scoring element plus those of its siblings that score
//! well or hold plain prose, and how far each ancestor is from it (for the union's locality).

use crate::dom::{Dom, Kind, NodeId, NONE};

use super::prune::Facts;
use super::score::{best_element, Scores};

/// A sibling of the best element joins when its (link-scaled) score is at least
/// [`Tuning::sibling_min_share`](super::options::Tuning) of the best's, as in Readability (0.2),
/// and at least this much (Readability's floor).
const SIBLING_MIN_SCORE: f32 = 10.0;

/// A `<p>` or text sibling joins when it is longer than this (in characters) and has few
/// links ([`SIBLING_PROSE_MAX_LINK_DENSITY`]), as in Readability.
const SIBLING_PROSE_MIN_CHARS: u32 = 80;

/// See [`SIBLING_PROSE_MIN_CHARS`].
const SIBLING_PROSE_MAX_LINK_DENSITY: f32 = 0.25;

/// The main content of a page.
pub(super) struct Main {
    /// The best element ([`NONE`] when no element scored).
    pub(super) best: NodeId,
    /// Its score times its non-link share.
    pub(super) best_score: f32,
    /// Nodes inside the main content.
    pub(super) in_main: Vec<bool>,
    /// Levels from the best element up to each of its ancestors (`u32::MAX` elsewhere).
    anc_level: Vec<u32>,
}

impl Main {
    /// Finds the main content from the scores.
    pub(super) fn find(dom: &Dom, facts: &Facts, scores: &Scores, sibling_min_share: f32) -> Main {
        let n = dom.nodes.len();
        let (best, best_score) = best_element(dom, facts, scores);
        let mut main = Main {
            best,
            best_score,
            in_main: vec![false; n],
            anc_level: vec![u32::MAX; n],
        };
        if best == NONE {
            return main;
        }
        for root in chosen(dom, facts, scores, best, best_score, sibling_min_share) {
            mark_subtree(dom, root, &mut main.in_main);
        }
        let mut up = dom.node(best).parent;
        let mut level = 1u32;
        while up != NONE {
            main.anc_level[up as usize] = level;
            up = dom.node(up).parent;
            level += 1;
        }
        main
    }

    /// Levels from the best element up to the nearest common ancestor with `id` (`u32::MAX`
    /// when there is none, or no best element).
    pub(super) fn levels_to(&self, dom: &Dom, mut id: NodeId) -> u32 {
        while id != NONE {
            if self.anc_level[id as usize] != u32::MAX {
                return self.anc_level[id as usize];
            }
            id = dom.node(id).parent;
        }
        u32::MAX
    }
}

/// The best element and the siblings that join it.
fn chosen(
    dom: &Dom,
    facts: &Facts,
    scores: &Scores,
    best: NodeId,
    best_score: f32,
    min_share: f32,
) -> Vec<NodeId> {
    let parent = dom.node(best).parent;
    let threshold = (best_score * min_share).max(SIBLING_MIN_SCORE);
    let mut chosen = vec![best];
    if parent == NONE || dom.node(parent).tag().is_none() {
        return chosen;
    }
    for sib in dom.children(parent) {
        if sib == best || facts.dropped[sib as usize] {
            continue;
        }
        let sib_node = dom.node(sib);
        let ld = facts.link_density(sib);
        let keep = if scores.scored[sib as usize]
            && scores.score[sib as usize] * (1.0 - ld) >= threshold
        {
            true
        } else if matches!(sib_node.tag().map(|t| &**t), Some("p"))
            || matches!(sib_node.kind, Kind::Text(_))
        {
            let t = facts.text_chars[sib as usize];
            (t > SIBLING_PROSE_MIN_CHARS && ld < SIBLING_PROSE_MAX_LINK_DENSITY)
                || (t > 0 && ld == 0.0 && dom.text_of(sib).contains(". "))
        } else {
            false
        };
        if keep {
            chosen.push(sib);
        }
    }
    chosen
}

/// Marks `root` and its subtree.
fn mark_subtree(dom: &Dom, root: NodeId, mark: &mut [bool]) {
    let mut stack = vec![root];
    while let Some(id) = stack.pop() {
        mark[id as usize] = true;
        stack.extend(dom.children(id));
    }
}
