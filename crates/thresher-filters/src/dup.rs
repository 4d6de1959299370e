//! Exact duplicate counting over strings, as Gopher's and FineWeb's repetition rules define it.

use hashbrown::HashTable;
use xxhash_rust::xxh3::{xxh3_64, xxh3_64_with_seed};

use crate::pychar;

/// Strings longer than this are hashed by their first and last `EDGE` bytes and their length
/// only: equal strings still get equal hashes, and every hit is confirmed by comparing the whole
/// strings, so only the cost of hashing changes, not the answer. Long paragraphs and lines
/// (whole pages without a blank line) would otherwise be hashed byte by byte.
const EDGE: usize = 32;

#[inline]
fn edge_hash(s: &[u8]) -> u64 {
    if s.len() <= 2 * EDGE {
        return xxh3_64(s);
    }
    let mut buf = [0u8; 2 * EDGE];
    buf[..EDGE].copy_from_slice(&s[..EDGE]);
    buf[EDGE..].copy_from_slice(&s[s.len() - EDGE..]);
    xxh3_64_with_seed(&buf, s.len() as u64)
}

/// Counts the elements that equal an earlier element, and their total length in code points.
///
/// This is datatrove's `find_duplicates`: the first occurrence of a string is not counted, every
/// later occurrence is (so three copies count twice). Equality is exact string equality.
/// `expected` is the number of items if known (the table is sized for it), else a guess.
pub fn find_duplicates<'a>(
    items: impl IntoIterator<Item = &'a str>,
    expected: usize,
) -> (usize, usize) {
    let iter = items.into_iter();
    let mut seen: HashTable<(u64, &'a str)> =
        HashTable::with_capacity(iter.size_hint().0.max(expected));
    let (mut dup_elems, mut dup_chars) = (0, 0);
    for item in iter {
        let h = edge_hash(item.as_bytes());
        if seen.find(h, |&(sh, s)| sh == h && s == item).is_some() {
            dup_elems += 1;
            dup_chars += pychar::char_len(item);
        } else {
            seen.insert_unique(h, (h, item), |&(sh, _)| sh);
        }
    }
    (dup_elems, dup_chars)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_later_copies_only() {
        assert_eq!(find_duplicates(["a", "bb", "a", "bb", "a", ""], 0), (3, 4));
        assert_eq!(find_duplicates(["", ""], 100), (1, 0));
        assert_eq!(find_duplicates(Vec::<&str>::new(), 0), (0, 0));
        assert_eq!(find_duplicates(["é", "é"], 1), (1, 1));
    }

    #[test]
    fn long_strings_equal_at_both_ends_are_told_apart() {
        let a = format!("{}{}{}", "x".repeat(40), "middle one", "y".repeat(40));
        let b = format!("{}{}{}", "x".repeat(40), "middle two", "y".repeat(40));
        assert_eq!(edge_hash(a.as_bytes()), edge_hash(b.as_bytes()));
        assert_eq!(find_duplicates([&a[..], &b[..]], 0), (0, 0));
        assert_eq!(find_duplicates([&a[..], &b[..], &a[..]], 0), (1, a.len()));
        // Every length around the cut-over between the two hashes.
        for n in 60..70 {
            let s = "é".repeat(n);
            let t = "é".repeat(n + 1);
            assert_eq!(
                find_duplicates([&s[..], &t[..], &s[..], &t[..]], 0),
                (2, 2 * n + 1)
            );
        }
    }
}
