// Instance masks coloured by track, drawn over the video inside an egui paint callback.
//
// Input: the stride-4 soft id map (R32Uint, cells_w x cells_h; ids of hidden tracks already
// zeroed; track id in the low 28 bits, foreground weight as 15 - 15 w in the top 4, as
// `assemble::edges` packs it), the letterbox scales, a palette, and the region of the video (in video pixels) that the
// callback's rectangle covers: only the bounding box of the visible masks is shaded, which matters
// on software rasterisers where every fragment costs CPU time. Each fragment maps its video position to input
// pixels and from there to fractional cell coordinates (cell (i, j) stands for input
// (4i + 1.5, 4j + 1.5)); its id is the one with the largest sum of bilinear weight x soft
// weight among the four surrounding cells (ties: the first tap), if that reaches 0.5, as
// `IdMapper::render` does on CPU.
//
// Output is premultiplied (colour * a, a) with blend One / OneMinusSrcAlpha, i.e.
//     out = video + (colour - video) * opacity
// in the 8-bit sRGB values egui draws with: `scene::blend_channel` is the same formula.

struct Params {
    region_origin: vec2<f32>,
    region_size: vec2<f32>,
    scale: vec2<f32>,
    cells: vec2<u32>,
    opacity: f32,
    palette_len: u32,
    _pad: vec2<u32>,
};

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var ids: texture_2d<u32>;
@group(0) @binding(2) var<uniform> palette: array<vec4<f32>, 20>;

// VsOut and vs_main: shaders/fullscreen.wgsl.

fn tap(p: f32, scale: f32, last: f32) -> vec3<f32> {
    let input = p * scale - 0.5;
    // model::maps::cell_coord (the head's cell geometry), as assemble/idmap.rs uses it.
    let c = clamp((input - 1.5) / 4.0, 0.0, last);
    let i0 = floor(c);
    return vec3<f32>(i0, min(i0 + 1.0, last), c - i0);
}

@fragment
fn fs_main(in: VsOut) -> @location(0) vec4<f32> {
    let p = params.region_origin + in.uv * params.region_size;
    let last = vec2<f32>(params.cells) - vec2<f32>(1.0, 1.0);
    let tx = tap(p.x, params.scale.x, last.x);
    let ty = tap(p.y, params.scale.y, last.y);
    let v = array<u32, 4>(
        textureLoad(ids, vec2<i32>(i32(tx.x), i32(ty.x)), 0).r,
        textureLoad(ids, vec2<i32>(i32(tx.y), i32(ty.x)), 0).r,
        textureLoad(ids, vec2<i32>(i32(tx.x), i32(ty.y)), 0).r,
        textureLoad(ids, vec2<i32>(i32(tx.y), i32(ty.y)), 0).r,
    );
    let bw = array<f32, 4>(
        (1.0 - ty.z) * (1.0 - tx.z),
        (1.0 - ty.z) * tx.z,
        ty.z * (1.0 - tx.z),
        ty.z * tx.z,
    );
    var l: array<u32, 4>;
    var w: array<f32, 4>;
    for (var k = 0; k < 4; k++) {
        l[k] = v[k] & 0x0FFFFFFFu;
        w[k] = bw[k] * f32(15u - (v[k] >> 28u)) / 15.0;
    }
    var best = 0u;
    var best_w = 0.0;
    for (var k = 0; k < 4; k++) {
        if (l[k] == 0u) {
            continue;
        }
        var sum = 0.0;
        for (var m = 0; m < 4; m++) {
            if (l[m] == l[k]) {
                sum += w[m];
            }
        }
        if (sum > best_w) {
            best_w = sum;
            best = l[k];
        }
    }
    if (best == 0u || best_w < 0.5) {
        discard;
    }
    let colour = palette[(best - 1u) % params.palette_len].rgb;
    let a = clamp(params.opacity, 0.0, 1.0);
    return vec4<f32>(colour * a, a);
}
