//! The playhead: current frame, play/pause, speed, loop, stepping and seeking, and the clock
//! that advances it. Plain state with no threads or pictures, so every rule is unit-tested here.

use std::time::{Duration, Instant};

/// Playback speeds offered in the speed menu; speed keys move along the same powers of two.
pub const SPEEDS: [f32; 7] = [0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0];

#[derive(Debug)]
pub struct Playback {
    current: usize,
    playing: bool,
    speed: f32,
    looping: bool,
    /// Fraction of a frame the clock has advanced past `current`.
    accum: f64,
    /// A seek waiting for its frame to be shown: (frame, when).
    seek_started: Option<(usize, Instant)>,
    /// Time from the last seek to its frame being on screen (ms).
    last_seek_ms: Option<f64>,
}

impl Default for Playback {
    fn default() -> Self {
        Self {
            current: 0,
            playing: false,
            speed: 1.0,
            looping: false,
            accum: 0.0,
            seek_started: None,
            last_seek_ms: None,
        }
    }
}

impl Playback {
    pub fn current(&self) -> usize {
        self.current
    }

    pub fn playing(&self) -> bool {
        self.playing
    }

    pub fn speed(&self) -> f32 {
        self.speed
    }

    pub fn looping(&self) -> bool {
        self.looping
    }

    /// Time from the last seek to its frame being on screen (ms), once it was shown.
    pub fn last_seek_ms(&self) -> Option<f64> {
        self.last_seek_ms
    }

    pub fn set_looping(&mut self, on: bool) {
        self.looping = on;
    }

    /// Sets the speed, clamped to the offered range.
    pub fn set_speed(&mut self, speed: f32) {
        if speed.is_finite() {
            self.speed = speed.clamp(SPEEDS[0], SPEEDS[SPEEDS.len() - 1]);
        }
    }

    pub fn slower(&mut self) {
        self.set_speed(self.speed / 2.0);
    }

    pub fn faster(&mut self) {
        self.set_speed(self.speed * 2.0);
    }

    pub fn play(&mut self) {
        self.playing = true;
    }

    pub fn pause(&mut self) {
        self.playing = false;
    }

    /// Play/pause; playing from the last frame starts over.
    pub fn toggle(&mut self, frames: usize) {
        if !self.playing && self.current + 1 >= frames {
            self.seek(0, frames);
        }
        self.playing = !self.playing;
    }

    /// Moves the playhead to `frame` (clamped to the video); nothing when the video is empty.
    pub fn seek(&mut self, frame: usize, frames: usize) {
        if frames == 0 {
            return;
        }
        let f = frame.min(frames - 1);
        if f != self.current {
            self.seek_started = Some((f, Instant::now()));
        }
        self.current = f;
        self.accum = 0.0;
    }

    /// Steps by `delta` frames and pauses.
    pub fn step(&mut self, delta: i64, frames: usize) {
        let f = (self.current as i64).saturating_add(delta).max(0) as usize;
        self.playing = false;
        self.seek(f, frames);
    }

    /// Back to frame 0, paused (a new video).
    pub fn reset(&mut self) {
        self.current = 0;
        self.playing = false;
        self.accum = 0.0;
        self.seek_started = None;
    }

    /// Advances the clock by `dt` at `fps` × speed: wraps when looping, else stops at the end.
    pub fn advance(&mut self, dt: Duration, fps: f64, frames: usize) {
        if !self.playing || frames == 0 {
            return;
        }
        self.accum += dt.as_secs_f64() * fps * f64::from(self.speed);
        while self.accum >= 1.0 {
            self.accum -= 1.0;
            if self.current + 1 < frames {
                self.current += 1;
            } else if self.looping {
                self.current = 0;
            } else {
                self.playing = false;
                self.accum = 0.0;
                break;
            }
        }
        // Never run more than a frame ahead of what can be shown.
        self.accum = self.accum.min(1.0);
    }

    /// Frame `index` is on screen: completes the seek that asked for it.
    pub fn shown(&mut self, index: usize) {
        if let Some((f, t)) = self.seek_started
            && f == index
        {
            self.last_seek_ms = Some(t.elapsed().as_secs_f64() * 1000.0);
            self.seek_started = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: Duration = Duration::from_secs(1);

    #[test]
    fn seek_clamps_and_an_empty_video_has_no_playhead() {
        let mut p = Playback::default();
        p.seek(99, 10);
        assert_eq!(p.current(), 9);
        p.seek(3, 0);
        assert_eq!(p.current(), 9, "unchanged without frames");
        p.step(-20, 10);
        assert_eq!(p.current(), 0);
    }

    #[test]
    fn stepping_pauses_and_playing_at_the_end_starts_over() {
        let mut p = Playback::default();
        p.seek(9, 10);
        p.toggle(10);
        assert!(p.playing());
        assert_eq!(p.current(), 0, "play at the last frame rewinds");
        p.step(1, 10);
        assert!(!p.playing());
        assert_eq!(p.current(), 1);
    }

    #[test]
    fn the_clock_moves_at_fps_times_speed_and_stops_or_loops_at_the_end() {
        let mut p = Playback::default();
        p.play();
        p.advance(SEC / 4, 20.0, 100);
        assert_eq!(p.current(), 5);
        p.set_speed(2.0);
        p.advance(SEC / 4, 20.0, 100);
        assert_eq!(p.current(), 15);
        p.advance(SEC * 10, 20.0, 100);
        assert_eq!(p.current(), 99);
        assert!(!p.playing(), "stops at the end");
        p.set_looping(true);
        p.play();
        p.advance(SEC / 10, 20.0, 100);
        assert_eq!(p.current(), 3, "wraps: 99 -> 0 -> 1 -> 2 -> 3");
        let before = p.current();
        p.pause();
        p.advance(SEC, 20.0, 100);
        assert_eq!(p.current(), before, "paused, the clock stands");
    }

    #[test]
    fn speed_stays_in_the_offered_range() {
        let mut p = Playback::default();
        for _ in 0..10 {
            p.faster();
        }
        assert_eq!(p.speed(), 8.0);
        for _ in 0..10 {
            p.slower();
        }
        assert_eq!(p.speed(), 0.125);
        p.set_speed(f32::NAN);
        assert_eq!(p.speed(), 0.125);
    }

    #[test]
    fn a_seek_is_timed_until_its_frame_is_shown() {
        let mut p = Playback::default();
        p.seek(5, 10);
        p.shown(4);
        assert_eq!(p.last_seek_ms(), None, "another frame does not complete it");
        p.shown(5);
        assert!(p.last_seek_ms().is_some());
    }
}
