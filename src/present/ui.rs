//! The window's panels: menus, video with overlays, timeline with track lanes, inspector,
//! status bar, debug views and the help overlay.

use std::sync::Arc;

use egui::{Color32, Pos2, Rect, Sense, Stroke, Vec2, WidgetInfo, pos2, vec2};

use super::app::{ModelStatus, ProcessingState, ViewerApp};
use super::commands::UiCommand;
use super::debug_view::{self, DebugMap};
use super::mask_paint::MaskCallback;
use super::playback::SPEEDS;
use super::stats::{mib, resident_bytes};
use super::video_paint::VideoCallback;
use crate::assemble::idmap::IdMapper;
use crate::assemble::tracker::describe_with_gap;
use crate::overlay::scene::{Scene, build_scene, track_color};
use crate::overlay::shapes::color32;

pub fn draw(app: &mut ViewerApp, ui: &mut egui::Ui) {
    // Panels are not filled: the frame is cleared with the panel colour (`ViewerApp::clear_color`),
    // which saves shading every window pixel once more on software renderers (lavapipe).
    let side = egui::Frame::side_top_panel(ui.style()).fill(Color32::TRANSPARENT);
    let central = egui::Frame::central_panel(ui.style()).fill(Color32::TRANSPARENT);
    egui::Panel::top("ifa-menu").frame(side).show(ui, |ui| menu_bar(app, ui));
    egui::Panel::bottom("ifa-status").frame(side).show(ui, |ui| status_bar(app, ui));
    egui::Panel::bottom("ifa-timeline").frame(side).resizable(true).show(ui, |ui| timeline(app, ui));
    egui::Panel::right("ifa-inspector").frame(side).default_size(280.0).show(ui, |ui| {
        egui::ScrollArea::vertical().show(ui, |ui| {
            inspector(app, ui);
            ui.separator();
            layer_controls(app, ui);
        });
    });
    egui::CentralPanel::default().frame(central).show(ui, |ui| video_area(app, ui));
    windows(app, ui.ctx());
    super::export_window::window(app, ui.ctx());
}

fn command_button(app: &mut ViewerApp, ui: &mut egui::Ui, cmd: UiCommand) {
    if ui.add(egui::Button::new(cmd.label()).shortcut_text(cmd.shortcut_text())).clicked() {
        app.apply(cmd);
        ui.close();
    }
}

/// The models that ship in models/, one click each; the one in use is checked.
fn bundled_models_menu(app: &mut ViewerApp, ui: &mut egui::Ui) {
    ui.menu_button("Bundled models", |ui| {
        let models = crate::bundled::models();
        if models.is_empty() {
            ui.label("(none found)");
        }
        let current = app.model.file().map(|(p, _)| p.clone());
        for p in models {
            let name = p.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            let in_use = current.as_ref().is_some_and(|c| same_file(c, &p));
            if ui.add(egui::Button::new(name).selected(in_use)).on_hover_text(p.display().to_string()).clicked() {
                app.open_model(&p);
                ui.close();
            }
        }
    });
}

fn same_file(a: &std::path::Path, b: &std::path::Path) -> bool {
    a == b || matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
}

