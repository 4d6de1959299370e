#!/usr/bin/env python3
"""datatrove 0.10.1's URLFilter (its bundled lists) over URLs, for thresher's `url_filter` parity test.

    url_filter_reference.py IN.jsonl OUT.jsonl [--from-lists N --seed S]

IN.jsonl has one {"url": ...} a line. With --from-lists, N URLs built from datatrove's own lists
are added after them (hosts that take tldextract's rarer paths: IDN, wildcard rules,
IPs, odd separators; then blocked domains with subdomains, ports, user info, case changes and final
dots; blocked URLs with and without a scheme; paths with banned words, soft-banned words and
banned subwords), drawn with the seed. OUT.jsonl gets {"url", "keep", "reason"} per URL, in order
(reason: datatrove's name of the rule, or null).

Also prints, on stdout, a JSON line with the paths thresher needs: datatrove's assets folder and
the Public Suffix List tldextract used.

tldextract normally fetches the Public Suffix List from publicsuffix.org on first use and caches
it; here it is made to use the snapshot bundled in the tldextract package (what it falls back on
offline), with a fresh cache, so that thresher can read the same list. Needs
`pip install datatrove==0.10.1 tldextract==5.4.0 pyahocorasick==2.3.1 fasteners==0.20`.
"""
import json
import os
import random
import sys
import tempfile

os.environ["TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS"] = ""  # no fetch: the bundled snapshot
os.environ.setdefault("HF_HUB_OFFLINE", "1")
_cache = tempfile.TemporaryDirectory()
os.environ["TLDEXTRACT_CACHE"] = _cache.name
# datatrove extracts its block-list archive into the Hugging Face assets cache.
os.environ.setdefault("HF_HOME", os.path.join(_cache.name, "hf"))

import warnings  # noqa: E402

warnings.filterwarnings("ignore", category=DeprecationWarning)

import tldextract  # noqa: E402
from datatrove.data import Document  # noqa: E402
from datatrove.pipeline.filters.url_filter import URLFilter, normalize  # noqa: E402
from datatrove.utils._import_utils import ASSETS_PATH  # noqa: E402

SCHEMES = ["http://", "https://", "HTTP://", "", "//", "ftp://"]


def vary_case(s, rng):
    pick = rng.random()
    if pick < 0.5:
        return s
    if pick < 0.7:
        return s.upper()
    if pick < 0.85:
        return s.capitalize()
    return "".join(c.upper() if rng.random() < 0.3 else c for c in s)


def edge_urls(flt, rng):
    """Hosts that take tldextract's less travelled paths, around a few blocked domains."""
    doms = rng.sample(sorted(flt.block_listed_domains), 20)
    out = [
        "http://пример.рф/", "http://xn--e1afmkfd.xn--p1ai/", "http://XN--E1AFMKFD.XN--P1AI/",
        "http://xn--.xn--p1ai/", "http://xn--p1ai-.com/", "http://a.b.ck/", "http://www.ck/",
        "http://city.kawasaki.jp/", "http://a.city.kawasaki.jp/", "http://x.kawasaki.jp/",
        "http://127.0.0.1:8080/", "http://[::1]/porn", "http://[2001:db8::1]:80/x", "http://",
        "http:///path", "mailto:me@x.com", "http://a.com@b.com/", "http://example.com./",
        "http://example。com/", "http://example．com/", " http://example.com ", "http:example.com",
        "HTTP://EXAMPLE.COM/", "http://localhost/", "http://com/", "http://.com/", "http://..com/",
        "file:///etc/passwd", "http://ex ample.com/", "http://example.com\\path", "http://x.blogspot.com/",
        "http://xn--bcher-kva.example/", "http://münchen.de/", "http://MÜNCHEN.DE/", "http://ΣΑΣ.gr/",
    ]
    for d in doms:
        parts = d.split(".")
        out += [
            "http://" + "。".join(parts) + "/", "http://" + d + "。/", "http://x@" + d + ":80@/",
            "http://" + d.upper(), "https://" + d + "?q", "https://" + d + "#f", d,
            "http://[" + d + "]/", "http://" + d + " /", "http://www." + d + ".",
        ]
    return out


