//! Main-content extraction: from a parsed page to the article text, boilerplate removed.
//!
//! The algorithm, in four passes over the [`Dom`]:
//!
//! 1. **Pruning.** Elements that never hold main text are dropped with their subtree: scripts,
//!    styles, forms controls, `<nav>`, `<aside>`, `<footer>`, hidden elements, and elements
//!    whose `class`/`id`/`role` name a boilerplate part (comments, share bars, cookie notices,
//!    sidebars, related links, menus...). An element that contains the article (`<article>`,
//!    `<main>`, a content-named element) is never dropped for its name, because site-wide
//!    wrappers often carry names like `content-sidebar-wrap`.
//! 2. **Blocks.** The remaining tree is cut into text blocks at block-level elements; each block
//!    knows its text, how much of it is link text, and its owner element.
//! 3. **Scoring.** Paragraph-like blocks give points (for their length and commas) to their
//!    ancestors, fading with distance, as in Arc90's Readability; an element's score is scaled
//!    by its non-link share. The best element and those of its siblings that score well or hold
//!    plain prose form the main content.
//! 4. **Selection.** Blocks inside the main content are kept unless they are mostly links;
//!    blocks outside it are kept only when they read as prose on their own (long, few links,
//!    sentence punctuation) — the union of a container strategy and a block-classifier
//!    strategy, which keeps the text of table layouts and multi-part pages that a single
//!    container misses. Blocks with few links inside an element of the main container's tag
//!    and class join too: an article cut into several `story-text` parts by ads between them.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};

use html5ever::local_name;

use crate::dom::{Dom, Kind, NodeId, NONE};

/// Whether a short line is a picture credit or caption label ("Photo: AP", "Quelle: dpa").
fn is_credit_line(text: &str) -> bool {
    if text.len() > 200 {
        return false;
    }
    let head: String = text.chars().take(24).collect::<String>().to_lowercase();
    let Some(colon) = head.find(':') else {
        return false;
    };
    let label = head[..colon].trim();
    let label = label.trim_end_matches(|c: char| c.is_ascii_digit() || c == ' ' || c == '.');
    matches!(
        label,
        "photo"
            | "photos"
            | "image"
            | "images"
            | "picture"
            | "source"
            | "credit"
            | "credits"
            | "figure"
            | "fig"
            | "foto"
            | "fotos"
            | "bild"
            | "bilder"
            | "titelbild"
            | "quelle"
            | "quellen"
            | "bildquelle"
            | "abbildung"
            | "abb"
            | "crédit"
            | "crédits"
            | "fuente"
            | "imagen"
            | "źródło"
            | "zdjęcie"
            | "fot"
    )
}

/// What the extractor found in a page.
#[derive(Debug, Default, Clone)]
pub struct Extracted {
    /// Main text: one paragraph (or heading, list item, table row) per line.
    pub text: String,
    /// `<title>` / `og:title` / first `<h1>`.
    pub title: Option<String>,
    /// Author from meta tags or JSON-LD.
    pub author: Option<String>,
    /// Publication date as written in the page (meta tags, JSON-LD, `<time>`).
    pub date: Option<String>,
    /// Canonical URL (`<link rel=canonical>` or `og:url`).
    pub canonical_url: Option<String>,
    /// `<html lang>` when present.
    pub lang: Option<String>,
}

/// Extraction options.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Keep prose blocks found outside the main container (see the module doc).
    pub union_outside_prose: bool,
    /// How far above the main container (in tree levels) the common ancestor of an outside
    /// prose block and the container may be: teasers of other articles live far away in the
    /// tree, the rest of a split article close by.
    pub union_max_levels: u32,
    /// Share of the page's prose in the main container above which `union_max_levels` applies;
    /// below it, prose blocks anywhere join.
    pub union_dominant_share: f32,
    /// Keep table cells (data tables in articles); layout tables are kept either way when they
    /// are the content.
    pub include_tables: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            union_outside_prose: true,
            union_max_levels: 2,
            union_dominant_share: 0.35,
            include_tables: true,
        }
    }
}

/// The kind of a text block, for scoring and output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BlockKind {
    Para,
    Heading,
    Item,
    Cell,
    Pre,
}

#[derive(Debug)]
struct Block {
    text: String,
    chars: u32,
    link_chars: u32,
    kind: BlockKind,
    /// Innermost block-level element holding the text.
    owner: NodeId,
    /// Table row for cells (cells of a row are joined on one line).
    row: NodeId,
}

/// Elements whose subtree never holds main text.
fn is_dropped_tag(tag: &str) -> bool {
    matches!(
        tag,
        "script"
            | "style"
            | "template"
            | "svg"
            | "math"
            | "iframe"
            | "object"
            | "embed"
            | "canvas"
            | "select"
            | "option"
            | "button"
            | "input"
            | "textarea"
            | "head"
            | "nav"
            | "aside"
            | "footer"
            | "menu"
            | "dialog"
            | "map"
            | "audio"
            | "video"
            | "link"
            | "meta"
            | "title"
            | "figcaption"
    )
}

/// Block-level elements: they end the current text block.
fn is_block_tag(tag: &str) -> bool {
    matches!(
        tag,
        "p" | "div"
            | "section"
            | "article"
            | "main"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "li"
            | "ul"
            | "ol"
            | "dl"
            | "dt"
            | "dd"
            | "table"
            | "tbody"
            | "thead"
            | "tfoot"
            | "tr"
            | "td"
            | "th"
            | "caption"
            | "pre"
            | "blockquote"
            | "figure"
            | "figcaption"
            | "form"
            | "fieldset"
            | "address"
            | "center"
            | "header"
            | "hr"
            | "details"
            | "summary"
            | "body"
            | "html"
            | "legend"
            | "frameset"
            | "frame"
    )
}

/// Tag class bits, computed once per element.
const T_BLOCK: u8 = 1;
const T_HEADING: u8 = 2;
const T_ITEM: u8 = 4;
const T_CELL: u8 = 8;
const T_PRE: u8 = 16;
const T_BR: u8 = 32;
const T_A: u8 = 64;
const T_TR: u8 = 128;

fn tag_bits(tag: &str) -> u8 {
    let extra = match tag {
        "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => T_HEADING,
        "li" | "dt" | "dd" => T_ITEM,
        "td" | "th" => T_CELL,
        "pre" => T_PRE,
        "br" => return T_BR,
        "a" => return T_A,
        "tr" => T_TR,
        _ => 0,
    };
    if is_block_tag(tag) {
        T_BLOCK | extra
    } else {
        extra
    }
}

