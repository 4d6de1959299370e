//! Prints `<gold>\t<detected>\t<score>\t<text>` for each line of a lingua-langid file (for comparing builds).
use std::io::{BufRead, BufReader};
fn main() {
    let path = std::env::args().nth(1).expect("FILE.tsv.gz");
    let passes: usize = std::env::args()
        .nth(2)
        .map_or(1, |p| p.parse().expect("passes"));
    let f = std::fs::File::open(path).expect("open");
    let mut rows = Vec::new();
    for line in BufReader::new(flate2::read::GzDecoder::new(f)).split(b'\n') {
        let line = String::from_utf8(line.expect("read")).expect("utf-8");
        if let Some((l, t)) = line.split_once('\t') {
            rows.push((l.to_string(), t.to_string()));
        }
    }
    let mut got = Vec::new();
    for _ in 0..passes {
        got = rows
            .iter()
            .map(|(_, t)| thresher_langid::detect(t, thresher_langid::LanguageSet::all()))
            .collect();
    }
    for ((l, t), d) in rows.iter().zip(&got) {
        println!(
            "{l}\t{}\t{:.6}\t{t}",
            d.language.map_or("-", |x| x.code()),
            d.score
        );
    }
}
