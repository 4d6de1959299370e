//! Pass 1, pruning: per-element facts (tag class, attribute flags, name hint) and which
//! elements are dropped with their subtree, then the kept text and link text of every node.
//!
//! Three walks over the tree: bottom-up over the raw page ([`measure`]), top-down deciding what
//! is dropped ([`prune`]), bottom-up again counting what is left ([`count_kept`]).

use crate::dom::{Dom, Kind, NodeId, NONE};

use super::element::{
    is_dropped_tag, is_link, scan_attrs, tag_bits, ARTICLE_BODY, COMMENT, HIDDEN, LEAD,
    ROLE_BOILERPLATE,
};
use super::names::{name_hint, NameCache};
use super::options::{Options, Tuning, R_H1_BOX, R_LEAD_BEATS_WEAK};
use super::text::count_visible;

/// Smallest text (in characters) of a content-named element for it to count as holding the
/// article (which protects its ancestors from pruning by name).
const HOLDS_MAIN_MIN_CHARS: u32 = 250;

/// Largest text (in characters) of a lead-named element; a bigger one is not a standfirst.
const LEAD_MAX_CHARS: u32 = 1000;

/// Smallest text (in characters) of a `<noscript>` that is kept: some sites put the article's
/// text there for crawlers, smaller ones say "enable JavaScript".
const NOSCRIPT_MIN_CHARS: u32 = 500;

/// Share of the page's text from which an element with a strong boilerplate name (or a
/// landmark role) is kept all the same: a page-wide wrapper named `content-sidebar-wrap`.
const STRONG_KEEP_BODY_SHARE: f64 = 0.6;

/// Per-node facts computed by the pruning pass.
pub(super) struct Facts {
    /// Tag class bits of each element ([`T_BLOCK`](super::element::T_BLOCK)...), so the hot
    /// walk does no string compares.
    pub(super) bits: Vec<u8>,
    /// Attribute flags of each element ([`HIDDEN`], [`HREF`](super::element::HREF)...).
    pub(super) flags: Vec<u8>,
    /// Dropped (with its subtree).
    pub(super) dropped: Vec<bool>,
    /// Name hint of each element: -1 boilerplate, +1 content, 0 neither.
    pub(super) hint: Vec<i8>,
    /// Non-whitespace text characters in the kept subtree.
    pub(super) text_chars: Vec<u32>,
    /// Of which inside links.
    pub(super) link_chars: Vec<u32>,
}

impl Facts {
    /// Share of a node's kept text that is link text (0 for a node without text).
    pub(super) fn link_density(&self, id: NodeId) -> f32 {
        let t = self.text_chars[id as usize];
        if t == 0 {
            0.0
        } else {
            self.link_chars[id as usize] as f32 / t as f32
        }
    }
}

/// What the first walk learns from the raw page, before anything is dropped.
struct Raw {
    /// Name hint score of each element.
    hint: Vec<i8>,
    /// Non-whitespace text characters of the subtree (scripts, styles, templates, `<head>` count
    /// nothing).
    chars: Vec<u32>,
    /// The subtree holds the article: `<article>`, `<main>`, `itemprop=articleBody` or a
    /// content-named element with text.
    holds_main: Vec<bool>,
    /// The subtree holds an `<h1>`.
    has_h1: Vec<bool>,
    /// A strong boilerplate name.
    strong: Vec<bool>,
    /// Attribute flags.
    flags: Vec<u8>,
    /// Tag class bits.
    bits: Vec<u8>,
}

/// Runs the pruning pass. `relaxed` (for the fallback) drops only what is never visible
/// (scripts, form controls, hidden elements...), not boilerplate by tag or name.
pub(super) fn compute_facts(dom: &Dom, opts: &Options, relaxed: bool) -> Facts {
    let order = document_order(dom);
    let mut raw = measure(dom, &order, opts);
    let dropped = prune(dom, &order, &mut raw, &opts.tuning, relaxed);
    let (text_chars, link_chars) = count_kept(dom, &order, &dropped, &raw);
    Facts {
        bits: raw.bits,
        flags: raw.flags,
        dropped,
        hint: raw.hint,
        text_chars,
        link_chars,
    }
}

