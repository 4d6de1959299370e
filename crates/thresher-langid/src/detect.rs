//! Detection: words, character rules, then n-gram log-probabilities summed per language.
//!
//! The method is lingua-rs's high-accuracy mode, on lingua's own n-gram statistics: the text is
//! lower-cased and split into letter runs; rules on scripts and rare letters decide outright or
//! narrow the candidates; then every distinct n-gram of the words adds, for each candidate, the
//! log-probability of the longest of its prefixes that the language's model knows. The sum is
//! divided by the number of distinct letters the language knows (when letters are scored), and
//! a softmax over the candidates gives the confidence.
//!
//! Two deliberate differences from lingua, each measured on lingua's test data (docs/langid.md):
//! an n-gram none of whose prefixes a language knows costs that language ln p = -3 where lingua
//! counts 0 (a bonus for not knowing a letter), and texts of 120 letters or more are scored on
//! n-grams of 3 to 5 letters where lingua keeps only trigrams.
//!
//! The machinery is thresher's own: one lookup in a merged table answers for all 75 languages;
//! letters, bigrams and common trigrams are dense rows that already hold the back-off values;
//! the lookups of one text are issued together so their cache misses overlap; the per-language
//! sums are integer SIMD lanes.

use crate::lang::{
    shared_characters, single_language_script, uses_script, Language, LanguageSet, LANGUAGE_COUNT,
    UNIQUE_CHARACTERS,
};
use crate::model::{is_row, Model, ROW};
use std::cell::RefCell;
use std::sync::OnceLock;
use unicode_properties::{GeneralCategoryGroup, UnicodeGeneralCategory};
use unicode_script::{Script, UnicodeScript};

/// Texts whose words hold at least this many characters are scored on n-grams of 3 to 5
/// characters only (letters and bigrams add little once there are this many trigrams).
const LONG_TEXT_CHARS: usize = 120;
/// What an n-gram adds for a language that knows none of its prefixes, as q = -1000 ln p:
/// ln p = -3. lingua adds 0 there, which rewards a language for *not* knowing a letter.
const MISSING_Q: u32 = 3000;

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

/// How a word that starts with a given character continues (lingua's word pattern: runs of
/// Bengali, Devanagari, Gujarati, Gurmukhi, Hangul, Tamil, Telugu or Thai; single Han, Hiragana
/// and Katakana characters; else runs of letters, tried in that order).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Run {
    /// The character is a word by itself.
    Single,
    /// Characters whose script extensions include RUN_SCRIPTS[i].
    Script(u8),
    /// Characters of general category Letter.
    Letters,
}

/// Scripts whose characters form runs, in the order the word pattern tries them (the first
/// four before Han, Hangul after Han, the last three after kana).
const RUN_SCRIPTS: [Script; 8] = [
    Script::Bengali,
    Script::Devanagari,
    Script::Gujarati,
    Script::Gurmukhi,
    Script::Hangul,
    Script::Tamil,
    Script::Telugu,
    Script::Thai,
];

/// What detection needs to know about a character, computed once per BMP character.
#[derive(Clone, Copy)]
struct CharInfo {
    /// Index in ALPHABETS of its script, or NO_ALPHABET.
    alphabet: u8,
    /// General category Letter.
    letter: bool,
    /// Bit i: its script extensions include RUN_SCRIPTS[i].
    runs: u8,
    /// How a word starting with it continues, if one can.
    start: Option<Run>,
}

const NO_ALPHABET: u8 = u8::MAX;

