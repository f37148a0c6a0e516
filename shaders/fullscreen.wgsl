// The vertex stage shared by the viewer's passes (prepended to each pass's shader by
// `present/gpu_pass.rs`): one triangle that covers the viewport, i.e. the paint callback's
// rectangle, with uv running from (0, 0) at its top-left to (1, 1) at its bottom-right.

struct VsOut {
    @builtin(position) pos: vec4<f32>,
    @location(0) uv: vec2<f32>,
};

@vertex
fn vs_main(@builtin(vertex_index) i: u32) -> VsOut {
    let xy = vec2<f32>(f32((i << 1u) & 2u), f32(i & 2u));
    var out: VsOut;
    out.pos = vec4<f32>(xy.x * 2.0 - 1.0, 1.0 - xy.y * 2.0, 0.0, 1.0);
    out.uv = xy;
    return out;
}
