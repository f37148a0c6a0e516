//! The `ifa` binary against hostile inputs and everyday slips: outputs that name an input, two
//! outputs on one path, devices, FIFOs and symlinks as outputs, foreign mask folders, unbounded
//! inputs, broken videos, bad flags and signals. Every case checks the exit code, that the
//! message names the problem and the path, that every input is byte-identical afterwards and that
//! nothing is left under a final name (or as a temporary).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::ffi::OsStr;
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// What one `ifa` call did.
struct Run {
    code: Option<i32>,
    stderr: String,
    stdout: String,
    elapsed: Duration,
}

impl Run {
    /// Fails the test unless the call exited with `code` and its error names every `needle`.
    fn fails_with(&self, code: i32, needles: &[&str]) {
        assert_eq!(self.code, Some(code), "exit code; stderr:\n{}", self.stderr);
        self.names(needles);
        assert!(self.stderr.contains("error: "), "an `error:` line:\n{}", self.stderr);
    }

    fn fails(&self, needles: &[&str]) {
        self.fails_with(1, needles);
    }

    fn names(&self, needles: &[&str]) {
        for n in needles {
            assert!(self.stderr.contains(n), "stderr should name {n:?}:\n{}", self.stderr);
        }
        assert!(!self.stderr.contains("panicked"), "{}", self.stderr);
    }

    fn succeeds(&self) {
        assert_eq!(self.code, Some(0), "stderr:\n{}", self.stderr);
        assert!(!self.stderr.contains("panicked"), "{}", self.stderr);
    }
}

/// The binary under test: the one cargo built, or `IFA_TEST_BIN` (a private copy, for when
/// several checkouts share one target folder and may replace `target/release/ifa` mid-run).
fn ifa_cmd() -> Command {
    let bin = std::env::var_os("IFA_TEST_BIN").map_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_ifa")), PathBuf::from);
    let mut c = Command::new(bin);
    c.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    c
}

/// Reads `r` to its end on a thread of its own.
fn read_all(name: &str, mut r: impl Read + Send + 'static) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || {
            let mut s = Vec::new();
            r.read_to_end(&mut s).ok();
            s
        })
        .expect("a reader thread")
}

/// Reads a child's output on threads (so a full pipe never blocks it) and waits at most `limit`.
fn finish(mut child: Child, limit: Duration, start: Instant) -> Run {
    let out = child.stdout.take().unwrap();
    let err = child.stderr.take().unwrap();
    let t_out = read_all("ifa-stdout", out);
    let t_err = read_all("ifa-stderr", err);
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if start.elapsed() > limit {
            child.kill().ok();
            child.wait().ok();
            panic!("ifa did not finish within {limit:?} (it hangs)");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let elapsed = start.elapsed();
    let stdout = String::from_utf8_lossy(&t_out.join().unwrap()).into_owned();
    let stderr = String::from_utf8_lossy(&t_err.join().unwrap()).replace('\r', "\n");
    Run { code: status.code(), stderr, stdout, elapsed }
}

/// Runs `ifa ARGS` with a 60 s limit (a hang fails the test instead of stalling the suite).
fn ifa<S: AsRef<OsStr>>(args: &[S]) -> Run {
    let start = Instant::now();
    let child = ifa_cmd().args(args).spawn().expect("ifa binary");
    finish(child, Duration::from_secs(60), start)
}

/// Clips made once for the whole binary.
struct Shared {
    dir: tempfile::TempDir,
}

impl Shared {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

fn shared() -> &'static Shared {
    static S: OnceLock<Shared> = OnceLock::new();
    S.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let p = |n: &str| dir.path().join(n).to_string_lossy().into_owned();
        common::small_clip(dir.path(), "small.mp4", 6);
        // 3 s with the index at the front: cut, it loses its tail but keeps every frame's entry.
        common::faststart_clip(Path::new(&p("whole.mp4")), "160x90", 3);
        let whole = std::fs::read(p("whole.mp4")).unwrap();
        std::fs::write(p("truncated.mp4"), &whole[..whole.len() * 6 / 10]).unwrap();
        // The same with the middle tenth overwritten by noise.
        let mut corrupt = whole.clone();
        let n = corrupt.len();
        for (i, b) in corrupt.iter_mut().enumerate().take(n / 2).skip(n * 4 / 10) {
            *b = (i * 7919 % 251) as u8;
        }
        std::fs::write(p("corrupt.mp4"), corrupt).unwrap();
        // Without faststart the cut loses the index itself ("moov cut").
        common::ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=160x90:rate=10",
            "-t",
            "2",
            "-c:v",
            "libx264",
            &p("tail.mp4"),
        ]);
        let tail = std::fs::read(p("tail.mp4")).unwrap();
        std::fs::write(p("moov_cut.mp4"), &tail[..tail.len() / 2]).unwrap();
        common::ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=321x241:rate=10",
            "-frames:v",
            "3",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv444p",
            &p("odd.mp4"),
        ]);
        // Long enough that a signal lands in the middle of an export.
        common::ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x240:rate=25",
            "-t",
            "30",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            &p("long.mp4"),
        ]);
        common::ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=64x48:rate=10",
            "-frames:v",
            "0",
            "-c:v",
            "libx264",
            &p("zero.mp4"),
        ]);
        common::ffmpeg(&["-f", "lavfi", "-i", "sine=frequency=440", "-t", "1", "-c:a", "aac", &p("audio_only.m4a")]);
        common::ffmpeg(&["-f", "lavfi", "-i", "testsrc2=size=64x48", "-frames:v", "1", &p("image.png")]);
        common::ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=2x2:rate=10,scale=1:1",
            "-frames:v",
            "3",
            "-c:v",
            "ffv1",
            &p("one_pixel.mkv"),
        ]);
        Shared { dir }
    })
}

