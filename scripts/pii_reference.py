#!/usr/bin/env python3
"""datatrove 0.10.1's PIIFormatter (defaults) over JSONL texts, for thresher's `pii` parity tests.

    pii_reference.py IN.jsonl[.gz] OUT.jsonl   one formatter over every "text", in order; writes
                                               {"id", "text"} per line (the turn counters run on
                                               across documents, as in a one-task datatrove run)
    pii_reference.py --planted DIR             writes DIR/pii_planted.jsonl: the planted edge
                                               cases with datatrove's output as "expected"

Needs `pip install datatrove==0.10.1`. The crate's integration test (tests/it/pii.rs) runs the
first form on ../shared's documents when Python and datatrove are present.
"""
import gzip
import json
import random
import sys

import datatrove
from datatrove.pipeline.formatters.pii import PIIFormatter


EDGE_CASES = [
    "Contact: john.doe@example.net or <jane_roe+news@mail.co.uk>.",
    "Mail me at <admin@[192.168.0.1]> or root@[8.8.8.8] or x@[IPv6:abc:]",
    "Server 8.8.8.8, gateway 192.168.1.1, loopback 127.0.0.1, link 169.254.10.20.",
    "Shared 100.64.0.1 and 100.127.255.255 but 100.128.0.1; doc 192.0.2.1, 198.51.100.7, 203.0.113.5.",
    "Reserved 240.0.0.1, broadcast 255.255.255.255, multicast 224.0.0.251, zero 0.0.0.0.",
    "Not addresses: 256.1.1.1, 1.2.3.256, 999.999.999.999, 1.2.3, 01.02.03.04, 1.2.3.04.",
    "Versions 1.2.3.4.5 and 10.20.30.40.50; date 2020.10.11.12",
    "email@example.com already, and a@b.c, a@b, @x.com, x@.com, x@y.com.",
    "Dots: first.last@sub.domain.example.org; bad..dots@x.com; .lead@x.com; trail.@x.com",
    "Symbols: !#$%&'*+/=?^_`{|}~-@x.org and -dash@x.org, (paren@x.org)",
    "Unicode: café@x.com, caféx@x.com, e\u0301x@y.com, x\u00b2@y.com, \u00e9t\u00e9 42@x.fr",
    "Quoted: \"quote@x.com\", 'single@x.com', mailto:mt@x.com, http://user@host.com/path",
    "Domain edge: a@-x.com, a@x-.com, a@x.-com, a@x.com-, a@1.2.3.4, a@xn--bcher-kva.ch",
    "IP in URL: http://93.184.216.34:8080/index, https://[2001:db8::1]/ and 10.0.0.1:22",
    "Adjacent: 8.8.8.88.8.8.8 and 1.1.1.1.1.1.1.1 and 123.123.123.123123",
    "Digits around: a1.2.3.4b, _8.8.4.4_, x8.8.8.8, 8.8.8.8x",
    "\u0661.\u0662.\u0663.\u0664 (Arabic-Indic digits) and \uff18.\uff18.\uff18.\uff18 (full-width)",
    "Turns: a@a.io b@b.io c@c.io d@d.io e@e.io 1.1.1.1 2.2.2.2 3.3.3.3 4.4.4.4 5.5.5.5 6.6.6.6 7.7.7.7",
    "",
    "no pii at all",
]

WORDS = ["the", "report", "server", "at", "contact", "via", "or", "logged", "from", "see", "\n", "é", "数据"]


def random_email(rng):
    local = "".join(rng.choice("abcxyz019._-+") for _ in range(rng.randint(1, 8)))
    dom = ".".join("".join(rng.choice("abc-19") for _ in range(rng.randint(1, 6))) for _ in range(rng.randint(1, 3)))
    return f"{local}@{dom}"


def random_ip(rng):
    pick = rng.random()
    if pick < 0.3:
        return ".".join(str(rng.randint(0, 255)) for _ in range(4))
    if pick < 0.5:
        return rng.choice(["10", "127", "192.168", "172.16", "100.64", "169.254", "0"]) + ".1.2.3"
    return ".".join(str(rng.choice([0, 1, 9, 10, 99, 100, 199, 200, 249, 250, 255, 256, 300, "01", "007"])) for _ in range(4))


def planted(n=300, seed=23):
    rng = random.Random(seed)
    out = list(EDGE_CASES)
    for _ in range(n):
        parts = []
        for _ in range(rng.randint(1, 12)):
            r = rng.random()
            parts.append(random_email(rng) if r < 0.25 else random_ip(rng) if r < 0.5 else rng.choice(WORDS))
        out.append(rng.choice([" ", "", ",", "<"]).join(parts))
    return out


def main():
    if sys.argv[1] == "--planted":
        f = PIIFormatter()
        with open(f"{sys.argv[2]}/pii_planted.jsonl", "w", encoding="utf-8") as out:
            for i, text in enumerate(planted()):
                rec = {"id": f"planted-{i}", "text": text, "expected": f.format(text)}
                out.write(json.dumps(rec, ensure_ascii=False) + "\n")
        return
    src, dst = sys.argv[1], sys.argv[2]
    opener = gzip.open if src.endswith(".gz") else open
    f = PIIFormatter()
    with opener(src, "rt", encoding="utf-8") as inp, open(dst, "w", encoding="utf-8") as out:
        for line in inp:
            rec = json.loads(line)
            out.write(json.dumps({"id": rec["id"], "text": f.format(rec["text"])}, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
