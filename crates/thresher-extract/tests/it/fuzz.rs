//! Fuzz-style checks of the HTML tokenizer and extraction (proptest, a few seconds in the dev
//! profile): generated markup, random bytes and real pages cut and damaged everywhere go through
//! [`extract_html`], which must return (a text or an error) without panicking, and the fast
//! tokenizer must give the same tree as html5ever's own. Pathological sizes must finish with the
//! expected output (no timing is asserted: a quadratic case shows as a test that does not end).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use proptest::prelude::*;

use thresher_extract::dom::{
    parse, parse_with_html5ever, parses_fast, Budget, BudgetError, MAX_ATTRS_FOR_HTML5EVER,
};
use thresher_extract::{extract_html, ExtractError, Limits, Options};
use thresher_io::{read_html_file, Record};

const BIG: Budget = Budget {
    max_nodes: 1_000_000,
    max_depth: 2000,
};

/// Extraction returns, and both tokenizers build the same tree.
fn check(html: &str) {
    let _ = extract_html(html, &Limits::default(), &Options::default());
    let a = parse(html, BIG);
    let b = parse_with_html5ever(html, BIG);
    match (a, b) {
        (Ok(a), Ok(b)) => assert!(a.same_tree(&b), "{html:?}"),
        (a, b) => assert_eq!(a.err(), b.err(), "{html:?}"),
    }
}

/// Pieces of markup, weighted towards what the tokenizer branches on.
const PARTS: &[&str] = &[
    "<",
    ">",
    "</",
    "/>",
    "<!",
    "<?",
    "&",
    "&#",
    "&#x",
    ";",
    "=",
    "\"",
    "'",
    " ",
    "\n",
    "\r",
    "\t",
    "\0",
    "-",
    "--",
    "]]>",
    "<![CDATA[",
    "<!--",
    "-->",
    "<!DOCTYPE",
    "<!doctype html>",
    " PUBLIC ",
    " SYSTEM ",
    "\"-//W3C//DTD HTML 4.01//EN\"",
    "p",
    "a",
    "div",
    "<p>",
    "</p>",
    "<a href=",
    "</a>",
    "<b>",
    "</b>",
    "<table>",
    "<tr>",
    "<td>",
    "</table>",
    "<title>",
    "</title>",
    "<textarea>",
    "</textarea>",
    "<xmp>",
    "</xmp>",
    "<iframe>",
    "</iframe>",
    "<noembed>",
    "<noframes>",
    "<plaintext>",
    "<script>",
    "</script>",
    "<script type=\"application/ld+json\">",
    "<style>",
    "</style>",
    "<svg>",
    "</svg>",
    "<math>",
    "</math>",
    "<mi>",
    "<select>",
    "<option>",
    "<template>",
    "</template>",
    "<frameset>",
    "<body>",
    "<html>",
    "<head>",
    "<pre>",
    "<listing>",
    "<br>",
    "</br>",
    "<img src=x",
    "<input value=&copy=1>",
    "&amp",
    "&amp;",
    "&nbsp",
    "&notin;",
    "&noti",
    "&#128;",
    "&#x80",
    "&#0;",
    "&#xD800;",
    "&#xDFFF;",
    "&#x110000;",
    "&#99999999999;",
    "&#1114111;",
    "&#xFFFE;",
    "&#13;",
    "&CounterClockwiseContourIntegral;",
    "&AElig",
    "\u{e9}",
    "\u{4e2d}",
    "\u{1f600}",
    "\u{feff}",
    "\u{fffd}",
    "text ",
    "x=y",
];

/// A string from random bytes: mostly bytes the tokenizer cares about, some UTF-8 text, some
/// arbitrary bytes (decoded lossily, as a charset decoder would hand them over).
fn random_bytes() -> impl Strategy<Value = String> {
    const BYTES: &[u8] = b"<>&#;/!?-=\"' \n\r\t\0xX0129aAbpdiv[]CDATA";
    let piece = prop_oneof![
        1 => any::<u8>().prop_map(|b| vec![b]),
        1 => Just("\u{e9}\u{4e2d}".as_bytes().to_vec()),
        8 => prop::sample::select(BYTES).prop_map(|b| vec![b]),
    ];
    prop::collection::vec(piece, 0..400)
        .prop_map(|v| String::from_utf8_lossy(&v.concat()).into_owned())
}