/// A test's own folder with a clip, a model, ground truth and results in it.
struct Fx {
    dir: tempfile::TempDir,
    clip: PathBuf,
    model: PathBuf,
    gt: PathBuf,
    results: PathBuf,
}

const GT: &str = r#"{"videos":[{"id":1,"height":2,"width":2,"length":1}],
 "categories":[{"id":1,"name":"disc"}],
 "annotations":[{"id":1,"video_id":1,"category_id":1,"iscrowd":0,"areas":[1],
   "segmentations":[{"size":[2,2],"counts":[3,1]}]}]}"#;

fn results_json(category_ids: &[i64]) -> String {
    let rle = ifa::rle::Rle::from_counts(2, 2, vec![3, 1]).unwrap();
    let list: Vec<serde_json::Value> = category_ids
        .iter()
        .map(|&c| serde_json::json!({"video_id": 1, "category_id": c, "score": 0.9, "segmentations": [rle]}))
        .collect();
    serde_json::to_string(&list).unwrap()
}

impl Fx {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let clip = dir.path().join("clip.mp4");
        std::fs::copy(shared().path("small.mp4"), &clip).unwrap();
        let model = dir.path().join("model.onnx");
        std::fs::copy(common::root().join("tests/runtime_fixtures/tiny.onnx"), &model).unwrap();
        let gt = dir.path().join("gt.json");
        std::fs::write(&gt, GT).unwrap();
        let results = dir.path().join("results.json");
        std::fs::write(&results, results_json(&[1])).unwrap();
        Self { dir, clip, model, gt, results }
    }

    fn p(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Copies a shared clip into this folder.
    fn clip_named(&self, shared_name: &str, name: &str) -> PathBuf {
        let p = self.p(name);
        std::fs::copy(shared().path(shared_name), &p).unwrap();
        p
    }

    /// Every regular file in the folder (recursively) with its bytes.
    fn snapshot(&self) -> Vec<(PathBuf, Vec<u8>)> {
        fn walk(dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
            let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
            entries.sort();
            for p in entries {
                let meta = std::fs::symlink_metadata(&p).unwrap();
                if meta.is_dir() {
                    walk(&p, out);
                } else if meta.is_file() {
                    out.push((p.clone(), std::fs::read(&p).unwrap()));
                }
            }
        }
        let mut out = Vec::new();
        walk(self.dir.path(), &mut out);
        out
    }

    /// Fails unless the folder holds exactly the files of `before`, byte for byte, and no
    /// temporary of ifa.
    fn unchanged_since(&self, before: &[(PathBuf, Vec<u8>)]) {
        let now = self.snapshot();
        let names = |s: &[(PathBuf, Vec<u8>)]| s.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>();
        assert_eq!(names(&now), names(before), "files appeared or vanished");
        for ((p, a), (_, b)) in before.iter().zip(&now) {
            assert!(a == b, "{} changed", p.display());
        }
        self.no_temporaries();
    }

    fn no_temporaries(&self) {
        let left = temporaries(self.dir.path());
        assert!(left.is_empty(), "temporaries left behind: {left:?}");
    }

    fn s(p: &Path) -> &str {
        p.to_str().unwrap()
    }

    fn model_args(&self) -> Vec<String> {
        vec!["--model".into(), Self::s(&self.model).into(), "--device".into(), "cpu".into()]
    }

    /// `ifa run CLIP --model M --device cpu ARGS`.
    fn run(&self, video: &Path, args: &[&str]) -> Run {
        let mut a: Vec<String> = vec!["run".into(), Self::s(video).into()];
        a.extend(self.model_args());
        a.extend(args.iter().map(|s| (*s).to_owned()));
        ifa(&a)
    }

    /// `ifa export CLIP --model M --device cpu ARGS`.
    fn export(&self, video: &Path, args: &[&str]) -> Run {
        let mut a: Vec<String> = vec!["export".into(), Self::s(video).into()];
        a.extend(self.model_args());
        a.extend(args.iter().map(|s| (*s).to_owned()));
        ifa(&a)
    }
}

/// Names of ifa's temporaries (`.NAME.PID.partial…`, `.NAME.PID.old`) under `dir`.
fn temporaries(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') && (name.contains(".partial") || name.ends_with(".old")) {
            out.push(name.clone());
        }
        if e.file_type().unwrap().is_dir() {
            out.extend(temporaries(&e.path()).into_iter().map(|n| format!("{name}/{n}")));
        }
    }
    out
}

