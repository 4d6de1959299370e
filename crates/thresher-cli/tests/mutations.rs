//! Robustness: every bundled text recipe over real documents (fixtures/sample) damaged at random
//! in ways crawled text is damaged — odd Unicode (combining marks, zero-width and bidi controls,
//! NUL, line and paragraph separators, private-use and unassigned code points, emoji sequences),
//! cut and repeated spans, case and spacing changes, huge words and runs of blank lines.
//!
//! A panic in a step becomes an error record saying "step panicked", so the run itself survives;
//! this test asserts that no document ever takes that path, and that the counts add up.

use std::path::Path;
use std::process::Command;

use serde_json::{json, Value};

/// xorshift64*: a fixed seed gives the same documents on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const WEIRD: &[&str] = &[
    "\u{0301}",
    "\u{200d}",
    "\u{200b}",
    "\u{202e}",
    "\u{feff}",
    "\u{0000}",
    "\u{2028}",
    "\u{2029}",
    "\r",
    "\t",
    "\u{0b}",
    "\u{0c}",
    "\u{1F600}",
    "\u{1F469}\u{200d}\u{1F4BB}",
    "中文字符",
    "ﬁ",
    "ß",
    "İ",
    "ǅ",
    "\u{00ad}",
    "...",
    "…",
    "•",
    "#",
    "!!!",
    "http://x.example/z?a=b&c=d",
    "can't",
    "'s",
    "—",
    "\u{E0001}",
    "\u{FFFD}",
    "\u{0378}",
    "ا",
    "\u{0640}",
    "Ⅻ",
    "①",
    "\u{3000}",
    "\u{10FFFF}",
];

fn mutate(rng: &mut Rng, text: &str) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    match rng.below(14) {
        0 => return String::new(),
        1 => return WEIRD[rng.below(WEIRD.len())].repeat(1 + rng.below(60)),
        2 => return "a".repeat(200_000 + rng.below(1000)),
        3 => return "\n".repeat(5_000) + text,
        _ => {}
    }
    for _ in 0..1 + rng.below(40) {
        let at = rng.below(chars.len() + 1);
        match rng.below(5) {
            0 => {
                let w = WEIRD[rng.below(WEIRD.len())];
                chars.splice(at..at, w.chars());
            }
            1 => {
                let end = (at + 1 + rng.below(300)).min(chars.len());
                chars.drain(at.min(end)..end);
            }
            2 => {
                let span: Vec<char> = chars[at.saturating_sub(1 + rng.below(800))..at].to_vec();
                chars.splice(at..at, span);
            }
            3 => {
                // Any scalar value of the first three planes, private use and unassigned included.
                if let Some(c) = char::from_u32(1 + rng.below(0x2FFFF) as u32) {
                    chars.insert(at, c);
                }
            }
            _ => {
                let line = ". . .\n".repeat(1 + rng.below(50));
                chars.splice(at..at, line.chars());
            }
        }
    }
    let s: String = chars.into_iter().collect();
    match rng.below(6) {
        0 => s.to_uppercase(),
        1 => s.replace(' ', ""),
        2 => s.replace('\n', "\n\n\n"),
        3 => s.split_whitespace().rev().collect::<Vec<_>>().join(" "),
        _ => s,
    }
}

/// Runs `thresher run RECIPE -i INPUT -o OUT` on 2 threads and checks that it succeeds and that
/// no error record says a step panicked. Returns stats.json and the number of error records.
fn run_recipe(recipe: &str, input: &Path, out: &Path) -> (Value, usize) {
    let run = Command::new(env!("CARGO_BIN_EXE_thresher"))
        .args(["run", recipe, "-q", "--threads", "2", "-i"])
        .arg(input)
        .arg("-o")
        .arg(out)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{recipe}: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let mut errors = 0;
    for entry in std::fs::read_dir(out.join("errors")).into_iter().flatten() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        errors += text.lines().count();
        assert!(
            !text.contains("panicked"),
            "{recipe}: a step panicked: {}",
            text.lines().find(|l| l.contains("panicked")).unwrap_or("")
        );
    }
    let stats = std::fs::read_to_string(out.join("stats.json")).unwrap();
    (serde_json::from_str(&stats).unwrap(), errors)
}

