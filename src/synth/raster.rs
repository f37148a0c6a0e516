//! Rendering one frame and its ground truth.
//!
//! The picture blends the layers by their coverage of 4x4 samples per pixel; the ground truth
//! gives each pixel to the topmost instance that covers at least half of it (8 of the 16
//! samples), or to the background. Pixels that lie wholly inside or outside every shape (told
//! by the signed distance at the pixel centre) skip the sampling.

use rayon::prelude::*;

use super::color::{self, Rgb};
use super::distractor::WorldMap;
use super::fill::Fill;
use super::scene::{Pose, Scene};
use super::shape::Shape;
use crate::frame::RgbFrame;

/// Sub-pixel sample grid per axis.
const GRID: usize = 4;
const SAMPLES: u32 = (GRID * GRID) as u32;
/// A pixel is all on one side of a border farther than half its diagonal from the centre.
const WHOLE_PIXEL: f32 = std::f32::consts::FRAC_1_SQRT_2 + 1e-3;
/// Rows per parallel work item.
const ROWS_PER_TASK: usize = 8;

/// One rendered frame: the picture and its label map.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    pub image: RgbFrame,
    /// Row-major, one byte per pixel: 0 background, `k` = track `k - 1`.
    pub labels: Vec<u8>,
}

/// A track placed in this frame.
struct Layer<'a> {
    label: u8,
    shape: &'a Shape,
    fill: &'a Fill,
    center: [f32; 2],
    radius: f32,
    inv_radius: f32,
    cos: f32,
    sin: f32,
    /// Pixel box, exclusive ends.
    x0: usize,
    y0: usize,
    x1: usize,
    y1: usize,
}

impl Layer<'_> {
    /// Point in the shape's local unit frame.
    #[inline]
    fn local(&self, x: f32, y: f32) -> [f32; 2] {
        let dx = (x - self.center[0]) * self.inv_radius;
        let dy = (y - self.center[1]) * self.inv_radius;
        [dx * self.cos + dy * self.sin, dy * self.cos - dx * self.sin]
    }

    /// Signed distance in pixels (negative inside) and the local point.
    #[inline]
    fn probe(&self, x: f32, y: f32) -> (f32, [f32; 2]) {
        let p = self.local(x, y);
        (self.shape.sdf(p) * self.radius, p)
    }

    #[inline]
    fn color(&self, p: [f32; 2], d: f32, t: usize) -> Rgb {
        self.fill.color(p[0], p[1], t, self.radius, -d)
    }
}

impl Scene {
    /// Renders frame `t`.
    pub fn render(&self, t: usize) -> Frame {
        let (w, h) = (self.width as usize, self.height as usize);
        let mut image = RgbFrame::new(self.width, self.height);
        let mut labels = vec![0u8; w * h];
        self.paint_background(t, &mut image.data);
        let layers = self.layers(t);
        image
            .data
            .par_chunks_mut(w * 3 * ROWS_PER_TASK)
            .zip(labels.par_chunks_mut(w * ROWS_PER_TASK))
            .enumerate()
            .for_each(|(chunk, (rgb, lab))| {
                let mut row_layers = Vec::with_capacity(layers.len());
                let mut scratch = Scratch::default();
                for (r, (rgb_row, lab_row)) in rgb.chunks_exact_mut(w * 3).zip(lab.chunks_exact_mut(w)).enumerate() {
                    let y = chunk * ROWS_PER_TASK + r;
                    row_layers.clear();
                    row_layers.extend(layers.iter().filter(|l| (l.y0..l.y1).contains(&y)));
                    if row_layers.is_empty() {
                        continue;
                    }
                    for x in 0..w {
                        shade_pixel(
                            &row_layers,
                            &mut scratch,
                            x,
                            y,
                            t,
                            &mut rgb_row[x * 3..x * 3 + 3],
                            &mut lab_row[x],
                        );
                    }
                }
            });
        Frame { image, labels }
    }

    fn paint_background(&self, t: usize, data: &mut [u8]) {
        let w = self.width as usize;
        data.par_chunks_mut(w * 3 * ROWS_PER_TASK).enumerate().for_each(|(chunk, rows)| {
            for (i, px) in rows.chunks_exact_mut(3).enumerate() {
                let x = (i % w) as f32 + 0.5;
                let y = (chunk * ROWS_PER_TASK + i / w) as f32 + 0.5;
                let wp = self.camera.to_world(t, [x, y]);
                px.copy_from_slice(&color::to_u8(self.backdrop.sample(wp[0], wp[1])));
            }
        });
        let map = WorldMap { inv_scale: 1.0 / self.camera.pose(t).zoom, shift: self.camera.to_world(t, [0.0, 0.0]) };
        for d in &self.distractors {
            d.draw(t, data, w, self.height as usize, map);
        }
    }