/// All node ids in document order (parents before children).
fn document_order(dom: &Dom) -> Vec<NodeId> {
    let mut order = Vec::with_capacity(dom.nodes.len());
    let mut stack = vec![0 as NodeId];
    while let Some(id) = stack.pop() {
        order.push(id);
        let mut c = dom.node(id).last_child;
        while c != NONE {
            stack.push(c);
            c = dom.node(c).prev;
        }
    }
    order
}

/// Bottom-up over the raw page: text sizes, name hints, attribute flags, and which subtrees hold
/// the article or an `<h1>`.
fn measure(dom: &Dom, order: &[NodeId], opts: &Options) -> Raw {
    let tuning = &opts.tuning;
    let n = dom.nodes.len();
    // Local vectors, gathered into `Raw` at the end: the hot loop keeps their pointers in
    // registers (as fields of one struct, this pass took 2% more instructions: callgrind).
    let mut hint = vec![0i8; n];
    let mut raw_chars = vec![0u32; n];
    let mut holds_main = vec![false; n];
    let mut has_h1 = vec![false; n];
    let mut strong = vec![false; n];
    let mut flags = vec![0u8; n];
    let mut bits = vec![0u8; n];
    let mut name_cache = NameCache::default();
    for &id in order.iter().rev() {
        let i = id as usize;
        let node = dom.node(id);
        let mut chars = 0u32;
        let mut main = false;
        let mut h1 = false;
        match &node.kind {
            Kind::Text(t) => {
                chars = count_visible(t);
            }
            Kind::Element { name, .. } => {
                let tag: &str = name;
                if matches!(tag, "script" | "style" | "template" | "head") {
                    raw_chars[i] = 0;
                    continue;
                }
                bits[i] = tag_bits(tag);
                let a = scan_attrs(node);
                let mut h = name_hint(a.class, a.id, &mut name_cache);
                // A comment section is boilerplate unless comments are asked for.
                let comment = h.comment && !h.strong_neg && opts.include_comments;
                h.strong_neg |= h.comment && !opts.include_comments;
                // A kept comment section is not pruned for its name; the scoring pass keeps
                // it out of the main content (`COMMENT` flag).
                h.comment &= !opts.include_comments;
                // A lead paragraph is text even when its name also says `header` or `teaser`.
                if h.lead && !h.strong_neg && tuning.on(R_LEAD_BEATS_WEAK) {
                    h.weak_neg = false;
                }
                hint[i] = h.score();
                strong[i] = h.strong_neg;
                flags[i] = a.flags;
                if comment {
                    flags[i] |= COMMENT;
                }
                if h.lead && !h.strong_neg && !h.weak_neg {
                    flags[i] |= LEAD;
                }
                for c in dom.children(id) {
                    chars = chars.saturating_add(raw_chars[c as usize]);
                    main |= holds_main[c as usize];
                    h1 |= has_h1[c as usize];
                }
                h1 |= tag == "h1";
                // A content name on a small element (a `post-likes` widget inside a share
                // bar) does not make its boilerplate-named ancestors hold the article.
                main |= matches!(tag, "article" | "main")
                    || a.flags & ARTICLE_BODY != 0
                    || (h.pos && !h.strong_neg && chars >= HOLDS_MAIN_MIN_CHARS);
            }
            _ => {
                for c in dom.children(id) {
                    chars = chars.saturating_add(raw_chars[c as usize]);
                    main |= holds_main[c as usize];
                }
            }
        }
        raw_chars[i] = chars;
        holds_main[i] = main;
        has_h1[i] = h1;
    }
    Raw {
        hint,
        chars: raw_chars,
        holds_main,
        has_h1,
        strong,
        flags,
        bits,
    }
}

