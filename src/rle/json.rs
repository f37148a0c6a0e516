//! The COCO JSON form of an RLE: `{"size":[h,w],"counts":"<compressed>"}` or with `counts` as a
//! list of run lengths ("uncompressed RLE"). [`Rle`] serialises to the compressed form.

use serde::{Deserialize, Serialize};

use super::{Rle, RleError};

/// `counts` as it appears in JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum CountsJson {
    Compressed(String),
    Uncompressed(Vec<u32>),
}

/// An RLE exactly as it appears in JSON, before its counts are checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RleJson {
    /// `[height, width]`.
    pub size: [u32; 2],
    pub counts: CountsJson,
}

impl TryFrom<RleJson> for Rle {
    type Error = RleError;

    fn try_from(j: RleJson) -> Result<Self, RleError> {
        let [h, w] = j.size;
        match j.counts {
            CountsJson::Compressed(s) => Rle::from_compressed_string(h, w, &s),
            CountsJson::Uncompressed(c) => Rle::from_counts(h, w, c),
        }
    }
}

impl From<&Rle> for RleJson {
    fn from(r: &Rle) -> Self {
        RleJson { size: [r.height, r.width], counts: CountsJson::Compressed(r.to_compressed_string()) }
    }
}

impl Serialize for Rle {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        RleJson::from(self).serialize(s)
    }
}

impl<'de> Deserialize<'de> for Rle {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Rle::try_from(RleJson::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip_and_both_forms() {
        let r = Rle::from_counts(10, 20, vec![100, 20, 80]).expect("rle");
        let s = serde_json::to_string(&r).expect("ser");
        assert_eq!(s, r#"{"size":[10,20],"counts":"T3d0`2"}"#);
        let back: Rle = serde_json::from_str(&s).expect("de");
        assert_eq!(back, r);
        let un: Rle = serde_json::from_str(r#"{"size":[10,20],"counts":[100,20,80]}"#).expect("de");
        assert_eq!(un, r);
        let bad = serde_json::from_str::<Rle>(r#"{"size":[10,20],"counts":[100,20]}"#);
        assert!(bad.is_err(), "counts must sum to h*w");
    }
}
