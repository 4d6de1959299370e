//! Writes the language-ID table this build uses to a file: the input of the Python data
//! package (python/langid-data/build_data.py), whose wheel carries it compressed.
//!
//! `cargo run --release -p thresher-langid --example langid_table -- langid.bin`
fn main() {
    let Some(out) = std::env::args_os().nth(1) else {
        eprintln!("usage: langid_table OUT.bin");
        std::process::exit(2);
    };
    let bytes = thresher_langid::table_bytes().unwrap_or_else(|e| {
        eprintln!("langid_table: {e}");
        std::process::exit(1);
    });
    // Temporary file + rename: a reader never sees half a table.
    let out = std::path::PathBuf::from(out);
    let tmp = out.with_extension("tmp");
    if let Err(e) = std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, &out)) {
        eprintln!("langid_table: {}: {e}", out.display());
        std::process::exit(1);
    }
    println!("{} bytes -> {}", bytes.len(), out.display());
}
