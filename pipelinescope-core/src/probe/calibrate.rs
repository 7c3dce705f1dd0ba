//! What the function probe costs, measured on the real probe path, and the switches that decide
//! how that cost is taken back out of the figures.
//!
//! A timed call's probe costs time in two places: part of it falls between the two clock
//! readings, inside the call's own measured interval (the end of `enter` after its reading, the
//! start of the guard's drop before its reading), and the rest falls outside, in the caller's
//! interval (looking up the call path, setting up the frame, adding to the counters).
//! An untimed call (see `sampling`) reads no clock, and all of its smaller cost falls in the
//! caller's interval. The recorder takes these three costs off every timed call as it closes,
//! so the figures describe the program as it would run without the probe.
//!
//! They are measured once per process, on a private thread, the first time a function site
//! registers (the first instrumented call) or a run starts, whichever comes first: rounds of
//! calls of a short instrumented function, timed and untimed, against the same function bare;
//! the lower quartile over rounds, so a round that lost the CPU to another process does not
//! move the figures.

use crate::cost::{COMPENSATE, FP, MEASURED, SAMPLING, apply};
use crate::site::{Site, SiteKind};
use std::cell::Cell;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering::*};

/// What one instrumented function call costs on this machine, as measured at start.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Calibration {
    /// Part of a timed call's probe inside its own measured interval, nanoseconds.
    pub inside_ns: f64,
    /// Part of a timed call's probe in its caller's interval, nanoseconds.
    pub outside_ns: f64,
    /// Whole cost of an untimed (counted, not timed) call, all in its caller's interval.
    pub untimed_ns: f64,
    /// Whether the recorder takes these costs off the figures.
    pub compensated: bool,
    /// Whether short functions are timed on a sample of their calls (else on every call).
    pub sampled: bool,
}

impl Calibration {
    /// Whole cost of a timed call (inside plus outside), nanoseconds.
    pub fn timed_ns(&self) -> f64 {
        self.inside_ns + self.outside_ns
    }
}

/// The calibration, measuring it first if that has not happened yet.
pub fn calibration() -> Calibration {
    ensure();
    let ns = |a: &AtomicU64| {
        crate::clock::ns_per_tick() * a.load(Relaxed) as f64 / f64::from(1u32 << FP)
    };
    Calibration {
        inside_ns: ns(&MEASURED[0]),
        outside_ns: ns(&MEASURED[1]),
        untimed_ns: ns(&MEASURED[2]),
        compensated: COMPENSATE.load(Relaxed),
        sampled: SAMPLING.load(Relaxed),
    }
}

/// Whether the probe's measured cost is taken off the figures (default on). Off, figures are
/// raw: they include the probe's cost, as a profiler without compensation shows them. Applies
/// to calls that close from now on.
pub fn set_compensation(on: bool) {
    ensure();
    COMPENSATE.store(on, Relaxed);
    apply();
    super::lines::apply();
}

const NOT_STARTED: u8 = 0;
const RUNNING: u8 = 1;
const DONE: u8 = 2;
static STATE: AtomicU8 = AtomicU8::new(NOT_STARTED);

thread_local! {
    /// True on the calibration thread, whose own sites must not wait for it.
    static CALIBRATING: Cell<bool> = const { Cell::new(false) };
}

/// Measures the costs once per process; a thread that arrives while another measures waits for
/// it, so that no call closes with costs half set.
pub fn ensure() {
    if STATE.load(Acquire) == DONE {
        return;
    }
    ensure_slow();
}

#[cold]
#[inline(never)]
fn ensure_slow() {
    if CALIBRATING.try_with(Cell::get).unwrap_or(true) {
        return;
    }
    if STATE
        .compare_exchange(NOT_STARTED, RUNNING, AcqRel, Acquire)
        .is_ok()
    {
        let measured = if crate::control::enabled() {
            std::thread::Builder::new()
                .name("pipelinescope-calibrate".into())
                .spawn(|| {
                    CALIBRATING.with(|c| c.set(true));
                    // The line probe's cost too: here, before any call is timed, rather than
                    // inside the first call of a `#[profile(lines)]` function.
                    super::lines::calibrate();
                    measure()
                })
                .ok()
                .and_then(|h| h.join().ok())
                .flatten()
        } else {
            None
        };
        if let Some(m) = measured {
            for (to, v) in MEASURED.iter().zip(m) {
                to.store(v, Relaxed);
            }
        }
        apply();
        STATE.store(DONE, Release);
        return;
    }
    while STATE.load(Acquire) != DONE {
        std::thread::yield_now();
    }
}