fn menu_bar(app: &mut ViewerApp, ui: &mut egui::Ui) {
    egui::MenuBar::new().ui(ui, |ui| {
        ui.menu_button("File", |ui| {
            command_button(app, ui, UiCommand::Open);
            command_button(app, ui, UiCommand::OpenModel);
            bundled_models_menu(app, ui);
            command_button(app, ui, UiCommand::Export);
            ui.menu_button("Recent", |ui| {
                let recent = app.recent.paths.clone();
                if recent.is_empty() {
                    ui.label("(none)");
                }
                for p in recent {
                    if ui.button(p.display().to_string()).clicked() {
                        app.open(&p);
                        ui.close();
                    }
                }
            });
        });
        ui.menu_button("Playback", |ui| {
            for c in [
                UiCommand::PlayPause,
                UiCommand::StepBack,
                UiCommand::StepForward,
                UiCommand::JumpBack,
                UiCommand::JumpForward,
                UiCommand::First,
                UiCommand::Last,
                UiCommand::GoToFrame,
                UiCommand::ToggleLoop,
                UiCommand::SpeedDown,
                UiCommand::SpeedUp,
            ] {
                command_button(app, ui, c);
            }
        });
        ui.menu_button("View", |ui| {
            for c in [
                UiCommand::ToggleMasks,
                UiCommand::ToggleCenters,
                UiCommand::ToggleFlows,
                UiCommand::ToggleLabels,
                UiCommand::ToggleTrails,
                UiCommand::ToggleDebug,
                UiCommand::Deselect,
                UiCommand::ToggleHelp,
            ] {
                command_button(app, ui, c);
            }
        });
        if ui.button("?").on_hover_text("Keyboard shortcuts").clicked() {
            app.panels.show_help = !app.panels.show_help;
        }
    });
}

fn status_bar(app: &ViewerApp, ui: &mut egui::Ui) {
    ui.horizontal_wrapped(|ui| {
        match app.model.status() {
            ModelStatus::Ready(i) => {
                match &i.averaging {
                    Some(a) => ui.label(format!("Model: {} on {} ({a})", i.name, i.provider)),
                    None => ui.label(format!("Model: {} on {}", i.name, i.provider)),
                };
                for w in &i.warnings {
                    ui.colored_label(Color32::from_rgb(255, 170, 0), format!("warning: {w}"));
                }
            }
            ModelStatus::Loading(p) => {
                ui.label(format!("Model: loading {p}…"));
            }
            ModelStatus::Absent(r) => {
                ui.colored_label(Color32::from_rgb(255, 170, 0), format!("No model ({r}): video only"));
            }
            ModelStatus::Failed(_) => {
                ui.colored_label(Color32::from_rgb(255, 90, 90), "Model failed to load: video only");
            }
        }
        ui.separator();
        let rate = |m: &super::stats::RateMeter| m.per_second().map_or("–".to_owned(), |v| format!("{v:.1}"));
        ui.label(format!(
            "fps: decode {} · inference {} · processed {} · display {}",
            rate(&app.stats.decode),
            rate(&app.stats.inference),
            rate(&app.stats.processed_per_frame),
            rate(&app.stats.display)
        ));
        ui.separator();
        let rss = resident_bytes().map_or("?".to_owned(), |b| format!("{:.0} MiB", mib(b)));
        ui.label(format!(
            "memory {rss} (pictures {:.1} MiB in {} frames, maps {:.1} MiB)",
            mib(app.data.pictures.bytes() as u64),
            app.data.pictures.len(),
            mib(app.data.maps.bytes() as u64)
        ));
        if let Some(ms) = app.playback.last_seek_ms() {
            ui.separator();
            ui.label(format!("last seek {ms:.1} ms"));
        }
    });
}

