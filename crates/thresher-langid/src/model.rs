//! The embedded n-gram table (built by build.rs from lingua-rs's models; layout documented there).

use crate::hash::{fingerprint, home_slot};
use crate::lang::LANGUAGE_COUNT;
use std::sync::{Mutex, OnceLock};

static MODEL: OnceLock<Model> = OnceLock::new();

/// Release builds with the `table` feature carry the table inside the binary: nothing to
/// install beside it.
#[cfg(not(thresher_langid_file))]
static TABLE_BYTES: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/langid.bin"));

/// Debug builds with the `table` feature (tests, examples) read the table from the build
/// directory at run time instead: embedded, its 173 MB would be copied into every test binary
/// and example of the workspace, the likely cause of CI running out of disk.
#[cfg(all(thresher_langid_file, feature = "table"))]
const TABLE_PATH: &str = concat!(env!("OUT_DIR"), "/langid.bin");

/// Names the table file for builds that read it at run time (see [`set_table_resolver`]).
pub const TABLE_ENV: &str = "THRESHER_LANGID_TABLE";

/// A callback that finds the table file, or says why there is none (a message for the user:
/// what to install). See [`set_table_resolver`].
pub type TableResolver = fn() -> Result<std::path::PathBuf, String>;

static RESOLVER: OnceLock<TableResolver> = OnceLock::new();

/// Sets how a build that reads the table at run time finds it when `THRESHER_LANGID_TABLE` is
/// not set: the Python package points it at its data package (which unpacks the table once,
/// on first use). The first call wins. Builds that embed the table never call it.
pub fn set_table_resolver(resolver: TableResolver) {
    let _ = RESOLVER.set(resolver);
}

/// The table file: `THRESHER_LANGID_TABLE`, else the resolver's answer, else (debug builds with
/// the table built) the build directory's copy.
#[cfg(thresher_langid_file)]
fn table_path() -> Result<std::path::PathBuf, String> {
    if let Some(p) = std::env::var_os(TABLE_ENV).filter(|p| !p.is_empty()) {
        return Ok(p.into());
    }
    if let Some(resolve) = RESOLVER.get() {
        // Once found, the resolver (which may unpack the table) is not asked again.
        static RESOLVED: OnceLock<std::path::PathBuf> = OnceLock::new();
        if let Some(p) = RESOLVED.get() {
            return Ok(p.clone());
        }
        let p = resolve()?;
        return Ok(RESOLVED.get_or_init(|| p).clone());
    }
    #[cfg(feature = "table")]
    return Ok(TABLE_PATH.into());
    #[cfg(not(feature = "table"))]
    Err(format!(
        "the language-ID table is not built into this program (thresher-langid without its \
         `table` feature): set {TABLE_ENV} to the table's file"
    ))
}

/// Whether the table can be had, without loading it: for refusing a recipe when it is loaded
/// rather than when its steps are built. Embedded tables always can.
pub(crate) fn check_table() -> Result<(), String> {
    #[cfg(thresher_langid_file)]
    if Model::loaded().is_none() {
        let path = table_path()?;
        match std::fs::metadata(&path) {
            Ok(m) if m.is_file() => {}
            Ok(_) => return Err(format!("language-ID table {}: not a file", path.display())),
            Err(e) => return Err(format!("language-ID table {}: {e}", path.display())),
        }
    }
    Ok(())
}

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
fn load_table() -> Result<&'static [u8], String> {
    check_layout(TABLE_BYTES, TABLE_BYTES.len())?;
    Ok(match huge_page_buffer(TABLE_BYTES.len()) {
        Some(buf) => {
            buf.copy_from_slice(TABLE_BYTES);
            buf
        }
        None => TABLE_BYTES,
    })
}

/// The table bytes, read from its file (see `table_path`). The header is checked against the
/// file's length before the rest is read, so a wrong file costs no 173 MB allocation.
#[cfg(thresher_langid_file)]
fn load_table() -> Result<&'static [u8], String> {
    use std::io::Read;
    let path = table_path()?;
    let read = || -> std::io::Result<&'static [u8]> {
        let mut file = std::fs::File::open(&path)?;
        let len = usize::try_from(file.metadata()?.len()).map_err(std::io::Error::other)?;
        let mut header = [0u8; HEADER_LEN];
        file.read_exact(&mut header[..HEADER_LEN.min(len)])?;
        check_layout(&header[..HEADER_LEN.min(len)], len).map_err(std::io::Error::other)?;
        let buf = match huge_page_buffer(len) {
            Some(buf) => buf,
            None => Vec::leak(vec![0u8; len]),
        };
        buf[..HEADER_LEN].copy_from_slice(&header);
        file.read_exact(&mut buf[HEADER_LEN..])?;
        Ok(buf)
    };
    read().map_err(|e| format!("language-ID table {}: {e}", path.display()))
}

