//! A small CPU rasteriser for epaint meshes: what the viewer's GPU does with the same triangles.
//!
//! Vertex colours and the texture are premultiplied sRGBA; they are multiplied and blended
//! with `One, OneMinusSrcAlpha` in 8-bit sRGB values, like egui's renderer and like the mask
//! formula of [`crate::overlay::scene`]. Pixel (x, y) is sampled at its centre (x + ½, y + ½);
//! shared triangle edges belong to one triangle only (top-left rule), so the feathered
//! anti-aliasing edges epaint emits are never blended twice.

use egui::epaint::{Color32, ColorImage, Mesh, Rect};

use crate::frame::RgbFrame;

type P = [f32; 2];

#[inline]
fn edge(a: P, b: P, p: P) -> f32 {
    (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0])
}

/// Top or left edge of a triangle with positive [`edge`] orientation (y down).
#[inline]
fn top_left(a: P, b: P) -> bool {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    (dy == 0.0 && dx < 0.0) || dy > 0.0
}

/// The x range on row `y` inside the (positively oriented) triangle `v`, if any.
fn row_span(v: [P; 3], y: f32) -> Option<(f32, f32)> {
    let (mut lo, mut hi) = (f32::NEG_INFINITY, f32::INFINITY);
    for k in 0..3 {
        let (a, b) = (v[(k + 1) % 3], v[(k + 2) % 3]);
        // edge(a, b, (x, y)) = slope * x + offset
        let slope = -(b[1] - a[1]);
        let offset = (b[0] - a[0]) * (y - a[1]) + (b[1] - a[1]) * a[0];
        if slope > 0.0 {
            lo = lo.max(-offset / slope);
        } else if slope < 0.0 {
            hi = hi.min(-offset / slope);
        } else if offset < 0.0 {
            return None;
        }
    }
    (lo <= hi).then_some((lo, hi))
}

/// Bilinear sample of a premultiplied texture at normalized `uv`, as 0..=1 floats.
fn sample(tex: &ColorImage, uv: P) -> [f32; 4] {
    let [w, h] = tex.size;
    if w == 0 || h == 0 {
        return [1.0; 4];
    }
    let x = (uv[0] * w as f32 - 0.5).clamp(0.0, (w - 1) as f32);
    let y = (uv[1] * h as f32 - 0.5).clamp(0.0, (h - 1) as f32);
    let (x0, y0) = (x.floor() as usize, y.floor() as usize);
    let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    let px = |xx: usize, yy: usize| tex.pixels[yy * w + xx].to_array();
    let (a, b, c, d) = (px(x0, y0), px(x1, y0), px(x0, y1), px(x1, y1));
    let mut out = [0.0; 4];
    for k in 0..4 {
        let top = f32::from(a[k]) + (f32::from(b[k]) - f32::from(a[k])) * fx;
        let bottom = f32::from(c[k]) + (f32::from(d[k]) - f32::from(c[k])) * fx;
        out[k] = (top + (bottom - top) * fy) / 255.0;
    }
    out
}

fn rgba(c: Color32) -> [f32; 4] {
    c.to_array().map(|v| f32::from(v) / 255.0)
}

