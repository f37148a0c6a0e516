//! Writing files so that a failure never leaves a broken file under the final name, never
//! replaces what is not a regular file, and reading inputs with a bound.

use std::fs::{File, FileType};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

/// The largest JSON input (ground truth, results) read into memory.
pub const JSON_LIMIT: u64 = 2 << 30;
/// The largest model file read into memory.
pub const MODEL_LIMIT: u64 = 4 << 30;

/// A file type in words, for messages ("a character device").
pub fn kind_of(ft: FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if ft.is_file() {
        "regular file"
    } else if ft.is_dir() {
        "folder"
    } else if ft.is_symlink() {
        "symbolic link"
    } else if ft.is_char_device() {
        "character device"
    } else if ft.is_block_device() {
        "block device"
    } else if ft.is_fifo() {
        "FIFO (named pipe)"
    } else if ft.is_socket() {
        "socket"
    } else {
        "special file"
    }
}

/// `n` bytes in words ("2 GiB").
pub fn size_words(n: u64) -> String {
    if n >= 1 << 30 && n.is_multiple_of(1 << 30) {
        format!("{} GiB", n >> 30)
    } else if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
        format!("{} MiB", n >> 20)
    } else {
        format!("{n} bytes")
    }
}

/// Reads a whole input file of at most `limit` bytes. A regular file is checked by its size
/// first; a FIFO (`<(…)`) is read once, up to the limit. Devices (`/dev/zero`), folders and
/// sockets are refused: they may never end. The error's message says which rule was broken.
pub fn read_limited(path: &Path, limit: u64, what: &str) -> io::Result<Vec<u8>> {
    use std::os::unix::fs::FileTypeExt;
    let meta = std::fs::metadata(path)?;
    let ft = meta.file_type();
    if !(ft.is_file() || ft.is_fifo()) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("it is a {}, not a regular file", kind_of(ft)),
        ));
    }
    let too_large = || {
        io::Error::new(
            io::ErrorKind::FileTooLarge,
            format!("it is larger than the {} limit for {what}", size_words(limit)),
        )
    };
    if ft.is_file() && meta.len() > limit {
        return Err(too_large());
    }
    let mut bytes = Vec::with_capacity(if ft.is_file() { meta.len() as usize } else { 0 });
    File::open(path)?.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(too_large());
    }
    Ok(bytes)
}

/// Fails unless `path` is a regular file (following symbolic links); the message names its
/// kind. For inputs that are read more than once (a video is indexed, then decoded).
pub fn require_regular_file(path: &Path) -> io::Result<()> {
    let ft = std::fs::metadata(path)?.file_type();
    if ft.is_file() {
        Ok(())
    } else {
        Err(io::Error::new(io::ErrorKind::InvalidInput, format!("it is a {}, not a regular file", kind_of(ft))))
    }
}

/// The folder a path lies in (`.` for a bare name).
pub fn parent_folder(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Where a write to `dest` really lands: the target of a symbolic link to a regular file, or
/// `dest` itself. Anything that exists and is not a regular file is refused, so a write never
/// replaces a device, a FIFO, a folder or a link to one of those.
pub fn write_target(dest: &Path) -> io::Result<PathBuf> {
    let refuse = |what: String| {
        io::Error::new(io::ErrorKind::InvalidInput, format!("{what}, not a regular file: ifa will not replace it"))
    };
    match std::fs::symlink_metadata(dest) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(dest.to_path_buf()),
        Err(e) => Err(e),
        Ok(m) if m.file_type().is_symlink() => match std::fs::metadata(dest) {
            Ok(t) if t.is_file() => dest.canonicalize(),
            Ok(t) => Err(refuse(format!("it is a symbolic link to a {}", kind_of(t.file_type())))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                Err(refuse("it is a symbolic link to a file that does not exist".to_owned()))
            }
            Err(e) => Err(e),
        },
        Ok(m) if m.is_file() => Ok(dest.to_path_buf()),
        Ok(m) => Err(refuse(format!("it is a {}", kind_of(m.file_type())))),
    }
}

/// The temporary name of this process for `dest`: `.NAME.PID.TAG` in the same folder.
fn temp_name(dest: &Path, tag: &str) -> io::Result<PathBuf> {
    let name = dest
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "destination has no file name"))?
        .to_string_lossy()
        .into_owned();
    Ok(parent_folder(dest).join(format!(".{name}.{}.{tag}", std::process::id())))
}

/// Creates (and removes again) a file in `dest`'s folder: fails, as a write would, when the
/// folder is missing or not writable.
pub fn probe_writable(dest: &Path) -> io::Result<()> {
    let probe = temp_name(dest, "partial")?;
    File::create(&probe)?;
    std::fs::remove_file(&probe)
}

/// A temporary of an earlier ifa process found beside an output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaleTemporary {
    pub path: PathBuf,
    /// The process that made it.
    pub pid: u32,
    /// Whether it was removed (otherwise it is only named: its contents are not all ours).
    pub removed: bool,
}

/// Whether process `pid` is running. Without `/proc` nothing can be known: then every
/// process counts as running, so nothing is removed.
fn process_running(pid: u32) -> bool {
    let proc = Path::new("/proc");
    !proc.is_dir() || proc.join(pid.to_string()).exists()
}

/// Whether a folder holds only what ifa's mask writer puts there (PNG frames, meta.json).
fn only_mask_files(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else { return false };
    entries.into_iter().all(|e| {
        e.is_ok_and(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let ours = name == "meta.json"
                || name.strip_suffix(".png").is_some_and(|n| n.len() == 6 && n.bytes().all(|b| b.is_ascii_digit()));
            ours && e.file_type().is_ok_and(|t| t.is_file())
        })
    })
}

