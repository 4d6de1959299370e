//! Main-content extraction: from a parsed page to the article text, boilerplate removed.
//!
//! The algorithm, in five passes over the [`Dom`], one module each:
//!
//! 1. **Pruning** (`prune`). Elements that never hold main text are dropped with their subtree:
//!    scripts, styles, forms controls, `<nav>`, `<aside>`, `<footer>`, hidden elements, and
//!    elements whose `class`/`id`/`role` name a boilerplate part (comments, share bars, cookie
//!    notices, sidebars, related links, menus...; the vocabulary is in `names`, the tag and
//!    attribute facts in `element`). An element that contains the article (`<article>`,
//!    `<main>`, a content-named element) is never dropped for its name, because site-wide
//!    wrappers often carry names like `content-sidebar-wrap`.
//! 2. **Blocks** (`blocks`). The remaining tree is cut into text blocks at block-level
//!    elements; each block knows its text, how much of it is link text, and its owner element.
//! 3. **Scoring** (`score`). Paragraph-like blocks give points (for their length and commas)
//!    to their ancestors, fading with distance, as in Arc90's Readability; an element's score
//!    is scaled by its non-link share.
//! 4. **Main container** (`container`). The best element and those of its siblings that score
//!    well or hold plain prose form the main content.
//! 5. **Selection** (`select`). Blocks inside the main content are kept unless they are mostly
//!    links; blocks outside it are kept only when they read as prose on their own (long, few
//!    links, sentence punctuation) — the union of a container strategy and a block-classifier
//!    strategy, which keeps the text of table layouts and multi-part pages that a single
//!    container misses. Blocks with few links inside an element of the main container's tag
//!    and class join too: an article cut into several `story-text` parts by ads between them.
//!    Then headings of kept text join, labels of link lists and picture credits go, the
//!    comment section is cut, and a page where little was kept falls back to its prose blocks.
//!
//! Text predicates (sentence, legal notice, credit line, comment heading) are in `text`; the
//! debug view in `debug`. Each threshold is a named constant beside the pass that uses it.

mod blocks;
mod container;
mod debug;
mod element;
mod fallback;
mod markdown;
mod names;
mod options;
mod prune;
mod score;
mod select;
mod text;

use crate::dom::{Dom, NONE};

use blocks::{Block, BlockKind};
pub use options::{Favor, Options, OutputFormat, Tuning};
#[doc(hidden)]
pub use options::{
    R_ALL, R_CELLS, R_CREDIT, R_DECK, R_H1_BOX, R_HEADINGS, R_LEAD, R_LEAD_BEATS_WEAK, R_LEAD_FAR,
    R_LINK_LABEL, R_SAME_CLASS, R_SHORT_LINKS,
};

/// What the extractor found in a page.
#[derive(Debug, Default, Clone)]
pub struct Extracted {
    /// Main text: one paragraph (or heading, list item, table row) per line; Markdown with
    /// [`OutputFormat::Markdown`].
    pub text: String,
    /// The headline: the `<h1>` that `<title>` or `og:title` contains, else `og:title` or
    /// `<title>` without the site's name, else the first `<h1>`.
    pub title: Option<String>,
    /// Author(s) from JSON-LD, meta tags, `rel`/`itemprop` author elements or bylines.
    pub author: Option<String>,
    /// Publication date, `YYYY-MM-DD` (meta tags, JSON-LD, `<time>`, date text, URL).
    pub date: Option<String>,
    /// Canonical URL (`<link rel=canonical>` or `og:url`).
    pub canonical_url: Option<String>,
    /// The declared language: `<html lang>`, else `content-language`, else `og:locale`.
    pub lang: Option<String>,
}

/// Runs the extraction on a parsed page.
pub fn extract(dom: &Dom, opts: &Options) -> Extracted {
    run(dom, opts, None)
}

/// Like [`extract`], and also describes each text block (kept or not, inside the main container
/// or not, its distance to it, link density, owner path) and each pruned element, one per line:
/// for debugging the rules, not for pipelines.
#[doc(hidden)]
pub fn extract_debug(dom: &Dom, opts: &Options) -> (Extracted, String) {
    let mut dbg = String::new();
    let out = run(dom, opts, Some(&mut dbg));
    (out, dbg)
}

