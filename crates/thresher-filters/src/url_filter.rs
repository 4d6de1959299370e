//! `url_filter`: drops documents whose URL (`metadata.url`) is on a block list, as datatrove's
//! `URLFilter` does.
//!
//! # What it does
//! The rules, in datatrove's order; the first that matches rejects the document:
//!
//! | reason (datatrove's names) | rule |
//! |---|---|
//! | `url_filter:domain` | the URL's registered domain (`bbc.co.uk` of `http://news.bbc.co.uk/x`) is a blocked domain |
//! | `url_filter:subdomain` | its full host name (`news.bbc.co.uk`) is a blocked domain |
//! | `url_filter:url` | the URL, exactly as written, is a blocked URL (datatrove's list has no scheme: `site.com/page`) |
//! | `url_filter:hard_blacklisted` | a word of the URL is a banned word |
//! | `url_filter:soft_blacklisted` | at least `soft_word_threshold` different soft-banned words are words of the URL |
//! | `url_filter:blacklisted_subword` | a banned subword occurs in the URL's letters and digits, lowercased and run together |
//!
//! The value of a rejection is what matched: the domain, host, URL, word, list of soft words or
//! subword. A URL's words are its runs of ASCII letters and digits, case kept (a banned word
//! `porn` does not match `PORN` as a word, but it does as a subword, where the URL is
//! lowercased). List entries are compared as datatrove does: domains and URLs as written
//! (whitespace stripped), words with every character other than an ASCII letter or digit
//! removed and lowercased. The host is taken from the URL as tldextract 5.4's `lenient_netloc`
//! does (after a scheme's `//`, before `/ ? #`, without user info, port and final dots, case
//! kept), its registered domain and full name (`fqdn`) found with the Public Suffix List's
//! ICANN section as tldextract's `TLDExtract()` does by default (`include_psl_private_domains`
//! off: `x.blogspot.com` has the registered domain `blogspot.com`). As in tldextract the host's
//! case is kept in what is compared, so `WWW.BadSite.com` is not the blocked `badsite.com`.
//!
//! The lists:
//! - `datatrove_assets`: the `datatrove/assets` folder of an installed datatrove; its
//!   `url_filterblacklistsv0_3_0.tar.gz` (files `domains` and `urls`), `banned_words.txt`,
//!   `banned_subwords.txt` and `soft_banned_words.txt` are read when the step is built, as
//!   datatrove reads them (`use_integrated_lists`). They are a third party's data under their
//!   own licence: thresher does not ship them.
//! - your own files (`*_files`), read the same way and added to those lists: one entry a
//!   line, lines starting with `#` skipped.
//!
//! The Public Suffix List is read at run time from `public_suffix_list` (a
//! `public_suffix_list.dat`); when unset and `datatrove_assets` is set, from the
//! `tldextract/.tld_set_snapshot` installed beside datatrove (the list tldextract falls back on
//! when it cannot fetch publicsuffix.org, and the one datatrove uses offline). It is needed only
//! when a domain list is given.
//!
//! A document without a URL (`metadata.url` missing, empty or not a string) stops datatrove's
//! run (`assert url`); here it is an error record by default (`missing_url = "error"`), or
//! is kept (`"keep"`) or rejected as `url_filter:no_url` (`"reject"`).
//!
//! # Why
//! FineWeb's first step after reading the crawl: adult and spam sites are cheaper to drop by
//! their address than by their text, and the lists catch what text filters miss.
//!
//! # Source of each rule
//! datatrove 0.10.1 `pipeline/filters/url_filter.py` (`URLFilter`, default
//! `soft_word_threshold = 2`) with tldextract 5.4.0 (`tldextract.py`, `remote.py`,
//! `suffix_list.py`): the suffix trie walk (labels lowercased, `xn--` labels Punycode-decoded,
//! `*` and `!` rules as tldextract applies them), `registered_domain` and `fqdn`. Where this
//! step differs (entries that normalise to nothing are skipped; IDNA validity checks beyond
//! Punycode) see docs/filters-parity.md.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use aho_corasick::AhoCorasick;
use hashbrown::HashTable;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::ops::ControlFlow;
use thresher_core::{
    Document, Error, Filter, Outcome, Reason, Result, Rules, Step, StepConfig, StepCx,
};
use xxhash_rust::xxh3::xxh3_64;

use crate::pychar;

const STEP: &str = "url_filter";
/// datatrove's block-list archive in its assets folder.
const ARCHIVE: &str = "url_filterblacklistsv0_3_0.tar.gz";

