//! Finding the input files: paths, directories and globs, each with its format.

use std::collections::HashSet;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::error::{IoError, Result};

/// What kind of records a file holds, from its name (compression suffixes aside).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One JSON object per line (`.jsonl`, `.json`, `.ndjson`).
    Jsonl,
    /// One document per file (`.txt`).
    Text,
    /// WARC / WET / ARC crawl files (`.warc`, `.wet`, `.arc`).
    Warc,
    /// One HTML page per file (`.html`, `.htm`).
    Html,
    /// Apache Parquet (`.parquet`, uncompressed name: Parquet compresses inside).
    Parquet,
}

impl Format {
    /// The format of a file, from its name: compression suffixes (`.gz`, `.zst`, `.zstd`) are
    /// looked through (except for `.parquet`); `None` for a name of no format thresher reads
    /// (`README.md`, `data.csv`, a name without an extension).
    pub fn from_path(path: &Path) -> Option<Format> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        if name.ends_with(".parquet") {
            return Some(Format::Parquet);
        }
        let base = strip_compression(&name);
        let ext = base.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
        match ext {
            "jsonl" | "json" | "ndjson" => Some(Format::Jsonl),
            "warc" | "wet" | "wat" | "arc" => Some(Format::Warc),
            "html" | "htm" | "xhtml" => Some(Format::Html),
            "txt" => Some(Format::Text),
            _ => None,
        }
    }

    /// The names this format is read from, for messages.
    pub const KNOWN: &'static str = ".jsonl/.json/.ndjson, .txt, .warc/.wet/.wat/.arc, \
        .html/.htm/.xhtml (each optionally .gz, .zst or .zstd), .parquet";
}

/// `name` without a trailing compression suffix.
pub fn strip_compression(name: &str) -> &str {
    for suffix in [".gz", ".zst", ".zstd"] {
        if let Some(b) = name.strip_suffix(suffix) {
            return b;
        }
    }
    name
}

/// One input file and its format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputFile {
    /// The file's path, or its URL for an object in a store (`s3://bucket/key`, see
    /// [`crate::store`]).
    pub path: PathBuf,
    /// Its format.
    pub format: Format,
    /// Its size in bytes when the listing that found it said (objects in a store); `None` for
    /// a local file, whose size [`InputFile::len`] reads from the file system.
    pub size: Option<u64>,
    /// Only the records that start in these bytes of the file (a shard's part of a large
    /// uncompressed JSONL, Parquet or WARC file, see [`InputFile::splittable`]); `None` for
    /// the whole file.
    pub range: Option<std::ops::Range<u64>>,
}

impl InputFile {
    /// The file's size in bytes (0 if it cannot be read: the reader reports the file then).
    pub fn len(&self) -> u64 {
        self.size
            .or_else(|| std::fs::metadata(&self.path).ok().map(|m| m.len()))
            .unwrap_or(0)
    }

    /// The bytes of the file this input reads: its range's length, else its size.
    pub fn read_len(&self) -> u64 {
        self.range
            .as_ref()
            .map_or_else(|| self.len(), |r| r.end.saturating_sub(r.start))
    }