/// Top-down: which elements are dropped (a dropped element's subtree goes with it). Also
/// spreads the [`LEAD`] flag down into small lead-named elements.
fn prune(dom: &Dom, order: &[NodeId], raw: &mut Raw, tuning: &Tuning, relaxed: bool) -> Vec<bool> {
    let body_chars = dom
        .find_first("body")
        .map_or(raw.chars[0], |b| raw.chars[b as usize])
        .max(1);
    let mut dropped = vec![false; dom.nodes.len()];
    for &id in order {
        let i = id as usize;
        let node = dom.node(id);
        let parent = node.parent;
        if parent != NONE && dropped[parent as usize] {
            dropped[i] = true;
            continue;
        }
        let Kind::Element { name, .. } = &node.kind else {
            continue;
        };
        let tag: &str = name;
        if matches!(tag, "html" | "body") {
            continue;
        }
        dropped[i] = if relaxed {
            (is_dropped_tag(tag) && !is_boilerplate_tag(tag)) || raw.flags[i] & HIDDEN != 0
        } else {
            drops(tag, i, raw, body_chars, tuning)
        };
        // Inside a kept comment section.
        if parent != NONE && raw.flags[parent as usize] & COMMENT != 0 {
            raw.flags[i] |= COMMENT;
        }
        // Inside a small lead-named element.
        if parent != NONE && raw.flags[parent as usize] & LEAD != 0 {
            raw.flags[i] |= LEAD;
        }
        if raw.chars[i] > LEAD_MAX_CHARS {
            raw.flags[i] &= !LEAD;
        }
    }
    dropped
}

/// Whether element `i` (tag `tag`, not `<html>` or `<body>`, its parent kept) is dropped.
fn drops(tag: &str, i: usize, raw: &Raw, body_chars: u32, tuning: &Tuning) -> bool {
    let chars = raw.chars[i];
    if tag == "noscript" {
        chars < NOSCRIPT_MIN_CHARS
    } else if is_dropped_tag(tag) || raw.flags[i] & HIDDEN != 0 {
        // A `<nav>` or `<footer>` that wraps the whole article is a markup mistake.
        !(matches!(tag, "nav" | "aside" | "footer" | "menu")
            && raw.holds_main[i]
            && more_than_half(chars, body_chars))
    } else if raw.strong[i] || raw.flags[i] & ROLE_BOILERPLATE != 0 {
        !raw.holds_main[i] && (chars as f64) < STRONG_KEEP_BODY_SHARE * body_chars as f64
    } else if raw.hint[i] < 0 {
        // Weak names (byline, widget) are dropped only when small: broken markup sometimes
        // wraps the whole article in one. A quotation is text, whatever its name (embedded
        // posts are `<blockquote class="twitter-tweet">`).
        !raw.holds_main[i]
            && chars < tuning.weak_max_chars
            && tag != "blockquote"
            // The post's own headline lives in it (a small post box named `top`).
            && !(raw.has_h1[i] && tuning.on(R_H1_BOX))
    } else {
        false
    }
}

/// Tags dropped as boilerplate (visible, but not the article).
fn is_boilerplate_tag(tag: &str) -> bool {
    matches!(tag, "nav" | "aside" | "footer" | "menu" | "figcaption")
}

/// Whether `part` is more than half of `whole`.
fn more_than_half(part: u32, whole: u32) -> bool {
    u64::from(part) * 2 > u64::from(whole)
}

/// Bottom-up over the kept tree: text and link text of every node.
fn count_kept(dom: &Dom, order: &[NodeId], dropped: &[bool], raw: &Raw) -> (Vec<u32>, Vec<u32>) {
    let n = dom.nodes.len();
    let mut text_chars = vec![0u32; n];
    let mut link_chars = vec![0u32; n];
    for &id in order.iter().rev() {
        let i = id as usize;
        if dropped[i] {
            continue;
        }
        let node = dom.node(id);
        if let Kind::Text(_) = &node.kind {
            text_chars[i] = raw.chars[i];
            continue;
        }
        let (mut t, mut l) = (0u32, 0u32);
        for c in dom.children(id) {
            t = t.saturating_add(text_chars[c as usize]);
            l = l.saturating_add(link_chars[c as usize]);
        }
        if let Kind::Element { name, .. } = &node.kind {
            if &**name == "a" && is_link(raw.flags[i], t) {
                l = t;
            }
        }
        text_chars[i] = t;
        link_chars[i] = l;
    }
    (text_chars, link_chars)
}
