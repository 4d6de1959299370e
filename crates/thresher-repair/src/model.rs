//! The line classifier of `strip_chrome`: general features of a line and its neighbours, scored
//! by a logistic regression whose weights are trained from the gold extraction sets of
//! `../shared` by `examples/train_chrome.rs` and committed as `chrome_model.json`.
//!
//! Features are computed relative to the edge being cut (the start for the leading block, the
//! end for the trailer): a line's distance from that edge, and how much of the text's prose lies
//! between the edge and the line, say as much as its shape does.

use serde::{Deserialize, Serialize};

use crate::lines::Line;

/// Number of features per line (see [`FEATURES`]).
pub const N_FEATURES: usize = 46;

/// Names of the features, in order.
pub const FEATURES: [&str; N_FEATURES] = [
    "log_chars",
    "log_words",
    "short",
    "long",
    "terminal",
    "ends_colon",
    "label_value",
    "list_marker",
    "separators",
    "stop_share",
    "cap_share",
    "all_caps",
    "digit_share",
    "year_or_time",
    "currency",
    "url_like",
    "commas_per_word",
    "starts_lower",
    "ellipsis",
    "legal_sign",
    "symbol_share",
    "toward_log_words",
    "toward_terminal",
    "toward_short",
    "away_log_words",
    "away_terminal",
    "away_short",
    "window_short",
    "window_terminal",
    "log_units_from_edge",
    "prose_mass_from_edge",
    "log_prose_lines_from_edge",
    "bytes_from_edge",
    "trailing",
    "trailing_short",
    "trailing_terminal",
    "no_prose_from_edge",
    "log_line_share",
    "log_short_run",
    "log_units_to_long_away",
    "log_units_to_long_toward",
    "lex_mean",
    "lex_max",
    "lex_min",
    "toward_lex_mean",
    "away_lex_mean",
];

/// The run-length and distance features look at most this many units each way.
const REACH: usize = 16;

/// Lines of at least this many bytes count as prose mass for the position features.
const PROSE_LINE_BYTES: usize = 80;

/// One edge's line scorer: a logistic regression on standardised features plus boosted trees.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LineModel {
    /// Per-feature mean subtracted before weighting.
    pub mean: Vec<f32>,
    /// Per-feature scale divided by before weighting.
    pub scale: Vec<f32>,
    /// Per-feature weights.
    pub weights: Vec<f32>,
    /// Intercept.
    pub bias: f32,
    /// Boosted regression trees added to the linear part, each a flat list of nodes.
    #[serde(default)]
    pub trees: Vec<Vec<TreeNode>>,
}

impl LineModel {
    /// The log-odds that a line with features `f` is chrome.
    pub fn logit(&self, f: &[f32; N_FEATURES]) -> f32 {
        let mut s = self.bias;
        for (k, &x) in f.iter().enumerate() {
            s += self.weights[k] * (x - self.mean[k]) / self.scale[k];
        }
        for t in &self.trees {
            s += tree_value(t, f);
        }
        s
    }

    fn fits(&self) -> bool {
        self.mean.len() == N_FEATURES
            && self.scale.len() == N_FEATURES
            && self.weights.len() == N_FEATURES
            && !self
                .trees
                .iter()
                .flatten()
                .any(|n| n.0 >= N_FEATURES as i32)
    }
}

/// A trained line classifier (see the module docs): one scorer for the leading block, one for
/// the trailer (what ends an article is not what starts one, and the leading block's many
/// lines would otherwise drown the trailer's few in training).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChromeModel {
    /// Feature names, to check that the weights fit this code.
    pub features: Vec<String>,
    /// Scores lines seen from the start of the text.
    pub lead: LineModel,
    /// Scores lines seen from the end of the text.
    pub trail: LineModel,
    /// Learned word weights: the log-odds that a line with the word is chrome rather than
    /// article ("subscribe", "copyright" high; prose words low). Words of one site or one set
    /// only are left out when training.
    #[serde(default)]
    pub vocab: Vocab,
    /// Log-odds subtracted from each line's score before the best cut is found: the higher,
    /// the more a line must look like chrome to be removed.
    pub threshold: f32,
    /// The same for the trailer at the end of the text.
    pub trail_threshold: f32,
    /// Log-odds added to the lines before a body that `collapse_repeats` found repeated.
    pub repeated_bonus: f32,
    /// The scan from an edge stops once the running sum of scores is this far below its best.
    pub stop_margin: f32,
    /// How the weights were made (command, training sets, figures).
    pub provenance: String,
}