/// Words in class/id names that mark boilerplate whatever its size, matched as a prefix of a
/// name token.
const STRONG_PREFIX: &[&str] = &[
    "comment",
    "disqus",
    "sidebar",
    "social",
    "sharing",
    "sharebar",
    "sharedaddy",
    "newsletter",
    "subscri",
    "cookie",
    "consent",
    "gdpr",
    "breadcrumb",
    "navbar",
    "navigation",
    "menu",
    "footer",
    "advert",
    "sponsor",
    "promo",
    "popup",
    "pagination",
    "pager",
    "outbrain",
    "taboola",
    "recommend",
    "related",
    "signup",
    "login",
    "tagcloud",
    "skiplink",
    "livefyre",
    "shoutbox",
    "trackback",
    "socialmedia",
];
/// Strong boilerplate words matched only as a whole name token (too short to be safe prefixes).
const STRONG_EXACT: &[&str] = &[
    "ad", "ads", "nav", "share", "shares", "subnav", "topnav", "modal", "overlay", "respond",
    "crumbs", "combx", "aside",
];
/// Words that mark small page parts (bylines, widgets, captions): boilerplate when the element
/// is small, but sometimes (broken markup) they wrap the article itself.
const WEAK_PREFIX: &[&str] = &[
    "byline",
    "dateline",
    "timestamp",
    "widget",
    "banner",
    "toolbar",
    "masthead",
    "copyright",
];
/// Weak boilerplate words matched only as a whole name token.
const WEAK_EXACT: &[&str] = &[
    "tags",
    "tag",
    "header",
    "meta",
    "hidden",
    "print",
    "links",
    "rss",
    "author",
    "date",
    "hide",
    "noprint",
    "extra",
    "more",
    "top",
    "caption",
    "credit",
    "credits",
    "follow",
    "email",
    "tweet",
    "facebook",
    "twitter",
    "foot",
    "teaser",
    "teasers",
    "most",
    "popular",
    "trending",
    "contact",
    "sronly",
    "visuallyhidden",
];
/// Words that mark the article, matched as a prefix of a name token.
const POS_PREFIX: &[&str] = &[
    "article", "content", "entry", "post", "story", "main", "body", "text", "blog", "hentry",
    "prose", "news", "page",
];

/// Name hints of an element.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Hint {
    /// A strong boilerplate name (comments, share bars, menus...).
    strong_neg: bool,
    /// A weak boilerplate name (byline, widget...).
    weak_neg: bool,
    /// A content name.
    pos: bool,
    /// A lead/standfirst name (`lead`, `intro`, `standfirst`...).
    lead: bool,
}

impl Hint {
    /// -1 for a boilerplate name, +1 for a content name, 0 otherwise (negative wins: a
    /// `comment-content` is a comment).
    fn score(self) -> i8 {
        if self.strong_neg || self.weak_neg {
            -1
        } else {
            i8::from(self.pos)
        }
    }
}

/// The per-page cache of classified class/id tokens.
type TokCache<'a> = HashMap<&'a str, u8, TokHasherBuilder>;

/// A multiply-rotate hasher for the token cache: class tokens are short and hashed once per
/// element, where SipHash was a fifth of the facts pass. Seeded once per process at random, so
/// a page cannot be built to make its tokens collide.
#[derive(Clone, Copy)]
struct TokHasherBuilder(u64);

impl Default for TokHasherBuilder {
    fn default() -> Self {
        static SEED: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
        TokHasherBuilder(*SEED.get_or_init(|| {
            std::collections::hash_map::RandomState::new().hash_one(0x7468_7265_7368_6572u64)
        }))
    }
}

impl BuildHasher for TokHasherBuilder {
    type Hasher = TokHasher;
    fn build_hasher(&self) -> TokHasher {
        TokHasher(self.0)
    }
}

struct TokHasher(u64);

const TOK_HASH_K: u64 = 0x517c_c1b7_2722_0a95;

impl Hasher for TokHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut h = self.0;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
            h = (h.rotate_left(5) ^ w).wrapping_mul(TOK_HASH_K);
        }
        let r = chunks.remainder();
        if !r.is_empty() {
            let mut buf = [0u8; 8];
            buf[..r.len()].copy_from_slice(r);
            h = (h.rotate_left(5) ^ u64::from_le_bytes(buf)).wrapping_mul(TOK_HASH_K);
        }
        self.0 = h;
    }
    fn write_u8(&mut self, i: u8) {
        self.0 = (self.0.rotate_left(5) ^ u64::from(i)).wrapping_mul(TOK_HASH_K);
    }
    fn finish(&self) -> u64 {
        // Mix the high bits down: the table indexes by the low bits.
        let h = self.0;
        h ^ (h >> 29) ^ (h >> 47)
    }
}

/// Per-page caches of name hints: whole `class`/`id` values (the same value repeats on every
/// item of a list or menu, so most elements cost one lookup), then single tokens.
#[derive(Default)]
struct NameCache<'a> {
    values: HashMap<&'a str, u8, TokHasherBuilder>,
    tokens: TokCache<'a>,
}

/// Hint bits of one `class` or `id` value.
const H_STRONG: u8 = 1;
const H_WEAK: u8 = 2;
const H_POS: u8 = 4;
const H_LEAD: u8 = 8;

fn name_hint<'a>(class: &'a str, id: &'a str, cache: &mut NameCache<'a>) -> Hint {
    let mut bits = 0;
    for src in [class, id] {
        if src.is_empty() {
            continue;
        }
        bits |= match cache.values.get(src) {
            Some(&b) => b,
            None => {
                let b = value_hint_bits(src, &mut cache.tokens);
                cache.values.insert(src, b);
                b
            }
        };
    }
    Hint {
        strong_neg: bits & H_STRONG != 0,
        weak_neg: bits & H_WEAK != 0,
        pos: bits & H_POS != 0,
        lead: bits & H_LEAD != 0,
    }
}

fn value_hint_bits<'a>(src: &'a str, cache: &mut TokCache<'a>) -> u8 {
    let mut bits = 0;
    if src.contains("sr-only") || src.contains("screen-reader") {
        bits |= H_STRONG;
    }
    let mut prev = "";
    for tok in src
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|t| t.len() >= 2)
    {
        let after_label = prev == "label";
        prev = tok;
        // `field-label-hidden` (Drupal) hides a field's label, not the field.
        if after_label && tok == "hidden" {
            continue;
        }
        // Class names repeat across a page: classify each distinct token once.
        let class = *cache.entry(tok).or_insert_with(|| classify_token(tok));
        bits |= match class {
            TOK_STRONG => H_STRONG,
            TOK_WEAK => H_WEAK,
            TOK_POS => H_POS,
            TOK_LEAD => H_LEAD,
            _ => 0,
        };
    }
    bits
}

const TOK_NONE: u8 = 0;
const TOK_POS: u8 = 1;
const TOK_WEAK: u8 = 2;
const TOK_STRONG: u8 = 3;
const TOK_LEAD: u8 = 4;

/// Words that name the lead paragraph of an article (standfirst, intro, chapo), matched as a
/// whole name token or (`intro`) as a prefix.
const LEAD_EXACT: &[&str] = &[
    "lead",
    "leadtext",
    "standfirst",
    "chapo",
    "chapeau",
    "bajada",
    "lede",
    "abstract",
];

fn classify_token(tok: &str) -> u8 {
    let lower;
    let t = if tok.bytes().any(|b| b.is_ascii_uppercase()) {
        lower = tok.to_ascii_lowercase();
        lower.as_str()
    } else {
        tok
    };
    if STRONG_EXACT.contains(&t) || STRONG_PREFIX.iter().any(|p| t.starts_with(p)) {
        TOK_STRONG
    } else if WEAK_EXACT.contains(&t)
        || WEAK_PREFIX.iter().any(|p| t.starts_with(p))
        // `textwidget`, `sidebarwidget`: a widget whatever word it is glued to.
        || t.contains("widget")
    {
        TOK_WEAK
    } else if LEAD_EXACT.contains(&t) || t.starts_with("intro") {
        TOK_LEAD
    } else if POS_PREFIX.iter().any(|p| t.starts_with(p)) {
        TOK_POS
    } else {
        TOK_NONE
    }
}

