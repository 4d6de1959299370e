//! `pii`: replaces e-mail addresses and public IPv4 addresses in the text. Never rejects.
//!
//! # What it does
//! E-mail addresses are found first, then IPv4 addresses in the text the e-mail pass left.
//! Each address found is replaced by the next string of `email_replacement` (or
//! `ip_replacement`), taken in turn across the whole run: the first e-mail of the run becomes
//! the first string, the second the second, and so on round the list. An IP address is only
//! replaced when it is a valid address (no octet with a leading zero) and, with
//! `only_remove_public_ips`, a global one; other matches stay as they are and do not move the
//! turn on. The counts of replaced e-mails, replaced IPs and IP-like matches left alone are in
//! `stats.json` (the step's report); an edited document is annotated with its own counts
//! (`pii.emails`, `pii.ips`, and `pii.extra` when `extra_patterns` are given).
//!
//! `extra_patterns` (thresher's own, none by default) are further regular expressions in the
//! `regex` crate's syntax (phone numbers, account ids...), applied after the IPs in list order,
//! their non-empty matches replaced by the strings of `extra_replacement` in turn.
//!
//! # Why
//! FineWeb ends with this step: an address in the training text can be memorised and
//! regurgitated. The replacement strings are fake, so the text stays natural.
//!
//! # Source of each rule
//! datatrove 0.10.1 `PIIFormatter` with its defaults
//! (`datatrove/pipeline/formatters/pii.py`): the same two regular expressions (its e-mail
//! pattern starts with `\b` in Python's Unicode sense, checked here with
//! [`crate::pychar::is_word_char`]; the `regex` crate's leftmost-first search gives the same
//! match as Python's `re` at each position), the same replacement lists, one turn counter per
//! list that moves on only for a replaced match, and `ipaddress.ip_address(...).is_global` of
//! CPython 3.11.7 for "public": not in `100.64.0.0/10` and not in its private list (see
//! [`is_global_v4`]). The turn is run-wide, as in a one-task datatrove run; the step is
//! [`StepMode::Ordered`] so that it does not depend on the number of threads (the searches are
//! done first, in parallel, in `prepare`, and only documents with a match are edited in turn).
//!
//! # Example
//! ```
//! use thresher_core::{Document, Outcome, StepConfig, StepCx};
//! use thresher_filters::PiiConfig;
//!
//! let step = PiiConfig::default().build().unwrap();
//! let mut cx = StepCx::default();
//! let doc = Document::new("d", "Mail jane@corp.com from 8.8.8.8, not 192.168.0.1.");
//! let Outcome::Keep(doc) = step.process(doc, &mut cx) else { panic!() };
//! assert_eq!(doc.text(), "Mail email@example.com from 22.214.171.124, not 192.168.0.1.");
//! ```

use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};

use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use thresher_core::{
    Document, Error, Outcome, Prepared, Result, Step, StepConfig, StepCx, StepMode,
};

use crate::pychar;

