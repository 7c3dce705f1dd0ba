//! What the function probe costs, as the recorder takes it off: the measured costs in
//! fixed-point ticks and the switches that decide whether they are applied. Plain values: the
//! measurement itself runs the probes (`probe::calibrate`).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::*};

/// Fractional bits of the fixed-point tick amounts the recorder keeps probe costs in: a probe
/// costs a few dozen ticks, and a parent subtracts it once per nested call, so whole ticks would
/// add up a rounding error of up to one tick per call.
pub(crate) const FP: u32 = 8;

/// The costs the recorder takes off, in fixed-point ticks (`FP` fractional bits). Written once
/// when calibration ends (or by `set_compensation`), read by every timed exit.
#[repr(align(64))]
pub(crate) struct Costs {
    /// Inside a timed call's own interval.
    pub inside: AtomicU64,
    /// In the caller's interval, for a timed call.
    pub outside: AtomicU64,
    /// In the caller's interval, for an untimed call.
    pub untimed: AtomicU64,
}

pub(crate) static COSTS: Costs = Costs {
    inside: AtomicU64::new(0),
    outside: AtomicU64::new(0),
    untimed: AtomicU64::new(0),
};

/// The measured costs in fixed-point ticks, kept whether or not they are applied.
pub(crate) static MEASURED: [AtomicU64; 3] =
    [AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)];

pub(crate) static COMPENSATE: AtomicBool = AtomicBool::new(true);
pub(crate) static SAMPLING: AtomicBool = AtomicBool::new(true);

/// Whether functions much shorter than the probe are timed on a random sample of their calls
/// (default on; counts stay exact). Off, every call is timed. Applies to timing decisions made
/// from now on.
pub fn set_sampling(on: bool) {
    SAMPLING.store(on, Relaxed);
}

/// Whether sampling is on.
#[inline(always)]
pub(crate) fn sampling() -> bool {
    SAMPLING.load(Relaxed)
}

/// Copies the measured costs into the applied ones, or zeroes, as compensation is on or off.
pub(crate) fn apply() {
    let on = COMPENSATE.load(Relaxed);
    for (to, from) in [&COSTS.inside, &COSTS.outside, &COSTS.untimed]
        .into_iter()
        .zip(&MEASURED)
    {
        to.store(if on { from.load(Relaxed) } else { 0 }, Relaxed);
    }
}
