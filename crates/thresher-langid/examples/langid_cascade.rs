//! Calibration data for the early stop of detection (src/detect.rs, `decided`): for every line
//! of lingua's test data, the answer of the full method and what stage 1 (n-grams of up to 3
//! letters) knew: its winner, its lead, the 4- and 5-grams left.
//!
//!   cargo run --release -p thresher-langid --example langid_cascade -- [DIR] [--scores] > cascade.tsv
//!
//! Output columns: kind, gold, full answer, stage-1 answer, lead, letters, answer of `detect` (which may stop early),
//! winner and lead on letters and bigrams alone, score of the full method, score of `detect`;
//! with `--scores`, also: the extrapolation scale and each language's score after letters and
//! bigrams, the same after trigrams.

use std::io::{BufRead, BufReader, Write};

fn main() {
    let dir = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with("--"))
        .unwrap_or_else(|| {
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../../shared/corpus/lingua-langid"
            )
            .into()
        });
    // `--scores`: also each language's score after the first stages (for the calibration of
    // the early score), as `index:score` lists.
    let scores = std::env::args().any(|a| a == "--scores");
    let out = std::io::stdout();
    let mut out = std::io::BufWriter::new(out.lock());
    for kind in ["sentences", "word-pairs", "single-words"] {
        let path = std::path::Path::new(&dir).join(format!("{kind}.tsv.gz"));
        let f = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for line in BufReader::new(flate2::read::GzDecoder::new(f)).split(b'\n') {
            let line = String::from_utf8(line.expect("read")).expect("utf-8");
            let Some((gold, text)) = line.split_once('\t') else {
                continue;
            };
            let (d, tr) = thresher_langid::detect_traced(text);
            let fast = thresher_langid::detect(text, thresher_langid::LanguageSet::all());
            let code = |l: Option<thresher_langid::Language>| l.map_or("-", |l| l.code());
            let join = |v: &[f32]| {
                v.iter()
                    .enumerate()
                    .filter(|(_, x)| x.is_finite())
                    .map(|(i, x)| format!("{i}:{x:.4}"))
                    .collect::<Vec<_>>()
                    .join(",")
            };
            match tr {
                Some(t) => {
                    write!(
                        out,
                        "{kind}\t{gold}\t{}\t{}\t{:.4}\t{}\t{}\t{}\t{:.4}\t{:.4}\t{:.4}",
                        code(d.language),
                        code(t.stage1),
                        t.margin,
                        t.chars,
                        code(fast.language),
                        code(t.stage0),
                        t.margin0,
                        d.score,
                        fast.score
                    )
                    .expect("write");
                    if scores {
                        write!(
                            out,
                            "\t{:.4}\t{}\t{:.4}\t{}",
                            t.scale0,
                            join(&t.scores0),
                            t.scale1,
                            join(&t.scores1)
                        )
                        .expect("write");
                    }
                    writeln!(out)
                }
                None => writeln!(
                    out,
                    "{kind}\t{gold}\t{}\t-\tinf\t0\t{}\t-\tinf\t{:.4}\t{:.4}",
                    code(d.language),
                    code(fast.language),
                    d.score,
                    fast.score
                ),
            }
            .expect("write");
        }
    }
}
