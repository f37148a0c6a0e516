//! Planning a random video of a preset: camera, background, distractors, and the path, size,
//! rotation and layer of every instance in every frame.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::SynthConfig;
use super::backdrop::Backdrop;
use super::camera::CameraPath;
use super::color::Rgb;
use super::distractor::{Distractor, WorldMap};
use super::fill::Fill;
use super::preset::PresetParams;
use super::scene::{Pose, Scene, Track};
use super::sdf::P2;
use super::shape::{Class, Shape};
use super::style::Styles;

/// Size range of the outer radius, fraction of the short side (spec: 3% to 25%), with a small
/// margin so pixel rounding never takes a mask outside it.
pub const RADIUS_RANGE: (f32, f32) = (0.032, 0.245);
/// Largest own size change per frame; with the camera's zoom it stays under the spec's 2%.
pub const MAX_GROWTH: f32 = 0.012;

/// The random generator of video `index`: a ChaCha stream of its own under the data set seed,
/// so videos do not depend on each other or on the order they are rendered in.
pub fn video_rng(seed: u64, index: usize) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(index as u64);
    rng
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// Reflects off the frame border.
    Bounce,
    Straight,
    /// Heading turns gently.
    Curve,
}

/// How one instance moves (world units: screen pixels at frame 0).
#[derive(Clone, Copy, Debug)]
struct Motion {
    start_frame: usize,
    start: P2,
    velocity: P2,
    mode: Mode,
    radius: f32,
    growth_max: f32,
    angle: f32,
    spin: f32,
}

/// A simulated path: per frame, the screen pose (without depth) and the world position.
struct Path {
    poses: Vec<Option<(P2, f32, f32)>>,
    world: Vec<Option<P2>>,
}

struct Planner<'a> {
    rng: ChaCha8Rng,
    cam: &'a CameraPath,
    w: f32,
    h: f32,
    short: f32,
    long: f32,
    len: usize,
    /// Largest own speed (world px per frame) that keeps on-screen speed within the preset.
    own_max: f32,
    r_min: f32,
    r_max: f32,
    spin_max: f32,
    background: Rgb,
    late_chance: f32,
    styles: Styles,
}