/// Whether a (dropped) element is the start of a comment section, by its name.
fn is_comment_section(node: &crate::dom::Node) -> bool {
    // A "Comments" link next to the byline points to the comments; it does not start them.
    if node.tag().is_some_and(|t| &**t == "a") {
        return false;
    }
    let named = |v: Option<&str>| {
        v.is_some_and(|v| {
            v.split(|c: char| !c.is_ascii_alphanumeric()).any(|t| {
                let t = t.to_ascii_lowercase();
                t == "comments"
                    || t == "comment"
                    || t == "respond"
                    || t == "disqus"
                    || t == "discussion"
                    || t.starts_with("commentlist")
                    || t.starts_with("comments")
                    || t == "replies"
            })
        })
    };
    named(node.attr("id")) || named(node.attr("class"))
}

/// Whether a heading announces comments ("12 Comments", "Leave a Reply", "Responses to ...").
fn is_comment_heading(text: &str) -> bool {
    if text.chars().count() > 60 {
        return false;
    }
    let t = text.to_lowercase();
    let t = t.trim_start_matches(|c: char| c.is_ascii_digit() || c.is_whitespace() || c == '(');
    [
        "comment",
        "responses",
        "response to",
        "replies",
        "leave a reply",
        "leave a comment",
        "reader comments",
        "discussion",
        "what others",
        "post a comment",
        "add a comment",
        "kommentar",
        "commentaires",
        "comentarios",
        "komentarze",
    ]
    .iter()
    .any(|p| {
        t.starts_with(p)
            // "Commentary on ..." is an article section.
            && !(*p == "comment" && t[p.len()..].starts_with(|c: char| c.is_alphabetic() && c != 's'))
    })
}

/// Whether an `<a>` is a link for link density: it has an `href`, and it is not a broken
/// unclosed anchor that swallowed the page (old pages leave `<a name=top>` open, and parsers
/// then nest everything in it).
fn is_link(flags: u8, text_chars: u32) -> bool {
    flags & HREF != 0 && text_chars <= 1500
}

/// Element flags from its attributes.
const HIDDEN: u8 = 1;
const ROLE_BOILERPLATE: u8 = 2;
const HREF: u8 = 4;
const ARTICLE_BODY: u8 = 8;
const LEAD: u8 = 16;

/// Largest text (in characters) of a lead-named element.
const LEAD_MAX_CHARS: u32 = 1000;

/// The attributes the extractor looks at, gathered in one scan of the element's attributes.
struct Attrs<'a> {
    class: &'a str,
    id: &'a str,
    flags: u8,
}

fn scan_attrs(node: &crate::dom::Node) -> Attrs<'_> {
    let mut a = Attrs {
        class: "",
        id: "",
        flags: 0,
    };
    let Kind::Element { attrs, .. } = &node.kind else {
        return a;
    };
    // Names are atoms: comparing them is comparing two words, not two strings.
    for attr in attrs {
        let (k, v): (&html5ever::LocalName, &str) = (&attr.name.local, &attr.value);
        if *k == local_name!("class") {
            a.class = v;
        } else if *k == local_name!("id") {
            a.id = v;
        } else if *k == local_name!("href") {
            a.flags |= HREF;
        } else if *k == local_name!("hidden") {
            a.flags |= HIDDEN;
        } else if *k == local_name!("aria-hidden") {
            if v.trim().eq_ignore_ascii_case("true") {
                a.flags |= HIDDEN;
            }
        } else if *k == local_name!("style") {
            if style_hides(v) {
                a.flags |= HIDDEN;
            }
        } else if *k == local_name!("role") {
            if role_is_boilerplate(v) {
                a.flags |= ROLE_BOILERPLATE;
            }
        } else if *k == local_name!("itemprop") && v.contains("articleBody") {
            a.flags |= ARTICLE_BODY;
        }
    }
    a
}

fn style_hides(style: &str) -> bool {
    if !style.contains("none") && !style.contains("hidden") {
        return false;
    }
    let s: String = style
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    s.contains("display:none") || s.contains("visibility:hidden")
}

/// Blocks inside the main content with a larger share of link text are dropped (link lists
/// inside articles: "read more", tag lists). Measured on the shared gold sets: 0.35 loses
/// article text, 0.5 to 0.85 are within 0.002 F1 of each other.
const MAIN_MAX_LINK_DENSITY: f32 = 0.7;

/// Smallest text (in characters) of a content-named element for it to count as holding the
/// article (which protects its ancestors from pruning by name).
const HOLDS_MAIN_MIN_CHARS: u32 = 250;

/// Smallest kept text (in characters) for a short label before a link list to be dropped.
const LINK_LABEL_MIN_KEPT: u32 = 500;

/// Levels above a block's owner searched for an element of the main container's tag and class.
const SAME_CLASS_MAX_LEVELS: u32 = 3;

/// Levels above the main container within which a lead paragraph outside it joins.
const LEAD_MAX_LEVELS: u32 = 3;

/// The same, for a lead paragraph that comes before the main container's text (a standfirst in
/// a page header far up the tree; one after the article is an advert's).
const LEAD_FAR_MAX_LEVELS: u32 = 6;

/// Smallest text (in characters) of a `<noscript>` that is kept.
const NOSCRIPT_MIN_CHARS: u32 = 500;

/// Largest text (in characters) of an element with a weak boilerplate name that is dropped.
const WEAK_MAX_CHARS: u32 = 300;

fn role_is_boilerplate(role: &str) -> bool {
    let r = role.trim();
    [
        "navigation",
        "banner",
        "contentinfo",
        "complementary",
        "search",
        "menu",
        "menubar",
        "dialog",
        "alert",
    ]
    .iter()
    .any(|x| r.eq_ignore_ascii_case(x))
}

/// Per-node facts computed by the passes.
struct Facts {
    /// Tag class bits of each element ([`T_BLOCK`]...), so the hot walk does no string compares.
    bits: Vec<u8>,
    /// Attribute flags of each element ([`HIDDEN`], [`HREF`]...).
    flags: Vec<u8>,
    /// Dropped (with its subtree).
    dropped: Vec<bool>,
    /// Name hint of each element.
    hint: Vec<i8>,
    /// Non-whitespace text characters in the kept subtree.
    text_chars: Vec<u32>,
    /// Of which inside links.
    link_chars: Vec<u32>,
}

