//! What the GPU mask pass draws for the shown frame: the id map (the head's cells, or the
//! refined map at the video's resolution when the model refines edges) with the hidden tracks
//! zeroed, its region and geometry ([`super::mask_paint::MaskFrame`]).

use egui::Vec2;

use super::app::ViewerApp;
use super::mask_paint::{MaskFrame, mask_region};
use crate::assemble::edges::soft_id;
use crate::overlay::scene::Scene;

/// The shown frame's masks for the GPU pass (`None`: no record yet, or nothing to draw).
pub(super) fn shown_mask_frame(app: &ViewerApp, scene: &Scene, size: Vec2, generation: u64) -> Option<MaskFrame> {
    let (rec, (iw, ih)) = (app.shown_record()?, app.model_input_size()?);
    // With refined edges the pass draws the frame's id map at the video's resolution: one "cell"
    // per video pixel (stride 1, scale 1), which the shader's rule reproduces exactly.
    let refined = app
        .refined_ids
        .as_ref()
        .filter(|r| r.index == rec.index && (r.width, r.height) == (size.x as u32, size.y as u32));
    let (mut cells, cells_w, cells_h, scale, stride, edge_sigma) = match refined {
        Some(r) => (r.ids.clone(), r.width as usize, r.height as usize, [1.0, 1.0], 1, 0.0),
        None => {
            let lb = crate::model::Letterbox::new(size.x as u32, size.y as u32, iw, ih);
            let (sx, sy) = lb.axis_scales();
            let stride = crate::model::maps::stride_of(iw, rec.soft_ids.w) as u32;
            (
                rec.soft_ids.decode(),
                rec.soft_ids.w,
                rec.soft_ids.h,
                [sx as f32, sy as f32],
                stride,
                app.model.edge_sigma(),
            )
        }
    };
    for c in &mut cells {
        if *c != 0 && !scene.shows_mask(soft_id(*c)) {
            *c = 0;
        }
    }
    let region = mask_region(&cells, cells_w, stride, [size.x, size.y], scale)?;
    Some(MaskFrame {
        generation,
        cells,
        cells_w: cells_w as u32,
        cells_h: cells_h as u32,
        region,
        scale,
        stride,
        opacity: scene.opacity,
        guide: app.video_frame.clone(),
        edge_sigma,
    })
}

/// A hash of the visible tracks' ids (part of the mask generation).
pub(super) fn hash_ids(ids: &[u32]) -> u64 {
    ids.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &i| (h ^ u64::from(i)).wrapping_mul(0x100_0000_01b3))
}