impl Planner<'_> {
    fn radius(&mut self) -> f32 {
        let u: f32 = self.rng.random();
        self.r_min + (self.r_max - self.r_min) * u.powf(1.6)
    }

    fn spin(&mut self) -> f32 {
        self.rng.random_range(-self.spin_max..=self.spin_max)
    }

    fn heading_velocity(&mut self, speed: f32) -> P2 {
        let a = self.rng.random_range(0.0..std::f32::consts::TAU);
        [speed * a.cos(), speed * a.sin()]
    }

    /// A speed in [lo, hi] fractions of the allowed own speed, at least `floor` pixels when
    /// the preset allows it.
    fn speed(&mut self, lo: f32, hi: f32, floor: f32) -> f32 {
        let s = self.own_max * self.rng.random_range(lo..=hi);
        s.max(floor.min(self.own_max))
    }

    fn simulate(&mut self, m: &Motion, bound: f32) -> Path {
        let mut poses = vec![None; self.len];
        let mut world = vec![None; self.len];
        let (mut p, mut v, mut r, mut a) = (m.start, m.velocity, m.radius, m.angle);
        let mut g = 0.0f32;
        let mut turn = if m.mode == Mode::Curve { self.rng.random_range(-0.03..0.03f32) } else { 0.0 };
        let mut entered = false;
        for t in m.start_frame..self.len {
            let z = self.cam.pose(t).zoom;
            let s = self.cam.to_screen(t, p);
            let rs = r * z;
            let rb = rs * bound;
            let overlaps = s[0] + rb > 0.0 && s[0] - rb < self.w && s[1] + rb > 0.0 && s[1] - rb < self.h;
            if overlaps {
                entered = true;
            } else if entered {
                // It has left the frame: it never comes back.
                break;
            }
            poses[t] = Some((s, rs, a));
            world[t] = Some(p);
            if m.mode == Mode::Bounce && t + 1 < self.len {
                v = self.bounce(t, p, s, rb, v);
            }
            if m.mode == Mode::Curve {
                if self.rng.random_bool(0.02) {
                    turn = -turn;
                }
                let (sn, cs) = turn.sin_cos();
                v = [v[0] * cs - v[1] * sn, v[0] * sn + v[1] * cs];
            }
            p = [p[0] + v[0], p[1] + v[1]];
            if m.growth_max > 0.0 {
                g = (g + self.rng.random_range(-0.3..0.3) * m.growth_max).clamp(-m.growth_max, m.growth_max);
            }
            let next = r * (1.0 + g);
            if next < self.r_min || next > self.r_max {
                g = -g;
            }
            r = next.clamp(self.r_min, self.r_max);
            a += m.spin;
        }
        Path { poses, world }
    }

    /// Reflects the velocity at a frame border so that the on-screen motion (own motion plus
    /// the camera's) points back into the picture, as far as the allowed speed permits.
    fn bounce(&self, t: usize, p: P2, s: P2, rb: f32, mut v: P2) -> P2 {
        let z = self.cam.pose(t + 1).zoom;
        let carried = self.cam.to_screen(t + 1, p);
        let flow = [carried[0] - s[0], carried[1] - s[1]];
        let limits = [(s[0] - rb < 0.0, s[0] + rb > self.w), (s[1] - rb < 0.0, s[1] + rb > self.h)];
        let mut changed = false;
        for (k, &(low, high)) in limits.iter().enumerate() {
            // Screen velocity along k is z * v[k] + flow[k]; it must be >= 0 at the low border.
            if low && z * v[k] + flow[k] < 0.0 {
                v[k] = v[k].abs().max(-flow[k] / z + 0.25);
                changed = true;
            }
            if high && z * v[k] + flow[k] > 0.0 {
                v[k] = (-v[k].abs()).min(-flow[k] / z - 0.25);
                changed = true;
            }
        }
        let speed = (v[0] * v[0] + v[1] * v[1]).sqrt();
        if changed && speed > self.own_max && speed > 0.0 {
            let f = self.own_max / speed;
            v = [v[0] * f, v[1] * f];
        }
        v
    }

    /// A start inside the frame at frame 0, in world units.
    fn start_inside(&mut self, margin: f32) -> P2 {
        let s = [
            self.rng.random_range(margin * self.w..=(1.0 - margin) * self.w),
            self.rng.random_range(margin * self.h..=(1.0 - margin) * self.h),
        ];
        self.cam.to_world(0, s)
    }

    /// A path of its own. An `anchor` starts in the picture and bounces, so that a video is
    /// not left empty once the others have gone.
    fn free_motion(&mut self, shape: &Shape, anchor: bool) -> Motion {
        let radius = self.radius();
        let growth_max = self.rng.random_range(0.0..MAX_GROWTH);
        let (angle, spin) = (self.rng.random_range(0.0..std::f32::consts::TAU), self.spin());
        let mode = match self.rng.random_range(0..100u32) {
            _ if anchor => Mode::Bounce,
            0..55 => Mode::Bounce,
            55..78 => Mode::Straight,
            _ => Mode::Curve,
        };
        let late = !anchor && self.len >= 8 && self.own_max > 0.5 && self.rng.random_bool(f64::from(self.late_chance));
        if late {
            // Enter across a border, later in the video.
            // Spread over the video so long videos keep getting newcomers.
            let start_frame = self.rng.random_range(1..=(self.len * 85 / 100).max(1));
            let z = self.cam.pose(start_frame).zoom;
            let rb = radius * z * shape.bound() + 1.0;
            let (point, inward) = match self.rng.random_range(0..4u32) {
                0 => ([-rb, self.rng.random_range(0.0..self.h)], 0.0f32),
                1 => ([self.w + rb, self.rng.random_range(0.0..self.h)], std::f32::consts::PI),
                2 => ([self.rng.random_range(0.0..self.w), -rb], std::f32::consts::FRAC_PI_2),
                _ => ([self.rng.random_range(0.0..self.w), self.h + rb], -std::f32::consts::FRAC_PI_2),
            };
            let heading = inward + self.rng.random_range(-0.6..0.6f32);
            let speed = self.speed(0.3, 1.0, 0.006 * self.long);
            return Motion {
                start_frame,
                start: self.cam.to_world(start_frame, point),
                velocity: [speed * heading.cos(), speed * heading.sin()],
                mode: if mode == Mode::Curve { Mode::Curve } else { Mode::Straight },
                radius,
                growth_max,
                angle,
                spin,
            };
        }
        let speed = if self.rng.random_bool(0.1) { 0.0 } else { self.speed(0.0, 1.0, 0.0) };
        let velocity = self.heading_velocity(speed);
        Motion { start_frame: 0, start: self.start_inside(0.05), velocity, mode, radius, growth_max, angle, spin }
    }

    /// A straight path through world point `target` at frame `when`.
    fn aimed_motion(&mut self, target: P2, when: usize, radius: f32, speed: f32) -> Motion {
        let velocity = self.heading_velocity(speed);
        let start = [target[0] - velocity[0] * when as f32, target[1] - velocity[1] * when as f32];
        Motion {
            start_frame: 0,
            start,
            velocity,
            mode: Mode::Straight,
            radius,
            growth_max: self.rng.random_range(0.0..MAX_GROWTH * 0.5),
            angle: self.rng.random_range(0.0..std::f32::consts::TAU),
            spin: self.spin(),
        }
    }
}