fn compute_facts(dom: &Dom) -> Facts {
    let n = dom.nodes.len();
    let mut order = Vec::with_capacity(n);
    let mut stack = vec![0 as NodeId];
    while let Some(id) = stack.pop() {
        order.push(id);
        let mut c = dom.node(id).last_child;
        while c != NONE {
            stack.push(c);
            c = dom.node(c).prev;
        }
    }
    let mut hint = vec![0i8; n];
    // Raw text and "holds the article" flags, bottom-up, before any pruning.
    let mut raw_chars = vec![0u32; n];
    let mut holds_main = vec![false; n];
    let mut has_h1 = vec![false; n];
    let mut strong = vec![false; n];
    let mut flags = vec![0u8; n];
    let mut bits = vec![0u8; n];
    let mut name_cache = NameCache::default();
    for &id in order.iter().rev() {
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
                    raw_chars[id as usize] = 0;
                    continue;
                }
                bits[id as usize] = tag_bits(tag);
                let a = scan_attrs(node);
                let mut h = name_hint(a.class, a.id, &mut name_cache);
                // A lead paragraph is text even when its name also says `header` or `teaser`.
                if h.lead && !h.strong_neg {
                    h.weak_neg = false;
                }
                hint[id as usize] = h.score();
                strong[id as usize] = h.strong_neg;
                flags[id as usize] = a.flags;
                if h.lead && !h.strong_neg && !h.weak_neg {
                    flags[id as usize] |= LEAD;
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
        raw_chars[id as usize] = chars;
        holds_main[id as usize] = main;
        has_h1[id as usize] = h1;
    }
    let body_chars = dom
        .find_first("body")
        .map_or(raw_chars[0], |b| raw_chars[b as usize])
        .max(1);
    // Top-down pruning.
    let mut dropped = vec![false; n];
    for &id in &order {
        let node = dom.node(id);
        let parent = node.parent;
        if parent != NONE && dropped[parent as usize] {
            dropped[id as usize] = true;
            continue;
        }
        let Kind::Element { name, .. } = &node.kind else {
            continue;
        };
        let tag: &str = name;
        if matches!(tag, "html" | "body") {
            continue;
        }
        let drop = if tag == "noscript" {
            // Some sites render the article with a script and put the same text in
            // `<noscript>` for crawlers; small ones say "enable JavaScript".
            raw_chars[id as usize] < NOSCRIPT_MIN_CHARS
        } else if is_dropped_tag(tag) || flags[id as usize] & HIDDEN != 0 {
            // A `<nav>` or `<footer>` that wraps the whole article is a markup mistake.
            !(matches!(tag, "nav" | "aside" | "footer" | "menu")
                && holds_main[id as usize]
                && raw_chars[id as usize] * 2 > body_chars)
        } else if strong[id as usize] || flags[id as usize] & ROLE_BOILERPLATE != 0 {
            !holds_main[id as usize] && (raw_chars[id as usize] as f64) < 0.6 * body_chars as f64
        } else if hint[id as usize] < 0 {
            // Weak names (byline, widget) are dropped only when small: broken markup sometimes
            // wraps the whole article in one. A quotation is text, whatever its name (embedded
            // posts are `<blockquote class="twitter-tweet">`).
            !holds_main[id as usize]
                && raw_chars[id as usize] < WEAK_MAX_CHARS
                && tag != "blockquote"
                // The post's own headline lives in it (a small post box named `top`).
                && !has_h1[id as usize]
        } else {
            false
        };
        dropped[id as usize] = drop;
        // Inside a small lead-named element.
        if parent != NONE && flags[parent as usize] & LEAD != 0 {
            flags[id as usize] |= LEAD;
        }
        if raw_chars[id as usize] > LEAD_MAX_CHARS {
            flags[id as usize] &= !LEAD;
        }
    }
    // Kept text and link text, bottom-up.
    let mut text_chars = vec![0u32; n];
    let mut link_chars = vec![0u32; n];
    for &id in order.iter().rev() {
        if dropped[id as usize] {
            continue;
        }
        let node = dom.node(id);
        match &node.kind {
            Kind::Text(_) => text_chars[id as usize] = raw_chars[id as usize],
            Kind::Element { name, .. } => {
                let (mut t, mut l) = (0u32, 0u32);
                for c in dom.children(id) {
                    t = t.saturating_add(text_chars[c as usize]);
                    l = l.saturating_add(link_chars[c as usize]);
                }
                if &**name == "a" && is_link(flags[id as usize], t) {
                    l = t;
                }
                text_chars[id as usize] = t;
                link_chars[id as usize] = l;
            }
            _ => {
                let mut t = 0u32;
                let mut l = 0u32;
                for c in dom.children(id) {
                    t = t.saturating_add(text_chars[c as usize]);
                    l = l.saturating_add(link_chars[c as usize]);
                }
                text_chars[id as usize] = t;
                link_chars[id as usize] = l;
            }
        }
    }
    Facts {
        bits,
        flags,
        dropped,
        hint,
        text_chars,
        link_chars,
    }
}

