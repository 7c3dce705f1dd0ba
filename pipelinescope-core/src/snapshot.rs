//! Reading every thread's recorder into one [`Profile`].
//!
//! Runs on the caller's thread, never stops the threads it reads: each figure is an atomic that
//! its owner writes, so a snapshot taken while calls are in flight sees every finished call of
//! every thread (live, pooled or exited); calls still open are not counted yet.

use crate::clock::{ns_per_tick, ticks_to_ns};
use crate::profile::*;
use crate::recorder::{ThreadData, all_threads};
use crate::site::{Site, SiteKind, registry};
use std::collections::HashMap;
use std::sync::atomic::Ordering::*;

/// Per-site accumulator while merging threads. Times in ticks, as estimated over every call.
struct SiteAcc {
    hist: hdrhistogram::Histogram<u64>,
    min: u64,
    max: u64,
    /// Weighted sum of the timed calls' compensated inclusive times.
    sum_ticks: f64,
    /// Sum of the timed calls' weights: the calls `sum_ticks` stands for.
    weight: u64,
    polls: u64,
    busy_ticks: u64,
    cancelled: u64,
    calls: u64,
    timed: u64,
    panics: u64,
    cum_ticks: f64,
    self_ticks: f64,
    raw_cum_ticks: f64,
    raw_self_ticks: f64,
}

impl SiteAcc {
    fn new() -> Self {
        SiteAcc {
            hist: hdrhistogram::Histogram::new(2).expect("2 significant digits is valid"),
            min: u64::MAX,
            max: 0,
            sum_ticks: 0.0,
            weight: 0,
            polls: 0,
            busy_ticks: 0,
            cancelled: 0,
            calls: 0,
            timed: 0,
            panics: 0,
            cum_ticks: 0.0,
            self_ticks: 0.0,
            raw_cum_ticks: 0.0,
            raw_self_ticks: 0.0,
        }
    }
}

#[derive(Default)]
struct MergedNode {
    site: u32,
    parent: u32,
    children: Vec<u32>,
    calls: u64,
    cum_ticks: f64,
    self_ticks: f64,
    panics: u64,
}

/// One call path's figures on one thread, estimated over all its calls, in ticks.
#[derive(Default, Clone, Copy)]
struct NodeEstimate {
    calls: u64,
    timed: u64,
    /// Calls not yet covered by a timed call's weight (after the last timed call).
    pending: u64,
    cum: f64,
    self_: f64,
    raw_cum: f64,
    raw_self: f64,
}

/// A two's-complement fixed-point amount, in ticks.
fn ticks(fp: u64) -> f64 {
    fp as i64 as f64 / f64::from(1u32 << crate::calibrate::FP)
}

