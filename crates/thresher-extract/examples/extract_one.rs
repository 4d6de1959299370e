//! Prints the extraction of one page (a `.html` or `.html.gz` file), for debugging:
//! `cargo run --release -p thresher-extract --example extract_one -- PAGE [--tree|--debug]
//! [--markdown] [--links]`.

use std::io::Read;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first() else {
        eprintln!("usage: extract_one PAGE [--tree]");
        std::process::exit(2);
    };
    let mut raw = Vec::new();
    let read = std::fs::File::open(path).and_then(|mut f| {
        if path.ends_with(".gz") {
            flate2::read::GzDecoder::new(f).read_to_end(&mut raw)
        } else {
            f.read_to_end(&mut raw)
        }
    });
    if let Err(e) = read {
        eprintln!("{path}: {e}");
        std::process::exit(1);
    }
    let html = thresher_io::charset::decode_html(&raw, None).text;
    if args.iter().any(|a| a == "--tree") {
        let dom = match thresher_extract::dom::parse(
            &html,
            thresher_extract::dom::Budget {
                max_nodes: 1_000_000,
                max_depth: 1000,
            },
        ) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(1);
            }
        };
        let mut stack = vec![(0u32, 0usize)];
        while let Some((id, d)) = stack.pop() {
            let n = dom.node(id);
            if let Some(t) = n.tag() {
                println!(
                    "{}{} class={:?} id={:?} [{}]",
                    "  ".repeat(d),
                    t,
                    n.attr("class").unwrap_or(""),
                    n.attr("id").unwrap_or(""),
                    dom.text_of(id).split_whitespace().count()
                );
            }
            let kids: Vec<u32> = dom.children(id).collect();
            for k in kids.into_iter().rev() {
                stack.push((k, d + 1));
            }
        }
        return;
    }
    if args.iter().any(|a| a == "--debug") {
        let dom = thresher_extract::dom::parse(
            &html,
            thresher_extract::dom::Budget {
                max_nodes: 1_000_000,
                max_depth: 1000,
            },
        )
        .expect("budget");
        let (_, d) = thresher_extract::extract::extract_debug(&dom, &Default::default());
        print!("{d}");
        return;
    }
    let mut opts = thresher_extract::Options::default();
    if args.iter().any(|a| a == "--markdown") {
        opts.output_format = thresher_extract::OutputFormat::Markdown;
    }
    opts.include_links = args.iter().any(|a| a == "--links");
    match thresher_extract::extract_html(&html, &Default::default(), &opts) {
        Ok(e) => {
            println!(
                "title: {:?}\nauthor: {:?}\ndate: {:?}\nurl: {:?}\nlang: {:?}\n---\n{}",
                e.title, e.author, e.date, e.canonical_url, e.lang, e.text
            );
        }
        Err(e) => eprintln!("{e}"),
    }
}
