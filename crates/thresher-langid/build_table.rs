//! Builds thresher's language-ID table from lingua-rs's n-gram models (Apache-2.0; the
//! `lingua-*-language-model` crates on crates.io, build-dependencies only).
//!
//! Each language model maps n-grams of 1 to 5 characters to the natural log of their relative
//! frequency in that language's training text. Looking an n-gram up in 75 separate models costs
//! 75 lookups; thresher merges them into one open-addressing table per n-gram length whose slots
//! point at a short list of (language, log-probability) postings, so one lookup answers for
//! every language. The table is written to OUT_DIR and embedded with `include_bytes!` (debug
//! builds read it from OUT_DIR instead): nothing is downloaded or parsed at run time.
//!
//! Values are q = round(-ln p * 1000) as u16, at least 1; 0 means "the language lacks it".
//! Letters and bigrams, which nearly every language of a script has, get a dense row of 80 q
//! values (a bigram's row already backed off to its first letter where a language lacks the
//! bigram); trigrams to 5-grams, which few languages share, get a list of postings, except the
//! ones many languages know, which get a dense row too (already backed off, per language, to
//! the longest prefix it knows).
//!
//! Layout (little-endian), read by src/model.rs:
//!   magic "THLID004", u32 language count,
//!   5 x (u32 slot count, u64 byte offset of the slots),
//!   u64 rows offset, u64 row count, u64 postings offset, u64 posting count,
//!   slots: u64 = fingerprint << 32 | payload; 0 = empty. The payload is a row index with bit 31
//!     set (every letter and bigram; the longer n-grams many languages know, whose row holds the
//!     back-off to the shorter prefixes), else the index of the first posting (below 2^31 - 2:
//!     the detector uses the two values under 2^31 above it as markers),
//!   rows: 80 x u16 q (0 = unknown in letters' rows; hash::MISSING_Q in the others),
//!   postings: 3 bytes = language index (bit 7 set on a list's last posting), u16 q.

use std::io::Write;

#[allow(dead_code)]
mod hash {
    include!("src/hash.rs");
}

type Dir = &'static include_dir::Dir<'static>;

