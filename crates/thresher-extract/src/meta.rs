//! Page metadata: title, author, publication date, canonical URL, language.
//!
//! Sources in order of trust: Open Graph / article meta tags, then standard meta names, then
//! JSON-LD (`application/ld+json`), then the page itself (`<title>`, `<time>`, first `<h1>`).

use serde_json::Value;

use crate::dom::{Dom, Kind};

/// The metadata of one page; [`crate::extract`] copies it into its
/// [`Extracted`](crate::Extracted).
#[derive(Debug, Default)]
pub(crate) struct Meta {
    /// `og:title`, else `<title>`, else the first `<h1>`.
    pub title: Option<String>,
    /// Author from meta tags, JSON-LD or a `rel`/`itemprop` author element.
    pub author: Option<String>,
    /// Publication date as written in the page.
    pub date: Option<String>,
    /// `<link rel=canonical>`, else `og:url`.
    pub canonical_url: Option<String>,
    /// `<html lang>`.
    pub lang: Option<String>,
}

/// Longest metadata value kept; longer ones are page text in the wrong place.
const MAX_META_CHARS: usize = 500;

fn clean(s: &str) -> Option<String> {
    let s: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    (!s.is_empty() && s.chars().count() <= MAX_META_CHARS).then_some(s)
}

fn set(slot: &mut Option<String>, v: &str) {
    if slot.is_none() {
        *slot = clean(v);
    }
}

/// Reads the metadata of the page.
pub(crate) fn read(dom: &Dom) -> Meta {
    let mut meta = Meta::default();
    let out = &mut meta;
    let mut title_tag = None;
    let mut og_title = None;
    let mut h1 = None;
    let mut time = None;
    let mut ld_json = Vec::new();
    for (i, node) in dom.nodes.iter().enumerate() {
        let Kind::Element { name, .. } = &node.kind else {
            continue;
        };
        match &**name {
            "html" => {
                if let Some(l) = node.attr("lang") {
                    set(&mut out.lang, l);
                }
            }
            "title" if title_tag.is_none() => title_tag = clean(&dom.text_of(i as u32)),
            "h1" if h1.is_none() => h1 = clean(&dom.text_of(i as u32)),
            "time" if time.is_none() => {
                time = node.attr("datetime").and_then(clean);
            }
            "meta" => {
                let key = node
                    .attr("property")
                    .or_else(|| node.attr("name"))
                    .or_else(|| node.attr("itemprop"))
                    .unwrap_or("")
                    .to_ascii_lowercase();
                let Some(content) = node.attr("content") else {
                    continue;
                };
                match key.as_str() {
                    "og:title" | "twitter:title" => set(&mut og_title, content),
                    "author" | "article:author" | "dc.creator" | "dc.creator.aut" | "byl"
                    | "sailthru.author" | "parsely-author"
                        // article:author is often a profile URL; a name is more useful.
                        if !content.starts_with("http") =>
                    {
                        set(
                            &mut out.author,
                            content.trim_start_matches("By ").trim_start_matches("by "),
                        );
                    }
                    "article:published_time"
                    | "datepublished"
                    | "date"
                    | "pubdate"
                    | "publishdate"
                    | "dc.date"
                    | "dc.date.issued"
                    | "dcterms.date"
                    | "sailthru.date"
                    | "og:published_time"
                    | "article:published"
                    | "publication_date"
                    | "parsely-pub-date" => set(&mut out.date, content),
                    "og:url" if content.starts_with("http") => set(&mut out.canonical_url, content),
                    _ => {}
                }
            }
            "link" => {
                let rel = node.attr("rel").unwrap_or("");
                if rel
                    .split_whitespace()
                    .any(|r| r.eq_ignore_ascii_case("canonical"))
                {
                    if let Some(h) = node.attr("href") {
                        // The link tag is more authoritative than og:url.
                        if let Some(c) = clean(h) {
                            out.canonical_url = Some(c);
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
                ld_json.push(dom.text_of(i as u32));
            }
            "span" | "a" | "div" | "p" => {
                if out.author.is_none() && node.attr("rel").is_some_and(|r| r == "author") {
                    out.author = clean(&dom.text_of(i as u32)).filter(|a| a.len() < 80);
                }
                if out.author.is_none() && node.attr("itemprop").is_some_and(|r| r == "author") {
                    out.author = clean(&dom.text_of(i as u32)).filter(|a| a.len() < 80);
                }
            }
            _ => {}
        }
    }
    for src in &ld_json {
        if src.len() > 1_000_000 {
            continue;
        }
        if let Ok(v) = serde_json::from_str::<Value>(src) {
            from_json_ld(&v, out, 0);
        }
    }
    out.title = og_title.or(title_tag).or(h1);
    if out.date.is_none() {
        out.date = time;
    }
    meta
}

fn from_json_ld(v: &Value, out: &mut Meta, depth: u32) {
    if depth > 4 {
        return;
    }
    match v {
        Value::Array(a) => {
            for x in a.iter().take(32) {
                from_json_ld(x, out, depth + 1);
            }
        }
        Value::Object(m) => {
            if let Some(g) = m.get("@graph") {
                from_json_ld(g, out, depth + 1);
            }
            if out.date.is_none() {
                if let Some(Value::String(d)) = m.get("datePublished") {
                    set(&mut out.date, d);
                }
            }
            if out.author.is_none() {
                let name = match m.get("author") {
                    Some(Value::String(s)) => Some(s.as_str()),
                    Some(Value::Object(a)) => a.get("name").and_then(Value::as_str),
                    Some(Value::Array(a)) => a.first().and_then(|x| match x {
                        Value::String(s) => Some(s.as_str()),
                        Value::Object(o) => o.get("name").and_then(Value::as_str),
                        _ => None,
                    }),
                    _ => None,
                };
                if let Some(n) = name {
                    set(&mut out.author, n);
                }
            }
        }
        _ => {}
    }
}
