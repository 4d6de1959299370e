#!/usr/bin/env python3
"""Builds near-duplicate benchmark corpora with ground truth for thresher's minhash_dedup.

Two corpora, both from real texts in ../shared/corpus (read in place, never copied into the repo):

  planted  Base documents: the gold texts of scrapinghub-aeb, cleaneval, cleanportaleval, dragnet
           and the DCLM human-quality set (majority_data). Base documents that are already near
           duplicates of each other (5-word-shingle Jaccard >= 0.1 or containment >= 0.5) are
           dropped, so that the only duplicates are the planted ones. Then, for a share of the
           base documents, copies are planted: k% of the words edited (k in 1..30; an edit
           replaces, deletes or inserts a word drawn from the corpus vocabulary), paragraphs
           reordered, boilerplate appended, or an edit plus boilerplate. Everything is shuffled.
  clough   ../shared/corpus/clough-stevenson-plagiarism as JSONL (id = file stem); the truth pairs
           every `cut`, `light` and `heavy` answer with `orig_task<t>`; `non` answers are not
           duplicates of anything.

Outputs OUT.jsonl ({"id", "text"}) and OUT.jsonl.truth.jsonl ({"id", "original", "kind", "k"}),
the format ../shared/tools/datatrove_minhash.py --truth reads.

  python3 scripts/make_dedup_corpus.py planted /tmp/planted.jsonl [--copies 1.0] [--seed 7]
  python3 scripts/make_dedup_corpus.py clough /tmp/clough.jsonl
"""

import argparse
import csv
import glob
import json
import os
import random
import re

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "corpus"))
WORD = re.compile(r"\w+", re.UNICODE)

BOILERPLATE = [
    "Share this article on Facebook Twitter LinkedIn Email Print. Related posts you may also like. "
    "Leave a comment. Your email address will not be published. Required fields are marked.",
    "We use cookies to improve your experience on our website. By continuing to browse you agree to "
    "our use of cookies. Privacy policy. Terms of use. Contact us. About us. Copyright all rights reserved.",
    "Subscribe to our newsletter to get the latest news and offers delivered to your inbox every week. "
    "Follow us on social media. Home. News. Sport. Business. Weather. Sitemap. Accessibility.",
]


def clean_cleaneval(text):
    lines = text.split("\n")
    if lines and lines[0].startswith("URL:"):
        lines = lines[1:]
    out = [re.sub(r"^\s*<[phl]>\s*", "", ln).strip() for ln in lines]
    return "\n".join(ln for ln in out if ln)


def base_texts():
    docs = []
    for path in sorted(glob.glob(os.path.join(SHARED, "scrapinghub-aeb", "*.txt"))):
        docs.append(("aeb", open(path, encoding="utf-8").read()))
    for sub in ("cleaneval", "cleanportaleval"):
        for path in sorted(glob.glob(os.path.join(SHARED, sub, "*.txt"))):
            docs.append((sub, clean_cleaneval(open(path, encoding="utf-8").read())))
    for path in sorted(glob.glob(os.path.join(SHARED, "dragnet", "*.txt"))):
        text = open(path, encoding="utf-8").read().split("!@#$%^&*()  COMMENTS")[0]
        docs.append(("dragnet", text.strip()))
    dclm = os.path.join(SHARED, "dclm-human-quality", "majority_data.jsonl")
    if os.path.exists(dclm):
        for line in open(dclm, encoding="utf-8"):
            if line.strip():
                docs.append(("dclm", json.loads(line)["text"]))
    return [(src, t) for src, t in docs if len(WORD.findall(t)) >= 50]


def shingles(text, n=5):
    w = [x.lower() for x in WORD.findall(text)]
    return {" ".join(w[i:i + n]) for i in range(max(0, len(w) - n + 1))}


def drop_natural_duplicates(docs):
    """Greedy: keep a document unless it is similar to an already kept one."""
    index, kept = {}, []
    for src, text in docs:
        sh = shingles(text)
        if not sh:
            continue
        counts = {}
        for s in sh:
            for j in index.get(s, ()):
                counts[j] = counts.get(j, 0) + 1
        dup = False
        for j, inter in counts.items():
            other = kept[j][2]
            jac = inter / (len(sh) + len(other) - inter)
            if jac >= 0.1 or inter / min(len(sh), len(other)) >= 0.5:
                dup = True
                break
        if dup:
            continue
        for s in sh:
            index.setdefault(s, []).append(len(kept))
        kept.append((src, text, sh))
    return [(src, text) for src, text, _ in kept]


