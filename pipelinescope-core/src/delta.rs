//! What happened between two snapshots: a run reports only the calls that finished after it
//! started, even when the process ran instrumented code before (a warm-up, a previous run).
//!
//! The recorder's counters only grow, and nothing on the hot path may reset them (another
//! thread's counters are written by that thread alone), so a run takes a snapshot when it starts
//! and subtracts it from the one it takes when it ends. Counts, times and histogram buckets
//! subtract exactly; functions, call paths, threads, stages and edges are matched by identity.
//! A call that began before the run started and ended during it is counted whole. A thread
//! that exits moves its figures from its own row into the exited threads' row: what its own
//! row held at the start is taken off that row, so nothing is reported twice.

use crate::profile::*;
use std::collections::HashMap;

type FnKey<'a> = (&'a str, &'a str, &'a str, u32);

fn fn_key(f: &FunctionStats) -> FnKey<'_> {
    (&f.name, &f.module, &f.file, f.line)
}

/// For each call-tree node, the chain of function identities from the root to it.
fn paths(p: &Profile) -> Vec<Vec<FnKey<'_>>> {
    let mut paths: Vec<Vec<FnKey<'_>>> = Vec::with_capacity(p.call_tree.nodes.len());
    for n in &p.call_tree.nodes {
        let mut path = n
            .parent
            .and_then(|q| paths.get(q as usize).cloned())
            .unwrap_or_default();
        if let Some(f) = n.function.and_then(|f| p.functions.get(f as usize)) {
            path.push(fn_key(f));
        }
        paths.push(path);
    }
    paths
}

/// `cur - base`, bucket by bucket (both come from histograms of the same precision).
fn sub_hist(cur: &Histogram, base: &Histogram) -> Histogram {
    if base.buckets.is_empty() {
        return cur.clone();
    }
    let before: HashMap<u64, u64> = base.buckets.iter().copied().collect();
    Histogram {
        sigfig: cur.sigfig,
        buckets: cur
            .buckets
            .iter()
            .map(|&(v, c)| (v, c.saturating_sub(before.get(&v).copied().unwrap_or(0))))
            .filter(|&(_, c)| c > 0)
            .collect(),
    }
}

/// Makes `h` count `n` values: a shortfall is added at the median, an excess taken from the
/// fullest buckets.
fn fit_count(h: &mut Histogram, n: u64) {
    let count = h.count();
    if count == n || h.buckets.is_empty() {
        return;
    }
    if count < n {
        let mut seen = 0;
        let half = count.div_ceil(2);
        if let Some(b) = h.buckets.iter_mut().find(|b| {
            seen += b.1;
            seen >= half
        }) {
            b.1 += n - count;
        }
    } else {
        let mut excess = count - n;
        let mut order: Vec<usize> = (0..h.buckets.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(h.buckets[i].1));
        for i in order {
            let take = excess.min(h.buckets[i].1);
            h.buckets[i].1 -= take;
            excess -= take;
            if excess == 0 {
                break;
            }
        }
        h.buckets.retain(|b| b.1 > 0);
    }
}

/// Summary of a histogram that is the difference of two, keeping exact figures where they are
/// still known: min and max stay exact when nothing was recorded before, and the mean is exact
/// from the two totals.
fn sub_percentiles(
    cur: &Percentiles,
    base: &Percentiles,
    cur_n: u64,
    base_n: u64,
    h: &Histogram,
) -> Percentiles {
    let n = h.count();
    if n == 0 {
        return Percentiles::default();
    }
    if base_n == 0 {
        return *cur;
    }
    let hdr = h.to_hdr();
    let total = cur.mean_ns * cur_n as f64 - base.mean_ns * base_n as f64;
    let mean = (total / n as f64).max(0.0);
    // Bucket values are within 1% of the true values; keep them inside the exact range of all
    // calls so far.
    let min = hdr.min().clamp(cur.min_ns, cur.max_ns);
    let max = hdr.max().clamp(min, cur.max_ns);
    Percentiles::from_hdr(&hdr, min, max, mean)
}

