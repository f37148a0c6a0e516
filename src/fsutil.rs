//! Writing files so that a failure never leaves a broken file under the final name.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// A file being written next to its final path; [`AtomicFile::commit`] renames it into place.
/// Dropping it without committing removes the temporary file.
#[derive(Debug)]
pub struct AtomicFile {
    tmp: PathBuf,
    dest: PathBuf,
    committed: bool,
}

impl AtomicFile {
    /// Reserves a temporary path in the destination's folder (same file system, so the final
    /// rename is atomic). The extension is kept so that format guessers (FFmpeg) still work.
    pub fn new(dest: &Path) -> io::Result<Self> {
        let dir = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = dest
            .file_name()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "destination has no file name"))?
            .to_string_lossy()
            .into_owned();
        let ext = dest.extension().map(|e| format!(".{}", e.to_string_lossy())).unwrap_or_default();
        let tmp = dir.join(format!(".{name}.{}.partial{ext}", std::process::id()));
        // Fail early (read-only folder, missing folder) before any expensive work starts.
        File::create(&tmp)?;
        Ok(Self { tmp, dest: dest.to_path_buf(), committed: false })
    }

    /// The temporary path to write to.
    pub fn path(&self) -> &Path {
        &self.tmp
    }

    /// The final path.
    pub fn dest(&self) -> &Path {
        &self.dest
    }

    /// Moves the finished file into place.
    pub fn commit(mut self) -> io::Result<()> {
        std::fs::rename(&self.tmp, &self.dest)?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if !self.committed {
            std::fs::remove_file(&self.tmp).ok();
        }
    }
}

/// Writes `bytes` produced by `fill` to `dest` atomically.
pub fn write_atomic(dest: &Path, fill: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> io::Result<()> {
    let file = AtomicFile::new(dest)?;
    {
        let mut w = BufWriter::new(File::create(file.path())?);
        fill(&mut w)?;
        w.flush()?;
        w.get_ref().sync_all()?;
    }
    file.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_moves_and_drop_cleans() {
        let dir = tempfile::tempdir().expect("tempdir");
        let dest = dir.path().join("out.json");
        write_atomic(&dest, |w| w.write_all(b"{}")).expect("write");
        assert_eq!(std::fs::read(&dest).expect("read"), b"{}");

        let dest2 = dir.path().join("never.json");
        let err = write_atomic(&dest2, |_| Err(io::Error::other("disk full")));
        assert!(err.is_err());
        assert!(!dest2.exists());
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).expect("ls").collect();
        assert_eq!(leftovers.len(), 1, "only the committed file remains");
    }
}
