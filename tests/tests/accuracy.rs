//! Figures that describe the program without the profiler: a parent that loops over a short
//! child is charged neither the child's work nor its probe, the child's self time is near its
//! bare cost, counts stay exact and the invariants hold with the probe's cost taken off.
//!
//! The bounds are loose enough for a busy two-core machine, and tight enough to fail when the
//! probe's cost lands in the figures (a probe costs several times these functions' work). The
//! timing checks run on optimised builds only (`scripts/test.sh` runs this file with
//! `--release`): unoptimised, the probe is a hundred times its optimised cost and varies with
//! every line around it, and nobody profiles a debug build.

mod common;

use common::function;
use pipelinescope::profile;
use std::hint::black_box;
use std::time::Instant;

const CALLS: u64 = 200_000;

/// The tests here time things: one at a time, so that one's threads do not slow another's.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn alone() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A few steps of dependent work: a few nanoseconds optimised, more in a debug build.
#[inline(never)]
fn work(x: u64) -> u64 {
    let mut v = x;
    for _ in 0..4 {
        v = black_box(v).wrapping_mul(3).wrapping_add(1);
    }
    v
}

#[profile]
#[inline(never)]
fn acc_child(x: u64) -> u64 {
    work(x)
}

#[profile]
fn acc_parent(n: u64) -> u64 {
    let mut x = 1;
    for _ in 0..n {
        x = acc_child(x);
    }
    x
}

#[inline(never)]
fn bare_child(x: u64) -> u64 {
    work(x)
}

/// Nanoseconds per call of `f` in the parent's loop shape, the fastest of several rounds.
fn bare_per_call(f: fn(u64) -> u64, n: u64) -> f64 {
    (0..5)
        .map(|_| {
            let t = Instant::now();
            let mut x = 1;
            for _ in 0..n {
                x = f(x);
            }
            black_box(x);
            t.elapsed().as_nanos() as f64 / n as f64
        })
        .fold(f64::INFINITY, f64::min)
}

fn empty(x: u64) -> u64 {
    black_box(x)
}

#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "timing figures are checked on optimised builds"
)]
fn a_parent_is_not_charged_its_childs_probe() {
    let _alone = alone();
    // With the children mostly untimed, time the machine takes away during the loop (another
    // process, an interrupt) lands in the parent: up to three attempts for the timing bounds,
    // which today's figures could not meet in any (the parent there holds half the run).
    let mut failures = Vec::new();
    for attempt in 1..=3 {
        match attempt_once() {
            Ok(()) => return,
            Err(e) => {
                eprintln!("attempt {attempt}: {e}");
                failures.push(e);
            }
        }
    }
    panic!("three attempts failed: {failures:#?}");
}

