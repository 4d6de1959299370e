#!/usr/bin/env python3
"""Generate crates/thresher-text/src/spacy_en/tables.rs from spaCy's English tokenizer rule data.

    /work/venv-peers/bin/python scripts/gen_spacy_en_tables.py > crates/thresher-text/src/spacy_en/tables.rs

Every character class is measured, not transcribed: each class is found by running spaCy's own compiled
prefix/suffix/infix/URL regexes on every code point, so the Rust tables are exactly the sets Python's `re`
matches. The special cases (tokenizer exceptions) and the special-case matcher patterns are read from the
live tokenizer. The output is data only; the algorithm lives in the Rust code.
"""
import re
import sys

import spacy
from spacy.lang import char_classes as cc
from spacy.lang.tokenizer_exceptions import URL_PATTERN

nlp = spacy.blank("en")
tok = nlp.tokenizer
D = nlp.Defaults
assert spacy.__version__ == "3.8.18", spacy.__version__

ALL = [chr(c) for c in range(0x110000) if not (0xD800 <= c <= 0xDFFF)]


def ranges(chars):
    cps = sorted(ord(c) for c in chars)
    out = []
    for cp in cps:
        if out and out[-1][1] + 1 == cp:
            out[-1][1] = cp
        else:
            out.append([cp, cp])
    return out


def rust_str(s):
    out = []
    for ch in s:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch.isprintable() and not ch.isspace() and ord(ch) < 0x10000 and not (0x300 <= ord(ch) < 0x370):
            out.append(ch)
        else:
            out.append("\\u{%x}" % ord(ch))
    return '"' + "".join(out) + '"'


prefix_re = re.compile("|".join("^" + p for p in D.prefixes if p.strip()))
suffix_re = re.compile("|".join(p + "$" for p in D.suffixes if p.strip()))
infix_list = [p for p in D.infixes if p.strip()]
url_re = re.compile("(?u)" + URL_PATTERN)
assert tok.prefix_search.__self__.pattern == prefix_re.pattern
assert tok.suffix_search.__self__.pattern == suffix_re.pattern
assert tok.infix_finditer.__self__.pattern == "|".join(infix_list)
assert tok.url_match.__self__.pattern == url_re.pattern
assert tok.token_match is None

classes = {}
# Python's str.isspace(): the chunk boundaries of Tokenizer._tokenize_affixes.
classes["WS"] = [c for c in ALL if c.isspace()]
# Single-character prefixes ('+' is contextual, '.' only as a run of dots).
pre1 = []
for c in ALL:
    m = prefix_re.search(c + "\x00")
    if m and m.end() == 1 and c != "+":
        pre1.append(c)
classes["PREFIX_CHAR"] = pre1
# Single-character suffixes that need no context.
suf1 = []
for c in ALL:
    m = suffix_re.search("\x00" + c)
    if m and m.span() == (1, 2):
        suf1.append(c)
classes["SUFFIX_CHAR"] = suf1
suf_tail = [p for p in D.suffixes if p.strip()][-6:]
assert suf_tail[0] == r"(?<=[0-9])\+" and suf_tail[1] == r"(?<=°[FfCcKk])\."
dot_lb = re.compile(suf_tail[4] + "$")
classes["SUFFIX_DOT_BEFORE"] = [c for c in ALL if dot_lb.search(c + ".")]
up2 = re.compile(suf_tail[5] + "$")
classes["SUFFIX_UPPER"] = [c for c in ALL if up2.search(c + c + ".")]
icons = re.compile(cc.LIST_ICONS[0])
classes["ICON"] = [c for c in ALL if icons.fullmatch(c)]
# Infixes.
inf_dot = re.compile(infix_list[4])
assert inf_dot.pattern.startswith("(?<=[") and "\\.(?=[" in inf_dot.pattern
classes["INFIX_DOT_BEFORE"] = [c for c in ALL if (m := inf_dot.search(c + ".A")) and m.start() == 1]
classes["INFIX_DOT_AFTER"] = [c for c in ALL if (m := inf_dot.search("a." + c)) and m.start() == 1]
inf_comma = re.compile(infix_list[5])
a_before = [c for c in ALL if (m := inf_comma.search(c + ",a")) and m.start() == 1]
a_after = [c for c in ALL if (m := inf_comma.search("a," + c)) and m.start() == 1]
assert a_before == a_after
classes["ALPHA"] = a_before
inf_hyph = re.compile(infix_list[6])
inf_sym = re.compile(infix_list[7])
digits = [str(i) for i in range(10)]
for pat, sep in ((inf_hyph, "-"), (inf_sym, ":")):
    before = [c for c in ALL if (m := pat.search(c + sep + "a")) and m.start() == 1]
    after = [c for c in ALL if (m := pat.search("a" + sep + c)) and m.start() == 1]
    assert sorted(before) == sorted(a_before + digits), pat.pattern[:40]
    assert after == a_before
