//! Shared by the benchmark binaries.

pub mod policy_text;

use std::time::{Duration, Instant};

/// The best of `runs` timings of `f`.
pub fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> Duration {
    let mut best = Duration::MAX;
    for _ in 0..runs {
        let start = Instant::now();
        std::hint::black_box(f());
        best = best.min(start.elapsed());
    }
    best
}
