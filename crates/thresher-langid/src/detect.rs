//! Detection: words, character rules, then n-gram log-probabilities summed per language.
//!
//! The method is lingua-rs's high-accuracy mode, on lingua's own n-gram statistics: the text is
//! lower-cased and split into letter runs; rules on scripts and rare letters decide outright or
//! narrow the candidates; then every distinct n-gram of the words adds, for each candidate, the
//! log-probability of the longest of its prefixes that the language's model knows. The sum is
//! divided by the number of distinct letters the language knows (when letters are scored), and
//! a softmax over the candidates gives the confidence.
//!
//! Three deliberate differences from lingua, each measured on lingua's test data
//! (docs/langid.md): an n-gram none of whose prefixes a language knows costs that language
//! ln p = -3 where lingua counts 0 (a bonus for not knowing a letter); texts of 120 letters or
//! more are scored on n-grams of 3 to 5 letters where lingua keeps only trigrams; and texts of
//! 25 letters or more are scored in stages (letters and bigrams, then trigrams, then 4- and
//! 5-grams) and stop once the leader's lead is so large, and the confidence so near 1, that on
//! lingua's test data the later stages changed neither in practice (1 of 49,476 sentences
//! changes its answer, from one wrong language to another; no word pair or single word does).
//!
//! The machinery is thresher's own: one lookup in a merged table answers for all 75 languages;
//! letters, bigrams and common trigrams are dense rows that already hold the back-off values;
//! the lookups of one stage are issued together so their cache misses overlap; the
//! per-language sums are integer SIMD lanes.

use crate::hash::MISSING_Q;
use crate::lang::{
    shared_characters, single_language_script, uses_script, Language, LanguageSet, LANGUAGE_COUNT,
    UNIQUE_CHARACTERS,
};
use crate::model::{is_row, Model, DENSE_BIT, ROW, WORK_ROW};
use std::cell::RefCell;
use std::sync::OnceLock;
use unicode_properties::{GeneralCategoryGroup, UnicodeGeneralCategory};
use unicode_script::{Script, UnicodeScript};

/// Texts whose words hold at least this many characters are scored on n-grams of 3 to 5
/// characters only (letters and bigrams add little once there are this many trigrams).
const LONG_TEXT_CHARS: usize = 120;
/// The lead of the winner over the runner-up, in final score units (nats; per distinct letter
/// for texts scored from letters), above which the later stages are skipped: for short texts
/// after letters and bigrams and after trigrams, for long texts (trigrams to 5-grams) after
/// trigrams. Calibrated with `examples/langid_cascade.rs` on lingua's test data: at these
/// leads alone the full method's winner would differ on 8 of 49,476 sentences (4 better, 3
/// worse, 1 wrong either way); with EARLY_SCORE, on 1 (wrong either way).
const SHORT_LEAD: f64 = 1.0;
/// See SHORT_LEAD.
const LONG_LEAD: f64 = 20.0;
/// An early stop also needs this confidence: the score is a softmax of the score differences,
/// which the later stages would change; only where it is already near 1 is the early one a fair
/// stand-in. Chosen with `examples/langid_cascade.rs --scores` on the even-numbered lines of
/// lingua's test sentences and checked on the odd ones (docs/langid.md): on each half, 99% of
/// the early scores are within 0.05 of the full method's, none is on the other side of
/// FineWeb's 0.65, and no answer changes; 0.98 stopped 12% fewer sentences.
const EARLY_SCORE: f64 = 0.95;
/// Texts shorter than this many letters always run every stage: on words and word pairs the
/// leads after the first stages are much less reliable.
const CASCADE_MIN_CHARS: usize = 25;

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

/// Index of Latin in ALPHABETS.
const LATIN: usize = 14;

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
    /// Its lower case is itself (most characters of real text): no case-mapping lookup.
    own_lower: bool,
    /// 1 + its index in `Tables::unique` (a letter only one language uses), or 0: the rules
    /// look letters up here rather than binary-searching the table for each one.
    unique: u8,
    /// 1 + its index in `Tables::shared` (a letter a few languages use), or 0.
    shared: u8,
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
    let mut lower = c.to_lowercase();
    let own_lower = lower.next() == Some(c) && lower.next().is_none();
    let t = tables();
    let index = |found: Result<usize, usize>| {
        found.map_or(0, |i| {
            u8::try_from(i + 1).expect("rule tables have under 255 letters")
        })
    };
    CharInfo {
        alphabet,
        letter,
        runs,
        start,
        own_lower,
        unique: index(t.unique.binary_search_by_key(&c, |e| e.0)),
        shared: index(t.shared.binary_search_by_key(&c, |e| e.0)),
    }
}

