//! Rates and memory for the status bar.

use std::collections::VecDeque;
use std::time::Duration;

/// Mean of the last few durations, shown as a rate.
#[derive(Clone, Debug, Default)]
pub struct RateMeter {
    samples: VecDeque<f64>,
}

const WINDOW: usize = 60;

impl RateMeter {
    pub fn push(&mut self, d: Duration) {
        self.samples.push_back(d.as_secs_f64());
        if self.samples.len() > WINDOW {
            self.samples.pop_front();
        }
    }

    /// Mean duration in milliseconds.
    pub fn mean_ms(&self) -> Option<f64> {
        (!self.samples.is_empty()).then(|| 1000.0 * self.samples.iter().sum::<f64>() / self.samples.len() as f64)
    }

    /// Events per second implied by the mean duration.
    pub fn per_second(&self) -> Option<f64> {
        self.mean_ms().filter(|&m| m > 0.0).map(|m| 1000.0 / m)
    }
}

/// Resident memory of this process in bytes (Linux `/proc/self/statm`).
pub fn resident_bytes() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = s.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

pub fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_from_mean_duration() {
        let mut m = RateMeter::default();
        assert_eq!(m.per_second(), None);
        m.push(Duration::from_millis(10));
        m.push(Duration::from_millis(30));
        assert!((m.per_second().expect("rate") - 50.0).abs() < 1e-9);
        assert!(resident_bytes().is_some_and(|b| b > 0));
    }
}
