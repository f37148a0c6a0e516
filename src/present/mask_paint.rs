//! GPU mask colouring: an egui_wgpu paint callback that runs `shaders/masks.wgsl` over the
//! video rectangle with the frame's id map (at the head's stride) as an R32Uint texture and, when the model
//! guides its edges by the frame (`ifa.post` `edge_sigma`), the frame as an RGBA8 texture.

use std::sync::Arc;

use eframe::egui_wgpu::{self, wgpu};

use super::gpu_pass;
use crate::overlay::scene::PALETTE;

const SHADER: &str = include_str!("../../shaders/masks.wgsl");

/// What one frame's masks need: the id map (hidden tracks zeroed) and the geometry.
#[derive(Clone, Debug, PartialEq)]
pub struct MaskFrame {
    /// Changes whenever `cells` change, so the texture is uploaded once per new frame.
    pub generation: u64,
    pub cells: Vec<u32>,
    pub cells_w: u32,
    pub cells_h: u32,
    /// The part of the video the callback's rectangle covers: origin and size in video pixels.
    pub region: [f32; 4],
    /// Input pixels per video pixel (x, y), from the letterbox.
    pub scale: [f32; 2],
    /// Input pixels per cell (the model's head stride).
    pub stride: u32,
    pub opacity: f32,
    /// The shown frame, when the edges follow it (`edge_sigma` > 0), as `IdMapper::render_guided`.
    pub guide: Option<Arc<super::video_paint::VideoFrame>>,
    pub edge_sigma: f32,
}

/// The video-pixel region `[x, y, w, h]` that can show a mask: the bounding box of the non-zero
/// cells widened by one cell (a pixel's id comes from its four surrounding cells), or `None`
/// when no cell is set. `scale` is input pixels per video pixel, `stride` input pixels per cell.
pub fn mask_region(cells: &[u32], cells_w: usize, stride: u32, video: [f32; 2], scale: [f32; 2]) -> Option<[f32; 4]> {
    let (mut i0, mut i1, mut j0, mut j1) = (usize::MAX, 0, usize::MAX, 0);
    for (k, _) in cells.iter().enumerate().filter(|(_, c)| **c != 0) {
        let (i, j) = (k / cells_w, k % cells_w);
        (i0, i1, j0, j1) = (i0.min(i), i1.max(i), j0.min(j), j1.max(j));
    }
    if i0 == usize::MAX {
        return None;
    }
    // A pixel at video position p reads cells floor(c) and floor(c) + 1 with
    // c = (p s - d/2) / d at stride d (cell c stands for input d c + (d - 1) / 2, clamped at the
    // edges), so cells j0..=j1 reach the pixels with p in [(d (j0 - 1) + d/2) / s, (d (j1 + 1) + d/2) / s).
    let cells_h = cells.len() / cells_w;
    let d = stride.max(1) as f32;
    let span = |lo: usize, hi: usize, last: usize, s: f32, len: f32| {
        let a = if lo == 0 { 0.0 } else { ((d * (lo as f32 - 1.0) + d / 2.0) / s).floor().max(0.0) };
        let b = if hi == last { len } else { (((d * (hi as f32 + 1.0) + d / 2.0) / s).ceil() + 1.0).min(len) };
        (a, b)
    };
    let (x0, x1) = span(j0, j1, cells_w - 1, scale[0], video[0]);
    let (y0, y1) = span(i0, i1, cells_h - 1, scale[1], video[1]);
    (x1 > x0 && y1 > y0).then_some([x0, y0, x1 - x0, y1 - y0])
}

/// GPU objects, created once and kept in egui_wgpu's callback resources.
pub struct MaskResources {
    pipeline: wgpu::RenderPipeline,
    layout: wgpu::BindGroupLayout,
    params: wgpu::Buffer,
    palette: wgpu::Buffer,
    ids: gpu_pass::TextureSlot,
    /// The guide frame (1x1 until a guided frame comes), its size and content generation.
    guide: (wgpu::Texture, u32, u32, u64),
}

/// Bytes of the shader's `Params`.
const PARAMS_SIZE: u64 = 64;