# URL_MATCH pieces.
classes["TLD"] = [c for c in ALL if re.fullmatch("[" + cc.ALPHA_LOWER + "]", c)]
classes["URL_WORD"] = [c for c in ALL if re.fullmatch(r"(?u)\w", c)]
classes["URL_DIGIT"] = [c for c in ALL if re.fullmatch(r"(?u)\d", c)]

# Multi-character affix data.
units = [u for u in cc.LIST_UNITS if u]
currency = [c.replace("\\", "") for c in cc.LIST_CURRENCY if c]
for u in units:
    assert suffix_re.search("1" + u).start() == 1 or suffix_re.search("1" + u).start() > 1, u
# Sanity checks of the structure the Rust code assumes.
assert prefix_re.search("US$x").end() == 3 and prefix_re.search("C$x").end() == 2 and prefix_re.search("A$x").end() == 2
assert prefix_re.search("....x").end() == 4 and prefix_re.search("……").end() == 1
assert prefix_re.search("+1") is None and prefix_re.search("+a").end() == 1

# Special cases and the special-case matcher patterns.
plain = spacy.tokenizer.Tokenizer(nlp.vocab, None, tok.prefix_search, tok.suffix_search, tok.infix_finditer, None, tok.url_match)
specials = []
patterns = []
for key in sorted(tok.rules):
    pieces = [d[65] if 65 in d else d["ORTH"] for d in tok.rules[key]]
    pieces = [nlp.vocab.strings[p] if isinstance(p, int) else p for p in pieces]
    assert "".join(pieces) == key
    specials.append((key, pieces))
    if tok.find_prefix(key) or tok.find_infix(key) or tok.find_suffix(key) or " " in key:
        toks = [t.text for t in plain(key)]
        if any(t.isspace() for t in toks):
            continue  # only the " " rule: it rewrites a space token into itself
        patterns.append((key, toks))

w = sys.stdout.write
w("// @generated by scripts/gen_spacy_en_tables.py from spaCy 3.8.18 (MIT licence) English tokenizer data.\n")
w("// Do not edit by hand. Character classes are sets measured by running spaCy's compiled regexes on every\n")
w("// code point; see the script for how each one is defined.\n\n")
w("#![allow(clippy::unreadable_literal)]\n\n")
for name, chars in classes.items():
    rs = ranges(chars)
    w(f"/// Inclusive code point ranges of class `{name}` ({len(chars)} code points).\n")
    w(f"pub(crate) static {name}: &[(u32, u32)] = &[\n")
    for a, b in rs:
        w(f"    (0x{a:X}, 0x{b:X}),\n")
    w("];\n\n")
# Latin-1 flags table for the fast path.
names = list(classes)
w("/// Bit positions of the classes in [`LATIN1_FLAGS`].\n")
for i, name in enumerate(names):
    w(f"pub(crate) const F_{name}: u16 = 1 << {i};\n")
w("\n/// Class flags of the first 256 code points (ASCII and Latin-1), for the fast path.\n")
w("pub(crate) static LATIN1_FLAGS: [u16; 256] = [\n")
sets = {n: set(classes[n]) for n in names}
for cp in range(256):
    flags = [f"F_{n}" for n in names if chr(cp) in sets[n]]
    w(f"    {' | '.join(flags) if flags else '0'},\n")
w("];\n\n")
w("/// Units split off after a digit (`10km` -> `10`, `km`), longest first is not needed: the whole tail must match.\n")
w("pub(crate) static UNITS: &[&str] = &[" + ", ".join(rust_str(u) for u in units) + "];\n\n")
w("/// Currency symbols split off after a digit.\n")
w("pub(crate) static CURRENCY: &[&str] = &[" + ", ".join(rust_str(c) for c in currency) + "];\n\n")
w("/// Tokenizer exceptions: the string and the byte lengths of its tokens.\n")
w("pub(crate) static SPECIALS: &[(&str, &[u8])] = &[\n")
for key, pieces in specials:
    w(f"    ({rust_str(key)}, &[{', '.join(str(len(p.encode())) for p in pieces)}]),\n")
w("];\n\n")
w("/// Special-case matcher patterns: a special string whose plain (affix-split) tokens these are is\n")
w("/// re-merged when it appears as exactly this token sequence.\n")
w("pub(crate) static MATCHER_PATTERNS: &[&[&str]] = &[\n")
for key, toks in patterns:
    w("    &[" + ", ".join(rust_str(t) for t in toks) + "],\n")
w("];\n")