fn timeline(app: &mut ViewerApp, ui: &mut egui::Ui) {
    let n = app.frame_count();
    ui.horizontal(|ui| {
        let play = if app.playback.playing() { "Pause" } else { "Play" };
        if ui.button(play).clicked() {
            app.apply(UiCommand::PlayPause);
        }
        if ui.button("|<").on_hover_text(UiCommand::First.label()).clicked() {
            app.apply(UiCommand::First);
        }
        if ui.button("-1").clicked() {
            app.apply(UiCommand::StepBack);
        }
        if ui.button("+1").clicked() {
            app.apply(UiCommand::StepForward);
        }
        if ui.button(">|").on_hover_text(UiCommand::Last.label()).clicked() {
            app.apply(UiCommand::Last);
        }
        let mut looping = app.playback.looping();
        if ui.checkbox(&mut looping, "loop").changed() {
            app.playback.set_looping(looping);
        }
        let mut speed = app.playback.speed();
        egui::ComboBox::from_label("speed").selected_text(format!("{speed}×")).show_ui(ui, |ui| {
            for s in SPEEDS {
                ui.selectable_value(&mut speed, s, format!("{s}×"));
            }
        });
        app.playback.set_speed(speed);
        let t = app.fps();
        ui.label(format!("Frame {} / {}  ({:.2} s)", app.current(), n.saturating_sub(1), app.current() as f64 / t));
        let processed_text = match &app.data.processing {
            ProcessingState::Idle => "processing: not started".to_owned(),
            ProcessingState::Running => format!("processed {} / {n}", app.data.processed()),
            ProcessingState::Done => format!("processed all {}", app.data.processed()),
            ProcessingState::Failed(_) => format!("processing stopped at {}", app.data.processed()),
        };
        ui.label(processed_text);
    });

    // The scrub bar: processed range, cached pictures, playhead.
    let width = ui.available_width();
    let (rect, resp) = ui.allocate_exact_size(vec2(width, 22.0), Sense::click_and_drag());
    resp.widget_info(|| WidgetInfo::labeled(egui::Role::Slider, true, "timeline"));
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 3.0, Color32::from_gray(40));
    let x_of = |f: usize| rect.left() + rect.width() * (f as f32 + 0.5) / n.max(1) as f32;
    if n > 0 {
        let done = Rect::from_min_max(
            rect.min,
            pos2(rect.left() + rect.width() * app.data.processed() as f32 / n as f32, rect.max.y),
        );
        painter.rect_filled(done, 3.0, Color32::from_rgb(40, 110, 60));
        painter.line_segment(
            [pos2(x_of(app.current()), rect.top()), pos2(x_of(app.current()), rect.bottom())],
            Stroke::new(2.0, Color32::WHITE),
        );
        if let Some(p) = resp.interact_pointer_pos()
            && (resp.dragged() || resp.clicked())
        {
            let f = ((p.x - rect.left()) / rect.width() * n as f32).floor().max(0.0) as usize;
            app.playback.pause();
            app.seek(f);
        }
    }

    // One lane per track.
    let lanes: Vec<_> = app.data.lanes().values().cloned().collect();
    egui::ScrollArea::vertical().max_height(120.0).show(ui, |ui| {
        for lane in lanes {
            let (r, resp) = ui.allocate_exact_size(vec2(width, 9.0), Sense::click());
            let label = format!("track {}", lane.id);
            resp.widget_info(|| WidgetInfo::labeled(egui::Role::Button, true, &label));
            let p = ui.painter_at(r);
            let c = color32(track_color(lane.id).unwrap_or([128, 128, 128]));
            if app.scene.selected == Some(lane.id) {
                p.rect_filled(r, 0.0, Color32::from_gray(60));
            }
            for &(a, b) in &lane.spans {
                let x0 = rect.left() + rect.width() * a as f32 / n.max(1) as f32;
                let x1 = rect.left() + rect.width() * (b + 1) as f32 / n.max(1) as f32;
                p.rect_filled(
                    Rect::from_min_max(pos2(x0, r.top() + 1.0), pos2(x1.max(x0 + 1.0), r.bottom() - 1.0)),
                    0.0,
                    c,
                );
            }
            if resp.clicked() {
                app.select_track(lane.id, true);
            }
        }
    });
}