/// The per-character table over the BMP (256 KB): Unicode property lookups are binary
/// searches; the table makes them one load for nearly every character of real text.
fn bmp_info() -> &'static [CharInfo] {
    static BMP: OnceLock<Vec<CharInfo>> = OnceLock::new();
    BMP.get_or_init(|| {
        (0..0x10000u32)
            .map(|u| char::from_u32(u).map_or(compute_info(' '), compute_info))
            .collect()
    })
}

/// `compute_info(c)`, from `bmp` (= `bmp_info()`, fetched once per text) when it covers `c`.
#[inline]
fn info_in(bmp: &[CharInfo], c: char) -> CharInfo {
    match bmp.get(c as usize) {
        Some(ci) => *ci,
        None => compute_info(c),
    }
}

#[cfg(test)]
fn info(c: char) -> CharInfo {
    info_in(bmp_info(), c)
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
    /// Per ALPHABETS index: the one language written in that script, if only one is.
    single: [Option<Language>; ALPHABETS.len()],
    /// Per ALPHABETS index: the languages written in that script.
    users: [LanguageSet; ALPHABETS.len()],
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
            single: ALPHABETS.map(single_language_script),
            users: ALPHABETS
                .map(|a| LanguageSet::of(Language::all().filter(|l| uses_script(*l, a)))),
            zh: Language::from_code("zh").expect("zh is covered"),
            ja: Language::from_code("ja").expect("ja is covered"),
        }
    })
}

/// Markers in `Probe::at`, below DENSE_BIT so that `is_row` is false for them, and above every
/// postings index (build.rs keeps those under DENSE_BIT - 2).
const NOT_FOUND: u32 = DENSE_BIT - 1;
/// A prefix whose value a longer n-gram's row already holds: not looked up.
const SKIPPED: u32 = DENSE_BIT - 2;

