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
pub fn open_decoded(path: &Path) -> std::io::Result<Box<dyn Read + Send>> {
    let mut file = BufReader::with_capacity(1 << 20, File::open(path)?);
    let head = {
        use std::io::BufRead;
        let buf = file.fill_buf()?;
        buf[..buf.len().min(4)].to_vec()
    };
    Ok(match Compression::sniff(&head) {
        Compression::None => Box::new(file),
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(file)),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(file)?),
    })
}
