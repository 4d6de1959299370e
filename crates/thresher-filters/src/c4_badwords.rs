//! `c4_badwords`: drops documents containing a word of the LDNOOBW bad-words list of their
//! language.
//!
//! # What it does
//! The document's language is `metadata.language` (else `default_language`). Its text,
//! lower-cased, is searched for any entry of that language's list; outside Japanese, Thai and
//! Chinese an entry only counts when it is flanked by non-word characters (Python `re`'s `\W`)
//! or the ends of the text. A hit rejects the document as
//! `c4_badwords:document_removed_with_badwords` (value: the entry found), except for a
//! `keep_fraction` of such documents. A language without a list is an error for the document
//! (`fail_on_missing_language`, as datatrove raises) or passes.
//!
//! # Why
//! C4 (Raffel et al. 2020) removed pages with any word of the "List of Dirty, Naughty, Obscene
//! or Otherwise Bad Words" to keep offensive content out of the training set.
//!
//! # Source of each threshold
//! datatrove 0.10.1 `C4BadWordsFilter`: the same 28 languages, the same allow-list (`sm`,
//! `グロ`, `女の子`, `性` are removed from every list because they are common sub-words where
//! words are not space-separated), `keep_fraction` 0, `default_language` "en". The lists are
//! bundled (CC-BY-4.0, see `data/c4_badwords/SOURCE.md`); `badwords_dir` replaces them with
//! `<lang>.txt` files of one entry a line. Which documents `keep_fraction` keeps is decided by a
//! hash of the document id and `seed` rather than by a random generator, so that it does not
//! depend on the order in which threads see documents (datatrove draws from numpy's generator).
//!
//! # Example
//! ```
//! use thresher_core::{Document, Outcome, StepConfig, StepCx};
//! use thresher_filters::C4BadWordsConfig;
//!
//! let step = C4BadWordsConfig::default().build().unwrap();
//! let doc = Document::new("d", "What a load of BULLSHIT, honestly.");
//! assert!(matches!(step.process(doc, &mut StepCx::default()), Outcome::Reject { .. }));
//! let doc = Document::new("d", "Assessment of the class.");
//! assert!(matches!(step.process(doc, &mut StepCx::default()), Outcome::Keep(_)));
//! ```

use std::collections::HashMap;
use std::path::PathBuf;

use aho_corasick::AhoCorasick;
use serde::{Deserialize, Serialize};
use std::ops::ControlFlow;
use thresher_core::check::check_fraction;

use serde_json::Value;
use thresher_core::{Document, Error, Filter, Outcome, Result, Rules, Step, StepConfig, StepCx};

use crate::pychar;

/// The bundled lists: (language, one entry a line).
static BUNDLED: &[(&str, &str)] = &[
    ("ar", include_str!("../data/c4_badwords/ar.txt")),
    ("cs", include_str!("../data/c4_badwords/cs.txt")),
    ("da", include_str!("../data/c4_badwords/da.txt")),
    ("de", include_str!("../data/c4_badwords/de.txt")),
    ("en", include_str!("../data/c4_badwords/en.txt")),
    ("eo", include_str!("../data/c4_badwords/eo.txt")),
    ("es", include_str!("../data/c4_badwords/es.txt")),
    ("fa", include_str!("../data/c4_badwords/fa.txt")),
    ("fi", include_str!("../data/c4_badwords/fi.txt")),
    ("fil", include_str!("../data/c4_badwords/fil.txt")),
    ("fr", include_str!("../data/c4_badwords/fr.txt")),
    (
        "fr-CA-u-sd-caqc",
        include_str!("../data/c4_badwords/fr-CA-u-sd-caqc.txt"),
    ),
    ("hi", include_str!("../data/c4_badwords/hi.txt")),
    ("hu", include_str!("../data/c4_badwords/hu.txt")),
    ("it", include_str!("../data/c4_badwords/it.txt")),
    ("ja", include_str!("../data/c4_badwords/ja.txt")),
    ("kab", include_str!("../data/c4_badwords/kab.txt")),
    ("ko", include_str!("../data/c4_badwords/ko.txt")),
    ("nl", include_str!("../data/c4_badwords/nl.txt")),
    ("no", include_str!("../data/c4_badwords/no.txt")),
    ("pl", include_str!("../data/c4_badwords/pl.txt")),
    ("pt", include_str!("../data/c4_badwords/pt.txt")),
    ("ru", include_str!("../data/c4_badwords/ru.txt")),
    ("sv", include_str!("../data/c4_badwords/sv.txt")),
    ("th", include_str!("../data/c4_badwords/th.txt")),
    ("tlh", include_str!("../data/c4_badwords/tlh.txt")),
    ("tr", include_str!("../data/c4_badwords/tr.txt")),
    ("zh", include_str!("../data/c4_badwords/zh.txt")),
];

