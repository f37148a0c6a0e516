//! The model's post-processing parameters (`ifa.post`) and reference policy (`ifa.refs`): read
//! from the model by `infer::contract`, used by the engine (which frames to keep and feed) and
//! by the assembly (how to detect and match).

use serde::Deserialize;

/// Which earlier frames serve as references (`ifa.refs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefsPolicy {
    /// Most references in all, first frame included.
    pub count: usize,
    pub first_frame: bool,
    pub step: usize,
}

/// Post-processing defaults (`ifa.post`).
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostParams {
    pub center_threshold: f32,
    /// Max-pool kernel in cells of the head maps (odd; a stride-2 model needs about twice the stride-4 value).
    pub nms_kernel: usize,
    pub top_k: usize,
    /// In input pixels.
    pub match_distance: f32,
    /// In cells of the head maps.
    pub min_pixels: usize,
    /// Frames a track may go unseen and still be re-linked (0: a track the references lose ends).
    #[serde(default = "default_max_hidden")]
    pub max_hidden: usize,
    /// Gate of the re-link by motion, input pixels, at one hidden frame; it widens with the
    /// square root of the frames hidden (see `assemble::tracker`).
    #[serde(default = "default_relink_distance")]
    pub relink_distance: f32,
    /// Tracks seen in fewer frames are left out of the results (1: every track is reported).
    #[serde(default = "default_min_track_frames")]
    pub min_track_frames: usize,
    /// Whether the video's first frame, where it is a reference of its own (not one of the
    /// recent frames), gives identities by flow. The memory and the fusion use it either way.
    #[serde(default = "default_match_first_frame")]
    pub match_first_frame: bool,
    /// Colour scale (8-bit RGB units) with which the frame guides mask edges at the video's
    /// resolution (`assemble::idmap`); 0 = the plain bilinear edge (models without the key).
    #[serde(default)]
    pub edge_sigma: f32,
    /// Window radius, input pixels, of the guided filter that snaps each mask's edges to the
    /// frame after rendering (`assemble::refine`); 0 (models without the key) = off.
    #[serde(default)]
    pub refine_radius: f32,
    /// Regularisation of that filter, in (RGB / 255)^2 units: larger keeps more of the mask.
    #[serde(default = "default_refine_eps")]
    pub refine_eps: f32,
    /// The occlusion rules (`assemble::tracker::occlusion`): a track re-linked next to the track
    /// that covered it takes that track's detection, and the reverse, when the two tracks'
    /// motion from before the occlusion fits that way with a summed error below this fraction
    /// of the other way's; any value above 0 also lets a hidden track come out from behind its
    /// occluder. 0 (models without the key) = neither.
    #[serde(default)]
    pub exchange_ratio: f32,
    /// The order in which a reference's candidate (detection, track) pairs within
    /// `match_distance` are taken: distance plus this many input pixels per pixel of difference
    /// between the detection's radius and the track's there (`assemble::tracker`). 0 (models
    /// without the key) = nearest first.
    #[serde(default)]
    pub size_weight: f32,
    /// Added to that order, in input pixels, when the detection's class is not the track's
    /// majority class. 0 (models without the key) = classes do not matter.
    #[serde(default)]
    pub class_penalty: f32,
    /// Merges (`assemble::tracker`): a detection that is the nearest one to two or more tracks
    /// within `match_distance`, has at least this many times the area of every such track and at
    /// most 1.25 times their areas together, holds them all (crossing instances seen as one
    /// blob); its pooled flow lands between them, so it takes the one whose size it is nearest
    /// to, the instance in front, which shows all of itself. 0 (models without the key) = off.
    #[serde(default)]
    pub merge_ratio: f32,
    /// Centers from the offsets' votes (`assemble::detect`): foreground cells whose vote lands
    /// farther than this many input pixels from every heatmap center vote for a center of their
    /// own. 0 (models without the key) = the heatmap's centers only.
    #[serde(default)]
    pub vote_distance: f32,
    /// Votes (cells) within a 3 x 3 window of cells that make such a center.
    #[serde(default = "default_vote_min_cells")]
    pub vote_min_cells: usize,
    /// Heat a center from votes needs, at least (a split-off tip of a large instance
    /// lies where the heatmap is cold; a small instance's missed peak is usually weak, not absent).
    #[serde(default)]
    pub vote_min_heat: f32,
    /// Share of a center from votes' cells, once every cell is grouped again, that must be cells
    /// which voted (cells it only took from a neighbour's group do not count); below it the
    /// center is dropped. 0 = keep every center from votes.
    #[serde(default = "default_vote_min_share")]
    pub vote_min_share: f32,
    /// Most YouTube-VIS result entries per track, one per class the track was seen as
    /// (`export::results`). 1 (models without the key) = the majority class only.
    #[serde(default = "default_class_hypotheses")]
    pub class_hypotheses: usize,
    /// The keep-alive re-links a hidden track only to a detection of the track's majority class
    /// (`assemble::tracker`): an instance of the world never changes class, so a detection of
    /// another class near where a track went unseen is another instance (or a fragment).
    /// `false` (models without the key) = any class, the class penalty only orders the pairs.
    #[serde(default)]
    pub relink_same_class: bool,
    /// Matches through any reference but the most recent need the detection to be of the
    /// track's majority class there (`assemble::tracker`); the most recent reference keeps the
    /// class penalty only. `false` (models without the key) = any class in every reference.
    #[serde(default)]
    pub older_refs_same_class: bool,
    /// The flow association's estimate of where a detection was in a reference: `flow_weight`
    /// times its instance flow plus `1 - flow_weight` times the displacement the reference
    /// track's own velocity gives over the frames between (`assemble::tracker`). Two estimates
    /// of one displacement with independent errors: their weighted mean is nearer than either.
    /// 1 (models without the key) = the flow alone.
    #[serde(default = "default_flow_weight")]
    pub flow_weight: f32,
}

fn default_flow_weight() -> f32 {
    PostParams::default().flow_weight
}

fn default_class_hypotheses() -> usize {
    PostParams::default().class_hypotheses
}

fn default_vote_min_share() -> f32 {
    PostParams::default().vote_min_share
}

fn default_vote_min_cells() -> usize {
    PostParams::default().vote_min_cells
}

fn default_refine_eps() -> f32 {
    PostParams::default().refine_eps
}

fn default_match_first_frame() -> bool {
    true
}

fn default_max_hidden() -> usize {
    PostParams::default().max_hidden
}

fn default_relink_distance() -> f32 {
    PostParams::default().relink_distance
}

fn default_min_track_frames() -> usize {
    PostParams::default().min_track_frames
}

impl Default for PostParams {
    fn default() -> Self {
        Self {
            center_threshold: 0.1,
            nms_kernel: 7,
            top_k: 32,
            match_distance: 24.0,
            min_pixels: 4,
            max_hidden: 50,
            relink_distance: 32.0,
            min_track_frames: 1,
            match_first_frame: true,
            edge_sigma: 0.0,
            refine_radius: 0.0,
            refine_eps: 1e-3,
            exchange_ratio: 0.0,
            size_weight: 0.0,
            class_penalty: 0.0,
            merge_ratio: 0.0,
            vote_distance: 0.0,
            vote_min_cells: 8,
            vote_min_heat: 0.0,
            vote_min_share: 0.5,
            class_hypotheses: 1,
            relink_same_class: false,
            older_refs_same_class: false,
            flow_weight: 1.0,
        }
    }
}
