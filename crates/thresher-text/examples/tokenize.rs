//! Differential-testing helper: reads one JSON string per line on stdin and prints the words of
//! each as a JSON array per line (`cargo run -p thresher-text --example tokenize < strings.jsonl`).

use std::io::{BufRead, Write};

fn main() -> std::io::Result<()> {
    let stdin = std::io::stdin();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for line in stdin.lock().lines() {
        let line = line?;
        let text: String = match serde_json::from_str(&line) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("bad input line: {e}");
                continue;
            }
        };
        let words = thresher_text::split_into_words(&text);
        writeln!(out, "{}", serde_json::to_string(&words).unwrap_or_default())?;
    }
    Ok(())
}
