//! With the `table` feature (the default), builds the language-ID table from lingua-rs's models
//! (see build_table.rs) and embeds it in release builds; debug builds read it from OUT_DIR.
//!
//! Without the feature, nothing is built and the table is read at run time from a file (its
//! path from `THRESHER_LANGID_TABLE` or `set_table_resolver`): the Python wheel, which must stay
//! under the package index's 100 MB file limit, takes the table from a separate data package.

#[cfg(feature = "table")]
mod build_table;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    // File mode: the table is read at run time instead of embedded. Debug builds use it too,
    // with the OUT_DIR copy as default: tests and examples would otherwise each carry a 173 MB
    // copy.
    println!("cargo::rustc-check-cfg=cfg(thresher_langid_file)");
    #[cfg(feature = "table")]
    {
        if std::env::var("PROFILE").as_deref() == Ok("debug") {
            println!("cargo:rustc-cfg=thresher_langid_file");
        }
        build_table::build();
    }
    #[cfg(not(feature = "table"))]
    println!("cargo:rustc-cfg=thresher_langid_file");
}
