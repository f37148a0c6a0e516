//! Shards: a deterministic share of a split's videos for one machine, and the check that a set of
//! shard outputs is complete before merging.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::DatasetError;
use super::split::SplitVideo;

/// `--shard I/N`: the videos at positions p (in ascending id order) with p % N == I - 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShardSpec {
    /// 1-based.
    pub index: usize,
    pub count: usize,
}

impl std::str::FromStr for ShardSpec {
    type Err = DatasetError;

    fn from_str(s: &str) -> Result<Self, DatasetError> {
        let bad = |message: &str| DatasetError::ShardSpec { spec: s.to_owned(), message: message.to_owned() };
        let (i, n) = s.split_once('/').ok_or_else(|| bad("expected I/N, e.g. 1/4"))?;
        let index: usize = i.trim().parse().map_err(|_| bad("I is not a whole number"))?;
        let count: usize = n.trim().parse().map_err(|_| bad("N is not a whole number"))?;
        if count == 0 || index == 0 || index > count {
            return Err(bad("needs 1 <= I <= N"));
        }
        Ok(Self { index, count })
    }
}

impl std::fmt::Display for ShardSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl ShardSpec {
    pub const WHOLE: Self = Self { index: 1, count: 1 };

    /// This shard's videos of `videos` (which are in ascending id order).
    pub fn select<'a>(&self, videos: &'a [SplitVideo]) -> Vec<&'a SplitVideo> {
        videos.iter().enumerate().filter(|(p, _)| p % self.count == self.index - 1).map(|(_, v)| v).collect()
    }

    /// The manifest's file name in the output folder.
    pub fn manifest_name(&self) -> String {
        format!("shard-{}-of-{}.json", self.index, self.count)
    }
}

/// What one shard run leaves beside its per-video results, for `ifa merge`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// `[I, N]`.
    pub shard: [usize; 2],
    /// The split's file name and its number of videos, so shards of different splits do not mix.
    pub split: String,
    pub videos_in_split: usize,
    /// Ids whose results were written.
    pub videos: Vec<u64>,
    /// Ids that failed (the shard must be run again before merging).
    pub failed: Vec<u64>,
}

impl Manifest {
    pub fn load(path: &Path) -> Result<Self, DatasetError> {
        let bytes = crate::fsutil::read_limited(path, crate::fsutil::JSON_LIMIT, "shard manifest")
            .map_err(|source| DatasetError::Read { path: path.to_path_buf(), source })?;
        serde_json::from_slice(&bytes).map_err(|e| DatasetError::Split {
            path: path.to_path_buf(),
            message: format!("not a shard manifest: {e}"),
        })
    }

    pub fn write(&self, path: &Path) -> Result<(), DatasetError> {
        crate::fsutil::write_atomic(path, |w| {
            serde_json::to_writer_pretty(&mut *w, self).map_err(std::io::Error::other)?;
            w.write_all(b"\n")
        })
        .map_err(|source| DatasetError::Write { path: path.to_path_buf(), source })
    }
}