/// Replaces a histogram and its summary with what they hold beyond `base_h` and `base_p`.
fn sub_timing(p: &mut Percentiles, h: &mut Histogram, base_p: &Percentiles, base_h: &Histogram) {
    let d = sub_hist(h, base_h);
    *p = sub_percentiles(p, base_p, h.count(), base_h.count(), &d);
    *h = d;
}

/// Makes each call path's inclusive time its self time plus its callees' inclusive times again,
/// and each function's times the sums over its paths, as a snapshot has them. Each snapshot
/// holds these identities with self times clamped at zero, but the difference of two clamped
/// figures need not: a parent whose self time read 15 ms before and (clamped) 15 ms after, while
/// its callees were charged more in between, would show callees longer than itself.
fn settle_paths(p: &mut Profile) {
    let nodes = &mut p.call_tree.nodes;
    let n = nodes.len();
    // A path whose function is also one of its ancestors' keeps its measured time: its self
    // time holds its inner activations, which its callees' times hold too.
    let recursive: Vec<bool> = (0..n)
        .map(|i| {
            let f = nodes[i].function;
            let mut up = nodes[i].parent;
            let mut steps = 0;
            while let Some(u) = up.filter(|_| steps < n) {
                let Some(a) = nodes.get(u as usize) else {
                    break;
                };
                if f.is_some() && a.function == f {
                    return true;
                }
                up = a.parent;
                steps += 1;
            }
            false
        })
        .collect();
    // Paths come after their parents (ids are given parents first): settle callees first.
    for i in (0..n).rev() {
        if nodes[i].parent.is_none() {
            continue;
        }
        let children: u64 = nodes[i]
            .children
            .iter()
            .filter_map(|&c| nodes.get(c as usize))
            .filter(|c| c.parent == Some(i as u32))
            .map(|c| c.cumulative_ns)
            .sum();
        let node = &mut nodes[i];
        node.cumulative_ns = if recursive[i] {
            node.cumulative_ns.max(node.self_ns)
        } else {
            node.self_ns + children
        };
    }
    // (A function without paths, if any, keeps its own figures.)
    let mut sums: Vec<Option<(u64, u64)>> = vec![None; p.functions.len()];
    for node in nodes.iter().filter(|n| n.parent.is_some()) {
        if let Some(s) = node.function.and_then(|f| sums.get_mut(f as usize)) {
            let (self_ns, cum) = s.get_or_insert((0, 0));
            *self_ns += node.self_ns;
            *cum += node.cumulative_ns;
        }
    }
    for (f, sum) in p.functions.iter_mut().zip(sums) {
        if let Some((self_ns, cumulative_ns)) = sum {
            f.self_ns = self_ns;
            f.cumulative_ns = cumulative_ns;
        }
    }
}

