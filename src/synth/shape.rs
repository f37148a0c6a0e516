//! The six classes and their exact geometry.
//!
//! Every shape lives in a local frame centred on the origin where its outer radius (half its
//! largest extent, as the spec defines it) is exactly 1; an instance scales it by its radius in
//! pixels and rotates it.

use rand::Rng;

use super::sdf::{self, P2};

/// A class of the shapes world; the discriminant is the fixed category id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Class {
    Disc = 1,
    Square = 2,
    Triangle = 3,
    Star = 4,
    Ring = 5,
    Cross = 6,
}

impl Class {
    /// All classes in category-id order.
    pub const ALL: [Class; 6] = [Class::Disc, Class::Square, Class::Triangle, Class::Star, Class::Ring, Class::Cross];

    /// The category id (1..=6).
    pub fn id(self) -> u32 {
        self as u32
    }

    /// The category name in `instances.json`.
    pub fn name(self) -> &'static str {
        match self {
            Class::Disc => "disc",
            Class::Square => "square",
            Class::Triangle => "triangle",
            Class::Star => "star",
            Class::Ring => "ring",
            Class::Cross => "cross",
        }
    }

    /// The class with this category id.
    pub fn from_id(id: u32) -> Option<Class> {
        Class::ALL.into_iter().find(|c| c.id() == id)
    }
}

/// Spec ranges of the class parameters.
pub const STAR_INNER_RATIO: (f32, f32) = (0.38, 0.55);
pub const RING_INNER_RATIO: (f32, f32) = (0.45, 0.65);
pub const CROSS_WIDTH_RATIO: (f32, f32) = (0.28, 0.40);
pub const TRIANGLE_MIN_ANGLE_DEG: f32 = 30.0;

/// One shape in its local unit frame (outer radius 1).
#[derive(Clone, Debug, PartialEq)]
pub struct Shape {
    class: Class,
    /// Star inner/outer ratio, ring inner/outer ratio, cross width/length ratio; 0 otherwise.
    ratio: f32,
    /// Outline for the triangle and star; empty otherwise.
    polygon: Vec<P2>,
    /// Half sizes of the square, or of the cross's horizontal bar.
    half: P2,
    /// Largest distance from the origin to a point of the shape.
    bound: f32,
}

impl Shape {
    pub fn disc() -> Self {
        Self { class: Class::Disc, ratio: 0.0, polygon: Vec::new(), half: [0.0; 2], bound: 1.0 }
    }

    /// A square whose half diagonal is 1.
    pub fn square() -> Self {
        let h = std::f32::consts::FRAC_1_SQRT_2;
        Self { class: Class::Square, ratio: 0.0, polygon: Vec::new(), half: [h, h], bound: 1.0 }
    }

    /// A triangle with interior angles `a` and `b` (degrees; the third is 180 - a - b), centred
    /// on its centroid and scaled so that its longest side is 2. `None` unless every angle is
    /// at least 30 degrees.
    pub fn triangle(a_deg: f32, b_deg: f32) -> Option<Self> {
        let c_deg = 180.0 - a_deg - b_deg;
        let min = TRIANGLE_MIN_ANGLE_DEG - 1e-3;
        if !(a_deg >= min && b_deg >= min && c_deg >= min) {
            return None;
        }
        let (a, b) = (a_deg.to_radians(), b_deg.to_radians());
        // Side AB on the x axis; C from the two base angles (law of sines).
        let c = std::f32::consts::PI - a - b;
        let ab = 1.0;
        let ac = ab * b.sin() / c.sin();
        let pa = [0.0, 0.0];
        let pb = [ab, 0.0];
        let pc = [ac * a.cos(), ac * a.sin()];
        let pts = [pa, pb, pc];
        let longest = (0..3)
            .map(|i| {
                let (p, q) = (pts[i], pts[(i + 1) % 3]);
                ((p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2)).sqrt()
            })
            .fold(0.0f32, f32::max);
        let s = 2.0 / longest;
        let cx = (pa[0] + pb[0] + pc[0]) / 3.0;
        let cy = (pa[1] + pb[1] + pc[1]) / 3.0;
        let polygon: Vec<P2> = pts.iter().map(|p| [(p[0] - cx) * s, (p[1] - cy) * s]).collect();
        let bound = polygon.iter().map(|p| sdf::dot(*p, *p).sqrt()).fold(0.0f32, f32::max);
        Some(Self { class: Class::Triangle, ratio: 0.0, polygon, half: [0.0; 2], bound })
    }

