//! The 75 languages, their scripts, and the character rules that narrow the candidates before
//! any n-gram is scored. The character facts (which letters only one or a few of these languages
//! use) are the ones lingua-rs's rule stage uses; thresher keeps them as data here.

use unicode_script::Script;

/// Number of languages the model covers.
pub const LANGUAGE_COUNT: usize = 75;

/// A language the identifier can answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Language(pub(crate) u8);

/// (ISO 639-1, ISO 639-3, English name, script) in the order of the model table (build.rs).
pub(crate) const LANGUAGES: [(&str, &str, &str, Script); LANGUAGE_COUNT] = [
    ("af", "afr", "Afrikaans", Script::Latin),
    ("sq", "sqi", "Albanian", Script::Latin),
    ("ar", "ara", "Arabic", Script::Arabic),
    ("hy", "hye", "Armenian", Script::Armenian),
    ("az", "aze", "Azerbaijani", Script::Latin),
    ("eu", "eus", "Basque", Script::Latin),
    ("be", "bel", "Belarusian", Script::Cyrillic),
    ("bn", "ben", "Bengali", Script::Bengali),
    ("nb", "nob", "Norwegian Bokmål", Script::Latin),
    ("bs", "bos", "Bosnian", Script::Latin),
    ("bg", "bul", "Bulgarian", Script::Cyrillic),
    ("ca", "cat", "Catalan", Script::Latin),
    ("zh", "zho", "Chinese", Script::Han),
    ("hr", "hrv", "Croatian", Script::Latin),
    ("cs", "ces", "Czech", Script::Latin),
    ("da", "dan", "Danish", Script::Latin),
    ("nl", "nld", "Dutch", Script::Latin),
    ("en", "eng", "English", Script::Latin),
    ("eo", "epo", "Esperanto", Script::Latin),
    ("et", "est", "Estonian", Script::Latin),
    ("fi", "fin", "Finnish", Script::Latin),
    ("fr", "fra", "French", Script::Latin),
    ("lg", "lug", "Ganda", Script::Latin),
    ("ka", "kat", "Georgian", Script::Georgian),
    ("de", "deu", "German", Script::Latin),
    ("el", "ell", "Greek", Script::Greek),
    ("gu", "guj", "Gujarati", Script::Gujarati),
    ("he", "heb", "Hebrew", Script::Hebrew),
    ("hi", "hin", "Hindi", Script::Devanagari),
    ("hu", "hun", "Hungarian", Script::Latin),
    ("is", "isl", "Icelandic", Script::Latin),
    ("id", "ind", "Indonesian", Script::Latin),
    ("ga", "gle", "Irish", Script::Latin),
    ("it", "ita", "Italian", Script::Latin),
    ("ja", "jpn", "Japanese", Script::Hiragana),
    ("kk", "kaz", "Kazakh", Script::Cyrillic),
    ("ko", "kor", "Korean", Script::Hangul),
    ("la", "lat", "Latin", Script::Latin),
    ("lv", "lav", "Latvian", Script::Latin),
    ("lt", "lit", "Lithuanian", Script::Latin),
    ("mk", "mkd", "Macedonian", Script::Cyrillic),
    ("ms", "msa", "Malay", Script::Latin),
    ("mi", "mri", "Maori", Script::Latin),
    ("mr", "mar", "Marathi", Script::Devanagari),
    ("mn", "mon", "Mongolian", Script::Cyrillic),
    ("nn", "nno", "Norwegian Nynorsk", Script::Latin),
    ("fa", "fas", "Persian", Script::Arabic),
    ("pl", "pol", "Polish", Script::Latin),
    ("pt", "por", "Portuguese", Script::Latin),
    ("pa", "pan", "Punjabi", Script::Gurmukhi),
    ("ro", "ron", "Romanian", Script::Latin),
    ("ru", "rus", "Russian", Script::Cyrillic),
    ("sr", "srp", "Serbian", Script::Cyrillic),
    ("sn", "sna", "Shona", Script::Latin),
    ("sk", "slk", "Slovak", Script::Latin),
    ("sl", "slv", "Slovene", Script::Latin),
    ("so", "som", "Somali", Script::Latin),
    ("st", "sot", "Sotho", Script::Latin),
    ("es", "spa", "Spanish", Script::Latin),
    ("sw", "swa", "Swahili", Script::Latin),
    ("sv", "swe", "Swedish", Script::Latin),
    ("tl", "tgl", "Tagalog", Script::Latin),
    ("ta", "tam", "Tamil", Script::Tamil),
    ("te", "tel", "Telugu", Script::Telugu),
    ("th", "tha", "Thai", Script::Thai),
    ("ts", "tso", "Tsonga", Script::Latin),
    ("tn", "tsn", "Tswana", Script::Latin),
    ("tr", "tur", "Turkish", Script::Latin),
    ("uk", "ukr", "Ukrainian", Script::Cyrillic),
    ("ur", "urd", "Urdu", Script::Arabic),
    ("vi", "vie", "Vietnamese", Script::Latin),
    ("cy", "cym", "Welsh", Script::Latin),
    ("xh", "xho", "Xhosa", Script::Latin),
    ("yo", "yor", "Yoruba", Script::Latin),
    ("zu", "zul", "Zulu", Script::Latin),
];

