#!/usr/bin/env python3
"""datatrove 0.10.1's C4ParagraphFilter and SentenceDedup over JSONL texts, for thresher's
`c4_paragraph` and `sentence_dedup` parity tests.

    sentence_dedup_reference.py c4-paragraph IN.jsonl[.gz] OUT.jsonl
        C4ParagraphFilter() on every "text": writes {"id", "keep"} per line, in order.
    sentence_dedup_reference.py sentence-dedup IN.jsonl[.gz] WORKDIR OUT.jsonl [KEY=VALUE...]
        datatrove's three SentenceDedup stages (SentenceDedupSignature, SentenceFindDedups,
        SentenceDedupFilter) as a one-task run over the documents in file order, with
        SentDedupConfig(**KEY=VALUE) (integers or true/false, e.g. split_sentences=false
        min_doc_words=0); writes {"id", "text"} per input line, "text" null when the document
        was dropped. Document ids must be unique. WORKDIR receives the signature and duplicate
        files.

Needs datatrove==0.10.1 and spacy==3.8.18 (datatrove splits English with spacy.blank("en") and
its sentencizer; no model is downloaded). The Rust tests crates/thresher-filters/tests/it/
c4_paragraph.rs and crates/thresher-dedup/tests/it/sentence.rs run it with THRESHER_PYTHON.
"""
import gzip
import json
import sys

from datatrove.data import Document
from datatrove.pipeline.dedup.sentence_dedup import (
    SentDedupConfig,
    SentenceDedupFilter,
    SentenceDedupSignature,
    SentenceFindDedups,
)
from datatrove.pipeline.filters.c4_filters import C4ParagraphFilter
from datatrove.utils.hashes import xxhash as dt_xxhash


# python-xxhash 4 refuses `str` ("Strings must be encoded before hashing"); 3.x, which
# datatrove 0.10.1 was released with (the peer baseline's xxhash==3.8.2), hashed its UTF-8 bytes.
# SentenceDedupSignature hashes `str`, so with xxhash 4 its default config fails: restore 3.x's
# behaviour, which is what datatrove computes where it runs.
def _utf8(data):
    return data.encode("utf-8") if isinstance(data, str) else data


_xxh32, _xxh64 = dt_xxhash.xxhash32, dt_xxhash.xxhash64
dt_xxhash.xxhash32 = lambda data: _xxh32(_utf8(data))
dt_xxhash.xxhash64 = lambda data: _xxh64(_utf8(data))


def read(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def docs(recs):
    for r in recs:
        yield Document(text=r["text"], id=r["id"], metadata={})


def parse_value(v):
    if v in ("true", "false"):
        return v == "true"
    return int(v)


def c4_paragraph(src, dst):
    f = C4ParagraphFilter()
    with open(dst, "w", encoding="utf-8") as out:
        for r in read(src):
            verdict = f.filter(Document(text=r["text"], id=r["id"]))
            keep = verdict is True
            out.write(json.dumps({"id": r["id"], "keep": keep}) + "\n")


def sentence_dedup(src, work, dst, params):
    cfg = SentDedupConfig(**{k: parse_value(v) for k, v in (p.split("=", 1) for p in params)})
    recs = read(src)
    ids = [r["id"] for r in recs]
    assert len(set(ids)) == len(ids), "document ids must be unique"
    SentenceDedupSignature(output_folder=f"{work}/sigs", config=cfg).run(docs(recs), rank=0, world_size=1)
    SentenceFindDedups(data_folder=f"{work}/sigs", output_folder=f"{work}/dups", config=cfg).run(
        rank=0, world_size=1
    )
    filt = SentenceDedupFilter(data_folder=f"{work}/dups", config=cfg)
    kept = {d.id: d.text for d in filt.run(docs(recs), rank=0, world_size=1)}
    with open(dst, "w", encoding="utf-8") as out:
        for r in recs:
            out.write(json.dumps({"id": r["id"], "text": kept.get(r["id"])}, ensure_ascii=False) + "\n")
    stats = {k: v.total for k, v in filt.stats.stats.items() if hasattr(v, "total")}
    print(f"sentence-dedup {cfg}: {len(recs)} docs, {len(kept)} kept; {stats}", file=sys.stderr)


def main():
    cmd = sys.argv[1]
    if cmd == "c4-paragraph":
        c4_paragraph(sys.argv[2], sys.argv[3])
    elif cmd == "sentence-dedup":
        sentence_dedup(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:])
    else:
        sys.exit(f"unknown command {cmd!r}")


if __name__ == "__main__":
    main()
