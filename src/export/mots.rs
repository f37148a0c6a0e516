//! Per-frame instance-id masks in the MOTS style: one 16-bit grey PNG per frame
//! (`000000.png`, `000001.png`, …) at video resolution, pixel value `class_id * 1000 +
//! track_id` (0 = no instance), plus `meta.json` with the source's timing.
//!
//! The folder is built under a temporary name beside the target and renamed into place by
//! [`MotsWriter::commit`]; dropping the writer first removes it, so a cancelled or failed
//! export leaves nothing. An existing folder is replaced only when it is empty or ifa made it
//! ([`is_own_folder`]: its `meta.json` says so and it holds nothing but frame PNGs).

use std::path::{Path, PathBuf};

use image::{ImageBuffer, Luma};

use super::meta::SourceMeta;

/// The `content` of a mask folder's `meta.json`: it marks the folder as ifa's.
pub const CONTENT: &str = "MOTS id masks: NNNNNN.png is frame N, 16-bit, value = class_id * 1000 + track_id, 0 = none";

/// Track ids share the value with the class: at most this many tracks fit.
pub const MAX_TRACK_ID: u32 = 999;

#[derive(Debug, thiserror::Error)]
pub enum MotsError {
    #[error("cannot create the mask folder {path}: {source}")]
    Create { path: PathBuf, source: std::io::Error },
    #[error("writing {path}: {message}")]
    Write { path: PathBuf, message: String },
    #[error(
        "frame {frame}: track {track_id} (class {class_id}) does not fit a MOTS value (class * 1000 + track, track <= 999, value <= 65535)"
    )]
    IdRange { frame: usize, track_id: u32, class_id: u32 },
    #[error("frame {frame}: id map of {got} pixels for a {width}x{height} video")]
    Size { frame: usize, got: usize, width: u32, height: u32 },
    #[error("cannot move the mask folder into place at {path}: {source}")]
    Commit { path: PathBuf, source: std::io::Error },
    #[error("refusing to replace {path}: it was not made by ifa ({reason})")]
    Foreign { path: PathBuf, reason: String },
}

/// Whether `dir` is a mask folder that ifa wrote: every entry is a frame PNG or `meta.json`,
/// and `meta.json` is ifa's. `Err` names what is not.
pub fn is_own_folder(dir: &Path) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("it cannot be listed: {e}"))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("it cannot be listed: {e}"))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let frame = name.strip_suffix(".png").is_some_and(|n| n.len() == 6 && n.bytes().all(|b| b.is_ascii_digit()));
        let is_file = entry.file_type().is_ok_and(|t| t.is_file());
        if !(is_file && (frame || name == "meta.json")) {
            return Err(name);
        }
    }
    match SourceMeta::read(&dir.join("meta.json")) {
        Ok(m) if m.content == CONTENT => Ok(()),
        Ok(_) => Err("a meta.json that ifa did not write".to_owned()),
        Err(_) => Err("frame PNGs without ifa's meta.json".to_owned()),
    }
}

/// The MOTS value of one instance.
pub fn mots_value(class_id: u32, track_id: u32) -> Option<u16> {
    if track_id == 0 || track_id > MAX_TRACK_ID {
        return None;
    }
    u16::try_from(u64::from(class_id) * 1000 + u64::from(track_id)).ok()
}

/// The file name of frame `index`.
pub fn frame_file_name(index: usize) -> String {
    format!("{index:06}.png")
}

/// A mask folder being written.
#[derive(Debug)]
pub struct MotsWriter {
    tmp: PathBuf,
    dest: PathBuf,
    width: u32,
    height: u32,
    buf: Vec<u16>,
    committed: bool,
}

fn temp_beside(dest: &Path, tag: &str) -> Result<PathBuf, std::io::Error> {
    let dir = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = dest
        .file_name()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "the folder has no name"))?;
    Ok(dir.join(format!(".{}.{}.{tag}", name.to_string_lossy(), std::process::id())))
}

impl MotsWriter {
    /// Starts the folder `dest` (replaced on commit if it exists).
    pub fn create(dest: &Path, width: u32, height: u32) -> Result<Self, MotsError> {
        let create = |source| MotsError::Create { path: dest.to_path_buf(), source };
        let tmp = temp_beside(dest, "partial").map_err(create)?;
        if tmp.exists() {
            std::fs::remove_dir_all(&tmp).map_err(create)?;
        }
        std::fs::create_dir(&tmp).map_err(create)?;
        Ok(Self {
            tmp,
            dest: dest.to_path_buf(),
            width,
            height,
            buf: vec![0; width as usize * height as usize],
            committed: false,
        })
    }

    /// Writes frame `index` from its id map; `class_of(track_id)` gives each track's class
    /// in this frame (ids it does not know are left out).
    pub fn write_frame(
        &mut self,
        index: usize,
        ids: &[u32],
        class_of: &dyn Fn(u32) -> Option<u32>,
    ) -> Result<(), MotsError> {
        if ids.len() != self.buf.len() {
            return Err(MotsError::Size { frame: index, got: ids.len(), width: self.width, height: self.height });
        }
        // Few ids per frame: look each up once.
        let mut lut: Vec<(u32, u16)> = Vec::new();
        for (out, &id) in self.buf.iter_mut().zip(ids) {
            *out = if id == 0 {
                0
            } else if let Some(&(_, v)) = lut.iter().find(|(k, _)| *k == id) {
                v
            } else {
                let v = match class_of(id) {
                    Some(class_id) => {
                        mots_value(class_id, id).ok_or(MotsError::IdRange { frame: index, track_id: id, class_id })?
                    }
                    None => 0,
                };
                lut.push((id, v));
                v
            };
        }
        let path = self.tmp.join(frame_file_name(index));
        let img: ImageBuffer<Luma<u16>, &[u16]> = ImageBuffer::from_raw(self.width, self.height, &self.buf[..])
            .ok_or_else(|| MotsError::Write { path: path.clone(), message: "buffer size".to_owned() })?;
        img.save_with_format(&path, image::ImageFormat::Png)
            .map_err(|e| MotsError::Write { path: path.clone(), message: e.to_string() })
    }

