//! `flag_encoding_damage`: notes (does not repair) signs that the text was damaged by a wrong
//! character encoding somewhere before it reached us.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};
use thresher_core::check::check_at_least;
use thresher_core::{Document, Outcome, Result, Step, StepConfig, StepCx};

/// Recipe parameters of `flag_encoding_damage`.
///
/// # What
/// Annotates, under `flag_encoding_damage`, three signs of encoding damage, and changes nothing:
/// - `lost_apostrophe`: capitalised words ending in `s` whose stem also stands alone in the
///   document while the stem never appears with an apostrophe-s ("Pakistans" beside "Pakistan",
///   and no "Pakistan's"): a possessive whose apostrophe (often a curly `’`) was dropped by a
///   conversion to ASCII or Latin-1;
/// - `mojibake`: UTF-8 read as Windows-1252 or Latin-1 (`Ã©` for `é`, `â€™` for `’`);
/// - `replacement_chars`: U+FFFD, bytes a decoder could not read.
///
/// # Why
/// These texts are usually still worth keeping, so the step does not drop or rewrite them (a
/// rewrite would guess); the annotation lets a user count, filter or re-fetch them.
///
/// # Source of the thresholds
/// `min_stem_len = 3`: shorter stems ("Us" / "U") are abbreviations more often than names.
/// `max_examples = 10` keeps the annotation small. A name that is really plural ("the Kennedys"
/// beside "Kennedy") is a false positive of the first rule, hence "likely" damage.
///
/// # Example
/// ```toml
/// [[step]]
/// type = "flag_encoding_damage"
/// ```
#[derive(Debug, Clone, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct FlagEncodingDamageConfig {
    /// Shortest stem (in characters) for the lost-apostrophe rule.
    pub min_stem_len: usize,
    /// Most example words recorded per document.
    pub max_examples: usize,
}

impl Default for FlagEncodingDamageConfig {
    fn default() -> Self {
        FlagEncodingDamageConfig {
            min_stem_len: 3,
            max_examples: 10,
        }
    }
}

impl StepConfig for FlagEncodingDamageConfig {
    /// `min_stem_len` is at least 1: an empty stem is not a word.
    fn validate(&self) -> Result<()> {
        check_at_least("flag_encoding_damage", "min_stem_len", self.min_stem_len, 1)
    }

    fn build(self) -> Result<Box<dyn Step>> {
        self.validate()?;
        Ok(Box::new(FlagEncodingDamage { cfg: self }))
    }
}

/// The `flag_encoding_damage` step (see [`FlagEncodingDamageConfig`]).
pub struct FlagEncodingDamage {
    cfg: FlagEncodingDamageConfig,
}

/// What [`FlagEncodingDamage::inspect`] found in one text.
#[derive(Debug, Default, PartialEq)]
pub struct EncodingSigns {
    /// Words that look like possessives without their apostrophe, with their counts.
    pub lost_apostrophe: BTreeMap<String, usize>,
    /// Places where UTF-8 was read as a single-byte encoding.
    pub mojibake: usize,
    /// U+FFFD characters.
    pub replacement_chars: usize,
}

impl FlagEncodingDamage {
    /// A step with the given parameters.
    pub fn new(cfg: FlagEncodingDamageConfig) -> Self {
        FlagEncodingDamage { cfg }
    }

