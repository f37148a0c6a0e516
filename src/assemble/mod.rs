//! From head maps to tracked instances: per-frame post-processing ([`detect`]), identities
//! across frames by instance flow ([`tracker`]) and instance-id maps at the video's resolution
//! ([`idmap`]).

pub mod detect;
pub mod maps;
pub mod tracker;
