//! Held-out evaluation of the repair steps on damaged twins of real gold pages.
//!
//! ```text
//! cargo run -p thresher-repair --example twins_eval [-- --verbose]
//! ```
//!
//! See `support/mod.rs` for how pages are rendered, labelled and damaged.

mod support;

use support::*;
use thresher_core::{Step, StepConfig};
use thresher_repair::{ChromeMethod, CollapseRepeatsConfig, StripChromeConfig};

fn baseline_steps() -> Vec<Box<dyn Step>> {
    vec![
        CollapseRepeatsConfig::default().build().unwrap(),
        StripChromeConfig {
            corpus_min_docs: 2,
            method: ChromeMethod::Rules,
            ..Default::default()
        }
        .build()
        .unwrap(),
    ]
}

fn main() {
    let verbose = std::env::args().any(|a| a == "--verbose");
    let baseline = std::env::args().any(|a| a == "--baseline");
    let corpus = corpus_dir();
    if let Some(rounds) = std::env::args().skip_while(|a| a != "--speed").nth(1) {
        speed(rounds.parse().expect("rounds"));
        return;
    }
    if std::env::args().any(|a| a == "--conventions") {
        conventions();
        return;
    }
    if std::env::args().any(|a| a == "--by-host") {
        by_host();
        return;
    }
    if !baseline {
        loso(verbose);
        return;
    }
    for &set in SETS {
        let pages = load_pages(&corpus, &[set], 1);
        let labels: Vec<Labelled> = pages.iter().map(label_page).collect();
        let n_twin = pages
            .iter()
            .zip(&labels)
            .filter(|(p, l)| twinnable(p, l))
            .count();
        let mut tops: Vec<usize> = labels.iter().map(|l| l.top.len()).collect();
        tops.sort_unstable();
        println!(
            "{set}: {} pages, {n_twin} twinnable; top chrome lines median {} p90 {}",
            pages.len(),
            tops[tops.len() / 2],
            tops[tops.len() * 9 / 10]
        );
        let idx: Vec<usize> = (0..pages.len()).collect();
        let (all, kinds) = evaluate(&pages, &labels, &idx, &baseline_steps);
        println!("  baseline all       {}", all.line());
        for (d, s) in DAMAGES.iter().zip(&kinds) {
            println!("  baseline {:10} {}", format!("{d:?}"), s.line());
        }
        if verbose {
            for f in all.failures.iter().take(20) {
                println!("    fail {f}");
            }
        }
    }
}

/// Leave one source out: for each set, train on the other three and score on it.
fn loso(verbose: bool) {
    let corpus = corpus_dir();
    let all: Vec<Page> = load_pages(&corpus, SETS, 1);
    let labels: Vec<Labelled> = all.iter().map(label_page).collect();
    let mut total = Score::default();
    let only: Option<String> = std::env::args().skip_while(|a| a != "--fold").nth(1);
    let show_fails: usize = std::env::args()
        .skip_while(|a| a != "--show-fails")
        .nth(1)
        .map_or(0, |v| v.parse().expect("a number"));
    for &held in SETS {
        if only.as_deref().is_some_and(|o| o != held) {
            continue;
        }
        let train_idx: Vec<usize> = (0..all.len()).filter(|&i| all[i].set != held).collect();
        let (model, train_score) = train(&all, &labels, &train_idx);
        let test: Vec<usize> = (0..all.len()).filter(|&i| all[i].set == held).collect();
        let (s, kinds) = evaluate(&all, &labels, &test, &|| steps_with(&model));
        println!(
            "held out {held}: threshold {} trailer threshold {} bonus {} margin {}",
            model.threshold, model.trail_threshold, model.repeated_bonus, model.stop_margin
        );
        println!("  train (3 sets)     {}", train_score.line());
        println!("  held out all       {}", s.line());
        for (d, k) in DAMAGES.iter().zip(&kinds) {
            println!("  held out {:10} {}", format!("{d:?}"), k.line());
        }
        if verbose {
            for f in s.failures.iter().take(30) {
                println!("    fail {f}");
            }
        }
        total.merge(&s);
        let mut shown = 0;
        for &i in &test {
            if shown >= show_fails {
                break;
            }
            let p = &all[i];
            if let Some(t) = twins(i, p, &labels[i])
                .into_iter()
                .find(|t| t.damage == Damage::Chrome)
            {
                if run_one(&steps_with(&model), &t.text) != joined(&p.gold) {
                    show_twin(p, &labels[i], &t, &model);
                    shown += 1;
                }
            }
        }
    }
    println!("all held-out sets  {}", total.line());
}

