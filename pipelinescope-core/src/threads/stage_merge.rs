//! Merging threads' stage figures: per stage and per edge, by plain sums (the histogram's
//! buckets too), min and max, so an aggregate holds exactly what reading the threads one by one
//! would. A snapshot adds the live threads to the exited threads' aggregate, which each thread
//! joined as it exited, through the same code.

use crate::local::stage::{StageSlot, StageThread};
use std::collections::HashMap;
use std::sync::atomic::Ordering::*;

/// One stage's figures summed over threads (ticks).
#[derive(Default, Clone)]
pub(crate) struct Acc {
    pub(crate) invocations: u64,
    pub(crate) records_in: u64,
    pub(crate) records_out: u64,
    pub(crate) calls: u64,
    pub(crate) timed_calls: u64,
    pub(crate) sampled_weight: u64,
    pub(crate) own_weighted: u64,
    pub(crate) upstream_weighted: u64,
    pub(crate) exact_calls: u64,
    pub(crate) exact_own_ticks: u64,
    pub(crate) exact_upstream_ticks: u64,
    pub(crate) call_ticks: u64,
    pub(crate) active_ticks: u64,
    pub(crate) probe_ticks: u64,
    pub(crate) first_ticks: u64,
    pub(crate) first_count: u64,
    pub(crate) exhausted: u64,
    pub(crate) dropped: u64,
    pub(crate) hist_sum: u64,
    pub(crate) min: u64,
    pub(crate) max: u64,
    pub(crate) first_seen: u64,
    pub(crate) buckets: Vec<(u64, u64, u64)>,
}

/// Stage figures of every thread that has exited.
#[derive(Clone, Default)]
pub(crate) struct StageExited {
    /// Per stage id (index 0 unused).
    pub(crate) accs: Vec<Acc>,
    /// Records per edge `(from, to)`.
    pub(crate) edges: HashMap<(u32, u32), u64>,
}

impl StageExited {
    /// One thread's figures.
    pub(crate) fn of(t: &StageThread) -> StageExited {
        let mut e = StageExited::default();
        e.add_thread(t, usize::MAX);
        for a in &mut e.accs {
            a.compact();
        }
        e
    }

    /// Adds a thread's figures of stages below `limit`.
    pub(crate) fn add_thread(&mut self, t: &StageThread, limit: usize) {
        let n = (t.slot_count.load(Acquire) as usize).min(limit);
        if self.accs.len() < n {
            self.accs.resize_with(n, Acc::new);
        }
        for (id, a) in self.accs.iter_mut().enumerate().take(n).skip(1) {
            if let Some(s) = t.slots.get(id) {
                a.add_slot(s);
            }
        }
        for i in 0..t.edge_count.load(Acquire) as usize {
            let Some(e) = t.edges.get(i) else { break };
            let key = (e.from.load(Relaxed), e.to.load(Relaxed));
            *self.edges.entry(key).or_insert(0) += e.records.load(Relaxed);
        }
    }

    /// Adds another aggregate.
    pub(crate) fn absorb(&mut self, o: &StageExited) {
        if self.accs.len() < o.accs.len() {
            self.accs.resize_with(o.accs.len(), Acc::new);
        }
        for (a, b) in self.accs.iter_mut().zip(&o.accs) {
            a.absorb(b);
        }
        for (&k, &n) in &o.edges {
            *self.edges.entry(k).or_insert(0) += n;
        }
    }
}

impl Acc {
    pub(crate) fn new() -> Acc {
        Acc {
            min: u64::MAX,
            ..Acc::default()
        }
    }

    /// Adds one thread's figures of the stage.
    pub(crate) fn add_slot(&mut self, s: &StageSlot) {
        self.invocations += s.invocations.load(Relaxed);
        self.records_in += s.records_in.load(Relaxed);
        self.records_out += s.records_out.load(Relaxed);
        self.calls += s.calls.load(Relaxed);
        self.timed_calls += s.timed_calls.load(Relaxed);
        self.sampled_weight += s.sampled_weight.load(Relaxed);
        self.own_weighted += s.own_weighted.load(Relaxed);
        self.upstream_weighted += s.upstream_weighted.load(Relaxed);
        self.exact_calls += s.exact_calls.load(Relaxed);
        self.exact_own_ticks += s.exact_own_ticks.load(Relaxed);
        self.exact_upstream_ticks += s.exact_upstream_ticks.load(Relaxed);
        self.call_ticks += s.call_ticks.load(Relaxed);
        self.active_ticks += s.active_ticks.load(Relaxed);
        self.probe_ticks += s.probe_ticks.load(Relaxed);
        self.first_ticks += s.first_ticks.load(Relaxed);
        self.first_count += s.first_count.load(Relaxed);
        self.exhausted += s.exhausted.load(Relaxed);
        self.dropped += s.dropped.load(Relaxed);
        self.hist_sum += s.hist_sum.load(Relaxed);
        self.min = self.min.min(s.min_ticks.load(Relaxed));
        self.max = self.max.max(s.max_ticks.load(Relaxed));
        self.seen_first(s.first_seen.load(Relaxed));
        s.hist
            .for_each(|low, width, count| self.buckets.push((low, width, count)));
    }

    /// Keeps the earliest first invocation (0: none).
    fn seen_first(&mut self, fs: u64) {
        if fs != 0 && (self.first_seen == 0 || fs < self.first_seen) {
            self.first_seen = fs;
        }
    }

    /// Adds another accumulator of the same stage.
    fn absorb(&mut self, o: &Acc) {
        self.invocations += o.invocations;
        self.records_in += o.records_in;
        self.records_out += o.records_out;
        self.calls += o.calls;
        self.timed_calls += o.timed_calls;
        self.sampled_weight += o.sampled_weight;
        self.own_weighted += o.own_weighted;
        self.upstream_weighted += o.upstream_weighted;
        self.exact_calls += o.exact_calls;
        self.exact_own_ticks += o.exact_own_ticks;
        self.exact_upstream_ticks += o.exact_upstream_ticks;
        self.call_ticks += o.call_ticks;
        self.active_ticks += o.active_ticks;
        self.probe_ticks += o.probe_ticks;
        self.first_ticks += o.first_ticks;
        self.first_count += o.first_count;
        self.exhausted += o.exhausted;
        self.dropped += o.dropped;
        self.hist_sum += o.hist_sum;
        self.min = self.min.min(o.min);
        self.max = self.max.max(o.max);
        self.seen_first(o.first_seen);
        self.buckets.extend_from_slice(&o.buckets);
        self.compact();
    }

    /// One entry per histogram slot: every thread's slots have the same layout, so equal lows
    /// are the same slot (and the aggregate stays as small as one histogram).
    fn compact(&mut self) {
        self.buckets.sort_unstable_by_key(|b| b.0);
        self.buckets.dedup_by(|b, a| {
            if a.0 == b.0 {
                a.2 += b.2;
                true
            } else {
                false
            }
        });
    }
}
