//! Memory-budgeted per-frame caches. When over budget, the entries farthest from the playhead
//! go first, so scrubbing near where the user looks stays instant on long videos.

use std::collections::BTreeMap;

/// Something whose memory can be counted.
pub trait CacheCost {
    fn bytes(&self) -> usize;
}

impl CacheCost for Vec<u8> {
    fn bytes(&self) -> usize {
        self.len()
    }
}

/// Frame index → value, at most `budget` bytes.
#[derive(Debug)]
pub struct FrameCache<T> {
    entries: BTreeMap<usize, T>,
    bytes: usize,
    budget: usize,
    evicted: usize,
}

impl<T: CacheCost> FrameCache<T> {
    pub fn new(budget: usize) -> Self {
        Self { entries: BTreeMap::new(), bytes: 0, budget, evicted: 0 }
    }

    pub fn get(&self, index: usize) -> Option<&T> {
        self.entries.get(&index)
    }

    pub fn contains(&self, index: usize) -> bool {
        self.entries.contains_key(&index)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn bytes(&self) -> usize {
        self.bytes
    }

    pub fn budget(&self) -> usize {
        self.budget
    }

    /// How many entries were dropped to stay within budget.
    pub fn evicted(&self) -> usize {
        self.evicted
    }

    pub fn clear(&mut self) {
        self.entries.clear();
        self.bytes = 0;
    }

    /// Inserts, then evicts the entries farthest from `playhead` until within budget (the new
    /// entry itself may go if it is the farthest).
    pub fn insert(&mut self, index: usize, value: T, playhead: usize) {
        self.bytes += value.bytes();
        if let Some(old) = self.entries.insert(index, value) {
            self.bytes -= old.bytes();
        }
        while self.bytes > self.budget && !self.entries.is_empty() {
            let (&first, _) = self.entries.first_key_value().expect("non-empty");
            let (&last, _) = self.entries.last_key_value().expect("non-empty");
            let victim = if playhead.abs_diff(first) >= playhead.abs_diff(last) { first } else { last };
            if let Some(v) = self.entries.remove(&victim) {
                self.bytes -= v.bytes();
                self.evicted += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_far_from_playhead() {
        let mut c: FrameCache<Vec<u8>> = FrameCache::new(30);
        for i in 0..3 {
            c.insert(i, vec![0; 10], 0);
        }
        assert_eq!(c.len(), 3);
        // Playhead at 3: frame 0 is the farthest.
        c.insert(3, vec![0; 10], 3);
        assert!(!c.contains(0) && c.contains(3));
        assert_eq!(c.bytes(), 30);
        // Playhead back at 1: a new far frame is itself the victim.
        c.insert(100, vec![0; 10], 1);
        assert!(!c.contains(100));
        assert_eq!(c.evicted(), 2);
        c.insert(2, vec![0; 5], 1);
        assert_eq!(c.bytes(), 25);
    }
}