fn mkfifo(path: &Path) {
    let st = Command::new("mkfifo").arg(path).status().expect("mkfifo");
    assert!(st.success());
}

/// A folder this process cannot create files in: a read-only one, or (as root, who may write
/// anywhere) a folder of sysfs, which refuses new files to everybody.
fn unwritable_folder(fx: &Fx) -> PathBuf {
    let ro = fx.p("readonly");
    std::fs::create_dir(&ro).unwrap();
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
    if std::fs::write(ro.join("probe"), b"").is_err() {
        return ro;
    }
    std::fs::remove_file(ro.join("probe")).unwrap();
    PathBuf::from("/sys/kernel")
}

// ---------------------------------------------------------------------------------------------
// An output that is an input.

#[test]
fn run_refuses_to_write_over_its_video() {
    let fx = Fx::new();
    // The same file by other names: `..`, a symbolic link, a hard link.
    std::fs::create_dir(fx.p("sub")).unwrap();
    std::os::unix::fs::symlink(&fx.clip, fx.p("link.mp4")).unwrap();
    std::fs::hard_link(&fx.clip, fx.p("hard.json")).unwrap();
    let before = fx.snapshot();
    let clip = Fx::s(&fx.clip);
    for flag in ["--json", "--csv"] {
        fx.run(&fx.clip, &[flag, clip]).fails(&["same file", clip]);
    }
    let dotdot = fx.p("sub/../clip.mp4");
    fx.run(&fx.clip, &["--json", Fx::s(&dotdot)]).fails(&["same file", "sub/../clip.mp4"]);
    fx.run(&fx.clip, &["--csv", Fx::s(&fx.p("link.mp4"))]).fails(&["same file", "link.mp4"]);
    fx.run(&fx.clip, &["--json", Fx::s(&fx.p("hard.json"))]).fails(&["same file", "hard.json"]);
    fx.unchanged_since(&before);
    assert!(std::fs::symlink_metadata(fx.p("link.mp4")).unwrap().file_type().is_symlink());
}

#[test]
fn no_output_may_be_the_model() {
    let fx = Fx::new();
    let before = fx.snapshot();
    let m = Fx::s(&fx.model);
    fx.run(&fx.clip, &["--json", m]).fails(&["same file", m]);
    fx.run(&fx.clip, &["--csv", m]).fails(&["same file", m]);
    fx.export(&fx.clip, &["-o", m]).fails(&["same file", m]);
    fx.export(&fx.clip, &["--json", m]).fails(&["same file", m]);
    fx.export(&fx.clip, &["--csv", m]).fails(&["same file", m]);
    fx.unchanged_since(&before);
}

#[test]
fn eval_refuses_to_write_over_its_inputs() {
    let fx = Fx::new();
    let before = fx.snapshot();
    let (g, r) = (Fx::s(&fx.gt), Fx::s(&fx.results));
    for out in [g, r] {
        ifa(&["eval", "--gt", g, "--results", r, "--json", out]).fails(&["same file", out]);
    }
    fx.unchanged_since(&before);
    // A fresh path works.
    let out = fx.p("ap.json");
    let run = ifa(&["eval", "--gt", g, "--results", r, "--json", Fx::s(&out)]);
    run.succeeds();
    assert!(out.is_file());
}

// ---------------------------------------------------------------------------------------------
// The mask folder.

#[test]
fn masks_never_replace_a_folder_ifa_did_not_make() {
    let fx = Fx::new();
    let out = |name: &str| Fx::s(&fx.p(name)).to_owned();

    // A folder of the user's.
    std::fs::create_dir(fx.p("mine")).unwrap();
    std::fs::write(fx.p("mine/notes.txt"), "keep me").unwrap();
    let before = fx.snapshot();
    fx.export(&fx.clip, &["--masks", &out("mine")]).fails(&["not made by ifa", "mine"]);
    fx.unchanged_since(&before);

    // The folder that holds the video itself.
    let here = Fx::s(fx.dir.path()).to_owned();
    fx.export(&fx.clip, &["--masks", &here]).fails(&["not made by ifa", &here]);
    fx.unchanged_since(&before);

    // A regular file where the folder should go: neither replaced nor moved aside.
    std::fs::write(fx.p("masks.txt"), "a file").unwrap();
    let before = fx.snapshot();
    fx.export(&fx.clip, &["--masks", &out("masks.txt")]).fails(&["not a folder", "masks.txt"]);
    fx.unchanged_since(&before);

    // A new folder, then the same folder again (ifa's own: replaced), and an empty folder.
    fx.export(&fx.clip, &["--masks", &out("masks")]).succeeds();
    assert!(fx.p("masks/000000.png").is_file() && fx.p("masks/meta.json").is_file());
    fx.export(&fx.clip, &["--masks", &out("masks")]).succeeds();
    assert!(fx.p("masks/000005.png").is_file());
    std::fs::create_dir(fx.p("empty")).unwrap();
    fx.export(&fx.clip, &["--masks", &out("empty")]).succeeds();
    assert!(fx.p("empty/000000.png").is_file());

    // Once the user puts a file of their own into it, it is theirs.
    std::fs::write(fx.p("masks/mine.txt"), "mine").unwrap();
    let before = fx.snapshot();
    fx.export(&fx.clip, &["--masks", &out("masks")]).fails(&["not made by ifa", "mine.txt"]);
    fx.unchanged_since(&before);
}

