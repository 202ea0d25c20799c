//! An arena of values addressed by `u32` index, with a free list: removed
//! slots are reused, so once a run reaches its peak number of live entries
//! (requests in flight, say) inserting allocates nothing.

/// A free-list arena. Indices stay valid until the entry is removed.
pub struct Slab<T> {
    items: Vec<T>,
    free: Vec<u32>,
}

impl<T: Copy> Default for Slab<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Copy> Slab<T> {
    /// An empty arena.
    pub fn new() -> Self {
        Slab {
            items: Vec::new(),
            free: Vec::new(),
        }
    }

    /// Stores `v` and returns its index.
    #[inline]
    pub fn insert(&mut self, v: T) -> u32 {
        if let Some(i) = self.free.pop() {
            self.items[i as usize] = v;
            i
        } else {
            self.items.push(v);
            (self.items.len() - 1) as u32
        }
    }

    /// Frees index `i` for reuse. The caller must not use `i` afterwards.
    #[inline]
    pub fn remove(&mut self, i: u32) {
        debug_assert!((i as usize) < self.items.len());
        debug_assert!(!self.free.contains(&i), "double free of slab index {i}");
        self.free.push(i);
    }

    /// Number of live entries.
    #[inline]
    pub fn len(&self) -> usize {
        self.items.len() - self.free.len()
    }

    /// True when no entry is live.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The live entries, in index order. Builds a mask of the free slots
    /// first (one allocation): for end-of-run reports, not the hot path.
    pub fn live(&self) -> impl Iterator<Item = &T> {
        let mut free = vec![false; self.items.len()];
        for &i in &self.free {
            free[i as usize] = true;
        }
        self.items
            .iter()
            .zip(free)
            .filter_map(|(v, f)| (!f).then_some(v))
    }

    /// Peak number of entries ever live at once (the arena's size).
    pub fn capacity_used(&self) -> usize {
        self.items.len()
    }
}

impl<T> std::ops::Index<u32> for Slab<T> {
    type Output = T;
    #[inline]
    fn index(&self, i: u32) -> &T {
        &self.items[i as usize]
    }
}

impl<T> std::ops::IndexMut<u32> for Slab<T> {
    #[inline]
    fn index_mut(&mut self, i: u32) -> &mut T {
        &mut self.items[i as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reuses_freed_slots() {
        let mut s = Slab::new();
        let a = s.insert(1u8);
        let b = s.insert(2);
        s.remove(a);
        let c = s.insert(3);
        assert_eq!(c, a);
        assert_eq!(s[b], 2);
        assert_eq!(s[c], 3);
        assert_eq!(s.len(), 2);
        assert_eq!(s.capacity_used(), 2);
    }
}
