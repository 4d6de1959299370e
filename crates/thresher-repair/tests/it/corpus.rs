//! Reading the real extraction sets of ../shared/corpus: gold texts with their markers stripped,
//! and a crude text-line view of each page's HTML (enough to find lines that are on the page but
//! not in its gold text; this is test scaffolding, not thresher's extractor).

use std::io::Read;
use std::path::{Path, PathBuf};

/// One page of an extraction set: its gold lines and its HTML file.
pub struct GoldPage {
    /// `set/id`.
    pub id: String,
    /// The gold text's lines, markers stripped, whitespace runs made single spaces.
    pub gold: Vec<String>,
    /// The page's `.html.gz`.
    pub html: PathBuf,
}

/// The gold pages of `sets` under `corpus`, sorted by id.
pub fn gold_pages(corpus: &Path, sets: &[&str]) -> Vec<GoldPage> {
    let mut out = Vec::new();
    for set in sets {
        let dir = corpus.join(set);
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut files: Vec<PathBuf> = rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "txt"))
            .collect();
        files.sort();
        for f in files {
            let stem = f.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
            let html = dir.join(format!("{stem}.html.gz"));
            if !html.exists() {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(&f) else {
                continue;
            };
            out.push(GoldPage {
                id: format!("{set}/{stem}"),
                gold: strip_gold(set, &text),
                html,
            });
        }
    }
    out
}

fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The gold text's lines without the set's markers: CleanEval's `URL:` line and `<p>`/`<h>`/`<l>`
/// segment tags (a segment's wrapped lines are joined into one), Dragnet's comments separator.
pub fn strip_gold(set: &str, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    if set.starts_with("clean") {
        let mut cur: Option<String> = None;
        for line in text.lines() {
            if line.starts_with("URL:") {
                continue;
            }
            let t = line.trim_start();
            let tag = ["<p>", "<h>", "<l>", "<P>", "<H>", "<L>"]
                .iter()
                .find(|m| t.starts_with(*m));
            if let Some(m) = tag {
                if let Some(c) = cur.take() {
                    out.push(c);
                }
                cur = Some(squash(&t[m.len()..]));
            } else if !t.trim().is_empty() {
                match &mut cur {
                    Some(c) => {
                        if !c.is_empty() {
                            c.push(' ');
                        }
                        c.push_str(&squash(t));
                    }
                    None => cur = Some(squash(t)),
                }
            }
        }
        out.extend(cur);
    } else {
        for line in text.lines() {
            if line.starts_with("!@#$%^&*()") {
                continue;
            }
            out.push(squash(line));
        }
    }
    out.retain(|l| !l.is_empty());
    out
}

/// The page's text lines: a crude HTML reading (script/style/comments dropped, block tags made
/// line breaks, common entities decoded), UTF-8 or else Windows-1252.
pub fn page_lines(html_gz: &Path) -> Vec<String> {
    let mut bytes = Vec::new();
    let ok = std::fs::File::open(html_gz)
        .map(flate2::read::GzDecoder::new)
        .and_then(|mut r| r.read_to_end(&mut bytes));
    if ok.is_err() {
        return Vec::new();
    }
    let html = match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => e.into_bytes().iter().map(|&b| cp1252(b)).collect(),
    };
    let text = strip_tags(&html);
    text.lines().map(squash).filter(|l| !l.is_empty()).collect()
}

fn cp1252(b: u8) -> char {
    const HIGH: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž',
        '\u{8f}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}',
        'ž', 'Ÿ',
    ];
    match b {
        0x80..=0x9f => HIGH[(b - 0x80) as usize],
        _ => b as char,
    }
}

const BLOCK_TAGS: &[&str] = &[
    "p",
    "div",
    "br",
    "li",
    "ul",
    "ol",
    "td",
    "th",
    "tr",
    "table",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "title",
    "dt",
    "dd",
    "dl",
    "section",
    "article",
    "header",
    "footer",
    "nav",
    "aside",
    "form",
    "option",
    "blockquote",
    "pre",
    "hr",
    "center",
    "body",
    "html",
    "head",
    "text",
];

fn strip_tags(html: &str) -> String {
    let lower = html.to_ascii_lowercase();
    let mut out = String::with_capacity(html.len() / 2);
    let mut i = 0;
    while i < html.len() {
        let rest = &html[i..];
        let Some(lt) = rest.find('<') else {
            out.push_str(&decode_entities(rest));
            break;
        };
        out.push_str(&decode_entities(&rest[..lt]));
        i += lt;
        if lower[i..].starts_with("<!--") {
            i = lower[i..].find("-->").map_or(html.len(), |e| i + e + 3);
            continue;
        }
        let Some(gt) = lower[i..].find('>') else {
            break;
        };
        let tag = &lower[i + 1..i + gt];
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        i += gt + 1;
        if matches!(name.as_str(), "script" | "style" | "noscript") && !tag.starts_with('/') {
            let close = format!("</{name}");
            i = lower[i..]
                .find(&close)
                .and_then(|c| lower[i + c..].find('>').map(|g| i + c + g + 1))
                .unwrap_or(html.len());
            continue;
        }
        if BLOCK_TAGS.contains(&name.as_str()) {
            out.push('\n');
        }
        // Keep `i` on a char boundary (tags are ASCII, so it is).
        while i < html.len() && !html.is_char_boundary(i) {
            i += 1;
        }
    }
    out
}

fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(a) = rest.find('&') {
        out.push_str(&rest[..a]);
        rest = &rest[a..];
        let end = rest[1..].find(';').map(|e| e + 1).filter(|&e| e <= 10);
        let decoded = end.and_then(|e| {
            let ent = &rest[1..e];
            let c = match ent {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some(' '),
                "mdash" => Some('—'),
                "ndash" => Some('–'),
                "rsquo" => Some('’'),
                "lsquo" => Some('‘'),
                "ldquo" => Some('“'),
                "rdquo" => Some('”'),
                "copy" => Some('©'),
                "raquo" => Some('»'),
                "laquo" => Some('«'),
                "hellip" => Some('…'),
                _ => ent
                    .strip_prefix("#x")
                    .or_else(|| ent.strip_prefix("#X"))
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .or_else(|| ent.strip_prefix('#').and_then(|d| d.parse().ok()))
                    .and_then(char::from_u32),
            };
            c.map(|c| (c, e + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Lower-cased words of letters and digits, joined by single spaces: the form in which a page
/// line is looked up in the gold text.
pub fn norm_words(s: &str) -> String {
    let mut out = String::new();
    for w in s
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(w.chars().flat_map(char::to_lowercase));
    }
    out
}

/// Deterministic pseudo-random numbers (SplitMix64), so the twin set is the same on every run.
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `lo..=hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next() % (hi - lo + 1) as u64) as usize
    }
}