def edit_words(text, k, vocab, rng):
    """Edits k% of the words (replace, delete or insert), keeping line breaks."""
    tokens = re.split(r"(\s+)", text)
    word_pos = [i for i, t in enumerate(tokens) if t and not t.isspace()]
    n_edit = max(1, round(len(word_pos) * k / 100))
    for i in rng.sample(word_pos, min(n_edit, len(word_pos))):
        op = rng.random()
        if op < 0.5:
            tokens[i] = rng.choice(vocab)
        elif op < 0.75:
            tokens[i] = ""
        else:
            tokens[i] = tokens[i] + " " + rng.choice(vocab)
    return "".join(tokens)


def reorder_paragraphs(text, rng):
    paras = [p for p in re.split(r"\n+", text) if p.strip()]
    if len(paras) < 3:
        return None
    for _ in range(10):
        shuffled = paras[:]
        rng.shuffle(shuffled)
        if shuffled != paras:
            return "\n".join(shuffled)
    return None


def planted(args):
    rng = random.Random(args.seed)
    base = drop_natural_duplicates(base_texts())
    vocab = sorted({w for _, t in base for w in WORD.findall(t) if len(w) > 2})
    docs, truth = [], []
    for bi, (src, text) in enumerate(base):
        oid = f"{src}-{bi:05d}"
        docs.append((oid, text))
        n_copies = int(args.copies) + (1 if rng.random() < args.copies - int(args.copies) else 0)
        for ci in range(n_copies):
            kind = rng.choice(["edit", "edit", "edit", "reorder", "boilerplate", "edit+boilerplate"])
            k = rng.choice([1, 2, 3, 5, 8, 10, 15, 20, 25, 30]) if "edit" in kind else 0
            copy = text
            if "edit" in kind:
                copy = edit_words(copy, k, vocab, rng)
            if kind == "reorder":
                copy = reorder_paragraphs(copy, rng)
                if copy is None:
                    kind, k = "edit", rng.choice([1, 2, 3, 5])
                    copy = edit_words(text, k, vocab, rng)
            if "boilerplate" in kind:
                copy = copy + "\n\n" + rng.choice(BOILERPLATE)
            cid = f"{oid}-copy{ci}"
            docs.append((cid, copy))
            truth.append({"id": cid, "original": oid, "kind": kind, "k": k})
    rng.shuffle(docs)
    write(args.out, docs, truth)
    print(f"{len(base)} base documents, {len(truth)} planted copies, {len(docs)} documents -> {args.out}")


def clough(args):
    folder = os.path.join(SHARED, "clough-stevenson-plagiarism")
    cats = {}
    with open(os.path.join(folder, "file_information.csv"), encoding="utf-8") as f:
        for row in csv.DictReader(f):
            cats[row["File"]] = (row["Task"], row["Category"])
    docs, truth = [], []
    for path in sorted(glob.glob(os.path.join(folder, "*.txt"))):
        name = os.path.basename(path)
        doc_id = name[:-4]
        docs.append((doc_id, open(path, encoding="utf-8").read()))
        task, cat = cats.get(name, (None, "orig"))
        if cat in ("cut", "light", "heavy"):
            truth.append({"id": doc_id, "original": f"orig_task{task}", "kind": cat, "k": 0})
    write(args.out, docs, truth)
    print(f"{len(docs)} documents, {len(truth)} graded pairs -> {args.out}")


def write(out, docs, truth):
    with open(out, "w", encoding="utf-8") as f:
        for doc_id, text in docs:
            f.write(json.dumps({"id": doc_id, "text": text}, ensure_ascii=False) + "\n")
    with open(out + ".truth.jsonl", "w", encoding="utf-8") as f:
        for t in truth:
            f.write(json.dumps(t) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", choices=["planted", "clough"])
    ap.add_argument("out")
    ap.add_argument("--copies", type=float, default=1.0, help="planted copies per base document (mean)")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    {"planted": planted, "clough": clough}[args.corpus](args)


if __name__ == "__main__":
    main()