/// Reads every thread's figures. `wall_ns` is the run's wall time so far (for shares).
pub fn collect(wall_ns: u64) -> Profile {
    let sites: Vec<&'static Site> = registry().clone();
    let threads = all_threads();
    let scale = ns_per_tick();
    let mut accs: HashMap<u32, SiteAcc> = HashMap::new();
    let mut merged: Vec<MergedNode> = vec![MergedNode::default()];
    let mut by_path: HashMap<(u32, u32), u32> = HashMap::new();
    let mut thread_rows = Vec::new();

    for td in &threads {
        thread_rows.push(read_thread(td, &mut accs, &mut merged, &mut by_path, scale));
    }

    // Functions: every site that finished at least one call or was cancelled.
    let mut ids: Vec<u32> = accs
        .iter()
        .filter(|(_, a)| a.calls > 0 || a.cancelled > 0 || a.polls > 0)
        .map(|(&id, _)| id)
        .collect();
    ids.sort_unstable();
    let mut fn_index: HashMap<u32, u32> = HashMap::new();
    let mut functions = Vec::with_capacity(ids.len());
    for id in ids {
        let Some(site) = sites.get(id as usize) else {
            continue;
        };
        let a = &accs[&id];
        let index = functions.len() as u32;
        fn_index.insert(id, index);
        let ns = |ticks: f64| (ticks.max(0.0) * scale) as u64;
        let cumulative_ns = ns(a.cum_ticks);
        let mean = if a.weight > 0 {
            (a.sum_ticks * scale / a.weight as f64).max(0.0)
        } else {
            0.0
        };
        let (min, max) = if !a.hist.is_empty() {
            (ticks_to_ns(a.min), ticks_to_ns(a.max))
        } else {
            (0, 0)
        };
        let kind = match site.kind {
            SiteKind::Sync => FunctionKind::Sync,
            SiteKind::Async => FunctionKind::Async,
        };
        functions.push(FunctionStats {
            id: index,
            name: site.name.to_string(),
            module: site.module.to_string(),
            file: site.file.to_string(),
            line: site.line,
            kind,
            calls: a.calls,
            timed_calls: a.timed,
            panics: a.panics,
            cumulative_ns,
            self_ns: ns(a.self_ticks),
            raw_cumulative_ns: ns(a.raw_cum_ticks),
            raw_self_ns: ns(a.raw_self_ticks),
            percentiles: Percentiles::from_hdr(&a.hist, min, max, mean),
            histogram: crate::profile::Histogram::from_hdr(&a.hist),
            share_of_wall: if wall_ns > 0 {
                cumulative_ns as f64 / wall_ns as f64
            } else {
                0.0
            },
            async_stats: (kind == FunctionKind::Async).then(|| AsyncStats {
                polls: a.polls,
                busy_ns: ticks_to_ns(a.busy_ticks),
                wall_ns: ns(a.sum_ticks),
                cancelled: a.cancelled,
            }),
        });
    }

    // Call tree: drop nodes whose site has no function row (e.g. never finished a call).
    let mut nodes = Vec::with_capacity(merged.len());
    let mut remap: Vec<Option<u32>> = vec![None; merged.len()];
    for (i, m) in merged.iter().enumerate() {
        let function = if i == 0 {
            None
        } else {
            match fn_index.get(&m.site) {
                Some(&f) => Some(f),
                None => continue,
            }
        };
        let parent = if i == 0 {
            None
        } else {
            match remap[m.parent as usize] {
                Some(p) => Some(p),
                None => continue,
            }
        };
        let id = nodes.len() as u32;
        remap[i] = Some(id);
        if let Some(p) = parent {
            let pn: &mut CallNode = &mut nodes[p as usize];
            pn.children.push(id);
        }
        nodes.push(CallNode {
            id,
            parent,
            function,
            children: Vec::new(),
            calls: m.calls,
            cumulative_ns: (m.cum_ticks.max(0.0) * scale) as u64,
            self_ns: (m.self_ticks.max(0.0) * scale) as u64,
            panics: m.panics,
        });
    }
    // The root's figures: the sum over root calls.
    let (root_calls, root_cum) = nodes
        .first()
        .map(|r| {
            r.children.iter().fold((0, 0), |(c, t), &ch| {
                let n = &nodes[ch as usize];
                (c + n.calls, t + n.cumulative_ns)
            })
        })
        .unwrap_or((0, 0));
    if let Some(r) = nodes.first_mut() {
        r.calls = root_calls;
        r.cumulative_ns = root_cum;
    }

    let total_calls = functions.iter().map(|f| f.calls).sum();
    let instrumented_ns = thread_rows.iter().map(|t: &ThreadStats| t.root_ns).sum();
    let (stages, pipeline_edges) = crate::stage::collect(wall_ns);
    let cal = crate::calibrate::calibration();
    let mut profile = Profile {
        schema_version: SCHEMA_VERSION,
        meta: RunMeta {
            wall_ns,
            instrumented_ns,
            total_calls,
            clock_source: crate::clock::source_name().to_string(),
            probe_overhead_ns: cal.timed_ns(),
            probe_inside_ns: cal.inside_ns,
            probe_outside_ns: cal.outside_ns,
            probe_untimed_ns: cal.untimed_ns,
            compensated: cal.compensated,
            stage_probe: crate::stage::calibration(),
            timing: if cal.sampled { "sampled" } else { "exact" }.to_string(),
            clock_resolution_ns: crate::clock::resolution_ns(),
            pipelinescope_version: env!("CARGO_PKG_VERSION").to_string(),
            pid: std::process::id(),
            command_line: std::env::args().collect(),
            ..RunMeta::default()
        },
        functions,
        call_tree: CallTree { nodes },
        threads: thread_rows,
        stages,
        pipeline_edges,
        ..Profile::default()
    };
    if wall_ns > 0 {
        profile.meta.probe_overhead_share = (profile.probe_cost_ns() / wall_ns as f64).min(1.0);
    }
    profile
}

/// Each call path's figures on one thread, over all its calls (a path timed on a sample of its
/// calls holds, for each untimed call, the means its caller was charged). A path whose
/// compensated self time comes out below zero (calls shorter than the probe's jitter) reads as
/// zero.
fn estimates(td: &ThreadData, n: usize) -> (Vec<NodeEstimate>, Vec<usize>) {
    let mut est = vec![NodeEstimate::default(); n];
    let mut parent = vec![0usize; n];
    let mut recursive = vec![false; n];
    for i in 1..n {
        let Some(s) = td.nodes.get(i) else { break };
        let calls = s.calls.load(Relaxed);
        let weight = s.weight.load(Relaxed);
        let timed = s.timed.load(Relaxed);
        let cum = ticks(s.cum_fp.load(Relaxed));
        let self_ = ticks(s.self_fp.load(Relaxed));
        est[i] = NodeEstimate {
            calls,
            timed,
            pending: calls.saturating_sub(weight),
            cum,
            self_,
            // The probe cost taken off the timed calls, added back (an untimed call holds the
            // path's compensated mean), so the raw figures add up across snapshots too.
            raw_cum: cum + ticks(s.probe_cum_fp.load(Relaxed)),
            raw_self: self_ + ticks(s.probe_self_fp.load(Relaxed)),
        };
        parent[i] = (s.parent.load(Relaxed) as usize).min(i - 1);
        recursive[i] = s.recursive.load(Relaxed);
    }
    // Children come after their parents: settle them first. A path's inclusive time is its
    // self time plus its callees' inclusive times, which is what each timed call measured and
    // what each untimed call was charged; summing the parts keeps that identity exact where a
    // part was clamped at zero or estimated. A recursive path keeps its measured time: its
    // self time holds its inner activations, which its callees' times hold too.
    let mut children = vec![0f64; n];
    for i in (1..n).rev() {
        est[i].self_ = est[i].self_.max(0.0);
        est[i].cum = if recursive[i] {
            est[i].cum.max(est[i].self_)
        } else {
            est[i].self_ + children[i]
        };
        children[parent[i]] += est[i].cum;
    }
    (est, parent)
}