/// Entries removed from every list (datatrove's allow-list).
const ALLOWLIST: [&str; 4] = ["sm", "グロ", "女の子", "性"];

/// Recipe parameters of `c4_badwords` (defaults: datatrove 0.10.1's).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct C4BadWordsConfig {
    /// Fraction of documents with bad words that are kept anyway.
    pub keep_fraction: f64,
    /// A document whose language has no list is an error (true) or passes (false).
    pub fail_on_missing_language: bool,
    /// Seed of the `keep_fraction` choice.
    pub seed: u64,
    /// Language of documents without `metadata.language`.
    pub default_language: String,
    /// A folder of `<lang>.txt` lists to use instead of the bundled ones.
    pub badwords_dir: Option<PathBuf>,
}

impl Default for C4BadWordsConfig {
    fn default() -> Self {
        C4BadWordsConfig {
            keep_fraction: 0.0,
            fail_on_missing_language: true,
            seed: 0,
            default_language: "en".to_string(),
            badwords_dir: None,
        }
    }
}

impl StepConfig for C4BadWordsConfig {
    /// `keep_fraction` is a fraction.
    fn validate(&self) -> Result<()> {
        check_fraction("c4_badwords", "keep_fraction", self.keep_fraction)
    }

    fn build(self) -> Result<Box<dyn Step>> {
        Ok(Box::new(C4BadWords::new(self)?))
    }
}

/// There is no bad-words list for the document's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MissingLanguage;

/// One language's matcher.
struct BadWords {
    matcher: AhoCorasick,
    /// Japanese, Thai, Chinese: entries match anywhere, not only between non-word characters.
    anywhere: bool,
}

/// The `c4_badwords` step; see the module documentation.
pub struct C4BadWords {
    cfg: C4BadWordsConfig,
    langs: HashMap<String, BadWords>,
}

impl std::fmt::Debug for C4BadWords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("C4BadWords")
            .field("cfg", &self.cfg)
            .field("languages", &self.langs.len())
            .finish()
    }
}

impl C4BadWords {
    /// Loads the lists (bundled, or every `<lang>.txt` of `badwords_dir`) and builds a matcher
    /// per language.
    pub fn new(cfg: C4BadWordsConfig) -> Result<Self> {
        cfg.validate()?;
        let mut lists: Vec<(String, String)> = Vec::new();
        match &cfg.badwords_dir {
            None => lists.extend(BUNDLED.iter().map(|(l, t)| (l.to_string(), t.to_string()))),
            Some(dir) => {
                let rd = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
                for entry in rd {
                    let path = entry.map_err(|e| Error::io(dir, e))?.path();
                    let lang = match (path.extension(), path.file_stem()) {
                        (Some(ext), Some(stem)) if ext == "txt" => {
                            stem.to_string_lossy().into_owned()
                        }
                        _ => continue,
                    };
                    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
                    lists.push((lang, text));
                }
            }
        }
        let mut langs = HashMap::new();
        for (lang, text) in lists {
            // Entries are the stripped lines, as datatrove reads them (a blank line would be an
            // empty entry there; the bundled lists have none, and here blank lines are skipped).
            let mut words: Vec<&str> = text
                .lines()
                .map(pychar::strip)
                .filter(|w| !w.is_empty() && !ALLOWLIST.contains(w))
                .collect();
            words.sort_unstable();
            words.dedup();
            let matcher = AhoCorasick::new(&words)
                .map_err(|e| Error::config("c4_badwords", format!("list {lang}: {e}")))?;
            let anywhere = matches!(lang.as_str(), "ja" | "th" | "zh");
            langs.insert(lang, BadWords { matcher, anywhere });
        }
        Ok(C4BadWords { cfg, langs })
    }