/// What the planner is making, before depths are assigned.
struct Planned {
    shape: Shape,
    fill: Fill,
    path: Path,
    clone_group: Option<u32>,
}

/// Plans video `index` of the data set described by `cfg`.
pub fn plan_video(cfg: &SynthConfig, index: usize) -> Scene {
    let mut rng = video_rng(cfg.seed, index);
    let params = cfg.preset.params();
    let (w, h) = (cfg.width as f32, cfg.height as f32);
    let (short, long) = (w.min(h), w.max(h));
    let fps = cfg.fps.max(1) as usize;
    let len = cfg.frames.unwrap_or_else(|| rng.random_range(3 * fps..=8 * fps)).max(1);

    let (cam, backdrop, moving) = plan_scenery(&mut rng, cfg, &params, len);
    let background = backdrop.mean();

    let zmax = cam.max_zoom();
    let own_max = ((params.max_speed * long - cam.max_flow()) / zmax).max(0.0);
    let mut p = Planner {
        rng,
        cam: &cam,
        w,
        h,
        short,
        long,
        len,
        own_max,
        r_min: RADIUS_RANGE.0 * short,
        r_max: RADIUS_RANGE.1 * short / zmax,
        spin_max: params.max_spin_deg.to_radians(),
        background,
        late_chance: params.late_chance,
        styles: cfg.styles,
    };

    let n = p.rng.random_range(params.instances.0..=params.instances.1);
    let mut planned: Vec<Planned> = Vec::with_capacity(n);
    // Pairs (occluder, hidden) whose order must not be swapped.
    let mut hide_pairs: Vec<(usize, usize)> = Vec::new();

    // Planned full hiding: a small instance passes right behind a big, slow one.
    let events = if n >= 2 && len >= 12 && p.rng.random_bool(f64::from(params.hide_chance)) {
        1 + usize::from(n >= 8 && p.rng.random_bool(0.5))
    } else {
        0
    };
    for _ in 0..events {
        if let Some((occ, hid)) = plan_hiding(&mut p) {
            hide_pairs.push((planned.len(), planned.len() + 1));
            planned.push(occ);
            planned.push(hid);
        }
    }

    // Clones: one class, one shape, one fill.
    let mut group = 0u32;
    if n.saturating_sub(planned.len()) >= 2 && p.rng.random_bool(f64::from(params.clone_chance)) {
        let groups = if n - planned.len() >= 5 && p.rng.random_bool(0.4) { 2 } else { 1 };
        for _ in 0..groups {
            let left = n - planned.len();
            if left < 2 {
                break;
            }
            let size = p.rng.random_range(2..=left.min(3));
            let cross = params.clones_cross || p.rng.random_bool(0.3);
            planned.extend(plan_clones(&mut p, size, group, cross));
            group += 1;
        }
    }

    plan_free_instances(&mut p, &params, &mut planned, n);
    let depth = plan_layers(&mut p, &params, planned.len(), &hide_pairs);
    let tracks: Vec<Track> = planned
        .into_iter()
        .zip(depth)
        .map(|(pl, d)| Track {
            poses: pl
                .path
                .poses
                .iter()
                .enumerate()
                .map(|(t, q)| q.map(|(center, radius, angle)| Pose { center, radius, angle, depth: d[t] }))
                .collect(),
            shape: pl.shape,
            fill: pl.fill,
            clone_group: pl.clone_group,
        })
        .collect();
    Scene { width: cfg.width, height: cfg.height, camera: cam, backdrop, distractors: moving, tracks }
}