fn inspector(app: &mut ViewerApp, ui: &mut egui::Ui) {
    ui.heading("Inspector");
    let Some(id) = app.scene.selected else {
        ui.label("Click an instance (or a track lane) to inspect it.");
        return;
    };
    ui.label(format!("Selected track: #{id}"));
    let names = app.class_names();
    if let Some(lane) = app.data.lanes().get(&id) {
        ui.label(format!("present in {} frames, first {}", lane.frames(), lane.first().unwrap_or(0)));
    }
    let Some(rec) = app.shown_record() else {
        ui.label("This frame is not processed yet.");
        return;
    };
    let Some(inst) = rec.instance(id) else {
        ui.label(format!("Track #{id} is not in frame {}.", rec.index));
        return;
    };
    let class = names.get(inst.class_id as usize - 1).cloned().unwrap_or_else(|| format!("{}", inst.class_id));
    ui.label(format!("class: {class}"));
    ui.label(format!("score: {:.3}", inst.score));
    ui.label(format!("area: {} px", inst.area));
    ui.label(format!("center: ({:.1}, {:.1})", inst.center[0], inst.center[1]));
    ui.label(format!("decision: {}", describe_with_gap(&inst.decision, inst.hidden_before)));
    if !inst.flows.is_empty() {
        ui.label("flow towards references:");
        for f in &inst.flows {
            let met = match f.nearest {
                Some((t, d)) => format!("nearest #{t} at {d:.1} px"),
                None => "no instance there".to_owned(),
            };
            ui.label(format!(
                "  ref {}: ({:+.1}, {:+.1}) -> ({:.1}, {:.1}), {met}",
                f.ref_frame, f.vector[0], f.vector[1], f.target[0], f.target[1]
            ));
        }
    }
}

fn layer_controls(app: &mut ViewerApp, ui: &mut egui::Ui) {
    ui.heading("Layers");
    let l = &mut app.scene.layers;
    ui.checkbox(&mut l.masks, "masks");
    ui.checkbox(&mut l.centers, "centers");
    ui.checkbox(&mut l.flows, "flow arrows");
    ui.checkbox(&mut l.labels, "labels");
    ui.checkbox(&mut l.trails, "trails");
    ui.add(egui::Slider::new(&mut app.scene.opacity, 0.0..=1.0).text("opacity"));
    ui.add(egui::Slider::new(&mut app.scene.min_score, 0.0..=1.0).text("min score"));
    let names = app.class_names();
    if !names.is_empty() {
        ui.label("classes:");
        for (k, name) in names.iter().enumerate() {
            let id = k as u32 + 1;
            let mut shown = !app.scene.hidden_classes.contains(&id);
            if ui.checkbox(&mut shown, name).changed() {
                if shown {
                    app.scene.hidden_classes.remove(&id);
                } else {
                    app.scene.hidden_classes.insert(id);
                }
            }
        }
    }
    ui.checkbox(&mut app.panels.show_debug, "debug views");
}

/// Where the video sits on screen and how video pixels map there.
struct VideoRect {
    rect: Rect,
    scale: Vec2,
}

impl VideoRect {
    fn to_screen(&self, p: [f32; 2]) -> Pos2 {
        pos2(self.rect.left() + (p[0] + 0.5) * self.scale.x, self.rect.top() + (p[1] + 0.5) * self.scale.y)
    }

    fn to_video(&self, p: Pos2) -> [f32; 2] {
        [(p.x - self.rect.left()) / self.scale.x - 0.5, (p.y - self.rect.top()) / self.scale.y - 0.5]
    }
}

