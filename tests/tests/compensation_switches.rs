//! The raw figures stay reachable: with compensation off the figures are the raw ones, and
//! with exact timing every call is timed. One test in its own binary, since the switches are
//! process-wide.

mod common;

use common::function;
use pipelinescope::profile;
use std::hint::black_box;

#[profile]
#[inline(never)]
fn sw_leaf(x: u64) -> u64 {
    black_box(x).wrapping_mul(3)
}

#[profile]
fn sw_parent(n: u64) -> u64 {
    (0..n).fold(0, |a, i| a ^ sw_leaf(i))
}

/// The same pair, called only with compensation off: its figures have no history.
#[profile]
#[inline(never)]
fn raw_leaf(x: u64) -> u64 {
    black_box(x).wrapping_mul(3)
}

#[profile]
fn raw_parent(n: u64) -> u64 {
    (0..n).fold(0, |a, i| a ^ raw_leaf(i))
}

fn run(n: u64) -> pipelinescope::Profile {
    let before = pipelinescope::snapshot();
    black_box(sw_parent(n));
    pipelinescope::snapshot().since(&before)
}

fn run_raw(n: u64) -> pipelinescope::Profile {
    let before = pipelinescope::snapshot();
    black_box(raw_parent(n));
    pipelinescope::snapshot().since(&before)
}

#[test]
fn switches_give_raw_figures_and_exact_timing() {
    let c = pipelinescope::calibration();
    assert!(c.compensated && c.sampled, "{c:?}");
    assert!(c.inside_ns >= 0.0 && c.outside_ns >= 0.0 && c.untimed_ns >= 0.0);

    // Defaults: compensated, sampled.
    let p = run(50_000);
    let leaf = function(&p, "sw_leaf");
    assert!(p.meta.compensated);
    assert_eq!(p.meta.timing, "sampled");
    assert!(leaf.timed_calls < leaf.calls, "{leaf:?}");
    assert!(leaf.raw_self_ns >= leaf.self_ns);

    // Exact timing: every call timed, counts unchanged.
    pipelinescope::set_sampled_timing(false);
    let p = run(50_000);
    let leaf = function(&p, "sw_leaf");
    assert_eq!(p.meta.timing, "exact");
    assert_eq!(leaf.calls, 50_000);
    // A path already sampled switches at its next timed call, within one gap.
    assert!(leaf.timed_calls + 2 * 256 >= leaf.calls, "{leaf:?}");
    let p = run(50_000);
    let leaf = function(&p, "sw_leaf");
    assert_eq!(leaf.timed_calls, leaf.calls, "{leaf:?}");

    // No compensation: the figures are the raw ones.
    pipelinescope::set_compensation(false);
    let p = run_raw(50_000);
    let (leaf, parent) = (function(&p, "raw_leaf"), function(&p, "raw_parent"));
    assert!(!p.meta.compensated);
    // Equal up to the rounding of sums of fractional ticks.
    let same = |a: u64, b: u64| a.abs_diff(b) <= 2 + a / 1_000_000;
    assert!(same(leaf.self_ns, leaf.raw_self_ns), "{leaf:?}");
    assert!(same(parent.self_ns, parent.raw_self_ns), "{parent:?}");
    assert!(
        same(parent.cumulative_ns, parent.raw_cumulative_ns),
        "{parent:?}"
    );
    // Raw, the parent carries its children's probes.
    assert!(parent.self_ns > 0);
    // The pair with a compensated history: a snapshot shows a self time that compensation took
    // below zero as zero, and the difference of two snapshots subtracts the signed sums behind
    // it, so the raw phase reads raw here too.
    let p = run(50_000);
    let parent = function(&p, "sw_parent");
    assert!(same(parent.self_ns, parent.raw_self_ns), "{parent:?}");

    pipelinescope::set_compensation(true);
    pipelinescope::set_sampled_timing(true);
    assert!(pipelinescope::calibration().compensated);
}
