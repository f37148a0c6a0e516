//! Reading ground truth and results JSON into checked structures, with the official evaluator's
//! reading rules: a frame is present iff its JSON value is "truthy" in Python, GT areas are
//! taken as given, result areas are recomputed from the masks.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;
use serde_json::{Map, Value};

use super::error::EvalError;
use super::params::numpy_mean;
use crate::rle::{Rle, RleError};

/// A ground-truth video (only what evaluation needs).
#[derive(Debug, Clone, PartialEq)]
pub struct Video {
    pub id: i64,
    pub height: u32,
    pub width: u32,
}

/// One ground-truth object track.
#[derive(Debug, Clone)]
pub(crate) struct GtTrack {
    pub id: i64,
    pub video_id: i64,
    pub category_id: i64,
    pub frames: Vec<Option<Rle>>,
    /// Mean of the truthy JSON `areas` (numpy mean), 0 if none.
    pub avg_area: f64,
    pub crowd: bool,
}

/// A parsed YouTube-VIS ground-truth file.
#[derive(Debug, Clone)]
pub struct GroundTruth {
    pub(crate) videos: BTreeMap<i64, Video>,
    /// Category id → name, ordered by id (the category axis of the result arrays).
    pub(crate) categories: BTreeMap<i64, String>,
    pub(crate) tracks: Vec<GtTrack>,
}

/// One result track: the submission format of YouTube-VIS (`results.json` is a list of these).
/// Serialises with compressed RLE counts, as the official evaluator requires.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResultTrack {
    pub video_id: i64,
    pub category_id: i64,
    pub score: f64,
    /// One entry per frame of the video; `None` where the object is absent.
    pub segmentations: Vec<Option<Rle>>,
}

/// Reads a JSON file of at most [`crate::fsutil::JSON_LIMIT`] bytes (a regular file or a FIFO;
/// never a device such as `/dev/zero`).
fn read_json(path: &Path) -> Result<Value, EvalError> {
    let bytes = crate::fsutil::read_limited(path, crate::fsutil::JSON_LIMIT, "JSON input")
        .map_err(|source| EvalError::Read { path: path.to_path_buf(), source })?;
    serde_json::from_slice(&bytes).map_err(|source| EvalError::Json { what: path.display().to_string(), source })
}

/// Names the file a parsing error comes from (reading errors name it already).
fn in_file(path: &Path) -> impl FnOnce(EvalError) -> EvalError {
    move |e| match e {
        EvalError::Read { .. } | EvalError::Json { .. } => e,
        other => EvalError::File { path: path.to_path_buf(), inner: Box::new(other) },
    }
}

/// Python truthiness of a JSON value: null, false, 0, "", [] and {} are false.
fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|x| x != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

fn field<'a>(obj: &'a Map<String, Value>, key: &str, ctx: &dyn Fn() -> String) -> Result<&'a Value, String> {
    obj.get(key).ok_or_else(|| format!("{}: missing \"{key}\"", ctx()))
}

fn int_field(obj: &Map<String, Value>, key: &str, ctx: &dyn Fn() -> String) -> Result<i64, String> {
    field(obj, key, ctx)?.as_i64().ok_or_else(|| format!("{}: \"{key}\" is not an integer", ctx()))
}

fn array_field<'a>(obj: &'a Map<String, Value>, key: &str, ctx: &dyn Fn() -> String) -> Result<&'a [Value], String> {
    field(obj, key, ctx)?.as_array().map(Vec::as_slice).ok_or_else(|| format!("{}: \"{key}\" is not a list", ctx()))
}

fn as_object<'a>(v: &'a Value, ctx: &dyn Fn() -> String) -> Result<&'a Map<String, Value>, String> {
    v.as_object().ok_or_else(|| format!("{} is not an object", ctx()))
}

fn dim(v: &Value) -> Option<u32> {
    v.as_u64().and_then(|x| u32::try_from(x).ok())
}

/// `size` of an RLE object.
fn rle_size(obj: &Map<String, Value>) -> Option<(u32, u32)> {
    match obj.get("size")?.as_array()?.as_slice() {
        [h, w] => Some((dim(h)?, dim(w)?)),
        _ => None,
    }
}

