//! What the viewer has learnt about the open video: per-frame records, the picture and map
//! caches, how far processing got, and one lane per track for the timeline.

use std::collections::BTreeMap;

use super::cache::{CacheCost, FrameCache};
use super::pipeline::Processed;
use crate::model::HeadMaps;
use crate::overlay::scene::FrameRecord;

impl CacheCost for HeadMaps {
    fn bytes(&self) -> usize {
        4 * (self.semantic.len() + self.center.len() + self.offset.len() + self.inter_offset.len())
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProcessingState {
    Idle,
    Running,
    Done,
    Failed(String),
}

/// Where one track is present.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TrackLane {
    pub id: u32,
    pub class_id: u32,
    /// Inclusive frame ranges.
    pub spans: Vec<(usize, usize)>,
}

impl TrackLane {
    fn add(&mut self, f: usize) {
        match self.spans.last_mut() {
            Some((_, e)) if *e + 1 == f => *e = f,
            Some((_, e)) if *e >= f => {}
            _ => self.spans.push((f, f)),
        }
    }

    pub fn first(&self) -> Option<usize> {
        self.spans.first().map(|s| s.0)
    }

    pub fn frames(&self) -> usize {
        self.spans.iter().map(|(a, b)| b - a + 1).sum()
    }

    /// The frame of this track nearest to `f`.
    pub fn nearest(&self, f: usize) -> Option<usize> {
        self.spans.iter().map(|&(a, b)| f.clamp(a, b)).min_by_key(|&g| g.abs_diff(f))
    }
}

/// The open video's results so far. Records are small and all kept; pictures and raw maps are
/// large and kept within their budgets, nearest the playhead first.
pub struct VideoData {
    records: BTreeMap<usize, FrameRecord>,
    pub pictures: FrameCache<Vec<u8>>,
    pub maps: FrameCache<HeadMaps>,
    /// Frames 0..processed are processed.
    processed: usize,
    pub processing: ProcessingState,
    lanes: BTreeMap<u32, TrackLane>,
}

impl VideoData {
    pub fn new(picture_budget: usize, maps_budget: usize) -> Self {
        Self {
            records: BTreeMap::new(),
            pictures: FrameCache::new(picture_budget),
            maps: FrameCache::new(maps_budget),
            processed: 0,
            processing: ProcessingState::Idle,
            lanes: BTreeMap::new(),
        }
    }

    /// Forgets everything (another video).
    pub fn clear(&mut self) {
        self.records.clear();
        self.pictures.clear();
        self.maps.clear();
        self.lanes.clear();
        self.processed = 0;
        self.processing = ProcessingState::Idle;
    }

    /// Takes in one processed frame: its record, its lanes, its annotated picture (JPEG, empty
    /// when none) and maps, cached by distance from the playhead `near`.
    pub fn add(&mut self, jpeg: Vec<u8>, p: Processed, near: usize) {
        let i = p.record.index;
        for inst in &p.record.instances {
            let lane = self.lanes.entry(inst.track_id).or_insert_with(|| TrackLane {
                id: inst.track_id,
                class_id: inst.class_id,
                spans: Vec::new(),
            });
            lane.add(i);
        }
        if i == self.processed {
            self.processed += 1;
        }
        if !jpeg.is_empty() {
            self.pictures.insert(i, jpeg, near);
        }
        if let Some(m) = p.maps {
            self.maps.insert(i, m, near);
        }
        self.records.insert(i, p.record);
    }

    /// Frames 0..processed() are processed.
    pub fn processed(&self) -> usize {
        self.processed
    }

    pub fn record(&self, frame: usize) -> Option<&FrameRecord> {
        self.records.get(&frame)
    }

    pub fn records(&self) -> &BTreeMap<usize, FrameRecord> {
        &self.records
    }

    pub fn lanes(&self) -> &BTreeMap<u32, TrackLane> {
        &self.lanes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lanes_merge_consecutive_frames_and_find_the_nearest() {
        let mut l = TrackLane::default();
        for f in [2, 3, 4, 4, 9, 10] {
            l.add(f);
        }
        assert_eq!(l.spans, vec![(2, 4), (9, 10)]);
        assert_eq!(l.frames(), 5);
        assert_eq!(l.first(), Some(2));
        assert_eq!(l.nearest(7), Some(9));
        assert_eq!(l.nearest(0), Some(2));
    }
}
