//! Exact duplicate counting over strings, as Gopher's and FineWeb's repetition rules define it.

use hashbrown::HashTable;
use xxhash_rust::xxh3::xxh3_64;

use crate::pychar;

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
    let mut seen: HashTable<&'a str> = HashTable::with_capacity(iter.size_hint().0.max(expected));
    let (mut dup_elems, mut dup_chars) = (0, 0);
    for item in iter {
        let h = xxh3_64(item.as_bytes());
        if seen.find(h, |s| *s == item).is_some() {
            dup_elems += 1;
            dup_chars += pychar::char_len(item);
        } else {
            seen.insert_unique(h, item, |s| xxh3_64(s.as_bytes()));
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
}
