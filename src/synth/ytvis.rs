//! The YouTube-VIS ground-truth file (`instances.json`).

use serde::{Deserialize, Serialize};

use super::shape::Class;
use crate::rle::Rle;

/// The whole file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Dataset {
    pub videos: Vec<VideoEntry>,
    pub categories: Vec<Category>,
    pub annotations: Vec<Annotation>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VideoEntry {
    pub id: u64,
    pub width: u32,
    pub height: u32,
    pub length: usize,
    /// Frame paths relative to `JPEGImages/`, e.g. `"<video>/00000.jpg"`.
    pub file_names: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Category {
    pub id: u32,
    pub name: String,
    pub supercategory: String,
}

/// One instance track of one video.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Annotation {
    /// >= 1, unique in the file.
    pub id: u64,
    pub video_id: u64,
    pub category_id: u32,
    pub iscrowd: u8,
    pub width: u32,
    pub height: u32,
    pub length: usize,
    /// Compressed RLE per frame; `None` (null) when no pixel is visible.
    pub segmentations: Vec<Option<Rle>>,
    /// Visible pixels per frame; `None` when absent.
    pub areas: Vec<Option<u64>>,
    /// `[x, y, w, h]` per frame; `None` when absent.
    pub bboxes: Vec<Option<[f64; 4]>>,
}

impl Dataset {
    /// The six categories of the shapes world, ids 1..=6.
    pub fn categories() -> Vec<Category> {
        Class::ALL
            .iter()
            .map(|c| Category { id: c.id(), name: c.name().to_owned(), supercategory: "shape".to_owned() })
            .collect()
    }
}
