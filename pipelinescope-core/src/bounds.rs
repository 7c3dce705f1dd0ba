//! A pipeline's sampled stage times held to what contains them.
//!
//! Each lazy stage's time is estimated from its own sampled calls, and so is each stage's
//! upstream time, from its own sampled pulls: two estimates of the same time, made apart. Noise
//! (an interrupt inside a timed call, scaled up to the calls the call stands for) can make the
//! producer's own and upstream time more than its consumer measured pulling from it, and the
//! stages' own times together more than the time that passed. So, from the last stage back, a
//! stage's own and upstream time together are held to what its iterators were active (counted
//! exactly, not sampled), less what timing them cost; and the stages that feed only it, to its
//! upstream time. Own times then add up to no more than the last stage's active time, which is
//! within the run. A stage held so keeps the proportion of its own and upstream time.

use crate::profile::{PipelineEdge, StageStats};
use std::collections::HashMap;

/// Holds the stages of a profile made otherwise than from the recorder (the difference of two
/// snapshots: a run of a process that recorded before it) to the same bounds, from the active
/// and call times and the edges the profile carries. The difference of two held figures is not
/// held itself: without this, a run's own times could add up to more than the run's time.
pub(crate) fn hold_profile(stages: &mut [StageStats], edges: &[PipelineEdge]) {
    let extents: Vec<Extent> = stages
        .iter()
        .enumerate()
        .map(|(i, s)| Extent {
            id: i as u32 + 1,
            call_ns: s.call_ns.min(s.own_ns),
            active_ns: s.active_ns,
        })
        .collect();
    let id: HashMap<&str, u32> = stages
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.as_str(), i as u32 + 1))
        .collect();
    let edges: HashMap<(u32, u32), u64> = edges
        .iter()
        .filter_map(|e| {
            Some((
                (*id.get(e.from.as_str())?, *id.get(e.to.as_str())?),
                e.records,
            ))
        })
        .collect();
    hold(stages, &extents, &edges);
}

/// What [`hold`] needs of a stage besides its [`StageStats`]: the part of its own time that
/// is not its iterators' (eager calls, making the iterators), and its iterators' active time
/// less what timing cost, both in ns (0 active time: not a lazy stage, or never timed).
pub(crate) struct Extent {
    pub(crate) id: u32,
    pub(crate) call_ns: u64,
    pub(crate) active_ns: u64,
}

/// Holds `stages` (in pipeline order, with `extents` at the same positions) to the bounds in
/// the module docs, given the records on each edge `(from, to)`; downstream wait follows.
pub(crate) fn hold(
    stages: &mut [StageStats],
    extents: &[Extent],
    edges: &HashMap<(u32, u32), u64>,
) {
    let pos: HashMap<u32, usize> = extents.iter().enumerate().map(|(i, e)| (e.id, i)).collect();
    let lazy = |i: usize| extents[i].active_ns > 0;
    let inside = |s: &StageStats, e: &Extent| s.own_ns.saturating_sub(e.call_ns) + s.upstream_ns;
    // Consumers first: a stage held to its consumer then holds its own producers.
    for c in (0..stages.len()).rev() {
        if !lazy(c) {
            continue;
        }
        let bound = extents[c].active_ns;
        if inside(&stages[c], &extents[c]) > bound {
            scale(&mut stages[c], &extents[c], bound);
        }
        // Producers that feed this stage alone.
        let me = extents[c].id;
        let producers: Vec<usize> = edges
            .iter()
            .filter(|&(&(f, t), &n)| t == me && f != me && n > 0)
            .filter_map(|(&(f, _), _)| pos.get(&f).copied())
            .filter(|&p| lazy(p))
            .filter(|&p| {
                let id = extents[p].id;
                edges.keys().all(|&(f, t)| f != id || t == me || t == id)
            })
            .collect();
        let total: u64 = producers
            .iter()
            .map(|&p| inside(&stages[p], &extents[p]))
            .sum();
        let up = stages[c].upstream_ns;
        if total > up {
            for &p in &producers {
                let share = inside(&stages[p], &extents[p]) as f64 / total as f64;
                scale(&mut stages[p], &extents[p], (up as f64 * share) as u64);
            }
        }
    }
}

/// Scales a stage's own time in its iterators and its upstream time down to `to` in all, and
/// its downstream wait up to what its active time leaves.
fn scale(s: &mut StageStats, e: &Extent, to: u64) {
    let own = s.own_ns.saturating_sub(e.call_ns);
    let total = own + s.upstream_ns;
    if total <= to || total == 0 {
        return;
    }
    let f = to as f64 / total as f64;
    let own = (own as f64 * f) as u64;
    s.upstream_ns = (s.upstream_ns as f64 * f) as u64;
    s.own_ns = e.call_ns + own;
    s.downstream_wait_ns = e.active_ns.saturating_sub(own + s.upstream_ns);
}
