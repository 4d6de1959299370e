//! Golden Markdown outputs (`output_format = "markdown"`) of `extract_html` on ten real pages of
//! ../shared (headings, nested lists, tables, code, quotes, emphasis; German, English, Spanish,
//! Japanese), each compared with its reviewed snapshot in `tests/snapshots/`.
//!
//! To accept a reviewed change: `INSTA_UPDATE=always cargo test -p thresher-extract --test
//! markdown_snapshots`, then read and commit the changed `.snap` files. The pages are read
//! from ../shared/corpus; without it the test skips (fails under THRESHER_REQUIRE_SHARED).

use std::io::Read;
use std::path::Path;

use thresher_extract::{extract_html, Limits, Options, OutputFormat};

/// (set, page id, links kept?); the comment above each says what the page shows.
const PAGES: &[(&str, &str, bool)] = &[
    // A data table under headings; German.
    ("trafilatura-eval", "90min.de-Bundesliga-Tabelle", false),
    // Headings down to h4, lists, bold and italic runs; German.
    ("trafilatura-eval", "finanzcheck.de.finanzierung", false),
    // Fenced code blocks and inline code; English.
    ("trafilatura-eval", "github.com.yapapi", false),
    // Nested lists under many heading levels, with links.
    ("readability-testpages", "firefox-nightly-blog", true),
    // A table and a list on a government page; German.
    ("trafilatura-eval", "bafa.de-mineraloelabsatz", false),
    // Spanish news with lists.
    ("trafilatura-eval", "larepublica.pe-minedu", false),
    // Japanese (ruby text inline).
    ("trafilatura-eval", "nhk.or.jp.k100", false),
    // Blockquotes.
    (
        "trafilatura-eval",
        "archive.org.bewegliche-lettern.de.typography",
        false,
    ),
    // Links inside table cells.
    ("readability-testpages", "links-in-tables", true),
    // A layout table: cells stay paragraphs.
    ("cleaneval", "final-444", false),
];

#[test]
fn markdown_of_real_pages_matches_snapshots() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    if !root.is_dir() {
        assert!(
            std::env::var_os("THRESHER_REQUIRE_SHARED").is_none(),
            "../shared is required (THRESHER_REQUIRE_SHARED is set) but absent"
        );
        eprintln!("skipping: ../shared/corpus absent");
        return;
    }
    for &(set, id, links) in PAGES {
        let path = root.join(set).join(format!("{id}.html.gz"));
        let mut raw = Vec::new();
        std::fs::File::open(&path)
            .and_then(|f| flate2::read::GzDecoder::new(f).read_to_end(&mut raw))
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let html = thresher_io::charset::decode_html(&raw, None).text;
        let opts = Options {
            output_format: OutputFormat::Markdown,
            include_links: links,
            ..Options::default()
        };
        let md = extract_html(&html, &Limits::default(), &opts)
            .unwrap_or_else(|e| panic!("{id}: {e}"))
            .text;
        assert!(md.len() > 300, "{id}: almost nothing extracted");
        insta::assert_snapshot!(format!("markdown__{set}__{id}"), md);
    }
}