// ---------------------------------------------------------------------------------------------
// Two outputs of one command on one path.

#[test]
fn two_outputs_on_one_path_are_refused() {
    let fx = Fx::new();
    let before = fx.snapshot();
    let x = Fx::s(&fx.p("x.out")).to_owned();
    for other in ["--json", "--csv", "--masks"] {
        fx.export(&fx.clip, &["-o", &x, other, &x]).fails(&["same path", &x]);
    }
    fx.run(&fx.clip, &["--json", &x, "--csv", &x]).fails(&["same path", &x]);
    // Also through `..` and the sidecar a data file gets.
    std::fs::create_dir(fx.p("d")).unwrap();
    let before_d = fx.snapshot();
    let y = Fx::s(&fx.p("d/../y.json")).to_owned();
    fx.run(&fx.clip, &["--json", &x, "--csv", &y.replace("y.json", "x.out")]).fails(&["same path"]);
    let side = format!("{x}.meta.json");
    fx.export(&fx.clip, &["--json", &x, "--csv", &side]).fails(&["same path", &side]);
    fx.unchanged_since(&before_d);
    assert_eq!(before_d.len(), before.len());
}

// ---------------------------------------------------------------------------------------------
// Outputs that are not regular files.

#[test]
fn devices_fifos_folders_and_links_to_them_are_not_replaced() {
    let fx = Fx::new();
    std::os::unix::fs::symlink("/dev/null", fx.p("null.json")).unwrap();
    std::os::unix::fs::symlink("/dev/full", fx.p("full.csv")).unwrap();
    std::os::unix::fs::symlink("/proc/self/fd/1", fx.p("stdout.json")).unwrap();
    mkfifo(&fx.p("pipe.json"));
    std::fs::create_dir(fx.p("folder.json")).unwrap();
    let before = fx.snapshot();
    for name in ["null.json", "stdout.json", "pipe.json", "folder.json"] {
        let p = Fx::s(&fx.p(name)).to_owned();
        fx.run(&fx.clip, &["--json", &p]).fails(&["not a regular file", &p]);
    }
    let full = Fx::s(&fx.p("full.csv")).to_owned();
    fx.export(&fx.clip, &["--csv", &full]).fails(&["not a regular file", &full]);
    let null = Fx::s(&fx.p("null.json")).to_owned();
    fx.export(&fx.clip, &["-o", &null]).fails(&["not a regular file", &null]);
    let pipe = Fx::s(&fx.p("pipe.json")).to_owned();
    ifa(&["eval", "--gt", Fx::s(&fx.gt), "--results", Fx::s(&fx.results), "--json", &pipe])
        .fails(&["not a regular file", &pipe]);
    fx.unchanged_since(&before);
    for name in ["null.json", "full.csv", "stdout.json"] {
        assert!(std::fs::symlink_metadata(fx.p(name)).unwrap().file_type().is_symlink(), "{name} is still a link");
    }
    assert!(std::fs::symlink_metadata(fx.p("pipe.json")).unwrap().file_type().is_fifo());

    // A link to a regular file is written through: the link stays, its target gets the data.
    std::fs::write(fx.p("target.json"), "old").unwrap();
    std::os::unix::fs::symlink(fx.p("target.json"), fx.p("via_link.json")).unwrap();
    fx.run(&fx.clip, &["--json", Fx::s(&fx.p("via_link.json"))]).succeeds();
    assert!(std::fs::symlink_metadata(fx.p("via_link.json")).unwrap().file_type().is_symlink());
    let written: serde_json::Value = serde_json::from_slice(&std::fs::read(fx.p("target.json")).unwrap()).unwrap();
    assert!(written.is_array());
    fx.no_temporaries();
}

// ---------------------------------------------------------------------------------------------
// Output folders checked before any work.

#[test]
fn missing_or_unwritable_output_folders_fail_before_processing() {
    let fx = Fx::new();
    let long = fx.clip_named("long.mp4", "long.mp4");
    let before = fx.snapshot();
    let missing = Fx::s(&fx.p("no/such/folder/out.json")).to_owned();
    let r = fx.run(&long, &["--json", &missing]);
    r.fails(&["does not exist", "no/such/folder"]);
    assert!(!r.stderr.contains("frames,"), "failed only after processing:\n{}", r.stderr);
    assert!(!r.stderr.contains("tracks over"), "{}", r.stderr);
    let r = fx.export(&long, &["-o", &missing]);
    r.fails(&["does not exist", "no/such/folder"]);
    let r = fx.export(&long, &["--masks", Fx::s(&fx.p("no/such/masks"))]);
    r.fails(&["does not exist", "no/such"]);
    let masks_before = fx.snapshot();
    assert_eq!(masks_before.len(), before.len());
    let ro = unwritable_folder(&fx);
    let ro_out = Fx::s(&ro.join("out.csv")).to_owned();
    let r = fx.run(&long, &["--csv", &ro_out]);
    r.fails(&["not writable", Fx::s(&ro)]);
    assert!(!r.stderr.contains("tracks over"), "{}", r.stderr);
    let r = ifa(&["eval", "--gt", Fx::s(&fx.gt), "--results", Fx::s(&fx.results), "--json", &ro_out]);
    r.fails(&["not writable", Fx::s(&ro)]);
    // The evaluation itself is not printed when its output cannot be written.
    assert!(!r.stdout.contains("AP"), "{}", r.stdout);
    std::fs::set_permissions(fx.p("readonly"), std::fs::Permissions::from_mode(0o755)).unwrap();
    fx.unchanged_since(&before);
}

