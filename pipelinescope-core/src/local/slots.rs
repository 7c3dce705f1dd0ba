//! The figures one thread keeps per call path and per site: atomics only their thread writes.

use crate::sampling;
use crate::util::bump;
use crate::util::hist::AtomicHist;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering::*};

/// Figures of one call path on one thread. Times are fixed-point ticks (`FP` fractional bits)
/// summed as two's-complement (a compensated call can be below zero): a timed call adds what
/// it measured, an untimed call the path's means (`est_fp`, `est_self_fp`), the very amount its
/// caller was charged for it, so a caller's self time and its callees' times add up exactly.
#[derive(Default)]
pub(crate) struct NodeSlot {
    pub site: AtomicU32,
    /// Parent node index; the root (index 0) is its own parent.
    pub parent: AtomicU32,
    /// Every call, timed or not.
    pub calls: AtomicU64,
    /// Calls that were timed.
    pub timed: AtomicU64,
    /// Sum of the timed calls' weights (the calls each stands for in the histogram): `calls`
    /// less the untimed calls since the last timed one.
    pub weight: AtomicU64,
    /// Self time, compensated.
    pub self_fp: AtomicU64,
    /// Inclusive time of outermost activations, compensated.
    pub cum_fp: AtomicU64,
    /// Probe cost taken off `self_fp` (what a raw figure would add back).
    pub probe_self_fp: AtomicU64,
    /// Probe cost taken off `cum_fp`.
    pub probe_cum_fp: AtomicU64,
    pub panics: AtomicU64,
    /// Mean compensated inclusive time of the timed calls, fixed-point ticks: what an untimed
    /// call is charged to its caller for. Owner-only in use, like the two below; atomic only to
    /// be `Sync`, and next to `calls`, which every call touches anyway.
    pub est_fp: AtomicU64,
    /// Mean compensated self time per call, fixed-point ticks (two's-complement).
    pub est_self_fp: AtomicU64,
    /// The function recursed through this node: every call timed, activations counted.
    pub recursive: AtomicBool,
    /// Open activations of a recursive node (recursion folds into the same node, and only the
    /// outermost activation counts to cumulative time).
    pub active: AtomicU32,
}

/// Figures of one site on one thread.
pub(crate) struct SiteSlot {
    /// Compensated inclusive time per call, each timed call counted `weight` times.
    pub hist: AtomicHist,
    /// Weighted sum of every timed call's compensated inclusive time, recursive activations
    /// included (for the mean), fixed-point ticks, two's-complement.
    pub sum_fp: AtomicU64,
    pub min_ticks: AtomicU64,
    pub max_ticks: AtomicU64,
    /// The last timed call's value: the calls after it, not yet covered by a weight, are held
    /// at it when read.
    pub last_ticks: AtomicU64,
    pub polls: AtomicU64,
    pub busy_ticks: AtomicU64,
    pub cancelled: AtomicU64,
}

impl Default for SiteSlot {
    fn default() -> Self {
        SiteSlot {
            hist: AtomicHist::default(),
            sum_fp: AtomicU64::new(0),
            min_ticks: AtomicU64::new(u64::MAX),
            max_ticks: AtomicU64::new(0),
            last_ticks: AtomicU64::new(0),
            polls: AtomicU64::new(0),
            busy_ticks: AtomicU64::new(0),
            cancelled: AtomicU64::new(0),
        }
    }
}

impl SiteSlot {
    /// Counts one timed call of compensated time `fp` (fixed point) standing for `w` calls.
    #[inline(always)]
    pub(crate) fn record(&self, fp: u64, w: u64) {
        let ticks = sampling::whole_ticks(fp);
        self.hist.record_n(ticks, w);
        bump(&self.sum_fp, fp.wrapping_mul(w));
        self.last_ticks.store(ticks, Relaxed);
        if ticks < self.min_ticks.load(Relaxed) {
            self.min_ticks.store(ticks, Relaxed);
        }
        if ticks > self.max_ticks.load(Relaxed) {
            self.max_ticks.store(ticks, Relaxed);
        }
    }
}