/// Shape of one present frame's segmentation.
enum FrameSeg<'a> {
    Compressed(u32, u32, &'a str),
    Uncompressed(u32, u32, &'a [Value]),
    Polygon,
    Other,
}

fn classify(v: &Value) -> FrameSeg<'_> {
    match v {
        Value::Array(_) => FrameSeg::Polygon,
        Value::Object(o) => match (rle_size(o), o.get("counts")) {
            (Some((h, w)), Some(Value::String(s))) => FrameSeg::Compressed(h, w, s),
            (Some((h, w)), Some(Value::Array(c))) => FrameSeg::Uncompressed(h, w, c),
            _ => FrameSeg::Other,
        },
        _ => FrameSeg::Other,
    }
}

fn rle_err(context: String) -> impl FnOnce(RleError) -> EvalError {
    move |source| EvalError::Rle { context, source }
}

impl GroundTruth {
    /// Reads a ground-truth JSON file.
    pub fn load(path: &Path) -> Result<Self, EvalError> {
        read_json(path).and_then(|v| Self::from_json(&v)).map_err(in_file(path))
    }

    /// Parses ground-truth JSON text.
    pub fn from_json_str(text: &str) -> Result<Self, EvalError> {
        let v: Value =
            serde_json::from_str(text).map_err(|source| EvalError::Json { what: "ground truth".to_owned(), source })?;
        Self::from_json(&v)
    }

    /// Builds from parsed ground-truth JSON.
    pub fn from_json(v: &Value) -> Result<Self, EvalError> {
        let bad = EvalError::BadGroundTruth;
        let root = || "the top level".to_owned();
        let top = as_object(v, &root).map_err(bad)?;
        let mut videos = BTreeMap::new();
        for (i, vid) in array_field(top, "videos", &root).map_err(bad)?.iter().enumerate() {
            let ctx = || format!("videos[{i}]");
            let o = as_object(vid, &ctx).map_err(bad)?;
            let id = int_field(o, "id", &ctx).map_err(bad)?;
            let dim_field = |key: &str| {
                field(o, key, &ctx)
                    .ok()
                    .and_then(dim)
                    .ok_or_else(|| bad(format!("{}: missing or bad \"{key}\"", ctx())))
            };
            let (height, width) = (dim_field("height")?, dim_field("width")?);
            videos.insert(id, Video { id, height, width }); // a repeated id: the last one wins, as in the official index
        }
        let mut categories = BTreeMap::new();
        for (i, cat) in array_field(top, "categories", &root).map_err(bad)?.iter().enumerate() {
            let ctx = || format!("categories[{i}]");
            let o = as_object(cat, &ctx).map_err(bad)?;
            let id = int_field(o, "id", &ctx).map_err(bad)?;
            let name = o.get("name").and_then(Value::as_str).unwrap_or_default().to_owned();
            categories.insert(id, name);
        }
        let mut tracks = Vec::new();
        for (i, ann) in array_field(top, "annotations", &root).map_err(bad)?.iter().enumerate() {
            let ctx = || format!("annotations[{i}]");
            let o = as_object(ann, &ctx).map_err(bad)?;
            let id = int_field(o, "id", &ctx).map_err(bad)?;
            let video_id = int_field(o, "video_id", &ctx).map_err(bad)?;
            let category_id = int_field(o, "category_id", &ctx).map_err(bad)?;
            let crowd = match field(o, "iscrowd", &ctx).map_err(bad)? {
                Value::Bool(b) => *b,
                n => n.as_i64().ok_or_else(|| bad(format!("{}: \"iscrowd\" is not 0/1", ctx())))? != 0,
            };
            let mut areas = Vec::new();
            for a in array_field(o, "areas", &ctx).map_err(bad)? {
                match a {
                    Value::Null => {}
                    Value::Number(n) => {
                        let x = n.as_f64().ok_or_else(|| bad(format!("{}: bad area", ctx())))?;
                        if x != 0.0 {
                            areas.push(x); // null and 0 are both dropped from the mean
                        }
                    }
                    _ => return Err(bad(format!("{}: \"areas\" holds a non-number", ctx()))),
                }
            }
            let mut frames = Vec::new();
            for (f, seg) in array_field(o, "segmentations", &ctx).map_err(bad)?.iter().enumerate() {
                if !truthy(seg) {
                    frames.push(None);
                    continue;
                }
                let rle = match classify(seg) {
                    FrameSeg::Compressed(h, w, s) => Rle::from_compressed_string(h, w, s),
                    FrameSeg::Uncompressed(h, w, c) => {
                        let counts: Option<Vec<u32>> =
                            c.iter().map(|x| x.as_u64().and_then(|x| u32::try_from(x).ok())).collect();
                        let counts = counts.ok_or_else(|| bad(format!("{}, frame {f}: bad RLE counts", ctx())))?;
                        Rle::from_counts(h, w, counts)
                    }
                    FrameSeg::Polygon => {
                        return Err(EvalError::PolygonGroundTruth { ann_id: id, frame: f });
                    }
                    FrameSeg::Other => {
                        return Err(bad(format!("{}, frame {f}: not an RLE object", ctx())));
                    }
                };
                frames.push(Some(rle.map_err(rle_err(format!("ground truth annotation {id}, frame {f}")))?));
            }
            let avg_area = numpy_mean(&areas).unwrap_or(0.0);
            tracks.push(GtTrack { id, video_id, category_id, frames, avg_area, crowd });
        }
        Ok(Self { videos, categories, tracks })
    }

