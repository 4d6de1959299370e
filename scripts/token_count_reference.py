#!/usr/bin/env python3
"""Reference token counts for thresher's `token_count` step (crates/thresher-tokens/tests/parity.rs).

Needs datatrove 0.10.1 and tokenizers 0.23.3 (the Python package, which builds the same Rust library):

    python scripts/token_count_reference.py make DIR [DOCS_JSONL_GZ]
        Trains three small tokenizers on the first 1,500 reference documents (300 for Unigram) and saves them as
        DIR/{bpe,wordpiece,unigram}.json: GPT-2's byte-level BPE (its regex pre-tokenizer), BERT's
        WordPiece (normalizer, [CLS] ... [SEP] post-processor), and a SentencePiece-style Unigram
        (NFKC, Metaspace). Nothing is downloaded.
    python scripts/token_count_reference.py count TOKENIZER_JSON OUT_JSONL [DOCS_JSONL_GZ] [--eos]
        Runs datatrove's TokensCounter with that tokenizer.json over the documents and writes
        {"id":..., "token_count":...} per document, in input order.
"""
import gzip
import json
import os
import sys

DOCS = "../shared/reference/datatrove-filters/docs.jsonl.gz"


def read_docs(path):
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def make(out_dir, docs_path):
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

    texts = [d["text"] for d in read_docs(docs_path)[:1500]]
    os.makedirs(out_dir, exist_ok=True)

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.post_processor = processors.ByteLevel(trim_offsets=False)
    bpe.train_from_iterator(
        texts,
        trainers.BpeTrainer(
            vocab_size=4000,
            special_tokens=["<|endoftext|>"],
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
            show_progress=False,
        ),
    )
    bpe.save(os.path.join(out_dir, "bpe.json"))

    wp = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    wp.normalizer = normalizers.BertNormalizer(lowercase=True)
    wp.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    wp.train_from_iterator(
        texts,
        trainers.WordPieceTrainer(
            vocab_size=4000, special_tokens=["[UNK]", "[CLS]", "[SEP]"], show_progress=False
        ),
    )
    wp.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", wp.token_to_id("[CLS]")), ("[SEP]", wp.token_to_id("[SEP]"))],
    )
    wp.save(os.path.join(out_dir, "wordpiece.json"))

    uni = Tokenizer(models.Unigram())
    uni.normalizer = normalizers.NFKC()
    uni.pre_tokenizer = pre_tokenizers.Metaspace()
    uni.decoder = decoders.Metaspace()
    # Unigram training is the slow one (minutes of CPU on all 1,500): a fifth of them.
    uni.train_from_iterator(
        texts[:300],
        trainers.UnigramTrainer(vocab_size=4000, special_tokens=["<unk>"], unk_token="<unk>", show_progress=False),
    )
    uni.save(os.path.join(out_dir, "unigram.json"))
    print(f"wrote 3 tokenizers to {out_dir}", file=sys.stderr)


def count(tokenizer_path, out_path, docs_path, eos):
    from datatrove.data import Document
    from datatrove.pipeline.tokens import TokensCounter

    docs = [Document(text=d["text"], id=d["id"], metadata={}) for d in read_docs(docs_path)]
    counter = TokensCounter(tokenizer_name_or_path=tokenizer_path, count_eos_token=eos)
    with open(out_path, "w", encoding="utf-8") as w:
        for d in counter.run(iter(docs)):
            w.write(json.dumps({"id": d.id, "token_count": d.metadata["token_count"]}) + "\n")


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--eos"]
    if args[:1] == ["make"]:
        make(args[1], args[2] if len(args) > 2 else DOCS)
    elif args[:1] == ["count"]:
        count(args[1], args[2], args[3] if len(args) > 3 else DOCS, "--eos" in sys.argv)
    else:
        sys.exit(__doc__)