/// Cuts the kept tree into text blocks, in document order.
/// Cuts the kept tree into text blocks, in document order, and notes where a comment section
/// starts (block indexes).
fn collect_blocks(dom: &Dom, facts: &Facts, opts: &Options) -> (Vec<Block>, Vec<usize>) {
    let mut markers = Vec::new();
    struct Cur {
        text: String,
        chars: u32,
        link_chars: u32,
        pending_space: bool,
    }
    let mut blocks = Vec::new();
    let mut cur = Cur {
        text: String::new(),
        chars: 0,
        link_chars: 0,
        pending_space: false,
    };
    // Stack entries: (node, exiting?).
    let mut stack: Vec<(NodeId, bool)> = vec![(0, false)];
    let mut owners: Vec<(NodeId, BlockKind)> = vec![(0, BlockKind::Para)];
    let mut rows: Vec<NodeId> = vec![NONE];
    let mut link_depth = 0u32;
    let mut pre_depth = 0u32;

    let flush = |cur: &mut Cur,
                 blocks: &mut Vec<Block>,
                 owners: &[(NodeId, BlockKind)],
                 rows: &[NodeId]| {
        let text = cur.text.trim_end();
        if cur.chars > 0 && !text.is_empty() {
            let (owner, kind) = owners.last().copied().unwrap_or((0, BlockKind::Para));
            blocks.push(Block {
                text: text.to_string(),
                chars: cur.chars,
                link_chars: cur.link_chars,
                kind,
                owner,
                row: if kind == BlockKind::Cell {
                    rows.last().copied().unwrap_or(NONE)
                } else {
                    NONE
                },
            });
        }
        cur.text.clear();
        cur.chars = 0;
        cur.link_chars = 0;
        cur.pending_space = false;
    };

    while let Some((id, exiting)) = stack.pop() {
        let node = dom.node(id);
        match &node.kind {
            Kind::Text(t) => {
                if pre_depth > 0 {
                    if cur.pending_space && !cur.text.is_empty() {
                        cur.text.push(' ');
                    }
                    cur.pending_space = false;
                    for c in t.chars() {
                        cur.text.push(if c == '\u{a0}' { ' ' } else { c });
                        if !c.is_whitespace() {
                            cur.chars += 1;
                            if link_depth > 0 {
                                cur.link_chars += 1;
                            }
                        }
                    }
                    continue;
                }
                if t.starts_with(char::is_whitespace) {
                    cur.pending_space = true;
                }
                for (k, w) in t.split_whitespace().enumerate() {
                    if (k > 0 || cur.pending_space)
                        && !cur.text.is_empty()
                        && !cur.text.ends_with('\n')
                    {
                        cur.text.push(' ');
                    }
                    cur.pending_space = false;
                    let n = push_word(&mut cur.text, w);
                    cur.chars += n;
                    if link_depth > 0 {
                        cur.link_chars += n;
                    }
                }
                if t.ends_with(char::is_whitespace) {
                    cur.pending_space = true;
                }
            }
            Kind::Element { .. } => {
                let bits = facts.bits[id as usize];
                if exiting {
                    if bits & T_BLOCK != 0 {
                        flush(&mut cur, &mut blocks, &owners, &rows);
                        owners.pop();
                        if bits & T_TR != 0 {
                            rows.pop();
                        }
                    }
                    if bits & T_A != 0
                        && is_link(facts.flags[id as usize], facts.text_chars[id as usize])
                    {
                        link_depth = link_depth.saturating_sub(1);
                    }
                    if bits & T_PRE != 0 {
                        pre_depth = pre_depth.saturating_sub(1);
                    }
                    continue;
                }
                if facts.dropped[id as usize] {
                    if is_comment_section(node) {
                        flush(&mut cur, &mut blocks, &owners, &rows);
                        markers.push(blocks.len());
                    }
                    continue;
                }
                if bits & T_BR != 0 {
                    if !cur.text.is_empty() && !cur.text.ends_with('\n') {
                        cur.text.push('\n');
                    }
                    cur.pending_space = false;
                    continue;
                }
                if !opts.include_tables && bits & T_CELL != 0 && facts.text_chars[id as usize] < 200
                {
                    continue;
                }
                if bits & T_A != 0
                    && is_link(facts.flags[id as usize], facts.text_chars[id as usize])
                {
                    link_depth += 1;
                }
                if bits & T_PRE != 0 {
                    pre_depth += 1;
                }
                if bits & T_BLOCK != 0 {
                    flush(&mut cur, &mut blocks, &owners, &rows);
                    let kind = if bits & T_HEADING != 0 {
                        BlockKind::Heading
                    } else if bits & T_ITEM != 0 {
                        BlockKind::Item
                    } else if bits & T_CELL != 0 {
                        BlockKind::Cell
                    } else if bits & T_PRE != 0 {
                        BlockKind::Pre
                    } else {
                        // A div or p inside a list item or cell keeps the item's kind.
                        match owners.last() {
                            Some((_, k @ (BlockKind::Item | BlockKind::Cell | BlockKind::Pre))) => {
                                *k
                            }
                            _ => BlockKind::Para,
                        }
                    };
                    owners.push((id, kind));
                    if bits & T_TR != 0 {
                        rows.push(id);
                    }
                }
                stack.push((id, true));
                let mut c = node.last_child;
                while c != NONE {
                    stack.push((c, false));
                    c = dom.node(c).prev;
                }
            }
            Kind::Document | Kind::Other => {
                let mut c = node.last_child;
                while c != NONE {
                    stack.push((c, false));
                    c = dom.node(c).prev;
                }
            }
        }
    }
    flush(&mut cur, &mut blocks, &owners, &rows);
    for (i, b) in blocks.iter().enumerate() {
        if b.kind == BlockKind::Heading && is_comment_heading(&b.text) {
            markers.push(i);
        }
    }
    markers.sort_unstable();
    (blocks, markers)
}