/// What to do with a document that has no URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum MissingUrl {
    /// An error record (datatrove stops its run on such a document).
    Error,
    /// Kept.
    Keep,
    /// Rejected as `url_filter:no_url`.
    Reject,
}

/// Recipe parameters of `url_filter` (defaults: datatrove 0.10.1's `URLFilter`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct UrlFilterConfig {
    /// The `datatrove/assets` folder of an installed datatrove, whose block lists are used
    /// (datatrove's `use_integrated_lists`). Unset: only your own lists.
    pub datatrove_assets: Option<PathBuf>,
    /// A Public Suffix List file (`public_suffix_list.dat`). Unset: tldextract's snapshot
    /// beside `datatrove_assets` (`../../tldextract/.tld_set_snapshot`).
    pub public_suffix_list: Option<PathBuf>,
    /// Soft-banned words a URL may have before it is dropped, plus one.
    pub soft_word_threshold: usize,
    /// Files of further blocked domains, one a line (datatrove's `extra_domains`).
    pub extra_domains_files: Vec<PathBuf>,
    /// Files of further blocked URLs, one a line (datatrove's `extra_urls`).
    pub extra_urls_files: Vec<PathBuf>,
    /// Files of further banned words, one a line (datatrove's `banned_words`).
    pub banned_words_files: Vec<PathBuf>,
    /// Files of further banned subwords, one a line (datatrove's `banned_subwords`).
    pub banned_subwords_files: Vec<PathBuf>,
    /// Files of further soft-banned words, one a line (datatrove's `soft_banned_words`).
    pub soft_banned_words_files: Vec<PathBuf>,
    /// A document without `metadata.url`: "error", "keep" or "reject".
    pub missing_url: MissingUrl,
}

impl Default for UrlFilterConfig {
    fn default() -> Self {
        UrlFilterConfig {
            datatrove_assets: None,
            public_suffix_list: None,
            soft_word_threshold: 2,
            extra_domains_files: Vec::new(),
            extra_urls_files: Vec::new(),
            banned_words_files: Vec::new(),
            banned_subwords_files: Vec::new(),
            soft_banned_words_files: Vec::new(),
            missing_url: MissingUrl::Error,
        }
    }
}

impl UrlFilterConfig {
    fn has_lists(&self) -> bool {
        self.datatrove_assets.is_some()
            || !self.extra_domains_files.is_empty()
            || !self.extra_urls_files.is_empty()
            || !self.banned_words_files.is_empty()
            || !self.banned_subwords_files.is_empty()
            || !self.soft_banned_words_files.is_empty()
    }

    /// The Public Suffix List to read: the one given, or tldextract's snapshot beside datatrove.
    fn suffix_list_path(&self) -> Option<PathBuf> {
        if let Some(p) = &self.public_suffix_list {
            return Some(p.clone());
        }
        let assets = self.datatrove_assets.as_ref()?;
        // datatrove/assets -> site-packages/tldextract/.tld_set_snapshot
        let p = assets.join("../../tldextract/.tld_set_snapshot");
        p.is_file().then_some(p)
    }
}

impl StepConfig for UrlFilterConfig {
    fn build(self) -> Result<Box<dyn Step>> {
        Ok(Box::new(UrlFilter::new(self)?))
    }
}

/// The `url_filter` step; see the module documentation.
pub struct UrlFilter {
    cfg: UrlFilterConfig,
    domains: StrSet,
    urls: StrSet,
    banned_words: StrSet,
    soft_words: StrSet,
    subwords: Option<AhoCorasick>,
    subword_list: Vec<String>,
    psl: Option<SuffixTrie>,
    psl_path: Option<PathBuf>,
    missing: AtomicU64,
}

impl std::fmt::Debug for UrlFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UrlFilter")
            .field("domains", &self.domains.len())
            .field("urls", &self.urls.len())
            .field("banned_words", &self.banned_words.len())
            .field("soft_banned_words", &self.soft_words.len())
            .field("banned_subwords", &self.subword_list.len())
            .finish()
    }
}