/// Draws `mesh` (positions in frame pixels) onto `frame`, inside `clip`, sampling `texture`.
pub(super) fn draw_mesh(frame: &mut RgbFrame, mesh: &Mesh, texture: &ColorImage, clip: Rect) {
    let (fw, fh) = (frame.width as f32, frame.height as f32);
    let x_lo = clip.min.x.max(0.0);
    let y_lo = clip.min.y.max(0.0);
    let x_hi = clip.max.x.min(fw);
    let y_hi = clip.max.y.min(fh);
    if x_lo >= x_hi || y_lo >= y_hi {
        return;
    }
    let width = frame.width as usize;
    for tri in mesh.indices.chunks_exact(3) {
        let Some(v) = tri.iter().map(|&i| mesh.vertices.get(i as usize)).collect::<Option<Vec<_>>>() else {
            continue;
        };
        let (a, mut b, mut c) = (v[0], v[1], v[2]);
        let mut area = edge([a.pos.x, a.pos.y], [b.pos.x, b.pos.y], [c.pos.x, c.pos.y]);
        if area == 0.0 || !area.is_finite() {
            continue;
        }
        if area < 0.0 {
            std::mem::swap(&mut b, &mut c);
            area = -area;
        }
        let (pa, pb, pc) = ([a.pos.x, a.pos.y], [b.pos.x, b.pos.y], [c.pos.x, c.pos.y]);
        let min_x = pa[0].min(pb[0]).min(pc[0]).max(x_lo);
        let max_x = pa[0].max(pb[0]).max(pc[0]).min(x_hi);
        let min_y = pa[1].min(pb[1]).min(pc[1]).max(y_lo);
        let max_y = pa[1].max(pb[1]).max(pc[1]).min(y_hi);
        if min_x >= max_x || min_y >= max_y {
            continue;
        }
        // Edge k is opposite vertex k.
        let tl = [top_left(pb, pc), top_left(pc, pa), top_left(pa, pb)];
        let (ca, cb, cc) = (rgba(a.color), rgba(b.color), rgba(c.color));
        // Solid shapes all point at one texel (epaint's WHITE_UV): sample it once.
        let flat = (a.uv == b.uv && b.uv == c.uv).then(|| sample(texture, [a.uv.x, a.uv.y]));
        let x0 = (min_x - 0.5).ceil().max(0.0) as usize;
        let x1 = ((max_x - 0.5).floor() as usize).min(width - 1);
        let y0 = (min_y - 0.5).ceil().max(0.0) as usize;
        let y1 = ((max_y - 0.5).floor() as usize).min(frame.height as usize - 1);
        for y in y0..=y1 {
            let py = y as f32 + 0.5;
            // Narrow the row to where the triangle can be (thin diagonal strokes have big
            // bounding boxes); the exact test below still decides every pixel.
            let Some((lo, hi)) = row_span([pa, pb, pc], py) else { continue };
            let xs = ((lo - 1.5).ceil().max(x0 as f32) as usize, ((hi + 0.5).floor().max(0.0) as usize).min(x1));
            for x in xs.0..=xs.1 {
                let p = [x as f32 + 0.5, py];
                let w = [edge(pb, pc, p), edge(pc, pa, p), edge(pa, pb, p)];
                if (0..3).any(|k| w[k] < 0.0 || (w[k] == 0.0 && !tl[k])) {
                    continue;
                }
                let (wa, wb, wc) = (w[0] / area, w[1] / area, w[2] / area);
                let t = flat.unwrap_or_else(|| {
                    let uv = [a.uv.x * wa + b.uv.x * wb + c.uv.x * wc, a.uv.y * wa + b.uv.y * wb + c.uv.y * wc];
                    sample(texture, uv)
                });
                let mut src = [0.0f32; 4];
                for k in 0..4 {
                    src[k] = (ca[k] * wa + cb[k] * wb + cc[k] * wc) * t[k];
                }
                let i = (y * width + x) * 3;
                let keep = 1.0 - src[3].clamp(0.0, 1.0);
                for (dst, s) in frame.data[i..i + 3].iter_mut().zip(src) {
                    // Non-negative: adding ½ and truncating rounds to nearest, without roundf.
                    *dst = (s * 255.0 + f32::from(*dst) * keep + 0.5).min(255.0) as u8;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use egui::epaint::{Pos2, Vertex, pos2};

    fn white_texture() -> ColorImage {
        ColorImage::new([1, 1], vec![Color32::WHITE])
    }

    fn quad(mesh: &mut Mesh, min: Pos2, max: Pos2, color: Color32) {
        let base = mesh.vertices.len() as u32;
        for p in [min, pos2(max.x, min.y), max, pos2(min.x, max.y)] {
            mesh.vertices.push(Vertex { pos: p, uv: pos2(0.5, 0.5), color });
        }
        mesh.indices.extend([base, base + 1, base + 2, base, base + 2, base + 3]);
    }

    #[test]
    fn a_quad_covers_exactly_its_pixels_once() {
        let mut f = RgbFrame::new(8, 8);
        let mut m = Mesh::default();
        // Half-transparent white over black: a pixel blended twice would be brighter.
        quad(&mut m, pos2(2.0, 2.0), pos2(6.0, 5.0), Color32::from_white_alpha(128));
        draw_mesh(&mut f, &m, &white_texture(), Rect::EVERYTHING);
        for y in 0..8 {
            for x in 0..8 {
                let inside = (2..6).contains(&x) && (2..5).contains(&y);
                assert_eq!(f.pixel(x, y)[0], if inside { 128 } else { 0 }, "({x}, {y})");
            }
        }
    }

    #[test]
    fn clipping_and_out_of_frame_triangles_are_safe() {
        let mut f = RgbFrame::new(4, 4);
        let mut m = Mesh::default();
        quad(&mut m, pos2(-10.0, -10.0), pos2(100.0, 100.0), Color32::RED);
        m.indices.extend([0, 1, 99]); // a bad index is skipped
        draw_mesh(&mut f, &m, &white_texture(), Rect::from_min_max(pos2(0.0, 0.0), pos2(2.0, 4.0)));
        assert_eq!(f.pixel(1, 3), [255, 0, 0]);
        assert_eq!(f.pixel(2, 0), [0, 0, 0]);
    }
}