impl ChromeModel {
    /// The model committed with the crate.
    pub fn builtin() -> ChromeModel {
        let m: ChromeModel = serde_json::from_str(include_str!("chrome_model.json"))
            .expect("chrome_model.json is valid");
        debug_assert!(m.check().is_ok());
        m
    }

    /// Whether the model fits this code's features.
    pub fn check(&self) -> Result<(), String> {
        let names: Vec<&str> = self.features.iter().map(String::as_str).collect();
        if names != FEATURES || !self.lead.fits() || !self.trail.fits() {
            return Err("chrome model does not match the feature set".into());
        }
        Ok(())
    }

    /// The log-odds that a line with features `f` is chrome, seen from the start or, with
    /// `trailing`, from the end.
    pub fn logit(&self, f: &[f32; N_FEATURES], trailing: bool) -> f32 {
        if trailing {
            self.trail.logit(f)
        } else {
            self.lead.logit(f)
        }
    }
}

/// Lower-cased words with their chrome log-odds (see [`ChromeModel::vocab`]).
pub type Vocab = std::collections::BTreeMap<String, f32>;

/// Calls `f` with each word of `line`, lower-cased: a run of letters and digits of at least two
/// characters that is not all digits. `buf` is scratch space.
pub fn for_each_word(line: &str, buf: &mut String, mut f: impl FnMut(&str)) {
    for w in line.split(|c: char| !c.is_alphanumeric()) {
        if w.len() < 2 || w.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        buf.clear();
        for c in w.chars() {
            buf.extend(c.to_lowercase());
        }
        f(buf);
    }
}

/// A model's word weights for lookups while scoring: a hash map (the [`Vocab`] the model file
/// holds is ordered, for a stable file).
#[derive(Debug, Clone, Default)]
pub struct WordWeights(std::collections::HashMap<Box<str>, f32>);

impl From<&Vocab> for WordWeights {
    fn from(v: &Vocab) -> Self {
        WordWeights(v.iter().map(|(k, &w)| (k.as_str().into(), w)).collect())
    }
}

impl WordWeights {
    fn get(&self, word: &str) -> Option<&f32> {
        self.0.get(word)
    }
}

/// The mean, highest and lowest weight of the words of `line` that `vocab` knows (zeros when
/// it knows none).
fn lex_stats(line: &str, vocab: &WordWeights) -> (f32, f32, f32) {
    let (mut sum, mut n, mut hi, mut lo) = (0.0f32, 0u32, f32::MIN, f32::MAX);
    let mut buf = String::new();
    for_each_word(line, &mut buf, |w| {
        if let Some(&v) = vocab.get(w) {
            sum += v;
            n += 1;
            hi = hi.max(v);
            lo = lo.min(v);
        }
    });
    if n == 0 {
        return (0.0, 0.0, 0.0);
    }
    (sum / n as f32, hi, lo)
}

/// One node of a regression tree: a split (`feature` < `threshold` goes to `left`, else to
/// `right`) or, with `feature` = -1, a leaf worth `value` log-odds.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct TreeNode(pub i32, pub f32, pub u32, pub u32, pub f32);

/// The value of the leaf that `f` reaches in tree `t` (node 0 is the root). A malformed tree
/// (a child index out of range) ends at the node it cannot leave: the loop always ends, since
/// every step moves to a higher index.
fn tree_value(t: &[TreeNode], f: &[f32; N_FEATURES]) -> f32 {
    let mut i = 0usize;
    while let Some(&TreeNode(feat, thr, l, r, v)) = t.get(i) {
        let Some(&x) = usize::try_from(feat).ok().and_then(|k| f.get(k)) else {
            return v;
        };
        let next = if x < thr { l } else { r } as usize;
        if next <= i || next >= t.len() {
            return v;
        }
        i = next;
    }
    0.0
}