impl UrlFilter {
    /// Reads the lists (datatrove's and the given files) and the Public Suffix List.
    pub fn new(cfg: UrlFilterConfig) -> Result<Self> {
        if !cfg.has_lists() {
            return Err(Error::config(
                STEP,
                "no block list given: set datatrove_assets = \"DIR\" (the datatrove/assets folder \
                 of an installed datatrove, e.g. --set url_filter.datatrove_assets=DIR) or your \
                 own *_files",
            ));
        }
        let mut domains = StrSet::default();
        let mut urls = StrSet::default();
        let mut banned_words = StrSet::default();
        let mut soft_words = StrSet::default();
        let mut subword_list: Vec<String> = Vec::new();
        let mut seen_subwords = StrSet::default();
        let mut add_subword = |w: &str| {
            if seen_subwords.insert(w) {
                subword_list.push(w.to_owned());
            }
        };
        if let Some(dir) = &cfg.datatrove_assets {
            let archive = dir.join(ARCHIVE);
            let file = File::open(&archive).map_err(|e| Error::io(&archive, e))?;
            let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(BufReader::new(file)));
            let (mut got_domains, mut got_urls) = (false, false);
            let entries = tar.entries().map_err(|e| Error::io(&archive, e))?;
            for entry in entries {
                let entry = entry.map_err(|e| Error::io(&archive, e))?;
                let name = entry
                    .path()
                    .map_err(|e| Error::io(&archive, e))?
                    .to_string_lossy()
                    .into_owned();
                let name = name.trim_start_matches("./");
                let label = format!("{}!{name}", archive.display());
                match name {
                    "domains" => {
                        read_list(BufReader::new(entry), &label, |l| {
                            domains.insert(pychar::strip(l));
                        })?;
                        got_domains = true;
                    }
                    "urls" => {
                        read_list(BufReader::new(entry), &label, |l| {
                            urls.insert(pychar::strip(l));
                        })?;
                        got_urls = true;
                    }
                    _ => {}
                }
            }
            if !(got_domains && got_urls) {
                return Err(Error::config(
                    STEP,
                    format!("{} has no `domains` or no `urls` file", archive.display()),
                ));
            }
            let mut buf = String::new();
            read_file(&dir.join("banned_words.txt"), |l| {
                banned_words.insert(normalize(l, &mut buf));
            })?;
            read_file(&dir.join("banned_subwords.txt"), |l| {
                add_subword(normalize(l, &mut buf))
            })?;
            read_file(&dir.join("soft_banned_words.txt"), |l| {
                soft_words.insert(normalize(l, &mut buf));
            })?;
        }
        let mut buf = String::new();
        for p in &cfg.extra_domains_files {
            read_file(p, |l| {
                domains.insert(pychar::strip(l));
            })?;
        }
        for p in &cfg.extra_urls_files {
            read_file(p, |l| {
                urls.insert(pychar::strip(l));
            })?;
        }
        for p in &cfg.banned_words_files {
            read_file(p, |l| {
                banned_words.insert(normalize(l, &mut buf));
            })?;
        }
        for p in &cfg.banned_subwords_files {
            read_file(p, |l| add_subword(normalize(l, &mut buf)))?;
        }
        for p in &cfg.soft_banned_words_files {
            read_file(p, |l| {
                soft_words.insert(normalize(l, &mut buf));
            })?;
        }
        if [&domains, &urls, &banned_words, &soft_words, &seen_subwords]
            .iter()
            .any(|s| s.overflow)
        {
            return Err(Error::config(STEP, "a block list is larger than 4 GiB"));
        }
        let subwords = if subword_list.is_empty() {
            None
        } else {
            Some(
                AhoCorasick::new(&subword_list)
                    .map_err(|e| Error::config(STEP, format!("banned subwords: {e}")))?,
            )
        };
        let (psl, psl_path) = if domains.len() == 0 {
            (None, None)
        } else {
            let path = cfg.suffix_list_path().ok_or_else(|| {
                Error::config(
                    STEP,
                    "no Public Suffix List: set public_suffix_list = \"FILE\" (a \
                     public_suffix_list.dat, e.g. tldextract's .tld_set_snapshot)",
                )
            })?;
            let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
            (Some(SuffixTrie::parse(&text)), Some(path))
        };
        Ok(UrlFilter {
            cfg,
            domains,
            urls,
            banned_words,
            soft_words,
            subwords,
            subword_list,
            psl,
            psl_path,
            missing: AtomicU64::new(0),
        })
    }

    /// The rule that rejects `url`, if any.
    pub fn check(&self, url: &str) -> Option<Reason> {
        if let Some(psl) = &self.psl {
            let host = psl.split(lenient_netloc(url));
            if let Some(reg) = host.registered_domain() {
                if self.domains.contains(&reg) {
                    return Some(Reason::new("url_filter:domain", reg));
                }
            }
            if let Some(fqdn) = host.fqdn() {
                if self.domains.contains(&fqdn) {
                    return Some(Reason::new("url_filter:subdomain", fqdn));
                }
            }
        }
        if self.urls.contains(url) {
            return Some(Reason::new("url_filter:url", url));
        }
        // The URL's words: runs of ASCII letters and digits (datatrove's `[^a-zA-Z0-9]+`
        // split); multi-byte UTF-8 bytes are never ASCII alphanumerics, so bytes do.
        let words = || {
            url.split(|c: char| !c.is_ascii_alphanumeric())
                .filter(|w| !w.is_empty())
        };
        if let Some(w) = words().find(|w| self.banned_words.contains(w)) {
            return Some(Reason::new("url_filter:hard_blacklisted", w));
        }
        if self.soft_words.len() > 0 {
            let mut found: Vec<&str> = Vec::new();
            for w in words() {
                if self.soft_words.contains(w) && !found.contains(&w) {
                    found.push(w);
                }
            }
            if found.len() >= self.cfg.soft_word_threshold {
                return Some(Reason::new("url_filter:soft_blacklisted", found));
            }
        } else if self.cfg.soft_word_threshold == 0 {
            return Some(Reason::new(
                "url_filter:soft_blacklisted",
                Vec::<&str>::new(),
            ));
        }
        if let Some(ac) = &self.subwords {
            let norm: Vec<u8> = url
                .bytes()
                .filter(u8::is_ascii_alphanumeric)
                .map(|b| b.to_ascii_lowercase())
                .collect();
            if let Some(m) = ac.find(&norm[..]) {
                let w = self.subword_list[m.pattern().as_usize()].clone();
                return Some(Reason::new("url_filter:blacklisted_subword", w));
            }
        }
        None
    }
}