/// One n-gram to look up.
#[derive(Clone, Copy)]
struct Probe {
    n: u8,
    /// First occurrence of this n-gram in the text, at a length being scored.
    fresh: bool,
    hash: u64,
    /// Its payload (DENSE_BIT | dense row, or first posting), NOT_FOUND or SKIPPED.
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

/// A set of n-gram hashes (of any length), cleared in O(1) by bumping a stamp.
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
    fn insert(&mut self, hash: u64) -> bool {
        // The hash alone keeps n-grams of different lengths apart: words hold no NUL, so an
        // n-gram's packed characters end in a nonzero 21-bit field at a place given by its
        // length, and different n-grams collide only when their 64-bit hashes do.
        let key = hash;
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
    // No trimming: whitespace is never part of a word, so it changes nothing but the cost.
    if text.is_ascii() {
        return detect_ascii(s, text, candidates);
    }
    let bmp = bmp_info();
    s.lower.clear();
    for c in text.chars() {
        if c.is_ascii() {
            s.lower.push(c.to_ascii_lowercase());
        } else if info_in(bmp, c).own_lower {
            s.lower.push(c);
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
        let ci = info_in(bmp, c);
        let Some(run) = ci.start else {
            i += 1;
            continue;
        };
        let start = s.chars.len();
        s.chars.push(c);
        s.alphabets.push(ci.alphabet);
        i += 1;
        while i < s.lower.len() {
            let ci = info_in(bmp, s.lower[i]);
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
    if let Some(l) = decide_by_rules(bmp, &s.chars, &s.alphabets, &s.words, candidates) {
        return Detection {
            language: Some(l),
            score: 1.0,
        };
    }
    let filtered = filter_by_rules(bmp, &s.chars, &s.alphabets, &s.words, candidates);
    if filtered.len() == 1 {
        return Detection {
            language: filtered.iter().next(),
            score: 1.0,
        };
    }
    score_ngrams(s, filtered)
}

/// `detect_with` for a text of ASCII characters only: its words are the runs of ASCII letters,
/// all Latin, so no rule decides and the script rule leaves the languages written in Latin
/// (exactly what the general path concludes for such a text, in fewer steps).
fn detect_ascii(s: &mut Scratch, text: &str, candidates: LanguageSet) -> Detection {
    s.chars.clear();
    s.alphabets.clear();
    s.words.clear();
    let mut start = None;
    for b in text.bytes() {
        if b.is_ascii_alphabetic() {
            if start.is_none() {
                start = Some(s.chars.len());
            }
            s.chars.push(char::from(b.to_ascii_lowercase()));
        } else if let Some(a) = start.take() {
            s.words.push((a, s.chars.len()));
        }
    }
    if let Some(a) = start {
        s.words.push((a, s.chars.len()));
    }
    if s.words.is_empty() || candidates.is_empty() {
        return Detection {
            language: None,
            score: 0.0,
        };
    }
    let latin = LanguageSet(candidates.0 & tables().users[LATIN].0);
    if latin.len() == 1 {
        return Detection {
            language: latin.iter().next(),
            score: 1.0,
        };
    }
    score_ngrams(s, latin)
}

fn decide_by_rules(
    bmp: &[CharInfo],
    chars: &[char],
    alphabets: &[u8],
    words: &[(usize, usize)],
    candidates: LanguageSet,
) -> Option<Language> {
    let t = tables();
    let (zh, ja) = (t.zh, t.ja);
    let mut total = [0u32; LANGUAGE_COUNT];
    let mut unknown = 0u32;
    // Per word: the languages its letters point to, with counts (at most one entry per
    // language, so LANGUAGE_COUNT entries always suffice; no allocation per text).
    let mut counts_buf = [(zh, 0u32); LANGUAGE_COUNT];
    for &(a, b) in words {
        let mut len = 0;
        let mut bump = |l: Language| match counts_buf[..len].iter_mut().find(|(x, _)| *x == l) {
            Some(e) => e.1 += 1,
            None => {
                counts_buf[len] = (l, 1);
                len += 1;
            }
        };
        for (&c, &alphabet) in chars[a..b].iter().zip(&alphabets[a..b]) {
            if c.is_ascii() || alphabet == NO_ALPHABET {
                continue;
            }
            let script = ALPHABETS[usize::from(alphabet)];
            if let Some(l) = t.single[usize::from(alphabet)] {
                bump(l);
            } else if script == Script::Han {
                bump(zh);
            } else if matches!(
                script,
                Script::Latin | Script::Cyrillic | Script::Devanagari
            ) {
                let unique = info_in(bmp, c).unique;
                if unique != 0 {
                    bump(t.unique[usize::from(unique - 1)].1);
                }
            }
        }
        let counts = &mut counts_buf[..len];
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
    // The two largest counts (language, or None for unknown), the earlier entry first on ties
    // (languages in index order, then unknown).
    let mut first: Option<(Option<Language>, u32)> = None;
    let mut second: Option<(Option<Language>, u32)> = None;
    let entries = total
        .iter()
        .enumerate()
        .filter(|(_, &c)| c > 0)
        .map(|(i, &c)| (Some(Language(i as u8)), c))
        .chain(keep_unknown.then_some((None, unknown)));
    for e in entries {
        match first {
            Some(f) if e.1 <= f.1 => {
                if second.is_none_or(|s| e.1 > s.1) {
                    second = Some(e);
                }
            }
            _ => {
                second = first;
                first = Some(e);
            }
        }
    }
    match (first, second) {
        (None, _) => None,
        (Some(f), None) => f.0,
        (Some(first), Some(second)) => {
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
    bmp: &[CharInfo],
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
    let mut used = alphabet_chars.iter().copied().filter(|&c| c > 0);
    let Some(first_used) = used.next() else {
        return candidates;
    };
    let mut used_count = 1;
    let mut all_equal = true;
    for c in used {
        used_count += 1;
        all_equal &= c == first_used;
    }
    if used_count > 1 && all_equal {
        return candidates;
    }
    let best = alphabet_chars
        .iter()
        .enumerate()
        .max_by(|x, y| x.1.cmp(y.1).then(y.0.cmp(&x.0)))
        .map_or(0, |(i, _)| i);
    let t = tables();
    let filtered = LanguageSet(candidates.0 & t.users[best].0);
    // Each distinct shared letter in a word votes once for each filtered language using it.
    let shared = &t.shared;
    let mut votes = [0u32; LANGUAGE_COUNT];
    // Indices in `shared` (plus 1) of the word's distinct shared letters.
    let mut distinct: Vec<u8> = Vec::new();
    for &(a, b) in words {
        distinct.clear();
        for &c in &chars[a..b] {
            if c.is_ascii() {
                continue;
            }
            let i = info_in(bmp, c).shared;
            if i != 0 && !distinct.contains(&i) {
                distinct.push(i);
            }
        }
        for &i in &distinct {
            for l in LanguageSet(filtered.0 & shared[usize::from(i - 1)].1 .0).iter() {
                votes[l.index()] += 1;
            }
        }
    }
    // Languages with at least one vote and votes from at least half the words.
    let words_count = words.len() as u64;
    let subset = LanguageSet::of(filtered.iter().filter(|l| {
        let v = u64::from(votes[l.index()]);
        v > 0 && 2 * v >= words_count
    }));
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
    // Hash every n-gram (and the prefixes its back-off needs) and note which n-grams of up to 3
    // characters are new in this text; 4- and 5-grams are only checked if their stage runs.
    s.probes.clear();
    s.positions.clear();
    let mut any_long = false;
    // Occurrences of n-grams of each length that is scored (repeats included).
    let mut occurrences = [0usize; 6];
    // The longest n-grams the first stage scores.
    let first_stage_max = if lo == 1 { 2 } else { 3 };
    for wi in 0..s.words.len() {
        let (a, b) = s.words[wi];
        // A word of `len` letters holds len - n + 1 n-grams of each length n up to len.
        let len = b - a;
        for (n, o) in occurrences
            .iter_mut()
            .enumerate()
            .take(hi.min(len) + 1)
            .skip(lo)
        {
            *o += len + 1 - n;
        }
        for i in a..b {
            let max_n = (b - i).min(hi);
            if max_n < lo {
                break;
            }
            // The position's probes are built here and appended in one go if it is kept.
            let mut buf = [Probe {
                n: 0,
                fresh: false,
                hash: 0,
                at: NOT_FOUND,
            }; 5];
            // The first stage's n-grams have at most 3 characters: 63 bits of `pack_ngram`.
            let mut packed = 0u64;
            let mut any_fresh = false;
            let hashed = max_n.min(first_stage_max);
            for n in 1..hashed + 1 {
                packed |= u64::from(s.chars[i + n - 1]) << (21 * (n - 1));
                let h = hash_parts(packed, 0);
                let fresh = n >= lo && s.seen.insert(h);
                any_fresh |= fresh;
                buf[n - 1] = Probe {
                    n: n as u8,
                    fresh,
                    hash: h,
                    at: NOT_FOUND,
                };
            }
            for n in hashed + 1..max_n + 1 {
                // Hashed when its stage runs, if it does: until then the field holds the index
                // of the n-gram's first character.
                buf[n - 1] = Probe {
                    n: n as u8,
                    fresh: false,
                    hash: i as u64,
                    at: NOT_FOUND,
                };
            }
            if any_fresh || max_n > first_stage_max {
                any_long |= max_n >= 4;
                s.positions.push((s.probes.len() as u32, max_n as u8));
                s.probes.extend_from_slice(&buf[..max_n]);
            }
        }
    }
    // Stages, each a lookup pass then a scoring pass: letters and bigrams (short texts only),
    // then trigrams, then 4- and 5-grams. The tables of the first stages are small enough to
    // stay mostly in cache; the 4- and 5-gram tables miss it. After each stage but the last,
    // a text whose winner already leads so clearly that the later stages could not change it
    // stops (see `early`); together the stages sum exactly what one pass over all lengths
    // would. The lookups of a stage are issued together so their cache misses overlap.
    let mut acc = Acc::default();
    let cascade = char_count >= CASCADE_MIN_CHARS;
    let trace = TRACE.with(|t| t.get().is_some());
    let mut traced = Trace {
        stage0: None,
        margin0: f64::NAN,
        stage1: None,
        margin: f64::NAN,
        chars: char_count as u32,
        scores0: [f32::NEG_INFINITY; LANGUAGE_COUNT],
        scale0: f64::NAN,
        scores1: [f32::NEG_INFINITY; LANGUAGE_COUNT],
        scale1: f64::NAN,
    };
    if lo == 1 {
        run_stage(model, &mut acc, &mut s.probes, &s.positions, 1, 2);
        if trace {
            let (l, m, _) = finish(&mut acc.clone(), candidates, lo, 1.0);
            (traced.stage0, traced.margin0) = (l, m);
            traced.scores0 = partial_scores(&acc, candidates, lo);
            traced.scale0 = extrapolation(&occurrences, lo, 2);
        } else if cascade {
            if let Some(d) = early(&mut acc, candidates, lo, &occurrences, 2, SHORT_LEAD) {
                return d;
            }
        }
        for &(first, count) in &s.positions {
            if count >= 3 {
                let at = first as usize + 2;
                let p = &mut s.probes[at];
                p.hash = hash_at(&s.chars, p.hash as usize, 3);
                p.fresh = s.seen.insert(p.hash);
            }
        }
        run_stage(model, &mut acc, &mut s.probes, &s.positions, 3, 3);
    } else {
        run_stage(model, &mut acc, &mut s.probes, &s.positions, 1, 3);
    }
    if !any_long {
        return finish(&mut acc, candidates, lo, 1.0).2;
    }
    if trace {
        let (l, m, _) = finish(&mut acc.clone(), candidates, lo, 1.0);
        (traced.stage1, traced.margin) = (l, m);
        traced.scores1 = partial_scores(&acc, candidates, lo);
        traced.scale1 = extrapolation(&occurrences, lo, 3);
        TRACE.with(|t| t.set(Some(Some(traced))));
    } else if cascade {
        let need = if lo == 1 { SHORT_LEAD } else { LONG_LEAD };
        if let Some(d) = early(&mut acc, candidates, lo, &occurrences, 3, need) {
            return d;
        }
    }
    let mut kept = 0;
    for k in 0..s.positions.len() {
        let (first, count) = s.positions[k];
        if count < 4 {
            continue;
        }
        // The 4-gram and the 5-gram (if any) start at the same character: their packed forms
        // share the first four characters (`pack_ngram` as two 64-bit halves).
        let probes = &mut s.probes[first as usize + 3..first as usize + usize::from(count)];
        let at = probes[0].hash as usize;
        let c = |k: usize| u64::from(s.chars[at + k]);
        let low = c(0) | c(1) << 21 | c(2) << 42 | c(3) << 63;
        let high4 = c(3) >> 1;
        let mut any_fresh = false;
        for p in probes.iter_mut() {
            let high = if p.n == 4 { high4 } else { high4 | c(4) << 20 };
            p.hash = hash_parts(low, high);
            p.fresh = s.seen.insert(p.hash);
            any_fresh |= p.fresh;
        }
        if any_fresh {
            s.positions[kept] = (first, count);
            kept += 1;
        }
    }
    s.positions.truncate(kept);
    run_stage(model, &mut acc, &mut s.probes, &s.positions, 4, 5);
    finish(&mut acc, candidates, lo, 1.0).2
}

/// The detection on the n-grams of lengths `lo..=upto` alone, if the leader's lead is at least
/// `need` (see SHORT_LEAD) and its confidence (with the score differences extrapolated to all
/// lengths) is at least EARLY_SCORE.
fn early(
    acc: &mut Acc,
    candidates: LanguageSet,
    lo: usize,
    occurrences: &[usize; 6],
    upto: usize,
    need: f64,
) -> Option<Detection> {
    let (best, second) = top_two(acc, candidates, lo);
    let decided = best - second >= need;
    if !decided {
        return None;
    }
    let scale = extrapolation(occurrences, lo, upto);
    // The runner-up's softmax term alone may already hold the confidence under EARLY_SCORE:
    // then the full softmax (an exp per candidate) is not needed. The denominator is at least
    // 1 + that term, so this only skips checks that would fail; the margin covers rounding.
    if 1.0 + ((second - best) * scale).exp() > (1.0 + 1e-9) / EARLY_SCORE {
        return None;
    }
    let (_, _, d) = finish(acc, candidates, lo, scale);
    (d.score >= EARLY_SCORE).then_some(d)
}

/// How much larger the score differences would be had every length been scored, estimated
/// from the n-grams of lengths `lo..=upto` scored so far: the ratio of n-gram occurrences.
fn extrapolation(occurrences: &[usize; 6], lo: usize, upto: usize) -> f64 {
    let all: usize = occurrences.iter().sum();
    let done: usize = occurrences[lo..=upto].iter().sum();
    if done == 0 {
        1.0
    } else {
        all as f64 / done as f64
    }
}

/// The hash of the `n` characters from `at`.
#[inline]
fn hash_at(chars: &[char], at: usize, n: usize) -> u64 {
    // `pack_ngram` of at most 5 characters, as two 64-bit halves with constant shifts.
    let c = |k: usize| {
        if k < n {
            chars.get(at + k).map_or(0, |&c| u64::from(c))
        } else {
            0
        }
    };
    let lo = c(0) | c(1) << 21 | c(2) << 42 | c(3) << 63;
    let hi = c(3) >> 1 | c(4) << 20;
    hash_parts(lo, hi)
}

/// `ngram_hash` of the packed n-gram whose low and high 64 bits are `lo` and `hi`.
#[inline]
fn hash_parts(lo: u64, hi: u64) -> u64 {
    crate::hash::ngram_hash(u128::from(lo) | u128::from(hi) << 64)
}

/// What the first stages knew of a text (calibration of `early`; see `detect_traced`).
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct Trace {
    /// The winner on letters and bigrams (short texts).
    pub stage0: Option<Language>,
    /// Its lead.
    pub margin0: f64,
    /// The winner on n-grams of up to 3 letters.
    pub stage1: Option<Language>,
    /// Its lead over the runner-up (final score units).
    pub margin: f64,
    /// Letters scored.
    pub chars: u32,
    /// Per language, the score on letters and bigrams (short texts; -inf: not scored).
    pub scores0: [f32; LANGUAGE_COUNT],
    /// The extrapolation of score differences from letters and bigrams to all lengths.
    pub scale0: f64,
    /// Per language, the score on n-grams of up to 3 letters.
    pub scores1: [f32; LANGUAGE_COUNT],
    /// The extrapolation from n-grams of up to 3 letters to all lengths.
    pub scale1: f64,
}

/// Language `i`'s score on what `acc` holds (0 when nothing was added for it): the summed
/// log-probabilities, per distinct letter known when the stages started at letters (`lo == 1`).
fn stage_total(acc: &Acc, i: usize, lo: usize) -> f64 {
    let total = -((acc.sum[i] + u64::from(acc.lane[i])) as f64) / 1000.0;
    if lo == 1 && acc.unigrams[i] > 0 {
        total / f64::from(acc.unigrams[i])
    } else {
        total
    }
}

/// The score of each candidate on what `acc` holds (-inf for languages not scored).
fn partial_scores(acc: &Acc, candidates: LanguageSet, lo: usize) -> [f32; LANGUAGE_COUNT] {
    let mut out = [f32::NEG_INFINITY; LANGUAGE_COUNT];
    for l in candidates.iter() {
        let i = l.index();
        let total = stage_total(acc, i, lo);
        if total != 0.0 {
            out[i] = total as f32;
        }
    }
    out
}

thread_local! {
    /// Some(_) while `detect_traced` runs: every stage runs and the first ones are recorded.
    static TRACE: std::cell::Cell<Option<Option<Trace>>> = const { std::cell::Cell::new(None) };
}

/// `detect` that always runs every stage and reports what the first ones knew (None when the
/// text did not reach the n-gram stages or had no 4- or 5-grams). For calibration only.
#[doc(hidden)]
pub fn detect_traced(text: &str) -> (Detection, Option<Trace>) {
    TRACE.with(|t| t.set(Some(None)));
    let d = detect(text, LanguageSet::all());
    let tr = TRACE.with(|t| t.take()).flatten();
    (d, tr)
}

/// The best and second-best scores after a stage (-inf where there are none).
fn top_two(acc: &Acc, candidates: LanguageSet, lo: usize) -> (f64, f64) {
    let (mut best, mut second) = (f64::NEG_INFINITY, f64::NEG_INFINITY);
    for l in candidates.iter() {
        let i = l.index();
        let total = stage_total(acc, i, lo);
        if total != 0.0 {
            if total > best {
                second = best;
                best = total;
            } else if total > second {
                second = total;
            }
        }
    }
    (best, second)
}

/// Runs one stage: finds the payloads of the probes of lengths `lo..=hi` at each position and
/// adds the fresh n-grams of length `lo` or more to `acc`, as a pipeline over the positions:
/// the slots of position k + AHEAD are prefetched, position k is looked up (and its rows or
/// postings prefetched), and position k - LAG, whose data has had time to arrive, is added up.
/// Looking up the whole stage before adding any of it left the postings of the first
/// positions out of L1 by the time they were read.
///
/// At each position the lookups go longest first: once a row is found, the shorter prefixes
/// are only needed where they are scored themselves (a row already holds their values as
/// back-off).
fn run_stage(
    model: &Model,
    acc: &mut Acc,
    probes: &mut [Probe],
    positions: &[(u32, u8)],
    lo: u8,
    hi: u8,
) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2 (checked just above), the only requirement of a
        // `#[target_feature(enable = "avx2")]` function.
        unsafe { run_stage_avx2(model, acc, probes, positions, lo, hi) };
        return;
    }
    run_stage_impl(model, acc, probes, positions, lo, hi);
}

/// `run_stage` compiled for AVX2, once per stage rather than per position: the 80-lane sums
/// take half the instructions, and the per-position adding is inlined into the loop.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn run_stage_avx2(
    model: &Model,
    acc: &mut Acc,
    probes: &mut [Probe],
    positions: &[(u32, u8)],
    lo: u8,
    hi: u8,
) {
    run_stage_impl(model, acc, probes, positions, lo, hi);
}

#[inline(always)]
fn run_stage_impl(
    model: &Model,
    acc: &mut Acc,
    probes: &mut [Probe],
    positions: &[(u32, u8)],
    lo: u8,
    hi: u8,
) {
    const LAG: usize = 8;
    const AHEAD: usize = 6;
    let range = |(first, count): (u32, u8)| {
        let end = first as usize + usize::from(count.min(hi));
        let start = (first as usize + usize::from(lo - 1)).min(end);
        start..end
    };
    let slot_prefetch = |probes: &[Probe], pos: (u32, u8)| {
        for p in &probes[range(pos)] {
            // The letters' table (144 KB) stays in cache; most letters are not even looked up
            // (their bigram's row holds their values).
            if p.n > 1 {
                model.prefetch_slot(usize::from(p.n), p.hash);
            }
        }
    };
    for &pos in positions.iter().take(AHEAD) {
        slot_prefetch(probes, pos);
    }
    for k in 0..positions.len() + LAG {
        if let Some(&ahead) = positions.get(k + AHEAD) {
            slot_prefetch(probes, ahead);
        }
        if let Some(&pos) = positions.get(k) {
            let mut have_row = false;
            for p in probes[range(pos)].iter_mut().rev() {
                if have_row && !p.fresh {
                    p.at = SKIPPED;
                    continue;
                }
                let n = usize::from(p.n);
                if let Some(payload) = model.find(n, p.hash) {
                    p.at = payload;
                    model.prefetch_payload(payload);
                    have_row |= is_row(payload);
                }
            }
        }
        if let Some(&(first, count)) = k.checked_sub(LAG).and_then(|j| positions.get(j)) {
            if count >= lo {
                let first = first as usize;
                acc.add_position(
                    model,
                    &probes[first..first + usize::from(count.min(hi))],
                    lo,
                );
            }
        }
    }
}

/// Per-language sums of q over the scored n-grams. u32 lanes vectorize twice as wide as u64;
/// they are spilled into u64 totals before 65,536 additions of at most 65,535 could overflow.
#[derive(Clone)]
struct Acc {
    sum: [u64; ROW],
    lane: [u32; ROW],
    adds: u32,
    /// Per language, the scored letters it knows.
    unigrams: [u32; ROW],
    got_any: bool,
}

impl Default for Acc {
    fn default() -> Self {
        Acc {
            sum: [0; ROW],
            lane: [0; ROW],
            adds: 0,
            unigrams: [0; ROW],
            got_any: false,
        }
    }
}

impl Acc {
    /// Builds up, along the probes of one position (lengths 1, 2, ...), row[L] = q of the
    /// longest prefix known to L (0: none), and adds the row of each fresh n-gram of length
    /// `from` or more. All integer: q = -1000 ln p. Inlined into `run_stage`'s AVX2 copy.
    #[inline(always)]
    fn add_position(&mut self, model: &Model, probes: &[Probe], from: u8) {
        // Start at the last dense row before the first n-gram to add: a row holds the values
        // of the shorter prefixes as back-off, so rebuilding from earlier would be overwritten.
        let mut start = 0;
        let mut any = false;
        for (j, p) in probes.iter().enumerate() {
            if is_row(p.at) {
                start = j;
            }
            if p.fresh && p.n >= from {
                any = true;
                break;
            }
        }
        if !any {
            return;
        }
        let mut row = [0u16; WORK_ROW];
        // Whether the row may hold 0 for "unknown": only when built on a letter's row (or on
        // nothing); longer n-grams' rows hold MISSING_Q there already.
        let mut raw = true;
        for p in &probes[start..] {
            // A letter's row is not needed when it is not scored and its bigram's row (which
            // holds the letter's values as back-off) replaces it.
            if is_row(p.at) {
                // A row already holds the back-off values where a language lacks the n-gram.
                model.row(p.at, &mut row);
                raw = p.n == 1;
            } else if p.at < SKIPPED {
                model.overlay_postings(p.at, &mut row);
            }
            if p.fresh && p.n >= from {
                self.got_any = true;
                if raw {
                    // The missing-n-gram cost is put in on 16-bit lanes (16 per AVX2 register,
                    // where the sum needs 32-bit lanes, 8 per register), then widened and added.
                    for (acc, v) in self
                        .lane
                        .chunks_exact_mut(16)
                        .zip(row[..ROW].chunks_exact(16))
                    {
                        let mut q = [0u16; 16];
                        for (q, &v) in q.iter_mut().zip(v) {
                            *q = if v == 0 { MISSING_Q } else { v };
                        }
                        for (a, &q) in acc.iter_mut().zip(&q) {
                            *a += u32::from(q);
                        }
                    }
                } else {
                    for (a, &q) in self.lane.iter_mut().zip(&row[..ROW]) {
                        *a += u32::from(q);
                    }
                }
                self.adds += 1;
                if self.adds == u32::from(u16::MAX) {
                    self.spill();
                }
                if p.n == 1 {
                    for (c, v) in self.unigrams.iter_mut().zip(row[..ROW].iter()) {
                        *c += u32::from(*v != 0);
                    }
                }
            }
        }
    }

    fn spill(&mut self) {
        for (t, l) in self.sum.iter_mut().zip(self.lane.iter_mut()) {
            *t += u64::from(*l);
            *l = 0;
        }
        self.adds = 0;
    }
}

/// The winner, its lead over the runner-up (f64::INFINITY when alone) and the detection.
fn finish(
    acc: &mut Acc,
    candidates: LanguageSet,
    lo: usize,
    scale: f64,
) -> (Option<Language>, f64, Detection) {
    acc.spill();
    let none = (
        None,
        0.0,
        Detection {
            language: None,
            score: 0.0,
        },
    );
    if !acc.got_any {
        return none;
    }
    // Final score per candidate; languages that knew none of the n-grams drop out.
    let mut best: Option<(Language, f64)> = None;
    let mut second = f64::NEG_INFINITY;
    // The scored languages' totals, in language order (the order of the softmax sum below).
    let mut scores = [0f64; LANGUAGE_COUNT];
    let mut scored = 0;
    for l in candidates.iter() {
        let mut total = -(acc.sum[l.index()] as f64) / 1000.0;
        if lo == 1 && acc.unigrams[l.index()] > 0 {
            total /= f64::from(acc.unigrams[l.index()]);
        }
        if total != 0.0 {
            scores[scored] = total;
            scored += 1;
            match best {
                Some((_, b)) if total <= b => second = second.max(total),
                _ => {
                    if let Some((_, b)) = best {
                        second = second.max(b);
                    }
                    best = Some((l, total));
                }
            }
        }
    }
    let Some((lang, top)) = best else {
        return none;
    };
    // Languages more than 50 nats behind add under 2e-22 each: not worth an exp().
    let denom: f64 = scores[..scored]
        .iter()
        .map(|t| (t - top) * scale)
        .filter(|x| *x > -50.0)
        .map(f64::exp)
        .sum();
    (
        Some(lang),
        top - second,
        Detection {
            language: Some(lang),
            score: 1.0 / denom,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(text: &str) -> Option<&'static str> {
        detect(text, LanguageSet::all()).language.map(|l| l.code())
    }

    #[test]
    fn hashing_in_halves_matches_the_table_hash() {
        let chars: Vec<char> = "a\u{10FFFF}é中z\u{1F600}".chars().collect();
        for at in 0..chars.len() {
            for n in 1..=5.min(chars.len() - at) {
                let want = crate::hash::ngram_hash(crate::hash::pack_ngram(&chars[at..at + n]));
                assert_eq!(hash_at(&chars, at, n), want, "{at} {n}");
            }
        }
    }

    #[test]
    fn own_lower_case_is_exact() {
        for c in ['a', 'é', 'É', 'ß', 'İ', 'Σ', 'ς', 'д', 'Д', '中', '1', 'ǅ'] {
            let mut l = c.to_lowercase();
            let own = l.next() == Some(c) && l.next().is_none();
            assert_eq!(info(c).own_lower, own, "{c}");
        }
        assert!(info('é').own_lower && !info('É').own_lower && !info('İ').own_lower);
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
    fn ascii_texts_take_the_same_path_as_others() {
        assert_eq!(ALPHABETS[LATIN], Script::Latin);
        // The ASCII shortcut must agree with the general path: compare each ASCII text with
        // the same text plus a non-ASCII non-letter (which is no word and no rule's business).
        for text in [
            "The weather is nice today and we are going to the beach.",
            "  Das Wetter ist heute schoen, und wir gehen an den Strand!  ",
            "to",
            "1234 -- ok",
            "Saya suka makan nasi goreng.",
            "x",
        ] {
            let general = format!("{text} \u{2014}");
            assert_eq!(
                detect(text, LanguageSet::all()),
                detect(&general, LanguageSet::all()),
                "{text}"
            );
            let only = LanguageSet::of(["ru", "de"].iter().filter_map(|c| Language::from_code(c)));
            assert_eq!(detect(text, only), detect(&general, only), "{text}");
        }
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
