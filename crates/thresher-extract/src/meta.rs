//! Page metadata: title, author, publication date, canonical URL, declared language.
//!
//! Each field gathers candidates from the whole page with a rank (lower is more trusted), and
//! the best-ranked candidate that passes the field's checks wins; ties go to document order.
//!
//! - **Date** (`YYYY-MM-DD`): publication meta tags (`article:published_time`...), then JSON-LD
//!   `datePublished`, generic date meta tags (`date`, `dc.date`...), elements marked
//!   `itemprop=datePublished`, `<time datetime>` (a `pubdate` or publication-named one first),
//!   short elements with a date-like class (`date`, `published`...) read as text, a
//!   `/YYYY/MM/DD/` path in the canonical URL, and last the modification date. Dates are read in
//!   ISO form, `DD.MM.YYYY`, and with month names in English, German, French, Spanish, Italian,
//!   Portuguese, Dutch and Polish; years outside 1990-2100 are not dates.
//! - **Author**: JSON-LD `author` (persons; organisations rank lower), author meta tags, then
//!   `rel=author`/`itemprop=author` elements and short bylines (`author`, `byline`... classes),
//!   with "By", "Von", "Par"... taken off; URLs, e-mail addresses, the site's name and long
//!   texts are not authors. Several JSON-LD authors are joined with `; `.
//! - **Title**: the page's `<h1>` when the `<title>` or `og:title` contains it (the headline
//!   without the site name), else `og:title`, else `<title>` without a site-name part (one
//!   equal to `og:site_name`, or a short first or last part after `|`, `-`, `–`, `»`...), else
//!   the first `<h1>`.
//! - **Canonical URL**: `<link rel=canonical>`, else `og:url`.
//! - **Language**: `<html lang>`, else `<meta http-equiv=content-language>`, else `og:locale`.

use serde_json::Value;

use crate::dom::{Dom, Kind, NodeId};

/// The metadata of one page; [`crate::extract`] copies it into its
/// [`Extracted`](crate::Extracted).
#[derive(Debug, Default)]
pub(crate) struct Meta {
    /// The headline (see the module doc).
    pub title: Option<String>,
    /// Author(s).
    pub author: Option<String>,
    /// Publication date, `YYYY-MM-DD`.
    pub date: Option<String>,
    /// `<link rel=canonical>`, else `og:url`.
    pub canonical_url: Option<String>,
    /// The declared language (`<html lang>`...).
    pub lang: Option<String>,
}

/// Longest metadata value kept; longer ones are page text in the wrong place.
const MAX_META_CHARS: usize = 500;

/// Longest author (in characters and words); longer is a sentence or a biography.
const MAX_AUTHOR_CHARS: usize = 80;
/// See [`MAX_AUTHOR_CHARS`].
const MAX_AUTHOR_WORDS: usize = 8;

/// Longest text (in characters) of a byline or date element read as text.
const MAX_TEXT_FIELD_CHARS: usize = 120;

/// How many byline and date-named elements are read as text (their text is gathered).
const MAX_TEXT_CANDIDATES: usize = 12;

// Date ranks.
const D_PUBLISHED_META: u8 = 0;
const D_JSON_LD: u8 = 1;
const D_GENERIC_META: u8 = 2;
const D_ITEMPROP: u8 = 3;
const D_TIME_PUB: u8 = 4;
const D_TIME: u8 = 5;
const D_TEXT: u8 = 6;
const D_URL: u8 = 7;
const D_BODY: u8 = 8;
const D_MODIFIED: u8 = 9;

// Author ranks.
const A_JSON_LD_PERSON: u8 = 0;
const A_META: u8 = 1;
const A_ELEMENT: u8 = 2;
const A_BYLINE: u8 = 3;
const A_JSON_LD_ORG: u8 = 4;
const A_BODY: u8 = 5;

fn clean(s: &str) -> Option<String> {
    let s: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    (!s.is_empty() && s.chars().count() <= MAX_META_CHARS).then_some(s)
}

fn set(slot: &mut Option<String>, v: &str) {
    if slot.is_none() {
        *slot = clean(v);
    }
}

/// Candidates gathered in one walk.
#[derive(Default)]
struct Cands {
    dates: Vec<(u8, String)>,
    authors: Vec<(u8, String)>,
    site_name: Option<String>,
    text_reads: usize,
    /// Short text nodes tried as dates ([`body_date`]).
    body_tries: usize,
    /// A date was found in the text.
    body_found: bool,
    /// A byline was found in the text.
    byline_found: bool,
}

/// Longest text node (in bytes) read as a byline.
const MAX_BYLINE_BYTES: usize = 80;

/// Most words of a name in a byline text.
const MAX_BYLINE_NAME_WORDS: usize = 4;