fn compute_info(c: char) -> CharInfo {
    let script = c.script();
    let alphabet = ALPHABETS
        .iter()
        .position(|s| *s == script)
        .map_or(NO_ALPHABET, |i| i as u8);
    let letter = c.general_category_group() == GeneralCategoryGroup::Letter;
    let scx = c.script_extension();
    // `contains_script` is true for every script on Common and Inherited characters (they go
    // with any script); the word pattern's `\p{Bengali}` means the script is listed explicitly.
    let explicit = !scx.is_common() && !scx.is_inherited();
    let has = |s: Script| explicit && scx.contains_script(s);
    let mut runs = 0u8;
    for (i, s) in RUN_SCRIPTS.iter().enumerate() {
        if has(*s) {
            runs |= 1 << i;
        }
    }
    let first_run = |range: std::ops::Range<usize>| {
        range
            .into_iter()
            .find(|i| runs & (1 << i) != 0)
            .map(|i| Run::Script(i as u8))
    };
    let start = first_run(0..4)
        .or_else(|| has(Script::Han).then_some(Run::Single))
        .or_else(|| first_run(4..5))
        .or_else(|| (has(Script::Hiragana) || has(Script::Katakana)).then_some(Run::Single))
        .or_else(|| first_run(5..8))
        .or_else(|| letter.then_some(Run::Letters));
    CharInfo {
        alphabet,
        letter,
        runs,
        start,
    }
}

#[inline]
fn info(c: char) -> CharInfo {
    static BMP: OnceLock<Vec<CharInfo>> = OnceLock::new();
    let code = c as usize;
    if code < 0x10000 {
        // Unicode property lookups are binary searches; one table over the BMP (256 KB) makes
        // them one load for nearly every character of real text.
        BMP.get_or_init(|| {
            (0..0x10000u32)
                .map(|u| char::from_u32(u).map_or(compute_info(' '), compute_info))
                .collect()
        })[code]
    } else {
        compute_info(c)
    }
}

#[inline]
fn continues(ci: CharInfo, run: Run) -> bool {
    match run {
        Run::Single => false,
        Run::Letters => ci.letter,
        Run::Script(i) => ci.runs & (1 << i) != 0,
    }
}

struct Tables {
    /// Letter -> the one language that uses it (sorted by letter).
    unique: Vec<(char, Language)>,
    /// Letter -> the few languages that use it (sorted by letter).
    shared: Vec<(char, LanguageSet)>,
    zh: Language,
    ja: Language,
}

fn tables() -> &'static Tables {
    static T: OnceLock<Tables> = OnceLock::new();
    T.get_or_init(|| {
        let mut unique: Vec<(char, Language)> = UNIQUE_CHARACTERS
            .iter()
            .filter_map(|(code, chars)| Language::from_code(code).map(|l| (*chars, l)))
            .flat_map(|(chars, l)| chars.chars().map(move |c| (c, l)))
            .collect();
        unique.sort_by_key(|e| e.0);
        let mut shared: Vec<(char, LanguageSet)> = shared_characters()
            .into_iter()
            .flat_map(|(chars, set)| chars.chars().map(move |c| (c, set)))
            .collect();
        shared.sort_by_key(|e| e.0);
        Tables {
            unique,
            shared,
            zh: Language::from_code("zh").expect("zh is covered"),
            ja: Language::from_code("ja").expect("ja is covered"),
        }
    })
}

const NOT_FOUND: u32 = u32::MAX;
/// A prefix whose value a longer n-gram's row already holds: not looked up.
const SKIPPED: u32 = u32::MAX - 1;

/// One n-gram to look up.
struct Probe {
    n: u8,
    /// First occurrence of this n-gram in the text, at a length being scored.
    fresh: bool,
    hash: u64,
    /// Its dense row (lengths 1-2) or first posting (3-5), or NOT_FOUND.
    at: u32,
}

/// Reused buffers: detection allocates nothing per text once warm.
#[derive(Default)]
struct Scratch {
    probes: Vec<Probe>,
    /// (first probe, probe count) of each word position that has a new n-gram.
    positions: Vec<(u32, u8)>,
    /// The trimmed text, lower-cased.
    lower: Vec<char>,
    /// Characters of all words, words back to back.
    chars: Vec<char>,
    /// ALPHABETS index (or NO_ALPHABET) of each character in `chars`.
    alphabets: Vec<u8>,
    /// (start, end) of each word in `chars`.
    words: Vec<(usize, usize)>,
    seen: SeenSet,
}