/// datatrove's e-mail pattern without its leading `\b` (checked by hand, in Python's sense).
/// The `]` that closes the bracketed-address form is escaped, as the `regex` crate wants.
const EMAIL_PATTERN: &str = concat!(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:(?:[A-Za-z0-9](?:[",
    r"A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?|\[(?:(?:25[0-5]|2[0-4][0-9]|[",
    r"01]?[0-9][0-9]?)\.){3}(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?|[A-Za-z0-9-]*[A-Za-z0-9]:)\])",
);

/// datatrove's IPv4 pattern.
const IP_PATTERN: &str =
    r"(?:(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)\.){3}(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)";

/// Recipe parameters of `pii` (defaults: datatrove 0.10.1's `PIIFormatter`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct PiiConfig {
    /// Replace e-mail addresses.
    pub remove_emails: bool,
    /// Replace IPv4 addresses.
    pub remove_ips: bool,
    /// Replace only global (public) IP addresses, not private, loopback, reserved ones.
    pub only_remove_public_ips: bool,
    /// Strings that replace e-mail addresses, used in turn.
    pub email_replacement: Vec<String>,
    /// Strings that replace IP addresses, used in turn.
    pub ip_replacement: Vec<String>,
    /// Further patterns (Rust `regex` syntax) whose matches are replaced, after the IPs.
    pub extra_patterns: Vec<String>,
    /// Strings that replace matches of `extra_patterns`, used in turn.
    pub extra_replacement: Vec<String>,
}

impl Default for PiiConfig {
    fn default() -> Self {
        let s = |v: &[&str]| v.iter().map(|s| s.to_string()).collect();
        PiiConfig {
            remove_emails: true,
            remove_ips: true,
            only_remove_public_ips: true,
            // example.com and example.org are reserved for examples.
            email_replacement: s(&["email@example.com", "firstname.lastname@example.org"]),
            // datatrove's list: addresses that did not answer pings when it was made.
            ip_replacement: s(&[
                "22.214.171.124",
                "126.96.36.199",
                "188.8.131.52",
                "184.108.40.206",
                "220.127.116.11",
                "18.104.22.168",
            ]),
            extra_patterns: Vec::new(),
            extra_replacement: s(&["<PII>"]),
        }
    }
}

impl StepConfig for PiiConfig {
    /// A replacement list in use is not empty.
    fn validate(&self) -> Result<()> {
        if self.remove_emails && self.email_replacement.is_empty() {
            return Err(Error::config("pii", "email_replacement is empty"));
        }
        if self.remove_ips && self.ip_replacement.is_empty() {
            return Err(Error::config("pii", "ip_replacement is empty"));
        }
        if !self.extra_patterns.is_empty() && self.extra_replacement.is_empty() {
            return Err(Error::config("pii", "extra_replacement is empty"));
        }
        for (i, p) in self.extra_patterns.iter().enumerate() {
            Regex::new(p)
                .map_err(|e| Error::config("pii", format!("extra_patterns[{i}] {p:?}: {e}")))?;
        }
        Ok(())
    }

    fn build(self) -> Result<Box<dyn Step>> {
        Ok(Box::new(Pii::new(self)?))
    }
}

/// The `pii` step; see the module documentation.
#[derive(Debug)]
pub struct Pii {
    cfg: PiiConfig,
    email: Regex,
    ip: Regex,
    extra: Vec<Regex>,
    /// Turn counters: the index of the next replacement string (modulo the list's length).
    email_turn: AtomicU64,
    ip_turn: AtomicU64,
    extra_turn: AtomicU64,
    emails_replaced: AtomicU64,
    extra_replaced: AtomicU64,
    ips_replaced: AtomicU64,
    ips_left: AtomicU64,
}

/// What `prepare` found: whether the text has anything for `process` to look at.
struct HasPii(bool);

impl Pii {
    /// Compiles the patterns.
    pub fn new(cfg: PiiConfig) -> Result<Self> {
        cfg.validate()?;
        let compile =
            |p: &str| Regex::new(p).map_err(|e| Error::config("pii", format!("pattern: {e}")));
        let extra = cfg
            .extra_patterns
            .iter()
            .map(|p| compile(p))
            .collect::<Result<_>>()?;
        Ok(Pii {
            email: compile(EMAIL_PATTERN)?,
            ip: compile(IP_PATTERN)?,
            extra,
            cfg,
            email_turn: AtomicU64::new(0),
            ip_turn: AtomicU64::new(0),
            extra_turn: AtomicU64::new(0),
            emails_replaced: AtomicU64::new(0),
            extra_replaced: AtomicU64::new(0),
            ips_replaced: AtomicU64::new(0),
            ips_left: AtomicU64::new(0),
        })
    }

    /// The e-mail matches of `text`, as Python's `re` finds datatrove's pattern: leftmost first,
    /// not overlapping, each starting where `\b` holds.
    fn emails(&self, text: &str) -> Vec<Range<usize>> {
        let mut out = Vec::new();
        let mut from = 0;
        while let Some(m) = self.email.find_at(text, from) {
            if py_word_boundary(text, m.start()) {
                out.push(m.range());
                from = m.end();
            } else {
                // No match starts before the next position where `\b` holds; skipping there
                // (not to the next byte) keeps a long word after a non-ASCII letter linear.
                // A match starts with an ASCII character, so `start + 1` is a char boundary.
                from = next_py_boundary(text, m.start() + 1);
            }
        }
        out
    }

    /// Whether `text` may have something to replace (cheap, parallel; `process` decides).
    fn may_have_pii(&self, text: &str) -> bool {
        (self.cfg.remove_emails && text.contains('@') && !self.emails(text).is_empty())
            || (self.cfg.remove_ips && self.ip.is_match(text))
            || self.extra.iter().any(|r| r.is_match(text))
    }

    /// Replaces the matches in `ranges` of `text` in turn, skipping those `keep` says to leave;
    /// returns the new text and the number replaced.
    fn replace(
        &self,
        text: &str,
        ranges: impl Iterator<Item = Range<usize>>,
        list: &[String],
        turn: &AtomicU64,
        mut keep: impl FnMut(&str) -> bool,
    ) -> (String, u64) {
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        let mut n = 0;
        for r in ranges {
            if keep(&text[r.clone()]) {
                continue;
            }
            let i = turn.fetch_add(1, Ordering::Relaxed) % list.len() as u64;
            out.push_str(&text[last..r.start]);
            out.push_str(&list[i as usize]);
            last = r.end;
            n += 1;
        }
        out.push_str(&text[last..]);
        (out, n)
    }
}

/// Python `re`'s `\b` at byte `at` of `text`: one side is a word character and the other not.
fn py_word_boundary(text: &str, at: usize) -> bool {
    let before = text[..at]
        .chars()
        .next_back()
        .is_some_and(pychar::is_word_char);
    let after = text[at..].chars().next().is_some_and(pychar::is_word_char);
    before != after
}

/// The first byte offset at or after `from` (a char boundary) where [`py_word_boundary`] holds,
/// or the end of the text.
fn next_py_boundary(text: &str, from: usize) -> usize {
    let mut prev = text[..from]
        .chars()
        .next_back()
        .is_some_and(pychar::is_word_char);
    for (i, c) in text[from..].char_indices() {
        let word = pychar::is_word_char(c);
        if word != prev {
            return from + i;
        }
        prev = word;
    }
    text.len()
}

/// Parses a dotted IPv4 address as CPython's `ipaddress.ip_address` does: four decimal octets
/// of at most 255, none with a leading zero.
fn parse_v4(s: &str) -> Option<u32> {
    let mut v = 0u32;
    let mut parts = 0;
    for octet in s.split('.') {
        let ok = !octet.is_empty()
            && octet.len() <= 3
            && octet.bytes().all(|b| b.is_ascii_digit())
            && (octet == "0" || !octet.starts_with('0'));
        let n: u32 = if ok { octet.parse().ok()? } else { return None };
        if n > 255 {
            return None;
        }
        v = (v << 8) | n;
        parts += 1;
    }
    (parts == 4).then_some(v)
}

/// CPython 3.11.7's `IPv4Address.is_global`: not in the shared address space `100.64.0.0/10`
/// and not in `_private_networks`.
pub fn is_global_v4(addr: u32) -> bool {
    const PRIVATE: [(u32, u32); 14] = [
        (0x0000_0000, 8),  // 0.0.0.0/8
        (0x0A00_0000, 8),  // 10.0.0.0/8
        (0x7F00_0000, 8),  // 127.0.0.0/8
        (0xA9FE_0000, 16), // 169.254.0.0/16
        (0xAC10_0000, 12), // 172.16.0.0/12
        (0xC000_0000, 29), // 192.0.0.0/29
        (0xC000_00AA, 31), // 192.0.0.170/31
        (0xC000_0200, 24), // 192.0.2.0/24
        (0xC0A8_0000, 16), // 192.168.0.0/16
        (0xC612_0000, 15), // 198.18.0.0/15
        (0xC633_6400, 24), // 198.51.100.0/24
        (0xCB00_7100, 24), // 203.0.113.0/24
        (0xF000_0000, 4),  // 240.0.0.0/4
        (0xFFFF_FFFF, 32), // 255.255.255.255/32
    ];
    let within = |(net, len): (u32, u32)| (addr ^ net) >> (32 - len) == 0;
    !within((0x6440_0000, 10)) && !PRIVATE.into_iter().any(within)
}

impl Step for Pii {
    fn name(&self) -> &str {
        "pii"
    }

    fn mode(&self) -> StepMode {
        StepMode::Ordered
    }

    fn prepare(&self, doc: &mut Document, _cx: &mut StepCx) -> Option<Prepared> {
        Some(Box::new(HasPii(self.may_have_pii(doc.text()))))
    }

    fn process(&self, mut doc: Document, cx: &mut StepCx) -> Outcome {
        let has = match cx.take_prepared::<HasPii>() {
            Some(HasPii(has)) => has,
            None => self.may_have_pii(doc.text()),
        };
        if !has {
            return Outcome::Keep(doc);
        }
        let mut text: Option<String> = None;
        let (mut n_emails, mut n_ips) = (0, 0);
        if self.cfg.remove_emails {
            let cur = doc.text();
            let found = self.emails(cur);
            if !found.is_empty() {
                let (t, n) = self.replace(
                    cur,
                    found.into_iter(),
                    &self.cfg.email_replacement,
                    &self.email_turn,
                    |_| false,
                );
                text = Some(t);
                n_emails = n;
            }
        }
        if self.cfg.remove_ips {
            let cur = text.as_deref().unwrap_or(doc.text());
            let public_only = self.cfg.only_remove_public_ips;
            let mut left = 0;
            let keep = |s: &str| {
                let valid = parse_v4(s).is_some_and(|a| !public_only || is_global_v4(a));
                left += u64::from(!valid);
                !valid
            };
            let found = self.ip.find_iter(cur).map(|m| m.range());
            let (t, n) = self.replace(cur, found, &self.cfg.ip_replacement, &self.ip_turn, keep);
            self.ips_left.fetch_add(left, Ordering::Relaxed);
            if n > 0 {
                text = Some(t);
                n_ips = n;
            }
        }
        let mut n_extra = 0;
        for re in &self.extra {
            let cur = text.as_deref().unwrap_or(doc.text());
            // An empty match (`x*`, `\b`) has nothing to replace.
            let found = re
                .find_iter(cur)
                .filter(|m| !m.is_empty())
                .map(|m| m.range());
            let list = &self.cfg.extra_replacement;
            let (t, n) = self.replace(cur, found, list, &self.extra_turn, |_| false);
            if n > 0 {
                text = Some(t);
                n_extra += n;
            }
        }
        self.emails_replaced.fetch_add(n_emails, Ordering::Relaxed);
        self.ips_replaced.fetch_add(n_ips, Ordering::Relaxed);
        self.extra_replaced.fetch_add(n_extra, Ordering::Relaxed);
        if let Some(t) = text {
            doc.set_text(t);
            doc.annotate("pii", "emails", n_emails);
            doc.annotate("pii", "ips", n_ips);
            if !self.extra.is_empty() {
                doc.annotate("pii", "extra", n_extra);
            }
        }
        Outcome::Keep(doc)
    }

    fn report(&self) -> Map<String, Value> {
        let load = |a: &AtomicU64| Value::from(a.load(Ordering::Relaxed));
        let mut m = Map::new();
        m.insert("emails_replaced".into(), load(&self.emails_replaced));
        m.insert("ips_replaced".into(), load(&self.ips_replaced));
        m.insert("ips_left_private_or_invalid".into(), load(&self.ips_left));
        if !self.extra.is_empty() {
            m.insert("extra_replaced".into(), load(&self.extra_replaced));
        }
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(step: &Pii, text: &str) -> String {
        let mut cx = StepCx::default();
        let mut doc = Document::new("d", text);
        step.prepare(&mut doc, &mut cx);
        match step.process(doc, &mut cx) {
            Outcome::Keep(d) => d.text().to_string(),
            _ => panic!("pii never rejects"),
        }
    }

    fn step() -> Pii {
        Pii::new(PiiConfig::default()).unwrap()
    }

    #[test]
    fn replacements_go_in_turn_across_documents() {
        let s = step();
        assert_eq!(
            run(&s, "a@b.co c@d.org"),
            "email@example.com firstname.lastname@example.org"
        );
        assert_eq!(run(&s, "<x.y@z.net>"), "<email@example.com>");
        let ips = run(
            &s,
            "1.1.1.1 8.8.8.8 9.9.9.9 4.4.4.4 5.5.5.5 6.6.6.6 7.7.7.7",
        );
        assert_eq!(
            ips,
            "22.214.171.124 126.96.36.199 188.8.131.52 184.108.40.206 220.127.116.11 \
             18.104.22.168 22.214.171.124"
        );
        let r = s.report();
        assert_eq!(r["emails_replaced"], 3);
        assert_eq!(r["ips_replaced"], 7);
    }

    #[test]
    fn private_and_invalid_ips_stay_and_do_not_take_a_turn() {
        let s = step();
        assert_eq!(
            run(
                &s,
                "10.0.0.1 127.0.0.1 192.168.1.1 100.64.0.1 01.2.3.4 8.8.8.8"
            ),
            "10.0.0.1 127.0.0.1 192.168.1.1 100.64.0.1 01.2.3.4 22.214.171.124"
        );
        assert_eq!(s.report()["ips_left_private_or_invalid"], 5);
        // Python's `re` finds 56.1.1.1 inside 256.1.1.1, and 1.2.3.25 in 1.2.3.256.
        assert_eq!(run(&s, "256.1.1.1"), "2126.96.36.199");
        assert_eq!(run(&s, "1.2.3.256"), "188.8.131.526");
        let all = Pii::new(PiiConfig {
            only_remove_public_ips: false,
            ..PiiConfig::default()
        })
        .unwrap();
        assert_eq!(run(&all, "10.0.0.1 01.2.3.4"), "22.214.171.124 01.2.3.4");
    }

    #[test]
    fn email_boundary_is_pythons() {
        let s = step();
        // `\b` before the local part: `é` is a word character, so no match can start at `x`...
        // but one starts later at no position either (the whole run is one word).
        assert_eq!(run(&s, "éx@y.com"), "éx@y.com");
        // A combining mark is not a word character in Python (it is in Rust's `\b`).
        assert_eq!(run(&s, "e\u{301}x@y.com"), "e\u{301}email@example.com");
        // A local part starting with a symbol needs a word character before it: here the
        // match starts after the `-`.
        assert_eq!(run(&s, " -x@y.com"), " -firstname.lastname@example.org");
        assert_eq!(run(&s, "a-x@y.com"), "email@example.com");
        assert_eq!(run(&s, "user@[10.0.0.1]"), "firstname.lastname@example.org");
    }

    #[test]
    fn long_words_after_a_non_ascii_letter_stay_linear() {
        let s = step();
        let text = format!("é{}@b.com", "a".repeat(300_000));
        let t = std::time::Instant::now();
        assert_eq!(run(&s, &text), text);
        let long = format!("é{}", "a-".repeat(100_000));
        let out = run(&s, &format!("{long}@b.com"));
        // Python: no `\b` between `é` and `a`; the match starts at the first `-`.
        assert_eq!(out, "éaemail@example.com");
        assert!(t.elapsed().as_secs() < 5, "{:?}", t.elapsed());
    }

    #[test]
    fn global_table() {
        let g = |s: &str| is_global_v4(parse_v4(s).unwrap());
        for private in [
            "0.1.2.3",
            "10.9.9.9",
            "127.0.0.1",
            "169.254.1.1",
            "172.31.0.1",
            "192.0.0.7",
            "192.0.0.171",
            "192.0.2.5",
            "192.168.0.1",
            "198.19.0.1",
            "198.51.100.2",
            "203.0.113.9",
            "240.0.0.1",
            "255.255.255.255",
            "100.127.0.1",
        ] {
            assert!(!g(private), "{private}");
        }
        for public in [
            "8.8.8.8",
            "172.32.0.1",
            "192.0.0.8",
            "100.128.0.1",
            "224.0.0.1",
        ] {
            assert!(g(public), "{public}");
        }
        assert_eq!(parse_v4("1.2.3.04"), None);
        assert_eq!(parse_v4("1.2.3.0"), Some(0x0102_0300));
    }

    #[test]
    fn extra_patterns_replace_after_the_ips() {
        let s = Pii::new(PiiConfig {
            extra_patterns: vec![r"\+?\d[\d -]{7,}\d".into(), "q*".into()],
            extra_replacement: vec!["<PHONE>".into(), "<P2>".into()],
            ..PiiConfig::default()
        })
        .unwrap();
        assert_eq!(
            run(&s, "Call +1 555 123 4567 or 555-987-6543, a@b.io, yy"),
            "Call <PHONE> or <P2>, email@example.com, yy"
        );
        assert_eq!(s.report()["extra_replaced"], 2);
        // `q*` matches only empty strings here: nothing inserted. Without extra patterns, no
        // extra count.
        assert!(step().report().get("extra_replaced").is_none());
        let bad = PiiConfig {
            extra_patterns: vec!["(?<=x)".into()],
            ..PiiConfig::default()
        };
        assert!(bad.validate().is_err());
    }

    #[test]
    fn empty_lists_are_refused() {
        let cfg = PiiConfig {
            ip_replacement: vec![],
            ..PiiConfig::default()
        };
        assert!(cfg.validate().is_err());
        let cfg = PiiConfig {
            ip_replacement: vec![],
            remove_ips: false,
            ..PiiConfig::default()
        };
        assert!(cfg.validate().is_ok());
    }
}
