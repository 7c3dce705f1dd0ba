//! Merging threads' figures: per call path into one tree, per site into one row.
//!
//! A snapshot merges the live threads on top of the merge of the threads that have exited,
//! which each thread joined as it exited (`threads::exited`), through the same code: a thread's
//! figures come out the same whether it is read live or was folded in at its exit.

use crate::local::ThreadData;
use crate::profile::ThreadStats;
use std::collections::HashMap;
use std::sync::atomic::Ordering::*;

/// Per-site accumulator while merging threads. Times in ticks, as estimated over every call.
#[derive(Clone)]
pub(crate) struct SiteAcc {
    pub hist: hdrhistogram::Histogram<u64>,
    pub min: u64,
    pub max: u64,
    /// Weighted sum of the timed calls' compensated inclusive times.
    pub sum_ticks: f64,
    /// Sum of the timed calls' weights: the calls `sum_ticks` stands for.
    pub weight: u64,
    pub polls: u64,
    pub busy_ticks: u64,
    pub cancelled: u64,
    pub calls: u64,
    pub timed: u64,
    pub panics: u64,
    pub cum_ticks: f64,
    pub self_ticks: f64,
    pub raw_cum_ticks: f64,
    pub raw_self_ticks: f64,
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

    /// Adds another accumulator of the same site.
    fn absorb(&mut self, o: &SiteAcc) {
        // Same precision, auto-resizing: bucket counts add exactly. (Should the sum not fit,
        // record what is left one bucket at a time, clamped, rather than lose it.)
        if self.hist.add(&o.hist).is_err() {
            for v in o.hist.iter_recorded() {
                let (x, n) = (v.value_iterated_to(), v.count_at_value());
                if self.hist.record_n(x, n).is_err() {
                    self.hist.saturating_record_n(x, n);
                }
            }
        }
        self.min = self.min.min(o.min);
        self.max = self.max.max(o.max);
        self.sum_ticks += o.sum_ticks;
        self.weight += o.weight;
        self.polls += o.polls;
        self.busy_ticks += o.busy_ticks;
        self.cancelled += o.cancelled;
        self.calls += o.calls;
        self.timed += o.timed;
        self.panics += o.panics;
        self.cum_ticks += o.cum_ticks;
        self.self_ticks += o.self_ticks;
        self.raw_cum_ticks += o.raw_cum_ticks;
        self.raw_self_ticks += o.raw_self_ticks;
    }
}

#[derive(Default, Clone)]
pub(crate) struct MergedNode {
    pub site: u32,
    pub parent: u32,
    pub children: Vec<u32>,
    pub calls: u64,
    pub cum_ticks: f64,
    pub self_ticks: f64,
    /// `self_ticks` before each thread's clamp at zero (see `Profile::unclamped_self`).
    pub signed_self_ticks: f64,
    pub panics: u64,
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
    /// `self_` before the clamp at zero.
    signed_self: f64,
    raw_cum: f64,
    raw_self: f64,
}

/// A two's-complement fixed-point amount, in ticks.
fn ticks(fp: u64) -> f64 {
    fp as i64 as f64 / f64::from(1u32 << crate::cost::FP)
}

/// Threads' figures merged: per site, and per call path in one tree whose node 0 is the root
/// and whose parents come before their children.
#[derive(Clone)]
pub(crate) struct Merged {
    pub accs: HashMap<u32, SiteAcc>,
    pub nodes: Vec<MergedNode>,
    /// `(parent, site)` to node.
    by_path: HashMap<(u32, u32), u32>,
}

impl Default for Merged {
    fn default() -> Self {
        Merged {
            accs: HashMap::new(),
            nodes: vec![MergedNode::default()],
            by_path: HashMap::new(),
        }
    }
}

impl Merged {
    /// The node for `site` called from `parent`, made on first use.
    fn node(&mut self, parent: u32, site: u32) -> u32 {
        let nodes = &mut self.nodes;
        *self.by_path.entry((parent, site)).or_insert_with(|| {
            let idx = nodes.len() as u32;
            nodes.push(MergedNode {
                site,
                parent,
                ..MergedNode::default()
            });
            nodes[parent as usize].children.push(idx);
            idx
        })
    }

    /// Adds another merge, path by path and site by site.
    pub(crate) fn absorb(&mut self, o: &Merged) {
        let mut map: Vec<u32> = Vec::with_capacity(o.nodes.len());
        map.push(0);
        for n in o.nodes.iter().skip(1) {
            // Parents come before their children, so the parent is mapped already.
            let parent = map.get(n.parent as usize).copied().unwrap_or(0);
            let idx = self.node(parent, n.site);
            map.push(idx);
            let m = &mut self.nodes[idx as usize];
            m.calls += n.calls;
            m.cum_ticks += n.cum_ticks;
            m.self_ticks += n.self_ticks;
            m.signed_self_ticks += n.signed_self_ticks;
            m.panics += n.panics;
        }
        for (&site, a) in &o.accs {
            self.accs.entry(site).or_insert_with(SiteAcc::new).absorb(a);
        }
    }

    /// Adds one thread's figures; returns the thread's row.
    pub(crate) fn add_thread(&mut self, td: &ThreadData, scale: f64) -> ThreadStats {
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
            let idx = self.node(parent, site);
            local_to_merged.push(idx);
            let e = est[i];
            let panics = s.panics.load(Relaxed);
            let m = &mut self.nodes[idx as usize];
            m.calls += e.calls;
            m.cum_ticks += e.cum;
            m.self_ticks += e.self_;
            m.signed_self_ticks += e.signed_self;
            m.panics += panics;
            let a = self.accs.entry(site).or_insert_with(SiteAcc::new);
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
            let a = self.accs.entry(id as u32).or_insert_with(SiteAcc::new);
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
            // Kept as read: the loop below clamps `self_` at zero.
            signed_self: self_,
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
