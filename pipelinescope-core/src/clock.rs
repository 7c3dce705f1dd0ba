//! The clock the probes read: the CPU's time-stamp counter where it is invariant, else the OS
//! monotonic clock, both through `quanta`, which calibrates the TSC against the OS clock once.
//!
//! The hot path keeps raw ticks; conversion to nanoseconds happens when a snapshot is taken.

use std::sync::OnceLock;

static CLOCK: OnceLock<quanta::Clock> = OnceLock::new();
static FIRST_USE: OnceLock<std::time::Instant> = OnceLock::new();

/// Marks the first instrumented call of the process (called when a site registers).
pub fn mark_first_use() {
    FIRST_USE.get_or_init(std::time::Instant::now);
}

/// Time since the process's first instrumented call (zero before it).
pub fn since_first_use() -> std::time::Duration {
    FIRST_USE
        .get()
        .map_or(std::time::Duration::ZERO, |t| t.elapsed())
}

/// The process-wide calibrated clock.
pub fn clock() -> &'static quanta::Clock {
    CLOCK.get_or_init(quanta::Clock::new)
}

/// Raw ticks now.
#[inline(always)]
pub fn raw() -> u64 {
    clock().raw()
}

/// Converts a tick count (a difference of two raw readings) to nanoseconds.
pub fn ticks_to_ns(ticks: u64) -> u64 {
    if ticks == 0 {
        0
    } else {
        clock().delta_as_nanos(0, ticks)
    }
}

/// Nanoseconds per tick, for converting many values at once.
pub fn ns_per_tick() -> f64 {
    const PROBE: u64 = 1 << 40;
    ticks_to_ns(PROBE) as f64 / PROBE as f64
}

/// Name of the clock source in use, for the run metadata.
pub fn source_name() -> &'static str {
    // quanta falls back to the monotonic clock when the TSC is not invariant: the scale is then
    // exactly one nanosecond per tick.
    if ticks_to_ns(1 << 40) == 1 << 40 {
        "monotonic"
    } else {
        "tsc"
    }
}

/// How finely the clock measures here, in nanoseconds: the typical (median) step between a
/// reading and the first different one after it (measured once). Some virtual machines advance
/// the TSC in steps of several nanoseconds; durations are then multiples of that step.
pub fn resolution_ns() -> f64 {
    static RESOLUTION: OnceLock<f64> = OnceLock::new();
    *RESOLUTION.get_or_init(|| {
        let mut steps = Vec::with_capacity(1_001);
        for _ in 0..1_001 {
            let a = raw();
            let mut b = raw();
            // Spin until the clock moves, bounded so a stuck clock cannot hang the program.
            for _ in 0..1_000 {
                if b != a {
                    break;
                }
                b = raw();
            }
            if b > a {
                steps.push(b - a);
            }
        }
        if steps.is_empty() {
            return 0.0;
        }
        steps.sort_unstable();
        steps[steps.len() / 2] as f64 * ns_per_tick()
    })
}
