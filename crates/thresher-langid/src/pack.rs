//! A lossless re-encoding of the table that general-purpose compressors shrink much further:
//! the form the Python data package ships (xz on top), since the table itself, 180.6 MB, stays
//! around 100 MB under zstd -19 or xz -9 and a wheel must stay under the package index's 100 MB.
//!
//! What defeats the compressors is the n-gram slots: 103 MB of (32-bit fingerprint, 32-bit
//! payload) pairs in hash order, both random-looking. Sorted by fingerprint instead, the
//! fingerprints become small gaps and the payloads nearly consecutive (the build script numbers
//! rows and postings in hash order, whose high half is the fingerprint), so each entry costs its
//! slot position, a gap and a small delta. The rest of the table (header, rows, postings) is
//! kept as it is.
//!
//! Layout (little-endian): magic "THLIDPK1", u64 table length, u32 region count, then per region
//! (a slot array of the table) u64 byte offset, u32 slot count, u32 entry count; then the table
//! with the regions cut out; then per region three arrays of u32 over its entries in
//! (fingerprint, slot) order: the slot, the fingerprint's gap from the previous one, and the
//! payload's difference from the previous payload of its kind (row or postings; modulo 2^31,
//! the kind in bit 31). Each array is stored as four byte planes (all low bytes first), which
//! LZMA models better than interleaved integers.

use crate::model::{layout_regions, DENSE_BIT};

const MAGIC: &[u8; 8] = b"THLIDPK1";

/// A slot array of the table: its byte offset and slot count.
type Region = (usize, usize);

fn put_planes(out: &mut Vec<u8>, values: &[u32]) {
    for plane in 0..4 {
        out.extend(values.iter().map(|v| (v >> (8 * plane)) as u8));
    }
}

fn get_planes(bytes: &[u8], count: usize) -> Vec<u32> {
    let mut values = vec![0u32; count];
    for plane in 0..4 {
        for (v, &b) in values
            .iter_mut()
            .zip(&bytes[plane * count..(plane + 1) * count])
        {
            *v |= u32::from(b) << (8 * plane);
        }
    }
    values
}