/// The first short text of the page of the form "By Jane Doe" / "von Hans Meier": a "by" word
/// and one to four capitalised words.
fn body_byline(t: &str, c: &mut Cands) {
    let t = t.trim();
    if c.byline_found || t.len() > MAX_BYLINE_BYTES || t.len() < 5 {
        return;
    }
    let mut ws = t.split_whitespace();
    if !ws.next().is_some_and(|w| is_one_of(w, BY_WORDS)) {
        return;
    }
    let name: Vec<&str> = ws.collect();
    if (1..=MAX_BYLINE_NAME_WORDS).contains(&name.len())
        && name
            .iter()
            .all(|w| w.chars().next().is_some_and(char::is_uppercase))
    {
        c.byline_found = true;
        c.authors.push((A_BODY, name.join(" ")));
    }
}

/// Most short text nodes with a year in them tried as a date.
const MAX_BODY_DATE_TRIES: usize = 30;

/// Longest text node (in bytes) tried as a date.
const MAX_BODY_DATE_BYTES: usize = 100;

/// The first short text of the page that reads as a full date (`23 mai 2019`,
/// `18.02.2022, 10:27`): many pages show the date only there.
fn body_date(dom: &Dom, parent: NodeId, t: &str, c: &mut Cands) {
    if c.body_found || c.body_tries >= MAX_BODY_DATE_TRIES || t.len() > MAX_BODY_DATE_BYTES {
        return;
    }
    let b = t.as_bytes();
    let has_year = b.windows(4).any(|w| {
        (w[0..2] == *b"19" || w[0..2] == *b"20") && w[2].is_ascii_digit() && w[3].is_ascii_digit()
    });
    if !has_year || parent == crate::dom::NONE {
        return;
    }
    if dom
        .node(parent)
        .tag()
        .is_some_and(|p| matches!(&**p, "script" | "style" | "title" | "option" | "textarea"))
    {
        return;
    }
    c.body_tries += 1;
    if let Some(d) = parse_date(t) {
        c.body_found = true;
        c.dates.push((D_BODY, d));
    }
}

/// Alphanumeric tokens of a `class`/`id` value (compared ignoring ASCII case).
fn name_tokens(s: &str) -> impl Iterator<Item = &str> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
}

/// Whether `t` starts with the ASCII word `p`, ignoring case.
fn starts_with_ci(t: &str, p: &str) -> bool {
    t.len() >= p.len() && t.as_bytes()[..p.len()].eq_ignore_ascii_case(p.as_bytes())
}

/// Whether `t` ends with the ASCII word `p`, ignoring case.
fn ends_with_ci(t: &str, p: &str) -> bool {
    t.len() >= p.len() && t.as_bytes()[t.len() - p.len()..].eq_ignore_ascii_case(p.as_bytes())
}

/// The text of an element with a space between its text nodes (a byline's `von<a>Name</a>`
/// is two words on screen).
fn spaced_text(dom: &Dom, id: NodeId) -> String {
    let mut out = String::new();
    let mut stack = vec![id];
    while let Some(n) = stack.pop() {
        if out.len() > MAX_META_CHARS * 4 {
            break;
        }
        let node = dom.node(n);
        if let Kind::Text(t) = &node.kind {
            out.push_str(t);
            out.push(' ');
        }
        let mut ch = node.last_child;
        while ch != crate::dom::NONE {
            stack.push(ch);
            ch = dom.node(ch).prev;
        }
    }
    out
}

/// Whether `t` is one of `words`, ignoring ASCII case.
fn is_one_of(t: &str, words: &[&str]) -> bool {
    words.iter().any(|w| t.eq_ignore_ascii_case(w))
}

/// Class/id words of a byline.
const AUTHOR_NAMES: &[&str] = &[
    "author",
    "byline",
    "autor",
    "auteur",
    "autore",
    "verfasser",
    "writer",
    "authorname",
    "articleauthor",
    "postauthor",
];

/// Class/id words of a date.
const DATE_NAMES: &[&str] = &[
    "date",
    "datum",
    "published",
    "pubdate",
    "posted",
    "postdate",
    "publishdate",
    "dateline",
    "entrydate",
    "timestamp",
];