/// Model directories in thresher's language order (the order of `LANGUAGES` in src/lang.rs).
fn models() -> Vec<(Dir, &'static str)> {
    vec![
        (
            &lingua_afrikaans_language_model::AFRIKAANS_MODELS_DIRECTORY,
            "af",
        ),
        (
            &lingua_albanian_language_model::ALBANIAN_MODELS_DIRECTORY,
            "sq",
        ),
        (&lingua_arabic_language_model::ARABIC_MODELS_DIRECTORY, "ar"),
        (
            &lingua_armenian_language_model::ARMENIAN_MODELS_DIRECTORY,
            "hy",
        ),
        (
            &lingua_azerbaijani_language_model::AZERBAIJANI_MODELS_DIRECTORY,
            "az",
        ),
        (&lingua_basque_language_model::BASQUE_MODELS_DIRECTORY, "eu"),
        (
            &lingua_belarusian_language_model::BELARUSIAN_MODELS_DIRECTORY,
            "be",
        ),
        (
            &lingua_bengali_language_model::BENGALI_MODELS_DIRECTORY,
            "bn",
        ),
        (&lingua_bokmal_language_model::BOKMAL_MODELS_DIRECTORY, "nb"),
        (
            &lingua_bosnian_language_model::BOSNIAN_MODELS_DIRECTORY,
            "bs",
        ),
        (
            &lingua_bulgarian_language_model::BULGARIAN_MODELS_DIRECTORY,
            "bg",
        ),
        (
            &lingua_catalan_language_model::CATALAN_MODELS_DIRECTORY,
            "ca",
        ),
        (
            &lingua_chinese_language_model::CHINESE_MODELS_DIRECTORY,
            "zh",
        ),
        (
            &lingua_croatian_language_model::CROATIAN_MODELS_DIRECTORY,
            "hr",
        ),
        (&lingua_czech_language_model::CZECH_MODELS_DIRECTORY, "cs"),
        (&lingua_danish_language_model::DANISH_MODELS_DIRECTORY, "da"),
        (&lingua_dutch_language_model::DUTCH_MODELS_DIRECTORY, "nl"),
        (
            &lingua_english_language_model::ENGLISH_MODELS_DIRECTORY,
            "en",
        ),
        (
            &lingua_esperanto_language_model::ESPERANTO_MODELS_DIRECTORY,
            "eo",
        ),
        (
            &lingua_estonian_language_model::ESTONIAN_MODELS_DIRECTORY,
            "et",
        ),
        (
            &lingua_finnish_language_model::FINNISH_MODELS_DIRECTORY,
            "fi",
        ),
        (&lingua_french_language_model::FRENCH_MODELS_DIRECTORY, "fr"),
        (&lingua_ganda_language_model::GANDA_MODELS_DIRECTORY, "lg"),
        (
            &lingua_georgian_language_model::GEORGIAN_MODELS_DIRECTORY,
            "ka",
        ),
        (&lingua_german_language_model::GERMAN_MODELS_DIRECTORY, "de"),
        (&lingua_greek_language_model::GREEK_MODELS_DIRECTORY, "el"),
        (
            &lingua_gujarati_language_model::GUJARATI_MODELS_DIRECTORY,
            "gu",
        ),
        (&lingua_hebrew_language_model::HEBREW_MODELS_DIRECTORY, "he"),
        (&lingua_hindi_language_model::HINDI_MODELS_DIRECTORY, "hi"),
        (
            &lingua_hungarian_language_model::HUNGARIAN_MODELS_DIRECTORY,
            "hu",
        ),
        (
            &lingua_icelandic_language_model::ICELANDIC_MODELS_DIRECTORY,
            "is",
        ),
        (
            &lingua_indonesian_language_model::INDONESIAN_MODELS_DIRECTORY,
            "id",
        ),
        (&lingua_irish_language_model::IRISH_MODELS_DIRECTORY, "ga"),
        (
            &lingua_italian_language_model::ITALIAN_MODELS_DIRECTORY,
            "it",
        ),
        (
            &lingua_japanese_language_model::JAPANESE_MODELS_DIRECTORY,
            "ja",
        ),
        (&lingua_kazakh_language_model::KAZAKH_MODELS_DIRECTORY, "kk"),
        (&lingua_korean_language_model::KOREAN_MODELS_DIRECTORY, "ko"),
        (&lingua_latin_language_model::LATIN_MODELS_DIRECTORY, "la"),
        (
            &lingua_latvian_language_model::LATVIAN_MODELS_DIRECTORY,
            "lv",
        ),
        (
            &lingua_lithuanian_language_model::LITHUANIAN_MODELS_DIRECTORY,
            "lt",
        ),
        (
            &lingua_macedonian_language_model::MACEDONIAN_MODELS_DIRECTORY,
            "mk",
        ),
        (&lingua_malay_language_model::MALAY_MODELS_DIRECTORY, "ms"),
        (&lingua_maori_language_model::MAORI_MODELS_DIRECTORY, "mi"),
        (
            &lingua_marathi_language_model::MARATHI_MODELS_DIRECTORY,
            "mr",
        ),
        (
            &lingua_mongolian_language_model::MONGOLIAN_MODELS_DIRECTORY,
            "mn",
        ),
        (
            &lingua_nynorsk_language_model::NYNORSK_MODELS_DIRECTORY,
            "nn",
        ),
        (
            &lingua_persian_language_model::PERSIAN_MODELS_DIRECTORY,
            "fa",
        ),
        (&lingua_polish_language_model::POLISH_MODELS_DIRECTORY, "pl"),
        (
            &lingua_portuguese_language_model::PORTUGUESE_MODELS_DIRECTORY,
            "pt",
        ),
        (
            &lingua_punjabi_language_model::PUNJABI_MODELS_DIRECTORY,
            "pa",
        ),
        (
            &lingua_romanian_language_model::ROMANIAN_MODELS_DIRECTORY,
            "ro",
        ),
        (
            &lingua_russian_language_model::RUSSIAN_MODELS_DIRECTORY,
            "ru",
        ),
        (
            &lingua_serbian_language_model::SERBIAN_MODELS_DIRECTORY,
            "sr",
        ),
        (&lingua_shona_language_model::SHONA_MODELS_DIRECTORY, "sn"),
        (&lingua_slovak_language_model::SLOVAK_MODELS_DIRECTORY, "sk"),
        (
            &lingua_slovene_language_model::SLOVENE_MODELS_DIRECTORY,
            "sl",
        ),
        (&lingua_somali_language_model::SOMALI_MODELS_DIRECTORY, "so"),
        (&lingua_sotho_language_model::SOTHO_MODELS_DIRECTORY, "st"),
        (
            &lingua_spanish_language_model::SPANISH_MODELS_DIRECTORY,
            "es",
        ),
        (
            &lingua_swahili_language_model::SWAHILI_MODELS_DIRECTORY,
            "sw",
        ),
        (
            &lingua_swedish_language_model::SWEDISH_MODELS_DIRECTORY,
            "sv",
        ),
        (
            &lingua_tagalog_language_model::TAGALOG_MODELS_DIRECTORY,
            "tl",
        ),
        (&lingua_tamil_language_model::TAMIL_MODELS_DIRECTORY, "ta"),
        (&lingua_telugu_language_model::TELUGU_MODELS_DIRECTORY, "te"),
        (&lingua_thai_language_model::THAI_MODELS_DIRECTORY, "th"),
        (&lingua_tsonga_language_model::TSONGA_MODELS_DIRECTORY, "ts"),
        (&lingua_tswana_language_model::TSWANA_MODELS_DIRECTORY, "tn"),
        (
            &lingua_turkish_language_model::TURKISH_MODELS_DIRECTORY,
            "tr",
        ),
        (
            &lingua_ukrainian_language_model::UKRAINIAN_MODELS_DIRECTORY,
            "uk",
        ),
        (&lingua_urdu_language_model::URDU_MODELS_DIRECTORY, "ur"),
        (
            &lingua_vietnamese_language_model::VIETNAMESE_MODELS_DIRECTORY,
            "vi",
        ),
        (&lingua_welsh_language_model::WELSH_MODELS_DIRECTORY, "cy"),
        (&lingua_xhosa_language_model::XHOSA_MODELS_DIRECTORY, "xh"),
        (&lingua_yoruba_language_model::YORUBA_MODELS_DIRECTORY, "yo"),
        (&lingua_zulu_language_model::ZULU_MODELS_DIRECTORY, "zu"),
    ]
}

