//! Recently opened videos, persisted as a small JSON file in the user's config folder
//! (`$XDG_CONFIG_HOME/ifa/recent.json`, else `~/.config/ifa/recent.json`).

use std::path::{Path, PathBuf};

use crate::fsutil::write_atomic;

const MAX_RECENT: usize = 10;

#[derive(Debug, thiserror::Error)]
pub enum RecentError {
    #[error("cannot write the recent-files list {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
}

/// The list, newest first, and where it is stored (`None`: not persisted).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecentFiles {
    pub file: Option<PathBuf>,
    pub paths: Vec<PathBuf>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Stored {
    recent: Vec<PathBuf>,
}

/// The default location from the environment.
pub fn default_file() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").filter(|v| !v.is_empty()).map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("ifa").join("recent.json"))
}

impl RecentFiles {
    /// Reads the list; a missing or damaged file gives an empty list (it is only a convenience).
    pub fn load(file: Option<PathBuf>) -> Self {
        let paths = file
            .as_ref()
            .and_then(|f| std::fs::read(f).ok())
            .and_then(|b| serde_json::from_slice::<Stored>(&b).ok())
            .map(|s| s.recent)
            .unwrap_or_default();
        Self { file, paths }
    }

    /// Puts `path` first and saves.
    pub fn push(&mut self, path: &Path) -> Result<(), RecentError> {
        let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        self.paths.retain(|p| p != &path);
        self.paths.insert(0, path);
        self.paths.truncate(MAX_RECENT);
        self.save()
    }

    fn save(&self) -> Result<(), RecentError> {
        let Some(file) = &self.file else { return Ok(()) };
        let err = |source| RecentError::Write { path: file.clone(), source };
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir).map_err(err)?;
        }
        let json = serde_json::to_vec_pretty(&Stored { recent: self.paths.clone() })
            .map_err(|e| err(std::io::Error::other(e)))?;
        write_atomic(file, |w| std::io::Write::write_all(w, &json)).map_err(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newest_first_deduplicated_and_persisted() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("ifa/recent.json");
        let mut r = RecentFiles::load(Some(file.clone()));
        assert!(r.paths.is_empty());
        for name in ["a.mp4", "b.mp4", "a.mp4"] {
            r.push(&dir.path().join(name)).expect("save");
        }
        let again = RecentFiles::load(Some(file.clone()));
        assert_eq!(again.paths, vec![dir.path().join("a.mp4"), dir.path().join("b.mp4")]);
        std::fs::write(&file, "not json").expect("write");
        assert!(RecentFiles::load(Some(file)).paths.is_empty());
    }
}
