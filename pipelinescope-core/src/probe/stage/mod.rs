//! The stage probes: what `#[stage]` expands into.
//!
//! A lazy stage returns an iterator; it is wrapped in a [`StageIter`] that counts its records and
//! times some of its `next` calls over the iterator's whole life. The stage's iterator inputs are
//! wrapped in [`StageInput`], which counts records in and, when a timed call of its stage asks
//! (through the [`StageLink`] they share), times the pulls from upstream, so that time is not
//! charged to the stage. How little that costs per record, and which calls are timed, is in the
//! sections below. An eager stage (collections in, a collection out) is timed per call by a
//! [`StageCall`] and counts records from lengths ([`Records`]).
//!
//! Timing follows the function recorder: each thread keeps a small stack of open timed frames; a
//! frame's own time is its span minus the spans of the timed frames nested in it (upstream pulls,
//! nested stage calls). Figures live in per-thread, per-stage slots of atomics that only the
//! owning thread writes (a relaxed load and store, no lock prefix), read by [`collect`] from any
//! thread.
//!
//! Pipeline shape: a stage's iterator, on its first call, reads the stage published on its thread
//! (the stage pulling it); the records it hands out count on the edge to that stage.
//!
//! The files, by role: the output iterator ([`StageIter`]: `output`, its cold state
//! `output_cold`, its `fold` `output_fold`), the inputs ([`StageInput`]: `input`), the link
//! between them ([`StageLink`]: `link`), the eager call ([`StageCall`]: `call`, `records`),
//! the cold state the output and inputs share (`shared`), the timing policy and timed frames
//! (`timing`), and what timing costs (`calibrate`).
//!
//!
//! # What a record costs
//!
//! Per record, a wrapper counts down to its next slow call (one decrement and a branch on a field
//! of the wrapper), and after its inner call tests whether the call returned `None` or its
//! countdown is at 1, where a slow call keeps it (`next`), or whether some wrapper waits for the
//! consumer to return (`fold`: one thread-local load). No clock, nothing shared written. Records
//! in and out are not counted one by one: they are the calls the countdowns went through, less
//! the calls that returned `None`, added to the thread's figures at the slow calls and when the
//! wrapper drops.
//!
//! With the `alloc` feature the output also publishes which stage the thread is in on every
//! record (two stores to the thread's `current_stage`), so that the allocation tracker charges
//! each allocation to the stage running. Without it a stage publishes itself only during its
//! slow calls and first pulls, which is enough for a stage to learn, on its first call, which
//! stage pulls it (the pipeline's edges).
//!
//! # What is timed
//!
//! A stage's first call is timed, and so is every call while the stage's own work per call is
//! long next to what timing costs; otherwise calls are sampled so that timing takes about
//! [`TIMING_BUDGET`] of the stage's cycle time (its own call plus the wait for the next one),
//! at random intervals of at most [`MAX_GAP`] calls. A timed call's own time is its span less
//! the pulls from upstream made inside it, which the stage's inputs time while their stage asks
//! them to: the output arms the link, each input looks at it on its next slow pull (every
//! `poll` pulls) and from then on at every pull, and the output times a call once every live
//! input has joined (or after a few tries); the joined inputs time the pulls made while that
//! call is open. What timing adds inside a timed call and inside its timed pulls (the clock
//! readings, the slow paths between them) is measured once per process on this module's own
//! code and taken off (see `calibrate`). A sampled call stands for the calls since the previous
//! timed one: the stage's own time is the exact calls as they were plus the other calls at the
//! weighted mean of the sampled ones, and the per-record histogram holds each sampled record
//! with that weight, so that it counts every record out.
//!
//! Downstream wait is not sampled: an iterator's active time (from the start of its first call
//! to the end of its last) is counted exactly, and whatever its calls did not take of it was
//! spent waiting for the consumer.
//!
//! A slow `next` call that returns a record ends inline in the caller's loop: a clock reading
//! (one instruction where the CPU has a counter, see [`Start::raw_now`]), its frame closed, its
//! stage's announcement taken back. No function is called there: the compiler would then keep
//! every value of the loop safe from the call on every record (the sensor pipeline collected
//! into a `Vec` cost +18% that way, +5% this way). The rest (recording the call, choosing the
//! next one to time) is done by the next call, which is slow for that reason, or when the
//! iterator drops. A call that returns `None` ends out of line.
//!
//! In a `fold`, a call runs from the return of the consumer's closure to the next record handed
//! to it. The decision to time the next call is taken as a record arrives; the clock is read
//! when the consumer returns, by the wrappers counted in `AWAITING`.

mod calibrate;
mod call;
mod input;
mod invocation;
mod link;
mod output;
mod output_cold;
mod output_fold;
mod records;
mod shared;
mod timing;

pub use calibrate::{PathCosts, StageCalibration, calibration};
pub use call::{StageCall, call};
pub use input::StageInput;
pub use link::StageLink;
pub use output::StageIter;
pub use records::Records;
pub use timing::{MAX_GAP, OUTLIER_FACTOR, TIMING_BUDGET};

use crate::local::stage::StageThread;

/// The current thread's stage state, made on first use; None while the thread exits.
#[inline(always)]
fn local() -> Option<&'static StageThread> {
    crate::threads::local().map(|td| &td.stage)
}

#[inline(always)]
fn recording() -> bool {
    crate::control::enabled()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::StageKind;
    use crate::site::StageSite;
    use std::time::{Duration, Instant};

    static SLOW_OUT: StageSite = StageSite::new("lazy_test_slow_out", "t", "f", 1, StageKind::Lazy);
    static SLOW_IN: StageSite = StageSite::new("lazy_test_slow_in", "t", "f", 2, StageKind::Lazy);

    fn spin(d: Duration) {
        let start = Instant::now();
        while start.elapsed() < d {
            std::hint::spin_loop();
        }
    }

    fn awaiting() -> u32 {
        super::shared::awaiting_count()
    }

    /// A stage slow enough to be timed on every call (60 us a record) waits for its consumer on
    /// every record, and so does its input; a consumer that panics leaves no wrapper counted as
    /// waiting, or every fold on the thread would take its slow path from then on.
    #[test]
    fn a_panicking_consumer_leaves_no_wrapper_waiting() {
        std::thread::spawn(|| {
            let r = std::panic::catch_unwind(|| {
                let link = StageLink::new(&SLOW_OUT);
                let input = StageInput::new(&link, 0..100u32);
                let out = StageIter::with_inputs(
                    &SLOW_OUT,
                    link,
                    input.inspect(|_| spin(Duration::from_micros(60))),
                );
                out.for_each(|x| {
                    assert!(x < 20, "boom");
                });
            });
            assert!(r.is_err());
            assert_eq!(awaiting(), 0);
            // And the thread folds normally afterwards: every record counted.
            let n = StageIter::new(&SLOW_IN, 0..50u32).fold(0, |n, _| n + 1);
            assert_eq!(n, 50);
            assert_eq!(awaiting(), 0);
        })
        .join()
        .unwrap();
    }
}