def built_urls(flt, n, rng):
    domains = sorted(flt.block_listed_domains)
    urls = sorted(flt.block_listed_url)
    banned = sorted(flt.banned_words)
    soft = sorted(flt.soft_banned_words)
    subwords = sorted(flt.banned_subwords)
    plain_words = ["news", "about", "index", "blog", "2024", "en", "page", "story", "shop", "html"]
    out = []
    while len(out) < n:
        kind = rng.randrange(7)
        scheme = rng.choice(SCHEMES)
        path = "/" + "/".join(rng.choice(plain_words) for _ in range(rng.randrange(3)))
        if kind <= 2:  # a blocked domain, with a subdomain, port, user, case, final dot
            d = rng.choice(domains)
            host = d
            if rng.random() < 0.5:
                host = rng.choice(["www", "m", "a.b", "forum", "xn--80ak6aa92e"]) + "." + host
            host = vary_case(host, rng)
            if rng.random() < 0.2:
                host += "."
            if rng.random() < 0.2:
                host += ":" + str(rng.choice([80, 443, 8080]))
            if rng.random() < 0.1:
                host = "user:pw@" + host
            # a domain of the list with its last label changed: not blocked as a domain
            if rng.random() < 0.1:
                host = host.rsplit(".", 1)[0] + ".example"
            out.append(scheme + host + path)
        elif kind == 3:  # a blocked URL as listed, with a scheme, or changed
            u = rng.choice(urls)
            out.append(rng.choice([u, "http://" + u, "https://" + u, u + "/", u.upper()]))
        elif kind == 4:  # banned words as words and inside words
            w = rng.choice(banned)
            sep = rng.choice(["/", "-", "_", ".", "?q=", ""])
            out.append(scheme + "example.org/" + rng.choice(plain_words) + sep + vary_case(w, rng) + path)
        elif kind == 5:  # one, two or three soft-banned words, sometimes the same twice
            ws = [rng.choice(soft) for _ in range(rng.randrange(1, 4))]
            if rng.random() < 0.2:
                ws = [ws[0], ws[0]]
            out.append(scheme + "example.net/" + "/".join(vary_case(w, rng) for w in ws))
        else:  # a banned subword, split by punctuation, inside other letters
            w = rng.choice(subwords)
            text = "".join(c + rng.choice(["", "", "-", "_", "%20", "."]) for c in w)
            out.append(scheme + "site.example.com/" + rng.choice(["", "x", "best"]) + vary_case(text, rng))
    return out


def main():
    args = sys.argv[1:]
    n_built, seed = 0, 0
    if "--from-lists" in args:
        i = args.index("--from-lists")
        n_built = int(args[i + 1])
        del args[i : i + 2]
    if "--seed" in args:
        i = args.index("--seed")
        seed = int(args[i + 1])
        del args[i : i + 2]
    inp, outp = args
    flt = URLFilter()
    flt.download_data()
    with open(inp, encoding="utf-8") as f:
        urls = [json.loads(line)["url"] for line in f if line.strip()]
    if n_built:
        rng = random.Random(seed)
        urls += edge_urls(flt, rng)
        urls += built_urls(flt, n_built, rng)
    with open(outp, "w", encoding="utf-8") as out:
        for url in urls:
            res = flt.filter(Document(text="", id="x", metadata={"url": url}))
            keep, reason = (True, None) if res is True else (False, res[1])
            out.write(json.dumps({"url": url, "keep": keep, "reason": reason}, ensure_ascii=False) + "\n")
    snapshot = os.path.join(os.path.dirname(tldextract.__file__), ".tld_set_snapshot")
    print(json.dumps({"datatrove_assets": ASSETS_PATH, "public_suffix_list": snapshot, "urls": len(urls)}))
    assert normalize("A-b") == "ab"


if __name__ == "__main__":
    main()