    /// A five-pointed star with the given inner/outer radius ratio, scaled so that its largest
    /// extent (tip to tip) is 2.
    pub fn star(inner_ratio: f32) -> Self {
        use std::f32::consts::PI;
        // Tips 144 degrees apart are the farthest pair: 2 R sin 72°.
        let outer = 1.0 / (2.0 * PI / 5.0).sin();
        let inner = outer * inner_ratio;
        let polygon: Vec<P2> = (0..10)
            .map(|i| {
                let r = if i % 2 == 0 { outer } else { inner };
                let a = i as f32 * PI / 5.0 - PI / 2.0;
                [r * a.cos(), r * a.sin()]
            })
            .collect();
        Self { class: Class::Star, ratio: inner_ratio, polygon, half: [0.0; 2], bound: outer }
    }

    /// An annulus of outer radius 1.
    pub fn ring(inner_ratio: f32) -> Self {
        Self { class: Class::Ring, ratio: inner_ratio, polygon: Vec::new(), half: [0.0; 2], bound: 1.0 }
    }

    /// A plus sign whose bar width is `width_ratio` of its bar length, scaled so that the
    /// distance between opposite bar-end corners is 2.
    pub fn cross(width_ratio: f32) -> Self {
        let len = 2.0 / (1.0 + width_ratio * width_ratio).sqrt();
        Self {
            class: Class::Cross,
            ratio: width_ratio,
            polygon: Vec::new(),
            half: [len / 2.0, len * width_ratio / 2.0],
            bound: 1.0,
        }
    }

    /// A random shape of `class` with parameters drawn from the spec's ranges.
    pub fn random(class: Class, rng: &mut impl Rng) -> Self {
        match class {
            Class::Disc => Self::disc(),
            Class::Square => Self::square(),
            Class::Triangle => loop {
                let a = rng.random_range(TRIANGLE_MIN_ANGLE_DEG..120.0);
                let b = rng.random_range(TRIANGLE_MIN_ANGLE_DEG..120.0);
                if let Some(t) = Self::triangle(a, b) {
                    break t;
                }
            },
            Class::Star => Self::star(rng.random_range(STAR_INNER_RATIO.0..=STAR_INNER_RATIO.1)),
            Class::Ring => Self::ring(rng.random_range(RING_INNER_RATIO.0..=RING_INNER_RATIO.1)),
            Class::Cross => Self::cross(rng.random_range(CROSS_WIDTH_RATIO.0..=CROSS_WIDTH_RATIO.1)),
        }
    }

    pub fn class(&self) -> Class {
        self.class
    }

    /// Star and ring inner/outer ratio, cross bar width/length; 0 for the other classes.
    pub fn ratio(&self) -> f32 {
        self.ratio
    }

    /// Triangle or star outline in local units; empty for the other classes.
    pub fn polygon(&self) -> &[P2] {
        &self.polygon
    }

    /// Largest distance from the centre to a point of the shape (>= 1).
    pub fn bound(&self) -> f32 {
        self.bound
    }

    /// Radius of the largest disc around the centre that lies inside the shape (0 for the ring).
    pub fn inner_bound(&self) -> f32 {
        match self.class {
            Class::Disc => 1.0,
            Class::Ring => 0.0,
            _ => (-self.sdf([0.0, 0.0])).max(0.0),
        }
    }

    /// Area in local units (outer radius 1).
    pub fn area(&self) -> f32 {
        use std::f32::consts::PI;
        match self.class {
            Class::Disc => PI,
            Class::Square => 4.0 * self.half[0] * self.half[1],
            Class::Triangle | Class::Star => sdf::polygon_area(&self.polygon),
            Class::Ring => PI * (1.0 - self.ratio * self.ratio),
            Class::Cross => {
                let (l, w) = (2.0 * self.half[0], 2.0 * self.half[1]);
                2.0 * l * w - w * w
            }
        }
    }

