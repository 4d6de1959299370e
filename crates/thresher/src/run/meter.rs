//! How much of the input, in bytes on disk, has been read: the progress bar's position against
//! the known total. The reader counts decompressed bytes; for an uncompressed file they are
//! its bytes on disk, for a compressed one (gzip, zstd, Parquet) they are turned into bytes on
//! disk with the compression ratio of the compressed files already read (3 until one is done),
//! and a file counts in full once the reader has moved past it.

use std::collections::HashMap;
use std::sync::Arc;

use thresher_io::InputFile;

/// The ratio assumed for a compressed file until one has been read to its end.
const DEFAULT_RATIO: f64 = 3.0;

/// A compressed file's estimate stays below its size until the reader has moved past it.
const MAX_ESTIMATE: f64 = 0.98;

pub(super) struct InputMeter {
    /// Size on disk and whether the decompressed bytes are the bytes on disk, per file.
    files: HashMap<Arc<str>, (u64, bool)>,
    /// The file being read and its decompressed bytes so far.
    current: Option<(Arc<str>, u64)>,
    /// Bytes on disk of the files read to their end.
    done: u64,
    /// Decompressed and on-disk bytes of the compressed files read to their end.
    ratio: (u64, u64),
}

impl InputMeter {
    /// A meter for `files` (sizes from the file system; a file that cannot be looked at
    /// counts 0); returns it with the total size.
    pub(super) fn new(files: &[InputFile]) -> (Self, u64) {
        let mut map = HashMap::new();
        let mut total = 0;
        for f in files {
            // Objects in a store: the size their listing gave; a byte range: its length.
            let size = f.read_len();
            let name = f.path.to_string_lossy();
            let compressed = [".gz", ".zst", ".parquet", ".bz2", ".xz"]
                .iter()
                .any(|s| name.ends_with(s));
            total += size;
            map.insert(Arc::from(name.as_ref()), (size, !compressed));
        }
        let meter = InputMeter {
            files: map,
            current: None,
            done: 0,
            ratio: (0, 0),
        };
        (meter, total)
    }

    /// Counts `bytes` (decompressed) read from `file`; returns the estimated bytes on disk read.
    pub(super) fn add(&mut self, file: &Arc<str>, bytes: u64) -> u64 {
        match &mut self.current {
            Some((f, n)) if f == file => *n += bytes,
            _ => {
                self.close_current();
                self.current = Some((file.clone(), bytes));
            }
        }
        self.position()
    }

    /// The file being read is done: it counts in full.
    fn close_current(&mut self) {
        if let Some((f, n)) = self.current.take() {
            if let Some(&(size, exact)) = self.files.get(&f) {
                self.done += size;
                if !exact {
                    self.ratio.0 += n;
                    self.ratio.1 += size;
                }
            }
        }
    }

    /// The estimated bytes on disk read.
    fn position(&self) -> u64 {
        let Some((f, n)) = &self.current else {
            return self.done;
        };
        let Some(&(size, exact)) = self.files.get(f) else {
            return self.done;
        };
        let part = if exact {
            (*n).min(size)
        } else {
            let ratio = if self.ratio.1 > 0 {
                self.ratio.0 as f64 / self.ratio.1 as f64
            } else {
                DEFAULT_RATIO
            };
            (*n as f64 / ratio.max(1e-3)).min(size as f64 * MAX_ESTIMATE) as u64
        };
        self.done + part
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use thresher_io::Format;

    #[test]
    fn counts_bytes_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.jsonl");
        let b = dir.path().join("b.jsonl.gz");
        std::fs::write(&a, vec![b'x'; 1000]).unwrap();
        std::fs::write(&b, vec![b'x'; 100]).unwrap();
        let files: Vec<InputFile> = [&a, &b]
            .iter()
            .map(|p| InputFile {
                path: p.to_path_buf(),
                format: Format::Jsonl,
                size: None,
                range: None,
            })
            .collect();
        let (mut m, total) = InputMeter::new(&files);
        assert_eq!(total, 1100);
        let (na, nb): (Arc<str>, Arc<str>) = (
            Arc::from(a.to_string_lossy().as_ref()),
            Arc::from(b.to_string_lossy().as_ref()),
        );
        assert_eq!(m.add(&na, 400), 400);
        assert_eq!(m.add(&na, 600), 1000);
        // Compressed: 3 decompressed bytes per byte on disk until one such file is done.
        assert_eq!(m.add(&nb, 150), 1050);
        // Never past the file's size while it is read.
        assert_eq!(m.add(&nb, 10_000), 1098);
    }
}
