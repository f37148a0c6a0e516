//! What the viewer's own wgpu passes (`video_paint`, `mask_paint`) share: one fragment-only
//! pipeline over the paint callback's rectangle (`shaders/fullscreen.wgsl` prepended to the
//! pass's shader), bind-group entries, and `TextureSlot`: the pass's one texture, its bind group, upload and draw.

use eframe::egui_wgpu::{self, wgpu};

/// The vertex stage of every pass: one triangle that covers the callback's viewport.
pub const VERTEX_SHADER: &str = include_str!("../../shaders/fullscreen.wgsl");

/// A uniform buffer read by the fragment stage.
pub fn uniform_entry(binding: u32) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::FRAGMENT,
        ty: wgpu::BindingType::Buffer {
            ty: wgpu::BufferBindingType::Uniform,
            has_dynamic_offset: false,
            min_binding_size: None,
        },
        count: None,
    }
}

/// A 2D texture read with `textureLoad` by the fragment stage.
pub fn texture_entry(binding: u32, sample_type: wgpu::TextureSampleType) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::FRAGMENT,
        ty: wgpu::BindingType::Texture {
            multisampled: false,
            sample_type,
            view_dimension: wgpu::TextureViewDimension::D2,
        },
        count: None,
    }
}

/// The pipeline of a pass whose WGSL (`fragment_source`, entry point `fs_main`) follows
/// [`VERTEX_SHADER`], drawing into egui's target with the given blending.
pub fn pipeline(
    rs: &egui_wgpu::RenderState,
    label: &str,
    fragment_source: &str,
    layout: &wgpu::BindGroupLayout,
    blend: Option<wgpu::BlendState>,
) -> wgpu::RenderPipeline {
    let device = &rs.device;
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some(label),
        source: wgpu::ShaderSource::Wgsl(format!("{VERTEX_SHADER}\n{fragment_source}").into()),
    });
    let pl = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
        label: Some(label),
        bind_group_layouts: &[Some(layout)],
        immediate_size: 0,
    });
    device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
        label: Some(label),
        layout: Some(&pl),
        vertex: wgpu::VertexState {
            module: &module,
            entry_point: Some("vs_main"),
            compilation_options: wgpu::PipelineCompilationOptions::default(),
            buffers: &[],
        },
        primitive: wgpu::PrimitiveState::default(),
        depth_stencil: None,
        multisample: wgpu::MultisampleState::default(),
        fragment: Some(wgpu::FragmentState {
            module: &module,
            entry_point: Some("fs_main"),
            compilation_options: wgpu::PipelineCompilationOptions::default(),
            targets: &[Some(wgpu::ColorTargetState {
                format: rs.target_format,
                blend,
                write_mask: wgpu::ColorWrites::ALL,
            })],
        }),
        multiview_mask: None,
        cache: None,
    })
}

/// A sampled 2D texture of `format` that `write_full` can fill.
pub fn texture(
    device: &wgpu::Device,
    label: &str,
    format: wgpu::TextureFormat,
    width: u32,
    height: u32,
) -> wgpu::Texture {
    device.create_texture(&wgpu::TextureDescriptor {
        label: Some(label),
        size: wgpu::Extent3d { width, height, depth_or_array_layers: 1 },
        mip_level_count: 1,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D2,
        format,
        usage: wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
        view_formats: &[],
    })
}

/// Replaces the whole texture (`width` x `height` texels of `bytes_per_texel` bytes).
pub fn write_full(
    queue: &wgpu::Queue,
    tex: &wgpu::Texture,
    bytes: &[u8],
    width: u32,
    height: u32,
    bytes_per_texel: u32,
) {
    queue.write_texture(
        wgpu::TexelCopyTextureInfo {
            texture: tex,
            mip_level: 0,
            origin: wgpu::Origin3d::ZERO,
            aspect: wgpu::TextureAspect::All,
        },
        bytes,
        wgpu::TexelCopyBufferLayout {
            offset: 0,
            bytes_per_row: Some(bytes_per_texel * width),
            rows_per_image: Some(height),
        },
        wgpu::Extent3d { width, height, depth_or_array_layers: 1 },
    );
}

/// Draws the pass over the callback's viewport.
fn draw(pass: &mut wgpu::RenderPass<'static>, pipeline: &wgpu::RenderPipeline, bind_group: &wgpu::BindGroup) {
    pass.set_pipeline(pipeline);
    pass.set_bind_group(0, bind_group, &[]);
    pass.draw(0..3, 0..1);
}

/// A pass's one texture (4 bytes per texel) and the bind group that shows it to the shader:
/// recreated when the size changes, rewritten only when the content's generation changes.
pub struct TextureSlot {
    label: &'static str,
    format: wgpu::TextureFormat,
    texture: Option<(wgpu::Texture, u32, u32)>,
    bind_group: Option<wgpu::BindGroup>,
    generation: u64,
}

impl TextureSlot {
    pub fn new(label: &'static str, format: wgpu::TextureFormat) -> Self {
        Self { label, format, texture: None, bind_group: None, generation: u64::MAX }
    }

    /// Makes the texture `width` x `height`; when it had to be (re)created, `bind` builds the
    /// bind group around its view and `true` is returned.
    pub fn ensure(
        &mut self,
        device: &wgpu::Device,
        width: u32,
        height: u32,
        bind: impl FnOnce(&wgpu::TextureView) -> wgpu::BindGroup,
    ) -> bool {
        if matches!(&self.texture, Some((_, w, h)) if *w == width && *h == height) {
            return false;
        }
        let tex = texture(device, self.label, self.format, width, height);
        self.bind_group = Some(bind(&tex.create_view(&wgpu::TextureViewDescriptor::default())));
        self.texture = Some((tex, width, height));
        self.generation = u64::MAX;
        true
    }

    /// Writes the content of `generation` unless it is already there (`bytes` runs only then).
    pub fn upload<B: AsRef<[u8]>>(&mut self, queue: &wgpu::Queue, generation: u64, bytes: impl FnOnce() -> B) {
        if self.generation == generation {
            return;
        }
        if let Some((tex, w, h)) = &self.texture {
            write_full(queue, tex, bytes().as_ref(), *w, *h, 4);
            self.generation = generation;
        }
    }

    /// Builds the bind group again around the current texture (another resource of the group
    /// changed); nothing without a texture.
    pub fn rebind(&mut self, bind: impl FnOnce(&wgpu::TextureView) -> wgpu::BindGroup) {
        if let Some((tex, _, _)) = &self.texture {
            self.bind_group = Some(bind(&tex.create_view(&wgpu::TextureViewDescriptor::default())));
        }
    }

    /// Nothing to draw until the next `ensure` (e.g. the frame's data was malformed).
    pub fn clear(&mut self) {
        self.texture = None;
        self.bind_group = None;
    }

    /// Draws the pass with this slot's bind group, if it has one.
    pub fn draw(&self, pass: &mut wgpu::RenderPass<'static>, pipeline: &wgpu::RenderPipeline) {
        if let Some(bg) = &self.bind_group {
            draw(pass, pipeline, bg);
        }
    }
}
