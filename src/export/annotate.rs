//! Draws a [`Scene`] onto a video frame on CPU, looking as the viewer paints it.
//!
//! One description for both painters: [`scene_shapes`] (in `overlay::shapes`) turns a scene
//! into epaint shapes; the viewer adds them to its egui painter, the exporter tessellates them
//! with epaint and rasterises the triangles (`raster.rs`). Masks use [`blend_masks`], the
//! formula of the viewer's mask shader.

use egui::epaint::text::{FontDefinitions, Fonts, ViewportKey};
use egui::epaint::{ClippedShape, Primitive, Rect, TessellationOptions, Tessellator, TextOptions, pos2};

use super::raster::draw_mesh;
use crate::frame::RgbFrame;
#[cfg(doc)]
use crate::overlay::scene::blend_masks;
use crate::overlay::scene::{Scene, blend_channel, track_color};
use crate::overlay::shapes::scene_shapes;

#[derive(Debug, thiserror::Error)]
pub enum AnnotateError {
    #[error("id map of {got} pixels given for a {width}x{height} frame")]
    IdMapSize { got: usize, width: u32, height: u32 },
}

/// [`blend_masks`] with the scene's filter, through per-track lookup tables filled by
/// [`blend_channel`]: the same bytes, without the per-pixel float work.
fn blend_masks_fast(frame: &mut RgbFrame, ids: &[u32], scene: &Scene) -> bool {
    if ids.len() != frame.width as usize * frame.height as usize || frame.data.len() != ids.len() * 3 {
        return false;
    }
    let luts: Vec<(u32, Box<[[u8; 256]; 3]>)> = scene
        .mask_ids
        .iter()
        .filter_map(|&id| {
            let c = track_color(id)?;
            let mut lut = Box::new([[0u8; 256]; 3]);
            for (k, table) in lut.iter_mut().enumerate() {
                for (v, out) in table.iter_mut().enumerate() {
                    *out = blend_channel(v as u8, c[k], scene.opacity);
                }
            }
            Some((id, lut))
        })
        .collect();
    let mut last: (u32, Option<usize>) = (0, None);
    for (px, &id) in frame.data.chunks_exact_mut(3).zip(ids) {
        if id == 0 {
            continue;
        }
        if id != last.0 {
            last = (id, luts.iter().position(|(k, _)| *k == id));
        }
        if let Some(i) = last.1 {
            let lut = &luts[i].1;
            for k in 0..3 {
                px[k] = lut[k][px[k] as usize];
            }
        }
    }
    true
}

/// Paints scenes onto frames; holds the fonts (expensive to build: make one per export).
pub struct Annotator {
    fonts: Fonts,
    tessellation: TessellationOptions,
}

impl std::fmt::Debug for Annotator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Annotator").finish_non_exhaustive()
    }
}

impl Default for Annotator {
    fn default() -> Self {
        Self::new()
    }
}

impl Annotator {
    /// egui's default fonts and tessellation, at one pixel per point.
    pub fn new() -> Self {
        Self {
            fonts: Fonts::new(TextOptions::default(), FontDefinitions::default()),
            tessellation: TessellationOptions { parallel_tessellation: false, ..TessellationOptions::default() },
        }
    }

