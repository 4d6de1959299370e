//! No page with visible paragraphs comes out empty: every page of the five gold sets and of the
//! readability test pages in ../shared (1,567 pages; ~20 s in the dev profile).

use std::path::Path;

use thresher_extract::dom::{parse, Budget, Dom, Kind, NodeId, NONE};
use thresher_extract::{extract_html, Limits, Options};
use thresher_io::{read_html_file, Record};

/// Shortest paragraph (non-whitespace characters) that counts as visible text; shorter ones
/// are spacers (`<p>&nbsp;</p>`) and stray labels.
const MIN_PARAGRAPH_CHARS: usize = 20;

/// Elements whose content a browser never shows.
fn invisible_tag(tag: &str) -> bool {
    matches!(
        tag,
        "script"
            | "style"
            | "template"
            | "head"
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
            | "dialog"
            | "map"
            | "audio"
            | "video"
            | "title"
    )
}

/// Whether an element hides itself (`hidden`, `aria-hidden=true`, `display:none`,
/// `visibility:hidden`).
fn hides(dom: &Dom, id: NodeId) -> bool {
    let n = dom.node(id);
    if n.attr("hidden").is_some()
        || n.attr("aria-hidden")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
    {
        return true;
    }
    n.attr("style").is_some_and(|s| {
        let s: String = s
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_lowercase();
        s.contains("display:none") || s.contains("visibility:hidden")
    })
}

/// Whether the page has a `<p>` with at least [`MIN_PARAGRAPH_CHARS`] characters that a
/// browser shows.
fn has_visible_paragraph(dom: &Dom) -> bool {
    (0..dom.nodes.len() as NodeId).any(|id| {
        if dom.node(id).tag().is_none_or(|t| &**t != "p") {
            return false;
        }
        let mut up = id;
        while up != NONE {
            if let Kind::Element { name, .. } = &dom.node(up).kind {
                if invisible_tag(name) || hides(dom, up) {
                    return false;
                }
            }
            up = dom.node(up).parent;
        }
        dom.text_of(id)
            .chars()
            .filter(|c| !c.is_whitespace())
            .count()
            >= MIN_PARAGRAPH_CHARS
    })
}

#[test]
fn no_page_with_visible_paragraphs_comes_out_empty() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    if !root.is_dir() {
        assert!(
            std::env::var_os("THRESHER_REQUIRE_SHARED").is_none(),
            "../shared is required (THRESHER_REQUIRE_SHARED is set) but absent"
        );
        eprintln!("skipping: ../shared/corpus absent");
        return;
    }
    let limits = Limits::default();
    let budget = Budget {
        max_nodes: limits.max_dom_nodes,
        max_depth: limits.max_depth,
    };
    let (mut pages, mut with_paragraphs, mut empty) = (0, 0, Vec::new());
    for set in [
        "scrapinghub-aeb",
        "cleaneval",
        "cleanportaleval",
        "dragnet",
        "trafilatura-eval",
        "readability-testpages",
    ] {
        let mut paths: Vec<_> = std::fs::read_dir(root.join(set))
            .unwrap_or_else(|e| panic!("{set}: {e}"))
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                let f = p.to_string_lossy();
                f.ends_with(".html.gz") && !f.ends_with(".annotated.html.gz")
            })
            .collect();
        paths.sort();
        assert!(!paths.is_empty(), "{set}: no pages");
        for p in paths {
            let Record::Doc(doc) = read_html_file(&p) else {
                panic!("{}: unreadable", p.display());
            };
            pages += 1;
            let html = doc.text();
            let ex = extract_html(html, &limits, &Options::default())
                .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            if !ex.text.trim().is_empty() {
                continue;
            }
            let dom = parse(html, budget).unwrap();
            if has_visible_paragraph(&dom) {
                with_paragraphs += 1;
                empty.push(p.display().to_string());
            }
        }
    }
    eprintln!("{pages} pages, {with_paragraphs} empty with visible paragraphs");
    assert!(pages >= 1_500, "only {pages} pages");
    assert!(empty.is_empty(), "empty extractions: {empty:#?}");
}
