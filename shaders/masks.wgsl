// Instance masks coloured by track, drawn over the video inside an egui paint callback.
//
// Input: the soft id map at the head's stride (R32Uint, cells_w x cells_h; ids of hidden tracks already
// zeroed; track id in the low 28 bits, foreground weight as 15 - 15 w in the top 4, as
// `assemble::edges` packs it), the letterbox scales, a palette, and the region of the video (in video pixels) that the
// callback's rectangle covers: only the bounding box of the visible masks is shaded, which matters
// on software rasterisers where every fragment costs CPU time. Each fragment maps its video position to input
// pixels and from there to fractional cell coordinates (cell (i, j) stands for input
// (s i + (s - 1) / 2, s j + (s - 1) / 2) at stride s); its id is the one with the largest sum of bilinear weight x soft
// weight among the four surrounding cells (ties: the first tap), if that reaches 0.5, as
// `IdMapper::render` does on CPU. With `edge_sigma` > 0 the frame guides the edge as in
// `IdMapper::render_guided`: where the four cells differ, each bilinear weight is multiplied by
// exp(-|pixel - cell colour|^2 / (2 sigma^2)) (a cell's colour: the mean of the 3x3 frame pixels
// at its centre, in 8-bit units) and the four are renormalised.
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
    edge_sigma: f32,
    stride: f32,
    video_size: vec2<f32>,
    _pad2: vec2<f32>,
};

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var ids: texture_2d<u32>;
@group(0) @binding(2) var<uniform> palette: array<vec4<f32>, 20>;
@group(0) @binding(3) var guide: texture_2d<f32>;

// VsOut and vs_main: shaders/fullscreen.wgsl.

fn tap(p: f32, scale: f32, last: f32) -> vec3<f32> {
    let input = p * scale - 0.5;
    // model::maps::cell_coord (the head's cell geometry), as assemble/idmap.rs uses it.
    let s = params.stride;
    let c = clamp((input - 0.5 * (s - 1.0)) / s, 0.0, last);
    let i0 = floor(c);
    return vec3<f32>(i0, min(i0 + 1.0, last), c - i0);
}

// Video pixel at the centre of cell k (input s k + (s - 1) / 2): floor((s k + s / 2) / scale), clamped.
fn centre(k: f32, scale: f32, len: f32) -> i32 {
    let s = params.stride;
    return i32(clamp(floor((s * k + 0.5 * s) / scale), 0.0, len - 1.0));
}

// Mean colour (8-bit units) of the 3x3 frame pixels around (cx, cy), inside the frame.
fn cell_colour(cx: i32, cy: i32) -> vec3<f32> {
    let size = vec2<i32>(params.video_size);
    var acc = vec3<f32>(0.0, 0.0, 0.0);
    var n = 0.0;
    for (var dy = -1; dy <= 1; dy++) {
        for (var dx = -1; dx <= 1; dx++) {
            let q = vec2<i32>(cx + dx, cy + dy);
            if (q.x >= 0 && q.y >= 0 && q.x < size.x && q.y < size.y) {
                acc += textureLoad(guide, q, 0).rgb;
                n += 1.0;
            }
        }
    }
    return acc * 255.0 / max(n, 1.0);
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
    var bw = array<f32, 4>(
        (1.0 - ty.z) * (1.0 - tx.z),
        (1.0 - ty.z) * tx.z,
        ty.z * (1.0 - tx.z),
        ty.z * tx.z,
    );
    let uniform_taps = v[0] == v[1] && v[0] == v[2] && v[0] == v[3];
    if (params.edge_sigma > 0.0 && !uniform_taps) {
        let size = params.video_size;
        let px = vec2<i32>(clamp(floor(p), vec2<f32>(0.0, 0.0), size - vec2<f32>(1.0, 1.0)));
        let c = textureLoad(guide, px, 0).rgb * 255.0;
        let cx = array<i32, 4>(
            centre(tx.x, params.scale.x, size.x),
            centre(tx.y, params.scale.x, size.x),
            centre(tx.x, params.scale.x, size.x),
            centre(tx.y, params.scale.x, size.x),
        );
        let cy = array<i32, 4>(
            centre(ty.x, params.scale.y, size.y),
            centre(ty.x, params.scale.y, size.y),
            centre(ty.y, params.scale.y, size.y),
            centre(ty.y, params.scale.y, size.y),
        );
        var g: array<f32, 4>;
        var total = 0.0;
        let inv = 1.0 / (2.0 * params.edge_sigma * params.edge_sigma);
        for (var k = 0; k < 4; k++) {
            let d = c - cell_colour(cx[k], cy[k]);
            g[k] = bw[k] * exp(-dot(d, d) * inv);
            total += g[k];
        }
        // A pixel unlike all four cells keeps the plain weights.
        if (total > 1e-6) {
            for (var k = 0; k < 4; k++) {
                bw[k] = g[k] / total;
            }
        }
    }
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
