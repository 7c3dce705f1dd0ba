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

/// Per-site accumulator while merging threads.
struct SiteAcc {
    hist: hdrhistogram::Histogram<u64>,
    min: u64,
    max: u64,
    sum_ticks: u64,
    polls: u64,
    busy_ticks: u64,
    cancelled: u64,
    calls: u64,
    panics: u64,
    cum_ticks: u64,
    self_ticks: u64,
}

impl SiteAcc {
    fn new() -> Self {
        SiteAcc {
            hist: hdrhistogram::Histogram::new(2).expect("2 significant digits is valid"),
            min: u64::MAX,
            max: 0,
            sum_ticks: 0,
            polls: 0,
            busy_ticks: 0,
            cancelled: 0,
            calls: 0,
            panics: 0,
            cum_ticks: 0,
            self_ticks: 0,
        }
    }
}

struct MergedNode {
    site: u32,
    parent: u32,
    children: Vec<u32>,
    calls: u64,
    cum_ticks: u64,
    self_ticks: u64,
    panics: u64,
}

/// Reads every thread's figures. `wall_ns` is the run's wall time so far (for shares).
pub fn collect(wall_ns: u64) -> Profile {
    let sites: Vec<&'static Site> = registry().clone();
    let threads = all_threads();
    let scale = ns_per_tick();
    let mut accs: HashMap<u32, SiteAcc> = HashMap::new();
    let mut merged: Vec<MergedNode> = vec![MergedNode {
        site: 0,
        parent: 0,
        children: Vec::new(),
        calls: 0,
        cum_ticks: 0,
        self_ticks: 0,
        panics: 0,
    }];
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
        let cumulative_ns = ticks_to_ns(a.cum_ticks);
        let hist_count = a.hist.len();
        let mean = if hist_count > 0 {
            a.sum_ticks as f64 * scale / hist_count as f64
        } else {
            0.0
        };
        let (min, max) = if hist_count > 0 {
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
            panics: a.panics,
            cumulative_ns,
            self_ns: ticks_to_ns(a.self_ticks),
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
                wall_ns: (a.sum_ticks as f64 * scale) as u64,
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
            cumulative_ns: ticks_to_ns(m.cum_ticks),
            self_ns: ticks_to_ns(m.self_ticks),
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
    Profile {
        schema_version: SCHEMA_VERSION,
        meta: RunMeta {
            wall_ns,
            instrumented_ns,
            total_calls,
            clock_source: crate::clock::source_name().to_string(),
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
    }
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
    // Map this thread's node index to the merged node index.
    let mut local_to_merged: Vec<u32> = Vec::with_capacity(n);
    let mut row = ThreadStats {
        index: td.index,
        name: td.name.clone(),
        finished,
        ..ThreadStats::default()
    };
    let mut root_ticks = 0u64;
    let mut self_ticks = 0u64;
    for i in 0..n {
        let Some(s) = td.nodes.get(i) else { break };
        if i == 0 {
            local_to_merged.push(0);
            continue;
        }
        let site = s.site.load(Relaxed);
        let parent_local = s.parent.load(Relaxed) as usize;
        let parent = local_to_merged.get(parent_local).copied().unwrap_or(0);
        let idx = *by_path.entry((parent, site)).or_insert_with(|| {
            let idx = merged.len() as u32;
            merged.push(MergedNode {
                site,
                parent,
                children: Vec::new(),
                calls: 0,
                cum_ticks: 0,
                self_ticks: 0,
                panics: 0,
            });
            merged[parent as usize].children.push(idx);
            idx
        });
        local_to_merged.push(idx);
        let calls = s.calls.load(Relaxed);
        let cum = s.cum_ticks.load(Relaxed);
        let slf = s.self_ticks.load(Relaxed);
        let panics = s.panics.load(Relaxed);
        let m = &mut merged[idx as usize];
        m.calls += calls;
        m.cum_ticks += cum;
        m.self_ticks += slf;
        m.panics += panics;
        let a = accs.entry(site).or_insert_with(SiteAcc::new);
        a.calls += calls;
        a.cum_ticks += cum;
        a.self_ticks += slf;
        a.panics += panics;
        row.calls += calls;
        self_ticks += slf;
        if parent_local == 0 {
            root_ticks += cum;
        }
    }
    let sites = td.site_count.load(Acquire) as usize;
    for id in 1..sites {
        let Some(s) = td.sites.get(id) else { continue };
        let a = accs.entry(id as u32).or_insert_with(SiteAcc::new);
        let mut any = false;
        s.hist.for_each(|low, width, count| {
            any = true;
            // The slot's midpoint, in nanoseconds.
            let v = ((low as f64 + (width - 1) as f64 / 2.0) * scale) as u64;
            // `record_n` grows the auto-resizing histogram; saturating only past u64 range.
            if a.hist.record_n(v, count).is_err() {
                a.hist.saturating_record_n(v, count);
            }
        });
        if any {
            a.min = a.min.min(s.min_ticks.load(Relaxed));
            a.max = a.max.max(s.max_ticks.load(Relaxed));
        }
        a.sum_ticks += s.sum_ticks.load(Relaxed);
        a.polls += s.polls.load(Relaxed);
        a.busy_ticks += s.busy_ticks.load(Relaxed);
        a.cancelled += s.cancelled.load(Relaxed);
    }
    row.root_ns = ticks_to_ns(root_ticks);
    row.self_ns = ticks_to_ns(self_ticks);
    row
}