const LOAD_PERCENT: u64 = 70;

/// Languages per dense row, padded so rows are whole SIMD vectors.
const ROW: usize = 80;
/// Trigrams known to at least this many languages get a dense row too: copying one row is
/// cheaper than writing that many postings, and such trigrams are the common ones in any text.
const DENSE_TRIGRAM_LANGUAGES: usize = 12;
/// 4- and 5-grams known to at least this many languages get a dense row. These are 1.4% of the
/// 4-/5-grams (116,000 rows, 18.5 MB), but on lingua's test sentences they held 83% of the
/// postings read: one row copy replaces a loop over 24-49 postings.
const DENSE_LONG_LANGUAGES: usize = 24;
/// Payload bit marking a slot that points at a dense row.
const DENSE_BIT: u64 = 1 << 31;

/// Builds the table into OUT_DIR/langid.bin.
pub fn build() {
    println!("cargo:rerun-if-changed=build_table.rs");
    println!("cargo:rerun-if-changed=src/hash.rs");
    let models = models();
    assert!(models.len() <= ROW, "languages must fit a row");
    // Lengths 3-5: (hash, language, q) where q = round(-ln p * 1000), at least 1 so that 0 can
    // mean "this language does not know the n-gram".
    let mut entries: Vec<Vec<(u64, u8, u16)>> = vec![Vec::new(); 6];
    // Lengths 1-2: n-gram -> dense row of q per language.
    let mut dense: Vec<std::collections::BTreeMap<Vec<char>, [u16; ROW]>> =
        vec![Default::default(); 3];
    let mut trigram_chars: std::collections::HashMap<u64, Vec<char>> = Default::default();
    let mut chars = Vec::with_capacity(5);
    for (lang, (dir, code)) in models.iter().enumerate() {
        let file = dir
            .get_file("ngrams.fst")
            .unwrap_or_else(|| panic!("{code}: ngrams.fst missing from the model crate"));
        let map = fst::Map::new(file.contents()).expect("lingua model is a valid fst map");
        let mut stream = map.stream();
        use fst::Streamer;
        while let Some((key, value)) = stream.next() {
            let ngram = std::str::from_utf8(key).expect("n-grams are UTF-8");
            chars.clear();
            chars.extend(ngram.chars());
            let n = chars.len();
            assert!(
                (1..=5).contains(&n),
                "{code}: n-gram {ngram:?} has {n} characters"
            );
            let logp = f64::from_bits(value);
            let q = (-logp * 1000.0).round().clamp(1.0, 65535.0) as u16;
            if n <= 2 {
                dense[n].entry(chars.clone()).or_insert([0; ROW])[lang] = q;
            } else {
                let h = hash::ngram_hash(hash::pack_ngram(&chars));
                if n == 3 {
                    trigram_chars.entry(h).or_insert_with(|| chars.clone());
                }
                entries[n].push((h, lang as u8, q));
            }
        }
    }
    // A bigram's row already holds the back-off: where a language lacks the bigram, the value
    // of its first letter.
    let unigram_rows = dense[1].clone();
    for (bigram, row) in dense[2].iter_mut() {
        if let Some(first) = unigram_rows.get(&bigram[..1]) {
            for (v, f) in row.iter_mut().zip(first.iter()) {
                if *v == 0 {
                    *v = *f;
                }
            }
        }
    }

    // The 4- and 5-grams that get a dense row, and their characters (a second pass over the
    // models, for these only): a row is built from the rows and postings of its prefixes.
    let mut long_chars: std::collections::HashMap<u64, Vec<char>> = Default::default();
    for list in &mut entries[4..=5] {
        list.sort_unstable();
        for group in list.chunk_by(|a, b| a.0 == b.0) {
            if group.len() >= DENSE_LONG_LANGUAGES {
                long_chars.insert(group[0].0, Vec::new());
            }
        }
    }
    for (dir, _) in &models {
        let file = dir.get_file("ngrams.fst").expect("checked above");
        let map = fst::Map::new(file.contents()).expect("checked above");
        let mut stream = map.stream();
        use fst::Streamer;
        while let Some((key, _)) = stream.next() {
            let ngram = std::str::from_utf8(key).expect("n-grams are UTF-8");
            chars.clear();
            chars.extend(ngram.chars());
            if chars.len() >= 4 {
                if let Some(c) = long_chars.get_mut(&hash::ngram_hash(hash::pack_ngram(&chars))) {
                    c.clone_from(&chars);
                }
            }
        }
    }
    // The 4-grams whose postings a dense 5-gram row needs (prefixes of those 5-grams).
    let prefix4: std::collections::HashSet<u64> = long_chars
        .values()
        .filter(|c| c.len() == 5)
        .map(|c| hash::ngram_hash(hash::pack_ngram(&c[..4])))
        .collect();
    // Per length 3-4: the dense rows and the postings lists a longer n-gram's row backs off to.
    let mut known_rows: Vec<std::collections::HashMap<u64, [u16; ROW]>> =
        vec![Default::default(); 5];
    let mut known_lists: Vec<std::collections::HashMap<u64, Vec<(u8, u16)>>> =
        vec![Default::default(); 5];

    let mut out: Vec<u8> = Vec::new();
    out.extend_from_slice(b"THLID004");
    out.extend_from_slice(&(models.len() as u32).to_le_bytes());
    // 5 x (slots, offset) + rows offset + row count + postings offset + posting count.
    let header_len = out.len() + 5 * 12 + 32;
    out.resize(header_len, 0);
    let mut rows: Vec<u8> = Vec::new();
    let mut row_count: u64 = 0;
    let mut postings: Vec<u8> = Vec::new();
    let mut posting_count: u64 = 0;
    for n in 1..=5usize {
        // (hash, payload): payload = DENSE_BIT | row index, or first posting.
        let mut keyed: Vec<(u64, u64)> = Vec::new();
        if n <= 2 {
            for (ngram, row) in &dense[n] {
                keyed.push((
                    hash::ngram_hash(hash::pack_ngram(ngram)),
                    DENSE_BIT | row_count,
                ));
                write_row(&mut rows, row, n);
                row_count += 1;
            }
        } else {
            let list = &mut entries[n];
            list.sort_unstable();
            let mut i = 0;
            while i < list.len() {
                let h = list[i].0;
                let mut j = i;
                while j < list.len() && list[j].0 == h {
                    j += 1;
                }
                let dense_row = match n {
                    3 => j - i >= DENSE_TRIGRAM_LANGUAGES,
                    _ => j - i >= DENSE_LONG_LANGUAGES,
                };
                if n == 3 || (n == 4 && prefix4.contains(&h)) {
                    known_lists[n].insert(h, list[i..j].iter().map(|e| (e.1, e.2)).collect());
                }
                if dense_row {
                    let chars = if n == 3 {
                        &trigram_chars[&h]
                    } else {
                        &long_chars[&h]
                    };
                    let mut row = backed_off(&chars[..n - 1], &dense, &known_rows, &known_lists);
                    for &(_, lang, q) in &list[i..j] {
                        row[usize::from(lang)] = q;
                    }
                    if n < 5 {
                        known_rows[n].insert(h, row);
                    }
                    keyed.push((h, DENSE_BIT | row_count));
                    write_row(&mut rows, &row, n);
                    row_count += 1;
                    i = j;
                    continue;
                }
                keyed.push((h, posting_count));
                for (k, &(_, lang, q)) in list[i..j].iter().enumerate() {
                    let last = if k + 1 == j - i { 0x80 } else { 0 };
                    postings.push(lang | last);
                    postings.extend_from_slice(&q.to_le_bytes());
                    posting_count += 1;
                }
                i = j;
            }
            list.clear();
            list.shrink_to_fit();
        }
        let slots_len = ((keyed.len() as u64 * 100).div_ceil(LOAD_PERCENT)).max(16) as u32;
        let mut slots = vec![0u64; slots_len as usize];
        for &(h, payload) in &keyed {
            assert!(
                payload & !DENSE_BIT < DENSE_BIT - 2,
                "too many rows or postings"
            );
            let mut s = hash::home_slot(h, slots_len);
            while slots[s as usize] != 0 {
                s = if s + 1 == slots_len { 0 } else { s + 1 };
            }
            slots[s as usize] = (u64::from(hash::fingerprint(h)) << 32) | payload;
        }
        let offset = out.len() as u64;
        let at = 12 + (n - 1) * 12;
        out[at..at + 4].copy_from_slice(&slots_len.to_le_bytes());
        out[at + 4..at + 12].copy_from_slice(&offset.to_le_bytes());
        for s in &slots {
            out.extend_from_slice(&s.to_le_bytes());
        }
    }
    let at = 12 + 5 * 12;
    let rows_offset = out.len() as u64;
    out.extend_from_slice(&rows);
    let postings_offset = out.len() as u64;
    out.extend_from_slice(&postings);
    out[at..at + 8].copy_from_slice(&rows_offset.to_le_bytes());
    out[at + 8..at + 16].copy_from_slice(&row_count.to_le_bytes());
    out[at + 16..at + 24].copy_from_slice(&postings_offset.to_le_bytes());
    out[at + 24..at + 32].copy_from_slice(&posting_count.to_le_bytes());

    let path = std::path::Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("langid.bin");
    let mut f = std::fs::File::create(&path).expect("create langid.bin");
    f.write_all(&out).expect("write langid.bin");
}