impl Filter for UrlFilter {
    /// One rule, `blocked`: the code of the list rule that matched (`url_filter:domain`...) or
    /// null; annotate mode also notes what matched (`matched`). The rules themselves are
    /// datatrove's, tried in its order; only the first match counts, as there.
    fn judge(&self, doc: &mut Document, _cx: &mut StepCx, rules: &mut Rules) -> ControlFlow<()> {
        let url = match doc.metadata.get("url") {
            Some(Value::String(u)) if !u.is_empty() => u,
            _ => {
                self.missing.fetch_add(1, Ordering::Relaxed);
                return match self.cfg.missing_url {
                    MissingUrl::Keep => ControlFlow::Continue(()),
                    MissingUrl::Reject => {
                        // The value a rejected record carries is null, as before annotate mode.
                        let value = rules.annotating().then_some("url_filter:no_url");
                        rules.rule("blocked", value, true, "url_filter:no_url")
                    }
                    MissingUrl::Error => rules
                        .error("url_filter: the document has no metadata.url (a non-empty string)"),
                };
            }
        };
        match self.check(url) {
            None => rules.rule("blocked", Value::Null, false, "url_filter:none"),
            Some(Reason { code, value }) => {
                if rules.annotating() {
                    rules.note("matched", value);
                    rules.rule("blocked", code.to_string(), true, code)
                } else {
                    rules.rule("blocked", value, true, code)
                }
            }
        }
    }
}

impl Step for UrlFilter {
    fn name(&self) -> &str {
        STEP
    }

    fn process(&self, doc: Document, cx: &mut StepCx) -> Outcome {
        Rules::filter().run(self, doc, cx, STEP)
    }

    fn as_filter(&self) -> Option<&dyn Filter> {
        Some(self)
    }

    fn report(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("blocked_domains".into(), self.domains.len().into());
        m.insert("blocked_urls".into(), self.urls.len().into());
        m.insert("banned_words".into(), self.banned_words.len().into());
        m.insert("banned_subwords".into(), self.subword_list.len().into());
        m.insert("soft_banned_words".into(), self.soft_words.len().into());
        if let (Some(psl), Some(p)) = (&self.psl, &self.psl_path) {
            m.insert("public_suffix_rules".into(), psl.rules.into());
            m.insert("public_suffix_list".into(), p.display().to_string().into());
        }
        m.insert(
            "missing_url".into(),
            self.missing.load(Ordering::Relaxed).into(),
        );
        m
    }
}

