//! The difficulty presets of the spec's table, as numbers the planner uses.

use std::fmt;
use std::str::FromStr;

/// A difficulty preset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Preset {
    Easy,
    Standard,
    Hard,
}

/// What a preset allows; fractions are of the frame's long (speeds) or short (sizes) side.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PresetParams {
    /// Instances per video, inclusive.
    pub instances: (usize, usize),
    /// Largest on-screen speed, fraction of the long side per frame.
    pub max_speed: f32,
    /// Chance that a video has clones (groups of one class with identical fill).
    pub clone_chance: f32,
    /// Clones are sent on crossing paths.
    pub clones_cross: bool,
    pub pan_chance: f32,
    pub zoom_chance: f32,
    /// Chance that an instance is aimed at another one (crossing paths make occlusion).
    pub aim_chance: f32,
    /// Chance of a planned full hiding (a small instance passing behind a big one).
    pub hide_chance: f32,
    /// Chance that a video has depth swaps.
    pub swap_chance: f32,
    /// Chance that an instance enters late across a border.
    pub late_chance: f32,
    /// Distractors per video, inclusive.
    pub distractors: (usize, usize),
    /// Largest rotation, degrees per frame (spec: at most 12).
    pub max_spin_deg: f32,
}

impl Preset {
    pub const ALL: [Preset; 3] = [Preset::Easy, Preset::Standard, Preset::Hard];

    pub fn name(self) -> &'static str {
        match self {
            Preset::Easy => "easy",
            Preset::Standard => "standard",
            Preset::Hard => "hard",
        }
    }

    pub fn params(self) -> PresetParams {
        match self {
            // Light occlusion: only what chance placement gives.
            Preset::Easy => PresetParams {
                instances: (1, 3),
                max_speed: 0.02,
                clone_chance: 0.0,
                clones_cross: false,
                pan_chance: 0.0,
                zoom_chance: 0.0,
                aim_chance: 0.0,
                hide_chance: 0.0,
                swap_chance: 0.0,
                late_chance: 0.15,
                distractors: (0, 2),
                max_spin_deg: 6.0,
            },
            // Frequent occlusion: some paths aimed at each other, occasional swaps.
            Preset::Standard => PresetParams {
                instances: (2, 8),
                max_speed: 0.04,
                clone_chance: 0.35,
                clones_cross: false,
                pan_chance: 0.5,
                zoom_chance: 0.0,
                aim_chance: 0.35,
                hide_chance: 0.15,
                swap_chance: 0.3,
                late_chance: 0.35,
                distractors: (0, 4),
                max_spin_deg: 9.0,
            },
            // Heavy occlusion with planned full hiding.
            Preset::Hard => PresetParams {
                instances: (4, 12),
                max_speed: 0.06,
                clone_chance: 0.8,
                clones_cross: true,
                pan_chance: 0.85,
                zoom_chance: 0.7,
                aim_chance: 0.5,
                hide_chance: 0.9,
                swap_chance: 0.6,
                late_chance: 0.35,
                distractors: (1, 6),
                max_spin_deg: 12.0,
            },
        }
    }
}

impl fmt::Display for Preset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The name was none of easy, standard, hard.
#[derive(Debug, thiserror::Error)]
#[error("unknown preset {0:?} (expected easy, standard or hard)")]
pub struct UnknownPreset(pub String);

impl FromStr for Preset {
    type Err = UnknownPreset;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Preset::ALL.into_iter().find(|p| p.name().eq_ignore_ascii_case(s)).ok_or_else(|| UnknownPreset(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_follow_the_spec_table() {
        assert_eq!(Preset::Easy.params().instances, (1, 3));
        assert_eq!(Preset::Standard.params().instances, (2, 8));
        assert_eq!(Preset::Hard.params().instances, (4, 12));
        assert_eq!(Preset::Easy.params().max_speed, 0.02);
        assert_eq!(Preset::Standard.params().max_speed, 0.04);
        assert_eq!(Preset::Hard.params().max_speed, 0.06);
        assert_eq!(Preset::Easy.params().clone_chance, 0.0);
        assert_eq!(Preset::Easy.params().pan_chance, 0.0);
        assert_eq!(Preset::Standard.params().zoom_chance, 0.0);
        for p in Preset::ALL {
            assert!(p.params().max_spin_deg <= 12.0);
            assert_eq!(p.name().parse::<Preset>().ok(), Some(p));
        }
        assert!("medium".parse::<Preset>().is_err());
    }
}