    /// Looks for the signs in `text`.
    pub fn inspect(&self, text: &str) -> EncodingSigns {
        // One pass over the words: the set of all of them, and the list of those shaped like a
        // possessive without its apostrophe (a minority; a list of every word would take 16
        // bytes a word, about three times the text). The set is complete only after the pass,
        // so the candidates are checked against it afterwards.
        let mut standalone: HashSet<&str> = HashSet::new();
        let mut candidates: Vec<&str> = Vec::new();
        let words = text
            .split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '’'))
            .filter(|w| !w.is_empty());
        for w in words {
            standalone.insert(w);
            let Some(stem) = w.strip_suffix('s') else {
                continue;
            };
            let capitalised = stem.chars().next().is_some_and(char::is_uppercase);
            let lower_rest = stem.chars().skip(1).all(|c| !c.is_uppercase());
            if capitalised
                && lower_rest
                && stem.chars().count() >= self.cfg.min_stem_len
                && stem.chars().all(char::is_alphabetic)
            {
                candidates.push(w);
            }
        }
        let mut signs = EncodingSigns::default();
        for w in candidates {
            let stem = &w[..w.len() - 1];
            if !standalone.contains(stem)
                || standalone.contains(format!("{stem}'s").as_str())
                || standalone.contains(format!("{stem}’s").as_str())
            {
                continue;
            }
            *signs.lost_apostrophe.entry(w.to_string()).or_default() += 1;
        }
        // Pairs of neighbouring characters, decoded as they come (a list of the characters
        // would take four bytes a character).
        let mut prev = None;
        for b in text.chars() {
            if b == '\u{FFFD}' {
                signs.replacement_chars += 1;
            }
            let Some(a) = prev.replace(b) else {
                continue;
            };
            // Lead bytes of two- and three-byte UTF-8 sequences read as Windows-1252, followed
            // by a continuation byte read the same way.
            let lead = matches!(a, 'Ã' | 'Â' | 'â');
            let cont = ('\u{80}'..='\u{BF}').contains(&b)
                || matches!(
                    b,
                    '€' | '‚'
                        | 'ƒ'
                        | '„'
                        | '…'
                        | '†'
                        | '‡'
                        | 'ˆ'
                        | '‰'
                        | 'Š'
                        | '‹'
                        | 'Œ'
                        | 'Ž'
                        | '‘'
                        | '’'
                        | '“'
                        | '”'
                        | '•'
                        | '–'
                        | '—'
                        | '˜'
                        | '™'
                        | 'š'
                        | '›'
                        | 'œ'
                        | 'ž'
                        | 'Ÿ'
                );
            if lead && cont {
                signs.mojibake += 1;
            }
        }
        signs
    }
}

impl Step for FlagEncodingDamage {
    fn name(&self) -> &str {
        "flag_encoding_damage"
    }

    fn process(&self, mut doc: Document, _cx: &mut StepCx) -> Outcome {
        let signs = self.inspect(doc.text());
        if signs == EncodingSigns::default() {
            return Outcome::Keep(doc);
        }
        let name = self.name().to_string();
        let lost: usize = signs.lost_apostrophe.values().sum();
        if lost > 0 {
            doc.annotate(&name, "lost_apostrophe", lost);
            let examples: Vec<serde_json::Value> = signs
                .lost_apostrophe
                .keys()
                .take(self.cfg.max_examples)
                .map(|w| w.clone().into())
                .collect();
            doc.annotate(&name, "lost_apostrophe_examples", examples);
        }
        if signs.mojibake > 0 {
            doc.annotate(&name, "mojibake", signs.mojibake);
        }
        if signs.replacement_chars > 0 {
            doc.annotate(&name, "replacement_chars", signs.replacement_chars);
        }
        Outcome::Keep(doc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step() -> FlagEncodingDamage {
        FlagEncodingDamage::new(FlagEncodingDamageConfig::default())
    }

    #[test]
    fn lost_apostrophes_beside_the_stem() {
        let s = step().inspect("Pakistan is large. Pakistans army and Indias navy. India too.");
        assert_eq!(s.lost_apostrophe.len(), 2);
        assert_eq!(s.lost_apostrophe["Pakistans"], 1);
        // With the apostrophe present elsewhere, the s-form is a plural, not damage.
        let s = step().inspect("The Kennedys met Kennedy and Kennedy's aide.");
        assert!(s.lost_apostrophe.is_empty());
        // No stem alone: nothing to compare with.
        assert!(step().inspect("Pakistans army").lost_apostrophe.is_empty());
    }

    #[test]
    fn mojibake_and_replacement_chars() {
        let s = step().inspect("cafÃ© and itâ€™s \u{FFFD} fine");
        assert_eq!(s.mojibake, 2);
        assert_eq!(s.replacement_chars, 1);
        assert_eq!(step().inspect("café it’s fine"), EncodingSigns::default());
    }

    #[test]
    fn annotates_without_editing() {
        let doc = Document::new("d", "Pakistan and Pakistans");
        let Outcome::Keep(d) = step().process(doc, &mut StepCx::default()) else {
            panic!()
        };
        assert_eq!(d.text(), "Pakistan and Pakistans");
        assert_eq!(d.text_edits(), 0);
        assert_eq!(d.annotations["flag_encoding_damage"]["lost_apostrophe"], 1);
    }
}