    /// Draws `scene` onto `frame`: masks from `ids` (the frame's id map at video resolution;
    /// `None` draws no masks), then the overlay shapes.
    pub fn draw(&mut self, frame: &mut RgbFrame, ids: Option<&[u32]>, scene: &Scene) -> Result<(), AnnotateError> {
        if let Some(ids) = ids
            && !scene.mask_ids.is_empty()
            && !blend_masks_fast(frame, ids, scene)
        {
            return Err(AnnotateError::IdMapSize { got: ids.len(), width: frame.width, height: frame.height });
        }
        if scene.centers.is_empty() && scene.arrows.is_empty() && scene.labels.is_empty() && scene.trails.is_empty() {
            return Ok(());
        }
        self.fonts.begin_pass(TextOptions::default(), ViewportKey::default());
        let shapes = {
            let mut view = self.fonts.with_pixels_per_point(1.0);
            // Video pixel x covers screen [x, x + 1): its centre is at x + ½.
            scene_shapes(scene, &|p| pos2(p[0] + 0.5, p[1] + 0.5), &mut |t, f, c| view.layout_no_wrap(t, f, c))
        };
        let clip = Rect::from_min_max(pos2(0.0, 0.0), pos2(frame.width as f32, frame.height as f32));
        let mut tess = Tessellator::new(
            1.0,
            self.tessellation,
            self.fonts.font_image_size(),
            self.fonts.texture_atlas().prepared_discs(),
        );
        let clipped = shapes.into_iter().map(|s| ClippedShape::new(clip, s)).collect();
        let atlas = self.fonts.texture_atlas().image();
        for prim in tess.tessellate_shapes(clipped) {
            if let Primitive::Mesh(mesh) = &prim.primitive {
                draw_mesh(frame, mesh, atlas, prim.clip_rect);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::overlay::scene::{Label, Marker, PALETTE, Trail, blend_masks};

    fn grey(w: u32, h: u32) -> RgbFrame {
        RgbFrame::from_raw(w, h, vec![100; (w * h * 3) as usize]).expect("size")
    }

    #[test]
    fn masks_follow_the_scene_formula_and_filters() {
        let mut f = grey(4, 1);
        let ids = [0, 1, 2, 1];
        let scene = Scene { mask_ids: vec![1], opacity: 0.5, ..Scene::default() };
        Annotator::new().draw(&mut f, Some(&ids), &scene).expect("draw");
        let c = PALETTE[0];
        let want = [blend_channel(100, c[0], 0.5), blend_channel(100, c[1], 0.5), blend_channel(100, c[2], 0.5)];
        assert_eq!(f.pixel(0, 0), [100; 3]);
        assert_eq!(f.pixel(1, 0), want);
        assert_eq!(f.pixel(2, 0), [100; 3], "track 2 is filtered out");
        assert_eq!(f.pixel(3, 0), want);
        let e = Annotator::new().draw(&mut f, Some(&[1, 1]), &scene).expect_err("wrong size");
        assert!(matches!(e, AnnotateError::IdMapSize { got: 2, .. }));
    }

    #[test]
    fn the_fast_blend_gives_the_bytes_of_the_scene_formula() {
        let (w, h) = (64u32, 16u32);
        let data: Vec<u8> = (0..w * h * 3).map(|i| (i * 37 % 256) as u8).collect();
        let ids: Vec<u32> = (0..w * h).map(|i| (i / 7) % 5).collect();
        for opacity in [0.0, 0.33, 0.5, 1.0] {
            let scene = Scene { mask_ids: vec![1, 3, 4], opacity, ..Scene::default() };
            let mut a = RgbFrame::from_raw(w, h, data.clone()).expect("size");
            let mut b = a.clone();
            assert!(blend_masks(&mut a, &ids, &|id| scene.shows_mask(id), opacity));
            assert!(blend_masks_fast(&mut b, &ids, &scene));
            assert_eq!(a, b, "opacity {opacity}");
        }
    }

    #[test]
    fn a_center_is_a_filled_disc_with_a_white_rim() {
        let mut f = grey(40, 40);
        let scene = Scene {
            centers: vec![Marker { track_id: 1, pos: [20.0, 20.0], color: [255, 0, 0], selected: false }],
            ..Scene::default()
        };
        Annotator::new().draw(&mut f, None, &scene).expect("draw");
        assert_eq!(f.pixel(20, 20), [255, 0, 0], "the fill at the centre");
        let rim = f.pixel(24, 20);
        assert!(rim[1] > 150 && rim[2] > 150, "white outline at the radius: {rim:?}");
        assert_eq!(f.pixel(20, 28), [100; 3], "nothing beyond the disc");
        assert_eq!(f.pixel(0, 0), [100; 3]);
    }

    #[test]
    fn labels_draw_a_dark_box_with_text_above_the_center_and_trails_draw_lines() {
        let mut f = grey(120, 60);
        let scene = Scene {
            labels: vec![Label { track_id: 3, pos: [60.0, 45.0], text: "#3 disc 0.90".to_owned(), color: [0, 255, 0] }],
            trails: vec![Trail { track_id: 3, points: vec![[5.0, 55.0], [50.0, 55.0]], color: [0, 0, 255] }],
            ..Scene::default()
        };
        Annotator::new().draw(&mut f, None, &scene).expect("draw");
        // The box spans from above the text down to 8 px above the center.
        let rows: Vec<u32> = (0..60).filter(|&y| (0..120).any(|x| f.pixel(x, y) != [100; 3])).collect();
        assert!(rows.iter().any(|&y| y < 37), "label above the center: {rows:?}");
        assert!(!rows.contains(&42) && !rows.contains(&44), "nothing between the label and the center: {rows:?}");
        if let Ok(p) = std::env::var("IFA_ANNOTATE_DUMP") {
            image::RgbImage::from_raw(f.width, f.height, f.data.clone()).expect("size").save(p).expect("dump");
        }
        let text: Vec<[u8; 3]> = (40..80).map(|x| f.pixel(x, 30)).collect();
        assert!(text.iter().any(|p| p[0] > 180), "white glyph pixels");
        assert!(text.iter().any(|p| p[0] < 60), "dark background");
        assert!(f.pixel(20, 55)[2] > 200 && f.pixel(20, 55)[0] < 60, "trail line {:?}", f.pixel(20, 55));
    }
}