    /// Signed distance in local units: negative inside. Exact, except inside the cross where it
    /// never overstates the distance to the border (enough to classify whole pixels).
    #[inline]
    pub fn sdf(&self, p: P2) -> f32 {
        match self.class {
            Class::Disc => sdf::dot(p, p).sqrt() - 1.0,
            Class::Square => sdf::boxed(p, self.half),
            Class::Triangle | Class::Star => sdf::polygon(p, &self.polygon),
            Class::Ring => {
                let r = sdf::dot(p, p).sqrt();
                (r - 1.0).max(self.ratio - r)
            }
            Class::Cross => sdf::boxed(p, self.half).min(sdf::boxed(p, [self.half[1], self.half[0]])),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    /// Half the largest extent, measured by sampling the outline densely.
    fn half_extent(s: &Shape) -> f32 {
        let mut pts = Vec::new();
        let n = 400;
        for i in 0..n {
            for j in 0..n {
                let p = [i as f32 / n as f32 * 2.4 - 1.2, j as f32 / n as f32 * 2.4 - 1.2];
                if s.sdf(p) <= 0.0 && s.sdf(p) > -0.02 {
                    pts.push(p);
                }
            }
        }
        let mut best: f32 = 0.0;
        for a in pts.iter().step_by(3) {
            for b in pts.iter().step_by(3) {
                best = best.max(((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt());
            }
        }
        best / 2.0
    }

    #[test]
    fn every_shape_has_outer_radius_one() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        for class in Class::ALL {
            let s = Shape::random(class, &mut rng);
            let h = half_extent(&s);
            assert!((h - 1.0).abs() < 0.03, "{class:?}: half extent {h}");
            assert!(s.bound() >= 1.0 - 1e-4 && s.bound() < 1.3);
        }
    }

    #[test]
    fn areas_match_sampling() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2);
        for class in Class::ALL {
            let s = Shape::random(class, &mut rng);
            let n = 600;
            let cell = 2.4 / n as f32;
            let mut inside = 0usize;
            for i in 0..n {
                for j in 0..n {
                    let p = [(i as f32 + 0.5) * cell - 1.2, (j as f32 + 0.5) * cell - 1.2];
                    inside += usize::from(s.sdf(p) < 0.0);
                }
            }
            let a = inside as f32 * cell * cell;
            assert!((a - s.area()).abs() / s.area() < 0.01, "{class:?}: {a} vs {}", s.area());
        }
    }

    #[test]
    fn triangles_respect_minimum_angle() {
        assert!(Shape::triangle(29.0, 60.0).is_none());
        assert!(Shape::triangle(60.0, 95.0).is_none());
        assert!(Shape::triangle(30.0, 30.0).is_some());
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        for _ in 0..200 {
            let t = Shape::random(Class::Triangle, &mut rng);
            let v = t.polygon();
            for i in 0..3 {
                let (p, q, r) = (v[i], v[(i + 1) % 3], v[(i + 2) % 3]);
                let a = [q[0] - p[0], q[1] - p[1]];
                let b = [r[0] - p[0], r[1] - p[1]];
                let cos = sdf::dot(a, b) / (sdf::dot(a, a) * sdf::dot(b, b)).sqrt();
                assert!(cos.acos().to_degrees() >= 29.99);
            }
        }
    }

    #[test]
    fn ring_has_a_hole_and_cross_is_concave() {
        let r = Shape::ring(0.5);
        assert!(r.sdf([0.0, 0.0]) > 0.0);
        assert!(r.sdf([0.75, 0.0]) < 0.0);
        let c = Shape::cross(0.3);
        assert!(c.sdf([0.6, 0.6]) > 0.0);
        assert!(c.sdf([0.9, 0.0]) < 0.0);
        assert_eq!(Class::from_id(4), Some(Class::Star));
        assert_eq!(Class::from_id(7), None);
    }
}
