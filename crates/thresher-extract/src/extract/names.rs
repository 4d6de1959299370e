//! What `class` and `id` names say about an element: boilerplate (strong or weak), article
//! content, a lead paragraph, or the start of a comment section.
//!
//! Names are cut into tokens at non-alphanumeric characters and each token is classified once
//! per page (the same names repeat on every item of a list or menu).

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};

/// Words in class/id names that mark boilerplate whatever its size, matched as a prefix of a
/// name token.
const STRONG_PREFIX: &[&str] = &[
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
    "shoutbox",
    "trackback",
    "socialmedia",
];
/// Strong boilerplate words matched only as a whole name token (too short to be safe prefixes).
const STRONG_EXACT: &[&str] = &[
    "ad", "ads", "nav", "share", "shares", "subnav", "topnav", "modal", "overlay", "crumbs",
    "combx", "aside",
];
/// Words that mark a comment section, matched as a prefix of a name token: strong boilerplate,
/// unless comments are asked for.
const COMMENT_PREFIX: &[&str] = &["comment", "disqus", "livefyre"];
/// The same, matched as a whole name token.
const COMMENT_EXACT: &[&str] = &["respond"];
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
pub(super) struct Hint {
    /// A strong boilerplate name (comments, share bars, menus...).
    pub(super) strong_neg: bool,
    /// A weak boilerplate name (byline, widget...).
    pub(super) weak_neg: bool,
    /// A content name.
    pub(super) pos: bool,
    /// A lead/standfirst name (`lead`, `intro`, `standfirst`...).
    pub(super) lead: bool,
    /// A comment-section name (`comments`, `disqus`...); strong boilerplate unless comments
    /// are kept.
    pub(super) comment: bool,
}

impl Hint {
    /// -1 for a boilerplate name, +1 for a content name, 0 otherwise (negative wins: a
    /// `comment-content` is a comment).
    pub(super) fn score(self) -> i8 {
        if self.strong_neg || self.weak_neg || self.comment {
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

/// The multiplier of [`TokHasher`]: an odd constant with well-spread bits (FxHash's).
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
pub(super) struct NameCache<'a> {
    values: HashMap<&'a str, u8, TokHasherBuilder>,
    tokens: TokCache<'a>,
}

/// Hint bits of one `class` or `id` value.
const H_STRONG: u8 = 1;
const H_WEAK: u8 = 2;
const H_POS: u8 = 4;
const H_LEAD: u8 = 8;
const H_COMMENT: u8 = 16;

/// The name hint of an element from its `class` and `id` values.
#[inline]
pub(super) fn name_hint<'a>(class: &'a str, id: &'a str, cache: &mut NameCache<'a>) -> Hint {
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
        comment: bits & H_COMMENT != 0,
    }
}

/// The hint bits ([`H_STRONG`]...) of one `class` or `id` value.
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
            TOK_COMMENT => H_COMMENT,
            _ => 0,
        };
    }
    bits
}

/// The class of one name token ([`classify_token`]).
const TOK_NONE: u8 = 0;
const TOK_POS: u8 = 1;
const TOK_WEAK: u8 = 2;
const TOK_STRONG: u8 = 3;
const TOK_LEAD: u8 = 4;
const TOK_COMMENT: u8 = 5;

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

/// Classifies one name token: comment section, strong or weak boilerplate, lead, content or
/// nothing (in that order of precedence).
fn classify_token(tok: &str) -> u8 {
    let lower;
    let t = if tok.bytes().any(|b| b.is_ascii_uppercase()) {
        lower = tok.to_ascii_lowercase();
        lower.as_str()
    } else {
        tok
    };
    if COMMENT_EXACT.contains(&t) || COMMENT_PREFIX.iter().any(|p| t.starts_with(p)) {
        TOK_COMMENT
    } else if STRONG_EXACT.contains(&t) || STRONG_PREFIX.iter().any(|p| t.starts_with(p)) {
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
pub(super) fn is_comment_section(node: &crate::dom::Node) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_rules() {
        let mut cache = NameCache::default();
        assert!(name_hint("hidden", "", &mut cache).weak_neg);
        assert!(!name_hint("field field--label-hidden", "", &mut cache).weak_neg);
        assert_eq!(classify_token("textwidget"), TOK_WEAK);
        assert_eq!(classify_token("textblock"), TOK_POS);
    }
}
