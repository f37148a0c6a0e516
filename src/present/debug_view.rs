//! Pictures of the raw network outputs of one frame (the debug views).

use crate::model::HeadMaps;

use crate::overlay::scene::PALETTE;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DebugMap {
    #[default]
    Center,
    Semantic,
    IntraOffset,
    /// Inter offset towards the reference at this position of `HeadMaps::refs`.
    InterOffset(usize),
}

impl DebugMap {
    pub fn name(self) -> String {
        match self {
            Self::Center => "center heatmap".to_owned(),
            Self::Semantic => "semantic classes".to_owned(),
            Self::IntraOffset => "intra offsets".to_owned(),
            Self::InterOffset(k) => format!("inter offsets (ref #{k})"),
        }
    }
}

/// Hue wheel: direction is hue, length (relative to `max_len`) is brightness.
fn flow_colour(dy: f32, dx: f32, max_len: f32) -> [u8; 3] {
    let len = (dy * dy + dx * dx).sqrt();
    let v = (len / max_len.max(1e-6)).min(1.0);
    let h = (dy.atan2(dx) / std::f32::consts::TAU + 1.0).fract() * 6.0;
    let x = 1.0 - ((h % 2.0) - 1.0).abs();
    let (r, g, b) = match h as u32 {
        0 => (1.0, x, 0.0),
        1 => (x, 1.0, 0.0),
        2 => (0.0, 1.0, x),
        3 => (0.0, x, 1.0),
        4 => (x, 0.0, 1.0),
        _ => (1.0, 0.0, x),
    };
    [(r * v * 255.0) as u8, (g * v * 255.0) as u8, (b * v * 255.0) as u8]
}

/// An RGB picture (`w x h`, row-major) of one map; `None` if the maps lack it.
pub fn render(maps: &HeadMaps, which: DebugMap) -> Option<(usize, usize, Vec<u8>)> {
    let (h, w, n) = (maps.h, maps.w, maps.cells());
    if n == 0 || !maps.is_consistent() {
        return None;
    }
    let mut out = Vec::with_capacity(n * 3);
    match which {
        DebugMap::Center => {
            for &v in &maps.center {
                let g = (v.clamp(0.0, 1.0) * 255.0) as u8;
                out.extend_from_slice(&[g, g, g / 2]);
            }
        }
        DebugMap::Semantic => {
            let k1 = maps.num_classes + 1;
            for c in 0..n {
                let best = (0..k1).max_by(|&a, &b| maps.semantic[a * n + c].total_cmp(&maps.semantic[b * n + c]));
                let rgb = match best {
                    Some(0) | None => [0, 0, 0],
                    Some(k) => PALETTE[(k - 1) % PALETTE.len()],
                };
                out.extend_from_slice(&rgb);
            }
        }
        DebugMap::IntraOffset | DebugMap::InterOffset(_) => {
            let planes = match which {
                DebugMap::InterOffset(k) => maps.inter_offset.get(2 * k * n..2 * (k + 1) * n)?,
                _ => &maps.offset[..],
            };
            let max_len = (0..n).map(|c| planes[c].hypot(planes[n + c])).fold(0.0f32, f32::max);
            for c in 0..n {
                out.extend_from_slice(&flow_colour(planes[c], planes[n + c], max_len));
            }
        }
    }
    Some((w, h, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn maps() -> HeadMaps {
        HeadMaps {
            h: 1,
            w: 2,
            stride: 4,
            num_classes: 2,
            semantic: vec![5.0, 0.0, 0.0, 1.0, 0.0, 9.0],
            center: vec![0.0, 1.0],
            offset: vec![0.0, 1.0, 1.0, 0.0],
            inter_offset: vec![],
            refs: vec![],
        }
    }

    #[test]
    fn pictures_show_the_maps() {
        let m = maps();
        let (_, _, c) = render(&m, DebugMap::Center).expect("center");
        assert_eq!(&c[..3], &[0, 0, 0]);
        assert_eq!(c[3], 255);
        let (_, _, s) = render(&m, DebugMap::Semantic).expect("semantic");
        assert_eq!(&s[..3], &[0, 0, 0]);
        assert_eq!(&s[3..], &PALETTE[1]);
        assert!(render(&m, DebugMap::InterOffset(0)).is_none());
        let (_, _, o) = render(&m, DebugMap::IntraOffset).expect("offsets");
        assert_ne!(&o[..3], &o[3..]);
    }
}