fn u32_le(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn u64_le(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

/// Re-encodes a table (see the module documentation); `table` must be one this build reads.
pub fn encode(table: &[u8]) -> Result<Vec<u8>, String> {
    let regions: Vec<Region> = layout_regions(table)?;
    let mut out = Vec::with_capacity(table.len() / 2);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(table.len() as u64).to_le_bytes());
    out.extend_from_slice(&(regions.len() as u32).to_le_bytes());
    let mut entries: Vec<Vec<(u32, u32, u32)>> = Vec::new();
    for &(base, slots) in &regions {
        // (fingerprint, slot, payload) of every occupied slot, in fingerprint order.
        let mut list: Vec<(u32, u32, u32)> = (0..slots)
            .filter_map(|s| {
                let v = u64_le(table, base + s * 8);
                (v != 0).then_some(((v >> 32) as u32, s as u32, v as u32))
            })
            .collect();
        list.sort_unstable();
        out.extend_from_slice(&(base as u64).to_le_bytes());
        out.extend_from_slice(&(slots as u32).to_le_bytes());
        out.extend_from_slice(&(list.len() as u32).to_le_bytes());
        entries.push(list);
    }
    let mut sorted = regions.clone();
    sorted.sort_unstable();
    if sorted.windows(2).any(|w| w[0].0 + w[0].1 * 8 > w[1].0) {
        return Err("language-ID table: slot arrays overlap".into());
    }
    let mut at = 0;
    for &(base, slots) in &sorted {
        out.extend_from_slice(&table[at..base]);
        at = base + slots * 8;
    }
    out.extend_from_slice(&table[at..]);
    for list in &entries {
        let slots: Vec<u32> = list.iter().map(|e| e.1).collect();
        let mut prev_fp = 0u32;
        let gaps: Vec<u32> = list
            .iter()
            .map(|e| {
                let gap = e.0.wrapping_sub(prev_fp);
                prev_fp = e.0;
                gap
            })
            .collect();
        let mut prev = [0u32; 2];
        let deltas: Vec<u32> = list
            .iter()
            .map(|e| {
                let kind = usize::from(e.2 & DENSE_BIT != 0);
                let value = e.2 & !DENSE_BIT;
                let delta = value.wrapping_sub(prev[kind]) & !DENSE_BIT;
                prev[kind] = value;
                delta | (e.2 & DENSE_BIT)
            })
            .collect();
        put_planes(&mut out, &slots);
        put_planes(&mut out, &gaps);
        put_planes(&mut out, &deltas);
    }
    Ok(out)
}

/// The table of a re-encoded one ([`encode`]'s inverse); an input that is not one is an error.
pub fn decode(packed: &[u8]) -> Result<Vec<u8>, String> {
    let bad = || "not a re-encoded language-ID table (THLIDPK1), or truncated".to_string();
    if packed.len() < 20 || &packed[..8] != MAGIC {
        return Err(bad());
    }
    let len = usize::try_from(u64_le(packed, 8)).map_err(|_| bad())?;
    let count = u32_le(packed, 16) as usize;
    let mut at = 20usize;
    let mut regions: Vec<(usize, usize, usize)> = Vec::new();
    for _ in 0..count.min(64) {
        if packed.len() < at + 16 {
            return Err(bad());
        }
        let base = usize::try_from(u64_le(packed, at)).map_err(|_| bad())?;
        let slots = u32_le(packed, at + 8) as usize;
        let entries = u32_le(packed, at + 12) as usize;
        if entries > slots || base.checked_add(slots * 8).is_none_or(|end| end > len) {
            return Err(bad());
        }
        regions.push((base, slots, entries));
        at += 16;
    }
    if regions.len() != count {
        return Err(bad());
    }
    let mut sorted: Vec<(usize, usize)> = regions.iter().map(|r| (r.0, r.1)).collect();
    sorted.sort_unstable();
    if sorted.windows(2).any(|w| w[0].0 + w[0].1 * 8 > w[1].0) {
        return Err(bad());
    }
    let cut: usize = sorted.iter().map(|r| r.1 * 8).sum();
    let streams: usize = regions.iter().map(|r| r.2 * 12).sum();
    // Checked before the table is allocated: a wrong length is not a huge allocation.
    let expected = (len - cut)
        .checked_add(at)
        .and_then(|n| n.checked_add(streams));
    if expected != Some(packed.len()) {
        return Err(bad());
    }
    let mut table = vec![0u8; len];
    let mut from = 0;
    for &(base, slots) in &sorted {
        let n = base - from;
        table[from..base].copy_from_slice(&packed[at..at + n]);
        at += n;
        from = base + slots * 8;
    }
    let n = len - from;
    table[from..].copy_from_slice(&packed[at..at + n]);
    at += n;
    for &(base, slots, entries) in &regions {
        let slot = get_planes(&packed[at..], entries);
        let gaps = get_planes(&packed[at + entries * 4..], entries);
        let deltas = get_planes(&packed[at + entries * 8..], entries);
        at += entries * 12;
        let (mut fp, mut prev) = (0u32, [0u32; 2]);
        for ((&s, &gap), &delta) in slot.iter().zip(&gaps).zip(&deltas) {
            fp = fp.wrapping_add(gap);
            let kind = usize::from(delta & DENSE_BIT != 0);
            prev[kind] = prev[kind].wrapping_add(delta) & !DENSE_BIT;
            let payload = prev[kind] | (delta & DENSE_BIT);
            if s as usize >= slots || fp == 0 {
                return Err(bad());
            }
            let at = base + s as usize * 8;
            table[at..at + 8]
                .copy_from_slice(&((u64::from(fp) << 32) | u64::from(payload)).to_le_bytes());
        }
    }
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small table of the real layout (THLID004 header, five slot arrays, rows, postings)
    /// with pseudo-random contents.
    pub(crate) fn synthetic() -> Vec<u8> {
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let slots = [16u32, 40, 300, 900, 2000];
        let (row_count, posting_count) = (7usize, 500usize);
        let mut t = Vec::new();
        t.extend_from_slice(b"THLID004");
        t.extend_from_slice(&(crate::LANGUAGE_COUNT as u32).to_le_bytes());
        let header = 12 + 5 * 12 + 32;
        t.resize(header, 0);
        let mut offset = header;
        for (n, &s) in slots.iter().enumerate() {
            t[12 + n * 12..16 + n * 12].copy_from_slice(&s.to_le_bytes());
            t[16 + n * 12..24 + n * 12].copy_from_slice(&(offset as u64).to_le_bytes());
            offset += s as usize * 8;
        }
        for &s in &slots {
            for _ in 0..s {
                let v = next();
                let slot = if v % 10 < 3 {
                    0
                } else if v % 10 == 3 {
                    (v & 0xFFFF_FFFF_0000_0000)
                        | u64::from(DENSE_BIT)
                        | ((v >> 8) % row_count as u64)
                } else {
                    (v & 0xFFFF_FFFF_0000_0000) | ((v >> 8) % posting_count as u64)
                };
                t.extend_from_slice(&(slot | (1 << 32)).to_le_bytes());
            }
        }
        let rows = t.len();
        for _ in 0..row_count * crate::model::ROW {
            t.extend_from_slice(&(next() as u16).to_le_bytes());
        }
        let postings = t.len();
        for _ in 0..posting_count * 3 {
            t.push(next() as u8);
        }
        for (i, v) in [rows, row_count, postings, posting_count]
            .iter()
            .enumerate()
        {
            t[72 + i * 8..80 + i * 8].copy_from_slice(&(*v as u64).to_le_bytes());
        }
        t
    }

    #[test]
    fn round_trip_is_exact() {
        let table = synthetic();
        let packed = encode(&table).expect("encode");
        assert_ne!(packed, table);
        assert_eq!(decode(&packed).expect("decode"), table);
    }

    #[test]
    fn damage_is_an_error_not_a_panic() {
        let table = synthetic();
        let packed = encode(&table).expect("encode");
        assert!(encode(b"THLID004 too short").is_err());
        assert!(decode(&table).is_err());
        for cut in [0, 7, 20, 40, packed.len() / 2, packed.len() - 1] {
            assert!(decode(&packed[..cut]).is_err(), "cut at {cut}");
        }
        let mut longer = packed.clone();
        longer.push(0);
        assert!(decode(&longer).is_err());
        // A slot index out of range (the high byte of the first region's first slot).
        let mut bad = packed.clone();
        let cut: usize = [16, 40, 300, 900, 2000].iter().sum::<usize>() * 8;
        let streams_at = 20 + 5 * 16 + (table.len() - cut);
        let entries = u32_le(&packed, 20 + 12) as usize;
        bad[streams_at + 3 * entries] = 0xFF;
        assert!(decode(&bad).is_err());
        // A table length far beyond the data is refused before anything is allocated.
        let mut huge = packed.clone();
        huge[8..16].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(decode(&huge).is_err());
    }

    /// The real table, in builds that have it.
    #[cfg(feature = "table")]
    #[test]
    fn the_real_table_round_trips() {
        let table = crate::table_bytes().expect("table");
        let packed = encode(table).expect("encode");
        assert!(decode(&packed).expect("decode") == table);
    }
}