/// How each set's gold text begins and ends next to the page's chrome: whether the short line
/// just before the body (a headline, a date) is in the gold text or not. Where the sets
/// disagree, a model trained on three of them cuts the fourth's edge their way.
fn conventions() {
    // A short line that does not end like a sentence: a headline, a date, a label.
    let short = |l: &str| l.len() < 80 && !thresher_repair::model::ends_like_sentence(l);
    let pages = load_pages(&corpus_dir(), SETS, 1);
    println!("set: twinnable pages; gold starts with a short line | gold starts with a long line after a short chrome line; gold ends with a short line | gold ends with a long line before a short trailer line");
    for &set in SETS {
        let (mut n, mut a, mut b, mut c, mut d) = (0, 0, 0, 0, 0);
        for p in pages.iter().filter(|p| p.set == set) {
            let l = label_page(p);
            if !twinnable(p, &l) {
                continue;
            }
            n += 1;
            let (first, last) = (&p.gold[0], &p.gold[p.gold.len() - 1]);
            a += usize::from(short(first));
            b += usize::from(!short(first) && l.top.last().is_some_and(|x| short(x)));
            c += usize::from(short(last));
            d += usize::from(!short(last) && trailer(p, &l).first().is_some_and(|x| short(x)));
        }
        let pct = |k: usize| 100.0 * k as f64 / n.max(1) as f64;
        println!(
            "{set}: {n}; {:.0}% | {:.0}%; {:.0}% | {:.0}%",
            pct(a),
            pct(b),
            pct(c),
            pct(d)
        );
    }
}

/// Prints a twin's lines near its edges with their scores (from the start, from the end)
/// under `model`, and whether the steps kept them.
fn show_twin(p: &Page, l: &Labelled, t: &Twin, model: &thresher_repair::ChromeModel) {
    use thresher_repair::model::Doc;
    let out = run_one(&steps_with(model), &t.text);
    println!("=== {} NOT restored", p.id);
    let ls = thresher_repair::split_lines(&t.text);
    let words = thresher_repair::model::WordWeights::from(&model.vocab);
    let mut doc = Doc::new(&t.text, &ls).with_vocab(&words);
    let n = doc.units.len();
    let kept: std::collections::HashSet<&str> = out.lines().collect();
    let ntr = trailer(p, l).len();
    for u in 0..n {
        if !(u < l.top.len() + 4 || u + ntr + 4 >= n) {
            continue;
        }
        let lead = model.logit(&doc.features(&t.text, u, false), false) - model.threshold;
        let trail = model.logit(&doc.features(&t.text, u, true), true) - model.trail_threshold;
        let line = &t.text[ls[doc.units[u]].start..ls[doc.units[u]].end];
        let tag = if u < l.top.len() {
            "C"
        } else if u >= n - ntr {
            "T"
        } else {
            "g"
        };
        println!(
            "{tag} {} {:6.2} {:6.2} | {}",
            if kept.contains(line) { "kept" } else { "DROP" },
            lead,
            trail,
            line.chars().take(90).collect::<String>()
        );
    }
}

/// Throughput of `strip_chrome` alone (one thread) on the chrome twins and undamaged gold texts
/// of the four sets, `rounds` times over, with the built-in model and with the rules.
fn speed(rounds: usize) {
    use thresher_core::{Document, Outcome, StepCx};
    use thresher_repair::StripChrome;
    let pages = load_pages(&corpus_dir(), SETS, 1);
    let mut texts: Vec<String> = Vec::new();
    for (i, p) in pages.iter().enumerate() {
        let l = label_page(p);
        texts.extend(
            twins(i, p, &l)
                .into_iter()
                .filter(|t| t.damage == Damage::Chrome)
                .map(|t| t.text),
        );
        texts.push(joined(&p.gold));
    }
    let bytes: usize = texts.iter().map(String::len).sum();
    for method in [ChromeMethod::Model, ChromeMethod::Rules] {
        let step = StripChrome::new(StripChromeConfig {
            method,
            ..Default::default()
        })
        .expect("step");
        let mut cx = StepCx::default();
        let c0 = cpu_seconds();
        let t0 = std::time::Instant::now();
        let mut kept = 0usize;
        for _ in 0..rounds {
            for t in &texts {
                if let Outcome::Keep(d) = step.process(Document::new("d", t.clone()), &mut cx) {
                    kept += d.text().len();
                }
            }
        }
        let secs = t0.elapsed().as_secs_f64();
        let cpu = cpu_seconds() - c0;
        println!(
            "{method:?}: {} texts, {:.1} MB x {rounds} in {cpu:.2} s CPU ({secs:.2} s wall) = {:.1} MB/s per core (kept {:.1} MB)",
            texts.len(),
            bytes as f64 / 1e6,
            (bytes * rounds) as f64 / 1e6 / cpu.max(1e-9),
            kept as f64 / 1e6 / rounds.max(1) as f64
        );
    }
}

