//! What timing a lazy stage's call costs, measured once per process on the wrappers' own code.
//!
//! A sampled call stands for the calls since the previous timed one, so whatever timing adds
//! inside a timed call's span is scaled up to every call it stands for. On a VM where a counter
//! reading takes 9 ns, a timed `next` call with one timed pull owned about 50 ns more than the
//! same call untimed (its readings, the input's slow pull path, the frames), and the pull's span
//! about 20 ns more than the pull; the probe taken off before (the same readings run back to
//! back, without the wrappers' slow paths around them) saw 30 of the 50 and none of the 20.
//!
//! So the costs are measured on the real path: a private stage (id 0, which the stage table
//! never shows) over an iterator that does nothing, alone and over a timed input, drained by
//! `next` and by `fold`, sampled by the same schedule as any stage (at most [`GAP`] calls apart).
//! Its timed calls' own time and pull spans, less what the same wrappers cost untimed, are what
//! timing adds inside spans: per round the trimmed mean of its samples (an interrupt in a few of
//! them does not move it, and unlike a median it is not held to the clock's steps), over the
//! rounds the least (other work on the machine only makes a round dearer). A timed call of a
//! real stage is then charged its span less its pulls less these costs ([`Costs::own`]), its
//! pulls their spans less theirs ([`Costs::pulls`]), and the stage's downstream wait is its
//! active time less its calls and what timing them cost ([`Costs::probe`]).

use super::input::StageInput;
use super::link::StageLink;
use super::local;
use super::output::StageIter;
use crate::clock::raw;
use std::cell::RefCell;
use std::hint::black_box;
use std::sync::OnceLock;

pub use crate::profile::{PathCosts, StageCalibration};

/// The calibrated costs of timing a lazy stage's call, in nanoseconds: what is taken off each
/// timed call's own time and pulls, and off downstream wait, so that sampled figures are those
/// of the calls they stand for. Measured once per process, on the thread of the first lazy
/// stage made while recording (7 to 15 ms on a 2-core VM, kept out of the own time of a stage
/// open around it); zero when nothing was measured (not recording, or no stage made yet).
pub fn calibration() -> StageCalibration {
    let Some(c) = COSTS.get() else {
        return StageCalibration::default();
    };
    let ns = crate::clock::ns_per_tick();
    let path = |p: &Costs| PathCosts {
        call_inside_ns: p.call as f64 * ns,
        pull_in_call_ns: p.pull_out as f64 * ns,
        pull_inside_ns: p.pull_in as f64 * ns,
    };
    StageCalibration {
        next: path(&c[0]),
        fold: path(&c[1]),
        ns_per_tick: ns,
    }
}

/// [`PathCosts`] in clock ticks.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Costs {
    call: u64,
    pull_out: u64,
    pull_in: u64,
}

impl Costs {
    /// Own time of a timed call of span `span` with `child` ticks in `nested` timed pulls.
    #[inline]
    pub(super) fn own(&self, span: u64, child: u64, nested: u32) -> u64 {
        let n = u64::from(nested);
        (span - child).saturating_sub(self.call + self.pull_out * n)
    }

    /// The upstream time of `nested` timed pulls that took `child` ticks.
    #[inline]
    pub(super) fn pulls(&self, child: u64, nested: u32) -> u64 {
        child.saturating_sub(self.pull_in * u64::from(nested))
    }

    /// What timing added inside the spans of a timed call with `nested` timed pulls: in the
    /// iterator's active time, but neither the stage's nor its consumer's.
    #[inline]
    pub(super) fn probe(&self, nested: u32) -> u64 {
        self.call + (self.pull_out + self.pull_in) * u64::from(nested)
    }
}

static COSTS: OnceLock<[Costs; 2]> = OnceLock::new();

/// The costs of a call drained by `next` (`fold` false) or in a `fold`, measuring them first if
/// this is the first time.
#[inline]
pub(super) fn costs(fold: bool) -> &'static Costs {
    &COSTS.get_or_init(measure)[usize::from(fold)]
}

/// Measures the costs now, if they are not yet (see [`costs`]).
pub(super) fn ensure() {
    let _ = costs(false);
}

thread_local! {
    /// The timed calls of the calibration stage: `(span, child, exact)` of each.
    static SAMPLES: RefCell<Option<Vec<(u64, u64, bool)>>> = const { RefCell::new(None) };
}

/// A timed call of the calibration stage (id 0) closed: kept while calibrating.
pub(super) fn sample(span: u64, child: u64, exact: bool) {
    SAMPLES.with(|s| {
        if let Some(v) = s.borrow_mut().as_mut()
            && v.len() < v.capacity()
        {
            v.push((span, child, exact));
        }
    });
}

/// Calls per round, rounds per case, and the most calls between two samples of the calibration
/// stage (a stage as cheap is sampled every 2,048 to 6,144 calls; a few hundred is within what
/// other stages see, and gives a hundred samples a round).
const CALLS: u64 = 1 << 15;
const GAP: u32 = 256;
const ROUNDS: usize = 7;

fn median(v: &mut [u64]) -> u64 {
    if v.is_empty() {
        return 0;
    }
    v.sort_unstable();
    v[v.len() / 2]
}