/// Shape of one line, computed once.
#[derive(Debug, Clone, Copy, Default)]
pub struct LineStats {
    /// Characters.
    pub chars: u32,
    /// Words (whitespace-separated tokens with a letter or digit).
    pub words: u32,
    /// Ends like a sentence.
    pub terminal: bool,
    /// Has a letter or digit.
    pub content: bool,
    ends_colon: bool,
    label_value: bool,
    list_marker: bool,
    separators: bool,
    stop_share: f32,
    cap_share: f32,
    all_caps: bool,
    digit_share: f32,
    year_or_time: bool,
    currency: bool,
    url_like: bool,
    commas: u32,
    starts_lower: bool,
    ellipsis: bool,
    legal_sign: bool,
    symbol_share: f32,
    lex_mean: f32,
    lex_max: f32,
    lex_min: f32,
}

/// Frequent function words of English, German, French, Spanish, Italian, Dutch and
/// Portuguese: prose has many, menus and labels few.
fn is_stop_word(w: &[u8]) -> bool {
    matches!(
        w,
        b"the"
            | b"a"
            | b"an"
            | b"of"
            | b"and"
            | b"to"
            | b"in"
            | b"is"
            | b"that"
            | b"it"
            | b"was"
            | b"for"
            | b"on"
            | b"are"
            | b"with"
            | b"as"
            | b"be"
            | b"this"
            | b"have"
            | b"from"
            | b"at"
            | b"by"
            | b"or"
            | b"but"
            | b"not"
            | b"they"
            | b"we"
            | b"he"
            | b"she"
            | b"you"
            | b"has"
            | b"had"
            | b"were"
            | b"which"
            | b"their"
            | b"its"
            | b"der"
            | b"die"
            | b"das"
            | b"und"
            | b"ist"
            | b"nicht"
            | b"mit"
            | b"den"
            | b"ein"
            | b"eine"
            | b"zu"
            | b"von"
            | b"sich"
            | b"le"
            | b"la"
            | b"les"
            | b"et"
            | b"des"
            | b"est"
            | b"une"
            | b"du"
            | b"que"
            | b"qui"
            | b"pour"
            | b"dans"
            | b"el"
            | b"los"
            | b"las"
            | b"y"
            | b"en"
            | b"es"
            | b"del"
            | b"por"
            | b"con"
            | b"il"
            | b"di"
            | b"che"
            | b"per"
            | b"non"
            | b"het"
            | b"een"
            | b"van"
            | b"ik"
            | b"niet"
            | b"o"
            | b"os"
            | b"da"
            | b"do"
            | b"um"
            | b"uma"
            | b"para"
            | b"se"
    )
}

/// True when the line ends like a sentence: `.`, `!`, `?` (or their CJK forms), possibly
/// followed by closing quotes or brackets; an ellipsis does not count.
pub fn ends_like_sentence(t: &str) -> bool {
    let core = t.trim_end_matches(['"', '\'', '”', '’', ')', ']', '»', '*']);
    if core.ends_with("...") || core.ends_with('…') {
        return false;
    }
    core.ends_with(['.', '!', '?', '。', '！', '？'])
}