    /// Whether the file can be read in byte ranges ([`InputFile::range`]): a local, regular,
    /// uncompressed JSONL file (its first bytes are no gzip or zstd magic, whatever its name;
    /// a range holds the lines that start in it), a local Parquet file (a range holds the
    /// row groups whose first byte is in it), or a local WARC or WET file, uncompressed or
    /// gzipped, that starts with a WARC record (a range holds the records, or the gzip
    /// members holding one record each, that start in it, with a whole-file read's offsets;
    /// a file that is one gzip stream is read by the range at its start; see docs/dedup.md).
    /// Another compressed stream (zstd, gzipped JSONL), an ARC (`.arc`, `.arc.gz`), HTML or
    /// text file is read whole.
    pub fn splittable(&self) -> bool {
        use std::io::Read;
        if !matches!(self.format, Format::Jsonl | Format::Parquet | Format::Warc)
            || self.is_remote()
        {
            return false;
        }
        // Looked at before opening: opening a FIFO without a writer blocks.
        if !std::fs::metadata(&self.path).is_ok_and(|m| m.is_file()) {
            return false;
        }
        if self.format == Format::Parquet {
            return true;
        }
        if self.format == Format::Warc {
            let name = self.path.to_string_lossy().to_ascii_lowercase();
            if strip_compression(&name).ends_with(".arc") {
                return false;
            }
            // The first record (64 KiB of a gzip file hold its first member's header block).
            let mut head = Vec::new();
            let read = std::fs::File::open(&self.path)
                .and_then(|f| f.take(256 << 10).read_to_end(&mut head));
            return read.is_ok() && crate::warc_range::can_split(&head);
        }
        let Ok(mut f) = std::fs::File::open(&self.path) else {
            return false;
        };
        let mut head = [0u8; 4];
        let mut n = 0;
        while n < head.len() {
            match f.read(&mut head[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
        crate::decode::Compression::sniff(&head[..n]) == crate::decode::Compression::None
    }

    /// Whether the file is empty (or its size cannot be read).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the file is an object in a store, named by its URL.
    pub fn is_remote(&self) -> bool {
        crate::store::path_is_url(&self.path)
    }
}

/// The input files, and the files of directories and globs that were left out because their
/// names are of no format thresher reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expanded {
    /// The files to read, in order.
    pub files: Vec<InputFile>,
    /// Files found in directories or by globs and not read (unknown format).
    pub skipped: Vec<PathBuf>,
}

/// Whether `dir` is a thresher output directory: it has a `.markers/` folder, or both a
/// `stats.json` and a `kept/` folder.
pub fn is_output_dir(dir: &Path) -> bool {
    dir.join(crate::outdir::MARKERS).is_dir()
        || (dir.join("stats.json").is_file() && dir.join("kept").is_dir())
}

/// [`expand_inputs_report`] without the skipped files.
pub fn expand_inputs(inputs: &[PathBuf]) -> Result<Vec<InputFile>> {
    expand_inputs_report(inputs).map(|e| e.files)
}

/// Expands the inputs given on the command line into the list of files to read, in a
/// deterministic order: each argument in turn; a directory contributes all its files
/// (recursively, sorted by path, hidden files and `.done`/`.tmp` files skipped); a pattern with
/// `*`, `?` or `[` is a glob (matches sorted). A path that does not exist (or a symbolic link
/// that cannot be resolved) is an error before any work starts, as is a glob or directory that
/// matches nothing.
///
/// Within one directory or glob, a directory reached twice (a symbolic link cycle such as
/// `sub/up -> ..`) is walked once, and a file reached twice (a link to a file already listed)
/// is listed once, at its first place in sorted order: each input record is read once.
///
/// Only files of a known format ([`Format::from_path`]) are read. A directory's or a glob's
/// other files are listed in [`Expanded::skipped`]; a file named explicitly with an unknown
/// extension is an error ([`IoError::UnknownFormat`]). A thresher output directory
/// ([`is_output_dir`]), given or met while walking, contributes the files of its `kept/`
/// folder only: never its `rejected/`, `errors/` or `stats.json`.
///
/// A URL (`s3://bucket/prefix/`, `gs://`, `az://`, `http(s)://`; see [`crate::store`]) is read
/// the same way: an object is a file, a prefix a directory (listed recursively, by the same
/// rules: hidden names, `.done`/`.tmp`, unknown formats and an output directory's
/// `rejected/`... left out), a `*`, `?` or `[` in the key a glob over the objects.
pub fn expand_inputs_report(inputs: &[PathBuf]) -> Result<Expanded> {
    let mut files = Vec::new();
    let mut skipped = Vec::new();
    let mut sizes = std::collections::HashMap::new();
    for input in inputs {
        let s = input.to_string_lossy();
        let before = files.len();
        if crate::store::path_is_url(input) {
            expand_url(&s, &mut files, &mut sizes, &mut skipped)?;
        } else if !input.exists() && s.contains(['*', '?', '[']) {
            let paths = glob::glob(&s).map_err(|e| IoError::Glob {
                pattern: s.to_string(),
                message: e.to_string(),
            })?;
            let mut found = Vec::new();
            let mut dirs = HashSet::new();
            for p in paths {
                let p = p.map_err(|e| {
                    let path = e.path().to_path_buf();
                    IoError::path(path, e.into())
                })?;
                if p.is_dir() {
                    walk_dir(&p, &mut found, &mut dirs)?;
                } else {
                    found.push(p);
                }
            }
            found.sort();
            split_known(dedup_files(found), &mut files, &mut skipped);
        } else if input.is_dir() {
            let mut found = Vec::new();
            walk_dir(input, &mut found, &mut HashSet::new())?;
            split_known(dedup_files(found), &mut files, &mut skipped);
        } else if input.exists() {
            if Format::from_path(input).is_none() {
                return Err(IoError::UnknownFormat(input.clone()));
            }
            files.push(input.clone());
        } else if let (Ok(_), Err(e)) = (input.symlink_metadata(), input.metadata()) {
            // The name exists but is a link that leads nowhere: say so (a loop gives "Too many
            // levels of symbolic links") rather than "not found".
            return Err(IoError::Unresolvable {
                path: input.clone(),
                source: e,
            });
        } else {
            return Err(IoError::NotFound(input.clone()));
        }
        if files.len() == before {
            let why = if skipped.is_empty() {
                String::new()
            } else {
                format!(
                    " of a format thresher reads ({}); {} other files, e.g. {}",
                    Format::KNOWN,
                    skipped.len(),
                    skipped[0].display()
                )
            };
            return Err(IoError::NoFiles(format!("{s}{why}")));
        }
    }
    let files = files
        .into_iter()
        .filter_map(|path| {
            Some(InputFile {
                format: Format::from_path(&path)?,
                size: sizes.get(&path).copied(),
                range: None,
                path,
            })
        })
        .collect();
    Ok(Expanded { files, skipped })
}

/// Expands one URL (see [`expand_inputs_report`]): the files found go to `files` (their sizes
/// to `sizes`), those of no known format to `skipped`.
fn expand_url(
    url: &str,
    files: &mut Vec<PathBuf>,
    sizes: &mut std::collections::HashMap<PathBuf, u64>,
    skipped: &mut Vec<PathBuf>,
) -> Result<()> {
    use crate::store::Location;
    let loc = Location::parse(url).map_err(|e| IoError::path(url, e))?;
    let key = loc.key().to_string();
    let mut found: Vec<(String, u64)> = Vec::new();
    let list = |at: &Location| {
        at.list().map_err(|e| {
            let hint = if at.is_http() {
                " (an http(s) server lists a folder only if it speaks WebDAV: name the files)"
            } else {
                ""
            };
            IoError::path(url, std::io::Error::new(e.kind(), format!("{e}{hint}")))
        })
    };
    if let Some(first) = key.find(['*', '?', '[']) {
        // A glob: list the folder before the first wildcard, match the keys below it.
        let dir = key[..first].rfind('/').map_or("", |i| &key[..i]);
        let pattern = glob::Pattern::new(&key).map_err(|e| IoError::Glob {
            pattern: url.to_string(),
            message: e.to_string(),
        })?;
        let opts = glob::MatchOptions {
            require_literal_separator: true,
            ..Default::default()
        };
        let root = loc.at_key(dir);
        for (rel, size) in listed_inputs(list(&root)?) {
            let full = if dir.is_empty() {
                rel.clone()
            } else {
                format!("{dir}/{rel}")
            };
            // A pattern that names a folder takes the files below it, as a local glob does.
            let hit = pattern.matches_with(&full, opts)
                || full
                    .match_indices('/')
                    .any(|(i, _)| pattern.matches_with(&full[..i], opts));
            if hit {
                found.push((full, size));
            }
        }
        let root = loc.at_key("");
        push_found(&root, found, files, sizes, skipped);
        return Ok(());
    }
    if !url.ends_with('/') {
        if let Some(size) = loc.head().map_err(|e| IoError::path(url, e))? {
            let path = PathBuf::from(loc.url());
            if Format::from_path(&path).is_none() {
                return Err(IoError::UnknownFormat(path));
            }
            sizes.insert(path.clone(), size);
            files.push(path);
            return Ok(());
        }
        if loc.is_http() {
            return Err(IoError::NotFound(PathBuf::from(url)));
        }
    }
    let listed = list(&loc)?;
    if listed.is_empty() {
        return Err(IoError::NotFound(PathBuf::from(url)));
    }
    found.extend(listed_inputs(listed));
    push_found(&loc, found, files, sizes, skipped);
    Ok(())
}

/// The objects of a listing (keys relative to the listed folder) that a directory walk would
/// take: none under a hidden folder or with a hidden name, no `.done`/`.tmp` file, and of a
/// thresher output folder (one with `.markers/`, or with `stats.json` and `kept/`) only what
/// is in its `kept/`. Ordered as a directory walk orders files: folder by folder, by name.
fn listed_inputs(listed: Vec<(String, u64)>) -> Vec<(String, u64)> {
    use std::collections::HashSet;
    // The folders (relative, "" for the listed one, else ending with '/') that are outputs.
    let mut markers = HashSet::new();
    let mut stats = HashSet::new();
    let mut kept = HashSet::new();
    for (rel, _) in &listed {
        let parts: Vec<&str> = rel.split('/').collect();
        let mut dir = String::new();
        for part in &parts[..parts.len() - 1] {
            if *part == crate::outdir::MARKERS {
                markers.insert(dir.clone());
            } else if *part == "kept" {
                kept.insert(dir.clone());
            }
            dir.push_str(part);
            dir.push('/');
        }
        if parts[parts.len() - 1] == "stats.json" {
            stats.insert(dir);
        }
    }
    let is_output = |d: &str| markers.contains(d) || (stats.contains(d) && kept.contains(d));
    let mut out: Vec<(String, u64)> = listed
        .into_iter()
        .filter(|(rel, _)| {
            let parts: Vec<&str> = rel.split('/').collect();
            let name = parts[parts.len() - 1];
            if parts.iter().any(|p| p.starts_with('.') || p.is_empty())
                || name.ends_with(".done")
                || name.ends_with(".tmp")
            {
                return false;
            }
            // Each output folder above the object must hold it in its `kept/` folder.
            let mut dir = String::new();
            for (i, part) in parts.iter().enumerate() {
                if is_output(&dir) && (i == parts.len() - 1 || *part != "kept") {
                    return false;
                }
                dir.push_str(part);
                dir.push('/');
            }
            true
        })
        .collect();
    out.sort_by(|a, b| a.0.split('/').cmp(b.0.split('/')));
    out
}

/// The listed objects (keys relative to `at`) as URLs: a known format to `files`, else to
/// `skipped`.
fn push_found(
    at: &crate::store::Location,
    found: Vec<(String, u64)>,
    files: &mut Vec<PathBuf>,
    sizes: &mut std::collections::HashMap<PathBuf, u64>,
    skipped: &mut Vec<PathBuf>,
) {
    for (rel, size) in found {
        let path = PathBuf::from(at.child(&rel).url());
        if Format::from_path(&path).is_some() {
            sizes.insert(path.clone(), size);
            files.push(path);
        } else {
            skipped.push(path);
        }
    }
}

/// Moves the files of a known format to `files`, the others to `skipped`.
fn split_known(found: Vec<PathBuf>, files: &mut Vec<PathBuf>, skipped: &mut Vec<PathBuf>) {
    for p in found {
        if Format::from_path(&p).is_some() {
            files.push(p);
        } else {
            skipped.push(p);
        }
    }
}

/// The identity of a file or directory (device and inode, links followed), `None` when it
/// cannot be read.
fn file_id(path: &Path) -> Option<(u64, u64)> {
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// `files` without the ones that are the same file as an earlier one (reached through a
/// symbolic link). A file whose identity cannot be read is kept: the reader reports it.
fn dedup_files(files: Vec<PathBuf>) -> Vec<PathBuf> {
    let mut seen = HashSet::new();
    files
        .into_iter()
        .filter(|p| file_id(p).is_none_or(|id| seen.insert(id)))
        .collect()
}

/// Lists the files under `dir`, sorted, depth first. `visited` holds the directories already
/// walked, by (device, inode), so that a symbolic link cycle is not followed round and round.
fn walk_dir(dir: &Path, out: &mut Vec<PathBuf>, visited: &mut HashSet<(u64, u64)>) -> Result<()> {
    if let Some(id) = file_id(dir) {
        if !visited.insert(id) {
            return Ok(());
        }
    }
    if is_output_dir(dir) {
        // A previous run's output: its kept documents only.
        let kept = dir.join("kept");
        if kept.is_dir() {
            return walk_dir(&kept, out, visited);
        }
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| IoError::path(dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for p in entries {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.starts_with('.') || name.ends_with(".done") || name.ends_with(".tmp") {
            continue;
        }
        if p.is_dir() {
            walk_dir(&p, out, visited)?;
        } else {
            out.push(p);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_from_names() {
        let f = |p: &str| Format::from_path(Path::new(p));
        assert_eq!(f("a/b.jsonl.gz"), Some(Format::Jsonl));
        assert_eq!(f("b.JSON.zst"), Some(Format::Jsonl));
        assert_eq!(f("x.warc.gz"), Some(Format::Warc));
        assert_eq!(f("x.html"), Some(Format::Html));
        assert_eq!(f("x.txt.gz"), Some(Format::Text));
        assert_eq!(f("train-00000-of-00002.parquet"), Some(Format::Parquet));
        assert_eq!(f("README"), None);
        assert_eq!(f("README.md"), None);
        assert_eq!(f("data.csv"), None);
    }

    #[test]
    fn missing_path_is_an_error_and_dirs_are_sorted() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("sub")).unwrap();
        std::fs::write(d.path().join("b.txt"), "b").unwrap();
        std::fs::write(d.path().join("sub/a.jsonl"), "").unwrap();
        std::fs::write(d.path().join(".hidden"), "").unwrap();
        let files = expand_inputs(&[d.path().to_path_buf()]).unwrap();
        let names: Vec<_> = files
            .iter()
            .map(|f| {
                f.path
                    .strip_prefix(d.path())
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert_eq!(names, ["b.txt", "sub/a.jsonl"]);
        let missing = d.path().join("nope.jsonl");
        assert!(matches!(
            expand_inputs(&[missing]),
            Err(IoError::NotFound(_))
        ));
        let pat = d.path().join("*.txt");
        assert_eq!(expand_inputs(&[pat]).unwrap().len(), 1);
        let none = d.path().join("*.warc");
        assert!(matches!(expand_inputs(&[none]), Err(IoError::NoFiles(_))));
    }

    fn names(files: &[InputFile], root: &Path) -> Vec<String> {
        files
            .iter()
            .map(|f| {
                let p = f.path.strip_prefix(root).unwrap();
                p.to_string_lossy().into_owned()
            })
            .collect()
    }

    /// `in/sub/up -> ..` used to make `in/b.jsonl` be read 41 times; a link to a file already
    /// listed made it be read twice.
    #[test]
    fn walk_dir_follows_a_symlink_cycle_once() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().join("in");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::write(root.join("b.jsonl"), "{}").unwrap();
        std::fs::write(root.join("sub/c.jsonl"), "{}").unwrap();
        std::os::unix::fs::symlink("..", root.join("sub/up")).unwrap();
        std::os::unix::fs::symlink("b.jsonl", root.join("z-link.jsonl")).unwrap();
        let files = expand_inputs(std::slice::from_ref(&root)).unwrap();
        assert_eq!(names(&files, &root), ["b.jsonl", "sub/c.jsonl"]);
        // The same through a glob.
        let files = expand_inputs(&[root.join("*")]).unwrap();
        assert_eq!(names(&files, &root), ["b.jsonl", "sub/c.jsonl"]);
    }

    /// `ln -s loop loop; -i loop` said "input not found".
    #[test]
    fn expand_inputs_names_a_symlink_loop() {
        let d = tempfile::tempdir().unwrap();
        let l = d.path().join("loop");
        std::os::unix::fs::symlink("loop", &l).unwrap();
        let err = expand_inputs(&[l]).unwrap_err();
        assert!(matches!(err, IoError::Unresolvable { .. }), "{err}");
        let msg = err.to_string();
        assert!(msg.contains("symbolic link"), "{msg}");
        assert!(msg.contains("Too many levels"), "{msg}");
    }
}
