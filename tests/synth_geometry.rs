//! The six classes render with the geometry of docs/shapes-world.md: read the masks back and
//! measure them.

mod synth_util;

use ifa::synth::{Class, Fill, Pose, Scene, Shape, Track};
use synth_util::Mask;

const W: usize = 160;
const H: usize = 128;

/// Renders `shape` alone at the frame centre and returns its mask.
fn render_alone(shape: Shape, radius: f32, angle: f32) -> Mask {
    let pose = Pose { center: [80.3, 63.7], radius, angle, depth: 0 };
    let track = Track { shape, fill: Fill::solid([250.0, 40.0, 40.0]), poses: vec![Some(pose)], clone_group: None };
    let scene = Scene::still(W as u32, H as u32, 1, [20.0, 20.0, 90.0], vec![track]).expect("scene");
    let frame = scene.render(0);
    Mask::from_labels(&frame.labels, W, H, 1)
}

fn check_area(m: &Mask, shape: &Shape, r: f32) {
    let expected = f64::from(shape.area() * r * r);
    let got = m.area() as f64;
    assert!((got - expected).abs() / expected < 0.03, "{:?}: area {got} vs {expected}", shape.class());
    let half = m.half_extent();
    assert!((half - f64::from(r)).abs() < 1.5, "{:?}: half extent {half} vs radius {r}", shape.class());
}

#[test]
fn disc_is_round() {
    let r = 40.0;
    let m = render_alone(Shape::disc(), r, 0.3);
    check_area(&m, &Shape::disc(), r);
    let c = m.centroid().expect("visible");
    let reach = m.max_radius_from(c) + 0.5;
    let circularity = m.area() as f64 / (std::f64::consts::PI * reach * reach);
    assert!(circularity > 0.95, "circularity {circularity}");
    assert!(m.solidity() > 0.97);
}

#[test]
fn square_has_four_right_corners() {
    for angle in [0.0f32, 0.4, 1.1] {
        let r = 38.0;
        let m = render_alone(Shape::square(), r, angle);
        check_area(&m, &Shape::square(), r);
        // Area of a square over its half diagonal squared is 2; a disc would give pi.
        let c = m.centroid().expect("visible");
        let reach = m.max_radius_from(c) + 0.5;
        let ratio = m.area() as f64 / (reach * reach);
        assert!((ratio - 2.0).abs() < 0.12, "angle {angle}: {ratio}");
        // Pixel staircases on rotated edges keep a convex mask's solidity a little under 1.
        assert!(m.solidity() > 0.93, "solidity {}", m.solidity());
    }
}

#[test]
fn triangles_are_convex_with_wide_angles() {
    for (a, b) in [(60.0, 60.0), (30.0, 30.0), (30.0, 90.0), (45.0, 100.0)] {
        let shape = Shape::triangle(a, b).expect("valid angles");
        let r = 42.0;
        let m = render_alone(shape.clone(), r, 0.7);
        check_area(&m, &shape, r);
        assert!(m.solidity() > 0.88, "{a}/{b}: solidity {}", m.solidity());
        // The hull of a triangle mask has three dominant corners: its area is well below a disc's.
        let c = m.centroid().expect("visible");
        let reach = m.max_radius_from(c);
        assert!((m.area() as f64) < 0.75 * std::f64::consts::PI * reach * reach);
    }
}

#[test]
fn stars_are_five_pointed_and_concave() {
    for ratio in [0.38f32, 0.46, 0.55] {
        let shape = Shape::star(ratio);
        let r = 45.0;
        let m = render_alone(shape.clone(), r, 0.2);
        check_area(&m, &shape, r);
        let s = m.solidity();
        assert!(s < 0.85 && s > 0.4, "ratio {ratio}: solidity {s}");
        // Count the tips: runs of mask along a circle at 90% of the tip radius.
        let c = m.centroid().expect("visible");
        let tip = f64::from(r * shape.bound()) * 0.85;
        let mut runs = 0;
        let mut prev = false;
        let steps = 720;
        for i in 0..=steps {
            let a = i as f64 / steps as f64 * std::f64::consts::TAU;
            let (x, y) = (c[0] + tip * a.cos(), c[1] + tip * a.sin());
            let on = m.get(x as usize, y as usize);
            if i > 0 && on && !prev {
                runs += 1;
            }
            prev = on;
        }
        assert_eq!(runs, 5, "ratio {ratio}");
    }
}

#[test]
fn rings_have_a_real_hole() {
    for ratio in [0.45f32, 0.55, 0.65] {
        let shape = Shape::ring(ratio);
        let r = 40.0;
        let m = render_alone(shape.clone(), r, 0.0);
        check_area(&m, &shape, r);
        let c = m.centroid().expect("visible");
        let (cx, cy) = (c[0] as usize, c[1] as usize);
        let (hole, touches_border) = m.background_region(cx, cy);
        assert!(!touches_border, "the hole is enclosed");
        let expected = std::f64::consts::PI * f64::from(ratio * r).powi(2);
        assert!((hole as f64 - expected).abs() / expected < 0.06, "hole {hole} vs {expected}");
    }
}

#[test]
fn crosses_have_equal_bars_of_the_right_width() {
    for ratio in [0.28f32, 0.34, 0.40] {
        let shape = Shape::cross(ratio);
        let r = 44.0;
        let m = render_alone(shape.clone(), r, 0.0);
        check_area(&m, &shape, r);
        assert!(m.solidity() < 0.8);
        // Axis-aligned: the horizontal bar's length and the vertical bar's width, in pixels.
        let c = m.centroid().expect("visible");
        let row = c[1] as usize;
        let col = c[0] as usize;
        let len = (0..W).filter(|&x| m.get(x, row)).count() as f64;
        let width = (0..W).filter(|&x| m.get(x, (c[1] - len * 0.4) as usize)).count() as f64;
        let height = (0..H).filter(|&y| m.get(col, y)).count() as f64;
        assert!((len - height).abs() <= 1.0, "equal bars: {len} vs {height}");
        assert!((width / len - f64::from(ratio)).abs() < 0.03, "width ratio {} vs {ratio}", width / len);
    }
}

#[test]
fn rotation_keeps_the_shape() {
    let shape = Shape::star(0.5);
    let a = render_alone(shape.clone(), 40.0, 0.0).area() as f64;
    let b = render_alone(shape, 40.0, 0.9).area() as f64;
    assert!((a - b).abs() / a < 0.02);
    assert_eq!(Class::Star.id(), 4);
}