fn read_thread(
    td: &ThreadData,
    accs: &mut HashMap<u32, SiteAcc>,
    merged: &mut Vec<MergedNode>,
    by_path: &mut HashMap<(u32, u32), u32>,
    scale: f64,
) -> ThreadStats {
    let finished = td.finished.load(Acquire);
    let n = td.node_count.load(Acquire) as usize;
    let (est, parents) = estimates(td, n);
    // Map this thread's node index to the merged node index.
    let mut local_to_merged: Vec<u32> = Vec::with_capacity(n);
    let mut row = ThreadStats {
        index: td.index,
        name: td.name.clone(),
        finished,
        ..ThreadStats::default()
    };
    let mut root_ticks = 0f64;
    let mut self_ticks = 0f64;
    // Per site on this thread: calls after the last timed one, held at its value.
    let mut pending: HashMap<u32, u64> = HashMap::new();
    for i in 0..n {
        let Some(s) = td.nodes.get(i) else { break };
        if i == 0 {
            local_to_merged.push(0);
            continue;
        }
        let site = s.site.load(Relaxed);
        let parent_local = parents[i];
        let parent = local_to_merged.get(parent_local).copied().unwrap_or(0);
        let idx = *by_path.entry((parent, site)).or_insert_with(|| {
            let idx = merged.len() as u32;
            merged.push(MergedNode {
                site,
                parent,
                ..MergedNode::default()
            });
            merged[parent as usize].children.push(idx);
            idx
        });
        local_to_merged.push(idx);
        let e = est[i];
        let panics = s.panics.load(Relaxed);
        let m = &mut merged[idx as usize];
        m.calls += e.calls;
        m.cum_ticks += e.cum;
        m.self_ticks += e.self_;
        m.panics += panics;
        let a = accs.entry(site).or_insert_with(SiteAcc::new);
        a.calls += e.calls;
        a.timed += e.timed;
        a.cum_ticks += e.cum;
        a.self_ticks += e.self_;
        a.raw_cum_ticks += e.raw_cum;
        a.raw_self_ticks += e.raw_self;
        a.panics += panics;
        *pending.entry(site).or_default() += e.pending;
        row.calls += e.calls;
        self_ticks += e.self_;
        if parent_local == 0 {
            root_ticks += e.cum;
        }
    }
    let sites = td.site_count.load(Acquire) as usize;
    for id in 1..sites {
        let Some(s) = td.sites.get(id) else { continue };
        let a = accs.entry(id as u32).or_insert_with(SiteAcc::new);
        let mut weight = 0;
        s.hist.for_each(|low, width, count| {
            weight += count;
            // The slot's midpoint, in nanoseconds.
            let v = ((low as f64 + (width - 1) as f64 / 2.0) * scale) as u64;
            // `record_n` grows the auto-resizing histogram; saturating only past u64 range.
            if a.hist.record_n(v, count).is_err() {
                a.hist.saturating_record_n(v, count);
            }
        });
        if weight > 0 {
            a.min = a.min.min(s.min_ticks.load(Relaxed));
            a.max = a.max.max(s.max_ticks.load(Relaxed));
            let held = pending.get(&(id as u32)).copied().unwrap_or(0);
            if held > 0 {
                let v = (s.last_ticks.load(Relaxed) as f64 * scale) as u64;
                if a.hist.record_n(v, held).is_err() {
                    a.hist.saturating_record_n(v, held);
                }
            }
        }
        a.weight += weight;
        a.sum_ticks += ticks(s.sum_fp.load(Relaxed));
        a.polls += s.polls.load(Relaxed);
        a.busy_ticks += s.busy_ticks.load(Relaxed);
        a.cancelled += s.cancelled.load(Relaxed);
    }
    row.root_ns = (root_ticks.max(0.0) * scale) as u64;
    row.self_ns = (self_ticks.max(0.0) * scale) as u64;
    row
}