    /// Writes `meta.json` and moves the folder into place (replacing an older one).
    pub fn commit(mut self, meta: &SourceMeta) -> Result<PathBuf, MotsError> {
        let meta_path = self.tmp.join("meta.json");
        meta.write(&meta_path).map_err(|e| MotsError::Write { path: meta_path, message: e.to_string() })?;
        let commit = |source| MotsError::Commit { path: self.dest.clone(), source };
        // Checked before the export began; checked again, since only ifa's folder may go.
        if let Ok(m) = std::fs::symlink_metadata(&self.dest) {
            let empty = m.is_dir() && std::fs::read_dir(&self.dest).map_err(commit)?.next().is_none();
            let verdict = if m.is_dir() { is_own_folder(&self.dest) } else { Err("it is not a folder".to_owned()) };
            if let (false, Err(reason)) = (empty, verdict) {
                return Err(MotsError::Foreign { path: self.dest.clone(), reason });
            }
        }
        let old = if self.dest.exists() {
            let old = temp_beside(&self.dest, "old").map_err(commit)?;
            std::fs::rename(&self.dest, &old).map_err(commit)?;
            Some(old)
        } else {
            None
        };
        if let Err(e) = std::fs::rename(&self.tmp, &self.dest) {
            if let Some(old) = &old {
                std::fs::rename(old, &self.dest).ok();
            }
            return Err(commit(e));
        }
        self.committed = true;
        if let Some(old) = old {
            std::fs::remove_dir_all(old).ok();
        }
        Ok(self.dest.clone())
    }
}

impl Drop for MotsWriter {
    fn drop(&mut self) {
        if !self.committed {
            std::fs::remove_dir_all(&self.tmp).ok();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> SourceMeta {
        SourceMeta {
            source: "v".to_owned(),
            width: 3,
            height: 2,
            frame_rate: [25, 1],
            time_base: [1, 25],
            variable_frame_rate: false,
            frame_count: 1,
            duration: 0.04,
            start_time: 0.0,
            frame_pts: vec![0],
            content: CONTENT.to_owned(),
        }
    }

    #[test]
    fn values_and_ranges() {
        assert_eq!(mots_value(2, 5), Some(2005));
        assert_eq!(mots_value(65, 535), Some(65535));
        assert_eq!(mots_value(65, 536), None);
        assert_eq!(mots_value(1, 1000), None);
        assert_eq!(mots_value(1, 0), None);
    }

    #[test]
    fn frames_decode_to_the_id_map_and_the_folder_appears_only_on_commit() {
        let dir = tempfile::tempdir().expect("tempdir");
        let dest = dir.path().join("masks");
        let mut w = MotsWriter::create(&dest, 3, 2).expect("create");
        w.write_frame(0, &[0, 4, 4, 7, 0, 9], &|id| (id != 9).then_some(id % 3 + 1)).expect("frame");
        assert!(!dest.exists());
        w.commit(&meta()).expect("commit");
        let img = image::open(dest.join("000000.png")).expect("png").into_luma16();
        assert_eq!(img.into_raw(), vec![0, 2004, 2004, 2007, 0, 0]);
        assert!(dest.join("meta.json").is_file());

        // A second export replaces the folder; a dropped one leaves nothing.
        let w = MotsWriter::create(&dest, 3, 2).expect("again");
        w.commit(&meta()).expect("replace");
        assert!(!dest.join("000000.png").exists());
        let mut w = MotsWriter::create(&dest, 3, 2).expect("third");
        assert!(w.write_frame(0, &[1], &|_| Some(1)).is_err());
        assert!(matches!(w.write_frame(0, &[1000; 6], &|_| Some(1)), Err(MotsError::IdRange { .. })));
        drop(w);
        let names: Vec<_> = std::fs::read_dir(dir.path()).expect("ls").map(|e| e.expect("entry").file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("masks")]);
    }

    #[test]
    fn only_empty_folders_and_ifa_s_own_are_replaced() {
        let dir = tempfile::tempdir().expect("tempdir");
        let dest = dir.path().join("masks");
        std::fs::create_dir(&dest).expect("mkdir");
        MotsWriter::create(&dest, 3, 2).expect("create").commit(&meta()).expect("an empty folder");
        assert_eq!(is_own_folder(&dest), Ok(()));
        std::fs::write(dest.join("notes.txt"), b"mine").expect("write");
        assert_eq!(is_own_folder(&dest), Err("notes.txt".to_owned()));
        let e = MotsWriter::create(&dest, 3, 2).expect("create").commit(&meta()).expect_err("foreign");
        assert!(matches!(e, MotsError::Foreign { .. }), "{e}");
        assert!(dest.join("notes.txt").is_file());
        std::fs::remove_file(dest.join("notes.txt")).expect("rm");
        std::fs::write(dest.join("meta.json"), b"{}").expect("write");
        assert!(is_own_folder(&dest).is_err());
        let file = dir.path().join("file");
        std::fs::write(&file, b"x").expect("write");
        let e = MotsWriter::create(&file, 3, 2).expect("create").commit(&meta()).expect_err("a file");
        assert!(matches!(e, MotsError::Foreign { .. }), "{e}");
        assert_eq!(std::fs::read(&file).expect("read"), b"x");
    }
}