/// Appends a word without the invisible characters that browsers do not render (soft hyphens,
/// zero-width spaces, stray byte-order marks), which would otherwise split words; returns
/// its visible length.
fn push_word(out: &mut String, w: &str) -> u32 {
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

/// Characters that are not ASCII whitespace, counted from the bytes (a multi-byte character
/// counts once by its lead byte); the hot loop of the text passes, so no char decoding.
fn count_visible(s: &str) -> u32 {
    s.bytes()
        .filter(|&b| !b.is_ascii_whitespace() && (b & 0xC0) != 0x80)
        .count() as u32
}

fn count_commas(s: &str) -> u32 {
    s.chars()
        .filter(|c| matches!(c, ',' | '，' | '、' | '،' | '；' | ';'))
        .count() as u32
}

fn tag_base_score(tag: &str) -> f32 {
    match tag {
        "div" | "article" | "main" | "section" => 5.0,
        "pre" | "td" | "blockquote" => 3.0,
        "address" | "ol" | "ul" | "dl" | "dd" | "dt" | "li" | "form" => -3.0,
        "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "th" => -5.0,
        _ => 0.0,
    }
}

/// Runs the extraction on a parsed page.
pub fn extract(dom: &Dom, opts: &Options) -> Extracted {
    extract_inner(dom, opts, None)
}

/// Like [`extract`], and also describes each text block (kept or not, inside the main container
/// or not, its distance to it, link density, owner path) and each pruned element, one per line:
/// for debugging the rules, not for pipelines.
#[doc(hidden)]
pub fn extract_debug(dom: &Dom, opts: &Options) -> (Extracted, String) {
    let mut dbg = String::new();
    let out = extract_inner(dom, opts, Some(&mut dbg));
    (out, dbg)
}

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

fn extract_inner(dom: &Dom, opts: &Options, dbg: Option<&mut String>) -> Extracted {
    let facts = compute_facts(dom);
    let (blocks, markers) = collect_blocks(dom, &facts, opts);
    let mut dbg = dbg;
    if let Some(d) = dbg.as_deref_mut() {
        use std::fmt::Write;
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
                        t.chars().take(100).collect::<String>()
                    );
                }
            }
        }
    }
    let meta = crate::meta::read(dom);
    let mut out = Extracted {
        text: String::new(),
        title: meta.title,
        author: meta.author,
        date: meta.date,
        canonical_url: meta.canonical_url,
        lang: meta.lang,
    };
    if blocks.is_empty() {
        return out;
    }

    // Scoring: paragraph-like blocks give points to their ancestors.
    let n = dom.nodes.len();
    let mut score = vec![0f32; n];
    let mut scored = vec![false; n];
    let parent_of = |id: NodeId| dom.node(id).parent;
    let mut min_chars = 25;
    loop {
        for b in &blocks {
            if b.kind == BlockKind::Heading || b.chars < min_chars {
                continue;
            }
            let ld = b.link_chars as f32 / b.chars as f32;
            if ld > 0.5 {
                continue;
            }
            let points = 1.0 + count_commas(&b.text) as f32 + (b.chars as f32 / 100.0).min(3.0);
            let owner_tag = dom.node(b.owner).tag().map_or("", |t| t);
            let mut anc = if matches!(
                owner_tag,
                "div" | "article" | "section" | "main" | "body" | "td"
            ) {
                b.owner
            } else {
                parent_of(b.owner)
            };
            let mut level = 0u32;
            while anc != NONE && level < 5 {
                let node = dom.node(anc);
                if node.tag().is_none() {
                    break;
                }
                if !scored[anc as usize] {
                    scored[anc as usize] = true;
                    let tag = node.tag().map_or("", |t| t);
                    score[anc as usize] +=
                        tag_base_score(tag) + 25.0 * facts.hint[anc as usize] as f32;
                }
                let div = match level {
                    0 => 1.0,
                    1 => 2.0,
                    l => l as f32 * 3.0,
                };
                score[anc as usize] += points / div;
                anc = parent_of(anc);
                level += 1;
            }
        }
        // A page with only short text (a photo post, a one-line note): score the short
        // paragraphs too rather than keep nothing.
        if min_chars > 1 && !scored.iter().any(|&x| x) {
            min_chars = 1;
            continue;
        }
        break;
    }
    let link_density = |id: NodeId| {
        let t = facts.text_chars[id as usize];
        if t == 0 {
            0.0
        } else {
            facts.link_chars[id as usize] as f32 / t as f32
        }
    };
    let mut best = NONE;
    let mut best_score = f32::MIN;
    for (i, &s) in score.iter().enumerate() {
        if !scored[i] || facts.dropped[i] {
            continue;
        }
        let tag = dom.node(i as NodeId).tag().map_or("", |t| t);
        if matches!(tag, "html") {
            continue;
        }
        let f = s * (1.0 - link_density(i as NodeId));
        if f > best_score {
            best_score = f;
            best = i as NodeId;
        }
    }

    // The main content: the best element plus its siblings that score well or hold prose.
    let mut in_main = vec![false; n];
    let mut anc_level = vec![u32::MAX; n];
    if best != NONE {
        let parent = dom.node(best).parent;
        let threshold = (best_score * 0.2).max(10.0);
        let mut chosen = vec![best];
        if parent != NONE && dom.node(parent).tag().is_some() {
            for sib in dom.children(parent) {
                if sib == best || facts.dropped[sib as usize] {
                    continue;
                }
                let sib_node = dom.node(sib);
                let keep = if scored[sib as usize]
                    && score[sib as usize] * (1.0 - link_density(sib)) >= threshold
                {
                    true
                } else if matches!(sib_node.tag().map(|t| &**t), Some("p"))
                    || matches!(sib_node.kind, Kind::Text(_))
                {
                    let t = facts.text_chars[sib as usize];
                    let ld = link_density(sib);
                    (t > 80 && ld < 0.25) || (t > 0 && ld == 0.0 && dom.text_of(sib).contains(". "))
                } else {
                    false
                };
                if keep {
                    chosen.push(sib);
                }
            }
        }
        for root in chosen {
            mark_subtree(dom, root, &mut in_main);
        }
        // Distance of each ancestor of the main container from it, for the union's locality.
        let mut up = dom.node(best).parent;
        let mut level = 1u32;
        while up != NONE {
            anc_level[up as usize] = level;
            up = dom.node(up).parent;
            level += 1;
        }
    }
    // Levels from the main container up to the nearest common ancestor with a node.
    let lca_levels = |mut id: NodeId| {
        while id != NONE {
            if anc_level[id as usize] != u32::MAX {
                return anc_level[id as usize];
            }
            id = dom.node(id).parent;
        }
        u32::MAX
    };

    // Selection.
    let (best_tag, best_class) = if best == NONE {
        (None, None)
    } else {
        let node = dom.node(best);
        (
            node.tag(),
            node.attr("class").filter(|c| !c.trim().is_empty()),
        )
    };
    let total_chars: u32 = blocks.iter().map(|b| b.chars).sum();
    let mut keep = vec![false; blocks.len()];
    // How much of the page's prose the main container holds: when it holds most of it, prose
    // elsewhere is comments and teasers and only close-by blocks join; when it holds little
    // (table layouts, pages in several parts), prose anywhere joins.
    let (mut prose_in, mut prose_out) = (0u32, 0u32);
    for b in &blocks {
        let ld = b.link_chars as f32 / b.chars.max(1) as f32;
        if is_prose(b, ld) {
            if in_main[b.owner as usize] {
                prose_in += b.chars;
            } else {
                prose_out += b.chars;
            }
        }
    }
    let main_share = prose_in as f32 / (prose_in + prose_out).max(1) as f32;
    let max_levels = if main_share >= opts.union_dominant_share {
        opts.union_max_levels
    } else {
        u32::MAX
    };
    let first_main = blocks
        .iter()
        .position(|b| in_main[b.owner as usize])
        .unwrap_or(blocks.len());
    for (i, b) in blocks.iter().enumerate() {
        let ld = b.link_chars as f32 / b.chars.max(1) as f32;
        if in_main[b.owner as usize] {
            keep[i] = if b.kind == BlockKind::Heading {
                ld < 0.6
            } else {
                !(ld > MAIN_MAX_LINK_DENSITY
                    || (ld > 0.3
                        && b.chars < 100
                        && !(b.kind == BlockKind::Para && is_sentence(&b.text))))
            };
        } else if opts.union_outside_prose {
            let lv = lca_levels(b.owner);
            // The lead paragraph (standfirst) often sits in the article header, outside the
            // container of the body text, and is too short to read as prose on its own.
            keep[i] = (is_prose(b, ld) && lv <= max_levels && !is_legal(&b.text))
                || (facts.flags[b.owner as usize] & LEAD != 0
                    && b.kind != BlockKind::Heading
                    && (lv <= LEAD_MAX_LEVELS || (lv <= LEAD_FAR_MAX_LEVELS && i < first_main))
                    && ld < 0.3
                    && b.chars >= 30);
            if !keep[i]
                && best_class.is_some()
                && b.kind != BlockKind::Heading
                && ld < 0.3
                && !is_legal(&b.text)
            {
                // Another part of an article cut in pieces (ads between them): inside an
                // element of the same tag and class as the main container.
                let mut up = b.owner;
                for _ in 0..SAME_CLASS_MAX_LEVELS {
                    if up == NONE {
                        break;
                    }
                    let node = dom.node(up);
                    if node.tag() == best_tag && node.attr("class") == best_class {
                        keep[i] = true;
                        break;
                    }
                    up = node.parent;
                }
            }
        }
    }
    // Headings right before kept text outside the main content introduce it. (Looking further
    // ahead, past bylines to the page title, helps Dragnet and hurts AEB, whose gold has no
    // titles: measured, not adopted.)
    let lookahead = 1;
    for i in 0..blocks.len() {
        if keep[i] || blocks[i].kind != BlockKind::Heading || in_main[blocks[i].owner as usize] {
            continue;
        }
        let ld = blocks[i].link_chars as f32 / blocks[i].chars.max(1) as f32;
        if ld >= 0.5 {
            continue;
        }
        for j in i + 1..(i + 1 + lookahead).min(blocks.len()) {
            if keep[j] {
                keep[i] = true;
                break;
            }
            if blocks[j].kind == BlockKind::Heading || blocks[j].chars > 120 {
                break;
            }
        }
    }
    // A short label right before a link list ("Read also:", "More from this column") belongs
    // to the list.
    let kept_now: u32 = blocks
        .iter()
        .zip(&keep)
        .filter(|(_, &k)| k)
        .map(|(b, _)| b.chars)
        .sum();
    // Not on a page where that would leave little: the label may be all there is.
    if kept_now >= LINK_LABEL_MIN_KEPT {
        for i in 0..blocks.len().saturating_sub(1) {
            let b = &blocks[i];
            if !keep[i] || b.chars >= 80 || is_sentence(&b.text) || keep[i + 1] {
                continue;
            }
            if !matches!(b.kind, BlockKind::Para | BlockKind::Heading) {
                continue;
            }
            let nb = &blocks[i + 1];
            if nb.link_chars as f32 > 0.8 * nb.chars as f32 {
                keep[i] = false;
            }
        }
    }
    // Picture credits and caption labels are not text, wherever they are.
    for (i, b) in blocks.iter().enumerate() {
        if keep[i] && b.kind == BlockKind::Para && is_credit_line(&b.text) {
            keep[i] = false;
        }
    }
    // Everything after the start of the comment section goes, once enough text was kept before
    // it (a "3 comments" link next to the title must not cut the article).
    let kept_total: u32 = blocks
        .iter()
        .zip(&keep)
        .filter(|(_, &k)| k)
        .map(|(b, _)| b.chars)
        .sum();
    for &m in &markers {
        let before: u32 = blocks[..m.min(blocks.len())]
            .iter()
            .zip(&keep)
            .filter(|(_, &k)| k)
            .map(|(b, _)| b.chars)
            .sum();
        if before >= 400 || (before >= 150 && before as f32 >= 0.3 * kept_total as f32) {
            for k in keep.iter_mut().skip(m) {
                *k = false;
            }
            break;
        }
    }
    let kept_chars: u32 = blocks
        .iter()
        .zip(&keep)
        .filter(|(_, &k)| k)
        .map(|(b, _)| b.chars)
        .sum();
    if kept_chars < 200 && kept_chars * 5 < total_chars {
        // The container strategy found nothing convincing: fall back to all prose-like blocks.
        for (i, b) in blocks.iter().enumerate() {
            let ld = b.link_chars as f32 / b.chars.max(1) as f32;
            keep[i] = keep[i] || (b.chars >= 40 && ld < 0.3);
        }
    }

    let mut text = String::with_capacity(kept_chars as usize * 2);
    let mut prev_row = NONE;
    for (b, _) in blocks.iter().zip(&keep).filter(|(_, &k)| k) {
        if !text.is_empty() {
            if b.kind == BlockKind::Cell && b.row != NONE && b.row == prev_row {
                text.push('\t');
            } else {
                text.push('\n');
            }
        }
        text.push_str(&b.text);
        prev_row = b.row;
    }
    if let Some(d) = dbg {
        use std::fmt::Write;
        let _ = writeln!(
            d,
            "best={} score={best_score:.1} main_share={main_share:.2} markers={markers:?}",
            describe(dom, best, 4)
        );
        for (i, b) in blocks.iter().enumerate() {
            let lv = lca_levels(b.owner);
            let _ = writeln!(
                d,
                "{} {} lv={} {:?} c={} ld={:.2} prose={} | {} | {}",
                if keep[i] { "K" } else { "-" },
                if in_main[b.owner as usize] { "M" } else { "o" },
                if lv == u32::MAX { -1 } else { lv as i64 },
                b.kind,
                b.chars,
                b.link_chars as f32 / b.chars.max(1) as f32,
                is_prose(b, b.link_chars as f32 / b.chars.max(1) as f32),
                describe(dom, b.owner, 4),
                b.text
                    .chars()
                    .take(100)
                    .collect::<String>()
                    .replace('\n', " / ")
            );
        }
    }
    out.text = text;
    out
}

