//! Reading every thread's recorder into one [`Profile`].
//!
//! Runs on the caller's thread, never stops the threads it reads: each figure is an atomic that
//! its owner writes, so a snapshot taken while calls are in flight sees every finished call of
//! every thread (live, pooled or exited); calls still open are not counted yet. Threads that
//! have exited were folded into one aggregate as they exited (`threads::exited`): the snapshot
//! starts from it, so its cost does not grow with the threads that came and went.

#[cfg(feature = "alloc")]
pub(crate) mod alloc;
#[cfg(test)]
mod exit_tests;
mod lines;
pub(crate) mod sizes;
pub(crate) mod stages;

use crate::clock::{ns_per_tick, ticks_to_ns};
use crate::profile::*;
use crate::site::{Site, SiteKind, registry};
use crate::threads::merge::Merged;
use crate::threads::registered;
use std::collections::HashMap;

/// Reads every thread's figures. `wall_ns` is the run's wall time so far (for shares).
pub fn collect(wall_ns: u64) -> Profile {
    let sites: Vec<&'static Site> = registry().clone();
    // Each thread is either live or exited here, never both nor neither.
    let (threads, exited) = registered();
    let scale = ns_per_tick();
    let size_classes = sizes::collect();
    // A copy, letting go of the shared aggregate at once: a thread exiting meanwhile then folds
    // into it in place rather than into a copy of its own.
    let (mut all, exited_row) = match exited {
        Some(e) => (e.merged.clone(), Some(e.row())),
        None => (Merged::default(), None),
    };
    let mut thread_rows = Vec::with_capacity(threads.len() + 1);
    for td in &threads {
        thread_rows.push(all.add_thread(td, scale));
    }
    // Live threads' recorders may be freed once the snapshot lets go.
    drop(threads);
    thread_rows.extend(exited_row);
    let Merged {
        accs,
        nodes: merged,
        ..
    } = all;

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
            sizes: sizes::function(&size_classes, id, scale),
            scaling: None,
        });
    }

    // Call tree: drop nodes whose site has no function row (e.g. never finished a call).
    let mut nodes = Vec::with_capacity(merged.len());
    let mut unclamped = Vec::with_capacity(merged.len());
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
        unclamped.push((m.signed_self_ticks * scale) as i64);
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
    let (stages, pipeline_edges) = stages::collect(wall_ns);
    let cal = crate::probe::calibrate::calibration();
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
            stage_probe: crate::probe::stage::calibration(),
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
        lines: lines::collect(),
        unclamped_self: UnclampedSelf(unclamped),
        ..Profile::default()
    };
    lines::bound(&mut profile);
    if wall_ns > 0 {
        profile.meta.probe_overhead_share = (profile.probe_cost_ns() / wall_ns as f64).min(1.0);
    }
    profile
}
