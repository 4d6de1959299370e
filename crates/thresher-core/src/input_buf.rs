//! The bytes of a batch of input records, shared by the documents that point into them.

use std::fmt;
use std::ops::{Deref, Range};
use std::sync::Arc;

/// The bytes a reader read for a batch of records: a buffer it filled, or a region of a
/// memory-mapped input file. Documents keep their text as the input encoded it, as a range of
/// these bytes (see [`RawText`](crate::RawText)), and a writer of that encoding copies an
/// unedited text straight from them.
#[derive(Default)]
pub struct InputBuf {
    kind: Kind,
}

enum Kind {
    Owned(Vec<u8>),
    Mapped {
        map: Arc<dyn AsRef<[u8]> + Send + Sync>,
        range: Range<usize>,
    },
}

impl Default for Kind {
    fn default() -> Self {
        Kind::Owned(Vec::new())
    }
}

impl InputBuf {
    /// Bytes in a buffer of their own.
    pub fn owned(bytes: Vec<u8>) -> Self {
        InputBuf {
            kind: Kind::Owned(bytes),
        }
    }

    /// The bytes `range` of `map` (a memory map, or anything else that holds bytes). `None`
    /// if the range is not within it.
    pub fn mapped(map: Arc<dyn AsRef<[u8]> + Send + Sync>, range: Range<usize>) -> Option<Self> {
        (*map).as_ref().get(range.clone())?;
        Some(InputBuf {
            kind: Kind::Mapped { map, range },
        })
    }

    /// The buffer back, for reuse, if the bytes are in one of their own.
    pub fn into_vec(self) -> Option<Vec<u8>> {
        match self.kind {
            Kind::Owned(v) => Some(v),
            Kind::Mapped { .. } => None,
        }
    }
}

impl Deref for InputBuf {
    type Target = [u8];

    #[inline]
    fn deref(&self) -> &[u8] {
        match &self.kind {
            Kind::Owned(v) => v,
            // In range: checked when made.
            Kind::Mapped { map, range } => &(**map).as_ref()[range.clone()],
        }
    }
}

impl fmt::Debug for InputBuf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            Kind::Owned(_) => "owned",
            Kind::Mapped { .. } => "mapped",
        };
        write!(f, "InputBuf({kind}, {} bytes)", self.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owned_and_mapped_bytes() {
        let b = InputBuf::owned(b"abc".to_vec());
        assert_eq!(&*b, b"abc");
        assert_eq!(b.into_vec(), Some(b"abc".to_vec()));
        let map: Arc<dyn AsRef<[u8]> + Send + Sync> = Arc::new(b"0123456789".to_vec());
        let m = InputBuf::mapped(map.clone(), 2..5).unwrap();
        assert_eq!(&*m, b"234");
        assert_eq!(format!("{m:?}"), "InputBuf(mapped, 3 bytes)");
        assert!(m.into_vec().is_none());
        assert!(InputBuf::mapped(map, 5..11).is_none());
        assert!(InputBuf::default().is_empty());
    }
}
