//! A zip archive of one deflated file: all the benchmark server needs, without a zip crate
//! (the deflate and CRC-32 crates are already in the build through `image`/`png`).

use std::path::Path;

use super::DatasetError;

/// MS-DOS date of 1980-01-01, the zip epoch: a fixed stamp keeps the archive reproducible.
const DOS_DATE: u16 = (1 << 5) | 1;

/// Writes a zip at `path` holding `data` as `name` (deflated). Archives over 4 GiB would need
/// Zip64 and are refused.
pub fn write_zip(path: &Path, name: &str, data: &[u8]) -> Result<(), DatasetError> {
    let too_big = || DatasetError::Write {
        path: path.to_path_buf(),
        source: std::io::Error::other("the file is over 4 GiB, more than a plain zip holds"),
    };
    let crc = crc32fast::hash(data);
    let packed = miniz_oxide::deflate::compress_to_vec(data, 6);
    let (size, csize) =
        (u32::try_from(data.len()).map_err(|_| too_big())?, u32::try_from(packed.len()).map_err(|_| too_big())?);
    let name_len = u16::try_from(name.len()).map_err(|_| too_big())?;
    // Version 2.0, no flags, method 8 (deflate), time 00:00, the fixed date.
    let common = |b: &mut Vec<u8>| {
        for v in [20u16, 0, 8, 0, DOS_DATE] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        for v in [crc, csize, size] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        b.extend_from_slice(&name_len.to_le_bytes());
    };
    let mut local = Vec::with_capacity(30 + name.len());
    local.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
    common(&mut local);
    local.extend_from_slice(&0u16.to_le_bytes()); // extra field length
    local.extend_from_slice(name.as_bytes());
    let mut central = Vec::with_capacity(46 + name.len());
    central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
    central.extend_from_slice(&20u16.to_le_bytes()); // made by: version 2.0
    common(&mut central);
    // extra, comment, disk, internal attributes (2 bytes each), external attributes, offset (4).
    central.extend_from_slice(&[0; 8]);
    central.extend_from_slice(&0u32.to_le_bytes());
    central.extend_from_slice(&0u32.to_le_bytes());
    central.extend_from_slice(name.as_bytes());
    let cd_offset = u32::try_from(local.len() + packed.len()).map_err(|_| too_big())?;
    let mut end = Vec::with_capacity(22);
    end.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    for v in [0u16, 0, 1, 1] {
        end.extend_from_slice(&v.to_le_bytes());
    }
    end.extend_from_slice(&(central.len() as u32).to_le_bytes());
    end.extend_from_slice(&cd_offset.to_le_bytes());
    end.extend_from_slice(&0u16.to_le_bytes());
    crate::fsutil::write_atomic(path, |w| {
        w.write_all(&local)?;
        w.write_all(&packed)?;
        w.write_all(&central)?;
        w.write_all(&end)
    })
    .map_err(|source| DatasetError::Write { path: path.to_path_buf(), source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_archive_holds_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("r.zip");
        let data = b"[{\"video_id\":1}]\n".repeat(50);
        write_zip(&p, "results.json", &data).expect("zip");
        let z = std::fs::read(&p).expect("read");
        let u32_at = |i: usize| u32::from_le_bytes([z[i], z[i + 1], z[i + 2], z[i + 3]]);
        assert_eq!(u32_at(0), 0x0403_4b50);
        assert_eq!(u32_at(14), crc32fast::hash(&data));
        let csize = u32_at(18) as usize;
        assert_eq!(&z[30..42], b"results.json");
        let body = miniz_oxide::inflate::decompress_to_vec(&z[42..42 + csize]).expect("inflate");
        assert_eq!(body, data);
        let end = z.len() - 22;
        assert_eq!(u32_at(end), 0x0605_4b50);
        assert_eq!(u32_at(end + 16) as usize, 42 + csize);
    }
}
