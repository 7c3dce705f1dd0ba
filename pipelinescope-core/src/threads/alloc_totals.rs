//! Merging threads' allocation counters: the exited threads' per site and per stage, as a
//! snapshot merges threads (a function's peak is the highest of any thread's, a stage's the sum
//! of its threads').

use crate::local::alloc::{AllocSlot, ThreadAlloc};

/// The allocation figures of threads that have exited, per site and per stage id:
/// `[allocations, bytes allocated, bytes freed, peak]`. Merged as a snapshot merges threads:
/// a function's peak is the highest of any thread's, a stage's the sum of its threads'.
#[derive(Clone, Default)]
pub(crate) struct AllocTotals {
    pub(crate) sites: Vec<[u64; 4]>,
    pub(crate) stages: Vec<[u64; 4]>,
}

impl AllocTotals {
    /// Adds an exiting thread's counters.
    pub(crate) fn add_thread(&mut self, a: &ThreadAlloc) {
        let sites = crate::site::registry().len();
        let stages = (1..)
            .find(|&id| crate::site::stage_name(id).is_none())
            .unwrap_or(1) as usize;
        fold(&mut self.sites, sites, |i| a.slots.get(i), false);
        fold(&mut self.stages, stages, |i| a.stage_slots.get(i), true);
    }

    /// Adds another aggregate.
    pub(crate) fn absorb(&mut self, o: &AllocTotals) {
        merge(&mut self.sites, &o.sites, false);
        merge(&mut self.stages, &o.stages, true);
    }
}

/// Adds the slots `0..n` that `get` finds into `into`; peaks summed or the highest kept.
fn fold<'a>(
    into: &mut Vec<[u64; 4]>,
    n: usize,
    get: impl Fn(usize) -> Option<&'a AllocSlot>,
    sum_peaks: bool,
) {
    let found: Vec<[u64; 4]> = (0..n)
        .map(|i| get(i).map_or([0; 4], AllocSlot::figures))
        .collect();
    merge(into, &found, sum_peaks);
}

fn merge(into: &mut Vec<[u64; 4]>, from: &[[u64; 4]], sum_peaks: bool) {
    if into.len() < from.len() {
        into.resize(from.len(), [0; 4]);
    }
    for (a, b) in into.iter_mut().zip(from) {
        a[0] += b[0];
        a[1] += b[1];
        a[2] += b[2];
        a[3] = if sum_peaks {
            a[3] + b[3]
        } else {
            a[3].max(b[3])
        };
    }
}