/// A set of (n-gram length, packed n-gram) keys, cleared in O(1) by bumping a stamp.
#[derive(Default)]
struct SeenSet {
    keys: Vec<(u64, u32)>,
    stamp: u32,
    mask: usize,
}

impl SeenSet {
    /// Empties the set and sizes its active part for about `expected` keys. Only that part is
    /// probed, so a small text stays in L1 even after a long one grew the allocation.
    fn reset(&mut self, expected: usize) {
        let want = (expected * 2).next_power_of_two().max(64);
        if self.keys.len() < want || self.stamp == u32::MAX {
            self.keys = vec![(0, 0); want.max(self.keys.len())];
            self.stamp = 0;
        }
        self.mask = want - 1;
        self.stamp += 1;
    }
    /// Inserts a key; returns true when it was not there yet.
    #[inline]
    fn insert(&mut self, n: usize, hash: u64) -> bool {
        // Lengths live in separate tables; mixing the length into the 64-bit hash keeps keys of
        // different lengths apart (a collision is a 2^-64 event).
        let key = hash ^ (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let mut i = (key as usize) & self.mask;
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
    s.alphabets.clear();
    s.words.clear();
    let mut i = 0;
    while i < s.lower.len() {
        let c = s.lower[i];
        let ci = info(c);
        let Some(run) = ci.start else {
            i += 1;
            continue;
        };
        let start = s.chars.len();
        s.chars.push(c);
        s.alphabets.push(ci.alphabet);
        i += 1;
        while i < s.lower.len() {
            let ci = info(s.lower[i]);
            if !continues(ci, run) {
                break;
            }
            s.chars.push(s.lower[i]);
            s.alphabets.push(ci.alphabet);
            i += 1;
        }
        s.words.push((start, s.chars.len()));
    }
    if s.words.is_empty() || candidates.is_empty() {
        return none;
    }
    if let Some(l) = decide_by_rules(&s.chars, &s.alphabets, &s.words, candidates) {
        return Detection {
            language: Some(l),
            score: 1.0,
        };
    }
    let filtered = filter_by_rules(&s.chars, &s.alphabets, &s.words, candidates);
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
    alphabets: &[u8],
    words: &[(usize, usize)],
    candidates: LanguageSet,
) -> Option<Language> {
    let t = tables();
    let (zh, ja) = (t.zh, t.ja);
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
        for (&c, &alphabet) in chars[a..b].iter().zip(&alphabets[a..b]) {
            if c.is_ascii() || alphabet == NO_ALPHABET {
                continue;
            }
            let script = ALPHABETS[usize::from(alphabet)];
            if let Some(l) = single_language_script(script) {
                bump(l, &mut counts);
            } else if script == Script::Han {
                bump(zh, &mut counts);
            } else if matches!(
                script,
                Script::Latin | Script::Cyrillic | Script::Devanagari
            ) {
                if let Ok(i) = t.unique.binary_search_by_key(&c, |e| e.0) {
                    bump(t.unique[i].1, &mut counts);
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
                    counts.sort_by_key(|e| std::cmp::Reverse(e.1));
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
            ranked.sort_by_key(|e| std::cmp::Reverse(e.1));
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
    alphabets: &[u8],
    words: &[(usize, usize)],
    candidates: LanguageSet,
) -> LanguageSet {
    let mut alphabet_chars = [0usize; ALPHABETS.len()];
    for &(a, b) in words {
        let word = &alphabets[a..b];
        let first = word[0];
        if first != NO_ALPHABET && word.iter().all(|x| *x == first) {
            alphabet_chars[usize::from(first)] += word.len();
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
    // Each distinct shared letter in a word votes once for each filtered language using it.
    let shared = &tables().shared;
    let mut votes = [0u32; LANGUAGE_COUNT];
    let mut distinct: Vec<char> = Vec::new();
    for &(a, b) in words {
        distinct.clear();
        for &c in &chars[a..b] {
            if !c.is_ascii() && !distinct.contains(&c) {
                distinct.push(c);
            }
        }
        for c in &distinct {
            if let Ok(i) = shared.binary_search_by_key(c, |e| e.0) {
                for l in LanguageSet(filtered.0 & shared[i].1 .0).iter() {
                    votes[l.index()] += 1;
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
        (3, 5)
    } else {
        (1, 5)
    };
    s.seen.reset(char_count * (hi - lo + 1));
    // Pass 1: hash every n-gram (and the prefixes its back-off needs), note which are new in
    // this text, and start loading their slots. Lookups in a 160 MB table miss the cache; issued
    // together they overlap instead of waiting one after another.
    s.probes.clear();
    s.positions.clear();
    for wi in 0..s.words.len() {
        let (a, b) = s.words[wi];
        for i in a..b {
            let max_n = (b - i).min(hi);
            if max_n < lo {
                break;
            }
            let first = s.probes.len();
            let mut packed = 0u128;
            let mut any_fresh = false;
            for n in 1..=max_n {
                packed |= (s.chars[i + n - 1] as u128) << (21 * (n - 1));
                let h = crate::hash::ngram_hash(packed);
                let fresh = n >= lo && s.seen.insert(n, h);
                any_fresh |= fresh;
                s.probes.push(Probe {
                    n: n as u8,
                    fresh,
                    hash: h,
                    at: NOT_FOUND,
                });
            }
            if any_fresh {
                s.positions.push((first as u32, max_n as u8));
            } else {
                s.probes.truncate(first);
            }
        }
    }
    // Pass 2: find each n-gram's row or postings and start loading them, longest first at each
    // position: once a row is found, the shorter prefixes are only needed where they are scored
    // themselves (a row already holds their values as back-off). Slots are prefetched a few
    // positions ahead: enough to overlap the cache misses, few enough not to flood the CPU.
    const AHEAD: usize = 4;
    let slot_prefetch = |probes: &[Probe], (first, count): (u32, u8)| {
        for p in &probes[first as usize..first as usize + usize::from(count)] {
            model.prefetch_slot(usize::from(p.n), p.hash);
        }
    };
    for &pos in s.positions.iter().take(AHEAD) {
        slot_prefetch(&s.probes, pos);
    }
    for k in 0..s.positions.len() {
        if let Some(&ahead) = s.positions.get(k + AHEAD) {
            slot_prefetch(&s.probes, ahead);
        }
        let (first, count) = s.positions[k];
        let mut have_row = false;
        for p in s.probes[first as usize..first as usize + usize::from(count)]
            .iter_mut()
            .rev()
        {
            if have_row && !p.fresh {
                p.at = SKIPPED;
                continue;
            }
            let n = usize::from(p.n);
            if let Some(payload) = model.find(n, p.hash) {
                p.at = payload;
                model.prefetch_payload(n, payload);
                have_row |= is_row(n, payload);
            }
        }
    }
    // Pass 3: per position, row[L] = q of the longest prefix known to L (0: none), built up from
    // length 1; each new n-gram adds its row to the sums. All integer: q = -1000 ln p.
    // u32 lanes vectorize twice as wide as u64; they are spilled into u64 totals before
    // 65,536 additions of at most 65,535 could overflow them.
    let mut sum = [0u64; ROW];
    let mut lane = [0u32; ROW];
    let mut adds = 0u32;
    let mut unigrams = [0u32; ROW];
    let mut row = [0u16; ROW];
    let mut got_any = false;
    for &(first, count) in &s.positions {
        row.fill(0);
        let probes = &s.probes[first as usize..first as usize + usize::from(count)];
        for p in probes {
            // A letter's row is not needed when it is not scored and its bigram's row (which
            // holds the letter's values as back-off) replaces it.
            if p.at != NOT_FOUND && p.at != SKIPPED {
                if is_row(usize::from(p.n), p.at) {
                    // A row already holds the back-off values where a language lacks the n-gram.
                    model.row(p.at, &mut row);
                } else {
                    model.overlay_postings(p.at, &mut row);
                }
            }
            if p.fresh {
                got_any = true;
                for (acc, v) in lane.iter_mut().zip(row.iter()) {
                    *acc += u32::from(*v) + u32::from(*v == 0) * MISSING_Q;
                }
                adds += 1;
                if adds == u32::from(u16::MAX) {
                    for (t, l) in sum.iter_mut().zip(lane.iter_mut()) {
                        *t += u64::from(*l);
                        *l = 0;
                    }
                    adds = 0;
                }
                if p.n == 1 {
                    for (c, v) in unigrams.iter_mut().zip(row.iter()) {
                        *c += u32::from(*v != 0);
                    }
                }
            }
        }
    }
    for (t, l) in sum.iter_mut().zip(lane.iter()) {
        *t += u64::from(*l);
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
        let mut total = -(sum[l.index()] as f64) / 1000.0;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn code(text: &str) -> Option<&'static str> {
        detect(text, LanguageSet::all()).language.map(|l| l.code())
    }

    #[test]
    fn words_are_letter_runs_only() {
        for c in [' ', '-', '–', '«', '’', '\u{a0}', '1', '\u{300}'] {
            assert!(info(c).start.is_none(), "{c:?} starts a word");
        }
        assert!(matches!(info('a').start, Some(Run::Letters)));
        assert!(matches!(info('中').start, Some(Run::Single)));
        assert!(matches!(info('क').start, Some(Run::Script(1))));
        // The danda is listed under Bengali and Devanagari among others: it joins their runs.
        assert!(continues(info('\u{964}'), Run::Script(1)));
    }

    #[test]
    fn scripts_and_unique_letters_decide() {
        assert_eq!(code("Καλημέρα σας, τι κάνετε;"), Some("el"));
        assert_eq!(code("こんにちは、世界"), Some("ja"));
        assert_eq!(code("你好，世界"), Some("zh"));
        assert_eq!(code("Dəməşqdə Mişel Əfləq və Səlahəddin"), Some("az"));
        assert_eq!(code("12345 !!! ---"), None);
        assert_eq!(code(""), None);
    }

    #[test]
    fn ngrams_decide_between_latin_languages() {
        assert_eq!(
            code("The weather is nice today and we are going to the beach."),
            Some("en")
        );
        assert_eq!(
            code("Le temps est magnifique aujourd'hui et nous allons à la plage."),
            Some("fr")
        );
        assert_eq!(
            code("Das Wetter ist heute schön und wir gehen an den Strand."),
            Some("de")
        );
        assert_eq!(
            code("El tiempo es agradable hoy y vamos a la playa."),
            Some("es")
        );
    }

    #[test]
    fn candidates_restrict_the_answer() {
        let only = LanguageSet::of(["nl", "de"].iter().filter_map(|c| Language::from_code(c)));
        let d = detect("The weather is nice today.", only);
        assert!(d.language.is_some_and(|l| only.contains(l)));
    }

    #[test]
    fn repeated_calls_agree_and_scores_are_probabilities() {
        let texts = [
            "Ovo je rečenica na hrvatskom jeziku.",
            "Это предложение на русском языке.",
            "to",
            "Saya suka makan nasi goreng.",
        ];
        let first: Vec<Detection> = texts
            .iter()
            .map(|t| detect(t, LanguageSet::all()))
            .collect();
        for _ in 0..3 {
            for (t, d) in texts.iter().zip(&first) {
                assert_eq!(&detect(t, LanguageSet::all()), d);
                assert!((0.0..=1.0).contains(&d.score));
            }
        }
    }

    #[test]
    fn huge_and_odd_inputs_do_not_panic() {
        let big = "lorem ipsum dolor sit amet ".repeat(20_000);
        assert!(detect(&big, LanguageSet::all()).language.is_some());
        let odd: String = (0u32..0x3000).filter_map(char::from_u32).collect();
        let _ = detect(&odd, LanguageSet::all());
        let _ = detect("\u{10FFFF}\u{E000}\u{1F600}", LanguageSet::all());
    }
}
