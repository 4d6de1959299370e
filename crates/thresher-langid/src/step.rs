//! `language_id`: labels each document with its language and, unless `label_only`, keeps only
//! the wanted languages above a confidence.
//!
//! # What it does
//! Writes `metadata.language` (ISO 639-1 code; `und` when the text has no letters) and
//! `metadata.language_score` (the confidence in [0, 1]) to every document, as datatrove's
//! `LanguageFilter` does. Newlines need no replacing: words are letter runs. A document whose
//! language is not in `languages` (empty: any language), or whose score is not above
//! `min_score`, is rejected as `language_id:<code>` with the score as value, unless `label_only`.
//! Long documents are identified on a bounded sample: `sample_windows` evenly spaced windows
//! whose sizes add up to `sample_bytes`, so the cost per document is bounded whatever its length.
//! Each window is identified alone; the language of the most sampled bytes wins, and its score is
//! the byte-weighted mean of its windows' scores over all sampled bytes (a document 75% English
//! scores about 0.75 times the windows' confidence, as a bag-of-words classifier would).
//! `shares = true` writes `metadata.language_shares` (language -> share of sampled bytes);
//! `script = true` writes `metadata.script` (ISO 15924).
//!
//! # Why
//! Every curation recipe starts by keeping the languages it wants; FineWeb keeps English with a
//! score above 0.65.
//!
//! # Source of each default
//! `min_score` 0.65 and `languages` (empty = all) follow datatrove's `LanguageFilter` defaults.
//! `sample_bytes` 1024 in 3 windows: about 150 words, over 50 per window, which the identifier
//! gets right more than 99% of the time for sentences of 120 letters or more (docs/langid.md); it
//! keeps the cost per document near that of `wc -w` over the document.
//!
//! # Example
//! ```
//! use thresher_core::{Document, Outcome, StepConfig, StepCx};
//! use thresher_langid::LanguageIdConfig;
//!
//! let step = LanguageIdConfig { languages: vec!["en".into()], ..Default::default() }.build().unwrap();
//! let doc = Document::new("d", "The committee will publish its report on the new railway next week.");
//! let Outcome::Keep(doc) = step.process(doc, &mut StepCx::default()) else { panic!() };
//! assert_eq!(doc.metadata["language"], "en");
//! let doc = Document::new("d", "Le comité publiera son rapport sur la nouvelle ligne la semaine prochaine.");
//! assert!(matches!(step.process(doc, &mut StepCx::default()), Outcome::Reject { .. }));
//! ```

use std::borrow::Cow;
use std::ops::ControlFlow;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use thresher_core::check::{check_at_least, check_fraction};
use thresher_core::{Document, Error, Filter, Outcome, Result, Rules, Step, StepConfig, StepCx};
use unicode_script::Script;

use crate::detect::detect;
use crate::lang::{Language, LanguageSet};

/// Recipe parameters of `language_id`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct LanguageIdConfig {
    /// Languages to keep (ISO 639-1 or 639-3 codes); empty keeps every language.
    pub languages: Vec<String>,
    /// A document is kept only if its language's score is above this.
    pub min_score: f64,
    /// Only label: never reject.
    pub label_only: bool,
    /// Languages the identifier may answer (empty: all 75). Narrowing it helps when a corpus is
    /// known to hold only a few languages.
    pub candidates: Vec<String>,
    /// Total bytes of text sampled from a long document.
    pub sample_bytes: usize,
    /// Number of evenly spaced windows the sample is taken from.
    pub sample_windows: usize,
    /// Also write `metadata.language_shares`.
    pub shares: bool,
    /// Also write `metadata.script`.
    pub script: bool,
}

impl Default for LanguageIdConfig {
    fn default() -> Self {
        LanguageIdConfig {
            languages: Vec::new(),
            min_score: 0.65,
            label_only: false,
            candidates: Vec::new(),
            sample_bytes: 1024,
            sample_windows: 3,
            shares: false,
            script: false,
        }
    }
}

fn parse_codes(codes: &[String], key: &str) -> Result<Option<LanguageSet>> {
    if codes.is_empty() {
        return Ok(None);
    }
    let mut set = LanguageSet::default();
    for c in codes {
        let l = Language::from_code(c).ok_or_else(|| {
            Error::config(
                "language_id",
                format!("`{key}`: unknown language code \"{c}\" (see docs/langid.md)"),
            )
        })?;
        set.insert(l);
    }
    Ok(Some(set))
}