/// A set of strings kept in one buffer: the block list has millions of domains, and one
/// allocation per entry would double its memory.
#[derive(Default)]
struct StrSet {
    buf: String,
    /// (start, length) in `buf`; u32 halves the table (a list is refused past 4 GiB).
    table: HashTable<(u32, u32)>,
    /// Set when an entry did not fit (the step then refuses to build).
    overflow: bool,
}

impl StrSet {
    fn len(&self) -> usize {
        self.table.len()
    }

    fn get(&self, r: &(u32, u32)) -> &str {
        &self.buf[r.0 as usize..(r.0 + r.1) as usize]
    }

    fn contains(&self, s: &str) -> bool {
        self.table
            .find(xxh3_64(s.as_bytes()), |r| self.get(r) == s)
            .is_some()
    }

    /// Adds `s` (an empty entry is skipped: see the module documentation); whether it was new.
    fn insert(&mut self, s: &str) -> bool {
        if s.is_empty() || self.contains(s) {
            return false;
        }
        let (Ok(start), Ok(len)) = (u32::try_from(self.buf.len()), u32::try_from(s.len())) else {
            self.overflow = true;
            return false;
        };
        if start.checked_add(len).is_none() {
            self.overflow = true;
            return false;
        }
        self.buf.push_str(s);
        let buf = &self.buf;
        self.table
            .insert_unique(xxh3_64(s.as_bytes()), (start, len), |r| {
                xxh3_64(&buf.as_bytes()[r.0 as usize..(r.0 + r.1) as usize])
            });
        true
    }
}

/// datatrove's `normalize`: drops every character other than an ASCII letter or digit, and
/// lowercases.
fn normalize<'a>(s: &str, buf: &'a mut String) -> &'a str {
    buf.clear();
    buf.extend(
        s.chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase()),
    );
    buf
}

fn read_file(path: &Path, add: impl FnMut(&str)) -> Result<()> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    read_list(BufReader::new(file), &path.display().to_string(), add)
}

/// Reads a list as datatrove does (`for x in open(path)`, skipping `x[0] == "#"`): Python's
/// universal newlines (`\n`, `\r\n` and `\r` end a line), UTF-8. Hands each line to `add`
/// without its line end.
fn read_list(mut r: impl BufRead, label: &str, mut add: impl FnMut(&str)) -> Result<()> {
    let mut raw = Vec::new();
    let mut line_no = 0u64;
    loop {
        raw.clear();
        if r.read_until(b'\n', &mut raw)
            .map_err(|e| Error::io(label, e))?
            == 0
        {
            return Ok(());
        }
        let text = std::str::from_utf8(&raw).map_err(|e| {
            Error::config(
                STEP,
                format!("{label}: line {}: not UTF-8: {e}", line_no + 1),
            )
        })?;
        let text = text.strip_suffix('\n').unwrap_or(text);
        let text = text.strip_suffix('\r').unwrap_or(text);
        for line in text.split('\r') {
            line_no += 1;
            if !line.starts_with('#') {
                add(line);
            }
        }
    }
}

/// The host of a URL-like string, as tldextract 5.4's `lenient_netloc` finds it.
pub fn lenient_netloc(url: &str) -> &str {
    let rest = schemeless(url);
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    let after_userinfo = authority.rsplit('@').next().unwrap_or(authority);
    if after_userinfo.starts_with('[') {
        if let Some(i) = after_userinfo.find(']') {
            return &after_userinfo[..=i];
        }
    }
    let host = after_userinfo.split(':').next().unwrap_or(after_userinfo);
    pychar::strip(host).trim_end_matches(['.', '\u{3002}', '\u{ff0e}', '\u{ff61}'])
}

/// tldextract's `_schemeless_url`.
fn schemeless(url: &str) -> &str {
    let Some(i) = url.find("//") else {
        return url;
    };
    if i == 0 {
        return &url[2..];
    }
    let scheme_ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.');
    if i < 2 || url.as_bytes()[i - 1] != b':' || !url[..i - 1].chars().all(scheme_ok) {
        return url;
    }
    &url[i + 2..]
}

/// The public-suffix rules as tldextract keeps them: a trie of labels, last label first.
#[derive(Debug)]
struct SuffixTrie {
    nodes: Vec<TrieNode>,
    rules: usize,
}

#[derive(Debug, Default)]
struct TrieNode {
    children: HashMap<String, usize>,
    end: bool,
}

/// A host split as tldextract splits it (only what `registered_domain` and `fqdn` need).
#[derive(Debug, PartialEq)]
struct HostParts {
    labels: Vec<String>,
    /// Index of the first label of the public suffix, when there is one.
    suffix: Option<usize>,
}

