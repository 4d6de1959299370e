//! Golden outputs: `extract_html` (the function behind the `html_extract` step) on twenty real
//! pages in `tests/pages/` (origin and licence in `tests/pages/SOURCE.md`), each compared with
//! its reviewed snapshot in `tests/snapshots/`.
//!
//! A change to the extraction shows here as a readable diff of text and metadata. To accept
//! one after reviewing it: `INSTA_UPDATE=always cargo test -p thresher-extract --test
//! snapshots` (or `cargo insta review`), then read and commit the changed `.snap` files. With
//! `CI` set, insta never writes snapshots: a difference fails the test.

use std::io::Read;
use std::path::Path;

use thresher_extract::{extract_html, Limits, Options};

/// The pages, by file name without `.html.gz`; every one must be present (a missing page fails
/// the test rather than shrinking it).
const PAGES: &[&str] = &[
    "aeb-06ee193de4bd",
    "aeb-0ec95c7261d1",
    "aeb-14cc2a0ca59c",
    "aeb-20b2b64916b0",
    "aeb-3252222e61fe",
    "aeb-c82b3d1d540b",
    "aeb-f81c6c05d9cb",
    "readability-aktualne",
    "readability-ars-1",
    "readability-la-nacion",
    "readability-mercurial",
    "readability-videos-2",
    "readability-wapo-1",
    "readability-yahoo-4",
    "trafilatura-24horas.cl-segundo",
    "trafilatura-adac.de.kindersitze",
    "trafilatura-archive.org.przepisy.pl.pierogi",
    "trafilatura-bondyblog.fr.paris-8",
    "trafilatura-caktusgroup.com.django",
    "trafilatura-en.wikipedia.org.tsne",
];

/// Reads a page as the step sees it: gunzipped, then decoded with thresher-io's charset rules.
fn read_page(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/pages")
        .join(format!("{name}.html.gz"));
    let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(file)
        .read_to_end(&mut raw)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    thresher_io::charset::decode_html(&raw, None).text
}

/// The extraction of one page as text: the metadata fields, one per line, then the main text.
fn render(html: &str) -> String {
    let e = extract_html(html, &Limits::default(), &Options::default())
        .unwrap_or_else(|e| panic!("extraction failed: {e}"));
    let field = |v: &Option<String>| v.as_deref().unwrap_or("-").to_string();
    format!(
        "title: {}\nauthor: {}\ndate: {}\ncanonical_url: {}\nlang: {}\n---\n{}\n",
        field(&e.title),
        field(&e.author),
        field(&e.date),
        field(&e.canonical_url),
        field(&e.lang),
        e.text
    )
}

#[test]
fn pages_match_their_snapshots() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pages");
    // Every page in the folder is listed, so none is silently left out.
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.strip_suffix(".html.gz").map(str::to_string)
        })
        .collect();
    on_disk.sort();
    assert_eq!(on_disk, PAGES, "tests/pages and PAGES differ");
    for name in PAGES {
        let out = render(&read_page(name));
        assert!(
            out.len() > 500,
            "{name}: almost nothing extracted, see its snapshot"
        );
        insta::assert_snapshot!(*name, out);
    }
}
