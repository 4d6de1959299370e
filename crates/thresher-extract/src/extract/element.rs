//! What an element's tag and attributes say: block or inline, dropped with its subtree,
//! hidden, a landmark role, a link, the article body; computed once per element.

use html5ever::local_name;

use crate::dom::{Kind, Node};

/// Elements whose subtree never holds main text.
pub(super) fn is_dropped_tag(tag: &str) -> bool {
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

/// Tag class bits, computed once per element: a block-level element.
pub(super) const T_BLOCK: u8 = 1;
/// `<h1>`-`<h6>`.
pub(super) const T_HEADING: u8 = 2;
/// A list item (`<li>`, `<dt>`, `<dd>`).
pub(super) const T_ITEM: u8 = 4;
/// A table cell (`<td>`, `<th>`).
pub(super) const T_CELL: u8 = 8;
/// `<pre>`.
pub(super) const T_PRE: u8 = 16;
/// `<br>`.
pub(super) const T_BR: u8 = 32;
/// `<a>`.
pub(super) const T_A: u8 = 64;
/// `<tr>`.
pub(super) const T_TR: u8 = 128;

/// The tag class bits ([`T_BLOCK`]...) of a tag name.
pub(super) fn tag_bits(tag: &str) -> u8 {
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

/// Whether an `<a>` is a link for link density: it has an `href`, and it is not a broken
/// unclosed anchor that swallowed the page (old pages leave `<a name=top>` open, and parsers
/// then nest everything in it).
pub(super) fn is_link(flags: u8, text_chars: u32) -> bool {
    flags & HREF != 0 && text_chars <= LINK_MAX_CHARS
}

/// Most text (in characters) of an `<a href>` that counts as a link: an anchor with more is
/// taken for a broken unclosed one that swallowed part of the page.
const LINK_MAX_CHARS: u32 = 1500;

/// Element flags from its attributes: `hidden`, `aria-hidden=true` or a hiding `style`.
pub(super) const HIDDEN: u8 = 1;
/// A landmark `role` that is not the article ([`role_is_boilerplate`]).
pub(super) const ROLE_BOILERPLATE: u8 = 2;
/// An `href`.
pub(super) const HREF: u8 = 4;
/// `itemprop=articleBody`.
pub(super) const ARTICLE_BODY: u8 = 8;
/// Inside a small lead-named element (set by the pruning pass, not by the attributes).
pub(super) const LEAD: u8 = 16;
/// Inside a comment section kept with [`Options::include_comments`](super::Options) (set by
/// the pruning pass).
pub(super) const COMMENT: u8 = 32;

/// The attributes the extractor looks at, gathered in one scan of the element's attributes.
pub(super) struct Attrs<'a> {
    /// The `class` value.
    pub(super) class: &'a str,
    /// The `id` value.
    pub(super) id: &'a str,
    /// [`HIDDEN`], [`ROLE_BOILERPLATE`], [`HREF`], [`ARTICLE_BODY`].
    pub(super) flags: u8,
}

/// Gathers the attributes of an element in one scan.
pub(super) fn scan_attrs(node: &Node) -> Attrs<'_> {
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

/// Whether an inline `style` hides the element (`display: none`, `visibility: hidden`).
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

/// Whether a `role` names a page landmark that is not the article (navigation, banner...).
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
