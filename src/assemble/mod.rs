//! From head maps to tracked instances: per-frame post-processing ([`detect`]), identities
//! across frames by instance flow ([`tracker`]; the comparison and its ablation baselines in
//! [`association`]), soft mask edges ([`edges`]), the per-frame result ([`result`]), instance-id maps at the video's
//! resolution ([`idmap`]) and their edges snapped to the picture ([`refine`]).
//!
//! The steps are those of `docs/method.md` §2; "method §2 step N" in comments here refers to it.

pub mod association;
pub mod detect;
pub mod edges;
pub mod idmap;
pub mod refine;
pub mod result;
pub mod tracker;

pub use association::{Association, AssociationParams};
pub use result::{Assembler, FrameResult, StageTimes};
pub use tracker::{Decision, RefVote, TrackInfo, TrackedInstance, Tracker};