/// Rounds of each measurement; the lower quartile is kept.
const ROUNDS: usize = 15;
/// Calls per round.
const CALLS: u32 = 4_096;
/// One call in this many is timed while the timed cost is measured, as in a sampled path: a
/// timed call among untimed ones, which is how nearly every timed call of a short function
/// runs (back to back, the clock readings of consecutive calls delay each other).
const TIMED_EVERY: u32 = 16;
/// Steps of the dependent chain the measured function runs: a few nanoseconds of work, the
/// size of function whose figures compensation decides. (The probe's instructions overlap
/// with a function's own work, the more so the longer its dependent chains: around a long
/// chain a probe costs less than around a short one, and the calibration is right for short
/// functions, where the difference matters, and a few nanoseconds high for long ones, where
/// it is within their noise.)
const WORK_STEPS: u32 = 4;

static EMPTY: Site = Site::new("<calibration>", "", "", 0, SiteKind::Sync);

/// The work of the measured function: a dependent chain the optimiser cannot shorten.
#[inline(never)]
fn work(x: u64) -> u64 {
    let mut v = x;
    for _ in 0..WORK_STEPS {
        v = std::hint::black_box(v).wrapping_mul(3).wrapping_add(1);
    }
    v
}

/// A function as the macro writes it: the probe's cost includes what it makes the function
/// save and restore around its body.
#[inline(never)]
fn instrumented(x: u64) -> u64 {
    let _g = super::function::enter(&EMPTY);
    work(x)
}

/// The same function bare.
#[inline(never)]
fn bare(x: u64) -> u64 {
    work(x)
}

/// Ticks for `CALLS` calls of `f`, each fed the previous result so that calls cannot overlap.
fn calls(f: fn(u64) -> u64) -> u64 {
    let t0 = crate::clock::raw();
    let mut x = t0;
    for _ in 0..CALLS {
        x = f(x);
    }
    std::hint::black_box(x);
    crate::clock::raw() - t0
}

/// `[inside, outside, untimed]` in fixed-point ticks, on this (private) thread, through the
/// same `enter` and guard that instrumented code expands to. Inside: a timed call's measured
/// interval less the work's bare time. Untimed: what an untimed call adds to the bare
/// function. Timed: what a timed call adds, from calls timed one in `TIMED_EVERY`.
fn measure() -> Option<[u64; 3]> {
    let td = crate::threads::local()?;
    let id = EMPTY.id();
    let mut inside = Vec::with_capacity(ROUNDS);
    let mut timed = Vec::with_capacity(ROUNDS);
    let mut untimed = Vec::with_capacity(ROUNDS);
    let per_call = |ticks: u64| (ticks << FP) / u64::from(CALLS);
    // One round unmeasured first: the code and the call path's node are cold.
    for round in 0..=ROUNDS {
        td.force_gap(id, TIMED_EVERY);
        let (n0, sum0) = td.top_figures(id);
        let mixed = calls(instrumented);
        let (n1, sum1) = td.top_figures(id);
        td.force_gap(id, u32::MAX);
        let none = calls(instrumented);
        let plain = calls(bare);
        let n = n1 - n0;
        if round == 0 || n == 0 {
            continue;
        }
        let per_untimed = per_call(none.saturating_sub(plain));
        // Untimed calls add the path's mean, zero here: the sum is the timed calls'.
        let interval = sum1.wrapping_sub(sum0) / n;
        inside.push(interval.saturating_sub(per_call(plain)));
        timed.push(per_untimed + (mixed.saturating_sub(none) << FP) / n);
        untimed.push(per_untimed);
    }
    let inside = lower_quartile(&mut inside);
    let timed = lower_quartile(&mut timed);
    let untimed = lower_quartile(&mut untimed);
    // The calibration's calls appear nowhere.
    crate::threads::forget_current_thread(td);
    Some([inside.min(timed), timed.saturating_sub(inside), untimed])
}

/// The lower quartile: a round that lost the CPU, or shared its core with a busy neighbour,
/// is slower, never faster, so the quieter rounds tell the probe's own cost; the quartile
/// rather than the minimum, which one lucky round would set.
fn lower_quartile(v: &mut [u64]) -> u64 {
    v.sort_unstable();
    v.get(v.len() / 4).copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn costs_are_measured_and_applied() {
        let c = calibration();
        assert!(c.inside_ns > 0.0 && c.inside_ns < 1_000.0, "{c:?}");
        assert!(c.untimed_ns < c.timed_ns(), "{c:?}");
        assert!(crate::cost::COSTS.inside.load(Relaxed) > 0);
    }
}