impl HostParts {
    fn domain(&self) -> Option<&str> {
        let s = self.suffix?;
        (s > 0).then(|| self.labels[s - 1].as_str())
    }

    /// tldextract's `registered_domain`: domain and suffix, when both are non-empty.
    fn registered_domain(&self) -> Option<String> {
        let s = self.suffix?;
        let domain = self.domain().filter(|d| !d.is_empty())?;
        let suffix = self.labels[s..].join(".");
        (!suffix.is_empty()).then(|| format!("{domain}.{suffix}"))
    }

    /// tldextract's `fqdn`: subdomain, domain and suffix, the empty ones left out, when there
    /// are a suffix and a domain.
    fn fqdn(&self) -> Option<String> {
        let s = self.suffix?;
        let domain = self.domain().filter(|d| !d.is_empty())?;
        let suffix = self.labels[s..].join(".");
        if suffix.is_empty() {
            return None;
        }
        let sub = if s >= 2 {
            self.labels[..s - 1].join(".")
        } else {
            String::new()
        };
        Some(
            [sub.as_str(), domain, suffix.as_str()]
                .iter()
                .filter(|p| !p.is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join("."),
        )
    }
}

impl SuffixTrie {
    /// Parses a Public Suffix List as tldextract does, keeping the ICANN section (what comes
    /// before `// ===BEGIN PRIVATE DOMAINS===`): a rule is the start of a line, `[.*!]*`, a
    /// word character, up to the first whitespace.
    fn parse(text: &str) -> Self {
        let public = text
            .split_once("// ===BEGIN PRIVATE DOMAINS===")
            .map_or(text, |(p, _)| p);
        let mut trie = SuffixTrie {
            nodes: vec![TrieNode::default()],
            rules: 0,
        };
        for line in public.split('\n') {
            let body = line.trim_start_matches(['.', '*', '!']);
            if !body.chars().next().is_some_and(pychar::is_word_char) {
                continue;
            }
            let end = line.find(pychar::is_space).unwrap_or(line.len());
            trie.add(&line[..end]);
        }
        trie
    }

    fn add(&mut self, rule: &str) {
        let mut node = 0;
        for label in rule.rsplit('.') {
            node = match self.nodes[node].children.get(label) {
                Some(&n) => n,
                None => {
                    let n = self.nodes.len();
                    self.nodes.push(TrieNode::default());
                    self.nodes[node].children.insert(label.to_owned(), n);
                    n
                }
            };
        }
        self.nodes[node].end = true;
        self.rules += 1;
    }

    /// tldextract's `_extract_netloc` and `suffix_index`, for a host from [`lenient_netloc`].
    fn split(&self, netloc: &str) -> HostParts {
        let netloc = netloc.replace(['\u{3002}', '\u{ff0e}', '\u{ff61}'], ".");
        let labels: Vec<String> = netloc.split('.').map(str::to_owned).collect();
        let suffix = self.suffix_index(&labels);
        HostParts { labels, suffix }
    }

