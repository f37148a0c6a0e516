//! Every UI command with its key binding, in one table that feeds the keyboard handler, the
//! menus and the help overlay (so they cannot disagree).

use egui::{Key, KeyboardShortcut, Modifiers};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UiCommand {
    Open,
    OpenModel,
    Export,
    PlayPause,
    StepBack,
    StepForward,
    JumpBack,
    JumpForward,
    First,
    Last,
    GoToFrame,
    ToggleLoop,
    SpeedDown,
    SpeedUp,
    ToggleMasks,
    ToggleCenters,
    ToggleFlows,
    ToggleLabels,
    ToggleTrails,
    ToggleDebug,
    Deselect,
    ToggleHelp,
}

impl UiCommand {
    pub const ALL: [Self; 22] = [
        Self::Open,
        Self::OpenModel,
        Self::Export,
        Self::PlayPause,
        Self::StepBack,
        Self::StepForward,
        Self::JumpBack,
        Self::JumpForward,
        Self::First,
        Self::Last,
        Self::GoToFrame,
        Self::ToggleLoop,
        Self::SpeedDown,
        Self::SpeedUp,
        Self::ToggleMasks,
        Self::ToggleCenters,
        Self::ToggleFlows,
        Self::ToggleLabels,
        Self::ToggleTrails,
        Self::ToggleDebug,
        Self::Deselect,
        Self::ToggleHelp,
    ];

    pub fn shortcut(self) -> KeyboardShortcut {
        let (m, k) = match self {
            Self::Open => (Modifiers::COMMAND, Key::O),
            Self::OpenModel => (Modifiers::COMMAND.plus(Modifiers::SHIFT), Key::O),
            Self::Export => (Modifiers::COMMAND, Key::E),
            Self::PlayPause => (Modifiers::NONE, Key::Space),
            Self::StepBack => (Modifiers::NONE, Key::ArrowLeft),
            Self::StepForward => (Modifiers::NONE, Key::ArrowRight),
            Self::JumpBack => (Modifiers::SHIFT, Key::ArrowLeft),
            Self::JumpForward => (Modifiers::SHIFT, Key::ArrowRight),
            Self::First => (Modifiers::NONE, Key::Home),
            Self::Last => (Modifiers::NONE, Key::End),
            Self::GoToFrame => (Modifiers::COMMAND, Key::G),
            Self::ToggleLoop => (Modifiers::NONE, Key::L),
            Self::SpeedDown => (Modifiers::NONE, Key::OpenBracket),
            Self::SpeedUp => (Modifiers::NONE, Key::CloseBracket),
            Self::ToggleMasks => (Modifiers::NONE, Key::M),
            Self::ToggleCenters => (Modifiers::NONE, Key::C),
            Self::ToggleFlows => (Modifiers::NONE, Key::F),
            Self::ToggleLabels => (Modifiers::NONE, Key::T),
            Self::ToggleTrails => (Modifiers::NONE, Key::R),
            Self::ToggleDebug => (Modifiers::NONE, Key::D),
            Self::Deselect => (Modifiers::NONE, Key::Escape),
            Self::ToggleHelp => (Modifiers::NONE, Key::Questionmark),
        };
        KeyboardShortcut::new(m, k)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Open => "Open video…",
            Self::OpenModel => "Open model…",
            Self::Export => "Export video and results…",
            Self::PlayPause => "Play / pause",
            Self::StepBack => "Previous frame",
            Self::StepForward => "Next frame",
            Self::JumpBack => "Back 10 frames",
            Self::JumpForward => "Forward 10 frames",
            Self::First => "First frame",
            Self::Last => "Last frame",
            Self::GoToFrame => "Go to frame…",
            Self::ToggleLoop => "Loop on/off",
            Self::SpeedDown => "Slower",
            Self::SpeedUp => "Faster",
            Self::ToggleMasks => "Masks layer",
            Self::ToggleCenters => "Centers layer",
            Self::ToggleFlows => "Flow arrows layer",
            Self::ToggleLabels => "Labels layer",
            Self::ToggleTrails => "Trails layer",
            Self::ToggleDebug => "Debug views",
            Self::Deselect => "Deselect track",
            Self::ToggleHelp => "This help",
        }
    }

    /// The shortcut as text, e.g. `Shift+→`.
    pub fn shortcut_text(self) -> String {
        let s = self.shortcut();
        let mut out = String::new();
        if s.modifiers.command || s.modifiers.ctrl {
            out.push_str("Ctrl+");
        }
        if s.modifiers.shift {
            out.push_str("Shift+");
        }
        // Names rather than arrow symbols: the default fonts lack the arrow glyphs.
        out.push_str(match s.logical_key {
            Key::ArrowLeft => "Left",
            Key::ArrowRight => "Right",
            Key::OpenBracket => "[",
            Key::CloseBracket => "]",
            k => k.name(),
        });
        out
    }

    /// Commands whose shortcut was pressed this frame (consumed, so widgets do not see them).
    /// Bindings with more modifiers are tried first: egui matches a shortcut whatever extra Shift
    /// is held, so Shift+→ must not also be →, nor Ctrl+Shift+O also Ctrl+O.
    pub fn pressed(ctx: &egui::Context) -> Vec<Self> {
        let mut out = Vec::new();
        let mut ordered: Vec<Self> = Self::ALL.to_vec();
        ordered.sort_by_key(|c| {
            let m = c.shortcut().modifiers;
            std::cmp::Reverse(u8::from(m.shift) + u8::from(m.command || m.ctrl) + u8::from(m.alt))
        });
        ctx.input_mut(|i| {
            for c in ordered {
                if i.consume_shortcut(&c.shortcut()) {
                    out.push(c);
                }
            }
        });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_has_a_unique_binding_and_label() {
        let mut seen = std::collections::HashSet::new();
        for c in UiCommand::ALL {
            assert!(seen.insert(c.shortcut()), "{c:?} shares its shortcut");
            assert!(!c.label().is_empty());
        }
        assert_eq!(UiCommand::JumpForward.shortcut_text(), "Shift+Right");
        assert_eq!(UiCommand::OpenModel.shortcut_text(), "Ctrl+Shift+O");
    }
}
