#!/usr/bin/env python3
"""One large JSONL document for memory measurements (docs/memory.md).

usage: scripts/gen-big-doc.py KIND SIZE_MB OUT.jsonl
KIND: prose (words of fixtures/sample drawn by frequency, sentences, lines, blank-line
paragraphs), oneline (the same without line breaks), tinylines (lines of one or two letters),
tinywords (one-letter words separated by spaces).
"""
import json, os, random, re, sys, glob
random.seed(17)
size = int(sys.argv[2]) * 1_000_000
kind = sys.argv[1]
out = sys.argv[3]
words = []
for f in sorted(glob.glob(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fixtures', 'sample', '*.jsonl'))):
    for line in open(f):
        try: t = json.loads(line).get('text', '')
        except Exception: continue
        words.extend(re.findall(r"[A-Za-z][A-Za-z'-]*", t))
parts = []; n = 0
if kind == 'prose':
    # sentences of real words drawn by frequency, lines of ~8-30 words, paragraphs of 1-6 lines
    while n < size:
        para = []
        for _ in range(random.randint(1, 6)):
            line = []
            for _ in range(random.randint(1, 3)):
                s = random.choices(words, k=random.randint(5, 20))
                s[0] = s[0].capitalize()
                line.append(' '.join(s) + random.choice('.....?!'))
            para.append(' '.join(line))
        p = '\n'.join(para)
        parts.append(p); n += len(p) + 2
    text = '\n\n'.join(parts)
elif kind == 'oneline':
    while n < size:
        s = random.choices(words, k=random.randint(5, 20)); s[0] = s[0].capitalize()
        p = ' '.join(s) + '.'
        parts.append(p); n += len(p) + 1
    text = ' '.join(parts)
elif kind == 'tinylines':
    # one- and two-letter lines: the most lines per byte
    letters = 'abcdefghijklmnopqrstuvwxyz'
    while n < size:
        p = random.choice(letters) + (random.choice(letters) if random.random() < 0.5 else '')
        parts.append(p); n += len(p) + 1
    text = '\n'.join(parts)
elif kind == 'tinywords':
    letters = 'abcdefghijklmnopqrstuvwxyz'
    text = ' '.join(random.choice(letters) for _ in range(size // 2))
text = text[:size]
with open(out, 'w') as f:
    f.write(json.dumps({'id': 'big', 'text': text, 'url': 'https://example.com/big'}) + '\n')
