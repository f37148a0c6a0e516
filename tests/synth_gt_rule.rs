//! Ground truth follows the rule of docs/shapes-world.md: a pixel belongs to the topmost
//! instance covering at least half of it. And the picture blends by coverage.

use ifa::synth::{Fill, Pose, Scene, Shape, Track};
use rand::{Rng, SeedableRng};

fn track(shape: Shape, color: [f32; 3], pose: Pose) -> Track {
    Track { shape, fill: Fill::solid(color), poses: vec![Some(pose)], clone_group: None }
}

#[test]
fn axis_aligned_edges_split_pixels_at_half() {
    // A square with half side 10 (half diagonal 10 * sqrt 2) centred at (30.3, 25.8): its left
    // edge at x = 20.3 covers 70% of pixel column 20, its right edge at 40.3 covers 30% of
    // column 40; top edge at y = 15.8 covers 20% of row 15, bottom at 35.8 covers 80% of row 35.
    let pose = Pose { center: [30.3, 25.8], radius: 10.0 * std::f32::consts::SQRT_2, angle: 0.0, depth: 0 };
    let scene = Scene::still(64, 48, 1, [0.0; 3], vec![track(Shape::square(), [255.0; 3], pose)]).expect("scene");
    let f = scene.render(0);
    let at = |x: usize, y: usize| f.labels[y * 64 + x];
    assert_eq!(at(20, 25), 1, "70% covered");
    assert_eq!(at(19, 25), 0);
    assert_eq!(at(40, 25), 0, "30% covered");
    assert_eq!(at(39, 25), 1);
    assert_eq!(at(30, 15), 0, "20% covered");
    assert_eq!(at(30, 16), 1);
    assert_eq!(at(30, 35), 1, "80% covered");
    assert_eq!(at(30, 36), 0);
    // The picture blends by coverage: white on black, about 70% and 30% grey.
    let grey = |x: usize, y: usize| f32::from(f.image.pixel(x as u32, y as u32)[0]);
    assert!((grey(20, 25) - 0.75 * 255.0).abs() < 20.0, "{}", grey(20, 25));
    assert!((grey(40, 25) - 0.25 * 255.0).abs() < 20.0, "{}", grey(40, 25));
    assert_eq!(grey(30, 25), 255.0);
    assert_eq!(grey(5, 5), 0.0);
}

/// Fraction of pixel (x, y) inside the shape at `pose`, from 32 x 32 samples.
fn fine_coverage(shape: &Shape, pose: &Pose, x: usize, y: usize) -> f64 {
    let n = 32;
    let (s, c) = pose.angle.sin_cos();
    let mut inside = 0;
    for j in 0..n {
        for i in 0..n {
            let px = x as f32 + (i as f32 + 0.5) / n as f32 - pose.center[0];
            let py = y as f32 + (j as f32 + 0.5) / n as f32 - pose.center[1];
            let u = (px * c + py * s) / pose.radius;
            let v = (py * c - px * s) / pose.radius;
            inside += usize::from(shape.sdf([u, v]) < 0.0);
        }
    }
    inside as f64 / (n * n) as f64
}

#[test]
fn rotated_shapes_follow_the_half_coverage_rule() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(21);
    let (w, h) = (48usize, 40usize);
    let mut checked = 0;
    for class in ifa::synth::Class::ALL {
        for _ in 0..3 {
            let shape = Shape::random(class, &mut rng);
            let pose = Pose {
                center: [rng.random_range(18.0..30.0), rng.random_range(16.0..24.0)],
                radius: rng.random_range(6.0..14.0),
                angle: rng.random_range(0.0..std::f32::consts::TAU),
                depth: 0,
            };
            let scene = Scene::still(w as u32, h as u32, 1, [0.0; 3], vec![track(shape.clone(), [200.0; 3], pose)])
                .expect("scene");
            let f = scene.render(0);
            for y in 0..h {
                for x in 0..w {
                    let cov = fine_coverage(&shape, &pose, x, y);
                    // 4x4 sampling decides within 1/8 of the true coverage.
                    if (cov - 0.5).abs() > 0.13 {
                        let want = u8::from(cov >= 0.5);
                        assert_eq!(f.labels[y * w + x], want, "{class:?} pixel ({x},{y}) coverage {cov}");
                        checked += 1;
                    }
                }
            }
        }
    }
    assert!(checked > 10_000);
}

#[test]
fn topmost_instance_wins_and_depth_decides() {
    let a = Pose { center: [20.0, 20.0], radius: 12.0, angle: 0.0, depth: 1 };
    let b = Pose { center: [30.0, 20.0], radius: 12.0, angle: 0.0, depth: 0 };
    let render = |a: Pose, b: Pose| {
        let scene = Scene::still(
            50,
            40,
            1,
            [0.0; 3],
            vec![track(Shape::disc(), [255.0, 0.0, 0.0], a), track(Shape::disc(), [0.0, 255.0, 0.0], b)],
        )
        .expect("scene");
        scene.render(0)
    };
    let f = render(a, b);
    // (25, 20) is inside both: the deeper-numbered (nearer) one owns it and shows.
    assert_eq!(f.labels[20 * 50 + 25], 1);
    assert_eq!(f.image.pixel(25, 20), [255, 0, 0]);
    assert_eq!(f.labels[20 * 50 + 38], 2);
    let f = render(Pose { depth: 0, ..a }, Pose { depth: 1, ..b });
    assert_eq!(f.labels[20 * 50 + 25], 2);
    assert_eq!(f.image.pixel(25, 20), [0, 255, 0]);
}

#[test]
fn half_covered_pixel_goes_to_the_lower_instance_under_a_thin_edge() {
    // A square on top covers only 25% of column 20; the disc below covers it fully: the disc
    // owns it, because the top instance covers less than half.
    let top = Pose { center: [10.25, 20.0], radius: 10.0 * std::f32::consts::SQRT_2, angle: 0.0, depth: 1 };
    let below = Pose { center: [24.0, 20.0], radius: 12.0, angle: 0.0, depth: 0 };
    let scene = Scene::still(
        48,
        40,
        1,
        [0.0; 3],
        vec![track(Shape::square(), [255.0; 3], top), track(Shape::disc(), [90.0; 3], below)],
    )
    .expect("scene");
    let f = scene.render(0);
    // The square spans x in [0.25, 20.25]: pixel 20 is 25% square, the rest disc.
    assert_eq!(f.labels[20 * 48 + 20], 2);
    assert_eq!(f.labels[20 * 48 + 19], 1);
}

#[test]
fn a_ring_shows_what_lies_behind_through_its_hole() {
    let ring = Pose { center: [30.0, 30.0], radius: 20.0, angle: 0.0, depth: 1 };
    let disc = Pose { center: [30.0, 30.0], radius: 6.0, angle: 0.0, depth: 0 };
    let scene = Scene::still(
        60,
        60,
        1,
        [0.0, 0.0, 255.0],
        vec![track(Shape::ring(0.6), [255.0, 0.0, 0.0], ring), track(Shape::disc(), [0.0, 255.0, 0.0], disc)],
    )
    .expect("scene");
    let f = scene.render(0);
    assert_eq!(f.labels[30 * 60 + 30], 2, "the disc behind is visible in the hole");
    assert_eq!(f.image.pixel(30, 30), [0, 255, 0]);
    assert_eq!(f.labels[30 * 60 + 40], 0, "between disc and ring: background");
    assert_eq!(f.image.pixel(40, 30), [0, 0, 255]);
    assert_eq!(f.labels[30 * 60 + 46], 1);
}