/// Whether a block outside the main container reads as prose worth keeping on its own.
fn is_prose(b: &Block, ld: f32) -> bool {
    if b.kind == BlockKind::Heading || ld > 0.2 || b.chars < 150 {
        return false;
    }
    let words = b.text.split_whitespace().count();
    let sentence_ends = b
        .text
        .chars()
        .filter(|c| matches!(c, '.' | '!' | '?' | '。' | '！' | '？'))
        .count();
    (words >= 25 || b.chars >= 200)
        && (sentence_ends >= 2 || (sentence_ends >= 1 && b.chars >= 250))
}

/// Whether a block is a copyright or legal notice (page footers written as prose).
fn is_legal(text: &str) -> bool {
    if text.contains('©') {
        return true;
    }
    let t = text.to_lowercase();
    [
        "all rights reserved",
        "copyright",
        "non-commercial use",
        "terms of use",
        "terms of service",
        "privacy policy",
    ]
    .iter()
    .any(|p| t.contains(p))
}

/// Whether a short block reads as a sentence (inline links in a sentence are not a link list):
/// five words or more and sentence punctuation at the end.
fn is_sentence(text: &str) -> bool {
    let t = text.trim_end_matches(|c: char| {
        c.is_whitespace() || matches!(c, '"' | '\'' | ')' | '”' | '’' | '»')
    });
    t.ends_with(['.', '!', '?', '。', '！', '？']) && text.split_whitespace().nth(4).is_some()
}

