//! Opening a file with transparent decompression, detected from its first bytes.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

/// The compression of a stream, from its magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Not compressed.
    None,
    /// gzip (one or several members, as in per-record gzipped WARC files).
    Gzip,
    /// Zstandard.
    Zstd,
}

impl Compression {
    /// Detects the compression from the first bytes of a stream.
    pub fn sniff(head: &[u8]) -> Compression {
        if head.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else {
            Compression::None
        }
    }
}

/// Opens `path` and returns a reader of its decompressed bytes. The compression is detected from
/// the content, not the name, so a mislabelled file is still read right.
///
/// An uncompressed file is returned unbuffered: its readers ask for large chunks, and a buffer
/// in between would only add a copy of every byte.
pub fn open_decoded(path: &Path) -> std::io::Result<Box<dyn Read + Send>> {
    let mut file = File::open(path)?;
    let mut head = [0u8; 4];
    let mut got = 0;
    while got < head.len() {
        match file.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let whole = std::io::Cursor::new(head[..got].to_vec()).chain(file);
    Ok(match Compression::sniff(&head[..got]) {
        Compression::None => Box::new(whole),
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(
            BufReader::with_capacity(1 << 20, whole),
        )),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(
            BufReader::with_capacity(1 << 20, whole),
        )?),
    })
}
