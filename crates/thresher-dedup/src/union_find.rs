//! Union-find over sparse 64-bit node ids, with union by size and path compression.
//!
//! Only documents that appear in a candidate pair get an entry, so memory follows the number
//! of near-duplicates, not the corpus size (about 40 bytes per clustered document).
//!
//! The tie rule is datatrove's (`MinhashDedupCluster.union`): the larger set's root becomes the
//! root, and on equal sizes the root of the *first* argument does. With pairs fed in
//! datatrove's order this yields datatrove's roots, which is what the `datatrove` keeper uses.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A fast hasher for integer keys (multiply-rotate, as in rustc's FxHash). Node ids are
/// positions in the input, not attacker-chosen, so a non-keyed hash is fine here.
#[derive(Default, Clone, Copy)]
pub(crate) struct IntHasher(u64);

impl Hasher for IntHasher {
    #[inline]
    fn finish(&self) -> u64 {
        // Final avalanche so that the low bits used by the table depend on all input bits.
        let mut x = self.0;
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
        x ^= x >> 33;
        x
    }
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    #[inline]
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

/// `HashMap` with [`IntHasher`].
pub(crate) type IntMap<K, V> = HashMap<K, V, BuildHasherDefault<IntHasher>>;

/// Disjoint sets of node ids.
#[derive(Default)]
pub struct UnionFind {
    index: IntMap<u64, u32>,
    nodes: Vec<u64>,
    parent: Vec<u32>,
    size: Vec<u32>,
}

impl UnionFind {
    /// An empty structure.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of nodes that appeared in at least one union.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether no union was made.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    fn slot(&mut self, node: u64) -> u32 {
        if let Some(&i) = self.index.get(&node) {
            return i;
        }
        // More than 4 billion clustered documents would overflow the u32 slots; saturating
        // keeps us from panicking, and a corpus that size must be sharded anyway.
        let i = u32::try_from(self.nodes.len()).unwrap_or(u32::MAX);
        self.index.insert(node, i);
        self.nodes.push(node);
        self.parent.push(i);
        self.size.push(1);
        i
    }

    fn find_slot(&mut self, mut i: u32) -> u32 {
        let mut root = i;
        while self.parent[root as usize] != root {
            root = self.parent[root as usize];
        }
        // Path compression, iterative so that long chains cannot overflow the stack.
        while self.parent[i as usize] != root {
            let next = self.parent[i as usize];
            self.parent[i as usize] = root;
            i = next;
        }
        root
    }

    /// The root of `node`'s set (`node` itself when it was never unioned).
    pub fn find(&mut self, node: u64) -> u64 {
        match self.index.get(&node) {
            Some(&i) => {
                let r = self.find_slot(i);
                self.nodes[r as usize]
            }
            None => node,
        }
    }

    /// Whether `a` and `b` are in the same set.
    pub fn same(&mut self, a: u64, b: u64) -> bool {
        a == b || self.find(a) == self.find(b)
    }

    /// Joins the sets of `a` and `b`; returns `false` when they were already one set.
    pub fn union(&mut self, a: u64, b: u64) -> bool {
        let ia = self.slot(a);
        let ib = self.slot(b);
        let mut ra = self.find_slot(ia);
        let mut rb = self.find_slot(ib);
        if ra == rb {
            return false;
        }
        if self.size[ra as usize] < self.size[rb as usize] {
            std::mem::swap(&mut ra, &mut rb);
        }
        self.parent[rb as usize] = ra;
        self.size[ra as usize] += self.size[rb as usize];
        true
    }

    /// Every node with its root and the size of its set, in no particular order.
    pub fn components(&mut self) -> Vec<(u64, u64, u32)> {
        (0..self.nodes.len())
            .map(|i| {
                let r = self.find_slot(i as u32);
                (self.nodes[i], self.nodes[r as usize], self.size[r as usize])
            })
            .collect()
    }

    /// Approximate heap bytes used (for reports and budgets).
    pub fn heap_bytes(&self) -> usize {
        self.index.capacity() * 16 + self.nodes.capacity() * 8 + self.parent.capacity() * 8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unions_are_transitive_and_sizes_add_up() {
        let mut uf = UnionFind::new();
        assert!(uf.union(1, 2));
        assert!(uf.union(3, 4));
        assert!(!uf.union(2, 1));
        assert!(!uf.same(1, 3));
        assert!(uf.union(2, 4));
        assert!(uf.same(1, 3));
        assert_eq!(uf.find(99), 99);
        let comps = uf.components();
        assert_eq!(comps.len(), 4);
        assert!(comps.iter().all(|&(_, r, s)| r == comps[0].1 && s == 4));
    }

    #[test]
    fn datatrove_tie_rule_first_root_wins_then_bigger_set() {
        let mut uf = UnionFind::new();
        uf.union(5, 6); // equal sizes: 5 (first argument) is the root
        assert_eq!(uf.find(6), 5);
        uf.union(5, 7);
        uf.union(1, 5); // {1} joins the bigger {5,6,7}: root stays 5
        assert_eq!(uf.find(1), 5);
    }

    #[test]
    fn long_chains_do_not_overflow() {
        let mut uf = UnionFind::new();
        for i in 0..200_000u64 {
            uf.union(i + 1, i);
        }
        assert_eq!(uf.find(0), uf.find(200_000));
    }
}