/// The camera path, the backdrop (with the still distractors painted in) and the moving
/// distractors of one video.
fn plan_scenery(
    rng: &mut ChaCha8Rng,
    cfg: &SynthConfig,
    params: &PresetParams,
    len: usize,
) -> (CameraPath, Backdrop, Vec<Distractor>) {
    let (w, h) = (cfg.width as f32, cfg.height as f32);
    let (short, long) = (w.min(h), w.max(h));
    let pan = rng.random_bool(f64::from(params.pan_chance));
    let zoom = rng.random_bool(f64::from(params.zoom_chance));
    let cam = if pan || zoom {
        CameraPath::random(rng, cfg.width, cfg.height, len, pan, zoom)
    } else {
        CameraPath::still(cfg.width, cfg.height, len)
    };
    let extent = cam.world_extent();
    let mut backdrop = Backdrop::random(rng, extent, short, cfg.styles);
    let background = backdrop.mean();
    let mut moving = Vec::new();
    let n_distractors = rng.random_range(params.distractors.0..=params.distractors.1);
    for _ in 0..n_distractors {
        let moves = rng.random_bool(0.3);
        let d = Distractor::random(rng, extent, short, long, moves, background, cfg.styles);
        if d.is_moving() {
            moving.push(d);
        } else {
            let ([x0, y0], bw, bh) = backdrop.rect();
            d.draw(0, backdrop.pixels_mut(), bw, bh, WorldMap { inv_scale: 1.0, shift: [x0, y0] });
        }
    }
    (cam, backdrop, moving)
}

/// The instances beyond the planned hidings and clones, up to `n`: the first one anchored in
/// the picture, some aimed across the path of one planned before.
fn plan_free_instances(p: &mut Planner<'_>, params: &PresetParams, planned: &mut Vec<Planned>, n: usize) {
    let (w, h, len, long) = (p.w, p.h, p.len, p.long);
    let mut anchored = false;
    while planned.len() < n {
        let anchor = !anchored;
        anchored = true;
        let class = Class::ALL[p.rng.random_range(0..Class::ALL.len())];
        let shape = Shape::random(class, &mut p.rng);
        let fill = Fill::random(&mut p.rng, p.background, true, p.styles);
        let aim = !anchor && !planned.is_empty() && p.rng.random_bool(f64::from(params.aim_chance));
        let motion = if aim {
            // Cross the path of an instance planned before.
            let k = p.rng.random_range(0..planned.len());
            let times: Vec<usize> = (1..len).filter(|&t| planned[k].path.world[t].is_some()).collect();
            if times.is_empty() {
                p.free_motion(&shape, false)
            } else {
                let when = times[p.rng.random_range(0..times.len())];
                let target = planned[k].path.world[when].unwrap_or([w / 2.0, h / 2.0]);
                let (radius, speed) = (p.radius(), p.speed(0.3, 1.0, 0.004 * long));
                let mut m = p.aimed_motion(target, when, radius, speed);
                // Half of them stay in the picture after crossing.
                if p.rng.random_bool(0.5) {
                    m.mode = Mode::Bounce;
                }
                m
            }
        } else {
            p.free_motion(&shape, anchor)
        };
        let path = p.simulate(&motion, shape.bound());
        planned.push(Planned { shape, fill, path, clone_group: None });
    }
}

/// Per instance and frame, its layer: a random order, occluders above what they hide, and a
/// few swaps between instances outside the hidings.
fn plan_layers(
    p: &mut Planner<'_>,
    params: &PresetParams,
    count: usize,
    hide_pairs: &[(usize, usize)],
) -> Vec<Vec<u32>> {
    let len = p.len;
    // Layers: a random order, occluders above what they hide, and a few swaps.
    let mut rank: Vec<u32> = (0..count as u32).collect();
    for i in (1..rank.len()).rev() {
        let j = p.rng.random_range(0..=i);
        rank.swap(i, j);
    }
    for &(occ, hid) in hide_pairs {
        if rank[occ] < rank[hid] {
            rank.swap(occ, hid);
        }
    }
    let mut depth: Vec<Vec<u32>> = rank.iter().map(|&r| vec![r; len]).collect();
    let free: Vec<usize> = (0..count).filter(|i| !hide_pairs.iter().any(|&(a, b)| a == *i || b == *i)).collect();
    if free.len() >= 2 && len >= 2 && p.rng.random_bool(f64::from(params.swap_chance)) {
        for _ in 0..p.rng.random_range(1..=2) {
            let at = p.rng.random_range(1..len);
            let a = free[p.rng.random_range(0..free.len())];
            let b = free[p.rng.random_range(0..free.len())];
            if a != b {
                let (lo, hi) = (a.min(b), a.max(b));
                let (left, right) = depth.split_at_mut(hi);
                left[lo][at..].swap_with_slice(&mut right[0][at..]);
            }
        }
    }

    depth
}

