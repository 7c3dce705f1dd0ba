//! One invocation's size and own time, for the stage's size classes (`local::sizes`).
//!
//! A lazy stage's invocation is its iterator's life: its size is the records its inputs took
//! in (the records it handed out when it has no input: a source), its time the own time of its
//! calls, estimated as the stage's is (exact calls as they were, the others at the weighted
//! mean of the sampled ones). The output knows its own time when it drops, but its inputs,
//! inside the iterator it wraps, drop after it: so each of them adds its records to the link
//! they share, and the invocation is recorded when the link goes, after all of them. A stage
//! with no input has no link and records as its output drops. An eager stage's invocation is
//! one call (`call`).

use super::link::Link;
use std::sync::atomic::Ordering::Relaxed;

/// What an output's timed calls measured of its own time, for its invocation's estimate.
#[derive(Default)]
pub(super) struct InvocationOwn {
    exact_ticks: u64,
    exact_calls: u64,
    weighted_ticks: u64,
    weight: u64,
}

impl InvocationOwn {
    /// A call timed exactly (or an outlier, standing for itself).
    pub(super) fn exact(&mut self, own: u64) {
        self.exact_ticks = self.exact_ticks.saturating_add(own);
        self.exact_calls += 1;
    }

    /// A sampled call standing for `weight` calls.
    pub(super) fn sampled(&mut self, own: u64, weight: u64) {
        self.weighted_ticks = self
            .weighted_ticks
            .saturating_add(own.saturating_mul(weight));
        self.weight += weight;
    }

    /// Own ticks of `calls` calls: the exact ones, the rest at a mean of this invocation's
    /// sampled calls drawn toward `stage_mean` (the stage's sampled mean on this thread so far)
    /// as if that were one more sample of weight `prior` (the calls one sample stands for now).
    /// An invocation sampled a few times would otherwise take the noise of one or two calls for
    /// its own; one sampled many times keeps its own mean. Without a stage mean, the
    /// invocation's samples, or failing those its exact calls. An invocation's first call,
    /// always timed, is no sample of the others: in a `fold` it holds the fold's start.
    pub(super) fn estimate(&self, calls: u64, stage_mean: Option<f64>, prior: u64) -> u64 {
        let rest = calls.saturating_sub(self.exact_calls) as f64;
        let (w, own) = (self.weight as f64, self.weighted_ticks as f64);
        let mean = match stage_mean {
            Some(m) => (own + m * prior as f64) / (w + prior as f64).max(1.0),
            None if self.weight > 0 => own / w,
            None if self.exact_calls > 0 => self.exact_ticks as f64 / self.exact_calls as f64,
            None => 0.0,
        };
        self.exact_ticks.saturating_add((rest * mean) as u64)
    }
}

/// Records one invocation of stage `id` of size `size` that owned `ticks`, on the calling
/// thread.
pub(super) fn record(id: u32, size: u64, ticks: u64) {
    if id == 0 {
        return;
    }
    if let Some(td) = crate::threads::local() {
        td.sizes
            .stages
            .record(id, size, ticks.saturating_mul(1 << crate::cost::FP));
    }
}

impl Link {
    /// The output dropped, having handed out `outs` records and owned `ticks`.
    pub(super) fn output_done(&self, outs: u64, ticks: u64) {
        self.inv_out.fetch_add(outs, Relaxed);
        self.inv_own.fetch_add(ticks, Relaxed);
        self.inv_outputs.fetch_add(1, Relaxed);
    }

    /// An input dropped, having taken in `records`.
    pub(super) fn input_done(&self, records: u64) {
        self.inv_in.fetch_add(records, Relaxed);
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        // Every wrapper of the invocation is gone: the figures are final.
        if *self.inv_outputs.get_mut() == 0 {
            return;
        }
        let ins = *self.inv_in.get_mut();
        let size = if ins > 0 {
            ins
        } else {
            *self.inv_out.get_mut()
        };
        record(self.id, size, *self.inv_own.get_mut());
    }
}