impl StepConfig for LanguageIdConfig {
    /// `min_score` is a fraction, the sample at least 64 bytes in at least one window, every
    /// language code known, and the table at hand (a build that reads it from a file).
    fn validate(&self) -> Result<()> {
        const STEP: &str = "language_id";
        check_fraction(STEP, "min_score", self.min_score)?;
        check_at_least(STEP, "sample_bytes", self.sample_bytes, 64)?;
        check_at_least(STEP, "sample_windows", self.sample_windows, 1)?;
        parse_codes(&self.languages, "languages")?;
        parse_codes(&self.candidates, "candidates")?;
        // A build that reads the table at run time refuses the recipe when it is loaded.
        crate::model::check_table().map_err(|e| Error::config(STEP, e))?;
        Ok(())
    }

    fn build(self) -> Result<Box<dyn Step>> {
        self.validate()?;
        crate::model::Model::try_get().map_err(|e| Error::config("language_id", e))?;
        let keep = parse_codes(&self.languages, "languages")?;
        let candidates =
            parse_codes(&self.candidates, "candidates")?.unwrap_or_else(LanguageSet::all);
        Ok(Box::new(LanguageId {
            keep,
            candidates,
            cfg: self,
        }))
    }
}

/// The `language_id` step; see the module documentation.
pub struct LanguageId {
    cfg: LanguageIdConfig,
    keep: Option<LanguageSet>,
    candidates: LanguageSet,
}

/// How far past its start a window may scan to fill itself (whitespace runs, markup leftovers).
const MAX_SCAN_FACTOR: usize = 16;

/// Takes at most `windows` pieces of `text` adding up to about `budget` bytes of words, evenly
/// spaced. Each piece starts after a whitespace (no cut word; the first starts at the text's
/// start) and has its whitespace runs collapsed to one space, so a page padded with blank space
/// still yields words; a piece scans at most 16 times its size. A text within the budget is one
/// piece, whole.
pub fn sample_windows(text: &str, budget: usize, windows: usize) -> Vec<Cow<'_, str>> {
    if text.len() <= budget {
        return vec![Cow::Borrowed(text)];
    }
    let windows = windows.max(1);
    let size = (budget / windows).max(1);
    let stride = (text.len() - size) / windows.saturating_sub(1).max(1);
    let mut out = Vec::with_capacity(windows);
    for w in 0..windows {
        let mut start = if windows == 1 { 0 } else { w * stride };
        while !text.is_char_boundary(start) {
            start += 1;
        }
        let rest = &text[start..];
        let mut chars = rest.char_indices().peekable();
        if start > 0 {
            // Skip the partial word the window starts in.
            while chars.next_if(|(_, c)| !c.is_whitespace()).is_some() {}
        }
        let mut piece = String::with_capacity(size + 8);
        let mut pending_space = false;
        let mut ended_in_word = false;
        for (at, c) in chars {
            if at > size * MAX_SCAN_FACTOR {
                break;
            }
            if c.is_whitespace() {
                pending_space = !piece.is_empty();
                if piece.len() >= size {
                    ended_in_word = false;
                    break;
                }
                continue;
            }
            if piece.len() >= 2 * size {
                // A "word" longer than the window (no whitespace): stop here.
                break;
            }
            if pending_space {
                piece.push(' ');
                pending_space = false;
            }
            piece.push(c);
            ended_in_word = true;
        }
        // Drop a word the scan limit cut, unless it is all the piece has.
        if ended_in_word {
            if let Some(cut) = piece.rfind(' ') {
                piece.truncate(cut);
            }
        }
        out.push(Cow::Owned(piece));
    }
    out
}

fn script_code(l: Language) -> &'static str {
    match l.code() {
        "ja" => "Jpan",
        "ko" => "Kore",
        "zh" => "Hani",
        _ => match l.script() {
            Script::Latin => "Latn",
            Script::Cyrillic => "Cyrl",
            Script::Arabic => "Arab",
            Script::Devanagari => "Deva",
            Script::Greek => "Grek",
            Script::Hebrew => "Hebr",
            Script::Armenian => "Armn",
            Script::Georgian => "Geor",
            Script::Bengali => "Beng",
            Script::Gujarati => "Gujr",
            Script::Gurmukhi => "Guru",
            Script::Tamil => "Taml",
            Script::Telugu => "Telu",
            Script::Thai => "Thai",
            _ => "Zyyy",
        },
    }
}

