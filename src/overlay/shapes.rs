//! The overlay drawn over a frame (everything but the masks) as epaint shapes: one
//! description for both painters. The viewer adds the shapes to its egui painter; the exporter
//! tessellates them and rasterises the triangles on CPU (`export::annotate`), so the annotated
//! video looks as the viewer does at 1:1 zoom.

use std::sync::Arc;

use egui::epaint::emath::{Align2, Rot2};
use egui::epaint::{CircleShape, Color32, FontId, Galley, Pos2, RectShape, Shape, Stroke, StrokeKind, vec2};

use super::scene::Scene;

/// Overlay sizes in screen points (= video pixels at 1:1 zoom).
pub mod style {
    pub const TRAIL_WIDTH: f32 = 2.0;
    pub const ARROW_WIDTH: f32 = 1.5;
    /// Arrow heads: a quarter of the arrow long, 36° off its direction (egui's `Painter::arrow`).
    pub const ARROW_TIP_FRACTION: f32 = 0.25;
    pub const CENTER_RADIUS: f32 = 4.0;
    pub const CENTER_RADIUS_SELECTED: f32 = 6.0;
    pub const CENTER_OUTLINE: f32 = 1.0;
    pub const CENTER_OUTLINE_SELECTED: f32 = 2.5;
    pub const LABEL_FONT_SIZE: f32 = 12.0;
    /// How far above the center the label box's bottom sits.
    pub const LABEL_LIFT: f32 = 8.0;
    pub const LABEL_PADDING: f32 = 2.0;
    pub const LABEL_CORNER: f32 = 2.0;
    pub const LABEL_BORDER: f32 = 1.0;
    pub const LABEL_BACKGROUND_ALPHA: u8 = 160;
}

pub fn color32(c: [u8; 3]) -> Color32 {
    Color32::from_rgb(c[0], c[1], c[2])
}

fn arrow(out: &mut Vec<Shape>, origin: Pos2, tip: Pos2, stroke: Stroke) {
    let vec = tip - origin;
    let rot = Rot2::from_angle(std::f32::consts::TAU / 10.0);
    let tip_length = vec.length() * style::ARROW_TIP_FRACTION;
    let dir = vec.normalized();
    out.push(Shape::line_segment([origin, tip], stroke));
    out.push(Shape::line_segment([tip, tip - tip_length * (rot * dir)], stroke));
    out.push(Shape::line_segment([tip, tip - tip_length * (rot.inverse() * dir)], stroke));
}

/// The overlay of `scene` (everything but the masks) as epaint shapes, back to front: trails,
/// arrows, centers, labels. `to_screen` maps video pixel coordinates (pixel centres at
/// integers) to screen points; `layout` lays out label text (egui: `Painter::layout_no_wrap`).
pub fn scene_shapes(
    scene: &Scene,
    to_screen: &dyn Fn([f32; 2]) -> Pos2,
    layout: &mut dyn FnMut(String, FontId, Color32) -> Arc<Galley>,
) -> Vec<Shape> {
    let mut out = Vec::new();
    for t in &scene.trails {
        let pts: Vec<Pos2> = t.points.iter().map(|&q| to_screen(q)).collect();
        out.push(Shape::line(pts, Stroke::new(style::TRAIL_WIDTH, color32(t.color))));
    }
    for a in &scene.arrows {
        arrow(&mut out, to_screen(a.from), to_screen(a.to), Stroke::new(style::ARROW_WIDTH, color32(a.color)));
    }
    for m in &scene.centers {
        let (r, w) = if m.selected {
            (style::CENTER_RADIUS_SELECTED, style::CENTER_OUTLINE_SELECTED)
        } else {
            (style::CENTER_RADIUS, style::CENTER_OUTLINE)
        };
        out.push(Shape::Circle(CircleShape {
            center: to_screen(m.pos),
            radius: r,
            fill: color32(m.color),
            stroke: Stroke::new(w, Color32::WHITE),
        }));
    }
    for l in &scene.labels {
        let at = to_screen(l.pos) - vec2(0.0, style::LABEL_LIFT);
        let galley = layout(l.text.clone(), FontId::proportional(style::LABEL_FONT_SIZE), Color32::WHITE);
        let r = Align2::CENTER_BOTTOM.anchor_size(at, galley.size()).expand(style::LABEL_PADDING);
        out.push(Shape::Rect(RectShape::filled(
            r,
            style::LABEL_CORNER,
            Color32::from_black_alpha(style::LABEL_BACKGROUND_ALPHA),
        )));
        out.push(Shape::Rect(RectShape::stroke(
            r,
            style::LABEL_CORNER,
            Stroke::new(style::LABEL_BORDER, color32(l.color)),
            StrokeKind::Outside,
        )));
        if !galley.is_empty() {
            let pad = vec2(style::LABEL_PADDING, style::LABEL_PADDING);
            out.push(Shape::galley(r.min + pad, galley, Color32::WHITE));
        }
    }
    out
}