    fn suffix_index(&self, labels: &[String]) -> Option<usize> {
        let n = labels.len();
        let (mut node, mut suffix_idx, mut label_idx) = (0, n, n);
        for label in labels.iter().rev() {
            let decoded = decode_label(label);
            let children = &self.nodes[node].children;
            if let Some(&next) = children.get(decoded.as_str()) {
                label_idx -= 1;
                node = next;
                if self.nodes[node].end {
                    suffix_idx = label_idx;
                }
                continue;
            }
            if children.contains_key("*") {
                let exception = children.contains_key(format!("!{decoded}").as_str());
                return Some(if exception { label_idx } else { label_idx - 1 });
            }
            break;
        }
        (suffix_idx < n).then_some(suffix_idx)
    }
}

/// tldextract's `_decode_punycode`: the label lowercased (Python's `str.lower`), and an
/// `xn--` label decoded when it is a valid, canonical A-label (else left as it is).
fn decode_label(label: &str) -> String {
    let lowered = label.to_lowercase();
    if let Some(rest) = lowered.strip_prefix("xn--") {
        if !rest.is_empty() && rest.is_ascii() && !rest.ends_with('-') {
            if let Some(u) = idna::punycode::decode_to_string(rest) {
                // idna's `ulabel` refuses an A-label that is not the encoding of its U-label.
                if idna::punycode::encode_str(&u).as_deref() == Some(rest) {
                    return u;
                }
            }
        }
    }
    lowered
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    const PSL: &str = "// comment\ncom\nuk\nco.uk\n*.ck\n!www.ck\nрф\njp\n*.kawasaki.jp\n\
                       !city.kawasaki.jp\n// ===BEGIN PRIVATE DOMAINS===\nblogspot.com\n";

    fn parts(host: &str) -> (Option<String>, Option<String>) {
        let t = SuffixTrie::parse(PSL);
        let h = t.split(lenient_netloc(host));
        (h.registered_domain(), h.fqdn())
    }

    #[test]
    fn hosts_split_as_tldextract_does() {
        let s = |x: &str| Some(x.to_string());
        assert_eq!(
            parts("http://forums.bbc.co.uk/x"),
            (s("bbc.co.uk"), s("forums.bbc.co.uk"))
        );
        assert_eq!(
            parts("https://user:pw@A.B.Example.COM:8080/p?q#f"),
            (s("Example.COM"), s("A.B.Example.COM"))
        );
        // Private rules are not suffixes by default.
        assert_eq!(
            parts("http://x.blogspot.com"),
            (s("blogspot.com"), s("x.blogspot.com"))
        );
        assert_eq!(parts("http://foo.ck/"), (None, None));
        assert_eq!(parts("http://a.foo.ck/"), (s("a.foo.ck"), s("a.foo.ck")));
        assert_eq!(parts("http://www.ck/"), (s("www.ck"), s("www.ck")));
        assert_eq!(
            parts("http://city.kawasaki.jp/"),
            (s("city.kawasaki.jp"), s("city.kawasaki.jp"))
        );
        assert_eq!(
            parts("http://xn--e1afmkfd.xn--p1ai/"),
            (s("xn--e1afmkfd.xn--p1ai"), s("xn--e1afmkfd.xn--p1ai"))
        );
        assert_eq!(parts("http://localhost:8080/"), (None, None));
        assert_eq!(parts("http://127.0.0.1/"), (None, None));
        assert_eq!(parts("example.com."), (s("example.com"), s("example.com")));
        assert_eq!(parts("mailto:someone@x.com"), (s("x.com"), s("x.com")));
        assert_eq!(parts("//www.x.com"), (s("x.com"), s("www.x.com")));
        assert_eq!(parts("http://[::1]:80/"), (None, None));
        assert_eq!(parts(""), (None, None));
    }

    #[test]
    fn schemes_are_only_dropped_when_well_formed() {
        assert_eq!(lenient_netloc("http://a.com/b"), "a.com");
        assert_eq!(lenient_netloc("h t://a.com/b"), "h t");
        assert_eq!(lenient_netloc("a.com//b"), "a.com");
        assert_eq!(lenient_netloc("x:/a.com"), "x");
    }

    fn write(dir: &Path, name: &str, body: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::File::create(&p)
            .unwrap()
            .write_all(body.as_bytes())
            .unwrap();
        p
    }

    fn filter(dir: &Path) -> UrlFilter {
        let psl = write(dir, "psl.dat", PSL);
        UrlFilterConfig {
            public_suffix_list: Some(psl),
            extra_domains_files: vec![write(
                dir,
                "d.txt",
                "#c\nbad.com\n  spaced.co.uk \r\nsub.ok.com\n\n",
            )],
            extra_urls_files: vec![write(dir, "u.txt", "http://ok.com/exact\n")],
            banned_words_files: vec![write(dir, "w.txt", "porn\nx-rated\n--\n")],
            banned_subwords_files: vec![write(dir, "s.txt", "2 girls 1 cup\n")],
            soft_banned_words_files: vec![write(dir, "f.txt", "sexy\nbabes\nhot\n")],
            ..Default::default()
        }
        .build_filter()
    }

    impl UrlFilterConfig {
        fn build_filter(self) -> UrlFilter {
            UrlFilter::new(self).unwrap()
        }
    }

    fn code(f: &UrlFilter, url: &str) -> Option<String> {
        f.check(url).map(|r| r.code.into_owned())
    }

    #[test]
    fn each_rule_names_itself() {
        let tmp = tempfile::tempdir().unwrap();
        let f = filter(tmp.path());
        let c = |u| code(&f, u);
        assert_eq!(
            c("https://www.bad.com/a").as_deref(),
            Some("url_filter:domain")
        );
        assert_eq!(
            c("https://BAD.com/a"),
            None,
            "case is kept, as in tldextract"
        );
        assert_eq!(
            c("http://spaced.co.uk:81"),
            Some("url_filter:domain".into())
        );
        assert_eq!(c("http://sub.ok.com/"), Some("url_filter:subdomain".into()));
        assert_eq!(c("http://other.ok.com/"), None);
        assert_eq!(c("http://ok.com/exact"), Some("url_filter:url".into()));
        assert_eq!(c("http://ok.com/exact/"), None);
        assert_eq!(
            c("http://ok.com/a-porn-b"),
            Some("url_filter:hard_blacklisted".into())
        );
        assert_eq!(c("http://ok.com/PORN"), None, "words keep their case");
        assert_eq!(
            c("http://ok.com/x-rated"),
            None,
            "x-rated normalises to xrated"
        );
        assert_eq!(
            c("http://ok.com/xrated"),
            Some("url_filter:hard_blacklisted".into())
        );
        assert_eq!(
            c("http://ok.com/sexy/hot"),
            Some("url_filter:soft_blacklisted".into())
        );
        assert_eq!(
            c("http://ok.com/sexy/sexy"),
            None,
            "distinct words are counted"
        );
        assert_eq!(
            c("http://ok.com/2-girls_1.cup"),
            Some("url_filter:blacklisted_subword".into())
        );
        assert_eq!(
            c("http://ok.com/"),
            None,
            "the `--` entry normalises to nothing: skipped"
        );
        let r = f.check("http://ok.com/hot/babes").unwrap();
        assert_eq!(r.value, serde_json::json!(["hot", "babes"]));
    }

    #[test]
    fn missing_urls_follow_the_setting() {
        let tmp = tempfile::tempdir().unwrap();
        let f = filter(tmp.path());
        let mut cx = StepCx::default();
        let doc = Document::new("d", "t");
        assert!(matches!(f.process(doc, &mut cx), Outcome::Error { .. }));
        let mut doc = Document::new("d", "t");
        doc.metadata.insert("url".into(), 3.into());
        assert!(matches!(f.process(doc, &mut cx), Outcome::Error { .. }));
        assert_eq!(f.report()["missing_url"], 2);
        let mut g = filter(tmp.path());
        g.cfg.missing_url = MissingUrl::Reject;
        let Outcome::Reject { reason, .. } = g.process(Document::new("d", "t"), &mut cx) else {
            panic!()
        };
        assert_eq!(reason.code, "url_filter:no_url");
        g.cfg.missing_url = MissingUrl::Keep;
        assert!(matches!(
            g.process(Document::new("d", "t"), &mut cx),
            Outcome::Keep(_)
        ));
    }

    #[test]
    fn annotate_mode_names_the_rule_and_keeps() {
        let tmp = tempfile::tempdir().unwrap();
        let f = filter(tmp.path());
        let run = |url: &str| {
            let mut doc = Document::new("d", "t");
            doc.metadata.insert("url".into(), url.into());
            let out = thresher_core::Rules::annotate().run(&f, doc, &mut StepCx::default(), STEP);
            let Outcome::Keep(doc) = out else {
                panic!("{url}: {out:?}")
            };
            doc.metadata[STEP].clone()
        };
        let blocked = run("http://ok.com/hot/babes");
        assert_eq!(blocked["blocked"], "url_filter:soft_blacklisted");
        assert_eq!(blocked["matched"], serde_json::json!(["hot", "babes"]));
        assert_eq!(run("http://ok.com/")["blocked"], Value::Null);
    }

    #[test]
    fn no_list_is_refused() {
        let e = UrlFilter::new(UrlFilterConfig::default()).unwrap_err();
        assert!(e.to_string().contains("datatrove_assets"), "{e}");
        let tmp = tempfile::tempdir().unwrap();
        let e = UrlFilter::new(UrlFilterConfig {
            extra_domains_files: vec![write(tmp.path(), "d.txt", "a.com\n")],
            ..Default::default()
        })
        .unwrap_err();
        assert!(e.to_string().contains("public_suffix_list"), "{e}");
    }

    #[test]
    fn lists_read_as_python_reads_them() {
        let mut got = Vec::new();
        read_list(&b"a\r\nb\rc\n#d\n\ne"[..], "x", |l| got.push(l.to_owned())).unwrap();
        assert_eq!(got, ["a", "b", "c", "", "e"]);
        assert!(read_list(&b"\xff\n"[..], "x", |_| {}).is_err());
    }
}