impl Language {
    /// Every language, in model order.
    pub fn all() -> impl Iterator<Item = Language> {
        (0..LANGUAGE_COUNT as u8).map(Language)
    }
    /// Looks a language up by its ISO 639-1 or ISO 639-3 code.
    pub fn from_code(code: &str) -> Option<Language> {
        LANGUAGES
            .iter()
            .position(|l| l.0.eq_ignore_ascii_case(code) || l.1.eq_ignore_ascii_case(code))
            .map(|i| Language(i as u8))
    }
    /// ISO 639-1 code (every covered language has one).
    pub fn code(self) -> &'static str {
        LANGUAGES[self.0 as usize].0
    }
    /// ISO 639-3 code.
    pub fn code3(self) -> &'static str {
        LANGUAGES[self.0 as usize].1
    }
    /// English name.
    pub fn name(self) -> &'static str {
        LANGUAGES[self.0 as usize].2
    }
    /// The script the language is written in (Japanese: kana and Han).
    pub fn script(self) -> Script {
        LANGUAGES[self.0 as usize].3
    }
    pub(crate) fn index(self) -> usize {
        self.0 as usize
    }
}

/// A set of languages as a bit mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LanguageSet(pub(crate) u128);

impl LanguageSet {
    /// All 75 languages.
    pub fn all() -> Self {
        LanguageSet((1u128 << LANGUAGE_COUNT) - 1)
    }
    /// The set holding these languages.
    pub fn of(langs: impl IntoIterator<Item = Language>) -> Self {
        let mut s = LanguageSet(0);
        for l in langs {
            s.insert(l);
        }
        s
    }
    /// Adds a language.
    pub fn insert(&mut self, l: Language) {
        self.0 |= 1 << l.0;
    }
    /// Whether the set holds a language.
    pub fn contains(self, l: Language) -> bool {
        self.0 & (1 << l.0) != 0
    }
    /// Number of languages.
    pub fn len(self) -> usize {
        self.0.count_ones() as usize
    }
    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    /// The languages, in model order.
    pub fn iter(self) -> impl Iterator<Item = Language> {
        let mut bits = self.0;
        std::iter::from_fn(move || {
            if bits == 0 {
                return None;
            }
            let i = bits.trailing_zeros();
            bits &= bits - 1;
            Some(Language(i as u8))
        })
    }
}

fn set(codes: &[&str]) -> LanguageSet {
    LanguageSet::of(codes.iter().filter_map(|c| Language::from_code(c)))
}

/// Scripts whose letters name exactly one of the 75 languages.
pub(crate) fn single_language_script(s: Script) -> Option<Language> {
    let code = match s {
        Script::Armenian => "hy",
        Script::Bengali => "bn",
        Script::Georgian => "ka",
        Script::Greek => "el",
        Script::Gujarati => "gu",
        Script::Gurmukhi => "pa",
        Script::Hangul => "ko",
        Script::Hebrew => "he",
        Script::Hiragana | Script::Katakana => "ja",
        Script::Tamil => "ta",
        Script::Telugu => "te",
        Script::Thai => "th",
        _ => return None,
    };
    Language::from_code(code)
}

/// Whether a language is written in a script (Japanese in three).
pub(crate) fn uses_script(l: Language, s: Script) -> bool {
    if l.code() == "ja" {
        return matches!(s, Script::Hiragana | Script::Katakana | Script::Han);
    }
    l.script() == s
}

