//! The videos of a YouTube-VIS split: `instances.json` (with annotations) or the `valid.json` /
//! `meta.json` shapes of the public splits (videos only).

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::DatasetError;

/// One video of a split.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SplitVideo {
    pub id: u64,
    /// Frame files relative to the frames folder (`JPEGImages/`), in order.
    pub file_names: Vec<String>,
}

impl SplitVideo {
    /// The video's name: the folder of its first frame (`<video>` of `<video>/00000.jpg`).
    pub fn name(&self) -> String {
        self.file_names
            .first()
            .and_then(|f| Path::new(f).parent())
            .map(|p| p.to_string_lossy().into_owned())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| format!("video {}", self.id))
    }

    /// Its frame files under `frames`.
    pub fn frame_paths(&self, frames: &Path) -> Vec<PathBuf> {
        self.file_names.iter().map(|f| frames.join(f)).collect()
    }
}

/// The videos of a split, by ascending id, and whether it carries ground truth.
#[derive(Clone, Debug)]
pub struct Split {
    pub path: PathBuf,
    pub videos: Vec<SplitVideo>,
    pub has_annotations: bool,
}

#[derive(Deserialize)]
struct RawVideo {
    id: u64,
    file_names: Vec<String>,
}

#[derive(Deserialize)]
struct RawSplit {
    videos: Vec<RawVideo>,
    #[serde(default)]
    annotations: Option<serde::de::IgnoredAny>,
}

impl Split {
    /// The split JSON of a data-set root: `instances.json`, `valid.json`, `meta.json`, or the
    /// only `.json` file there; `None` when there is none or the choice is ambiguous.
    pub fn find(root: &Path) -> Option<PathBuf> {
        for name in ["instances.json", "valid.json", "meta.json", "test.json", "train.json"] {
            let p = root.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
        let mut json: Vec<PathBuf> = std::fs::read_dir(root)
            .ok()?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "json") && p.is_file())
            .collect();
        if json.len() == 1 { json.pop() } else { None }
    }

    pub fn load(path: &Path) -> Result<Self, DatasetError> {
        let bytes = crate::fsutil::read_limited(path, crate::fsutil::JSON_LIMIT, "split JSON")
            .map_err(|source| DatasetError::Read { path: path.to_path_buf(), source })?;
        Self::parse(path, &bytes)
    }

    pub fn parse(path: &Path, bytes: &[u8]) -> Result<Self, DatasetError> {
        let bad = |message: String| DatasetError::Split { path: path.to_path_buf(), message };
        let raw: RawSplit = serde_json::from_slice(bytes).map_err(|e| bad(e.to_string()))?;
        let mut videos: Vec<SplitVideo> =
            raw.videos.into_iter().map(|v| SplitVideo { id: v.id, file_names: v.file_names }).collect();
        videos.sort_by_key(|v| v.id);
        if let Some(w) = videos.windows(2).find(|w| w[0].id == w[1].id) {
            return Err(bad(format!("video id {} appears twice", w[0].id)));
        }
        if videos.is_empty() {
            return Err(bad("it lists no videos".to_owned()));
        }
        if let Some(v) = videos.iter().find(|v| v.file_names.is_empty()) {
            return Err(bad(format!("video {} lists no frames", v.id)));
        }
        Ok(Self { path: path.to_path_buf(), videos, has_annotations: raw.annotations.is_some() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_split_shapes_parse_sorted_by_id() {
        let text = br#"{"info": {}, "videos": [
            {"id": 7, "width": 4, "height": 2, "length": 2, "file_names": ["b/00000.jpg", "b/00005.jpg"]},
            {"id": 3, "file_names": ["a/00000.jpg"]}]}"#;
        let s = Split::parse(Path::new("valid.json"), text).expect("parse");
        assert_eq!(s.videos.iter().map(|v| v.id).collect::<Vec<_>>(), [3, 7]);
        assert!(!s.has_annotations);
        assert_eq!(s.videos[1].name(), "b");
        assert_eq!(s.videos[1].frame_paths(Path::new("J"))[1], Path::new("J/b/00005.jpg"));
        let with = br#"{"videos": [{"id": 1, "file_names": ["a/0.jpg"]}], "annotations": [], "categories": []}"#;
        assert!(Split::parse(Path::new("i.json"), with).expect("parse").has_annotations);
        let dup = br#"{"videos": [{"id": 1, "file_names": ["a"]}, {"id": 1, "file_names": ["b"]}]}"#;
        assert!(Split::parse(Path::new("d.json"), dup).expect_err("dup").to_string().contains("twice"));
    }
}