/// The mean of `v` without its lowest and highest tenth: a preemption or an interrupt in a few
/// samples does not move it, and unlike a median it is not held to the clock's steps (10 ns on
/// some machines, as long as the costs measured).
fn trimmed_mean(v: &mut [u64]) -> u64 {
    if v.is_empty() {
        return 0;
    }
    v.sort_unstable();
    let cut = v.len() / 10;
    let kept = &v[cut..v.len() - cut];
    kept.iter().sum::<u64>() / kept.len() as u64
}

/// Drains `it` by `next` or by `fold`: the time per record, in ticks times 16.
fn drain<I: Iterator<Item = u64>>(it: I, fold: bool) -> u64 {
    let t0 = raw();
    let n = if fold {
        it.fold(0u64, |n, x| {
            black_box(x);
            n + 1
        })
    } else {
        let mut n = 0u64;
        // (A `for` loop: one `next` at a time.)
        for x in it {
            black_box(x);
            n += 1;
        }
        n
    };
    (raw().saturating_sub(t0) * 16).checked_div(n).unwrap_or(0)
}

/// What the calibration stage's sampled calls looked like over a few rounds: their own time
/// and pull span (the least over rounds of each round's trimmed mean).
struct Case {
    own: u64,
    child: u64,
}

/// The calibration stage with an input (`input`) or without, drained by `fold` or by `next`.
fn case(input: bool, fold: bool) -> Case {
    let mut own = Vec::new();
    let mut child = Vec::new();
    for _ in 0..ROUNDS {
        SAMPLES.with(|s| *s.borrow_mut() = Some(Vec::with_capacity(1024)));
        let link = StageLink::calibrating();
        let source = (0..CALLS).map(black_box);
        if input {
            let input = StageInput::new(&link, source);
            drain(
                StageIter::calibrating(link, input.map(black_box), GAP),
                fold,
            );
        } else {
            drain(StageIter::calibrating(link, source, GAP), fold);
        }
        let got = SAMPLES.with(|s| s.borrow_mut().take()).unwrap_or_default();
        // The first call of each round is timed as itself, with a cold start: left out.
        let sampled: Vec<(u64, u64)> = got.iter().filter(|s| !s.2).map(|s| (s.0, s.1)).collect();
        if sampled.len() < 16 {
            continue;
        }
        let mut o: Vec<u64> = sampled.iter().map(|&(span, c)| span - c).collect();
        let mut c: Vec<u64> = sampled.iter().map(|&(_, c)| c).collect();
        own.push(trimmed_mean(&mut o));
        child.push(trimmed_mean(&mut c));
    }
    // The least of the rounds: other work on the machine (another process on the core, or on
    // its cache) only ever makes a round dearer.
    Case {
        own: own.iter().copied().min().unwrap_or(0),
        child: child.iter().copied().min().unwrap_or(0),
    }
}

/// Measures both ways of draining (see the module docs).
#[cold]
fn measure() -> [Costs; 2] {
    let Some(t) = local() else {
        return [Costs::default(); 2];
    };
    // The recorder's own memory is not the program's.
    #[cfg(feature = "alloc")]
    let _quiet = crate::util::quiet::quiet_here();
    // The calibration's frames close into whatever frame is open on this thread (a stage made
    // inside an eager stage, or inside a timed call): put it back as it was, and count the
    // calibration's time as that frame's child, not as its own.
    let t_start = raw();
    let saved = {
        // SAFETY: owning thread, no other borrow alive.
        let owner = unsafe { t.owner() };
        owner
            .depth
            .checked_sub(1)
            .and_then(|d| owner.frames.get(d).copied())
    };
    let mut out = [Costs::default(); 2];
    let untimed = |f: &dyn Fn() -> u64| {
        let mut v: Vec<u64> = (0..ROUNDS).map(|_| f()).collect();
        median(&mut v)
    };
    for (fold, costs) in [false, true].into_iter().zip(out.iter_mut()) {
        // What the wrappers cost untimed (not recording: the same hot path, no slow calls),
        // per call in ticks times 16: an input alone, and a stage over an input.
        let pull = untimed(&|| {
            let link = StageLink::off();
            drain(StageInput::new(&link, (0..CALLS).map(black_box)), fold)
        });
        let both = untimed(&|| {
            let link = StageLink::off();
            let input = StageInput::new(&link, (0..CALLS).map(black_box));
            drain(StageIter::off(input.map(black_box)), fold)
        });
        let alone = case(false, fold);
        let over = case(true, fold);
        // Untimed, a call of the stage, a pull of its input, and a call of the source each
        // cost about one wrapper around one trivial step: what the stage adds to the input.
        let unit = both.saturating_sub(pull) / 16;
        let call = alone.own.saturating_sub(unit);
        let with_pull = over.own.saturating_sub(unit);
        let pull_in = over.child.saturating_sub(unit);
        *costs = Costs {
            call,
            pull_out: with_pull.saturating_sub(call),
            pull_in,
        };
    }
    // SAFETY: owning thread, no other borrow alive.
    let owner = unsafe { t.owner() };
    if let (Some(mut f), Some(d)) = (saved, owner.depth.checked_sub(1)) {
        f.child += raw().saturating_sub(t_start);
        owner.frames[d] = f;
    }
    out
}
