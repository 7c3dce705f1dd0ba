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
//! They are measured on a private thread, the first time a function site registers (the first
//! instrumented call) or a run starts, whichever comes first: rounds of calls of a short
//! instrumented function, timed and untimed, against the same function bare; the lower
//! quartile over rounds, so a round that lost the CPU to another process does not move the
//! figures. A measurement takes a few milliseconds, and a machine busy for all of them would
//! set dear costs for the whole process: the costs are measured again 0.25 s and 2.5 s later
//! and a measurement that shows the first one taken on a busy machine replaces it
//! (`RECHECKS_MS`, `shows_busy`). The calibration's calls
//! run on a thread state of their own that no registry lists, so they appear in no figure.

use crate::cost::{COMPENSATE, FP, MEASURED, SAMPLING, apply};
use crate::local::ThreadData;
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
            // On the CPU of the thread that waits for it (see `calibration_thread`).
            let cpu = crate::util::cpu_clock::current_cpu();
            calibration_thread(cpu, || {
                crate::threads::with_private_state(|td| {
                    // The line probe's cost too: here, before any call is timed, rather than
                    // inside the first call of a `#[profile(lines)]` function.
                    super::lines::calibrate();
                    measure(td)
                })
            })
            .and_then(|h| h.join().ok())
            .flatten()
        } else {
            None
        };
        if let Some(m) = measured {
            store(m);
        }
        apply();
        STATE.store(DONE, Release);
        if measured.is_some() {
            spawn_rechecks();
        }
        return;
    }
    while STATE.load(Acquire) != DONE {
        std::thread::yield_now();
    }
}

/// When the costs are measured again, after the first measurement: a machine busy for the few
/// milliseconds the first one takes (another process, a frequency change) would otherwise set
/// the costs of the whole process. Measured on a quiet 2-core VM, about one process in fifty
/// had its untimed cost at twice the others' and its timed call's inner part 5 ns high, and
/// every short function's figures off by as much.
const RECHECKS_MS: [u64; 2] = [250, 2_500];

/// Starts a thread of the calibration's own running `f`, its own sites never waiting for the
/// calibration, kept on `cpu` (on the CPU it starts on when None). Left to the scheduler, the
/// first measurement landed on either CPU of a 2-CPU VM and its timed calls' outer part read
/// 33 to 48 ns from one process to the next (untimed 6.3 to 7.3); kept on the waiting thread's
/// CPU, 46.7 to 48.1 (untimed 6.28 to 6.30) in six processes.
fn calibration_thread<R: Send + 'static>(
    cpu: Option<usize>,
    f: impl FnOnce() -> R + Send + 'static,
) -> Option<std::thread::JoinHandle<R>> {
    std::thread::Builder::new()
        .name("pipelinescope-calibrate".into())
        .spawn(move || {
            CALIBRATING.with(|c| c.set(true));
            if let Some(c) = cpu.or_else(crate::util::cpu_clock::current_cpu) {
                crate::util::cpu_clock::stay_on(c);
            }
            f()
        })
        .ok()
}

/// Measures the costs again at each of `RECHECKS_MS` after the first measurement, on a thread of
/// its own that no snapshot sees, and takes a measurement that shows the one in use was taken
/// on a busy machine (see `shows_busy`). Calls closed from then on take it off. Without the
/// thread, the first measurement stands.
fn spawn_rechecks() {
    let _detached = calibration_thread(None, || {
        let mut waited = 0;
        for at in RECHECKS_MS {
            std::thread::sleep(std::time::Duration::from_millis(at - waited));
            waited = at;
            let Some(m) = crate::threads::with_private_state(measure) else {
                return;
            };
            let now = [0, 1, 2].map(|i| MEASURED[i].load(Relaxed));
            if shows_busy(m, now) {
                store(cheaper(m, now));
                apply();
            }
        }
    });
}

/// Whether measurement `m` shows `now` taken on a busy machine: its timed call's inner part
/// and its untimed call together cost a tenth less or more. Those two parts read within 3% of
/// each other from one process to the next on a quiet machine, and a busy one makes them
/// dearer. The timed call's outer part is left out: before the measurement was kept on one CPU
/// it settled in one of a few levels per process (about 28 to 52 ns on one VM), and the rule
/// should not rest on it.
fn shows_busy(m: [u64; 3], now: [u64; 3]) -> bool {
    let quiet = |v: [u64; 3]| v[0] as f64 + v[2] as f64;
    quiet(m) < 0.9 * quiet(now)
}

