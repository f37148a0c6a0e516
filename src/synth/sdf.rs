//! Signed distances (negative inside) to the primitives the shapes are built from.

pub type P2 = [f32; 2];

#[inline]
pub fn dot(a: P2, b: P2) -> f32 {
    a[0] * b[0] + a[1] * b[1]
}

/// Exact signed distance to an axis-aligned box centred at the origin with half sizes `b`.
#[inline]
pub fn boxed(p: P2, b: P2) -> f32 {
    let qx = p[0].abs() - b[0];
    let qy = p[1].abs() - b[1];
    let ox = qx.max(0.0);
    let oy = qy.max(0.0);
    (ox * ox + oy * oy).sqrt() + qx.max(qy).min(0.0)
}

/// Exact signed distance to a simple polygon (any winding, convex or not).
pub fn polygon(p: P2, v: &[P2]) -> f32 {
    let n = v.len();
    if n == 0 {
        return f32::INFINITY;
    }
    let d0 = [p[0] - v[0][0], p[1] - v[0][1]];
    let mut d = dot(d0, d0);
    let mut inside = false;
    let mut j = n - 1;
    for i in 0..n {
        let e = [v[j][0] - v[i][0], v[j][1] - v[i][1]];
        let w = [p[0] - v[i][0], p[1] - v[i][1]];
        let ee = dot(e, e);
        let t = if ee > 0.0 { (dot(w, e) / ee).clamp(0.0, 1.0) } else { 0.0 };
        let b = [w[0] - e[0] * t, w[1] - e[1] * t];
        d = d.min(dot(b, b));
        // Even-odd crossing test along +x.
        let c1 = p[1] >= v[i][1];
        let c2 = p[1] < v[j][1];
        let c3 = e[0] * w[1] > e[1] * w[0];
        if (c1 && c2 && c3) || (!c1 && !c2 && !c3) {
            inside = !inside;
        }
        j = i;
    }
    let d = d.sqrt();
    if inside { -d } else { d }
}

/// Distance from `p` to the segment a-b.
#[inline]
pub fn segment(p: P2, a: P2, b: P2) -> f32 {
    let e = [b[0] - a[0], b[1] - a[1]];
    let w = [p[0] - a[0], p[1] - a[1]];
    let ee = dot(e, e);
    let t = if ee > 0.0 { (dot(w, e) / ee).clamp(0.0, 1.0) } else { 0.0 };
    let q = [w[0] - e[0] * t, w[1] - e[1] * t];
    dot(q, q).sqrt()
}

/// Shoelace area of a simple polygon.
pub fn polygon_area(v: &[P2]) -> f32 {
    let n = v.len();
    let mut s = 0.0;
    for i in 0..n {
        let j = (i + 1) % n;
        s += v[i][0] * v[j][1] - v[j][0] * v[i][1];
    }
    (s * 0.5).abs()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polygon_distance_matches_box() {
        let sq = [[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]];
        for &p in &[[0.0, 0.0], [0.5, 0.2], [2.0, 0.0], [2.0, 3.0], [-0.9, 0.95]] {
            let a = polygon(p, &sq);
            let b = boxed(p, [1.0, 1.0]);
            assert!((a - b).abs() < 1e-5, "{p:?}: {a} vs {b}");
        }
        assert!((polygon_area(&sq) - 4.0).abs() < 1e-6);
        assert!((segment([0.0, 1.0], [-1.0, 0.0], [1.0, 0.0]) - 1.0).abs() < 1e-6);
    }
}