impl MaskResources {
    /// Makes the guide texture `w` x `h`; `true` when it was recreated (the bind group must be).
    fn ensure_guide(&mut self, device: &wgpu::Device, w: u32, h: u32) -> bool {
        if (self.guide.1, self.guide.2) == (w, h) {
            return false;
        }
        let tex = gpu_pass::texture(device, "ifa-mask-guide", wgpu::TextureFormat::Rgba8Unorm, w, h);
        self.guide = (tex, w, h, u64::MAX);
        true
    }
}

/// Registers the pipeline; call once with the app's render state.
pub fn install(rs: &egui_wgpu::RenderState) {
    let device = &rs.device;
    let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
        label: Some("ifa-masks"),
        entries: &[
            gpu_pass::uniform_entry(0),
            gpu_pass::texture_entry(1, wgpu::TextureSampleType::Uint),
            gpu_pass::uniform_entry(2),
            gpu_pass::texture_entry(3, wgpu::TextureSampleType::Float { filterable: false }),
        ],
    });
    let blend = Some(wgpu::BlendState::PREMULTIPLIED_ALPHA_BLENDING);
    let pipeline = gpu_pass::pipeline(rs, "ifa-masks", SHADER, &layout, blend);
    let params = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("ifa-masks-params"),
        size: PARAMS_SIZE,
        usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let mut pal = Vec::with_capacity(PALETTE.len() * 16);
    for c in PALETTE {
        for v in [f32::from(c[0]) / 255.0, f32::from(c[1]) / 255.0, f32::from(c[2]) / 255.0, 1.0] {
            pal.extend_from_slice(&v.to_le_bytes());
        }
    }
    let palette = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("ifa-masks-palette"),
        size: pal.len() as u64,
        usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    rs.queue.write_buffer(&palette, 0, &pal);
    let guide = gpu_pass::texture(device, "ifa-mask-guide", wgpu::TextureFormat::Rgba8Unorm, 1, 1);
    rs.renderer.write().callback_resources.insert(MaskResources {
        pipeline,
        layout,
        params,
        palette,
        ids: gpu_pass::TextureSlot::new("ifa-mask-ids", wgpu::TextureFormat::R32Uint),
        guide: (guide, 1, 1, u64::MAX),
    });
}

/// The paint callback of one frame.
pub struct MaskCallback(pub Arc<MaskFrame>);