/// Per language, the q of the longest prefix of `prefix` (1 to 4 characters) that the language
/// knows, 0 when it knows none: what a longer n-gram's dense row holds where a language lacks
/// the n-gram, and what the detector builds at run time from the prefixes' rows and postings.
fn backed_off(
    prefix: &[char],
    dense: &[std::collections::BTreeMap<Vec<char>, [u16; ROW]>],
    known_rows: &[std::collections::HashMap<u64, [u16; ROW]>],
    known_lists: &[std::collections::HashMap<u64, Vec<(u8, u16)>>],
) -> [u16; ROW] {
    let n = prefix.len();
    if n <= 2 {
        // A bigram's row already holds its first letter's values as back-off.
        return dense[n]
            .get(prefix)
            .or_else(|| dense[1].get(&prefix[..1]))
            .copied()
            .unwrap_or([0; ROW]);
    }
    let h = hash::ngram_hash(hash::pack_ngram(prefix));
    if let Some(row) = known_rows[n].get(&h) {
        return *row;
    }
    let mut row = backed_off(&prefix[..n - 1], dense, known_rows, known_lists);
    if let Some(list) = known_lists[n].get(&h) {
        for &(lang, q) in list {
            row[usize::from(lang)] = q;
        }
    }
    row
}

/// Appends the dense row of an n-gram of `n` characters. Rows longer than a letter hold
/// MISSING_Q where a language knows no prefix (what the detector adds there anyway).
fn write_row(rows: &mut Vec<u8>, row: &[u16; ROW], n: usize) {
    for &v in row {
        let v = if v == 0 && n >= 2 { hash::MISSING_Q } else { v };
        rows.extend_from_slice(&v.to_le_bytes());
    }
}