/// User + system CPU time of this (single-threaded) process so far, from /proc (Linux; 0
/// elsewhere), in seconds: on a shared machine, wall time says more about the neighbours.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name; 100 ticks/s
    // is the Linux USER_HZ.
    (ticks(11) + ticks(12)) / 100.0
}

/// The default recipe's repair chain over the Chrome twins of all pages with a known host, as
/// one corpus with `url` metadata (so `strip_chrome`'s edge statistics and
/// `corpus_boilerplate` group by site), with and without `corpus_boilerplate`; and over the
/// undamaged gold texts, grouped the same way.
fn by_host() {
    use thresher_core::{Document, Outcome, StepCx, StepMode};
    use thresher_repair::CorpusBoilerplateConfig;
    let pages = load_pages(&corpus_dir(), SETS, 1);
    let labels: Vec<Labelled> = pages.iter().map(label_page).collect();
    let mut hosts: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for p in &pages {
        if let Some(h) = &p.host {
            *hosts.entry(h.as_str()).or_default() += 1;
        }
    }
    let shared: Vec<usize> = (0..pages.len())
        .filter(|&i| pages[i].host.as_deref().is_some_and(|h| hosts[h] >= 2))
        .collect();
    let n_hosts = shared
        .iter()
        .filter_map(|&i| pages[i].host.as_deref())
        .collect::<std::collections::HashSet<_>>()
        .len();
    println!(
        "{} pages with a host; {} of them on {n_hosts} hosts with at least 2 pages",
        pages.iter().filter(|p| p.host.is_some()).count(),
        shared.len()
    );
    let method = if std::env::args().any(|a| a == "--model") {
        ChromeMethod::Model
    } else {
        ChromeMethod::Rules
    };
    let run = |with_boilerplate: bool, docs: Vec<Document>| -> Vec<String> {
        let mut steps: Vec<Box<dyn thresher_core::Step>> = vec![
            CollapseRepeatsConfig::default().build().unwrap(),
            StripChromeConfig {
                corpus_min_docs: 2,
                method,
                ..Default::default()
            }
            .build()
            .unwrap(),
        ];
        if with_boilerplate {
            steps.push(
                CorpusBoilerplateConfig {
                    group_by: Some("url".into()),
                    ..Default::default()
                }
                .build()
                .unwrap(),
            );
        }
        let mut cur = docs;
        let mut cx = StepCx::default();
        for s in &steps {
            if s.mode() == StepMode::TwoPass {
                for d in &cur {
                    s.observe(d).unwrap();
                }
                s.end_observe().unwrap();
            }
            cur = cur
                .into_iter()
                .map(|d| match s.process(d, &mut cx) {
                    Outcome::Keep(d) => d,
                    o => panic!("{o:?}"),
                })
                .collect();
        }
        cur.iter().map(|d| d.text().to_string()).collect()
    };
    let doc = |i: usize, text: String| {
        let mut d = Document::new(pages[i].id.clone(), text);
        let url = format!("https://{}/{}", pages[i].host.as_deref().unwrap_or(""), i);
        d.metadata.insert("url".into(), url.into());
        d
    };
    for with in [false, true] {
        let mut tw: Vec<(usize, Twin)> = Vec::new();
        for &i in &shared {
            if let Some(t) = twins(i, &pages[i], &labels[i])
                .into_iter()
                .find(|t| t.damage == Damage::Chrome)
            {
                tw.push((i, t));
            }
        }
        let outs = run(
            with,
            tw.iter().map(|(i, t)| doc(*i, t.text.clone())).collect(),
        );
        let mut score = Score::default();
        for ((i, t), o) in tw.iter().zip(&outs) {
            score.add_twin(&pages[*i], t, o);
        }
        let golds: Vec<usize> = shared
            .iter()
            .copied()
            .filter(|&i| !pages[i].gold.is_empty())
            .collect();
        let outs = run(
            with,
            golds
                .iter()
                .map(|&i| doc(i, joined(&pages[i].gold)))
                .collect(),
        );
        for (&i, o) in golds.iter().zip(&outs) {
            score.add_undamaged(&pages[i], o);
            if with && std::env::args().any(|a| a == "--show-lost") {
                let kept: std::collections::HashSet<&str> = o.lines().collect();
                for g in pages[i].gold.iter().filter(|g| !kept.contains(g.as_str())) {
                    println!(
                        "lost {} | {}",
                        pages[i].id,
                        g.chars().take(100).collect::<String>()
                    );
                }
            }
        }
        println!(
            "chrome twins by host, {}: {}",
            if with {
                "with corpus_boilerplate"
            } else {
                "without corpus_boilerplate"
            },
            score.line()
        );
    }
}
