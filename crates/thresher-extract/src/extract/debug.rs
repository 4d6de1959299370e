//! The debug view of an extraction ([`extract_debug`](super::extract_debug)): every pruned
//! element and every text block, one per line.

use std::fmt::Write;

use crate::dom::{Dom, NodeId, NONE};

use super::blocks::Block;
use super::container::Main;
use super::prune::Facts;
use super::select::Selection;

/// Characters of text shown per line.
const SHOWN_CHARS: usize = 100;

/// Writes the elements dropped by pruning whose parent was kept, with their text.
pub(super) fn dropped(dom: &Dom, facts: &Facts, d: &mut String) {
    for i in 0..dom.nodes.len() {
        let id = i as NodeId;
        let p = dom.node(id).parent;
        if facts.dropped[i] && p != NONE && !facts.dropped[p as usize] {
            let t = dom.text_of(id);
            let t: String = t.split_whitespace().collect::<Vec<_>>().join(" ");
            if !t.is_empty() {
                let _ = writeln!(
                    d,
                    "DROP {} [{}] {}",
                    describe(dom, id, 3),
                    t.len(),
                    t.chars().take(SHOWN_CHARS).collect::<String>()
                );
            }
        }
    }
}

/// Writes the main container and every block: kept (`K`) or not, inside the main content (`M`)
/// or not, levels to the container, kind, size, link density, prose, owner path and text.
pub(super) fn blocks(
    dom: &Dom,
    blocks: &[Block],
    markers: &[usize],
    main: &Main,
    sel: &Selection,
    prose_min_chars: u32,
    d: &mut String,
) {
    let _ = writeln!(
        d,
        "best={} score={:.1} main_share={:.2} markers={markers:?}",
        describe(dom, main.best, 4),
        main.best_score,
        sel.main_share
    );
    for (i, b) in blocks.iter().enumerate() {
        let lv = main.levels_to(dom, b.owner);
        let _ = writeln!(
            d,
            "{} {} lv={} {:?} c={} ld={:.2} prose={} | {} | {}",
            if sel.keep[i] { "K" } else { "-" },
            if main.in_main[b.owner as usize] {
                "M"
            } else {
                "o"
            },
            if lv == u32::MAX { -1 } else { lv as i64 },
            b.kind,
            b.chars,
            b.link_density(),
            b.is_prose(prose_min_chars),
            describe(dom, b.owner, 4),
            b.text
                .chars()
                .take(SHOWN_CHARS)
                .collect::<String>()
                .replace('\n', " / ")
        );
    }
}

/// The path of an element: up to `depth` elements from it upwards, as `tag#id.class > ...`.
fn describe(dom: &Dom, mut id: NodeId, depth: usize) -> String {
    let mut parts = Vec::new();
    while id != NONE && parts.len() < depth {
        let n = dom.node(id);
        if let Some(t) = n.tag() {
            let mut s = t.to_string();
            if let Some(i) = n.attr("id") {
                s.push('#');
                s.push_str(i);
            }
            if let Some(c) = n.attr("class") {
                s.push('.');
                s.push_str(&c.split_whitespace().collect::<Vec<_>>().join("."));
            }
            parts.push(s);
        }
        id = n.parent;
    }
    parts.reverse();
    parts.join(" > ")
}