    /// The first bad word found in `text` for `lang` (`Err` when there is no list for `lang`).
    pub fn find(
        &self,
        lang: &str,
        text: &str,
    ) -> std::result::Result<Option<String>, MissingLanguage> {
        let bw = self.langs.get(lang).ok_or(MissingLanguage)?;
        let lower = text.to_lowercase();
        let hay = lower.as_str();
        for m in bw.matcher.find_overlapping_iter(hay) {
            let ok = bw.anywhere || {
                let before = hay[..m.start()].chars().next_back();
                let after = hay[m.end()..].chars().next();
                before.is_none_or(|c| !pychar::is_word_char(c))
                    && after.is_none_or(|c| !pychar::is_word_char(c))
            };
            if ok {
                return Ok(Some(hay[m.start()..m.end()].to_string()));
            }
        }
        Ok(None)
    }

    fn keep_anyway(&self, doc: &Document) -> bool {
        if self.cfg.keep_fraction <= 0.0 {
            return false;
        }
        let h = xxhash_rust::xxh3::xxh3_64_with_seed(doc.id.as_bytes(), self.cfg.seed);
        // The top 53 bits as a uniform number in [0, 1).
        ((h >> 11) as f64 / (1u64 << 53) as f64) < self.cfg.keep_fraction
    }
}

impl Step for C4BadWords {
    fn name(&self) -> &str {
        "c4_badwords"
    }

    fn process(&self, doc: Document, cx: &mut StepCx) -> Outcome {
        Rules::filter().run(self, doc, cx, "c4_badwords")
    }

    fn as_filter(&self) -> Option<&dyn Filter> {
        Some(self)
    }
}

impl Filter for C4BadWords {
    /// Annotates `badword` (the first bad word found, or null) and `kept_anyway` (whether the
    /// `keep_fraction` draw keeps the document all the same): rejected when a bad word is found
    /// and it is not kept anyway.
    fn judge(&self, doc: &mut Document, _cx: &mut StepCx, rules: &mut Rules) -> ControlFlow<()> {
        let lang = doc
            .metadata
            .get("language")
            .and_then(|v| v.as_str())
            .unwrap_or(&self.cfg.default_language);
        match self.find(lang, doc.text()) {
            Err(MissingLanguage) if self.cfg.fail_on_missing_language => {
                let msg = format!("c4_badwords: no bad-words list for language {lang:?}");
                rules.error(msg)
            }
            Err(MissingLanguage) | Ok(None) => {
                rules.note("badword", Value::Null);
                ControlFlow::Continue(())
            }
            Ok(Some(word)) => {
                let kept = self.keep_anyway(doc);
                rules.note("kept_anyway", kept);
                rules.rule(
                    "badword",
                    word,
                    !kept,
                    "c4_badwords:document_removed_with_badwords",
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step() -> C4BadWords {
        C4BadWords::new(C4BadWordsConfig::default()).unwrap()
    }

    #[test]
    fn word_boundaries() {
        let s = step();
        assert_eq!(s.find("en", "you ASS."), Ok(Some("ass".into())));
        assert_eq!(s.find("en", "assessment class"), Ok(None));
        assert_eq!(s.find("en", "ass_hat"), Ok(None));
        // A longer entry can match where a shorter overlapping one does not.
        assert_eq!(s.find("en", "xasshole"), Ok(None));
        assert_eq!(
            s.find("en", "2 girls 1 cup!"),
            Ok(Some("2 girls 1 cup".into()))
        );
        assert_eq!(s.find("xx", "text"), Err(MissingLanguage));
        // The allow-list applies to every language.
        assert_eq!(s.find("ja", "sm"), Ok(None));
    }

    #[test]
    fn missing_language_and_keep_fraction() {
        let mut doc = Document::new("d", "some text");
        doc.metadata.insert("language".into(), "xx".into());
        assert!(matches!(
            step().process(doc.clone(), &mut StepCx::default()),
            Outcome::Error { .. }
        ));
        let lenient = C4BadWords::new(C4BadWordsConfig {
            fail_on_missing_language: false,
            ..Default::default()
        })
        .unwrap();
        assert!(matches!(
            lenient.process(doc, &mut StepCx::default()),
            Outcome::Keep(_)
        ));
        let all = C4BadWords::new(C4BadWordsConfig {
            keep_fraction: 1.0,
            ..Default::default()
        })
        .unwrap();
        assert!(matches!(
            all.process(Document::new("d", "shit"), &mut StepCx::default()),
            Outcome::Keep(_)
        ));
        assert!(C4BadWords::new(C4BadWordsConfig {
            keep_fraction: 2.0,
            ..Default::default()
        })
        .is_err());
    }

    #[test]
    fn every_bundled_list_loads() {
        assert_eq!(step().langs.len(), 28);
    }
}