/// Bytes of the table's header: magic, language count, 5 x (slots, offset), 4 x u64.
const HEADER_LEN: usize = 12 + 5 * 12 + 32;

/// The table's layout, from its header.
struct Layout {
    orders: [(u32, usize); 8],
    rows: usize,
    row_count: usize,
    postings: usize,
}

/// The slot arrays of a table, (byte offset, slot count) per n-gram length: what
/// `pack` re-encodes.
pub(crate) fn layout_regions(bytes: &[u8]) -> Result<Vec<(usize, usize)>, String> {
    let layout = check_layout(bytes, bytes.len())?;
    Ok(layout.orders[1..=5]
        .iter()
        .map(|&(slots, base)| (base, slots as usize))
        .collect())
}

/// Reads and checks the header (`header`: at least its first HEADER_LEN bytes, or all of a
/// shorter file) of a table of `len` bytes: every section within the file, and the sections
/// adding up to exactly `len`.
fn check_layout(header: &[u8], len: usize) -> Result<Layout, String> {
    if header.len() < HEADER_LEN || &header[..8] != b"THLID004" {
        return Err("not a thresher language-ID table (format THLID004)".into());
    }
    if u32_at(header, 8) as usize != LANGUAGE_COUNT {
        return Err(format!(
            "table of {} languages, this build knows {LANGUAGE_COUNT}",
            u32_at(header, 8)
        ));
    }
    let bad = || "table sections out of range (truncated or corrupt file)".to_string();
    let mut orders = [(0u32, 0usize); 8];
    for (n, o) in orders[1..=5].iter_mut().enumerate() {
        let at = 12 + n * 12;
        let slots = u32_at(header, at);
        let base = usize::try_from(u64_at(header, at + 4)).map_err(|_| bad())?;
        let end = (slots as usize)
            .checked_mul(8)
            .and_then(|b| b.checked_add(base))
            .ok_or_else(bad)?;
        if end > len {
            return Err(bad());
        }
        *o = (slots, base);
    }
    let field = |at: usize| usize::try_from(u64_at(header, at)).map_err(|_| bad());
    let (rows, row_count, postings, count) = (field(72)?, field(80)?, field(88)?, field(96)?);
    let rows_end = row_count
        .checked_mul(ROW * 2)
        .and_then(|b| b.checked_add(rows));
    let postings_end = count.checked_mul(3).and_then(|b| b.checked_add(postings));
    if rows_end != Some(postings) || postings_end != Some(len) {
        return Err(bad());
    }
    Ok(Layout {
        orders,
        rows,
        row_count,
        postings,
    })
}

impl Model {
    /// The model, loaded (and checked) on first use.
    ///
    /// # Panics
    ///
    /// When the table cannot be loaded (a build that reads it at run time, without the file):
    /// the `language_id` step loads it with [`Model::try_get`] when it is built, so only direct
    /// callers of [`crate::detect`] can get here.
    pub(crate) fn get() -> &'static Model {
        Self::try_get().unwrap_or_else(|e| panic!("{e}"))
    }

    /// The model once loaded, else None.
    #[cfg(thresher_langid_file)]
    pub(crate) fn loaded() -> Option<&'static Model> {
        MODEL.get()
    }

    /// The model, loaded (and checked) on first use; a table that cannot be read or is not a
    /// thresher table is an error, and a later call tries again.
    pub(crate) fn try_get() -> Result<&'static Model, String> {
        if let Some(m) = MODEL.get() {
            return Ok(m);
        }
        // One thread loads; the others wait for it rather than each reading 173 MB.
        static LOADING: Mutex<()> = Mutex::new(());
        let _guard = LOADING.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(m) = MODEL.get() {
            return Ok(m);
        }
        let model = Model::parse(load_table()?)?;
        Ok(MODEL.get_or_init(|| model))
    }

    fn parse(bytes: &'static [u8]) -> Result<Model, String> {
        let Layout {
            orders,
            rows,
            row_count,
            postings,
        } = check_layout(bytes, bytes.len())?;
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
        Ok(Model {
            bytes,
            orders,
            rows,
            postings,
        })
    }

    /// The table's bytes, as read from its file or the binary.
    pub(crate) fn bytes(&self) -> &'static [u8] {
        self.bytes
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
