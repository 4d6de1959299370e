//! Detection: words, character rules, then n-gram log-probabilities summed per language.
//!
//! The scoring follows lingua-rs's high-accuracy mode, so thresher answers what lingua answers:
//! the text is lower-cased and split into letter runs; rules on scripts and rare letters decide
//! outright or narrow the candidates; then every distinct n-gram of the words (lengths 1 to 5,
//! or only trigrams when the words hold 120 characters or more) adds, for each candidate, the
//! log-probability of the longest of its prefixes that the language's model knows. The sum is
//! divided by the number of distinct letters the language knows, and a softmax over the
//! candidates gives the confidence. What differs is the machinery: one lookup in a merged table
//! answers for all 75 languages, the prefixes of the n-grams starting at one position are looked
//! up once for all lengths, and the per-language sums are dense arrays.

use crate::hash::pack_ngram;
use crate::lang::{
    shared_characters, single_language_script, uses_script, Language, LanguageSet, LANGUAGE_COUNT,
    UNIQUE_CHARACTERS,
};
use crate::model::Model;
use regex::Regex;
use std::cell::RefCell;
use std::sync::OnceLock;
use unicode_script::{Script, UnicodeScript};

/// Texts whose words hold at least this many characters are scored on trigrams only.
const LONG_TEXT_CHARS: usize = 120;

/// The scripts a word can be written in, in the order words are matched against them.
const ALPHABETS: [Script; 18] = [
    Script::Arabic,
    Script::Armenian,
    Script::Bengali,
    Script::Cyrillic,
    Script::Devanagari,
    Script::Georgian,
    Script::Greek,
    Script::Gujarati,
    Script::Gurmukhi,
    Script::Han,
    Script::Hangul,
    Script::Hebrew,
    Script::Hiragana,
    Script::Katakana,
    Script::Latin,
    Script::Tamil,
    Script::Telugu,
    Script::Thai,
];

/// The result of identifying one text.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    /// The most likely language, or None when the text has no letters.
    pub language: Option<Language>,
    /// Its confidence in [0, 1] (1.0 when a rule decided).
    pub score: f64,
}

fn words_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"\p{Bengali}+|\p{Devanagari}+|\p{Gujarati}+|\p{Gurmukhi}+|\p{Han}|\p{Hangul}+|\p{Hiragana}|\p{Katakana}|\p{Tamil}+|\p{Telugu}+|\p{Thai}+|\p{L}+",
        )
        .expect("static regex")
    })
}