impl egui_wgpu::CallbackTrait for MaskCallback {
    fn prepare(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        _screen: &egui_wgpu::ScreenDescriptor,
        _encoder: &mut wgpu::CommandEncoder,
        resources: &mut egui_wgpu::CallbackResources,
    ) -> Vec<wgpu::CommandBuffer> {
        let Some(r) = resources.get_mut::<MaskResources>() else { return Vec::new() };
        let f = &*self.0;
        if f.cells_w == 0 || f.cells_h == 0 || f.cells.len() != (f.cells_w * f.cells_h) as usize {
            r.ids.clear();
            return Vec::new();
        }
        // The guide only when it fits the geometry; otherwise the plain edge (sigma 0).
        let guide =
            f.guide.as_ref().filter(|g| f.edge_sigma > 0.0 && g.rgba.len() == (g.width * g.height * 4) as usize);
        let sigma = if guide.is_some() { f.edge_sigma } else { 0.0 };
        let video = guide.map_or([0.0, 0.0], |g| [g.width as f32, g.height as f32]);
        let mut p = Vec::with_capacity(PARAMS_SIZE as usize);
        for v in [f.region[0], f.region[1], f.region[2], f.region[3], f.scale[0], f.scale[1]] {
            p.extend_from_slice(&v.to_le_bytes());
        }
        p.extend_from_slice(&f.cells_w.to_le_bytes());
        p.extend_from_slice(&f.cells_h.to_le_bytes());
        p.extend_from_slice(&f.opacity.to_le_bytes());
        p.extend_from_slice(&(PALETTE.len() as u32).to_le_bytes());
        p.extend_from_slice(&sigma.to_le_bytes());
        p.extend_from_slice(&(f.stride.max(1) as f32).to_le_bytes());
        for v in [video[0], video[1], 0.0, 0.0] {
            p.extend_from_slice(&v.to_le_bytes());
        }
        queue.write_buffer(&r.params, 0, &p);

        let new_guide = match guide {
            Some(g) => r.ensure_guide(device, g.width, g.height),
            None => false,
        };
        let (layout, params, palette) = (&r.layout, &r.params, &r.palette);
        let guide_view = r.guide.0.create_view(&wgpu::TextureViewDescriptor::default());
        let bind = |view: &wgpu::TextureView| {
            device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("ifa-masks"),
                layout,
                entries: &[
                    wgpu::BindGroupEntry { binding: 0, resource: params.as_entire_binding() },
                    wgpu::BindGroupEntry { binding: 1, resource: wgpu::BindingResource::TextureView(view) },
                    wgpu::BindGroupEntry { binding: 2, resource: palette.as_entire_binding() },
                    wgpu::BindGroupEntry { binding: 3, resource: wgpu::BindingResource::TextureView(&guide_view) },
                ],
            })
        };
        if !r.ids.ensure(device, f.cells_w, f.cells_h, bind) && new_guide {
            r.ids.rebind(bind);
        }
        r.ids.upload(queue, f.generation, || f.cells.iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<u8>>());
        if let Some(g) = guide
            && r.guide.3 != g.generation
        {
            gpu_pass::write_full(queue, &r.guide.0, &g.rgba, g.width, g.height, 4);
            r.guide.3 = g.generation;
        }
        Vec::new()
    }

    fn paint(
        &self,
        _info: egui::PaintCallbackInfo,
        pass: &mut wgpu::RenderPass<'static>,
        resources: &egui_wgpu::CallbackResources,
    ) {
        if let Some(r) = resources.get::<MaskResources>() {
            r.ids.draw(pass, &r.pipeline);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assemble::idmap::IdMapper;
    use crate::model::Letterbox;

    /// Every pixel that the CPU twin of the shader colours lies inside the region, and a small
    /// blob gives a small region; at both head strides.
    #[test]
    fn region_holds_every_coloured_pixel() {
        for stride in [4usize, 2] {
            let (vw, vh, iw, ih) = (640u32, 360u32, 448usize, 256usize);
            let lb = Letterbox::new(vw, vh, iw, ih);
            let (sx, sy) = lb.axis_scales();
            let (cw, ch) = (iw / stride, ih / stride);
            let d = stride as u32;
            let mapper = IdMapper::new(&lb, ch, cw);
            let (li, lj) = (ch - 1, cw - 1);
            let blobs: [&[(usize, usize)]; 4] = [&[(10, 20), (11, 21)], &[(0, 0)], &[(li, lj), (5, 50)], &[(30, 60)]];
            for blob in blobs {
                let mut cells = vec![0u32; cw * ch];
                for &(i, j) in blob {
                    cells[i * cw + j] = 3;
                }
                let region =
                    mask_region(&cells, cw, d, [vw as f32, vh as f32], [sx as f32, sy as f32]).expect("a set cell");
                let mut ids = Vec::new();
                assert!(mapper.render(&cells, &mut ids));
                let mut n = 0;
                for (k, &id) in ids.iter().enumerate() {
                    if id != 0 {
                        let (x, y) = ((k % vw as usize) as f32, (k / vw as usize) as f32);
                        assert!(x >= region[0] && x + 1.0 <= region[0] + region[2], "{blob:?} x {x} {region:?}");
                        assert!(y >= region[1] && y + 1.0 <= region[1] + region[3], "{blob:?} y {y} {region:?}");
                        n += 1;
                    }
                }
                assert!(n > 0, "stride {stride} {blob:?}");
            }
            let mut one = vec![0u32; cw * ch];
            one[30 * cw + 60] = 1;
            let r = mask_region(&one, cw, d, [vw as f32, vh as f32], [sx as f32, sy as f32]).expect("a set cell");
            assert!(r[2] < 5.0 * d as f32 && r[3] < 5.0 * d as f32, "{r:?}");
            assert_eq!(mask_region(&vec![0u32; cw * ch], cw, d, [vw as f32, vh as f32], [1.0, 1.0]), None);
        }
    }
}