#[test]
fn bundled_recipes_never_panic_on_damaged_real_text() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut texts = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(repo.join("fixtures/sample"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    files.sort();
    for f in files {
        for line in std::fs::read_to_string(&f).unwrap().lines() {
            let v: Value = serde_json::from_str(line).unwrap();
            if let Some(t) = v.get("text").and_then(Value::as_str) {
                texts.push(t.to_owned());
            }
        }
    }
    assert!(
        texts.len() > 100,
        "fixtures/sample holds {} texts",
        texts.len()
    );

    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("damaged.jsonl");
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut body = String::new();
    let mut n = 0;
    for (i, t) in texts.iter().enumerate() {
        for j in 0..3 {
            let doc = json!({
                "id": format!("{i}-{j}"),
                "text": mutate(&mut rng, t),
                // Four sites, so per-site statistics (strip_chrome, corpus_boilerplate) have groups.
                "metadata": {"url": format!("https://site{}.example/page/{i}", i % 4)},
            });
            body.push_str(&doc.to_string());
            body.push('\n');
            n += 1;
        }
    }
    std::fs::write(&input, body).unwrap();

    let mut recipes = vec!["default", "fineweb", "c4"];
    if cfg!(feature = "langid") {
        recipes.push("fineweb-en");
    }
    for recipe in recipes {
        let (stats, _) = run_recipe(recipe, &input, &dir.path().join(recipe));
        let count = |k: &str| stats[k].as_u64().unwrap();
        assert_eq!(count("in"), n, "{recipe}: in");
        assert_eq!(
            count("kept") + count("rejected") + count("errors"),
            n,
            "{recipe}: counts"
        );
        println!(
            "{recipe}: {n} damaged documents, kept {} rejected {} errors {}",
            count("kept"),
            count("rejected"),
            count("errors")
        );
    }
}

#[cfg(feature = "langid")]
const WARC_TOKENS: &[&[u8]] = &[
    b"\r\n\r\n",
    b"WARC/1.0\r\n",
    b"Content-Length: 99999999999999999999\r\n",
    b"Content-Length: -5\r\n",
    b"Transfer-Encoding: chunked\r\n",
    b"Content-Encoding: br\r\n",
    b"Content-Type: text/html; charset=x-unknown\r\n",
    b"HTTP/1.1 200 OK\r\n",
    b"\0\0\0\0\0\0\0\0",
    b"<div><div><div><div><table><tr><td>",
];

#[cfg(feature = "langid")]
fn mutate_bytes(rng: &mut Rng, data: &[u8]) -> Vec<u8> {
    let mut b = data.to_vec();
    for _ in 0..1 + rng.below(30) {
        let at = rng.below(b.len() + 1);
        match rng.below(4) {
            0 if !b.is_empty() => {
                let i = at.min(b.len() - 1);
                b[i] = rng.next() as u8;
            }
            1 => {
                let end = (at + 1 + rng.below(2000)).min(b.len());
                b.drain(at.min(end)..end);
            }
            2 => {
                let span = b[at.saturating_sub(1 + rng.below(3000))..at].to_vec();
                b.splice(at..at, span);
            }
            _ => {
                let t = WARC_TOKENS[rng.below(WARC_TOKENS.len())];
                b.splice(at..at, t.iter().copied());
            }
        }
    }
    if rng.below(3) == 0 {
        b.truncate(rng.below(b.len() + 1));
    }
    b
}

/// The crawl path (WARC/ARC/WET reader, HTTP and charset handling, html_extract, language ID)
/// over byte-damaged copies of the real crawl files of ../shared/corpus/warc-samples: flipped,
/// cut, repeated and inserted bytes, bogus lengths and headers, truncation; gzip members both
/// damaged inside (recompressed) and as they are. Bad records must become error records, never
/// a panic or a failed run.
// fineweb-warc uses `language_id`.
#[cfg(feature = "langid")]
#[test]
fn crawl_recipe_never_panics_on_damaged_warc_files() {
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/warc-samples");
    let Ok(rd) = std::fs::read_dir(&samples) else {
        assert!(
            std::env::var_os("THRESHER_REQUIRE_SHARED").is_none(),
            "../shared is required (THRESHER_REQUIRE_SHARED is set) but absent"
        );
        println!("skipped: {} is absent", samples.display());
        return;
    };
    let mut files: Vec<_> = rd
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_none_or(|e| e != "md"))
        .collect();
    files.sort();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    let mut made = 0;
    for f in &files {
        let raw = std::fs::read(f).unwrap();
        let mut plain = Vec::new();
        let gz = raw.starts_with(&[0x1f, 0x8b]);
        if gz {
            use std::io::Read;
            let _ = flate2::read::MultiGzDecoder::new(&raw[..]).read_to_end(&mut plain);
        }
        let name = f
            .file_name()
            .unwrap()
            .to_string_lossy()
            .replace(".gz", "")
            .replace(".bad", "");
        for k in 0..6 {
            let inner = gz && k % 2 == 1 && !plain.is_empty();
            let damaged = mutate_bytes(&mut rng, if inner { &plain } else { &raw });
            let (bytes, suffix) = if inner && k % 3 != 0 {
                use std::io::Write;
                let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                e.write_all(&damaged).unwrap();
                (e.finish().unwrap(), ".gz")
            } else if gz && !inner {
                (damaged, ".gz")
            } else {
                (damaged, "")
            };
            std::fs::write(input.join(format!("m{made:03}-{name}{suffix}")), bytes).unwrap();
            made += 1;
        }
    }
    let (stats, errors) = run_recipe("fineweb-warc", &input, &dir.path().join("out"));
    let count = |k: &str| stats[k].as_u64().unwrap();
    assert!(count("in") > 0);
    assert_eq!(
        count("kept") + count("rejected") + count("errors"),
        count("in")
    );
    assert_eq!(errors as u64, count("errors"));
    println!(
        "{made} damaged crawl files: {} records in, kept {} rejected {} errors {}",
        count("in"),
        count("kept"),
        count("rejected"),
        count("errors")
    );
}