struct Tables {
    unique: Vec<(Language, &'static str)>,
    shared: Vec<(&'static str, LanguageSet)>,
}

fn tables() -> &'static Tables {
    static T: OnceLock<Tables> = OnceLock::new();
    T.get_or_init(|| Tables {
        unique: UNIQUE_CHARACTERS
            .iter()
            .filter_map(|(code, chars)| Language::from_code(code).map(|l| (l, *chars)))
            .collect(),
        shared: shared_characters(),
    })
}

/// Reused buffers: detection allocates nothing per text once warm.
#[derive(Default)]
struct Scratch {
    lower: String,
    /// Characters of all words, words back to back.
    chars: Vec<char>,
    /// (start, end) of each word in `chars`.
    words: Vec<(usize, usize)>,
    seen: SeenSet,
}

/// A set of (n-gram length, packed n-gram) keys, cleared in O(1) by bumping a stamp.
#[derive(Default)]
struct SeenSet {
    keys: Vec<(u128, u32)>,
    stamp: u32,
    mask: usize,
}

impl SeenSet {
    fn reset(&mut self, expected: usize) {
        let want = (expected * 2).next_power_of_two().max(64);
        if self.keys.len() < want || self.stamp == u32::MAX {
            self.keys = vec![(0, 0); want];
            self.stamp = 0;
        }
        self.mask = self.keys.len() - 1;
        self.stamp += 1;
    }
    /// Inserts a key; returns true when it was not there yet.
    #[inline]
    fn insert(&mut self, n: usize, packed: u128) -> bool {
        let key = packed | ((n as u128) << 110);
        let mut i = (crate::hash::ngram_hash(key) as usize) & self.mask;
        loop {
            let (k, s) = self.keys[i];
            if s != self.stamp {
                self.keys[i] = (key, self.stamp);
                return true;
            }
            if k == key {
                return false;
            }
            i = (i + 1) & self.mask;
        }
    }
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Identifies the language of `text` among `candidates`.
pub fn detect(text: &str, candidates: LanguageSet) -> Detection {
    SCRATCH.with(|s| detect_with(&mut s.borrow_mut(), text, candidates))
}

fn detect_with(s: &mut Scratch, text: &str, candidates: LanguageSet) -> Detection {
    let none = Detection {
        language: None,
        score: 0.0,
    };
    s.lower.clear();
    for c in text.trim().chars() {
        if c.is_ascii() {
            s.lower.push(c.to_ascii_lowercase());
        } else {
            s.lower.extend(c.to_lowercase());
        }
    }
    s.chars.clear();
    s.words.clear();
    for m in words_regex().find_iter(&s.lower) {
        let start = s.chars.len();
        s.chars.extend(m.as_str().chars());
        s.words.push((start, s.chars.len()));
    }
    if s.words.is_empty() || candidates.is_empty() {
        return none;
    }
    if let Some(l) = decide_by_rules(&s.chars, &s.words, candidates) {
        return Detection {
            language: Some(l),
            score: 1.0,
        };
    }
    let filtered = filter_by_rules(&s.chars, &s.words, candidates);
    if filtered.len() == 1 {
        return Detection {
            language: filtered.iter().next(),
            score: 1.0,
        };
    }
    score_ngrams(s, filtered)
}

fn decide_by_rules(
    chars: &[char],
    words: &[(usize, usize)],
    candidates: LanguageSet,
) -> Option<Language> {
    let t = tables();
    let zh = Language::from_code("zh")?;
    let ja = Language::from_code("ja")?;
    let mut total = [0u32; LANGUAGE_COUNT];
    let mut unknown = 0u32;
    let mut counts: Vec<(Language, u32)> = Vec::new();
    for &(a, b) in words {
        counts.clear();
        let bump = |l: Language, counts: &mut Vec<(Language, u32)>| match counts
            .iter_mut()
            .find(|(x, _)| *x == l)
        {
            Some(e) => e.1 += 1,
            None => counts.push((l, 1)),
        };
        for &c in &chars[a..b] {
            let script = c.script();
            if let Some(l) = single_language_script(script) {
                bump(l, &mut counts);
            } else if script == Script::Han {
                bump(zh, &mut counts);
            } else if matches!(
                script,
                Script::Latin | Script::Cyrillic | Script::Devanagari
            ) && !c.is_ascii()
            {
                for (l, uniq) in &t.unique {
                    if uniq.contains(c) {
                        bump(*l, &mut counts);
                    }
                }
            }
        }
        match counts.len() {
            0 => unknown += 1,
            1 => {
                if candidates.contains(counts[0].0) {
                    total[counts[0].0.index()] += 1;
                } else {
                    unknown += 1;
                }
            }
            _ => {
                if counts.iter().any(|(l, _)| *l == zh) && counts.iter().any(|(l, _)| *l == ja) {
                    total[ja.index()] += 1;
                } else {
                    counts.sort_by(|x, y| y.1.cmp(&x.1));
                    if counts[0].1 > counts[1].1 && candidates.contains(counts[0].0) {
                        total[counts[0].0.index()] += 1;
                    } else {
                        unknown += 1;
                    }
                }
            }
        }
    }
    let half = words.len() as f64 * 0.5;
    let keep_unknown = f64::from(unknown) >= half && unknown > 0;
    // (language or None for unknown, count), largest first.
    let mut ranked: Vec<(Option<Language>, u32)> = total
        .iter()
        .enumerate()
        .filter(|(_, &c)| c > 0)
        .map(|(i, &c)| (Some(Language(i as u8)), c))
        .collect();
    if keep_unknown {
        ranked.push((None, unknown));
    }
    match ranked.len() {
        0 => None,
        1 => ranked[0].0,
        _ => {
            ranked.sort_by(|x, y| y.1.cmp(&x.1));
            let (first, second) = (ranked[0], ranked[1]);
            let pair = [first.0, second.0];
            if pair.contains(&Some(ja)) && pair.contains(&Some(zh)) {
                return Some(ja);
            }
            if first.1 == second.1 {
                return None;
            }
            first.0
        }
    }
}

fn filter_by_rules(
    chars: &[char],
    words: &[(usize, usize)],
    candidates: LanguageSet,
) -> LanguageSet {
    let mut alphabet_chars = [0usize; ALPHABETS.len()];
    for &(a, b) in words {
        let word = &chars[a..b];
        let first = word[0].script();
        if let Some(i) = ALPHABETS.iter().position(|s| *s == first) {
            if word.iter().all(|c| c.script() == first) {
                alphabet_chars[i] += word.len();
            }
        }
    }
    let used: Vec<usize> = alphabet_chars.iter().copied().filter(|&c| c > 0).collect();
    if used.is_empty() {
        return candidates;
    }
    if used.len() > 1 && used.iter().all(|&c| c == used[0]) {
        return candidates;
    }
    let best = alphabet_chars
        .iter()
        .enumerate()
        .max_by(|x, y| x.1.cmp(y.1).then(y.0.cmp(&x.0)))
        .map(|(i, _)| ALPHABETS[i])
        .unwrap_or(Script::Latin);
    let filtered = LanguageSet::of(candidates.iter().filter(|l| uses_script(*l, best)));
    let mut votes = [0u32; LANGUAGE_COUNT];
    for (letters, langs) in &tables().shared {
        let relevant = LanguageSet(filtered.0 & langs.0);
        if relevant.is_empty() {
            continue;
        }
        for &(a, b) in words {
            let word = &chars[a..b];
            for c in letters.chars() {
                if word.contains(&c) {
                    for l in relevant.iter() {
                        votes[l.index()] += 1;
                    }
                }
            }
        }
    }
    let half = words.len() as f64 * 0.5;
    let subset = LanguageSet::of(
        Language::all().filter(|l| votes[l.index()] > 0 && f64::from(votes[l.index()]) >= half),
    );
    if subset.is_empty() {
        filtered
    } else {
        subset
    }
}

fn score_ngrams(s: &mut Scratch, candidates: LanguageSet) -> Detection {
    let model = Model::get();
    let char_count: usize = s.words.iter().map(|(a, b)| b - a).sum();
    let (lo, hi) = if char_count >= LONG_TEXT_CHARS {
        (3, 3)
    } else {
        (1, 5)
    };
    s.seen.reset(char_count * (hi - lo + 1));
    // Per language: summed log-probabilities over all orders, and distinct letters known.
    let mut sum = [0f32; 128];
    let mut unigrams = [0u32; 128];
    let mut tmp = [0f32; 128];
    let mut got_any = false;
    for wi in 0..s.words.len() {
        let (a, b) = s.words[wi];
        for i in a..b {
            let max_n = (b - i).min(hi);
            if max_n < lo {
                break;
            }
            let mut packed_all = [0u128; 6];
            for n in 1..=max_n {
                packed_all[n] = pack_ngram(&s.chars[i..i + n]);
            }
            // Which lengths at this position are n-grams not seen before in this text.
            let mut fresh = [false; 6];
            let mut any_fresh = false;
            for n in lo..=max_n {
                fresh[n] = s.seen.insert(n, packed_all[n]);
                any_fresh |= fresh[n];
            }
            if !any_fresh {
                continue;
            }
            // tmp[L] = ln p of the longest prefix known to L, built up from length 1.
            tmp[..LANGUAGE_COUNT].fill(0.0);
            for n in 1..=max_n {
                if let Some(at) = model.find(n, packed_all[n]) {
                    model.for_each_posting(at, |l, p| tmp[l] = p);
                    if n == 1 && fresh[1] {
                        model.for_each_posting(at, |l, _| unigrams[l] += 1);
                    }
                }
                if fresh[n] {
                    got_any = true;
                    for l in 0..LANGUAGE_COUNT {
                        sum[l] += tmp[l];
                    }
                }
            }
        }
    }
    if !got_any {
        return Detection {
            language: None,
            score: 0.0,
        };
    }
    // Final score per candidate; languages that knew none of the n-grams drop out.
    let mut best: Option<(Language, f64)> = None;
    let mut scores: Vec<(Language, f64)> = Vec::with_capacity(candidates.len());
    for l in candidates.iter() {
        let mut total = f64::from(sum[l.index()]);
        if lo == 1 && unigrams[l.index()] > 0 {
            total /= f64::from(unigrams[l.index()]);
        }
        if total != 0.0 {
            scores.push((l, total));
            if best.is_none_or(|(_, b)| total > b) {
                best = Some((l, total));
            }
        }
    }
    let Some((lang, top)) = best else {
        return Detection {
            language: None,
            score: 0.0,
        };
    };
    let denom: f64 = scores.iter().map(|(_, t)| (t - top).exp()).sum();
    Detection {
        language: Some(lang),
        score: 1.0 / denom,
    }
}