/// The passes in order; metadata from [`crate::meta`].
fn run(dom: &Dom, opts: &Options, mut dbg: Option<&mut String>) -> Extracted {
    let facts = prune::compute_facts(dom, opts, false);
    let (blocks, markers) = blocks::collect_blocks(dom, &facts, opts.include_tables);
    if let Some(d) = dbg.as_deref_mut() {
        debug::dropped(dom, &facts, d);
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
        if let Some((blocks, keep)) = fallback::best_candidate(dom, opts) {
            out.text = join_text(&blocks, &keep);
        }
        return out;
    }
    let scores = score::score_ancestors(dom, &facts, &blocks);
    let main = container::Main::find(dom, &facts, &scores, opts.tuning.sibling_min_share);
    let sel = select::select(dom, &facts, &blocks, &markers, &main, opts);
    out.text = match opts.output_format {
        OutputFormat::Text => join_text(&blocks, &sel.keep),
        OutputFormat::Markdown => markdown::render(dom, &facts, &blocks, &sel.keep, opts),
    };
    // The main passes kept nothing: the best of the fallback's candidates rather than no text
    // (as plain paragraphs in Markdown mode too: its blocks come from another pruning, which
    // the Markdown walk does not mirror).
    if out.text.is_empty() {
        if let Some((blocks, keep)) = fallback::best_candidate(dom, opts) {
            out.text = join_text(&blocks, &keep);
        }
    }
    if let Some(d) = dbg {
        debug::blocks(
            dom,
            &blocks,
            &markers,
            &main,
            &sel,
            opts.tuning.prose_min_chars,
            d,
        );
    }
    out
}