/// Each cost the cheaper of `m` and `now`: a later measurement never makes a cost dearer. The
/// timed call's outer part is the difference of two timings, which a disturbance of the one
/// subtracted makes smaller, so a quieter measurement can read it higher; taken up, it would
/// take more off every caller of a timed call than the first measurement did (and off a
/// recursive function's every activation: with 10,000 of them in a debug build, that was
/// enough to bring the outermost one's inclusive time to zero).
fn cheaper(m: [u64; 3], now: [u64; 3]) -> [u64; 3] {
    [0, 1, 2].map(|i| m[i].min(now[i]))
}

/// Makes `m` the measured costs (applied by `apply`).
fn store(m: [u64; 3]) {
    for (to, v) in MEASURED.iter().zip(m) {
        to.store(v, Relaxed);
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
fn measure(td: &ThreadData) -> [u64; 3] {
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
    [inside.min(timed), timed.saturating_sub(inside), untimed]
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

    static PRIVATE: Site = Site::new("calibration::tests::private", "", "", 0, SiteKind::Sync);

    #[inline(never)]
    fn private_call() {
        let _g = super::super::function::enter(&PRIVATE);
        std::hint::black_box(1);
    }

    #[test]
    fn a_private_state_appears_in_no_snapshot() {
        let seen = std::thread::spawn(|| {
            crate::threads::with_private_state(|_| {
                for _ in 0..1_000 {
                    private_call();
                }
                // Taken while the state is in use, as a snapshot may be while a measurement
                // runs.
                let p = crate::snapshot::collect(1);
                p.functions
                    .iter()
                    .filter(|f| f.name.contains("calibration::tests::private"))
                    .map(|f| f.calls)
                    .sum::<u64>()
            })
        })
        .join()
        .unwrap();
        assert_eq!(seen, Some(0));
        // And a thread that has its own state already gets none.
        private_call();
        assert!(crate::threads::with_private_state(|_| ()).is_none());
    }

    #[test]
    fn a_second_measurement_reads_the_probe_raw_while_costs_are_applied() {
        let first = calibration();
        assert!(crate::cost::COSTS.inside.load(Relaxed) > 0 || !first.compensated);
        let again = std::thread::spawn(|| crate::threads::with_private_state(measure))
            .join()
            .unwrap()
            .unwrap();
        let ns = |fp: u64| crate::clock::ns_per_tick() * fp as f64 / f64::from(1u32 << FP);
        // Load only makes a measurement dearer; with the applied costs not added back, the
        // timed call's inner part would read about zero.
        assert!(
            ns(again[0]) > first.inside_ns / 3.0,
            "{} ns inside against {first:?}",
            ns(again[0])
        );
        assert!(ns(again[2]) > 0.0, "{again:?}");
    }

    #[test]
    fn a_measurement_is_replaced_only_when_it_was_taken_on_a_busy_machine() {
        // Inside and untimed together a tenth dearer or more: replaced, whatever the outer part.
        assert!(shows_busy([280, 480, 62], [328, 657, 129]));
        assert!(shows_busy([280, 600, 62], [328, 300, 129]));
        // Within a few percent, or dearer: kept, even with a much cheaper outer part.
        assert!(!shows_busy([275, 280, 61], [280, 480, 62]));
        assert!(!shows_busy([280, 480, 62], [280, 480, 62]));
        assert!(!shows_busy([300, 400, 70], [280, 480, 62]));
    }

    #[test]
    fn a_replacement_never_makes_a_cost_dearer() {
        assert_eq!(cheaper([280, 600, 62], [328, 300, 129]), [280, 300, 62]);
        assert_eq!(cheaper([280, 480, 62], [280, 480, 62]), [280, 480, 62]);
    }

    #[test]
    fn costs_are_measured_and_applied() {
        let c = calibration();
        assert!(c.inside_ns > 0.0 && c.inside_ns < 1_000.0, "{c:?}");
        assert!(c.untimed_ns < c.timed_ns(), "{c:?}");
        assert!(crate::cost::COSTS.inside.load(Relaxed) > 0);
    }
}