    /// The tracks present at `t`, topmost first (ties: lower track index on top).
    fn layers(&self, t: usize) -> Vec<Layer<'_>> {
        let (w, h) = (self.width as f32, self.height as f32);
        let mut layers: Vec<(Pose, Layer<'_>)> = self
            .tracks
            .iter()
            .enumerate()
            .filter_map(|(i, tr)| {
                let pose = tr.poses.get(t).copied().flatten()?;
                if !(pose.radius > 0.0 && pose.radius.is_finite()) {
                    return None;
                }
                let reach = pose.radius * tr.shape.bound() + 1.0;
                let fx0 = (pose.center[0] - reach).floor().clamp(0.0, w);
                let fy0 = (pose.center[1] - reach).floor().clamp(0.0, h);
                let fx1 = (pose.center[0] + reach).ceil().clamp(0.0, w);
                let fy1 = (pose.center[1] + reach).ceil().clamp(0.0, h);
                if fx0 >= fx1 || fy0 >= fy1 {
                    return None;
                }
                let (sin, cos) = pose.angle.sin_cos();
                let layer = Layer {
                    label: u8::try_from(i + 1).ok()?,
                    shape: &tr.shape,
                    fill: &tr.fill,
                    center: pose.center,
                    radius: pose.radius,
                    inv_radius: 1.0 / pose.radius,
                    cos,
                    sin,
                    x0: fx0 as usize,
                    y0: fy0 as usize,
                    x1: fx1 as usize,
                    y1: fy1 as usize,
                };
                Some((pose, layer))
            })
            .collect();
        layers.sort_by(|a, b| b.0.depth.cmp(&a.0.depth).then(a.1.label.cmp(&b.1.label)));
        layers.into_iter().map(|(_, l)| l).collect()
    }
}

/// Per-pixel working memory, reused across a row.
#[derive(Default)]
struct Scratch {
    /// Layers whose border crosses the pixel: (layer, distance, local point), topmost first.
    edges: Vec<(usize, f32, [f32; 2])>,
    /// Per edge layer: samples it covers.
    cover: Vec<u32>,
    /// Per edge layer: samples where it is the topmost.
    top: Vec<u32>,
}

/// One pixel: picture colour (over the background already in `rgb`) and label.
#[inline]
fn shade_pixel(
    layers: &[&Layer<'_>],
    scratch: &mut Scratch,
    x: usize,
    y: usize,
    t: usize,
    rgb: &mut [u8],
    label: &mut u8,
) {
    let (cx, cy) = (x as f32 + 0.5, y as f32 + 0.5);
    let Scratch { edges, cover, top } = scratch;
    edges.clear();
    let mut full: Option<(usize, f32, [f32; 2])> = None;
    for (i, l) in layers.iter().enumerate() {
        if x < l.x0 || x >= l.x1 {
            continue;
        }
        let (d, p) = l.probe(cx, cy);
        if d <= -WHOLE_PIXEL {
            // Covers the whole pixel: nothing below can show.
            full = Some((i, d, p));
            break;
        }
        if d < WHOLE_PIXEL {
            edges.push((i, d, p));
        }
    }
    if edges.is_empty() {
        if let Some((i, d, p)) = full {
            rgb.copy_from_slice(&color::to_u8(layers[i].color(p, d, t)));
            *label = layers[i].label;
        }
        return;
    }
    cover.clear();
    cover.resize(edges.len(), 0);
    top.clear();
    top.resize(edges.len(), 0);
    let (mut top_full, mut top_bg) = (0u32, 0u32);
    for sy in 0..GRID {
        for sx in 0..GRID {
            let px = x as f32 + (sx as f32 + 0.5) / GRID as f32;
            let py = y as f32 + (sy as f32 + 0.5) / GRID as f32;
            let mut owner = None;
            for (k, &(i, _, _)) in edges.iter().enumerate() {
                let l = layers[i];
                if l.shape.sdf(l.local(px, py)) < 0.0 {
                    cover[k] += 1;
                    owner.get_or_insert(k);
                }
            }
            match owner {
                Some(k) => top[k] += 1,
                None if full.is_some() => top_full += 1,
                None => top_bg += 1,
            }
        }
    }
    let mut acc = [0.0f32; 3];
    let mut add = |c: Rgb, weight: u32| {
        let f = weight as f32 / SAMPLES as f32;
        for k in 0..3 {
            acc[k] += c[k] * f;
        }
    };
    for (k, &(i, d, p)) in edges.iter().enumerate() {
        if top[k] > 0 {
            add(layers[i].color(p, d, t), top[k]);
        }
    }
    if let Some((i, d, p)) = full
        && top_full > 0
    {
        add(layers[i].color(p, d, t), top_full);
    }
    if top_bg > 0 {
        add([f32::from(rgb[0]), f32::from(rgb[1]), f32::from(rgb[2])], top_bg);
    }
    rgb.copy_from_slice(&color::to_u8(acc));
    *label = edges
        .iter()
        .enumerate()
        .find(|(k, _)| cover[*k] * 2 >= SAMPLES)
        .map(|(_, &(i, _, _))| layers[i].label)
        .or(full.map(|(i, _, _)| layers[i].label))
        .unwrap_or(0);
}