fn video_area(app: &mut ViewerApp, ui: &mut egui::Ui) {
    for m in &app.messages {
        ui.colored_label(Color32::from_rgb(255, 110, 110), m);
    }
    let Some([pw, ph]) = app.picture_size() else {
        let text = match &app.video {
            Some(v) => format!("Opening {}…", v.path.display()),
            None => format!("No video. Open one with {} or drop a file here.", UiCommand::Open.shortcut_text()),
        };
        ui.centered_and_justified(|ui| ui.label(text));
        return;
    };
    let size = vec2(pw as f32, ph as f32);
    let avail = ui.available_rect_before_wrap();
    let k = (avail.width() / size.x).min(avail.height() / size.y).max(0.01);
    let rect = Rect::from_center_size(avail.center(), size * k);
    let vr = VideoRect { rect, scale: vec2(k, k) };
    app.video_rect = Some((rect.min, k));
    let resp = ui.allocate_rect(rect, Sense::click());
    let painter = ui.painter_at(avail);
    match (&app.video_frame, &app.texture) {
        (Some(frame), _) if app.gpu_masks => {
            painter.add(eframe::egui_wgpu::Callback::new_paint_callback(rect, VideoCallback(frame.clone())));
        }
        (_, Some(tex)) => {
            painter.image(tex.id(), rect, Rect::from_min_max(Pos2::ZERO, pos2(1.0, 1.0)), Color32::WHITE);
        }
        _ => {}
    }

    let names = app.class_names();
    let scene = app.shown_record().map(|rec| {
        let records = &app.data.records();
        build_scene(rec, &|i| records.get(&i), &app.scene, &names)
    });
    let Some(scene) = scene else { return };
    if app.gpu_masks && !scene.mask_ids.is_empty() {
        mask_callback(app, &scene, &painter, rect, size);
    }
    paint_scene(&scene, &painter, &vr);
    if resp.clicked()
        && let Some(p) = resp.interact_pointer_pos()
    {
        let v = vr.to_video(p);
        if let Some(id) = pick(app, v) {
            app.select_track(id, false);
        } else {
            app.scene.selected = None;
        }
    }
}

fn mask_callback(app: &mut ViewerApp, scene: &Scene, painter: &egui::Painter, rect: Rect, size: Vec2) {
    // Visibility changes the uploaded ids too, so it is part of the generation.
    let generation = app.mask_generation.wrapping_mul(1 << 20) ^ super::mask_frame::hash_ids(&scene.mask_ids);
    let key = (generation, scene.opacity.to_bits());
    // Repaints of one picture reuse its mask frame: building it walks every cell (every video
    // pixel with refined edges).
    let frame = match &app.mask_frame {
        Some(built) if built.key == key => built.frame.clone(),
        _ => {
            let frame = super::mask_frame::shown_mask_frame(app, scene, size, generation).map(Arc::new);
            app.mask_frame = Some(super::app::BuiltMasks { key, frame: frame.clone() });
            frame
        }
    };
    let Some(frame) = frame else { return };
    let region = frame.region;
    let k = rect.width() / size.x;
    let screen = Rect::from_min_size(rect.min + vec2(region[0], region[1]) * k, vec2(region[2], region[3]) * k);
    painter.add(eframe::egui_wgpu::Callback::new_paint_callback(screen, MaskCallback(frame)));
}

/// The track under a video position: the mask drawn there (the rule of `IdMapper::render`),
/// else the nearest center within 20 px.
fn pick(app: &ViewerApp, v: [f32; 2]) -> Option<u32> {
    let rec = app.shown_record()?;
    if let Some((iw, ih)) = app.model_input_size()
        && let Some(s) = app.picture_size()
        && v[0] >= 0.0
        && v[1] >= 0.0
    {
        let (x, y) = (v[0] as u32, v[1] as u32);
        // The refined map where the screen shows it (the same pixel as drawn), else the cells' rule.
        let refined = app.refined_ids.as_ref().filter(|r| r.index == rec.index && x < r.width && y < r.height);
        let id = match refined {
            Some(r) => r.ids[(y * r.width + x) as usize],
            None => {
                let lb = crate::model::Letterbox::new(s[0] as u32, s[1] as u32, iw, ih);
                let mapper = IdMapper::new(&lb, rec.soft_ids.h, rec.soft_ids.w);
                mapper.id_at(&rec.soft_ids.decode(), x, y).unwrap_or(0)
            }
        };
        if id != 0 && rec.instance(id).is_some_and(|inst| app.scene.shows(inst)) {
            return Some(id);
        }
    }
    rec.instances
        .iter()
        .filter(|i| app.scene.shows(i))
        .map(|i| (i.track_id, (i.center[0] - v[0]).hypot(i.center[1] - v[1])))
        .filter(|(_, d)| *d < 20.0)
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(id, _)| id)
}

