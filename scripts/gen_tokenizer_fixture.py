#!/usr/bin/env python3
"""Expected word tokens for thresher-text's spaCy-compatible English tokenizer.

Run with the datatrove peer venv (datatrove 0.10.1 + spacy 3.8.18, see ../shared/tools/setup-peers.sh):

    /work/venv-peers/bin/python scripts/gen_tokenizer_fixture.py docs    [DOCS_JSONL_GZ] [OUT_TSV]
    /work/venv-peers/bin/python scripts/gen_tokenizer_fixture.py snippets [SNIPPETS_TXT] [OUT_JSONL]
    /work/venv-peers/bin/python scripts/gen_tokenizer_fixture.py random [N] [SEED] [OUT_JSONL]
    /work/venv-peers/bin/python scripts/gen_tokenizer_fixture.py random-url [N] [SEED]
    /work/venv-peers/bin/python scripts/gen_tokenizer_fixture.py random-classes [N] [SEED]
    /work/venv-peers/bin/python scripts/gen_tokenizer_fixture.py show INDEX [DOCS_JSONL_GZ]

`docs`: tokenizes every reference document with datatrove's own `split_into_words` (English), and
writes one line per document: `index<TAB>id<TAB>token_count<TAB>xxh3_64(tokens joined by "\\n")`.
Only counts and hashes are stored because the reference documents are not all permissively licensed.

`snippets`: reads hand-written snippets (one per line; `\\n`, `\\t` and `\\uXXXX` escapes are decoded
with Python's unicode_escape rules) and writes a readable JSONL golden file {"text":..., "tokens":[...]}.

`random`: seeded random concatenations of rule-triggering pieces (a differential test of every rule
interaction), written in the same JSONL form.
"""
import gzip
import json
import sys
import warnings

import xxhash
from datatrove.utils.text import split_into_words


def words(text: str) -> list[str]:
    # split_into_parts is lru_cached on the text; that is harmless here.
    return split_into_words(text)


def docs(src: str, out: str) -> None:
    n = 0
    with gzip.open(src, "rt", encoding="utf-8") as f, open(out, "w", encoding="utf-8") as w:
        w.write("# index\tid\ttoken_count\txxh3_64_hex of tokens joined by \\n (datatrove 0.10.1 split_into_words, spacy 3.8.18)\n")
        for i, line in enumerate(f):
            doc = json.loads(line)
            toks = words(doc["text"])
            joined = "\n".join(toks).encode("utf-8", "surrogatepass")
            w.write(f"{i}\t{doc['id']}\t{len(toks)}\t{xxhash.xxh3_64_hexdigest(joined)}\n")
            n += 1
    print(f"wrote {n} docs to {out}", file=sys.stderr)


def readable_json(obj) -> str:
    """JSON with non-ASCII text kept readable, but invisible characters and non-space whitespace escaped."""
    out = []
    for ch in json.dumps(obj, ensure_ascii=False):
        if (ch.isspace() and ch != " ") or not ch.isprintable():
            out.append("\\u%04x" % ord(ch) if ord(ch) < 0x10000 else ch)
        else:
            out.append(ch)
    return "".join(out)


def snippets(src: str, out: str) -> None:
    warnings.simplefilter("ignore", DeprecationWarning)  # "invalid escape sequence" for kept escapes
    n = 0
    with open(src, encoding="utf-8") as f, open(out, "w", encoding="utf-8") as w:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            # Decode escapes without mangling non-ASCII characters already in the line (unknown
            # escapes such as "\\_" are kept as they are).
            text = line.encode("latin-1", "backslashreplace").decode("unicode_escape") if "\\" in line else line
            w.write(readable_json({"text": text, "tokens": words(text)}) + "\n")
            n += 1
    print(f"wrote {n} snippets to {out}", file=sys.stderr)


# Pieces for random differential cases: rule-triggering fragments written for this test, plus a
# seeded sample of spaCy's own special-case strings (rule data).
RANDOM_PIECES = list("abcxyzABCXYZ0123456789.,:;!?()[]{}'\"-/+*^$%&#@_~<>=|\\`") + [
    "…", "—", "–", "’", "‘", "“", "”", "°", "é", "Ж", "ß", "中", "©", "😀", "\u00a0", "²", "µ", "·", "«",
    "»", "¿", "¡", "\u200b", "\u0301", "٣", "ـ", "ﬁ", "Ⅻ", "№", "€", "£", "US$", "C$", "km", "m/s", "kg",
    "'s", "’s", "n't", "http://", "https://", "www.", ".com", ".org", "mailto:", "@", "e.g.", "U.S.",
    "Mr.", "a.m.", "10", "192.168.0.1", "8.8.8.8", ":)", ":-(", "<3", "..", "...", "....", "--", "---",
    "The", "the", "don't", "It's", "can't", "well", "known", "x", "I", "a", "p.m.", "Ph.D.", "°F", "°c",
    "1st", "5pm", "10am", "Dr", ".", ".", ".", " ", " ", " ", "  ", "\n", "\t", " \n",
]