/// One run of the parent; counts and invariants are asserted, timing bounds returned.
fn attempt_once() -> Result<(), String> {
    let truth = bare_per_call(bare_child, CALLS);
    let loop_truth = bare_per_call(empty, CALLS);
    let before = pipelinescope::snapshot();
    let start = Instant::now();
    black_box(acc_parent(CALLS));
    let wall = start.elapsed().as_nanos() as u64;
    let p = pipelinescope::snapshot().since(&before);
    let (parent, child) = (function(&p, "acc_parent"), function(&p, "acc_child"));
    let child_per_call = child.self_ns as f64 / CALLS as f64;
    let parent_per_call = parent.self_ns as f64 / CALLS as f64;
    let m = &p.meta;
    eprintln!(
        "bare child {truth:.2} ns/call, bare loop {loop_truth:.2} ns/iter; measured child \
         {child_per_call:.2} ns/call (raw {:.2}), parent {parent_per_call:.2} ns/iter (raw {:.2}); \
         probe inside {:.1} outside {:.1} untimed {:.1} ns; {} of {} calls timed",
        child.raw_self_ns as f64 / CALLS as f64,
        parent.raw_self_ns as f64 / CALLS as f64,
        m.probe_inside_ns,
        m.probe_outside_ns,
        m.probe_untimed_ns,
        child.timed_calls,
        child.calls,
    );

    // Counts are exact, and the histogram holds every call.
    assert_eq!(child.calls, CALLS);
    assert_eq!(parent.calls, 1);
    assert_eq!(child.histogram.count(), CALLS);
    assert!(child.timed_calls >= 1 && child.timed_calls <= CALLS);
    assert!(m.compensated);
    // Compensation took the probe's cost off: the raw figures are larger.
    assert!(child.raw_self_ns >= child.self_ns);
    assert!(parent.raw_self_ns > parent.self_ns);
    // Invariants: cumulative within the time that passed, self plus the child is the parent.
    assert!(
        parent.cumulative_ns <= wall,
        "{} > {wall}",
        parent.cumulative_ns
    );
    assert!(child.cumulative_ns <= parent.cumulative_ns);
    let sum = parent.self_ns + child.cumulative_ns;
    let diff = sum.abs_diff(parent.cumulative_ns);
    assert!(
        diff <= parent.cumulative_ns / 100 + 1_000,
        "self {} + child {} vs parent {}",
        parent.self_ns,
        child.cumulative_ns,
        parent.cumulative_ns
    );

    // The parent is no longer the top function by self time.
    let top = p.by_self()[0].name.clone();
    if top != "acc_child" || parent.self_ns >= child.self_ns {
        return Err(format!(
            "top by self time {top}: parent {} ns, child {} ns",
            parent.self_ns, child.self_ns
        ));
    }
    // The child's compensated self time is near its bare cost: under 3x, with 4 ns to spare.
    // (The calibration is measured once per process and the probe's real cost moves with where
    // its code and data land, so every attempt of one process shares its error: over 30
    // processes on a 2-core VM a 2.5-4 ns child read 3.2 to 8.2 ns, and one CI process read 7.5
    // in all three attempts. Uncompensated it read 40-65 ns.)
    if child_per_call >= 3.0 * truth + 4.0 {
        return Err(format!(
            "child {child_per_call:.2} ns/call against {truth:.2} bare"
        ));
    }
    Ok(())
}

// ---- a function that recurses is timed on every call and counted exactly -----------------

#[profile]
fn acc_fib(n: u32) -> u64 {
    if n < 2 {
        n as u64
    } else {
        acc_fib(n - 1) + acc_fib(n - 2)
    }
}

#[test]
fn a_recursive_function_is_timed_on_every_call() {
    let _alone = alone();
    let before = pipelinescope::snapshot();
    let start = Instant::now();
    assert_eq!(black_box(acc_fib(20)), 6_765);
    let wall = start.elapsed().as_nanos() as u64;
    let p = pipelinescope::snapshot().since(&before);
    let f = function(&p, "acc_fib");
    // fib(20) makes 21,891 calls.
    assert_eq!(f.calls, 21_891);
    assert_eq!(f.timed_calls, f.calls);
    assert!(f.cumulative_ns <= wall, "{} > {wall}", f.cumulative_ns);
    // Only the outermost activation counts: self is the whole of cumulative.
    assert!(f.self_ns <= f.cumulative_ns);
    assert!(f.self_ns >= f.cumulative_ns / 2, "{f:?}");
}

// ---- threads that come and go keep exact counts ------------------------------------------

#[profile]
#[inline(never)]
fn acc_thread_leaf(x: u64) -> u64 {
    work(x)
}

#[test]
fn sampled_calls_on_many_threads_are_counted_exactly() {
    let _alone = alone();
    let before = pipelinescope::snapshot();
    std::thread::scope(|s| {
        for t in 0..4u64 {
            s.spawn(move || {
                let mut x = t;
                for _ in 0..50_000 {
                    x = acc_thread_leaf(x);
                }
                black_box(x);
            });
        }
    });
    let p = pipelinescope::snapshot().since(&before);
    let f = function(&p, "acc_thread_leaf");
    assert_eq!(f.calls, 200_000);
    assert_eq!(f.histogram.count(), 200_000);
    assert!(f.timed_calls < f.calls, "a short leaf is sampled: {f:?}");
    assert!(f.percentiles.p50_ns <= f.percentiles.p99_ns);
}
