//! GPU video drawing: an egui_wgpu paint callback that runs `shaders/video.wgsl` over the video
//! rectangle with the current frame as an RGBA texture (uploaded once per new frame).
//!
//! egui's own image drawing samples through a sampler, which software rasterisers execute on a
//! slow generic path; this pass filters with plain texel loads instead (see the shader).

use std::sync::Arc;

use eframe::egui_wgpu::{self, wgpu};

use super::gpu_pass;

const SHADER: &str = include_str!("../../shaders/video.wgsl");

/// One video frame as RGBA8 (`width * height * 4` bytes).
#[derive(Clone, Debug, PartialEq)]
pub struct VideoFrame {
    /// Changes whenever the pixels change, so the texture is written once per new frame.
    pub generation: u64,
    pub width: u32,
    pub height: u32,
    pub rgba: Arc<Vec<u8>>,
}

impl VideoFrame {
    /// RGBA from packed RGB.
    pub fn from_rgb(generation: u64, width: u32, height: u32, rgb: &[u8]) -> Self {
        let mut rgba = Vec::with_capacity(rgb.len() / 3 * 4);
        for p in rgb.chunks_exact(3) {
            rgba.extend_from_slice(&[p[0], p[1], p[2], 255]);
        }
        Self { generation, width, height, rgba: Arc::new(rgba) }
    }
}

/// GPU objects, created once and kept in egui_wgpu's callback resources.
pub struct VideoResources {
    pipeline: wgpu::RenderPipeline,
    layout: wgpu::BindGroupLayout,
    params: wgpu::Buffer,
    frame: gpu_pass::TextureSlot,
}

/// Registers the pipeline; call once with the app's render state.
pub fn install(rs: &egui_wgpu::RenderState) {
    let device = &rs.device;
    let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
        label: Some("ifa-video"),
        entries: &[
            gpu_pass::uniform_entry(0),
            gpu_pass::texture_entry(1, wgpu::TextureSampleType::Float { filterable: false }),
        ],
    });
    // Opaque: the frame replaces what is below it.
    let pipeline = gpu_pass::pipeline(rs, "ifa-video", SHADER, &layout, None);
    let params = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("ifa-video-params"),
        size: 16,
        usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let srgb = u32::from(rs.target_format.is_srgb());
    let mut p = Vec::with_capacity(16);
    p.extend_from_slice(&0f32.to_le_bytes());
    p.extend_from_slice(&0f32.to_le_bytes());
    p.extend_from_slice(&srgb.to_le_bytes());
    p.extend_from_slice(&0u32.to_le_bytes());
    rs.queue.write_buffer(&params, 0, &p);
    rs.renderer.write().callback_resources.insert(VideoResources {
        pipeline,
        layout,
        params,
        frame: gpu_pass::TextureSlot::new("ifa-video-frame", wgpu::TextureFormat::Rgba8Unorm),
    });
}

/// The paint callback of one frame.
pub struct VideoCallback(pub Arc<VideoFrame>);

impl egui_wgpu::CallbackTrait for VideoCallback {
    fn prepare(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        _screen: &egui_wgpu::ScreenDescriptor,
        _encoder: &mut wgpu::CommandEncoder,
        resources: &mut egui_wgpu::CallbackResources,
    ) -> Vec<wgpu::CommandBuffer> {
        let Some(r) = resources.get_mut::<VideoResources>() else { return Vec::new() };
        let f = &*self.0;
        if f.width == 0 || f.height == 0 || f.rgba.len() != (f.width * f.height * 4) as usize {
            r.frame.clear();
            return Vec::new();
        }
        let (layout, params) = (&r.layout, &r.params);
        let resized = r.frame.ensure(device, f.width, f.height, |view| {
            device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("ifa-video"),
                layout,
                entries: &[
                    wgpu::BindGroupEntry { binding: 0, resource: params.as_entire_binding() },
                    wgpu::BindGroupEntry { binding: 1, resource: wgpu::BindingResource::TextureView(view) },
                ],
            })
        });
        if resized {
            let size = [(f.width as f32).to_le_bytes(), (f.height as f32).to_le_bytes()].concat();
            queue.write_buffer(&r.params, 0, &size);
        }
        r.frame.upload(queue, f.generation, || f.rgba.as_slice());
        Vec::new()
    }

    fn paint(
        &self,
        _info: egui::PaintCallbackInfo,
        pass: &mut wgpu::RenderPass<'static>,
        resources: &egui_wgpu::CallbackResources,
    ) {
        if let Some(r) = resources.get::<VideoResources>() {
            r.frame.draw(pass, &r.pipeline);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rgba_from_rgb_is_opaque_and_keeps_order() {
        let f = VideoFrame::from_rgb(7, 2, 1, &[1, 2, 3, 4, 5, 6]);
        assert_eq!(*f.rgba, vec![1, 2, 3, 255, 4, 5, 6, 255]);
        assert_eq!((f.generation, f.width, f.height), (7, 2, 1));
    }
}