def random_cases(n: int, seed: int, out: str) -> None:
    import random

    import spacy

    rng = random.Random(seed)
    keys = sorted(spacy.blank("en").tokenizer.rules)
    pieces = RANDOM_PIECES + rng.sample(keys, 200)
    with open(out, "w", encoding="utf-8") as w:
        for _ in range(n):
            text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 12)))
            w.write(readable_json({"text": text, "tokens": words(text)}) + "\n")
    print(f"wrote {n} random cases to {out}", file=sys.stderr)


# URL, IP address, e-mail and port fragments: exercises URL_MATCH's alternatives and lookaheads.
URL_PIECES = [
    "http", "https", "ftp", "s3", "://", ":", "/", "?", "#", "@", ".", "..", "-", "_", "~", "+", "%", "=",
    "&", "example", "com", "org", "co", "uk", "io", "a", "b", "xn--p1ai", "Москва", "рф", "中国", "ä",
    "é", "10", "127", "169", "254", "192", "168", "172", "16", "31", "32", "1", "2", "255", "256", "0",
    "01", "223", "224", "٣", "१", "８", "9", "99999", "8080", "80", "www", "WWW", "Com", "A", "Z", "'",
    "’", "s", ",", ";", "(", ")", "\u00a1", "\uffff", "\U00010000", "—", "…", "°", "C", "k", "km", "$",
]


def random_url_cases(n: int, seed: int, out: str) -> None:
    import random

    rng = random.Random(seed)
    with open(out, "w", encoding="utf-8") as w:
        for _ in range(n):
            text = "".join(rng.choice(URL_PIECES) for _ in range(rng.randint(1, 14)))
            w.write(readable_json({"text": text, "tokens": words(text)}) + "\n")
    print(f"wrote {n} URL cases to {out}", file=sys.stderr)


def random_class_cases(n: int, seed: int, tables: str, out: str) -> None:
    """Characters at the edges of every generated character-class range, mixed with punctuation."""
    import random
    import re

    rng = random.Random(seed)
    edges = set()
    for a, z in re.findall(r"\(0x([0-9A-F]+), 0x([0-9A-F]+)\)", open(tables, encoding="utf-8").read()):
        for v in (int(a, 16) - 1, int(a, 16), int(z, 16), int(z, 16) + 1):
            if 0 <= v < 0x110000 and not 0xD800 <= v <= 0xDFFF:
                edges.add(v)
    edges = sorted(edges)
    punct = list(".,-:;/+*^=<>~'\"()[]$%@#&!?_") + ["…", "—", "–", "’", "°"]
    with open(out, "w", encoding="utf-8") as w:
        for _ in range(n):
            k = rng.randint(1, 8)
            text = "".join(rng.choice(punct) if rng.random() < 0.4 else chr(rng.choice(edges)) for _ in range(k))
            w.write(readable_json({"text": text, "tokens": words(text)}) + "\n")
    print(f"wrote {n} character-class cases to {out}", file=sys.stderr)


if __name__ == "__main__":
    mode = sys.argv[1] if len(sys.argv) > 1 else "docs"
    if mode == "docs":
        src = sys.argv[2] if len(sys.argv) > 2 else "../shared/reference/datatrove-filters/docs.jsonl.gz"
        out = sys.argv[3] if len(sys.argv) > 3 else "fixtures/tokenizer/spacy_en_docs.tsv"
        docs(src, out)
    elif mode == "snippets":
        src = sys.argv[2] if len(sys.argv) > 2 else "fixtures/tokenizer/snippets.txt"
        out = sys.argv[3] if len(sys.argv) > 3 else "fixtures/tokenizer/snippets.golden.jsonl"
        snippets(src, out)
    elif mode == "random":
        n = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
        seed = int(sys.argv[3]) if len(sys.argv) > 3 else 20261128
        out = sys.argv[4] if len(sys.argv) > 4 else "fixtures/tokenizer/random.golden.jsonl"
        random_cases(n, seed, out)
    elif mode == "random-url":
        n = int(sys.argv[2]) if len(sys.argv) > 2 else 1500
        seed = int(sys.argv[3]) if len(sys.argv) > 3 else 11
        random_url_cases(n, seed, "fixtures/tokenizer/random_url.golden.jsonl")
    elif mode == "random-classes":
        n = int(sys.argv[2]) if len(sys.argv) > 2 else 1500
        seed = int(sys.argv[3]) if len(sys.argv) > 3 else 4
        tables = "crates/thresher-text/src/spacy_en/tables.rs"
        random_class_cases(n, seed, tables, "fixtures/tokenizer/random_classes.golden.jsonl")
    elif mode == "show":
        # Print the expected tokens of reference document INDEX, one per line (for diffing).
        index = int(sys.argv[2])
        src = sys.argv[3] if len(sys.argv) > 3 else "../shared/reference/datatrove-filters/docs.jsonl.gz"
        with gzip.open(src, "rt", encoding="utf-8") as f:
            for i, line in enumerate(f):
                if i == index:
                    print("\n".join(words(json.loads(line)["text"])))
                    break
    else:
        sys.exit(f"unknown mode {mode}")