/// Reads the metadata of the page.
pub(crate) fn read(dom: &Dom) -> Meta {
    let mut meta = Meta::default();
    let out = &mut meta;
    let mut c = Cands::default();
    let mut title_tag = None;
    let mut og_title = None;
    let mut h1s: Vec<String> = Vec::new();
    let mut ld_json = Vec::new();
    let mut lang_meta = None;
    let mut locale = None;
    for (i, node) in dom.nodes.iter().enumerate() {
        let name = match &node.kind {
            Kind::Element { name, .. } => name,
            Kind::Text(t) => {
                body_date(dom, node.parent, t, &mut c);
                body_byline(t, &mut c);
                continue;
            }
            _ => continue,
        };
        let id = i as NodeId;
        match &**name {
            "html" => {
                if let Some(l) = node.attr("lang").or_else(|| node.attr("xml:lang")) {
                    set(&mut out.lang, l);
                }
            }
            "title" if title_tag.is_none() => title_tag = clean(&dom.text_of(id)),
            "h1" if h1s.len() < 4 => {
                if let Some(t) = clean(&dom.text_of(id)) {
                    h1s.push(t);
                }
            }
            "meta" => {
                if node
                    .attr("http-equiv")
                    .is_some_and(|h| h.eq_ignore_ascii_case("content-language"))
                {
                    if let Some(l) = node.attr("content") {
                        set(&mut lang_meta, l.split(',').next().unwrap_or(""));
                    }
                    continue;
                }
                let key = node
                    .attr("property")
                    .or_else(|| node.attr("name"))
                    .or_else(|| node.attr("itemprop"))
                    .unwrap_or("")
                    .to_ascii_lowercase();
                let Some(content) = node.attr("content") else {
                    continue;
                };
                read_meta(&key, content, out, &mut c, &mut og_title, &mut locale);
            }
            "link" => {
                let rel = node.attr("rel").unwrap_or("");
                if rel
                    .split_whitespace()
                    .any(|r| r.eq_ignore_ascii_case("canonical"))
                {
                    if let Some(h) = node.attr("href") {
                        // The link tag is more authoritative than og:url.
                        if let Some(v) = clean(h) {
                            out.canonical_url = Some(v);
                        }
                    }
                }
            }
            "script"
                if ld_json.len() < 8
                    && node
                        .attr("type")
                        .is_some_and(|t| t.eq_ignore_ascii_case("application/ld+json")) =>
            {
                ld_json.push(dom.text_of(id));
            }
            "time" => {
                if let Some(dt) = node.attr("datetime") {
                    let pubd = node.attr("pubdate").is_some()
                        || node
                            .attr("itemprop")
                            .is_some_and(|p| p.eq_ignore_ascii_case("datepublished"))
                        || node.attr("class").is_some_and(|cl| {
                            name_tokens(cl).any(|t| {
                                starts_with_ci(t, "publish") || t.eq_ignore_ascii_case("entry")
                            })
                        });
                    c.dates
                        .push((if pubd { D_TIME_PUB } else { D_TIME }, dt.to_string()));
                }
            }
            "head" | "script" | "style" => {}
            _ => read_element(dom, id, &mut c),
        }
    }
    for src in &ld_json {
        if src.len() > 1_000_000 {
            continue;
        }
        if let Ok(v) = serde_json::from_str::<Value>(src) {
            from_json_ld(&v, &mut c, 0);
        }
    }
    if let Some(d) = out.canonical_url.as_deref().and_then(date_in_url) {
        c.dates.push((D_URL, d));
    }
    out.date = best_date(&mut c.dates);
    out.author = best_author(&mut c.authors, c.site_name.as_deref());
    let host = out
        .canonical_url
        .as_deref()
        .and_then(|u| u.split("://").nth(1))
        .and_then(|r| r.split('/').next());
    out.title = best_title(og_title, title_tag, &h1s, c.site_name.as_deref(), host);
    if out.lang.is_none() {
        out.lang = lang_meta.or(locale);
    }
    meta
}

/// One `<meta>` tag.
fn read_meta(
    key: &str,
    content: &str,
    out: &mut Meta,
    c: &mut Cands,
    og_title: &mut Option<String>,
    locale: &mut Option<String>,
) {
    match key {
        "og:title" | "twitter:title" => set(og_title, content),
        "og:site_name" | "application-name" => set(&mut c.site_name, content),
        "og:locale" => set(locale, &content.replace('_', "-")),
        "author" | "article:author" | "dc.creator" | "dc.creator.aut" | "byl"
        | "sailthru.author" | "parsely-author" | "citation_author" | "dcterms.creator" => {
            c.authors.push((A_META, content.to_string()));
        }
        "article:published_time"
        | "og:published_time"
        | "article:published"
        | "datepublished"
        | "publication_date"
        | "parsely-pub-date"
        | "sailthru.date"
        | "dc.date.issued"
        | "dcterms.issued"
        | "citation_publication_date"
        | "citation_date"
        | "article.published" => c.dates.push((D_PUBLISHED_META, content.to_string())),
        "date" | "pubdate" | "publishdate" | "dc.date" | "dcterms.date" | "dc.date.created"
        | "dcterms.created" | "datecreated" | "created" => {
            c.dates.push((D_GENERIC_META, content.to_string()));
        }
        "article:modified_time"
        | "og:updated_time"
        | "datemodified"
        | "last-modified"
        | "dcterms.modified"
        | "dc.date.modified" => {
            c.dates.push((D_MODIFIED, content.to_string()));
        }
        "og:url" if content.starts_with("http") => set(&mut out.canonical_url, content),
        _ => {}
    }
}