/// Generated markup (1-60 pieces of [`PARTS`]) three times in four, random bytes otherwise.
fn markup_or_bytes() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::collection::vec(prop::sample::select(PARTS), 1..61).prop_map(|p| p.concat()),
        1 => random_bytes(),
    ]
}

/// `FUZZ_ROUNDS` and `FUZZ_PAGES` (environment) run more inputs by hand, and proptest's
/// `PROPTEST_RNG_SEED` other ones, e.g.
/// `PROPTEST_RNG_SEED=7 FUZZ_ROUNDS=300000 cargo test --release -p thresher-extract --test it fuzz`.
fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A proptest configuration of `cases` cases (failures saved beside this file).
fn config(cases: u64) -> ProptestConfig {
    ProptestConfig {
        cases: u32::try_from(cases).unwrap_or(u32::MAX),
        source_file: Some(file!()),
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config(env_or("FUZZ_ROUNDS", 4000)))]

    #[test]
    fn generated_markup_and_random_bytes_never_panic(html in markup_or_bytes()) {
        check(&html);
    }
}

/// Up to `n` pages of each gold set and of the readability test pages, smallest first (read in
/// place; nothing is copied into the repository). Empty when ../shared is absent.
fn shared_pages(n: usize) -> Vec<(PathBuf, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    let mut out = Vec::new();
    for set in [
        "scrapinghub-aeb",
        "cleaneval",
        "cleanportaleval",
        "dragnet",
        "trafilatura-eval",
        "readability-testpages",
    ] {
        let Ok(rd) = std::fs::read_dir(root.join(set)) else {
            continue;
        };
        let mut files: Vec<(u64, PathBuf)> = rd
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.to_string_lossy().ends_with(".html.gz"))
            .map(|p| (std::fs::metadata(&p).map_or(0, |m| m.len()), p))
            .collect();
        files.sort();
        for (_, p) in files.into_iter().take(n) {
            if let Record::Doc(d) = read_html_file(&p) {
                out.push((p, d.text().to_string()));
            }
        }
    }
    out
}

/// The pages of [`shared_pages`] (read once for all tests); skips (or fails, under
/// THRESHER_REQUIRE_SHARED) when ../shared is absent.
fn pages() -> &'static [(PathBuf, String)] {
    static PAGES: OnceLock<Vec<(PathBuf, String)>> = OnceLock::new();
    let pages = PAGES.get_or_init(|| shared_pages(env_or("FUZZ_PAGES", 4) as usize));
    if pages.is_empty() {
        assert!(
            std::env::var_os("THRESHER_REQUIRE_SHARED").is_none(),
            "../shared is required (THRESHER_REQUIRE_SHARED is set) but absent"
        );
        eprintln!("skipping: ../shared/corpus absent");
    }
    pages
}

/// Real pages cut at every character (the smallest pages) or at ~150 places (the others).
#[test]
fn real_pages_truncated_never_panic() {
    let pages = pages();
    if pages.is_empty() {
        return;
    }
    let mut every_byte = 0;
    for (path, page) in pages {
        let step = if page.len() < 6000 && every_byte < 2 {
            every_byte += 1;
            1
        } else {
            (page.len() / 150).max(1)
        };
        let mut cut = 0;
        while cut <= page.len() {
            if page.is_char_boundary(cut) {
                let _ = extract_html(&page[..cut], &Limits::default(), &Options::default());
            }
            cut += step;
        }
        eprintln!("{}: {} bytes", path.display(), page.len());
    }
    eprintln!("{} pages, {every_byte} cut at every character", pages.len());
    assert!(every_byte > 0);
}

