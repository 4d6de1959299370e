//! The normaliser against its reference definition (`normalize_slow`), with each wide step
//! this processor has: AVX-512 and AVX2, and the general loop alone on the last bytes.

use super::*;

thread_local! {
    /// Set to run the AVX2 step alone on a processor that also has AVX-512.
    pub(super) static NO_AVX512: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f` with each wide step this processor has: AVX-512 (if any), then AVX2 alone.
fn each_width(mut f: impl FnMut()) {
    #[cfg(target_arch = "x86_64")]
    {
        let (avx2, avx512) = wide_steps();
        if !avx512 {
            eprintln!("no AVX-512 VBMI2 here: its normaliser step is not tested");
        }
        if !avx2 {
            eprintln!("no AVX2 here: its normaliser step is not tested");
        }
        // A failed case (caught by proptest, which then shrinks) may have left it set.
        NO_AVX512.with(|c| c.set(false));
        if avx512 {
            f();
        }
        NO_AVX512.with(|c| c.set(true));
        f();
        NO_AVX512.with(|c| c.set(false));
    }
    #[cfg(not(target_arch = "x86_64"))]
    f();
}

#[test]
fn fast_and_slow_normalisation_agree() {
    each_width(|| {
        let mut a = String::new();
        let mut b = String::new();
        for t in [
            "  Hello\t\x0bWORLD \r\n x ",
            "",
            "   ",
            "a\x1cb",
            "MiXeD  case\n\nText.",
            "a\0b \0",
            " \u{3000}İstanbul\u{2028}ΣΑΣ  ß\u{a0}\u{a0}x\u{85}",
            "“Quoted” — CAFÉ\tnaïve\u{1F600}END ",
            "\u{2029}",
        ] {
            normalize_for_exact(t, &mut a);
            normalize_slow(t, &mut b);
            assert_eq!(a, b, "{t:?}");
            let mut bytes = Vec::new();
            normalize_bytes(t, &mut bytes);
            assert_eq!(bytes, b.as_bytes(), "{t:?}");
        }
        normalize_for_exact("Ünïcode  ÉTÉ\u{a0}x", &mut a);
        assert_eq!(a, "ünïcode été x");
    });
}

#[test]
fn broken_characters_are_refused_by_the_decoder() {
    // Overlong, surrogate, too high, cut short.
    for bad in [
        &b"\xc0\x80"[..],
        b"\xe0\x80\x80",
        b"\xed\xa0\x80",
        b"\xf4\x90\x80\x80",
        b"\xe2\x82",
    ] {
        assert_eq!(decode_char(bad), None, "{bad:?}");
    }
    for c in [
        '\u{80}',
        '\u{7ff}',
        '\u{800}',
        '\u{ffff}',
        '\u{10000}',
        '\u{10ffff}',
    ] {
        let mut b = [0u8; 4];
        let s = c.encode_utf8(&mut b);
        assert_eq!(decode_char(s.as_bytes()), Some((c, s.len())));
    }
}

/// Pieces that stress each branch: whitespace runs of both kinds at the edges and in the
/// middle, case, characters whose lower case is longer.
const MIXED: &[&str] = &[
    " ",
    "\t",
    "\n\r",
    "\u{b}",
    "\u{a0}",
    "\u{3000}",
    "\u{2028}",
    "A",
    "b",
    "Z9",
    "İ",
    "ẞ",
    "Σ",
    "é",
    "😀",
    "\0",
    "x",
    "WORD",
    "ﬃ",
    "\u{85}",
    "hello world ",
    "The Quick  Brown\tFox",
    "@[`{AZaz09\u{7f}\u{1}",
    "abcdefghijklmnop",
    "ПРИВЕТ",
    "мир",
    "ЁжЂђѐЏџ",
];

/// The byte path gives the reference's bytes for `t`, with each wide step.
fn assert_agrees(t: &str) {
    each_width(|| {
        let (mut reference, mut bytes) = (String::new(), Vec::new());
        normalize_slow(t, &mut reference);
        normalize_bytes(t, &mut bytes);
        assert_eq!(bytes, reference.as_bytes(), "{t:?}");
    });
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3_000))]

    #[test]
    fn byte_path_equals_reference_on_mixed_strings(
        pieces in proptest::collection::vec(proptest::sample::select(MIXED), 0..64)
    ) {
        assert_agrees(&pieces.concat());
    }
}

/// Every ASCII byte at every position of an 8-byte word, after a space or not.
#[test]
fn byte_path_equals_reference_on_ascii_at_every_offset() {
    each_width(|| {
        let (mut reference, mut bytes) = (String::new(), Vec::new());
        for c in 0u8..128 {
            for pad in 0..17 {
                for lead in ["", " ", "x"] {
                    let t = format!("{lead}{}{}ABCDEFGHIJKLMNOPQ", "a".repeat(pad), c as char);
                    normalize_slow(&t, &mut reference);
                    normalize_bytes(&t, &mut bytes);
                    assert_eq!(bytes, reference.as_bytes(), "{t:?}");
                }
            }
        }
    });
}

