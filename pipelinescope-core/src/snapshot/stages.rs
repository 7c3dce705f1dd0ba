//! Reading every thread's stage figures: the stages in pipeline order, with their per-record
//! histograms, own, upstream and downstream-wait times estimated from the sampled calls and
//! held to what contains them (`bounds`), and the edges between stages.

use crate::bounds;
use crate::profile::{Histogram, Percentiles, PipelineEdge, StageStats};
use crate::site::{StageSite, stages};
use crate::threads::registered;
use crate::threads::stage_merge::{Acc, StageExited};
use std::collections::HashMap;

/// Reads every thread's stage figures: the stages in pipeline order and the edges between them.
/// `wall_ns` is the run's wall time so far (for Amdahl's figures).
pub fn collect(wall_ns: u64) -> (Vec<StageStats>, Vec<PipelineEdge>) {
    let sites: Vec<&'static StageSite> = stages().clone();
    // Each thread is either live or exited here, never both nor neither.
    let (threads, exited) = registered();
    let scale = crate::clock::ns_per_tick();
    let size_classes = super::sizes::collect();
    let ns = |ticks: u64| (ticks as f64 * scale) as u64;
    let n = sites.len() + 1;
    let mut all = exited.map_or_else(StageExited::default, |e| e.stages.clone());
    for t in &threads {
        all.add_thread(&t.stage, n);
    }
    drop(threads);
    let StageExited { mut accs, edges } = all;
    accs.resize_with(n, Acc::new);
    let ids: Vec<u32> = (1..accs.len() as u32)
        .filter(|&id| {
            let a = &accs[id as usize];
            a.invocations > 0 || a.records_out > 0 || a.records_in > 0
        })
        .collect();
    let order = pipeline_order(&ids, &edges, |id| accs[id as usize].first_seen);

    // Untimed `next` calls get the mean of the sampled ones of the same stage.
    let scaled = |ticks: u64, n: u64, of: u64| {
        if of == 0 {
            0.0
        } else {
            ticks as f64 * scale * (n as f64 / of as f64)
        }
    };
    // Exact calls count as they were; the others at the weighted mean of the sampled calls
    // (at the mean of the exact ones when no call was sampled yet).
    let estimate = |exact: u64, weighted: u64, a: &Acc| {
        let rest = a.calls.saturating_sub(a.exact_calls);
        let from = if a.sampled_weight > 0 {
            scaled(weighted, rest, a.sampled_weight)
        } else {
            scaled(exact, rest, a.exact_calls)
        };
        ns(exact) + from as u64
    };
    let own_of = |a: &Acc| ns(a.call_ticks) + estimate(a.exact_own_ticks, a.own_weighted, a);
    let mut out = Vec::with_capacity(ids.len());
    let mut extents = Vec::with_capacity(ids.len());
    for (pos, &id) in order.iter().enumerate() {
        let site = sites[id as usize - 1];
        let a = &accs[id as usize];
        let mut h = match hdrhistogram::Histogram::<u64>::new(2) {
            Ok(h) => h,
            Err(_) => continue,
        };
        for &(low, width, count) in &a.buckets {
            let v = ((low as f64 + (width - 1) as f64 / 2.0) * scale) as u64;
            // `record_n` grows the histogram; the saturating form would clamp to its initial
            // (tiny) range.
            if h.record_n(v, count).is_err() {
                h.saturating_record_n(v, count);
            }
        }
        let count = h.len();
        let (min, max, mean) = if count > 0 {
            (
                ns(a.min),
                ns(a.max),
                a.hist_sum as f64 * scale / count as f64,
            )
        } else {
            (0, 0, 0.0)
        };
        let own_ns = own_of(a);
        let upstream_ns = estimate(a.exact_upstream_ticks, a.upstream_weighted, a);
        // Inside the iterators' calls: their own time and their pulls from upstream.
        let inside_ns = own_ns.saturating_sub(ns(a.call_ticks)) + upstream_ns;
        // The iterators' active time, less what timing them cost inside it.
        let active_ns = ns(a.active_ticks.saturating_sub(a.probe_ticks));
        extents.push(bounds::Extent {
            id,
            call_ns: ns(a.call_ticks),
            active_ns: if a.active_ticks > 0 {
                active_ns.max(1)
            } else {
                0
            },
        });
        out.push(StageStats {
            name: site.name.to_string(),
            module: site.module.to_string(),
            file: site.file.to_string(),
            line: site.line,
            order: pos as u32,
            kind: site.kind,
            invocations: a.invocations,
            records_in: a.records_in,
            records_out: a.records_out,
            own_ns,
            upstream_ns,
            downstream_wait_ns: active_ns.saturating_sub(inside_ns),
            own_per_record: Percentiles::from_hdr(&h, min, max, mean),
            own_histogram: Histogram::from_hdr(&h),
            first_record_ns: ns(a.first_ticks).checked_div(a.first_count).unwrap_or(0),
            exhausted: a.exhausted,
            dropped_early: a.dropped,
            active_ns: extents.last().map_or(0, |e| e.active_ns),
            call_ns: ns(a.call_ticks),
            sizes: super::sizes::stage(&size_classes, id, scale),
            ..StageStats::default()
        });
    }
    // Selectivity, throughput, shares, the bottleneck and Amdahl's speedups.
    // Sampled estimates held to the exact active times and to their consumers' pulls.
    bounds::hold(&mut out, &extents, &edges);
    crate::delta::derive_stage_metrics(&mut out, wall_ns);

    let name = |id: u32| {
        sites
            .get((id as usize).wrapping_sub(1))
            .map_or_else(String::new, |s| s.name.to_string())
    };
    let rank: HashMap<u32, usize> = order.iter().enumerate().map(|(i, &id)| (id, i)).collect();
    let mut edge_list: Vec<((u32, u32), u64)> = edges.into_iter().filter(|e| e.1 > 0).collect();
    edge_list.sort_by_key(|&((f, t), _)| {
        (
            rank.get(&f).copied().unwrap_or(usize::MAX),
            rank.get(&t).copied().unwrap_or(usize::MAX),
        )
    });
    let edges = edge_list
        .into_iter()
        .map(|((f, t), records)| PipelineEdge {
            from: name(f),
            to: name(t),
            records,
        })
        .collect();
    (out, edges)
}

/// Stages sorted so that every stage comes after the stages feeding it; ties (and cycles) are
/// broken by first invocation.
fn pipeline_order(
    ids: &[u32],
    edges: &HashMap<(u32, u32), u64>,
    first_seen: impl Fn(u32) -> u64,
) -> Vec<u32> {
    let mut left: Vec<u32> = ids.to_vec();
    left.sort_by_key(|&id| (first_seen(id), id));
    let mut placed: Vec<u32> = Vec::with_capacity(ids.len());
    while !left.is_empty() {
        // The first stage (by first invocation) whose feeding stages are all placed; in a cycle,
        // simply the first one left.
        let ready = left
            .iter()
            .position(|&id| {
                edges
                    .keys()
                    .all(|&(f, t)| t != id || f == id || placed.contains(&f) || !left.contains(&f))
            })
            .unwrap_or(0);
        placed.push(left.remove(ready));
    }
    placed
}

/// Bytes the stage recorder holds on the calling thread.
pub fn bytes_on_this_thread() -> usize {
    crate::threads::local().map_or(0, |td| td.stage.bytes())
}