proptest! {
    // As many as the 20 or 8 damaged copies of each page (alternately) the loop made before.
    #![proptest_config(config(14 * env_or("FUZZ_PAGES", 4) * 6))]

    /// Real pages damaged with 1-8 markup pieces inserted at random character boundaries.
    #[test]
    fn real_pages_damaged_never_panic(
        page in any::<prop::sample::Index>(),
        edits in prop::collection::vec(
            (any::<prop::sample::Index>(), prop::sample::select(PARTS)),
            1..9,
        ),
    ) {
        let pages = pages();
        if pages.is_empty() {
            return Ok(());
        }
        let mut s = page.get(pages).1.clone();
        for (at, part) in edits {
            let mut at = at.index(s.len() + 1);
            while !s.is_char_boundary(at) {
                at -= 1;
            }
            s.insert_str(at, part);
        }
        check(&s);
    }
}

fn extract(html: &str) -> Result<thresher_extract::Extracted, ExtractError> {
    extract_html(html, &Limits::default(), &Options::default())
}

/// Sizes that would show quadratic or unbounded work; each must finish with the right output.
#[test]
fn pathological_sizes_finish() {
    // 200,000 '<' that start nothing are text.
    let lt = "<".repeat(200_000);
    assert_eq!(extract(&lt).unwrap().text, lt);
    // A tag with 100,000 attributes: all kept, the repeated one once.
    let attrs: String = (0..100_000).map(|i| format!(" a{i}=v{i}")).collect();
    let html = format!("<p{attrs} a7=no>x</p>");
    let dom = parse(&html, BIG).unwrap();
    let p = dom.find_first("p").unwrap();
    assert_eq!(dom.node(p).attr("a99999"), Some("v99999"));
    assert_eq!(dom.node(p).attr("a7"), Some("v7"));
    // The same tag on a page that needs html5ever's tokenizer (a NUL in a tag): its linear
    // search for repeated names made that quadratic (2.6 s here, half an hour at 20 MB). Over
    // the limit it is an error; just under it, the page parses.
    let slow = format!("<b a\0=1>x</b>{html}");
    assert!(!parses_fast(&slow));
    let err = extract(&slow).unwrap_err();
    assert_eq!(
        err,
        ExtractError::Budget(BudgetError::TooManyAttributes(MAX_ATTRS_FOR_HTML5EVER))
    );
    let attrs: String = (0..MAX_ATTRS_FOR_HTML5EVER)
        .map(|i| format!(" a{i}=\">\""))
        .collect();
    let dom = parse(&format!("<b a\0=1>x</b><p{attrs}>y</p>"), BIG).unwrap();
    assert_eq!(dom.node(dom.find_first("p").unwrap()).attr("a0"), Some(">"));
    // A 5 MB unterminated comment, bogus comment, CDATA section, RCDATA and numeric reference.
    let body = "The committee met on Tuesday and agreed on the budget for next year.";
    let five = "x".repeat(5_000_000);
    for (open, kept) in [
        ("<!--", false),
        ("<!", false),
        ("</ ", false),
        ("<?", false),
        ("<math><![CDATA[", false),
        ("<title>", false),
        ("<textarea>", false),
        ("<plaintext>", true),
        ("<p a=\"", false),
        ("&#", true),
    ] {
        let out = extract(&format!("<p>{body}</p>{open}{five}")).unwrap();
        assert!(out.text.starts_with(body), "{open}");
        assert_eq!(out.text.len() > 4_000_000, kept, "{open}");
    }
    // 5 MB of entity-like runs and NULs.
    for run in [
        "&", "&amp", "&#x", "&#xD800;", "&Counter", "\0", "<a\0", "</",
    ] {
        let _ = extract(&run.repeat(5_000_000 / run.len()));
    }
    // A 5 MB numeric reference is one U+FFFD.
    let out = extract(&format!("&#{};", "9".repeat(5_000_000))).unwrap();
    assert_eq!(out.text, "\u{fffd}");
    // Many `<script` openings inside one unterminated JSON-LD tag (the pre-strip scanned to the
    // tag's end from each: 23 s for 4 MB).
    for html in [
        "<script ld+json ".repeat(300_000),
        "<script ".repeat(500_000) + "ld+json>",
    ] {
        assert_eq!(extract(&html).unwrap().text, "");
    }
}
