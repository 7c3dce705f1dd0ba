//! The registry of the live threads' stage figures, and what the exited threads left: their
//! figures summed per stage and per edge as each thread exits, their memory freed.
//!
//! A thread moves from the live list to the aggregate under the registry's lock, and
//! [`collect`](super::collect) reads both under it: every thread is counted once, live or
//! exited. Stage figures merge by plain sums (the histogram's buckets too), min and max, so the
//! aggregate holds exactly what reading the threads one by one would.

use super::{Acc, StageSlot, StageThread};
use std::collections::HashMap;
use std::sync::atomic::Ordering::*;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// Stage figures of every thread that has exited.
#[derive(Clone, Default)]
pub(super) struct StageExited {
    /// Per stage id (index 0 unused).
    pub accs: Vec<Acc>,
    /// Records per edge `(from, to)`.
    pub edges: HashMap<(u32, u32), u64>,
}

struct Registry {
    live: Vec<Arc<StageThread>>,
    /// None until a thread that ran stage code exits; shared with the snapshots reading it.
    exited: Option<Arc<StageExited>>,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    live: Vec::new(),
    exited: None,
});

fn registry() -> MutexGuard<'static, Registry> {
    // Every change is made whole under the lock: a poisoned one is still consistent.
    REGISTRY.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Adds a new thread's figures to the live list.
pub(super) fn register(t: Arc<StageThread>) {
    registry().live.push(t);
}

/// The live threads' figures and the exited threads', read at one instant.
pub(super) fn registered() -> (Vec<Arc<StageThread>>, Option<Arc<StageExited>>) {
    let r = registry();
    (r.live.clone(), r.exited.clone())
}

/// Folds an exiting thread's figures into the exited threads' and frees them (at once, or when
/// the last snapshot reading them lets go). The thread records nothing more.
pub(super) fn retire(p: *const StageThread) {
    // SAFETY: the registry holds `p` until the removal below, and only this thread removes it.
    let folded = StageExited::of(unsafe { &*p });
    let gone = {
        let mut r = registry();
        let Some(i) = r.live.iter().position(|t| std::ptr::eq(Arc::as_ptr(t), p)) else {
            return;
        };
        match &mut r.exited {
            Some(e) => Arc::make_mut(e).absorb(&folded),
            None => r.exited = Some(Arc::new(folded)),
        }
        r.live.remove(i)
    };
    drop(gone);
}

impl StageExited {
    /// One thread's figures.
    fn of(t: &StageThread) -> StageExited {
        let mut e = StageExited::default();
        e.add_thread(t, usize::MAX);
        for a in &mut e.accs {
            a.compact();
        }
        e
    }

    /// Adds a thread's figures of stages below `limit`.
    pub(super) fn add_thread(&mut self, t: &StageThread, limit: usize) {
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
    pub(super) fn absorb(&mut self, o: &StageExited) {
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
    pub(super) fn new() -> Acc {
        Acc {
            min: u64::MAX,
            ..Acc::default()
        }
    }

    /// Adds one thread's figures of the stage.
    pub(super) fn add_slot(&mut self, s: &StageSlot) {
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

#[cfg(test)]
mod tests {
    use crate::profile::StageKind;
    use crate::stage::{StageSite, call, collect};
    use std::sync::Barrier;

    static EXITING: StageSite = StageSite::new("exiting_eager", "t", "f", 1, StageKind::Eager);

    fn invocations() -> (u64, u64) {
        let (stages, _) = collect(1);
        stages
            .iter()
            .find(|s| s.name == "exiting_eager")
            .map_or((0, 0), |s| (s.invocations, s.records_out))
    }

    /// As the function recorder's test: stage figures of threads exiting while snapshots are
    /// taken are counted once.
    #[test]
    fn no_thread_is_lost_or_counted_twice_while_threads_exit() {
        const ROUNDS: u64 = 30;
        const THREADS: u64 = 6;
        const CALLS: u64 = 50;
        let mut expected = 0;
        for _ in 0..ROUNDS {
            let done = Barrier::new(THREADS as usize + 1);
            std::thread::scope(|s| {
                let workers: Vec<_> = (0..THREADS)
                    .map(|_| {
                        s.spawn(|| {
                            for _ in 0..CALLS {
                                call(&EXITING, 3).finish(&[1u8, 2]);
                            }
                            done.wait();
                        })
                    })
                    .collect();
                done.wait();
                expected += THREADS * CALLS;
                loop {
                    let all_gone = workers.iter().all(|w| w.is_finished());
                    assert_eq!(invocations(), (expected, 2 * expected));
                    if all_gone {
                        break;
                    }
                }
                for w in workers {
                    w.join().expect("worker");
                }
            });
        }
        assert_eq!(invocations(), (expected, 2 * expected));
    }
}