/// What the sample of one document said.
struct Identified {
    language: Option<Language>,
    score: f64,
    /// (language or None, sampled bytes identified as it), largest first.
    bytes: Vec<(Option<Language>, usize)>,
    total: usize,
}

impl LanguageId {
    /// Identifies a document's text on its bounded sample. A short text is one window; a long
    /// one is several windows identified one by one: the language of the most sampled bytes
    /// wins, and its score is the byte-weighted mean of those windows' scores over all sampled
    /// bytes, so a document that is 75% English with confident windows scores about 0.75.
    fn identify(&self, text: &str) -> Identified {
        let windows = sample_windows(text, self.cfg.sample_bytes, self.cfg.sample_windows);
        let total: usize = windows.iter().map(|w| w.len()).sum();
        if windows.len() == 1 {
            let d = detect(&windows[0], self.candidates);
            return Identified {
                language: d.language,
                score: d.score,
                bytes: vec![(d.language, total)],
                total,
            };
        }
        // (language, bytes, bytes x score), in order of first appearance.
        let mut per: Vec<(Option<Language>, usize, f64)> = Vec::new();
        for w in &windows {
            let d = detect(w, self.candidates);
            match per.iter_mut().find(|e| e.0 == d.language) {
                Some(e) => {
                    e.1 += w.len();
                    e.2 += w.len() as f64 * d.score;
                }
                None => per.push((d.language, w.len(), w.len() as f64 * d.score)),
            }
        }
        // Most bytes first, windows without letters last; a tie goes to the higher weighted
        // score, then to the earlier. The score is over the bytes of windows with letters.
        per.sort_by(|x, y| {
            y.0.is_some()
                .cmp(&x.0.is_some())
                .then(y.1.cmp(&x.1))
                .then(y.2.partial_cmp(&x.2).unwrap_or(std::cmp::Ordering::Equal))
        });
        let (language, _, weighted) = per[0];
        let lettered: usize = per.iter().filter(|e| e.0.is_some()).map(|e| e.1).sum();
        let score = if lettered == 0 || language.is_none() {
            0.0
        } else {
            weighted / lettered as f64
        };
        Identified {
            language,
            score,
            bytes: per.iter().map(|e| (e.0, e.1)).collect(),
            total,
        }
    }
}

fn shares(id: &Identified) -> Map<String, Value> {
    let mut shares = Map::new();
    for (l, b) in &id.bytes {
        let share = if id.total == 0 {
            0.0
        } else {
            *b as f64 / id.total as f64
        };
        shares.insert(
            l.map_or("und", |l| l.code()).into(),
            Value::from((share * 10_000.0).round() / 10_000.0),
        );
    }
    shares
}

impl Step for LanguageId {
    fn name(&self) -> &str {
        "language_id"
    }

    fn process(&self, doc: Document, cx: &mut StepCx) -> Outcome {
        Rules::filter().run(self, doc, cx, "language_id")
    }

    fn as_filter(&self) -> Option<&dyn Filter> {
        Some(self)
    }
}