#[test]
fn synth_refuses_a_file_as_its_folder() {
    let fx = Fx::new();
    let before = fx.snapshot();
    let g = Fx::s(&fx.gt);
    ifa(&["synth", "--out", g, "--videos", "1", "--frames", "2", "--size", "64x48", "--no-mp4", "-q"])
        .fails(&["not a folder", g]);
    fx.unchanged_since(&before);
}

// ---------------------------------------------------------------------------------------------
// Inputs that must not be read without bound or twice.

#[test]
fn a_fed_fifo_is_refused_not_waited_on() {
    let fx = Fx::new();
    let fifo = fx.p("stream.mp4");
    mkfifo(&fifo);
    // Opened for reading and writing, the FIFO never blocks us; the clip fits its buffer.
    let mut feed = std::fs::OpenOptions::new().read(true).write(true).open(&fifo).unwrap();
    std::io::Write::write_all(&mut feed, &std::fs::read(&fx.clip).unwrap()).unwrap();
    let f = Fx::s(&fifo);
    let r = ifa(&["probe", f]);
    r.fails(&["not a regular file", f]);
    assert!(r.elapsed < Duration::from_secs(20));
    fx.run(&fifo, &["--json", Fx::s(&fx.p("out.json"))]).fails(&["not a regular file", f]);
    drop(feed);
    assert!(!fx.p("out.json").exists());
}

#[test]
fn dev_zero_is_never_read_to_the_end() {
    let fx = Fx::new();
    let before = fx.snapshot();
    let (g, r) = (Fx::s(&fx.gt), Fx::s(&fx.results));
    for run in [
        ifa(&["eval", "--gt", "/dev/zero", "--results", r]),
        ifa(&["eval", "--gt", g, "--results", "/dev/zero"]),
        ifa(&["probe", "/dev/zero"]),
        fx.run(Path::new("/dev/zero"), &[]),
    ] {
        run.fails(&["/dev/zero", "not a regular file"]);
        assert!(run.elapsed < Duration::from_secs(20), "{:?}", run.elapsed);
    }
    let run = ifa(&["run", Fx::s(&fx.clip), "--model", "/dev/zero", "--device", "cpu"]);
    run.fails(&["/dev/zero", "not a regular file"]);
    fx.unchanged_since(&before);
}

#[test]
fn oversized_json_and_model_files_are_refused_by_size() {
    let fx = Fx::new();
    // Sparse files: their size costs no disk.
    let big_json = fx.p("big.json");
    std::fs::File::create(&big_json).unwrap().set_len(3 << 30).unwrap();
    let big_model = fx.p("big.onnx");
    std::fs::File::create(&big_model).unwrap().set_len(5 << 30).unwrap();
    let b = Fx::s(&big_json);
    let r = ifa(&["eval", "--gt", b, "--results", Fx::s(&fx.results)]);
    r.fails(&[b, "2 GiB"]);
    assert!(r.elapsed < Duration::from_secs(20));
    ifa(&["eval", "--gt", Fx::s(&fx.gt), "--results", b]).fails(&[b, "2 GiB"]);
    let m = Fx::s(&big_model);
    ifa(&["run", Fx::s(&fx.clip), "--model", m, "--device", "cpu"]).fails(&[m, "4 GiB"]);
    fx.no_temporaries();
}

// ---------------------------------------------------------------------------------------------
// Videos that cannot be decoded to their end.

#[test]
fn a_truncated_video_is_reported_and_fails_unless_allowed() {
    let fx = Fx::new();
    let cut = fx.clip_named("truncated.mp4", "cut.mp4");
    let before = fx.snapshot();
    let (json, mp4) = (Fx::s(&fx.p("cut.json")).to_owned(), Fx::s(&fx.p("cut.out.mp4")).to_owned());
    let c = Fx::s(&cut);
    let r = fx.run(&cut, &["--json", &json]);
    r.fails(&[c, "of 30 frames", "--allow-partial"]);
    let r = fx.export(&cut, &["-o", &mp4, "--json", &json]);
    r.fails(&[c, "of 30 frames", "--allow-partial"]);
    fx.unchanged_since(&before);

    let r = fx.run(&cut, &["--json", &json, "--allow-partial"]);
    r.succeeds();
    r.names(&["of 30 frames", c]);
    assert!(fx.p("cut.json").is_file());
    fx.export(&cut, &["-o", &mp4, "--allow-partial"]).succeeds();
    assert!(fx.p("cut.out.mp4").is_file());
    fx.no_temporaries();
}

