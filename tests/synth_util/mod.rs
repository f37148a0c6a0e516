//! Mask measurements shared by the `synth_*` tests (included with `#[path]`; as a test target
//! of its own it holds no tests).
#![allow(dead_code)]

/// A binary mask, row-major.
pub struct Mask {
    pub w: usize,
    pub h: usize,
    pub on: Vec<bool>,
}

impl Mask {
    pub fn from_labels(labels: &[u8], w: usize, h: usize, label: u8) -> Self {
        Self { w, h, on: labels.iter().map(|&l| l == label).collect() }
    }

    pub fn get(&self, x: usize, y: usize) -> bool {
        self.on[y * self.w + x]
    }

    pub fn area(&self) -> usize {
        self.on.iter().filter(|&&b| b).count()
    }

    /// Centre of the set pixels' centres.
    pub fn centroid(&self) -> Option<[f64; 2]> {
        let (mut sx, mut sy, mut n) = (0.0, 0.0, 0.0);
        for y in 0..self.h {
            for x in 0..self.w {
                if self.get(x, y) {
                    sx += x as f64 + 0.5;
                    sy += y as f64 + 0.5;
                    n += 1.0;
                }
            }
        }
        (n > 0.0).then(|| [sx / n, sy / n])
    }

    /// Convex hull (counter-clockwise) of the set pixels' corners.
    pub fn hull(&self) -> Vec<[f64; 2]> {
        let mut pts = Vec::new();
        for y in 0..self.h {
            for x in 0..self.w {
                if self.get(x, y) {
                    for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                        pts.push([(x + dx) as f64, (y + dy) as f64]);
                    }
                }
            }
        }
        pts.sort_by(|a, b| a.partial_cmp(b).expect("finite"));
        pts.dedup();
        if pts.len() < 3 {
            return pts;
        }
        let cross =
            |o: [f64; 2], a: [f64; 2], b: [f64; 2]| (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
        let mut lower: Vec<[f64; 2]> = Vec::new();
        for &p in &pts {
            while lower.len() >= 2 && cross(lower[lower.len() - 2], lower[lower.len() - 1], p) <= 0.0 {
                lower.pop();
            }
            lower.push(p);
        }
        let mut upper: Vec<[f64; 2]> = Vec::new();
        for &p in pts.iter().rev() {
            while upper.len() >= 2 && cross(upper[upper.len() - 2], upper[upper.len() - 1], p) <= 0.0 {
                upper.pop();
            }
            upper.push(p);
        }
        lower.pop();
        upper.pop();
        lower.extend(upper);
        lower
    }

    /// Area of the set pixels over the area of their convex hull (1 for convex shapes).
    pub fn solidity(&self) -> f64 {
        let hull = self.hull();
        let n = hull.len();
        let mut a = 0.0;
        for i in 0..n {
            let (p, q) = (hull[i], hull[(i + 1) % n]);
            a += p[0] * q[1] - q[0] * p[1];
        }
        self.area() as f64 / (a.abs() / 2.0)
    }

    /// Half the largest distance between two set pixels' corners.
    pub fn half_extent(&self) -> f64 {
        let hull = self.hull();
        let mut best: f64 = 0.0;
        for a in &hull {
            for b in &hull {
                best = best.max(((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt());
            }
        }
        best / 2.0
    }

    /// Largest distance from `c` to a set pixel's centre.
    pub fn max_radius_from(&self, c: [f64; 2]) -> f64 {
        let mut best: f64 = 0.0;
        for y in 0..self.h {
            for x in 0..self.w {
                if self.get(x, y) {
                    best = best.max(((x as f64 + 0.5 - c[0]).powi(2) + (y as f64 + 0.5 - c[1]).powi(2)).sqrt());
                }
            }
        }
        best
    }

    /// The unset pixels 4-connected to (x, y), if (x, y) is unset; and whether they reach the
    /// image border.
    pub fn background_region(&self, x: usize, y: usize) -> (usize, bool) {
        if self.get(x, y) {
            return (0, false);
        }
        let mut seen = vec![false; self.w * self.h];
        let mut stack = vec![(x, y)];
        seen[y * self.w + x] = true;
        let (mut n, mut border) = (0, false);
        while let Some((x, y)) = stack.pop() {
            n += 1;
            border |= x == 0 || y == 0 || x + 1 == self.w || y + 1 == self.h;
            let mut push = |nx: usize, ny: usize| {
                let i = ny * self.w + nx;
                if !seen[i] && !self.on[i] {
                    seen[i] = true;
                    stack.push((nx, ny));
                }
            };
            if x > 0 {
                push(x - 1, y);
            }
            if y > 0 {
                push(x, y - 1);
            }
            if x + 1 < self.w {
                push(x + 1, y);
            }
            if y + 1 < self.h {
                push(x, y + 1);
            }
        }
        (n, border)
    }
}