impl Filter for LanguageId {
    /// The labels are written in both modes; annotate mode also records `language` and
    /// `score` under `language_id` (and `wanted`: whether the language is one of `languages`),
    /// even with `label_only`.
    fn judge(&self, doc: &mut Document, _cx: &mut StepCx, rules: &mut Rules) -> ControlFlow<()> {
        let id = self.identify(doc.text());
        let (lang, score) = (id.language, id.score);
        let shares = self.cfg.shares.then(|| shares(&id));
        let code = lang.map_or("und", |l| l.code());
        // Rounded so the output does not carry float noise; 4 decimals decide any threshold.
        let score = (score * 10_000.0).round() / 10_000.0;
        doc.metadata.insert("language".into(), Value::from(code));
        doc.metadata
            .insert("language_score".into(), Value::from(score));
        if self.cfg.script {
            doc.metadata.insert(
                "script".into(),
                Value::from(lang.map_or("Zyyy", script_code)),
            );
        }
        if let Some(shares) = shares {
            doc.metadata
                .insert("language_shares".into(), Value::Object(shares));
        }
        if self.cfg.label_only && !rules.annotating() {
            return ControlFlow::Continue(());
        }
        let wanted = match (lang, self.keep) {
            (Some(l), Some(keep)) => keep.contains(l),
            (Some(_), None) => true,
            (None, _) => false,
        };
        rules.note("language", code);
        rules.note("wanted", wanted);
        let fails = !(wanted && score > self.cfg.min_score);
        // The reason code names the language: made only for a rejection.
        let reason = if fails {
            format!("language_id:{code}")
        } else {
            String::new()
        };
        rules.rule("score", score, fails, reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_is_bounded_and_whole_words() {
        let text = "word ".repeat(10_000);
        let w = sample_windows(&text, 1000, 4);
        assert_eq!(w.len(), 4);
        // Each piece stops at the first whitespace past its share: at most one word over.
        assert!(w.iter().map(|p| p.len()).sum::<usize>() <= 1000 + 4 * "word ".len());
        for p in &w {
            assert!(p.trim().split(' ').all(|t| t == "word"), "{p:?}");
        }
        assert_eq!(sample_windows("short text", 1000, 4), vec!["short text"]);
    }

    fn step(cfg: LanguageIdConfig) -> Box<dyn Step> {
        cfg.build().expect("valid config")
    }

    #[test]
    fn rejects_other_languages_with_code_and_score() {
        let s = step(LanguageIdConfig {
            languages: vec!["en".into()],
            ..Default::default()
        });
        let doc = Document::new(
            "d",
            "Die Kommission wird ihren Bericht nächste Woche vorlegen.",
        );
        match s.process(doc, &mut StepCx::default()) {
            Outcome::Reject { doc, reason } => {
                assert_eq!(reason.code, "language_id:de");
                assert_eq!(doc.metadata["language"], "de");
                assert_eq!(
                    Some(reason.value),
                    doc.metadata.get("language_score").cloned()
                );
            }
            other => panic!("kept: {:?}", other.doc().metadata),
        }
    }

    #[test]
    fn no_letters_is_und_and_rejected_unless_label_only() {
        let doc = || Document::new("d", "1234 5678 -- !!");
        let s = step(LanguageIdConfig::default());
        match s.process(doc(), &mut StepCx::default()) {
            Outcome::Reject { reason, .. } => assert_eq!(reason.code, "language_id:und"),
            other => panic!("kept: {:?}", other.doc().metadata),
        }
        let s = step(LanguageIdConfig {
            label_only: true,
            ..Default::default()
        });
        let Outcome::Keep(d) = s.process(doc(), &mut StepCx::default()) else {
            panic!("label_only rejected");
        };
        assert_eq!(d.metadata["language"], "und");
        assert_eq!(d.metadata["language_score"], 0.0);
    }

    #[test]
    fn mixed_document_gets_majority_and_shares() {
        let en = "The committee will publish its report on the new railway line next week. ";
        let fr = "Le comité publiera son rapport sur la nouvelle ligne la semaine prochaine. ";
        let text = format!("{}{}", en.repeat(60), fr.repeat(20));
        let s = step(LanguageIdConfig {
            label_only: true,
            shares: true,
            script: true,
            ..Default::default()
        });
        let Outcome::Keep(d) = s.process(Document::new("d", text), &mut StepCx::default()) else {
            panic!("label_only rejected");
        };
        assert_eq!(d.metadata["language"], "en");
        assert_eq!(d.metadata["script"], "Latn");
        let shares = d.metadata["language_shares"].as_object().expect("shares");
        assert!(shares["en"].as_f64().unwrap_or(0.0) >= 0.5, "{shares:?}");
        assert!(shares.contains_key("fr"), "{shares:?}");
    }

    #[test]
    fn bad_config_is_an_error() {
        for cfg in [
            LanguageIdConfig {
                languages: vec!["xx".into()],
                ..Default::default()
            },
            LanguageIdConfig {
                min_score: 1.5,
                ..Default::default()
            },
            LanguageIdConfig {
                sample_bytes: 10,
                ..Default::default()
            },
        ] {
            assert!(cfg.build().is_err());
        }
        let ok = LanguageIdConfig {
            languages: vec!["eng".into(), "fr".into()],
            candidates: vec!["en".into(), "fr".into(), "de".into()],
            ..Default::default()
        };
        assert!(ok.build().is_ok());
    }

    #[test]
    fn blank_padded_pages_still_yield_words() {
        let text = format!(
            "{}{}",
            "Heading      \n\n\n".repeat(40),
            "The committee met today.      ".repeat(400)
        );
        for w in sample_windows(&text, 600, 3) {
            assert!(!w.trim().is_empty());
            assert!(!w.contains("  "), "{w:?}");
        }
    }

    #[test]
    fn sample_never_splits_a_character() {
        let text = "é".repeat(5000);
        for w in sample_windows(&text, 999, 3) {
            assert!(w.chars().all(|c| c == 'é'));
        }
    }
}