/// A big, slow disc or square and a small instance aimed right through its centre.
fn plan_hiding(p: &mut Planner<'_>) -> Option<(Planned, Planned)> {
    let class = if p.rng.random_bool(0.5) { Class::Disc } else { Class::Square };
    let shape = Shape::random(class, &mut p.rng);
    let fill = Fill::random(&mut p.rng, p.background, true, p.styles);
    let radius = (p.rng.random_range(0.17..0.23) * p.short / p.cam.max_zoom()).clamp(p.r_min, p.r_max);
    let speed = p.speed(0.0, 1.0, 0.0).min(0.004 * p.long);
    let motion = Motion {
        start_frame: 0,
        start: p.start_inside(0.3),
        velocity: p.heading_velocity(speed),
        mode: Mode::Bounce,
        radius,
        growth_max: 0.002,
        angle: p.rng.random_range(0.0..std::f32::consts::TAU),
        spin: p.spin(),
    };
    let path = p.simulate(&motion, shape.bound());
    let when = p.rng.random_range(p.len * 3 / 10..=p.len * 6 / 10);
    let target = path.world[when]?;
    let (_, r_screen, _) = path.poses[when]?;
    let r_occ = r_screen / p.cam.pose(when).zoom;

    let hidden_class = Class::ALL[p.rng.random_range(0..Class::ALL.len())];
    let hidden_shape = Shape::random(hidden_class, &mut p.rng);
    // Its whole bounding circle (even grown a little) fits in the occluder's inner disc.
    let r_hi = 0.55 * r_occ * shape.inner_bound() / hidden_shape.bound();
    if r_hi < p.r_min {
        return None;
    }
    let hidden_radius = p.rng.random_range(p.r_min..=r_hi);
    let hidden_speed = p.speed(0.2, 0.6, 0.008 * p.long).min(0.02 * p.long);
    let mut m = p.aimed_motion(target, when, hidden_radius, hidden_speed);
    m.growth_max = m.growth_max.min(0.003);
    let hidden_path = p.simulate(&m, hidden_shape.bound());
    let hidden_fill = Fill::random(&mut p.rng, p.background, true, p.styles);
    Some((
        Planned { shape, fill, path, clone_group: None },
        Planned { shape: hidden_shape, fill: hidden_fill, path: hidden_path, clone_group: None },
    ))
}

/// `size` identical instances; when `cross`, all pass one point at one frame from different
/// directions.
fn plan_clones(p: &mut Planner<'_>, size: usize, group: u32, cross: bool) -> Vec<Planned> {
    let class = Class::ALL[p.rng.random_range(0..Class::ALL.len())];
    let shape = Shape::random(class, &mut p.rng);
    let fill = Fill::random(&mut p.rng, p.background, true, p.styles);
    let base = p.radius();
    let group_speed = p.speed(0.4, 1.0, 0.005 * p.long);
    // Meet early enough that they start near the picture, not far outside it.
    let reach = if group_speed > 0.0 { (0.45 * p.long / group_speed) as usize } else { p.len };
    let when = p.rng.random_range(p.len / 4..=(p.len * 3 / 4).max(p.len / 4)).min(reach.max(1));
    let meet_screen = [p.rng.random_range(0.25..0.75) * p.w, p.rng.random_range(0.25..0.75) * p.h];
    let meet = p.cam.to_world(when, meet_screen);
    let first_heading = p.rng.random_range(0.0..std::f32::consts::TAU);
    (0..size)
        .map(|k| {
            let radius = (base * p.rng.random_range(0.92..1.08)).clamp(p.r_min, p.r_max);
            let motion = if cross {
                let speed = group_speed * p.rng.random_range(0.8..=1.0);
                let heading =
                    first_heading + k as f32 * std::f32::consts::TAU / size as f32 + p.rng.random_range(-0.4..0.4f32);
                let velocity = [speed * heading.cos(), speed * heading.sin()];
                Motion {
                    start_frame: 0,
                    start: [meet[0] - velocity[0] * when as f32, meet[1] - velocity[1] * when as f32],
                    velocity,
                    mode: Mode::Straight,
                    radius,
                    growth_max: p.rng.random_range(0.0..MAX_GROWTH * 0.5),
                    angle: p.rng.random_range(0.0..std::f32::consts::TAU),
                    spin: p.spin(),
                }
            } else {
                let mut m = p.free_motion(&shape, false);
                m.radius = radius;
                m
            };
            let path = p.simulate(&motion, shape.bound());
            Planned { shape: shape.clone(), fill: fill.clone(), path, clone_group: Some(group) }
        })
        .collect()
}