impl LineStats {
    /// Measures one line (without its terminator).
    pub fn of(line: &str) -> LineStats {
        let t = line.trim();
        let mut s = LineStats::default();
        if t.is_empty() {
            return s;
        }
        let (mut letters, mut upper, mut digits, mut symbols) = (0u32, 0u32, 0u32, 0u32);
        for c in t.chars() {
            s.chars += 1;
            if c.is_alphabetic() {
                letters += 1;
                if c.is_uppercase() {
                    upper += 1;
                }
            } else if c.is_numeric() {
                digits += 1;
            } else if !c.is_whitespace() {
                symbols += 1;
                match c {
                    ',' => s.commas += 1,
                    '|' | '»' | '›' | '•' | '·' | '>' | '/' => s.separators = true,
                    '$' | '€' | '£' | '¥' => s.currency = true,
                    '©' | '®' | '™' => s.legal_sign = true,
                    _ => {}
                }
            }
        }
        s.content = letters + digits > 0;
        if !s.content {
            return s;
        }
        let (mut stops, mut caps, mut alpha_words) = (0u32, 0u32, 0u32);
        let mut buf = [0u8; 8];
        for w in t.split_whitespace() {
            if !w.chars().any(char::is_alphanumeric) {
                continue;
            }
            s.words += 1;
            if w.contains("www.") || w.contains("://") || w.contains('@') || w.ends_with(".com") {
                s.url_like = true;
            }
            let first = w.chars().find(|c| c.is_alphanumeric());
            if let Some(f) = first {
                if f.is_alphabetic() {
                    alpha_words += 1;
                    if f.is_uppercase() {
                        caps += 1;
                    }
                }
            }
            // Stop words: ASCII letters only, lower-cased, punctuation around them trimmed.
            let core = w.trim_matches(|c: char| !c.is_alphanumeric()).as_bytes();
            if core.len() <= buf.len() && core.iter().all(u8::is_ascii_alphabetic) {
                for (b, c) in buf.iter_mut().zip(core) {
                    *b = c.to_ascii_lowercase();
                }
                if is_stop_word(&buf[..core.len()]) {
                    stops += 1;
                }
            }
        }
        let words = s.words.max(1) as f32;
        s.stop_share = stops as f32 / words;
        s.cap_share = caps as f32 / alpha_words.max(1) as f32;
        s.all_caps = letters >= 3 && upper == letters;
        s.digit_share = digits as f32 / s.chars as f32;
        s.symbol_share = symbols as f32 / s.chars as f32;
        s.terminal = ends_like_sentence(t);
        s.ends_colon = t.ends_with([':', '：']);
        s.ellipsis = t.ends_with("...") || t.ends_with('…');
        s.starts_lower = t.chars().next().is_some_and(char::is_lowercase);
        let b = t.as_bytes();
        s.list_marker = matches!(b[0], b'-' | b'*' | b'>' | b'+')
            || t.starts_with(['•', '·', '»', '›', '–', '—', '|'])
            || (b[0].is_ascii_digit()
                && b.iter()
                    .find(|c| !c.is_ascii_digit())
                    .is_some_and(|&c| c == b'.' || c == b')'));
        if let Some(colon) = t.find([':', '：']) {
            let head = &t[..colon];
            let head_words = head.split_whitespace().count();
            s.label_value = (1..=3).contains(&head_words)
                && head.chars().any(char::is_alphabetic)
                && t[colon..].chars().any(char::is_alphanumeric);
        }
        s.year_or_time = has_year_or_time(b);
        s
    }
}

/// A four-digit year 1900-2099 standing alone, or a time `h:mm`.
fn has_year_or_time(b: &[u8]) -> bool {
    let n = b.len();
    let mut i = 0;
    while i < n {
        if !b[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let s = i;
        while i < n && b[i].is_ascii_digit() {
            i += 1;
        }
        let run = &b[s..i];
        if run.len() == 4 && (run.starts_with(b"19") || run.starts_with(b"20")) {
            return true;
        }
        if run.len() <= 2 && i + 2 < n && b[i] == b':' && b[i + 1].is_ascii_digit() {
            return true;
        }
    }
    false
}

/// The units of a text (lines with content) with their shapes and where they sit: what the
/// features of a line are computed from.
pub struct Doc<'a> {
    /// Every line of the text.
    pub lines: &'a [Line],
    /// Indexes into `lines` of the lines with a letter or digit.
    pub units: Vec<usize>,
    /// Bytes of each unit's line.
    bytes: Vec<u32>,
    /// Prose mass (bytes of long lines) before each unit, and the total.
    mass_before: Vec<u64>,
    total_mass: u64,
    /// Long lines before each unit.
    long_before: Vec<u32>,
    total_long: u32,
    text_len: usize,
    /// Stats of units, computed on demand.
    stats: Vec<Option<LineStats>>,
    /// Word weights for the lexical features (none: those features are 0).
    vocab: Option<&'a WordWeights>,
}

