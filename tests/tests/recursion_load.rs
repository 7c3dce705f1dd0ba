//! Recursion through another function on a loaded machine: a test binary of its own, because
//! its busy threads would disturb the timing of any test running beside it (and the probe's
//! cost, measured at a process's first instrumented call).

mod common;

use common::function;
use pipelinescope::profile;
use std::hint::black_box;
use std::time::Instant;

#[profile]
fn mr_even(n: u32) -> u64 {
    let a = black_box(u64::from(n)).wrapping_mul(3);
    if n == 0 {
        a
    } else {
        mr_odd(n - 1).wrapping_add(a)
    }
}

#[profile]
fn mr_odd(n: u32) -> u64 {
    let a = black_box(u64::from(n)).wrapping_mul(5);
    if n == 0 {
        a
    } else {
        mr_even(n - 1).wrapping_add(a)
    }
}

/// Recursion through another function (`mr_even -> mr_odd -> mr_even`) on a loaded machine:
/// `mr_even`'s path recursed, so its activations are all timed, while `mr_odd`'s path did not
/// (it is entered through `mr_even`'s folded node) and is sampled. An untimed `mr_odd` call once
/// charged its caller its path's mean and the timed `mr_even` calls inside it recorded their
/// own time as well, so a preemption inside was counted at every level: `mr_even`'s self time
/// read up to 1.9 times the wall under two busy threads.
/// Own time cannot exceed the time that passed. (Five of six runs of this test failed then.)
#[test]
fn mutual_recursion_under_load_stays_within_wall() {
    // The probe's cost measured before the load starts, as a program's usually is.
    pipelinescope::measure_probe_overhead();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let hogs: Vec<_> = (0..2)
        .map(|_| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    black_box(0u64);
                }
            })
        })
        .collect();
    let (wall, calls) = std::thread::Builder::new()
        .name("mutual-recursion".into())
        .spawn(|| {
            let start = Instant::now();
            let mut calls = 0u64;
            for i in 0..30_000u32 {
                let depth = 8 + i % 8;
                black_box(mr_even(black_box(depth)));
                calls += u64::from(depth) + 1;
            }
            (start.elapsed().as_nanos() as u64, calls)
        })
        .unwrap()
        .join()
        .unwrap();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for h in hogs {
        h.join().unwrap();
    }
    let p = pipelinescope::snapshot();
    let (even, odd) = (function(&p, "mr_even"), function(&p, "mr_odd"));
    assert_eq!(
        even.calls + odd.calls,
        calls,
        "every activation counted once"
    );
    assert!(
        even.cumulative_ns <= wall,
        "mr_even cumulative {} > wall {wall}",
        even.cumulative_ns
    );
    assert!(
        even.self_ns + odd.self_ns <= wall,
        "self {} + {} > wall {wall}",
        even.self_ns,
        odd.self_ns
    );
}
