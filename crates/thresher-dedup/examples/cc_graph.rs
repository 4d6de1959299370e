//! The synthetic candidate graph of `scripts/cc-bench.py` and its single-process baseline.
//!
//! ```text
//! cc_graph gen DIR NODES EDGES PARTS SEED   round 0 of DIR as PARTS pairs tasks would write it
//! cc_graph single DIR PARTS OUT             union-find over round 0's edges; labels to OUT
//! cc_graph compare DIR ROUND OUT            the labels of converged round ROUND == OUT's?
//! ```
//!
//! The graph is [`cc::synthetic_candidate_graph`]'s. Labels: `(node, smallest node of its component, component size)`, sorted by node.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use thresher_dedup::cc;
use thresher_dedup::union_find::UnionFind;

fn arg<T: std::str::FromStr>(args: &[String], i: usize) -> T {
    args.get(i)
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("argument {i}: see the file's doc"))
}

/// Writes the edges through the `cc` crate's round-0 layout, producer `i % parts` for edge `i`.
struct Producers {
    files: Vec<Vec<BufWriter<File>>>,
    parts: u32,
    i: usize,
}

impl Producers {
    fn new(dir: &Path, parts: u32) -> Producers {
        let files = (0..parts)
            .map(|k| {
                let d = cc::task_dir(dir, 0, k);
                std::fs::create_dir_all(&d).unwrap();
                (0..parts)
                    .map(|q| {
                        let f = File::create(d.join(format!("to-{q:05}.bin"))).unwrap();
                        BufWriter::with_capacity(1 << 16, f)
                    })
                    .collect()
            })
            .collect();
        Producers { files, parts, i: 0 }
    }

    fn edge(&mut self, a: u64, b: u64) {
        let k = self.i % self.parts as usize;
        self.i += 1;
        for (x, y) in [(a, b), (b, a)] {
            let q = cc::part_of(x, self.parts) as usize;
            let w = &mut self.files[k][q];
            w.write_all(&x.to_le_bytes()).unwrap();
            w.write_all(&y.to_le_bytes()).unwrap();
        }
    }
}

fn gen(dir: &Path, nodes: u64, edges: u64, parts: u32, seed: u64) {
    let mut out = Producers::new(dir, parts);
    let (written, clusters, largest) =
        cc::synthetic_candidate_graph(nodes, edges, seed, |a, b| out.edge(a, b));
    for ws in out.files.iter_mut() {
        for w in ws {
            w.flush().unwrap();
        }
    }
    println!(
        "{{\"nodes\": {nodes}, \"edges\": {written}, \"clusters\": {clusters}, \"largest\": {largest}}}"
    );
}

fn records(path: &Path, mut f: impl FnMut(u64, u64)) {
    let Ok(file) = File::open(path) else { return };
    let mut r = BufReader::with_capacity(1 << 20, file);
    let mut b = [0u8; 16];
    while r.read_exact(&mut b).is_ok() {
        let a = u64::from_le_bytes(b[..8].try_into().unwrap());
        let c = u64::from_le_bytes(b[8..].try_into().unwrap());
        f(a, c);
    }
}

fn round0_files(dir: &Path, parts: u32) -> Vec<PathBuf> {
    (0..parts)
        .flat_map(|k| (0..parts).map(move |q| (k, q)))
        .map(|(k, q)| cc::task_dir(dir, 0, k).join(format!("to-{q:05}.bin")))
        .collect()
}

/// The single process: union-find over every edge, then each node's label, as the
/// single-process cluster stage computes them (components, then the smallest node per root).
fn single(dir: &Path, parts: u32, out: &Path) {
    let mut uf = UnionFind::new();
    let mut n_edges = 0u64;
    for p in round0_files(dir, parts) {
        // Each edge is there twice, once from each end: take it once.
        records(&p, |a, b| {
            if a > b {
                uf.union(a, b);
                n_edges += 1;
            }
        });
    }
    let comps = uf.components();
    drop(uf);
    let mut min: HashMap<u64, u64> = HashMap::new();
    for &(n, r, _) in &comps {
        let m = min.entry(r).or_insert(n);
        *m = (*m).min(n);
    }
    let mut rows: Vec<(u64, u64, u64)> = comps
        .iter()
        .map(|&(n, r, s)| (n, min[&r], u64::from(s)))
        .collect();
    drop(comps);
    rows.sort_unstable();
    let mut w = BufWriter::new(File::create(out).unwrap());
    for (a, b, c) in &rows {
        for x in [a, b, c] {
            w.write_all(&x.to_le_bytes()).unwrap();
        }
    }
    w.flush().unwrap();
    println!(
        "{{\"edges\": {n_edges}, \"nodes\": {}, \"components\": {}}}",
        rows.len(),
        min.len()
    );
}

fn compare(dir: &Path, round: u32, out: &Path) {
    let got = cc::read_labels(dir, round).unwrap();
    let mut want = Vec::with_capacity(got.len());
    let mut r = BufReader::new(File::open(out).unwrap());
    let mut b = [0u8; 24];
    while r.read_exact(&mut b).is_ok() {
        let w = |i: usize| u64::from_le_bytes(b[i * 8..i * 8 + 8].try_into().unwrap());
        want.push((w(0), w(1), w(2)));
    }
    let same = got == want;
    let first_diff = got
        .iter()
        .zip(&want)
        .position(|(a, b)| a != b)
        .map_or(-1, |i| i as i64);
    println!(
        "{{\"same\": {same}, \"distributed\": {}, \"single\": {}, \"first_difference\": {first_diff:?}}}",
        got.len(),
        want.len()
    );
    if !same {
        std::process::exit(1);
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("gen") => gen(
            Path::new(&args[2]),
            arg(&args, 3),
            arg(&args, 4),
            arg(&args, 5),
            arg(&args, 6),
        ),
        Some("single") => single(Path::new(&args[2]), arg(&args, 3), Path::new(&args[4])),
        Some("compare") => compare(Path::new(&args[2]), arg(&args, 3), Path::new(&args[4])),
        _ => {
            eprintln!("usage: cc_graph gen|single|compare ... (see the source's doc)");
            std::process::exit(2);
        }
    }
}
