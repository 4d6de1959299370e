//! The embedded n-gram table (built by build.rs from lingua-rs's models; layout documented there).

use crate::hash::{fingerprint, home_slot};
use crate::lang::LANGUAGE_COUNT;
use std::sync::OnceLock;

/// Release builds carry the table inside the binary: nothing to install beside it.
#[cfg(not(thresher_langid_file))]
static TABLE_BYTES: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/langid.bin"));

/// Debug builds (tests, examples) read the table from the build directory at run time instead:
/// embedded, its 173 MB would be copied into every test binary and example of the workspace,
/// the likely cause of CI running out of disk. `THRESHER_LANGID_TABLE` names another copy of
/// the file.
#[cfg(thresher_langid_file)]
const TABLE_PATH: &str = concat!(env!("OUT_DIR"), "/langid.bin");

/// Languages per dense row (LANGUAGE_COUNT padded to whole SIMD vectors).
pub(crate) const ROW: usize = 80;
/// Lanes of the row a position is built in: one per 7-bit posting language index.
pub(crate) const WORK_ROW: usize = 128;
/// Payload bit of an n-gram that has a dense row rather than postings (every letter and
/// bigram, and the longer n-grams many languages know).
pub(crate) const DENSE_BIT: u32 = 1 << 31;

/// Whether a payload is a dense row: one bit test, false for the detector's markers below
/// DENSE_BIT (no postings list starts that high).
#[inline]
pub(crate) fn is_row(payload: u32) -> bool {
    payload & DENSE_BIT != 0
}

/// One n-gram table per length, over the table bytes (no parse).
pub(crate) struct Model {
    bytes: &'static [u8],
    /// (slot count, byte offset of the slots) for n-gram length n at index n (1..=5; the
    /// others are empty tables, so an index masked to 3 bits needs no range check).
    orders: [(u32, usize); 8],
    /// The dense rows, copied out once (29 MB, on 2 MB pages when possible) so a row is one
    /// aligned memcpy and rows do not miss the TLB.
    rows: &'static [[u16; ROW]],
    postings: usize,
}

#[inline]
fn u32_at(b: &[u8], at: usize) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(a)
}

#[inline]
fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

#[inline]
fn prefetch(bytes: &[u8], at: usize) {
    // A prefetch cannot fault, so the address needs no range check (callers stay in range).
    prefetch_ptr(bytes.as_ptr().wrapping_add(at));
}

/// Asks the CPU to start loading the cache line holding `p` (a hint; it reads nothing).
#[inline]
fn prefetch_ptr(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is only a hint to the cache; it cannot fault whatever the address, and
    // every caller passes a pointer into a live slice anyway.
    #[allow(unused_unsafe)]
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p.cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// Memory of `len` bytes backed by 2 MB pages where the kernel allows them, for the table.
///
/// Lookups hit random places of a 173 MB table; with 4 KB pages nearly every one also misses the
/// TLB and waits for a page walk. On 2 MB pages the whole table needs under 100 TLB entries.
/// Costs one copy at load (tens of milliseconds) and the table's size in private memory.
/// Returns None (and the caller uses ordinary memory) when the mapping fails.
#[cfg(target_os = "linux")]
fn huge_page_buffer(len: usize) -> Option<&'static mut [u8]> {
    const HUGE: usize = 2 << 20;
    let map_len = len + HUGE;
    // SAFETY: an anonymous private mapping of fresh memory; all arguments are plain values. A
    // failed call returns MAP_FAILED, which is checked.
    let base = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            map_len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if base == libc::MAP_FAILED {
        return None;
    }
    let aligned = (base as usize).next_multiple_of(HUGE) as *mut u8;
    // SAFETY: `aligned..aligned + len` lies inside the mapping (it is `map_len` = len + 2 MB
    // long and `aligned` is at most 2 MB past its start); the mapping is never unmapped, so the
    // slice lives for the rest of the process, and nothing else refers to it. madvise only
    // advises: its failure leaves ordinary pages, which is fine.
    unsafe {
        libc::madvise(aligned.cast(), len, libc::MADV_HUGEPAGE);
        Some(std::slice::from_raw_parts_mut(aligned, len))
    }
}

#[cfg(not(target_os = "linux"))]
fn huge_page_buffer(_len: usize) -> Option<&'static mut [u8]> {
    None
}

/// The table bytes, on 2 MB pages when possible.
#[cfg(not(thresher_langid_file))]
fn load_table() -> &'static [u8] {
    match huge_page_buffer(TABLE_BYTES.len()) {
        Some(buf) => {
            buf.copy_from_slice(TABLE_BYTES);
            buf
        }
        None => TABLE_BYTES,
    }
}

/// The table bytes, read from the build directory (or `THRESHER_LANGID_TABLE`).
#[cfg(thresher_langid_file)]
fn load_table() -> &'static [u8] {
    use std::io::Read;
    let path = std::env::var_os("THRESHER_LANGID_TABLE")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| TABLE_PATH.into());
    let read = || -> std::io::Result<&'static [u8]> {
        let mut file = std::fs::File::open(&path)?;
        let len = usize::try_from(file.metadata()?.len()).map_err(std::io::Error::other)?;
        let buf = match huge_page_buffer(len) {
            Some(buf) => buf,
            None => Vec::leak(vec![0u8; len]),
        };
        file.read_exact(buf)?;
        Ok(buf)
    };
    // The file is an output of this crate's own build: its absence is a broken build directory,
    // not bad input.
    read().unwrap_or_else(|e| {
        panic!(
            "langid table {}: {e} (debug builds read it from the build directory; rebuild, or set THRESHER_LANGID_TABLE)",
            path.display()
        )
    })
}