/// Pieces of long texts (the 32-byte step needs 33 bytes): whitespace runs, escapes and
/// look-alikes (a backslash before `n`, `\\` pairs, quotes), so that runs and escapes cross
/// the 32-byte blocks at each offset.
const WIDE: &[&str] = &[
    " ",
    "  ",
    "\n",
    "\n    ",
    "\t\t",
    "\r\n",
    "\u{c}",
    "\\",
    "\\n",
    "\\\\n",
    "\"",
    "/",
    "\\\"",
    "a",
    "Bc",
    "word ",
    "XYZ",
    "é",
    "\u{a0}",
    "\u{8}",
    "\u{b}",
    "Ω",
    "’",
    "                                  ",
    "ü",
    "Ü",
    "ß",
    "×",
    "ÿ",
    "\u{ad}",
    "\u{85}",
    "п",
    "П",
    "ѐ",
    "Ѡ",
    "ѡ",
    "\u{2000}",
    "\u{200b}",
    "—",
    "“",
    "\u{2028}",
    "\u{202f}",
    "‰",
    "\u{2040}",
    "€",
];

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(20_000))]

    /// Long texts (see [`WIDE`]) at every alignment: a run of 0-39 `p` bytes, then pieces.
    #[test]
    fn wide_steps_agree_with_the_reference_at_every_alignment(
        pad in 0..40usize,
        pieces in proptest::collection::vec(proptest::sample::select(WIDE), 0..60),
    ) {
        assert_agrees(&("p".repeat(pad) + &pieces.concat()));
    }
}

/// Each character of the ranges the 32-byte step copies (and their neighbours) at every
/// offset of a block, including cut by the block's end.
#[test]
fn wide_steps_place_non_ascii_characters_anywhere() {
    each_width(|| {
        let (mut reference, mut bytes) = (String::new(), Vec::new());
        // The caseless three-byte ranges sampled (every 97th character) with their edges.
        let sampled = (0x2400u32..0xD800)
            .filter(|c| c % 97 == 0)
            .chain([
                0x24FF, 0x2500, 0x27FF, 0x2800, 0x2FFF, 0x3000, 0x3001, 0x9FFF, 0xA000,
            ])
            .chain([
                0xABFF, 0xAC00, 0xAFFF, 0xB000, 0xCFFF, 0xD000, 0xD7A3, 0xD7FF, 0xE000,
            ]);
        let chars = (0x80u32..0x500)
            .chain(0x2000..0x2070)
            .chain(sampled)
            .filter_map(char::from_u32);
        for c in chars {
            for offset in 0..36 {
                let t = format!(
                    "{}{c}{c} Tail of the text, long enough.",
                    "a".repeat(offset)
                );
                normalize_slow(&t, &mut reference);
                normalize_bytes(&t, &mut bytes);
                assert_eq!(bytes, reference.as_bytes(), "{t:?}");
            }
        }
    });
}

#[test]
fn caseless_ranges_have_no_case_and_no_whitespace() {
    let (mut reference, mut bytes) = (String::new(), Vec::new());
    let ranges = [0x2500..0x2800, 0x3001..0xA4D0, 0xAC00..0xD7A4];
    for c in ranges.into_iter().flatten().filter_map(char::from_u32) {
        assert!(!c.is_whitespace() && c.to_lowercase().eq([c]), "{c:?}");
        let t = format!("Ab {c}{c}");
        normalize_slow(&t, &mut reference);
        normalize_bytes(&t, &mut bytes);
        assert_eq!(bytes, reference.as_bytes(), "{t:?}");
    }
}

#[test]
fn every_character_below_u3100_normalises_as_the_reference() {
    each_width(|| {
        let (mut reference, mut bytes) = (String::new(), Vec::new());
        // A buffer that keeps its (longer) length between texts, as the hashing does.
        let mut reused = vec![b'#'; 64];
        for c in (0u32..0x3100).filter_map(char::from_u32) {
            for t in [
                format!("{c}"),
                format!("aB {c}  x"),
                format!("0123456789abcdef{c}{c} tail of the text"),
                format!("0123456789abcde {c}0123456789ABCDEF"),
            ] {
                normalize_slow(&t, &mut reference);
                normalize_bytes(&t, &mut bytes);
                assert_eq!(bytes, reference.as_bytes(), "{t:?}");
                let n = normalize_into(&t, &mut reused);
                assert_eq!(&reused[..n], reference.as_bytes(), "{t:?}");
            }
        }
    });
}

#[test]
fn long_whitespace_runs_are_skipped() {
    each_width(|| {
        let (mut reference, mut bytes) = (String::new(), Vec::new());
        for run in [1, 2, 15, 16, 17, 31, 32, 33, 100, 1000] {
            for ws in [" ", "\t", "\n", " \r\n", "\u{a0}"] {
                for lead in ["", "a", "abcdefghijklmnopq"] {
                    let t = format!("{lead}{}End{}", ws.repeat(run), ws.repeat(run));
                    normalize_slow(&t, &mut reference);
                    normalize_bytes(&t, &mut bytes);
                    assert_eq!(bytes, reference.as_bytes(), "{t:?}");
                }
            }
        }
    });
}