#[test]
fn a_corrupt_middle_is_reported() {
    let fx = Fx::new();
    let bad = fx.clip_named("corrupt.mp4", "bad.mp4");
    let before = fx.snapshot();
    let json = Fx::s(&fx.p("bad.json")).to_owned();
    let r = fx.run(&bad, &["--json", &json]);
    r.fails(&["bad.mp4", "of 30 frames", "could not be decoded", "--allow-partial"]);
    fx.unchanged_since(&before);
    fx.run(&bad, &["--json", &json, "--allow-partial"]).succeeds();
}

#[test]
fn broken_and_odd_videos_get_clear_errors() {
    let fx = Fx::new();
    std::fs::write(fx.p("empty.mp4"), b"").unwrap();
    let noise: Vec<u8> = (0..5000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    std::fs::write(fx.p("noise.mp4"), noise).unwrap();
    fx.clip_named("moov_cut.mp4", "moov_cut.mp4");
    fx.clip_named("zero.mp4", "zero.mp4");
    fx.clip_named("audio_only.m4a", "audio_only.m4a");
    std::fs::create_dir(fx.p("folder.mp4")).unwrap();
    let before = fx.snapshot();
    let cases: [(&str, &str); 6] = [
        ("empty.mp4", "not a video"),
        ("noise.mp4", "not a video"),
        ("moov_cut.mp4", "not a video"),
        ("zero.mp4", "no video stream"),
        ("audio_only.m4a", "no video stream"),
        // A folder is read as a frame folder; an empty one says so.
        ("folder.mp4", "holds no frames"),
    ];
    for (name, problem) in cases {
        let p = fx.p(name);
        fx.run(&p, &["--json", Fx::s(&fx.p("out.json"))]).fails(&[problem, name]);
        ifa(&["probe", Fx::s(&p)]).fails(&[problem, name]);
    }
    let missing = fx.p("missing.mp4");
    fx.run(&missing, &[]).fails(&["not found", "missing.mp4"]);
    fx.unchanged_since(&before);
}

#[test]
fn small_strange_and_unicode_videos_work() {
    let fx = Fx::new();
    let uni = fx.clip_named("small.mp4", "vidéo 動画 ✓.mp4");
    let out = fx.p("résultats 結果.json");
    fx.run(&uni, &["--json", Fx::s(&out)]).succeeds();
    assert!(out.is_file());
    let png = fx.clip_named("image.png", "image.png");
    fx.run(&png, &["--json", Fx::s(&fx.p("png.json"))]).succeeds();
    let one = fx.clip_named("one_pixel.mkv", "one_pixel.mkv");
    fx.run(&one, &["--json", Fx::s(&fx.p("one.json"))]).succeeds();
    fx.export(&one, &["-o", Fx::s(&fx.p("one.mp4"))]).succeeds();
    fx.no_temporaries();
}

#[test]
fn odd_sizes_say_they_are_rounded() {
    let fx = Fx::new();
    let odd = fx.clip_named("odd.mp4", "odd.mp4");
    let out = fx.p("odd.out.mp4");
    let r = fx.export(&odd, &["-o", Fx::s(&out)]);
    r.succeeds();
    r.names(&["321x241", "322x242"]);
    let help = ifa(&["export", "--help"]);
    assert!(help.stdout.contains("rounded up to even"), "{}", help.stdout);
}

// ---------------------------------------------------------------------------------------------
// Models.

#[test]
fn broken_and_foreign_models_are_refused() {
    let fx = Fx::new();
    let text = fx.p("text.onnx");
    std::fs::write(&text, "not a model").unwrap();
    let mut cut = std::fs::read(&fx.model).unwrap();
    cut.truncate(cut.len() / 2);
    std::fs::write(fx.p("half.onnx"), cut).unwrap();
    let mut foreign = std::fs::read(&fx.model).unwrap();
    let at = foreign.windows(12).position(|w| w == b"ifa.contract").expect("tiny.onnx declares the contract");
    foreign[at..at + 12].copy_from_slice(b"ifa.contrakt");
    std::fs::write(fx.p("foreign.onnx"), foreign).unwrap();
    let before = fx.snapshot();
    let clip = Fx::s(&fx.clip);
    for name in ["text.onnx", "half.onnx"] {
        let m = Fx::s(&fx.p(name)).to_owned();
        ifa(&["run", clip, "--model", &m, "--device", "cpu"]).fails(&[&m]);
    }
    // A real ONNX model that does not declare the contract.
    let foreign = fx.p("foreign.onnx");
    let f = Fx::s(&foreign);
    ifa(&["run", clip, "--model", f, "--device", "cpu"]).fails(&[f, "contract"]);
    ifa(&["run", clip, "--model", Fx::s(&fx.p("nope.onnx")), "--device", "cpu"]).fails(&["nope.onnx"]);
    fx.unchanged_since(&before);
}

/// A model that follows the contract but computes NaN (a broken export or diverged weights)
/// fails on the first frame, naming the output, the frame and the model; nothing is written.
#[test]
fn a_model_that_outputs_nan_fails_clearly() {
    let fx = Fx::new();
    let nan = fx.p("nan.onnx");
    std::fs::copy(common::root().join("tests/runtime_fixtures/nan.onnx"), &nan).unwrap();
    let before = fx.snapshot();
    let (clip, m) = (Fx::s(&fx.clip), Fx::s(&nan));
    let json = Fx::s(&fx.p("out.json")).to_owned();
    ifa(&["run", clip, "--model", m, "--device", "cpu", "--json", &json]).fails(&[
        "nan.onnx",
        "`semantic`",
        "NaN",
        "frame 0",
    ]);
    let o = Fx::s(&fx.p("out.mp4")).to_owned();
    ifa(&["export", clip, "--model", m, "--device", "cpu", "-o", &o]).fails(&["nan.onnx", "NaN"]);
    fx.unchanged_since(&before);
}

/// Frames above 8192 pixels a side (or 36 megapixels) are refused when the video is opened,
/// with the size in the message, before anything is decoded; 8K UHD still runs.
#[test]
fn huge_frames_are_refused_up_front_and_8k_runs() {
    let fx = Fx::new();
    let folder = fx.p("frames");
    std::fs::create_dir(&folder).unwrap();
    // 9000x8 pixels: tiny on disk, too wide to be a frame.
    image::RgbImage::new(9000, 8).save(folder.join("0001.png")).unwrap();
    let wide = fx.p("wide.mkv");
    common::ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "color=c=gray:size=8192x4608:rate=10",
        "-frames:v",
        "1",
        "-c:v",
        "ffv1",
        Fx::s(&wide),
    ]);
    let uhd = fx.p("uhd.mp4");
    common::ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=7680x4320:rate=10",
        "-frames:v",
        "2",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        Fx::s(&uhd),
    ]);
    let before = fx.snapshot();
    let json = Fx::s(&fx.p("out.json")).to_owned();
    fx.run(&folder, &["--json", &json]).fails(&["frames", "9000x8", "8192"]);
    fx.run(&wide, &["--json", &json]).fails(&["wide.mkv", "8192x4608", "36 megapixels"]);
    ifa(&["probe", Fx::s(&wide)]).fails(&["wide.mkv", "8192x4608"]);
    fx.unchanged_since(&before);
    let out = fx.p("uhd.json");
    fx.run(&uhd, &["--json", Fx::s(&out)]).succeeds();
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.starts_with('['), "{text}");
}