/// Lower-case letters that, among the 75 languages, only one language uses.
pub(crate) const UNIQUE_CHARACTERS: [(&str, &str); 20] = [
    ("az", "əƏ"),
    ("ca", "ïÏ"),
    ("cs", "ěĚřŘůŮ"),
    ("eo", "ĉĈĝĜĥĤĵĴŝŜŭŬ"),
    ("de", "ß"),
    ("hu", "őŐűŰ"),
    ("kk", "әӘғҒқҚңҢұҰ"),
    ("lv", "ģĢķĶļĻņŅ"),
    ("lt", "ėĖįĮųŲ"),
    ("mk", "ѓЃѕЅќЌџЏ"),
    ("mr", "ळ"),
    ("pl", "łŁńŃśŚźŹ"),
    ("ro", "ţȚ"),
    ("sr", "ђЂћЋ"),
    ("sk", "ĺĹľĽŕŔ"),
    ("es", "¿¡"),
    ("uk", "ґҐєЄїЇ"),
    (
        "vi",
        "ằẰầẦẳẲẩẨẵẴẫẪắẮấẤạẠặẶậẬềỀẻẺểỂẽẼễỄếẾệỆỉỈĩĨịỊơƠồỒờỜỏỎổỔởỞỗỖỡỠốỐớỚộỘợỢưƯừỪủỦửỬũŨữỮứỨụỤựỰỳỲỷỶỹỸỵỴ",
    ),
    ("yo", "ṣṢ"),
    ("", ""),
];

/// Letters shared by a few languages only: a word holding one votes for each of them.
pub(crate) fn shared_characters() -> Vec<(&'static str, LanguageSet)> {
    const TABLE: [(&str, &[&str]); 45] = [
        ("Ãã", &["pt", "vi"]),
        ("ĄąĘę", &["lt", "pl"]),
        ("Żż", &["pl", "ro"]),
        ("Îî", &["fr", "ro"]),
        ("Ññ", &["eu", "es"]),
        ("ŇňŤť", &["cs", "sk"]),
        ("Ăă", &["ro", "vi"]),
        ("İıĞğ", &["az", "tr"]),
        ("ЈјЉљЊњ", &["mk", "sr"]),
        ("ẸẹỌọ", &["vi", "yo"]),
        ("ÐðÞþ", &["is", "tr"]),
        ("Ûû", &["fr", "hu"]),
        ("Ōō", &["mi", "yo"]),
        ("ӨөҮү", &["kk", "mn"]),
        ("ĀāĒēĪī", &["lv", "mi", "yo"]),
        ("Şş", &["az", "ro", "tr"]),
        ("Ďď", &["cs", "ro", "sk"]),
        ("Ćć", &["bs", "hr", "pl"]),
        ("Đđ", &["bs", "hr", "vi"]),
        ("Іі", &["be", "kk", "uk"]),
        ("Ìì", &["it", "vi", "yo"]),
        ("Øø", &["nb", "da", "nn"]),
        ("Ūū", &["lv", "lt", "mi", "yo"]),
        ("Ëë", &["af", "sq", "nl", "fr"]),
        ("ÈèÙù", &["fr", "it", "vi", "yo"]),
        ("Êê", &["af", "fr", "pt", "vi"]),
        ("Õõ", &["et", "hu", "pt", "vi"]),
        ("Ôô", &["fr", "pt", "sk", "vi"]),
        ("ЁёЫыЭэ", &["be", "kk", "mn", "ru"]),
        ("ЩщЪъ", &["bg", "kk", "mn", "ru"]),
        ("Òò", &["ca", "it", "vi", "yo"]),
        ("Ââ", &["fr", "pt", "ro", "tr", "vi"]),
        ("Ææ", &["nb", "da", "is", "nn"]),
        ("Åå", &["nb", "da", "nn", "sv"]),
        ("Ýý", &["cs", "is", "sk", "tr", "vi"]),
        ("Ää", &["et", "fi", "de", "sk", "sv"]),
        ("Àà", &["ca", "fr", "it", "pt", "vi"]),
        ("Üü", &["az", "ca", "et", "de", "hu", "es", "tr"]),
        ("ČčŠšŽž", &["bs", "cs", "hr", "lv", "lt", "sk", "sl"]),
        ("Çç", &["sq", "az", "eu", "ca", "fr", "pt", "tr"]),
        ("Öö", &["az", "et", "fi", "de", "hu", "is", "sv", "tr"]),
        (
            "Óó",
            &["ca", "hu", "is", "ga", "pl", "pt", "sk", "es", "vi", "yo"],
        ),
        (
            "ÁáÍíÚú",
            &["ca", "cs", "is", "ga", "hu", "pt", "sk", "es", "vi", "yo"],
        ),
        (
            "Éé",
            &[
                "ca", "cs", "fr", "hu", "is", "ga", "it", "pt", "sk", "es", "vi", "yo",
            ],
        ),
        ("", &[]),
    ];
    TABLE
        .iter()
        .filter(|(chars, _)| !chars.is_empty())
        .map(|(chars, codes)| (*chars, set(codes)))
        .collect()
}