impl Profile {
    /// What this snapshot holds beyond `base`, an earlier snapshot of the same process.
    pub fn since(&self, base: &Profile) -> Profile {
        let mut out = self.clone();
        // A fit over every call so far does not describe the calls since `base`: the
        // difference's size classes are fitted again by whoever reads it (the run's end does).
        for f in &mut out.functions {
            f.scaling = None;
        }
        for s in &mut out.stages {
            s.scaling = None;
        }

        // Functions.
        let before: HashMap<FnKey<'_>, &FunctionStats> =
            base.functions.iter().map(|f| (fn_key(f), f)).collect();
        for (f, cur) in out.functions.iter_mut().zip(&self.functions) {
            let Some(b) = before.get(&fn_key(cur)) else {
                continue;
            };
            sub_timing(
                &mut f.percentiles,
                &mut f.histogram,
                &b.percentiles,
                &b.histogram,
            );
            f.calls = f.calls.saturating_sub(b.calls);
            f.timed_calls = f.timed_calls.saturating_sub(b.timed_calls);
            f.panics = f.panics.saturating_sub(b.panics);
            f.cumulative_ns = f.cumulative_ns.saturating_sub(b.cumulative_ns);
            f.self_ns = f.self_ns.saturating_sub(b.self_ns);
            f.raw_cumulative_ns = f.raw_cumulative_ns.saturating_sub(b.raw_cumulative_ns);
            f.raw_self_ns = f.raw_self_ns.saturating_sub(b.raw_self_ns);
            // Calls after a sampled path's last timed call are held at its value when read,
            // and that value moves between the two snapshots: the difference of the two
            // histograms can miss or hold a few calls. Keep it at one entry per call.
            if f.kind == FunctionKind::Sync && f.histogram.count() != f.calls {
                fit_count(&mut f.histogram, f.calls);
                let p = f.percentiles;
                f.percentiles =
                    Percentiles::from_hdr(&f.histogram.to_hdr(), p.min_ns, p.max_ns, p.mean_ns);
            }
            if let (Some(a), Some(ba)) = (&mut f.async_stats, &b.async_stats) {
                a.polls = a.polls.saturating_sub(ba.polls);
                a.busy_ns = a.busy_ns.saturating_sub(ba.busy_ns);
                a.wall_ns = a.wall_ns.saturating_sub(ba.wall_ns);
                a.cancelled = a.cancelled.saturating_sub(ba.cancelled);
            }
            crate::profile::subtract_buckets(&mut f.sizes, &b.sizes);
        }

        // Call paths, keyed by the chain of function identities from the root.
        let base_paths = paths(base);
        let before_nodes: HashMap<&[FnKey<'_>], &CallNode> = base_paths
            .iter()
            .zip(&base.call_tree.nodes)
            .filter(|(_, n)| n.parent.is_some())
            .map(|(p, n)| (p.as_slice(), n))
            .collect();
        let cur_paths = paths(self);
        // Self times from the signed sums where both snapshots have them: a path whose
        // compensated self time was below zero at `base` shows zero there, and subtracting that
        // zero would leave the difference short by what the clamp hid.
        let signed_sums = self
            .unclamped_self
            .of(&self.call_tree.nodes)
            .zip(base.unclamped_self.of(&base.call_tree.nodes));
        let mut signed_out = signed_sums.map(|(c, _)| c.to_vec());
        for (i, (n, path)) in out.call_tree.nodes.iter_mut().zip(&cur_paths).enumerate() {
            if n.parent.is_none() {
                continue;
            }
            if let Some(b) = before_nodes.get(path.as_slice()) {
                n.calls = n.calls.saturating_sub(b.calls);
                n.cumulative_ns = n.cumulative_ns.saturating_sub(b.cumulative_ns);
                let signed = signed_sums
                    .and_then(|(c, bs)| Some(c.get(i)?.saturating_sub(*bs.get(b.id as usize)?)));
                n.self_ns = match signed {
                    Some(d) => d.max(0) as u64,
                    None => n.self_ns.saturating_sub(b.self_ns),
                };
                if let (Some(out), Some(d)) = (&mut signed_out, signed) {
                    out[i] = d;
                }
                n.panics = n.panics.saturating_sub(b.panics);
            }
        }
        out.unclamped_self = UnclampedSelf(signed_out.unwrap_or_default());

        settle_paths(&mut out);

        // Threads.
        let before_threads: HashMap<u32, &ThreadStats> =
            base.threads.iter().map(|t| (t.index, t)).collect();
        // Threads live in `base` and gone since have exited: what they had done by then, on
        // their own rows in `base`, is in the exited threads' row now.
        let now: std::collections::HashSet<u32> = self.threads.iter().map(|t| t.index).collect();
        let exited_since = base
            .threads
            .iter()
            .filter(|t| !t.is_exited_threads() && !now.contains(&t.index));
        let mut moved = ThreadStats::default();
        for t in exited_since {
            moved.calls += t.calls;
            moved.root_ns += t.root_ns;
            moved.self_ns += t.self_ns;
        }
        for t in &mut out.threads {
            if let Some(b) = before_threads.get(&t.index) {
                t.calls = t.calls.saturating_sub(b.calls);
                t.root_ns = t.root_ns.saturating_sub(b.root_ns);
                t.self_ns = t.self_ns.saturating_sub(b.self_ns);
                t.exited_threads = t.exited_threads.saturating_sub(b.exited_threads);
            }
            if t.is_exited_threads() {
                t.calls = t.calls.saturating_sub(moved.calls);
                t.root_ns = t.root_ns.saturating_sub(moved.root_ns);
                t.self_ns = t.self_ns.saturating_sub(moved.self_ns);
                t.name = exited_threads_name(t.exited_threads);
            }
        }
        out.threads.retain(|t| t.calls > 0);

        // Stages and edges.
        let before_stages: HashMap<&str, &StageStats> =
            base.stages.iter().map(|s| (s.name.as_str(), s)).collect();
        for s in &mut out.stages {
            let Some(b) = before_stages.get(s.name.as_str()) else {
                continue;
            };
            sub_timing(
                &mut s.own_per_record,
                &mut s.own_histogram,
                &b.own_per_record,
                &b.own_histogram,
            );
            let first_total = (s.first_record_ns as f64 * s.invocations as f64
                - b.first_record_ns as f64 * b.invocations as f64)
                .max(0.0);
            s.invocations = s.invocations.saturating_sub(b.invocations);
            s.first_record_ns = if s.invocations > 0 {
                (first_total / s.invocations as f64) as u64
            } else {
                0
            };
            s.records_in = s.records_in.saturating_sub(b.records_in);
            s.records_out = s.records_out.saturating_sub(b.records_out);
            s.own_ns = s.own_ns.saturating_sub(b.own_ns);
            s.upstream_ns = s.upstream_ns.saturating_sub(b.upstream_ns);
            s.downstream_wait_ns = s.downstream_wait_ns.saturating_sub(b.downstream_wait_ns);
            s.exhausted = s.exhausted.saturating_sub(b.exhausted);
            s.dropped_early = s.dropped_early.saturating_sub(b.dropped_early);
            s.active_ns = s.active_ns.saturating_sub(b.active_ns);
            s.call_ns = s.call_ns.saturating_sub(b.call_ns);
            crate::profile::subtract_buckets(&mut s.sizes, &b.sizes);
        }
        out.stages
            .retain(|s| s.invocations > 0 || s.records_in > 0 || s.records_out > 0);
        let before_edges: HashMap<(&str, &str), u64> = base
            .pipeline_edges
            .iter()
            .map(|e| ((e.from.as_str(), e.to.as_str()), e.records))
            .collect();
        for e in &mut out.pipeline_edges {
            let b = before_edges
                .get(&(e.from.as_str(), e.to.as_str()))
                .copied()
                .unwrap_or(0);
            e.records = e.records.saturating_sub(b);
        }
        out.pipeline_edges.retain(|e| e.records > 0);
        crate::bounds::hold_profile(&mut out.stages, &out.pipeline_edges);

        out.lines = crate::profile::lines_since(&self.lines, &base.lines);
        out.prune_idle_functions();
        out.meta.total_calls = out.functions.iter().map(|f| f.calls).sum();
        out.meta.instrumented_ns = out.threads.iter().map(|t| t.root_ns).sum();
        out.derive_shares();
        out
    }

    /// Drops functions with nothing recorded (and call paths with nothing under them).
    fn prune_idle_functions(&mut self) {
        let idle = |f: &FunctionStats| {
            f.calls == 0
                && f.async_stats
                    .is_none_or(|a| a.polls == 0 && a.cancelled == 0)
        };
        let keep_fn: Vec<bool> = self.functions.iter().map(|f| !idle(f)).collect();
        // A node stays if it or any descendant had calls (a call still open when the run
        // ended has no calls yet but its finished callees do).
        let nodes = &self.call_tree.nodes;
        let mut keep_node = vec![false; nodes.len()];
        for i in (0..nodes.len()).rev() {
            let n = &nodes[i];
            let fn_ok = n
                .function
                .is_none_or(|f| keep_fn.get(f as usize).copied().unwrap_or(false));
            if n.parent.is_none()
                || (n.calls > 0 && fn_ok)
                || n.children.iter().any(|&c| keep_node[c as usize])
            {
                keep_node[i] = true;
            }
        }
        // Functions still referenced by a kept node stay too.
        let mut used = keep_fn.clone();
        for (n, &k) in nodes.iter().zip(&keep_node) {
            if let (true, Some(f)) = (k, n.function)
                && let Some(u) = used.get_mut(f as usize)
            {
                *u = true;
            }
        }
        let mut fn_map: Vec<Option<u32>> = Vec::with_capacity(used.len());
        let mut functions = Vec::new();
        for (f, &u) in std::mem::take(&mut self.functions).into_iter().zip(&used) {
            if u {
                fn_map.push(Some(functions.len() as u32));
                functions.push(f);
            } else {
                fn_map.push(None);
            }
        }
        for (i, f) in functions.iter_mut().enumerate() {
            f.id = i as u32;
        }
        let mut node_map: Vec<Option<u32>> = vec![None; nodes.len()];
        let mut kept = Vec::new();
        for (i, n) in nodes.iter().enumerate() {
            if !keep_node[i] {
                continue;
            }
            let parent = match n.parent {
                None => None,
                Some(p) => match node_map.get(p as usize).copied().flatten() {
                    Some(p) => Some(p),
                    None => continue,
                },
            };
            let id = kept.len() as u32;
            node_map[i] = Some(id);
            kept.push(CallNode {
                id,
                parent,
                function: n
                    .function
                    .and_then(|f| fn_map.get(f as usize).copied().flatten()),
                children: Vec::new(),
                ..n.clone()
            });
        }
        for i in 0..kept.len() {
            if let Some(p) = kept[i].parent {
                let id = kept[i].id;
                kept[p as usize].children.push(id);
            }
        }
        // The root's figures: the sum over root calls.
        let (calls, cum) = kept.first().map_or((0, 0), |r| {
            r.children.iter().fold((0, 0), |(c, t), &ch| {
                (
                    c + kept[ch as usize].calls,
                    t + kept[ch as usize].cumulative_ns,
                )
            })
        });
        if let Some(r) = kept.first_mut() {
            r.calls = calls;
            r.cumulative_ns = cum;
        }
        self.functions = functions;
        self.call_tree.nodes = kept;
    }

    /// Recomputes the figures derived from totals and the wall time: each function's share of
    /// the run, and each stage's selectivity, throughput, share, bottleneck mark and Amdahl
    /// speedups.
    pub fn derive_shares(&mut self) {
        let wall = self.meta.wall_ns;
        for f in &mut self.functions {
            f.share_of_wall = if wall > 0 {
                f.cumulative_ns as f64 / wall as f64
            } else {
                0.0
            };
        }
        derive_stage_metrics(&mut self.stages, wall);
    }
}

/// Selectivity, throughput, share of all stages' own time, the bottleneck (largest own time) and
/// Amdahl's speedups (p = own time / wall, capped at 0.999 so the figure stays finite), from each
/// stage's counts and times.
pub fn derive_stage_metrics(stages: &mut [StageStats], wall_ns: u64) {
    let total_own: u64 = stages.iter().map(|s| s.own_ns).sum();
    for s in stages.iter_mut() {
        s.selectivity = if s.records_in > 0 {
            s.records_out as f64 / s.records_in as f64
        } else {
            0.0
        };
        let active_s = (s.own_ns + s.upstream_ns) as f64 / 1e9;
        s.throughput_per_s = if active_s > 0.0 {
            s.records_out as f64 / active_s
        } else {
            0.0
        };
        s.share_of_pipeline = if total_own > 0 {
            s.own_ns as f64 / total_own as f64
        } else {
            0.0
        };
        let p = if wall_ns > 0 {
            (s.own_ns as f64 / wall_ns as f64).clamp(0.0, 0.999)
        } else {
            0.0
        };
        s.amdahl_if_free = 1.0 / (1.0 - p);
        s.amdahl_if_2x = 1.0 / (1.0 - p / 2.0);
        s.is_bottleneck = false;
    }
    if let Some(b) = stages
        .iter_mut()
        .filter(|s| s.own_ns > 0)
        .max_by_key(|s| s.own_ns)
    {
        b.is_bottleneck = true;
    }
}

#[cfg(test)]
#[path = "delta_tests.rs"]
mod tests;