// ---------------------------------------------------------------------------------------------
// Flags.

#[test]
fn out_of_range_flags_are_refused() {
    let fx = Fx::new();
    let before = fx.snapshot();
    let o = Fx::s(&fx.p("o.mp4")).to_owned();
    let clap_fails = |r: Run, flag: &str| {
        assert_eq!(r.code, Some(2), "{}", r.stderr);
        r.names(&[flag]);
    };
    clap_fails(fx.export(&fx.clip, &["-o", &o, "--crf", "100"]), "--crf");
    fx.export(&fx.clip, &["-o", &o, "--min-score", "NaN"]).fails(&["--min-score", "NaN"]);
    fx.export(&fx.clip, &["-o", &o, "--min-score", "2"]).fails(&["--min-score"]);
    fx.export(&fx.clip, &["-o", &o, "--layers", ""]).fails(&["--layers"]);
    fx.export(&fx.clip, &["-o", &o, "--layers", " , "]).fails(&["--layers"]);
    fx.export(&fx.clip, &["-o", &o, "--opacity", "NaN"]).fails(&["--opacity"]);
    fx.unchanged_since(&before);
}

// ---------------------------------------------------------------------------------------------
// Evaluation inputs.

#[test]
fn malformed_and_hostile_json_for_eval() {
    let fx = Fx::new();
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let cases: [(&str, Vec<u8>, &str); 7] = [
        ("truncated.json", GT[..GT.len() / 2].into(), "not valid JSON"),
        ("empty.json", Vec::new(), "not valid JSON"),
        ("deep.json", deep.into_bytes(), "not valid JSON"),
        ("list.json", b"[1, 2, 3]".to_vec(), "not an object"),
        ("nul.json", b"\0\0\0\0".to_vec(), "not valid JSON"),
        (
            "hugesize.json",
            GT.replace(r#""size":[2,2],"counts":[3,1]"#, r#""size":[4294967295,4294967295],"counts":[3,1]"#)
                .into_bytes(),
            "annotation 1",
        ),
        ("badutf8.json", b"{\"videos\": \"\xff\xfe\"}".to_vec(), "not valid JSON"),
    ];
    for (name, text, _) in &cases {
        std::fs::write(fx.p(name), text).unwrap();
    }
    let before = fx.snapshot();
    let r = Fx::s(&fx.results);
    for (name, _, problem) in &cases {
        let g = Fx::s(&fx.p(name)).to_owned();
        ifa(&["eval", "--gt", &g, "--results", r]).fails(&[problem, name]);
    }
    // Results: wrong shape, an RLE whose counts do not add up, a video that is not there.
    let bad_results = [
        ("r_obj.json", r#"{"a": 1}"#.to_owned(), "not a list"),
        ("r_counts.json", results_json(&[1]).replace(r#""size":[2,2]"#, r#""size":[3,3]"#), "entry 0"),
        ("r_video.json", results_json(&[1]).replace(r#""video_id":1"#, r#""video_id":7"#), "video id 7"),
    ];
    for (name, text, _) in &bad_results {
        std::fs::write(fx.p(name), text).unwrap();
    }
    let before_r = fx.snapshot();
    for (name, _, problem) in &bad_results {
        let p = Fx::s(&fx.p(name)).to_owned();
        ifa(&["eval", "--gt", Fx::s(&fx.gt), "--results", &p]).fails(&[problem]);
    }
    fx.unchanged_since(&before_r);
    assert!(before_r.len() == before.len() + 3);
}

#[test]
fn eval_names_results_with_unknown_categories() {
    let fx = Fx::new();
    std::fs::write(&fx.results, results_json(&[1, 99, 1, 42])).unwrap();
    let before = fx.snapshot();
    let r = ifa(&["eval", "--gt", Fx::s(&fx.gt), "--results", Fx::s(&fx.results)]);
    r.succeeds();
    r.names(&["warning", "2 results", "99", "42", "not in the ground truth"]);
    fx.unchanged_since(&before);
}

// ---------------------------------------------------------------------------------------------
// Signals.

/// Starts `ifa export` of the long clip and returns once its temporary video exists.
fn start_long_export(fx: &Fx, extra: &[&str]) -> (Child, Instant) {
    let long = fx.clip_named("long.mp4", "long.mp4");
    let start = Instant::now();
    let child = ifa_cmd()
        .arg("export")
        .arg(&long)
        .args(fx.model_args())
        .args(["-o", Fx::s(&fx.p("out.mp4")), "--json", Fx::s(&fx.p("out.json"))])
        .args(extra)
        .spawn()
        .unwrap();
    while temporaries(fx.dir.path()).is_empty() {
        assert!(start.elapsed() < Duration::from_secs(30), "the export never started");
        std::thread::sleep(Duration::from_millis(10));
    }
    // A few frames in.
    std::thread::sleep(Duration::from_millis(300));
    (child, start)
}

fn kill(child: &Child, signal: &str) {
    let st = Command::new("kill").args([signal, &child.id().to_string()]).status().unwrap();
    assert!(st.success());
}

#[test]
fn sigint_and_sigterm_stop_an_export_cleanly() {
    for (signal, code, name) in [("-INT", 130, "SIGINT"), ("-TERM", 143, "SIGTERM")] {
        let fx = Fx::new();
        let masks = Fx::s(&fx.p("masks")).to_owned();
        let (child, start) = start_long_export(&fx, &["--masks", &masks, "--csv", Fx::s(&fx.p("out.csv"))]);
        kill(&child, signal);
        let r = finish(child, Duration::from_secs(30), start);
        r.fails_with(code, &["interrupted", name]);
        for out in ["out.mp4", "out.json", "out.csv", "masks", "out.json.meta.json"] {
            assert!(!fx.p(out).exists(), "{out} was left after {name}");
        }
        fx.no_temporaries();
    }
}

#[test]
fn sigint_stops_a_run_without_writing() {
    let fx = Fx::new();
    let long = fx.clip_named("long.mp4", "long.mp4");
    let start = Instant::now();
    let mut child = ifa_cmd()
        .arg("run")
        .arg(&long)
        .args(fx.model_args())
        .args(["--json", Fx::s(&fx.p("out.json"))])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for the first progress output, then interrupt.
    let mut err = child.stderr.take().unwrap();
    let mut first = [0u8; 1];
    err.read_exact(&mut first).unwrap();
    let reader = read_all("ifa-stderr", err);
    std::thread::sleep(Duration::from_millis(300));
    kill(&child, "-INT");
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        assert!(start.elapsed() < Duration::from_secs(60), "run did not stop");
        std::thread::sleep(Duration::from_millis(20));
    };
    let stderr = String::from_utf8_lossy(&reader.join().unwrap()).into_owned();
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    assert!(!fx.p("out.json").exists());
    fx.no_temporaries();
}

#[test]
fn a_killed_export_leaves_temporaries_that_the_next_run_removes() {
    let fx = Fx::new();
    let masks = Fx::s(&fx.p("masks")).to_owned();
    let (mut child, _) = start_long_export(&fx, &["--masks", &masks]);
    child.kill().unwrap(); // SIGKILL: nothing can clean up
    child.wait().unwrap();
    let left = temporaries(fx.dir.path());
    assert!(!left.is_empty(), "SIGKILL should have left temporaries");
    let r =
        fx.export(&fx.clip, &["-o", Fx::s(&fx.p("out.mp4")), "--json", Fx::s(&fx.p("out.json")), "--masks", &masks]);
    r.succeeds();
    r.names(&["removed", "left by an interrupted run"]);
    fx.no_temporaries();
    assert!(fx.p("out.mp4").is_file() && fx.p("masks/000000.png").is_file());
}
