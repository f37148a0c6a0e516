//! One `results.json` from the per-video results, and the zip the benchmark server takes.

use std::path::{Path, PathBuf};

use super::DatasetError;

/// Where a run keeps video `id`'s results (`<work>/videos/<id>.json`).
pub fn video_results_path(work: &Path, id: u64) -> PathBuf {
    work.join("videos").join(format!("{id}.json"))
}

/// Writes the entries of the per-video JSON arrays `parts`, in this order, as one compact array:
/// the same bytes the results writer gives for all of them at once. The entries are copied as
/// text, so no number is reformatted.
pub fn merge_results(out: &Path, parts: &[PathBuf]) -> Result<usize, DatasetError> {
    let mut bodies: Vec<Vec<u8>> = Vec::with_capacity(parts.len());
    for p in parts {
        let bytes = crate::fsutil::read_limited(p, crate::fsutil::JSON_LIMIT, "per-video results")
            .map_err(|source| DatasetError::Read { path: p.clone(), source })?;
        let text = bytes.trim_ascii();
        let inner = text
            .strip_prefix(b"[")
            .and_then(|t| t.strip_suffix(b"]"))
            .ok_or_else(|| DatasetError::VideoResults { path: p.clone() })?
            .trim_ascii();
        if !inner.is_empty() {
            bodies.push(inner.to_vec());
        }
    }
    crate::fsutil::write_atomic(out, |w| {
        w.write_all(b"[")?;
        for (i, b) in bodies.iter().enumerate() {
            if i > 0 {
                w.write_all(b",")?;
            }
            w.write_all(b)?;
        }
        w.write_all(b"]\n")
    })
    .map_err(|source| DatasetError::Write { path: out.to_path_buf(), source })?;
    Ok(bodies.len())
}

/// Writes `zip` holding `json` as `results.json` (what the YouTube-VIS server expects).
pub fn write_results_zip(json: &Path, zip: &Path) -> Result<(), DatasetError> {
    let bytes = crate::fsutil::read_limited(json, crate::fsutil::JSON_LIMIT, "results")
        .map_err(|source| DatasetError::Read { path: json.to_path_buf(), source })?;
    super::write_zip(zip, "results.json", &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_join_into_one_compact_array() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = |n: &str| dir.path().join(n);
        std::fs::write(p("1.json"), b"[{\"video_id\":1,\"score\":0.5}]\n").expect("write");
        std::fs::write(p("2.json"), b"[]\n").expect("write");
        std::fs::write(p("3.json"), b"[{\"video_id\":3},{\"video_id\":3,\"score\":1e-7}]\n").expect("write");
        let n = merge_results(&p("all.json"), &[p("1.json"), p("2.json"), p("3.json")]).expect("merge");
        assert_eq!(n, 2);
        let all = std::fs::read_to_string(p("all.json")).expect("read");
        assert_eq!(all, "[{\"video_id\":1,\"score\":0.5},{\"video_id\":3},{\"video_id\":3,\"score\":1e-7}]\n");
        std::fs::write(p("bad.json"), b"{}").expect("write");
        assert!(matches!(merge_results(&p("x.json"), &[p("bad.json")]), Err(DatasetError::VideoResults { .. })));
    }
}
