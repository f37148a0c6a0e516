//! Which appearance families a data set draws from, so that a validation set can hold styles
//! that training never saw (a yardstick for renderers other than ours).

use std::fmt;
use std::str::FromStr;

/// A split of the world's fill and background families.
///
/// `Heldout` keeps checkerboard and radial-gradient fills, tiled backgrounds and two of the
/// photographs; `Train` keeps every other family; `All` is the whole world.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Styles {
    #[default]
    All,
    Train,
    Heldout,
}

/// Fill families by index: solid, stripes, checker, linear, radial, noise.
const FILLS_HELDOUT: [u32; 2] = [2, 4];
const FILLS_TRAIN: [u32; 4] = [0, 1, 3, 5];
/// Indices into `photos::all()` kept for the held-out split (grass, gravel).
pub(crate) const PHOTOS_HELDOUT: [usize; 2] = [6, 7];

impl Styles {
    pub const ALL: [Styles; 3] = [Styles::All, Styles::Train, Styles::Heldout];

    pub fn name(self) -> &'static str {
        match self {
            Styles::All => "all",
            Styles::Train => "train",
            Styles::Heldout => "heldout",
        }
    }

    /// Draws a fill family index (0..6). `All` draws exactly as before the split existed, so
    /// existing seeds render the same bytes.
    pub(crate) fn fill_kind(self, rng: &mut impl rand::Rng) -> u32 {
        match self {
            Styles::All => rng.random_range(0..6u32),
            Styles::Train => FILLS_TRAIN[rng.random_range(0..FILLS_TRAIN.len())],
            Styles::Heldout => FILLS_HELDOUT[rng.random_range(0..FILLS_HELDOUT.len())],
        }
    }

    /// Whether photo `i` of `photos::all()` belongs to this split.
    pub(crate) fn allows_photo(self, i: usize) -> bool {
        match self {
            Styles::All => true,
            Styles::Train => !PHOTOS_HELDOUT.contains(&i),
            Styles::Heldout => PHOTOS_HELDOUT.contains(&i),
        }
    }
}

impl fmt::Display for Styles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The name was none of all, train, heldout.
#[derive(Debug, thiserror::Error)]
#[error("unknown style split {0:?} (expected all, train or heldout)")]
pub struct UnknownStyles(pub String);

impl FromStr for Styles {
    type Err = UnknownStyles;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Styles::ALL.into_iter().find(|p| p.name().eq_ignore_ascii_case(s)).ok_or_else(|| UnknownStyles(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng as _;

    #[test]
    fn splits_are_disjoint_and_cover_every_family() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let draw = |s: Styles, rng: &mut rand_chacha::ChaCha8Rng| {
            let mut seen = std::collections::BTreeSet::new();
            for _ in 0..400 {
                seen.insert(s.fill_kind(rng));
            }
            seen
        };
        let train = draw(Styles::Train, &mut rng);
        let held = draw(Styles::Heldout, &mut rng);
        assert!(train.is_disjoint(&held));
        assert_eq!(train.union(&held).count(), 6);
        assert_eq!(draw(Styles::All, &mut rng).len(), 6);
        for i in 0..8 {
            assert_ne!(Styles::Train.allows_photo(i), Styles::Heldout.allows_photo(i));
            assert!(Styles::All.allows_photo(i));
        }
        assert_eq!("HELDOUT".parse::<Styles>().ok(), Some(Styles::Heldout));
        assert!("x".parse::<Styles>().is_err());
    }
}
