// The video frame, drawn inside an egui paint callback that covers the video rectangle.
//
// Bilinear filtering is done by hand from four textureLoads (texel centres at +0.5, clamped
// at the border) instead of a sampler: software rasterisers (lavapipe) take a generic, slow path
// for samplers whose state is unknown when the shader is compiled, and drawing the frame through
// egui's sampled image cost about five times as much per pixel as this (measured, see
// docs/viewer-performance.md). Values are the frame's 8-bit sRGB values, written as they are into
// a non-sRGB target (as egui does); for an sRGB target they are decoded first.

struct Params {
    video_size: vec2<f32>,
    srgb_target: u32,
    _pad: u32,
};

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var frame: texture_2d<f32>;

// VsOut and vs_main: shaders/fullscreen.wgsl.

fn linear_from_gamma(c: vec3<f32>) -> vec3<f32> {
    let lo = c / 12.92;
    let hi = pow((c + 0.055) / 1.055, vec3<f32>(2.4));
    return select(hi, lo, c < vec3<f32>(0.04045));
}

@fragment
fn fs_main(in: VsOut) -> @location(0) vec4<f32> {
    let size = vec2<i32>(params.video_size);
    let last = size - vec2<i32>(1, 1);
    let c = in.uv * params.video_size - 0.5;
    let f = fract(c);
    let i0 = vec2<i32>(floor(c));
    let a = clamp(i0, vec2<i32>(0, 0), last);
    let b = clamp(i0 + vec2<i32>(1, 1), vec2<i32>(0, 0), last);
    let top = mix(textureLoad(frame, a, 0), textureLoad(frame, vec2<i32>(b.x, a.y), 0), f.x);
    let bottom = mix(textureLoad(frame, vec2<i32>(a.x, b.y), 0), textureLoad(frame, b, 0), f.x);
    var rgb = mix(top, bottom, f.y).rgb;
    if (params.srgb_target != 0u) {
        rgb = linear_from_gamma(rgb);
    }
    return vec4<f32>(rgb, 1.0);
}