/// An element of the page body: `itemprop` and `rel` marks, byline and date class names.
fn read_element(dom: &Dom, id: NodeId, c: &mut Cands) {
    let node = dom.node(id);
    let itemprop = node.attr("itemprop").unwrap_or("");
    if itemprop.eq_ignore_ascii_case("datepublished") {
        let v = node
            .attr("content")
            .or_else(|| node.attr("datetime"))
            .map(str::to_string)
            .unwrap_or_else(|| spaced_text(dom, id));
        c.dates.push((D_ITEMPROP, v));
        return;
    }
    let rel_author = node.attr("rel").is_some_and(|r| {
        r.split_whitespace()
            .any(|x| x.eq_ignore_ascii_case("author"))
    });
    if rel_author || itemprop.eq_ignore_ascii_case("author") || itemprop == "creator" {
        if c.text_reads < MAX_TEXT_CANDIDATES {
            c.text_reads += 1;
            c.authors.push((A_ELEMENT, spaced_text(dom, id)));
        }
        return;
    }
    if c.text_reads >= MAX_TEXT_CANDIDATES {
        return;
    }
    let (mut author, mut date, mut comment) = (false, false, false);
    for v in [node.attr("class"), node.attr("id")].into_iter().flatten() {
        for t in name_tokens(v) {
            if is_one_of(t, AUTHOR_NAMES) {
                author = true;
            } else if is_one_of(t, DATE_NAMES)
                || ends_with_ci(t, "date")
                || starts_with_ci(t, "publish")
            {
                date = true;
            } else if starts_with_ci(t, "comment") || starts_with_ci(t, "kommentar") {
                comment = true;
            }
        }
    }
    if comment || !(author || date) {
        return;
    }
    let text = spaced_text(dom, id);
    if text.len() > MAX_TEXT_FIELD_CHARS * 4 {
        return;
    }
    c.text_reads += 1;
    if author {
        c.authors.push((A_BYLINE, text.clone()));
    }
    if date {
        c.dates.push((D_TEXT, text));
    }
}

fn from_json_ld(v: &Value, c: &mut Cands, depth: u32) {
    if depth > 4 {
        return;
    }
    match v {
        Value::Array(a) => {
            for x in a.iter().take(32) {
                from_json_ld(x, c, depth + 1);
            }
        }
        Value::Object(m) => {
            if let Some(g) = m.get("@graph") {
                from_json_ld(g, c, depth + 1);
            }
            if let Some(Value::String(d)) = m.get("datePublished") {
                c.dates.push((D_JSON_LD, d.clone()));
            }
            if let Some(Value::String(d)) = m.get("dateCreated") {
                c.dates.push((D_GENERIC_META, d.clone()));
            }
            if let Some(Value::String(d)) = m.get("dateModified") {
                c.dates.push((D_MODIFIED, d.clone()));
            }
            if let Some(a) = m.get("author").or_else(|| m.get("creator")) {
                let mut names = Vec::new();
                let mut org = false;
                let list: Vec<&Value> = match a {
                    Value::Array(xs) => xs.iter().take(8).collect(),
                    x => vec![x],
                };
                for x in list {
                    match x {
                        Value::String(s) => names.push(s.as_str()),
                        Value::Object(o) => {
                            org |= o.get("@type").and_then(Value::as_str).is_some_and(|t| {
                                t == "Organization" || t == "NewsMediaOrganization"
                            });
                            if let Some(n) = o.get("name").and_then(Value::as_str) {
                                names.push(n);
                            }
                        }
                        _ => {}
                    }
                }
                if !names.is_empty() {
                    let rank = if org { A_JSON_LD_ORG } else { A_JSON_LD_PERSON };
                    c.authors.push((rank, names.join("; ")));
                }
            }
            if c.site_name.is_none() {
                if let Some(Value::Object(p)) = m.get("publisher") {
                    if let Some(n) = p.get("name").and_then(Value::as_str) {
                        set(&mut c.site_name, n);
                    }
                }
            }
        }
        _ => {}
    }
}

/// The best-ranked candidate that reads as a date.
fn best_date(dates: &mut [(u8, String)]) -> Option<String> {
    dates.sort_by_key(|d| d.0);
    dates.iter().find_map(|(_, d)| parse_date(d))
}