fn paint_scene(scene: &Scene, p: &egui::Painter, vr: &VideoRect) {
    // The same shapes the exporter rasterises into the annotated video.
    p.extend(crate::overlay::shapes::scene_shapes(scene, &|q| vr.to_screen(q), &mut |t, f, c| {
        p.layout_no_wrap(t, f, c)
    }));
}

fn windows(app: &mut ViewerApp, ctx: &egui::Context) {
    let mut open = app.panels.show_help;
    egui::Window::new("Keyboard shortcuts").open(&mut open).collapsible(false).show(ctx, |ui| {
        egui::Grid::new("help").striped(true).show(ui, |ui| {
            for c in UiCommand::ALL {
                ui.label(c.shortcut_text());
                ui.label(c.label());
                ui.end_row();
            }
        });
        ui.label(
            "Click an instance or a track lane to select it; drag the timeline to scrub; drop a video file to open it.",
        );
    });
    app.panels.show_help = open;

    if app.panels.goto_open {
        let mut open = true;
        let mut go = false;
        egui::Window::new("Go to frame").open(&mut open).collapsible(false).show(ctx, |ui| {
            let r = ui.text_edit_singleline(&mut app.panels.goto_text);
            r.request_focus();
            go = ui.button("Go").clicked() || (r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)));
        });
        if go {
            match app.panels.goto_text.trim().parse::<usize>() {
                Ok(f) => {
                    app.playback.pause();
                    app.seek(f);
                    open = false;
                }
                Err(_) => app.messages.push(format!("not a frame number: {}", app.panels.goto_text)),
            }
        }
        app.panels.goto_open = open;
    }

    if app.panels.show_debug {
        let mut open = true;
        egui::Window::new("Debug: raw network outputs").open(&mut open).default_size([420.0, 300.0]).show(ctx, |ui| {
            debug_window(app, ui);
        });
        app.panels.show_debug = open;
    }
}

fn debug_window(app: &mut ViewerApp, ui: &mut egui::Ui) {
    let Some(frame) = app.shown else {
        ui.label("No frame shown.");
        return;
    };
    let refs = app.data.maps.get(frame).map_or(0, |m| m.refs.len());
    ui.horizontal_wrapped(|ui| {
        let mut choices = vec![DebugMap::Center, DebugMap::Semantic, DebugMap::IntraOffset];
        choices.extend((0..refs).map(DebugMap::InterOffset));
        for c in choices {
            ui.selectable_value(&mut app.panels.debug_map, c, c.name());
        }
    });
    let Some(maps) = app.data.maps.get(frame) else {
        ui.label(format!(
            "Raw maps of frame {frame} are not kept (only {} frames near the playhead are; pause near the processing head to see them).",
            app.data.maps.len()
        ));
        return;
    };
    if let Some(DebugMap::InterOffset(k)) = Some(app.panels.debug_map)
        && k >= maps.refs.len()
    {
        app.panels.debug_map = DebugMap::Center;
    }
    let which = app.panels.debug_map;
    let fresh = matches!(&app.panels.debug_texture, Some((f, w, _)) if *f == frame && *w == which);
    if !fresh {
        match debug_view::render(maps, which) {
            Some((w, h, rgb)) => {
                let img = egui::ColorImage::from_rgb([w, h], &rgb);
                let tex = ui.ctx().load_texture("ifa-debug", img, egui::TextureOptions::NEAREST);
                app.panels.debug_texture = Some((frame, which, tex));
            }
            None => {
                ui.label("This map is not available for this frame.");
                return;
            }
        }
    }
    if let Some(DebugMap::InterOffset(k)) = Some(which) {
        ui.label(format!(
            "towards frame {} (hue = direction, brightness = length)",
            maps.refs.get(k).copied().unwrap_or(0)
        ));
    }
    if let Some((_, _, tex)) = &app.panels.debug_texture {
        let size = tex.size_vec2();
        let k = (ui.available_width() / size.x).max(1.0);
        ui.image((tex.id(), size * k));
    }
}