impl<'a> Doc<'a> {
    /// Indexes the lines of `text` (cheap: no per-character work).
    pub fn new(text: &str, lines: &'a [Line]) -> Doc<'a> {
        let mut units = Vec::new();
        let mut bytes = Vec::new();
        let mut mass_before = Vec::new();
        let mut long_before = Vec::new();
        let (mut mass, mut long) = (0u64, 0u32);
        for (i, l) in lines.iter().enumerate() {
            let t = &text.as_bytes()[l.start..l.end];
            // A unit has a letter or digit; ASCII alphanumerics decide quickly, anything
            // non-ASCII is checked by chars.
            let content = t.iter().any(u8::is_ascii_alphanumeric)
                || (!t.is_ascii() && text[l.start..l.end].chars().any(char::is_alphanumeric));
            if !content {
                continue;
            }
            units.push(i);
            bytes.push(t.len() as u32);
            mass_before.push(mass);
            long_before.push(long);
            if t.len() >= PROSE_LINE_BYTES {
                mass += t.len() as u64;
                long += 1;
            }
        }
        let n = units.len();
        Doc {
            lines,
            units,
            bytes,
            mass_before,
            total_mass: mass,
            long_before,
            total_long: long,
            text_len: text.len(),
            stats: vec![None; n],
            vocab: None,
        }
    }

    /// Computes the lexical features with `vocab`.
    pub fn with_vocab(mut self, vocab: &'a WordWeights) -> Doc<'a> {
        self.vocab = Some(vocab);
        self
    }

    /// Whether the text has a long line (of prose, or at least not of a menu): without one it
    /// is not a body with chrome around it.
    pub fn has_long_line(&self) -> bool {
        self.total_long > 0
    }

    /// Stats of unit `u`.
    pub fn stats(&mut self, text: &str, u: usize) -> LineStats {
        if let Some(s) = self.stats[u] {
            return s;
        }
        let l = &self.lines[self.units[u]];
        let line = &text[l.start..l.end];
        let mut s = LineStats::of(line);
        if let Some(v) = self.vocab {
            (s.lex_mean, s.lex_max, s.lex_min) = lex_stats(line, v);
        }
        self.stats[u] = Some(s);
        s
    }

    /// The features of unit `u` as seen from the start (`trailing` false) or the end.
    pub fn features(&mut self, text: &str, u: usize, trailing: bool) -> [f32; N_FEATURES] {
        let n = self.units.len();
        let s = self.stats(text, u);
        let near = |k: isize, this: &mut Self| -> Option<LineStats> {
            let j = u as isize + k;
            (0..n as isize)
                .contains(&j)
                .then(|| this.stats(text, j as usize))
        };
        // "Toward" the edge being cut, and "away" from it.
        let (dt, da) = if trailing { (1, -1) } else { (-1, 1) };
        let toward = near(dt, self);
        let away = near(da, self);
        let (mut wshort, mut wterm, mut wn) = (0.0f32, 0.0f32, 0.0f32);
        for k in -3..=3isize {
            if let Some(x) = near(k, self) {
                wn += 1.0;
                wshort += f32::from(u8::from(x.words <= 3));
                wterm += f32::from(u8::from(x.terminal));
            }
        }
        let ctx = |x: Option<LineStats>| match x {
            Some(x) => [ln1p(x.words), b(x.terminal), b(x.words <= 3), x.lex_mean],
            None => [0.0, 0.0, 0.0, 0.0],
        };
        let t = ctx(toward);
        let a = ctx(away);
        let l = &self.lines[self.units[u]];
        let this_long = self.bytes[u] as usize >= PROSE_LINE_BYTES;
        let (units_from_edge, mass_from_edge, long_from_edge, bytes_from_edge) = if trailing {
            let after_mass = self.total_mass
                - self.mass_before[u]
                - if this_long { self.bytes[u] as u64 } else { 0 };
            let after_long = self.total_long - self.long_before[u] - u32::from(this_long);
            (n - 1 - u, after_mass, after_long, self.text_len - l.next)
        } else {
            (u, self.mass_before[u], self.long_before[u], l.start)
        };
        let short = s.words <= 3;
        // The run of short lines this line is in (a menu), and how far the nearest long line
        // is on each side (a title sits just before its article).
        let mut run = 0u32;
        if short {
            run = 1;
            for d in [-1isize, 1] {
                let mut j = u as isize + d;
                let mut k = 0;
                while k < REACH && (0..n as isize).contains(&j) {
                    if self.stats(text, j as usize).words > 3 {
                        break;
                    }
                    run += 1;
                    k += 1;
                    j += d;
                }
            }
        }
        let long_at = |j: isize| self.bytes[j as usize] as usize >= PROSE_LINE_BYTES;
        let dist = |d: isize| {
            let mut j = u as isize + d;
            let mut k = 1u32;
            while (k as usize) <= REACH && (0..n as isize).contains(&j) {
                if long_at(j) {
                    return k;
                }
                k += 1;
                j += d;
            }
            REACH as u32 + 1
        };
        let (to_away, to_toward) = (dist(da), dist(dt));
        [
            ln1p(s.chars),
            ln1p(s.words),
            b(short),
            b(s.words >= 8),
            b(s.terminal),
            b(s.ends_colon),
            b(s.label_value),
            b(s.list_marker),
            b(s.separators),
            s.stop_share,
            s.cap_share,
            b(s.all_caps),
            s.digit_share,
            b(s.year_or_time),
            b(s.currency),
            b(s.url_like),
            s.commas as f32 / s.words.max(1) as f32,
            b(s.starts_lower),
            b(s.ellipsis),
            b(s.legal_sign),
            s.symbol_share,
            t[0],
            t[1],
            t[2],
            a[0],
            a[1],
            a[2],
            wshort / wn.max(1.0),
            wterm / wn.max(1.0),
            ln1p(units_from_edge as u32),
            mass_from_edge as f32 / self.total_mass.max(1) as f32,
            ln1p(long_from_edge),
            bytes_from_edge as f32 / self.text_len.max(1) as f32,
            b(trailing),
            b(trailing && short),
            b(trailing && s.terminal),
            b(long_from_edge == 0),
            ((self.bytes[u] as f32 + 1.0) / (self.text_len as f32 + 1.0)).ln(),
            ln1p(run),
            ln1p(to_away),
            ln1p(to_toward),
            s.lex_mean,
            s.lex_max,
            s.lex_min,
            t[3],
            a[3],
        ]
    }
}

fn ln1p(x: u32) -> f32 {
    (x as f32).ln_1p()
}

fn b(x: bool) -> f32 {
    f32::from(u8::from(x))
}

/// Where a scan from one edge should cut: the number of units from the edge whose summed
/// `score(k) - threshold` is highest (0 when no prefix sums above zero). `score(k)` is the
/// log-odds of the `k`-th unit from the edge, or `None` for a unit that must not be removed
/// (it ends the scan). The scan also ends once the running sum has fallen `stop_margin` below
/// its best: past that, no later lines could make up for the prose in between.
pub fn best_cut(n: usize, stop_margin: f32, mut score: impl FnMut(usize) -> Option<f32>) -> usize {
    let (mut sum, mut best, mut cut) = (0.0f32, 0.0f32, 0usize);
    for k in 0..n {
        let Some(s) = score(k) else { break };
        sum += s;
        if sum > best {
            best = sum;
            cut = k + 1;
        } else if sum < best - stop_margin {
            break;
        }
    }
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_shapes() {
        let s = LineStats::of("Our Price: $9.65");
        assert!(s.label_value && s.currency && s.words == 3);
        let s = LineStats::of("The cat sat on the mat, and it was happy.");
        assert!(s.terminal && s.stop_share > 0.3);
        assert!(LineStats::of("- Jun 19, 2011").list_marker);
        assert!(LineStats::of("Posted 10:24 AM").year_or_time);
        assert!(!LineStats::of("  --- ").content);
    }

    #[test]
    fn words_are_lower_cased_runs_without_numbers() {
        let mut buf = String::new();
        let mut got = Vec::new();
        for_each_word("Leave a Comment (12) | Über-Blog 2012", &mut buf, |w| {
            got.push(w.to_string())
        });
        assert_eq!(got, ["leave", "comment", "über", "blog"]);
        let vocab: Vocab = [("comment".to_string(), 2.0), ("leave".to_string(), -1.0)]
            .into_iter()
            .collect();
        let words = WordWeights::from(&vocab);
        assert_eq!(lex_stats("Leave a Comment", &words), (0.5, 2.0, -1.0));
        assert_eq!(lex_stats("nothing known here", &words), (0.0, 0.0, 0.0));
    }

    #[test]
    fn best_cut_takes_the_best_prefix() {
        let s = [2.0, 1.0, -0.5, 3.0, -5.0, -5.0, 12.0];
        assert_eq!(best_cut(s.len(), 8.0, |k| Some(s[k])), 4);
        // A wider margin reaches the last line, worth crossing the two bad ones for.
        assert_eq!(best_cut(s.len(), 20.0, |k| Some(s[k])), 7);
        assert_eq!(best_cut(s.len(), 20.0, |k| (k < 2).then_some(s[k])), 2);
        assert_eq!(best_cut(0, 1.0, |_| Some(1.0)), 0);
    }

    #[test]
    fn builtin_model_fits() {
        ChromeModel::builtin().check().unwrap();
    }
}