impl Model {
    /// The embedded model, checked once.
    pub(crate) fn get() -> &'static Model {
        static MODEL: OnceLock<Model> = OnceLock::new();
        MODEL.get_or_init(|| Model::parse(load_table()))
    }

    fn parse(bytes: &'static [u8]) -> Model {
        // The table is produced by our own build script in the same build: a mismatch is a build
        // bug, not an input error, so it is fatal.
        assert!(
            bytes.len() > 104 && &bytes[..8] == b"THLID004",
            "langid table: bad magic"
        );
        assert_eq!(
            u32_at(bytes, 8) as usize,
            LANGUAGE_COUNT,
            "langid table: language count"
        );
        let mut orders = [(0u32, 0usize); 8];
        for (n, o) in orders[1..=5].iter_mut().enumerate() {
            let at = 12 + n * 12;
            *o = (u32_at(bytes, at), u64_at(bytes, at + 4) as usize);
            assert!(
                o.1 + o.0 as usize * 8 <= bytes.len(),
                "langid table: slots out of range"
            );
        }
        let rows = u64_at(bytes, 72) as usize;
        let row_count = u64_at(bytes, 80) as usize;
        let postings = u64_at(bytes, 88) as usize;
        let count = u64_at(bytes, 96) as usize;
        assert_eq!(
            rows + row_count * ROW * 2,
            postings,
            "langid table: rows size"
        );
        assert_eq!(
            postings + count * 3,
            bytes.len(),
            "langid table: postings size"
        );
        let out: &'static mut [[u16; ROW]] = match huge_page_buffer(row_count * ROW * 2) {
            // SAFETY: the buffer is 2 MB-aligned (so aligned for u16), exactly row_count rows
            // long, lives for the rest of the process and is referred to by nothing else; every
            // bit pattern is a valid u16.
            Some(buf) => unsafe {
                std::slice::from_raw_parts_mut(buf.as_mut_ptr().cast::<[u16; ROW]>(), row_count)
            },
            None => Vec::leak(vec![[0u16; ROW]; row_count]),
        };
        for (row, chunk) in out
            .iter_mut()
            .zip(bytes[rows..postings].chunks_exact(ROW * 2))
        {
            for (o, pair) in row.iter_mut().zip(chunk.chunks_exact(2)) {
                *o = u16::from_le_bytes([pair[0], pair[1]]);
            }
        }
        let rows: &'static [[u16; ROW]] = out;
        Model {
            bytes,
            orders,
            rows,
            postings,
        }
    }

    /// Size of the embedded table in bytes.
    pub(crate) fn size(&self) -> usize {
        self.bytes.len()
    }

    /// Asks the CPU to start loading the home slot of a hashed n-gram (a hint; never faults).
    #[inline]
    pub(crate) fn prefetch_slot(&self, n: usize, h: u64) {
        let (slots, base) = self.orders[n & 7];
        prefetch(self.bytes, base + home_slot(h, slots) as usize * 8);
    }

    /// Asks the CPU to start loading what `find` returned.
    #[inline]
    pub(crate) fn prefetch_payload(&self, payload: u32) {
        if is_row(payload) {
            // A row is 160 bytes: at most 3 cache lines. Prefetches cannot fault, so the
            // addresses need no range check.
            let row = self
                .rows
                .as_ptr()
                .wrapping_add((payload & !DENSE_BIT) as usize)
                .cast::<u8>();
            for at in [0, 64, 128] {
                prefetch_ptr(row.wrapping_add(at));
            }
        } else {
            // A list of up to 21 postings spans at most 2 cache lines; longer ones are rare.
            let at = self.postings + payload as usize * 3;
            prefetch(self.bytes, at);
            prefetch(self.bytes, at + 63);
        }
    }

    /// Finds an n-gram of `n` characters by its `ngram_hash`: DENSE_BIT | the index of its
    /// dense row, or the index of its first posting, or None when no language has it.
    #[inline]
    pub(crate) fn find(&self, n: usize, h: u64) -> Option<u32> {
        let (slots, base) = self.orders[n & 7];
        if slots == 0 {
            return None;
        }
        let fp = fingerprint(h);
        let mut s = home_slot(h, slots);
        loop {
            let v = u64_at(self.bytes, base + s as usize * 8);
            if v == 0 {
                return None;
            }
            if (v >> 32) as u32 == fp {
                return Some(v as u32);
            }
            s += 1;
            if s == slots {
                s = 0;
            }
        }
    }

    /// Copies dense row `index` (q per language, 0 = unknown) into the first ROW lanes of `out`.
    #[inline]
    pub(crate) fn row(&self, payload: u32, out: &mut [u16; WORK_ROW]) {
        out[..ROW].copy_from_slice(&self.rows[(payload & !DENSE_BIT) as usize]);
    }

    /// Writes each posting of list `index` into `out` (language -> q). `out` has a lane for
    /// every 7-bit language index, so no posting needs a range check.
    #[inline]
    pub(crate) fn overlay_postings(&self, index: u32, out: &mut [u16; WORK_ROW]) {
        let list = self
            .bytes
            .get(self.postings + index as usize * 3..)
            .unwrap_or_default();
        for p in list.chunks_exact(3) {
            out[usize::from(p[0] & 0x7f)] = u16::from_le_bytes([p[1], p[2]]);
            if p[0] & 0x80 != 0 {
                return;
            }
        }
    }
}