/// Removes the temporaries that ifa processes no longer running left beside `dest`
/// (`.NAME.PID.partial…` files, `.NAME.PID.partial` and `.NAME.PID.old` mask folders), as a
/// killed run leaves them. A folder holding anything else is only reported.
pub fn remove_stale_temporaries(dest: &Path) -> io::Result<Vec<StaleTemporary>> {
    let Some(name) = dest.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return Ok(Vec::new());
    };
    let prefix = format!(".{name}.");
    let dir = parent_folder(dest);
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(&dir) else { return Ok(found) };
    for entry in entries {
        let entry = entry?;
        let file = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = file.strip_prefix(&prefix) else { continue };
        let Some((pid, tag)) = rest.split_once('.') else { continue };
        let Ok(pid) = pid.parse::<u32>() else { continue };
        if !(tag.starts_with("partial") || tag == "old") || pid == std::process::id() || process_running(pid) {
            continue;
        }
        let path = entry.path();
        let ft = entry.file_type()?;
        let removed = if ft.is_file() {
            std::fs::remove_file(&path).is_ok()
        } else if ft.is_dir() && only_mask_files(&path) {
            std::fs::remove_dir_all(&path).is_ok()
        } else {
            false
        };
        found.push(StaleTemporary { path, pid, removed });
    }
    Ok(found)
}

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
    /// A destination that exists and is not a regular file (a device, FIFO, folder, or a link
    /// to one) is refused; a symbolic link to a regular file is written through.
    pub fn new(dest: &Path) -> io::Result<Self> {
        let dest = write_target(dest)?;
        let ext = dest.extension().map(|e| format!(".{}", e.to_string_lossy())).unwrap_or_default();
        let tmp = temp_name(&dest, &format!("partial{ext}"))?;
        // Fail early (read-only folder, missing folder) before any expensive work starts.
        File::create(&tmp)?;
        Ok(Self { tmp, dest, committed: false })
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

    #[test]
    fn devices_and_folders_are_never_replaced_and_links_are_written_through() {
        let dir = tempfile::tempdir().expect("tempdir");
        let link = dir.path().join("null.json");
        std::os::unix::fs::symlink("/dev/null", &link).expect("symlink");
        let err = write_atomic(&link, |w| w.write_all(b"x")).expect_err("a device");
        assert!(err.to_string().contains("character device"), "{err}");
        assert!(std::fs::symlink_metadata(&link).expect("link").file_type().is_symlink());
        let folder = dir.path().join("f.json");
        std::fs::create_dir(&folder).expect("mkdir");
        assert!(write_atomic(&folder, |w| w.write_all(b"x")).is_err());
        assert!(folder.is_dir());
        let dangling = dir.path().join("gone.json");
        std::os::unix::fs::symlink(dir.path().join("nothing"), &dangling).expect("symlink");
        assert!(write_atomic(&dangling, |w| w.write_all(b"x")).is_err());

        let target = dir.path().join("target.json");
        std::fs::write(&target, b"old").expect("write");
        let via = dir.path().join("via.json");
        std::os::unix::fs::symlink(&target, &via).expect("symlink");
        write_atomic(&via, |w| w.write_all(b"new")).expect("through the link");
        assert_eq!(std::fs::read(&target).expect("read"), b"new");
        assert!(std::fs::symlink_metadata(&via).expect("link").file_type().is_symlink());
    }

    #[test]
    fn reads_are_bounded() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("a.json");
        std::fs::write(&p, b"[1, 2]").expect("write");
        assert_eq!(read_limited(&p, 6, "JSON").expect("fits"), b"[1, 2]");
        let err = read_limited(&p, 5, "JSON").expect_err("too large");
        assert!(err.to_string().contains("5 bytes limit for JSON"), "{err}");
        let err = read_limited(Path::new("/dev/zero"), JSON_LIMIT, "JSON").expect_err("a device");
        assert!(err.to_string().contains("character device"), "{err}");
        assert!(read_limited(dir.path(), JSON_LIMIT, "JSON").is_err());
        assert_eq!(size_words(JSON_LIMIT), "2 GiB");
        assert_eq!(size_words(MODEL_LIMIT), "4 GiB");
    }

    #[test]
    fn stale_temporaries_of_dead_processes_are_removed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let dest = dir.path().join("out.mp4");
        // A pid that is not running: the largest pid the kernel could hand out, plus one.
        let dead = 4_194_305u32;
        let stale = dir.path().join(format!(".out.mp4.{dead}.partial.mp4"));
        std::fs::write(&stale, b"half a video").expect("write");
        let live = dir.path().join(format!(".out.mp4.{}.partial.mp4", std::process::id()));
        std::fs::write(&live, b"ours").expect("write");
        let masks = dir.path().join(format!(".out.mp4.{dead}.old"));
        std::fs::create_dir(&masks).expect("mkdir");
        std::fs::write(masks.join("000000.png"), b"png").expect("write");
        let foreign = dir.path().join(format!(".out.mp4.{dead}.partial"));
        std::fs::create_dir(&foreign).expect("mkdir");
        std::fs::write(foreign.join("notes.txt"), b"mine").expect("write");
        let other = dir.path().join(format!(".other.mp4.{dead}.partial.mp4"));
        std::fs::write(&other, b"another output's").expect("write");

        let mut found = remove_stale_temporaries(&dest).expect("scan");
        found.sort_by(|a, b| a.path.cmp(&b.path));
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(found.iter().all(|s| s.pid == dead));
        assert!(!stale.exists() && !masks.exists(), "removed");
        assert!(foreign.join("notes.txt").exists(), "a folder with other files is only named");
        assert!(found.iter().any(|s| s.path == foreign && !s.removed));
        assert!(live.exists() && other.exists(), "this process's and other outputs' temporaries stay");
    }
}