    /// Videos by id.
    pub fn videos(&self) -> impl Iterator<Item = &Video> {
        self.videos.values()
    }

    /// `(id, name)` of the categories, ordered by id.
    pub fn categories(&self) -> impl Iterator<Item = (i64, &str)> {
        self.categories.iter().map(|(&id, n)| (id, n.as_str()))
    }

    /// Number of annotation tracks.
    pub fn num_tracks(&self) -> usize {
        self.tracks.len()
    }

    /// The results whose category id the ground truth does not list, as (entry index,
    /// category id). The official evaluator leaves them out without a word; callers should
    /// say so.
    pub fn unknown_categories(&self, results: &[ResultTrack]) -> Vec<(usize, i64)> {
        results
            .iter()
            .enumerate()
            .filter(|(_, r)| !self.categories.contains_key(&r.category_id))
            .map(|(i, r)| (i, r.category_id))
            .collect()
    }

    /// The ground truth as perfect results (every track with score 1), e.g. for self-checks.
    pub fn as_results(&self) -> Vec<ResultTrack> {
        self.tracks
            .iter()
            .map(|t| ResultTrack {
                video_id: t.video_id,
                category_id: t.category_id,
                score: 1.0,
                segmentations: t.frames.clone(),
            })
            .collect()
    }
}

/// Reads a results JSON file (a list of result tracks).
pub fn load_results(path: &Path) -> Result<Vec<ResultTrack>, EvalError> {
    read_json(path).and_then(|v| parse_results(&v)).map_err(in_file(path))
}

/// Parses results JSON text.
pub fn results_from_json_str(text: &str) -> Result<Vec<ResultTrack>, EvalError> {
    let v: Value =
        serde_json::from_str(text).map_err(|source| EvalError::Json { what: "results".to_owned(), source })?;
    parse_results(&v)
}

/// Parses results JSON. Each frame must be `null` (or another falsy value) or a compressed RLE.
pub fn parse_results(v: &Value) -> Result<Vec<ResultTrack>, EvalError> {
    let bad = EvalError::BadResults;
    let list = v.as_array().ok_or_else(|| bad("the top level is not a list".to_owned()))?;
    let mut out = Vec::with_capacity(list.len());
    for (index, entry) in list.iter().enumerate() {
        let ctx = || format!("entry {index}");
        let o = as_object(entry, &ctx).map_err(bad)?;
        let video_id = int_field(o, "video_id", &ctx).map_err(bad)?;
        let category_id = int_field(o, "category_id", &ctx).map_err(bad)?;
        let score = field(o, "score", &ctx)
            .map_err(bad)?
            .as_f64()
            .ok_or_else(|| bad(format!("entry {index}: \"score\" is not a number")))?;
        let mut segmentations = Vec::new();
        for (frame, seg) in array_field(o, "segmentations", &ctx).map_err(bad)?.iter().enumerate() {
            if !truthy(seg) {
                segmentations.push(None);
                continue;
            }
            let rle = match classify(seg) {
                FrameSeg::Compressed(h, w, s) => Rle::from_compressed_string(h, w, s)
                    .map_err(rle_err(format!("results entry {index}, frame {frame}")))?,
                FrameSeg::Uncompressed(..) => {
                    return Err(EvalError::UncompressedResult { index, frame });
                }
                FrameSeg::Polygon => return Err(EvalError::PolygonResult { index, frame }),
                FrameSeg::Other => {
                    return Err(bad(format!("entry {index}, frame {frame}: not an RLE object")));
                }
            };
            segmentations.push(Some(rle));
        }
        out.push(ResultTrack { video_id, category_id, score, segmentations });
    }
    Ok(out)
}