fn mark_subtree(dom: &Dom, root: NodeId, mark: &mut [bool]) {
    let mut stack = vec![root];
    while let Some(id) = stack.pop() {
        mark[id as usize] = true;
        stack.extend(dom.children(id));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dom::{parse, Budget};

    fn run(html: &str) -> Extracted {
        let dom = parse(
            html,
            Budget {
                max_nodes: 100_000,
                max_depth: 500,
            },
        )
        .unwrap();
        extract(&dom, &Options::default())
    }

    const ARTICLE: &str = "The committee met on Tuesday to discuss the budget, the schedule, and the new building. After a long debate, members agreed to postpone the decision until next month, citing the need for more data.";

    #[test]
    fn keeps_article_drops_navigation_and_comments() {
        let html = format!(
            r#"<html><head><title>Budget news</title><meta name="author" content="Ann Lee">
            <link rel="canonical" href="https://e.x/a"></head><body>
            <nav><a href="/">Home</a> <a href="/news">News</a></nav>
            <div class="menu"><ul><li><a href="/a">Sports</a></li><li><a href="/b">Weather</a></li></ul></div>
            <div id="main"><h1>Budget decision delayed</h1><p>{ARTICLE}</p><p>{ARTICLE}</p>
            <div class="share-bar">Share on Facebook</div></div>
            <div id="comments"><p>Great article, thanks for writing it, I agree with everything you said here.</p></div>
            <footer>Copyright 2020 Example Inc. All rights reserved.</footer></body></html>"#
        );
        let e = run(&html);
        assert!(e.text.contains("Budget decision delayed"), "{}", e.text);
        assert_eq!(e.text.matches("The committee met").count(), 2);
        for bad in ["Home", "Sports", "Share on", "Great article", "Copyright"] {
            assert!(!e.text.contains(bad), "{bad} in {}", e.text);
        }
        assert_eq!(e.title.as_deref(), Some("Budget news"));
        assert_eq!(e.author.as_deref(), Some("Ann Lee"));
        assert_eq!(e.canonical_url.as_deref(), Some("https://e.x/a"));
    }

    #[test]
    fn lists_tables_and_pre_keep_their_structure() {
        let html = format!(
            "<body><article><p>{ARTICLE}</p><ul><li>first item</li><li>second item</li></ul>
             <table><tr><td>a1</td><td>b1</td></tr><tr><td>a2</td><td>b2</td></tr></table>
             <pre>fn main() {{\n    x();\n}}</pre><p>Line one<br>line two</p></article></body>"
        );
        let e = run(&html);
        assert!(e.text.contains("\nfirst item\nsecond item\n"), "{}", e.text);
        assert!(e.text.contains("a1\tb1\na2\tb2"), "{}", e.text);
        assert!(e.text.contains("fn main() {\n    x();\n}"), "{}", e.text);
        assert!(e.text.contains("Line one\nline two"), "{}", e.text);
    }

    #[test]
    fn empty_and_text_only_pages() {
        assert_eq!(run("").text, "");
        assert_eq!(run("<html><body></body></html>").text, "");
        let e = run(&format!("just some text with no markup at all. {ARTICLE}"));
        assert!(e.text.contains("no markup"), "{}", e.text);
    }

    #[test]
    fn short_sentences_with_inline_links_stay() {
        let html = format!(
            r#"<body><div class="entry"><p>Today <a href="/a">we</a> launched something <a href="/b">huge and serious</a> in a sober way.</p>
            <p>{ARTICLE}</p><p><a href="/x">Home</a> <a href="/y">Older posts</a></p></div></body>"#
        );
        let e = run(&html);
        assert!(e.text.contains("Today we launched"), "{}", e.text);
        assert!(!e.text.contains("Older posts"), "{}", e.text);
    }

    #[test]
    fn lead_paragraph_in_the_header_joins() {
        let html = format!(
            r#"<body><article><header><h1>Budget</h1><p class="article__lead">The vote on the budget was put off again.</p></header>
            <div class="body"><p>{ARTICLE}</p><p>{ARTICLE}</p></div></article></body>"#
        );
        let e = run(&html);
        assert!(
            e.text.contains("The vote on the budget was put off again."),
            "{}",
            e.text
        );
    }

    #[test]
    fn name_rules() {
        let mut cache = NameCache::default();
        assert!(name_hint("hidden", "", &mut cache).weak_neg);
        assert!(!name_hint("field field--label-hidden", "", &mut cache).weak_neg);
        assert_eq!(classify_token("textwidget"), TOK_WEAK);
        assert_eq!(classify_token("textblock"), TOK_POS);
        assert!(is_comment_heading("12 Comments"));
        assert!(is_comment_heading("Comments (3)"));
        assert!(!is_comment_heading("Commentary on Python 3"));
    }

    #[test]
    fn lead_named_header_paragraph_is_not_a_header() {
        let html = format!(
            r#"<body><article><header class="article-header"><h1>Budget</h1>
            <p class="article-header__lead">The vote on the budget was put off again.</p></header>
            <div class="body"><p>{ARTICLE}</p><p>{ARTICLE}</p></div></article></body>"#
        );
        let e = run(&html);
        assert!(e.text.contains("put off again"), "{}", e.text);
    }

    #[test]
    fn short_posts_keep_their_text() {
        // A photo post: one short line, no paragraph long enough to score.
        let e = run(
            r#"<body><div class="menu"><a href="/">Home</a></div><article class="post">
            <h1>Pizza ad</h1><div class="entry-content"><p>Wow, just wow.</p></div></article></body>"#,
        );
        assert!(e.text.contains("Wow, just wow."), "{}", e.text);
        // A small post box with a weak name (`top`) still holds the post's headline.
        let e = run(&format!(
            r#"<body><div class="post top"><h1>nook</h1><p>Two new covers.</p></div>
            <div id="sidebar"><p>{ARTICLE}</p></div></body>"#
        ));
        assert!(e.text.contains("nook"), "{}", e.text);
    }

    #[test]
    fn label_of_a_link_list_goes_with_it() {
        let html = format!(
            r#"<body><article><p>{ARTICLE}</p><p>{ARTICLE}</p><p>{ARTICLE}</p>
            <p>Read also:</p><p><a href="/1">Another story about the budget vote</a></p>
            <p>Notes:</p><p>The figures are from the city's own report.</p></article></body>"#
        );
        let e = run(&html);
        assert!(!e.text.contains("Read also"), "{}", e.text);
        assert!(e.text.contains("Notes:"), "{}", e.text);
    }

    #[test]
    fn parts_of_an_article_cut_by_ads_join() {
        let html = format!(
            r#"<body><div class="wrap"><div class="row"><div class="col"><div class="story-text">
            <p>{ARTICLE}</p><p>{ARTICLE}</p><p>{ARTICLE}</p></div></div></div>
            <div class="ad"><a href="/buy">Buy now</a></div>
            <div class="row"><div class="col"><div class="story-text"><p>The second part of the story is short.</p></div></div></div>
            <div class="row"><div class="col"><div class="teaser-text"><p>Another story, elsewhere on the site.</p></div></div></div>
            </div></body>"#
        );
        let e = run(&html);
        assert!(e.text.contains("second part of the story"), "{}", e.text);
        assert!(!e.text.contains("Another story"), "{}", e.text);
    }

    #[test]
    fn far_lead_joins_before_the_article_not_after() {
        let html = format!(
            r#"<body><div class="page"><div class="hd"><div class="a"><div class="b"><div class="c">
            <p class="lead">Heating costs keep rising for poorer households.</p></div></div></div></div>
            <div class="x"><div class="y"><div class="z"><div class="body"><p>{ARTICLE}</p><p>{ARTICLE}</p><p>{ARTICLE}</p></div></div></div></div>
            <div class="q"><div class="r"><div class="s"><div class="t">
            <p class="lead">Read the free report on service desks today.</p></div></div></div></div></div></body>"#
        );
        let e = run(&html);
        assert!(e.text.contains("Heating costs"), "{}", e.text);
        assert!(!e.text.contains("service desks"), "{}", e.text);
    }

    #[test]
    fn a_link_to_the_comments_does_not_cut_the_article() {
        const BIO: &str = "The author writes about culture, politics and history for the magazine. He lives in New York with his family, and his last book was about the city's long and troubled history.";
        let html = format!(
            r#"<body><div id="article"><h1>Sandy</h1>
            <p class="bio">{BIO} {BIO}</p><a class="comments" href="/c">Comment</a>
            <div class="articleContent"><p>{ARTICLE}</p><p>{ARTICLE}</p><p>{ARTICLE}</p></div>
            <div id="comments"><p>First! Great post, I really enjoyed reading every word of it today.</p></div></div></body>"#
        );
        let e = run(&html);
        assert_eq!(e.text.matches("The committee met").count(), 3, "{}", e.text);
        assert!(!e.text.contains("First!"), "{}", e.text);
    }

    #[test]
    fn credit_lines_go() {
        assert!(is_credit_line("Photo: AP"));
        assert!(is_credit_line("Abbildung 4: klassische Schwachschicht."));
        assert!(is_credit_line("Quelle: Deutscher Jagdverband (DJV)"));
        assert!(!is_credit_line(
            "Photographers: many of them came early to the scene and stayed late."
        ));
        assert!(!is_credit_line(
            "The source said: it will be done by Friday."
        ));
        let e = run(&format!(
            "<body><article><p>{ARTICLE}</p><p>Photo: Jane Roe for the Daily</p><p>{ARTICLE}</p></article></body>"
        ));
        assert!(!e.text.contains("Jane Roe"), "{}", e.text);
    }
}