/// Refuses a set of shard manifests that is not exactly shards 1..N of one split, each once,
/// complete and without a video in two of them; returns every video id, ascending.
pub fn check_shards(manifests: &[(PathBuf, Manifest)]) -> Result<Vec<u64>, DatasetError> {
    let err = |m: String| Err(DatasetError::Shards(m));
    let Some((first_path, first)) = manifests.first() else {
        return err("no shard manifests (shard-I-of-N.json) found".to_owned());
    };
    let n = first.shard[1];
    let mut seen: Vec<Option<&PathBuf>> = vec![None; n];
    for (path, m) in manifests {
        if m.shard[1] != n || m.split != first.split || m.videos_in_split != first.videos_in_split {
            return err(format!(
                "{} (shard {}/{} of {}, {} videos) and {} (shard {}/{n} of {}, {} videos) come from different runs",
                path.display(),
                m.shard[0],
                m.shard[1],
                m.split,
                m.videos_in_split,
                first_path.display(),
                first.shard[0],
                first.split,
                first.videos_in_split
            ));
        }
        let i = m.shard[0];
        if i == 0 || i > n {
            return err(format!("{}: shard {i}/{n} is out of range", path.display()));
        }
        if let Some(other) = seen[i - 1] {
            return err(format!(
                "shard {i}/{n} is given twice ({} and {}); the shards overlap",
                other.display(),
                path.display()
            ));
        }
        seen[i - 1] = Some(path);
        if !m.failed.is_empty() {
            let ids: Vec<String> = m.failed.iter().map(u64::to_string).collect();
            return err(format!(
                "shard {i}/{n} ({}) has failed videos ({}); run it again (done videos are kept) before merging",
                path.display(),
                ids.join(", ")
            ));
        }
    }
    let missing: Vec<String> =
        seen.iter().enumerate().filter(|(_, s)| s.is_none()).map(|(i, _)| format!("{}/{n}", i + 1)).collect();
    if !missing.is_empty() {
        return err(format!("shard(s) {} missing; merge needs all {n} shards", missing.join(", ")));
    }
    let mut ids: Vec<u64> = manifests.iter().flat_map(|(_, m)| m.videos.iter().copied()).collect();
    ids.sort_unstable();
    if let Some(w) = ids.windows(2).find(|w| w[0] == w[1]) {
        return err(format!("video {} is in more than one shard; the shards overlap", w[0]));
    }
    if ids.len() != first.videos_in_split {
        return err(format!(
            "the shards hold {} videos, the split {}; a shard is incomplete",
            ids.len(),
            first.videos_in_split
        ));
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn videos(n: u64) -> Vec<SplitVideo> {
        (1..=n).map(|id| SplitVideo { id, file_names: vec![format!("{id}/0.jpg")] }).collect()
    }

    fn manifest(i: usize, n: usize, v: &[SplitVideo]) -> (PathBuf, Manifest) {
        let spec = ShardSpec { index: i, count: n };
        let ids = spec.select(v).iter().map(|x| x.id).collect();
        let m =
            Manifest { shard: [i, n], split: "s.json".into(), videos_in_split: v.len(), videos: ids, failed: vec![] };
        (PathBuf::from(spec.manifest_name()), m)
    }

    #[test]
    fn shards_partition_the_split() {
        let v = videos(7);
        let mut all: Vec<u64> = Vec::new();
        for i in 1..=3 {
            let spec: ShardSpec = format!("{i}/3").parse().expect("spec");
            all.extend(spec.select(&v).iter().map(|x| x.id));
        }
        all.sort_unstable();
        assert_eq!(all, (1..=7).collect::<Vec<_>>());
        for bad in ["0/2", "3/2", "1", "a/2", "1/0"] {
            assert!(bad.parse::<ShardSpec>().is_err(), "{bad}");
        }
    }

    #[test]
    fn missing_overlapping_and_failed_shards_are_refused() {
        let v = videos(5);
        let ok = [manifest(1, 2, &v), manifest(2, 2, &v)];
        assert_eq!(check_shards(&ok).expect("complete"), (1..=5).collect::<Vec<_>>());
        let e = check_shards(&ok[..1]).expect_err("missing").to_string();
        assert!(e.contains("2/2") && e.contains("missing"), "{e}");
        let e = check_shards(&[ok[0].clone(), ok[0].clone(), ok[1].clone()]).expect_err("twice").to_string();
        assert!(e.contains("twice"), "{e}");
        let mut failed = ok.clone();
        failed[1].1.failed.push(2);
        assert!(check_shards(&failed).expect_err("failed").to_string().contains("failed videos"));
        let mut overlap = ok.clone();
        overlap[1].1.videos.push(1);
        assert!(check_shards(&overlap).expect_err("overlap").to_string().contains("more than one shard"));
        let other = [manifest(1, 2, &v), manifest(2, 3, &v)];
        assert!(check_shards(&other).expect_err("mixed").to_string().contains("different runs"));
    }
}