/// The kept blocks, one per line; cells of one table row on one line, tab-separated.
fn join_text(blocks: &[Block], keep: &[bool]) -> String {
    let mut text = String::with_capacity(select::kept_chars(blocks, keep) as usize * 2);
    let mut prev_row = NONE;
    for (b, _) in blocks.iter().zip(keep).filter(|(_, &k)| k) {
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
    text
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
    fn lead_named_header_paragraph_is_not_a_header() {
        let html = format!(
            r#"<body><article><header class="article-header"><h1>Budget</h1>
            <p class="article-header__lead">The vote on the budget was put off again.</p></header>
            <div class="body"><p>{ARTICLE}</p><p>{ARTICLE}</p></div></article></body>"#
        );
        // Off by default since the cross-validation (it helped one gold set only).
        assert!(!run(&html).text.contains("put off again"));
        let mut opts = Options::default();
        opts.tuning.rules |= options::R_LEAD_BEATS_WEAK;
        let e = run_with(&html, &opts);
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
        let e = run(&format!(
            "<body><article><p>{ARTICLE}</p><p>Photo: Jane Roe for the Daily</p><p>{ARTICLE}</p></article></body>"
        ));
        assert!(!e.text.contains("Jane Roe"), "{}", e.text);
    }

    #[test]
    fn a_long_heading_before_the_text_is_its_deck() {
        let html = format!(
            r#"<body><div class="page"><div class="hd"><h1>Budget delayed</h1>
            <h2>The council could not agree on the cost of the new building, so the vote on the whole budget waits another month.</h2>
            <p>By Ann Lee</p></div>
            <div class="x"><div class="y"><div class="body"><p>{ARTICLE}</p><p>{ARTICLE}</p><p>{ARTICLE}</p></div></div></div></div></body>"#
        );
        let e = run(&html);
        assert!(e.text.contains("The council could not agree"), "{}", e.text);
        let mut opts = Options::default();
        opts.tuning.rules &= !options::R_DECK;
        assert!(!run_with(&html, &opts).text.contains("could not agree"));
    }

    #[test]
    fn a_data_table_beside_the_text_joins() {
        let html = format!(
            r#"<body><div class="page"><div class="text"><p>{ARTICLE}</p><p>{ARTICLE}</p><p>{ARTICLE}</p></div>
            <div class="facts"><table><tr><th>Vintage</th><td>2016</td></tr><tr><th>Grape</th><td>Zinfandel</td></tr></table></div>
            <div class="more"><table><tr><td><a href="/a">Other wines</a></td><td><a href="/b">Offers</a></td></tr></table></div>
            <div class="hd"><table><tr><td>Wine Blog of the Year</td></tr><tr><td>since 2004</td></tr></table></div></div></body>"#
        );
        let e = run(&html);
        assert!(e.text.contains("Grape\tZinfandel"), "{}", e.text);
        assert!(!e.text.contains("Other wines"), "{}", e.text);
        // A layout table (one cell a row) is not data.
        assert!(!e.text.contains("since 2004"), "{}", e.text);
        let mut opts = Options::default();
        opts.tuning.rules &= !options::R_CELLS;
        assert!(!run_with(&html, &opts).text.contains("Zinfandel"));
    }

    fn run_with(html: &str, opts: &Options) -> Extracted {
        let dom = parse(
            html,
            Budget {
                max_nodes: 100_000,
                max_depth: 500,
            },
        )
        .unwrap();
        extract(&dom, opts)
    }

    #[test]
    fn comments_are_kept_after_the_article_only_when_asked() {
        let html = format!(
            r#"<body><nav><a href="/">Home</a></nav><article><h1>Budget</h1><p>{ARTICLE}</p><p>{ARTICLE}</p></article>
            <div id="comments"><h3>3 Comments</h3><ol class="commentlist">
            <li class="comment"><div class="comment-author">Bob</div>
            <div class="comment-content"><p>Great article, thanks for writing it, I agree with most of it.</p></div>
            <a class="comment-reply-link" href="/r">Reply</a></li>
            <li class="comment"><div class="comment-content"><p>I disagree: the schedule was never the issue here.</p></div></li>
            </ol><div class="comment-form"><form><textarea></textarea></form></div></div>
            <footer>Copyright 2020 Example Inc.</footer></body>"#
        );
        let plain = run(&html);
        assert!(!plain.text.contains("Great article"), "{}", plain.text);
        let opts = Options {
            include_comments: true,
            ..Options::default()
        };
        let e = run_with(&html, &opts);
        let article = e.text.find("The committee met").unwrap();
        let first = e.text.find("Great article").expect(&e.text);
        assert!(article < first, "{}", e.text);
        assert!(e.text.contains("I disagree: the schedule"), "{}", e.text);
        assert!(e.text.starts_with(&plain.text), "{}", e.text);
        for bad in ["Home", "Reply", "Copyright"] {
            assert!(!e.text.contains(bad), "{bad} in {}", e.text);
        }
    }

    #[test]
    fn a_page_pruned_to_nothing_falls_back_to_its_paragraphs() {
        // The whole page sits in a sidebar-named wrapper under 60% of the body: pruned by name.
        let html = format!(
            r#"<body><div class="sidebar-layout"><p>{ARTICLE}</p><p>{ARTICLE}</p></div>
            <div class="x"><p>{ARTICLE} {ARTICLE} {ARTICLE}</p></div></body>"#
        );
        let e = run(&html);
        assert!(e.text.contains("The committee met"), "{}", e.text);
        // Only link paragraphs: the paragraphs all the same, rather than nothing.
        let e = run(
            r#"<body><p><a href="/a">A story about the budget vote and its delays</a></p></body>"#,
        );
        assert_eq!(e.text, "A story about the budget vote and its delays");
        // Nothing visible: nothing.
        assert_eq!(
            run(r#"<body><p hidden>Hidden text of the page.</p></body>"#).text,
            ""
        );
    }

    #[test]
    fn favor_shifts_precision_and_recall() {
        // A link-heavy paragraph in the article (link density 0.6) and prose outside the
        // container: precision drops the first, recall keeps more.
        let html = format!(
            r#"<body><div class="page"><div class="story"><p>{ARTICLE}</p><p>{ARTICLE}</p><p>{ARTICLE}</p>
            <p>See <a href="/1">the council's full budget report for this year</a> and the <a href="/2">minutes</a> of the meeting today.</p></div>
            <div class="other"><p>The mayor was not there. She said on Wednesday that the city would publish all of the figures and the new plans for the old library soon.</p></div></div></body>"#
        );
        let p = run_with(&html, &Options::default().favor(Favor::Precision));
        let b = run(&html);
        let r = run_with(&html, &Options::default().favor(Favor::Recall));
        assert!(p.text.len() <= b.text.len() && b.text.len() <= r.text.len());
        assert!(!p.text.contains("full budget report"), "{}", p.text);
        assert!(b.text.contains("full budget report"), "{}", b.text);
        assert!(r.text.contains("The mayor"), "{}", r.text);
    }
}