/// Normalised words of a name, for comparing it with the site's name.
fn fold(s: &str) -> String {
    s.to_lowercase()
        .split(|ch: char| !ch.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The best-ranked candidate that reads as a person's name.
fn best_author(authors: &mut [(u8, String)], site: Option<&str>) -> Option<String> {
    authors.sort_by_key(|a| a.0);
    let site = site.map(fold);
    authors
        .iter()
        .filter_map(|(_, a)| clean_author(a))
        .find(|a| site.as_deref().is_none_or(|s| fold(a) != s))
}

/// A byline without its "By"/"Von"/"Par" and what is not a name; `None` if nothing is left.
fn clean_author(raw: &str) -> Option<String> {
    let mut a = clean(raw)?;
    if a.contains("http") || a.contains("www.") || a.contains('@') || a.contains('{') {
        return None;
    }
    // Short parts with digits are dates and times ("Jane Doe, 01.12.2021", "Jane Doe | 3 May").
    if a.contains(|ch: char| ch.is_ascii_digit()) {
        let date_like = |p: &str| {
            p.contains(|ch: char| ch.is_ascii_digit())
                && (p.split_whitespace().count() <= 3 || parse_date(p).is_some())
        };
        a = a
            .split([',', '|', '•', '·'])
            .map(str::trim)
            .filter(|p| !p.is_empty() && !date_like(p))
            .collect::<Vec<_>>()
            .join(", ");
    }
    // The name follows the last "by" word ("Veröffentlicht am 8. Februar 2022 von X").
    let ws: Vec<&str> = a.split(' ').collect();
    if let Some(k) = ws.iter().rposition(|w| is_one_of(w, BY_WORDS)) {
        a = ws[k + 1..].join(" ");
        // "par des centaines d'étudiants": a phrase, not a name.
        if a.chars().next().is_some_and(char::is_lowercase) {
            return None;
        }
    }
    for p in [
        "autor:",
        "autorin:",
        "author:",
        "text:",
        "auteur :",
        "auteur:",
        "redaktion:",
    ] {
        if a.len() >= p.len() && a.is_char_boundary(p.len()) && a[..p.len()].eq_ignore_ascii_case(p)
        {
            a = a[p.len()..].trim().to_string();
            break;
        }
    }
    let a = a.trim_matches(|ch: char| ch.is_whitespace() || matches!(ch, ',' | ':' | '|' | '-'));
    // A label is left ("Foto: X", "Interview: X"): a credit, not a byline.
    if a.contains(':') || is_one_of(a, NOT_NAMES) {
        return None;
    }
    let words = a.split_whitespace().count();
    let letters = a.chars().filter(|ch| ch.is_alphabetic()).count();
    let digits = a.chars().filter(char::is_ascii_digit).count();
    (words > 0
        && words <= MAX_AUTHOR_WORDS
        && a.chars().count() <= MAX_AUTHOR_CHARS
        && letters >= 2
        && digits * 4 < letters)
        .then(|| a.to_string())
}

/// Words after which a byline gives the name.
const BY_WORDS: &[&str] = &["by", "von", "par", "por", "di", "door", "przez", "od"];

/// Words of author widgets that are not names.
const NOT_NAMES: &[&str] = &["follow", "share", "admin", "author", "autor", "redaktion"];

/// Separators between a headline and a site name in `<title>`.
const TITLE_SEPARATORS: &[&str] = &[
    " | ", " - ", " – ", " — ", " » ", " « ", " :: ", " · ", " / ",
];

/// Most words of a title part that is taken for a site name when nothing says so.
const SITE_NAME_MAX_WORDS: usize = 4;

/// The headline: see the module doc.
fn best_title(
    og: Option<String>,
    tag: Option<String>,
    h1s: &[String],
    site: Option<&str>,
    host: Option<&str>,
) -> Option<String> {
    let full: Vec<String> = [og.as_deref(), tag.as_deref()]
        .into_iter()
        .flatten()
        .map(fold)
        .collect();
    // The h1 that the title contains is the headline without the site's name.
    for h in h1s {
        let f = fold(h);
        if f.split(' ').count() >= 2 && full.iter().any(|t| t.contains(&f)) {
            return Some(h.clone());
        }
    }
    if let Some(t) = og
        .map(|t| strip_site_name(&t, site, host, false))
        .or_else(|| tag.map(|t| strip_site_name(&t, site, host, true)))
    {
        return Some(t);
    }
    h1s.first().cloned()
}

/// Letters and digits only, lower case: `Skispringen.com` and `skispringen.com` compare equal.
fn compact(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// A title without the part that names the site: one equal to the site's name or found in the
/// host name, or (with `guess`) a short first or last part.
fn strip_site_name(title: &str, site: Option<&str>, host: Option<&str>, guess: bool) -> String {
    let Some(sep) = TITLE_SEPARATORS.iter().find(|s| title.contains(**s)) else {
        return title.to_string();
    };
    let parts: Vec<&str> = title.split(sep).map(str::trim).collect();
    let site = site.map(fold);
    let host = host.map(compact);
    let names_site = |p: &str| {
        site.as_deref().is_some_and(|s| fold(p) == s)
            || host.as_deref().is_some_and(|h| {
                let c = compact(p);
                c.chars().count() >= 4 && h.contains(&c)
            })
    };
    let rest: Vec<&str> = parts.iter().copied().filter(|p| !names_site(p)).collect();
    if !rest.is_empty() && rest.len() < parts.len() {
        return rest.join(sep);
    }
    if !guess {
        return title.to_string();
    }
    let short = |p: &str| p.split_whitespace().count() <= SITE_NAME_MAX_WORDS;
    if parts.len() >= 2 && short(parts[parts.len() - 1]) {
        parts[..parts.len() - 1].join(sep)
    } else if parts.len() >= 2 && short(parts[0]) {
        parts[1..].join(sep)
    } else {
        title.to_string()
    }
}

/// A `/YYYY/MM/DD/` (or `/YYYY-MM-DD`) date in a URL's path.
fn date_in_url(url: &str) -> Option<String> {
    let path = url.split("://").nth(1)?.split_once('/')?.1;
    let segs: Vec<&str> = path.split(['/', '?', '#']).collect();
    for w in segs.windows(3) {
        if w[0].len() == 4 && w[1].len() <= 2 && w[2].len() <= 2 {
            let n = |s: &str| s.parse::<u32>().ok();
            if let (Some(y), Some(m), Some(d)) = (n(w[0]), n(w[1]), n(w[2])) {
                if let Some(s) = ymd(y, m, d) {
                    return Some(s);
                }
            }
        }
    }
    segs.iter().find_map(|s| {
        let b = s.as_bytes();
        (b.len() >= 10 && b[4] == b'-' && b[7] == b'-')
            .then(|| s.get(..10).and_then(parse_date))
            .flatten()
    })
}

/// `YYYY-MM-DD` if the numbers make a date in 1990-2100.
fn ymd(y: u32, m: u32, d: u32) -> Option<String> {
    const DAYS: [u32; 12] = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    ((1990..=2100).contains(&y) && (1..=12).contains(&m) && d >= 1 && d <= DAYS[m as usize - 1])
        .then(|| format!("{y:04}-{m:02}-{d:02}"))
}

/// Words between the parts of a date ("3 de mayo de 2021", "the 3rd of May").
const DATE_FILLERS: &[&str] = &["de", "del", "of", "the"];

/// Month names and abbreviations (lower case) in the languages of the module doc.
const MONTHS: [&[&str]; 12] = [
    &[
        "january", "jan", "januar", "jänner", "janvier", "janv", "enero", "ene", "gennaio", "gen",
        "janeiro", "januari", "stycznia", "styczeń",
    ],
    &[
        "february",
        "feb",
        "februar",
        "feber",
        "février",
        "févr",
        "fevr",
        "febrero",
        "febbraio",
        "fevereiro",
        "fev",
        "februari",
        "lutego",
        "luty",
    ],
    &[
        "march", "mar", "märz", "maerz", "mär", "mars", "marzo", "março", "maart", "marca",
        "marzec",
    ],
    &[
        "april",
        "apr",
        "avril",
        "avr",
        "abril",
        "abr",
        "aprile",
        "kwietnia",
        "kwiecień",
    ],
    &[
        "may", "mai", "mayo", "maggio", "mag", "maio", "mei", "maja", "maj",
    ],
    &[
        "june", "jun", "juni", "juin", "junio", "giugno", "giu", "junho", "czerwca", "czerwiec",
    ],
    &[
        "july", "jul", "juli", "juillet", "juil", "julio", "luglio", "lug", "julho", "lipca",
        "lipiec",
    ],
    &[
        "august",
        "aug",
        "août",
        "aout",
        "agosto",
        "ago",
        "augustus",
        "sierpnia",
        "sierpień",
    ],
    &[
        "september",
        "sep",
        "sept",
        "septembre",
        "septiembre",
        "settembre",
        "set",
        "setembro",
        "września",
        "wrzesień",
    ],
    &[
        "october",
        "oct",
        "oktober",
        "okt",
        "octobre",
        "octubre",
        "ottobre",
        "ott",
        "outubro",
        "out",
        "października",
        "październik",
    ],
    &[
        "november",
        "nov",
        "novembre",
        "noviembre",
        "novembro",
        "listopada",
        "listopad",
    ],
    &[
        "december",
        "dec",
        "dezember",
        "dez",
        "décembre",
        "déc",
        "diciembre",
        "dic",
        "dicembre",
        "dezembro",
        "grudnia",
        "grudzień",
    ],
];

fn month_of(word: &str) -> Option<u32> {
    let w = word.trim_end_matches('.').to_lowercase();
    MONTHS
        .iter()
        .position(|names| names.contains(&w.as_str()))
        .map(|k| k as u32 + 1)
}

/// Reads a date written as ISO 8601 (`2019-10-19T18:56`, `2019/10/19`, `20191019`),
/// `19.10.2019`, `19/10/2019` (day first unless that cannot be), or with a month name
/// (`19 Oct 2019`, `Oct 19, 2019`, `19. Oktober 2019`); `YYYY-MM-DD` or `None`.
pub(crate) fn parse_date(s: &str) -> Option<String> {
    let s = s.trim();
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        s.get(r)
            .filter(|x| x.bytes().all(|c| c.is_ascii_digit()))?
            .parse()
            .ok()
    };
    // ISO at the start.
    if b.len() >= 8 && b[..4].iter().all(u8::is_ascii_digit) {
        if b.len() >= 10 && matches!(b[4], b'-' | b'/' | b'.') && b[7] == b[4] {
            if let (Some(y), Some(m), Some(d)) = (num(0..4), num(5..7), num(8..10)) {
                return ymd(y, m, d);
            }
        }
        if b.get(8).is_none_or(|c| !c.is_ascii_digit()) {
            if let (Some(y), Some(m), Some(d)) = (num(0..4), num(4..6), num(6..8)) {
                return ymd(y, m, d);
            }
        }
    }
    // Numbers and month names, in order.
    let mut toks: Vec<(Option<u32>, Option<u32>, char)> = Vec::new(); // (number, month, sep after)
    for raw in s
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|t| !t.is_empty() && !is_one_of(t, DATE_FILLERS))
        .take(40)
    {
        for part in split_numeric_date(raw) {
            toks.push(part);
        }
    }
    for k in 0..toks.len() {
        // D.M.YYYY or D/M/YYYY, M/D/YYYY when D cannot be a month.
        if let (Some(a), Some(bn), Some(y)) = (
            toks[k].0,
            toks.get(k + 1).and_then(|t| t.0),
            toks.get(k + 2).and_then(|t| t.0),
        ) {
            let sep = toks[k].2;
            if matches!(sep, '.' | '/' | '-') && toks[k + 1].2 == sep && y >= 1990 {
                let (d, m) = if sep == '/' && bn > 12 {
                    (bn, a)
                } else {
                    (a, bn)
                };
                if let Some(r) = ymd(y, m, d) {
                    return Some(r);
                }
            }
        }
        let Some(m) = toks[k].1 else { continue };
        // D Month YYYY.
        if let (Some(d), Some(y)) = (
            k.checked_sub(1).and_then(|p| toks[p].0),
            toks.get(k + 1).and_then(|t| t.0),
        ) {
            if let Some(r) = ymd(y, m, d) {
                return Some(r);
            }
        }
        // Month D YYYY (a time may come between: `Fri Feb 18 10:27:24 2022`).
        if let Some(d) = toks.get(k + 1).and_then(|t| t.0) {
            for t in toks.iter().skip(k + 2).take(2) {
                if let Some(r) = t.0.and_then(|y| ymd(y, m, d)) {
                    return Some(r);
                }
            }
        }
    }
    None
}

/// A word of a date: `19.10.2019` is three numbers with `.` after the first two; `19.` a
/// number; `19th` a number; `Oktober` a month.
fn split_numeric_date(w: &str) -> Vec<(Option<u32>, Option<u32>, char)> {
    let mut out = Vec::new();
    if w.starts_with(|c: char| c.is_ascii_digit()) {
        let mut rest = w;
        while !rest.is_empty() && out.len() < 4 {
            let n = rest.bytes().take_while(u8::is_ascii_digit).count();
            if n == 0 || n > 4 {
                break;
            }
            let v: u32 = rest[..n].parse().unwrap_or(0);
            rest = &rest[n..];
            let sep = rest.chars().next().unwrap_or(' ');
            // Ordinal suffixes go with the number.
            let tail = rest.trim_start_matches(|c: char| c.is_ascii_alphabetic());
            let sep = if matches!(sep, '.' | '/' | '-') {
                sep
            } else {
                ' '
            };
            out.push((Some(v), None, sep));
            rest = tail.get(sep.len_utf8().min(tail.len())..).unwrap_or("");
            if sep == ' ' {
                break;
            }
        }
        return out;
    }
    out.push((None, month_of(w), ' '));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_many_forms() {
        for (s, want) in [
            ("2019-10-19T18:56:59+02:00", "2019-10-19"),
            ("2019-10-19 18:56", "2019-10-19"),
            ("2019/10/19", "2019-10-19"),
            ("20191019", "2019-10-19"),
            ("Sat, 19 Oct 2019 00:04:00 +0200", "2019-10-19"),
            ("19.10.2019, 12:00 Uhr", "2019-10-19"),
            ("Veröffentlicht am 19. Oktober 2019", "2019-10-19"),
            ("October 19th, 2019", "2019-10-19"),
            ("le 5 févr. 2020", "2020-02-05"),
            ("12/31/2019", "2019-12-31"),
            ("3 de mayo de 2021", "2021-05-03"),
        ] {
            assert_eq!(parse_date(s).as_deref(), Some(want), "{s}");
        }
        for s in [
            "",
            "yesterday",
            "1850-01-01",
            "2019-13-40",
            "Page 12 of 30",
            "May",
        ] {
            assert_eq!(parse_date(s), None, "{s}");
        }
    }

    #[test]
    fn dates_in_urls() {
        assert_eq!(
            date_in_url("https://e.x/2019/10/19/title/").as_deref(),
            Some("2019-10-19")
        );
        assert_eq!(
            date_in_url("https://e.x/a/2019-10-19-title").as_deref(),
            Some("2019-10-19")
        );
        assert_eq!(date_in_url("https://e.x/2019/title"), None);
        assert_eq!(date_in_url("https://e.x/2019-10-1é"), None);
    }

    #[test]
    fn authors_are_cleaned() {
        assert_eq!(clean_author("By Jane Doe").as_deref(), Some("Jane Doe"));
        assert_eq!(
            clean_author("Von Hans Meier | 3. Mai").as_deref(),
            Some("Hans Meier")
        );
        assert_eq!(
            clean_author("Jane Doe, 01.12.2021").as_deref(),
            Some("Jane Doe")
        );
        assert_eq!(clean_author("https://e.x/author/jd"), None);
        assert_eq!(clean_author("jd@e.x"), None);
        assert_eq!(
            clean_author("This is a long sentence about the author and their many books."),
            None
        );
    }

    #[test]
    fn titles_lose_the_site_name() {
        let t = |og: Option<&str>, tag: &str, h1: &[&str], site: Option<&str>| {
            best_title(
                og.map(str::to_string),
                Some(tag.to_string()),
                &h1.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
                site,
                Some("www.daily.example"),
            )
        };
        assert_eq!(
            t(None, "Budget delayed again | The Daily News", &[], None).as_deref(),
            Some("Budget delayed again")
        );
        assert_eq!(
            t(
                None,
                "Daily - Budget delayed again until May",
                &[],
                Some("Daily")
            )
            .as_deref(),
            Some("Budget delayed again until May")
        );
        assert_eq!(
            t(
                None,
                "Site - Budget delayed",
                &["Logo", "Budget delayed"],
                None
            )
            .as_deref(),
            Some("Budget delayed")
        );
        assert_eq!(
            t(
                Some("Budget: a delay"),
                "Budget | Site",
                &["Other words"],
                None
            )
            .as_deref(),
            Some("Budget: a delay")
        );
    }

    fn page(html: &str) -> Meta {
        let dom = crate::dom::parse(
            html,
            crate::dom::Budget {
                max_nodes: 10_000,
                max_depth: 100,
            },
        )
        .unwrap();
        read(&dom)
    }

    #[test]
    fn ranked_sources() {
        let m = page(
            r#"<html lang="de"><head><title>Ein Titel über alles - Site</title>
            <meta property="article:modified_time" content="2020-02-02T10:00:00Z">
            <meta name="author" content="Site">
            <script type="application/ld+json">{"@type":"NewsArticle","datePublished":"2020-01-01T08:00:00Z",
             "author":{"@type":"Organization","name":"Site GmbH"},"publisher":{"name":"Site"}}</script>
            </head><body><div class="byline">Von Anna Berg</div><time datetime="2019-05-05">x</time>
            <div class="comment-author">Troll</div></body></html>"#,
        );
        assert_eq!(m.date.as_deref(), Some("2020-01-01"));
        assert_eq!(m.author.as_deref(), Some("Anna Berg"));
        assert_eq!(m.title.as_deref(), Some("Ein Titel über alles"));
        assert_eq!(m.lang.as_deref(), Some("de"));
        let m = page("<body><p><i>von Daniela Obers</i></p><p>by the way, we met.</p></body>");
        assert_eq!(m.author.as_deref(), Some("Daniela Obers"));
    }
}
