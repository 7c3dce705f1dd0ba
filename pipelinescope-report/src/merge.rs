//! Combining the profiles of many runs (processes, machines) into one.
//!
//! * Functions are matched by name and module; stages by name and module; call-tree nodes by
//!   their call path (the chain of functions from the root).
//! * Counts and times are summed; histograms are merged exactly by re-recording every input's
//!   buckets into one HDR histogram of the same precision, so the merged count is the sum of the
//!   counts and every percentile is the one of the pooled calls.
//! * Min and max are the extremes over the inputs, the mean is the call-weighted mean.
//! * `wall_ns` is the sum of the inputs' wall times (the total time of all processes), so that
//!   shares of the run stay between 0 and 1; shares, selectivity, throughput, the bottleneck and
//!   the Amdahl figures are recomputed from the sums.
//! * Each input's metadata is kept in [`Profile::sources`] (the sources of an input that is
//!   itself merged are carried over, not nested). Resource samples and extrapolations describe
//!   one process and are not combined.
//! * Size classes (`sizes`) add up class by class, and each function's and stage's within-run
//!   fit (`scaling`) is made again over the pooled classes.

use std::collections::HashMap;

use pipelinescope_core::profile::{
    AsyncStats, CallNode, CallTree, FunctionStats, Histogram, Percentiles, PipelineEdge, Profile,
    RunMeta, SourceRun, StageStats, ThreadStats,
};

/// Merges histograms exactly: every bucket re-recorded into one HDR histogram at the highest
/// precision among the inputs.
pub fn merge_histograms<'a>(hs: impl IntoIterator<Item = &'a Histogram>) -> Histogram {
    let mut all = Histogram::default();
    for h in hs {
        all.sigfig = all.sigfig.max(h.sigfig);
        all.buckets.extend_from_slice(&h.buckets);
    }
    if all.buckets.is_empty() {
        return all;
    }
    Histogram::from_hdr(&all.to_hdr())
}

/// Summary of pooled observations: `parts` are (percentiles, observations) of each input.
fn merge_percentiles(merged: &Histogram, parts: &[(Percentiles, u64)]) -> Percentiles {
    let n: u64 = parts.iter().map(|&(_, n)| n).sum();
    let nonempty = || parts.iter().filter(|&&(_, n)| n > 0);
    let min = nonempty().map(|(p, _)| p.min_ns).min().unwrap_or(0);
    let max = nonempty().map(|(p, _)| p.max_ns).max().unwrap_or(0);
    let mean = if n == 0 {
        0.0
    } else {
        nonempty().map(|(p, k)| p.mean_ns * *k as f64).sum::<f64>() / n as f64
    };
    let hdr = merged.to_hdr();
    let mut p = Percentiles::from_hdr(&hdr, min, max, mean);
    if hdr.is_empty() {
        p.min_ns = min;
        p.max_ns = max;
        p.mean_ns = mean;
    }
    p
}

fn merge_meta(inputs: &[(String, Profile)]) -> RunMeta {
    let metas: Vec<&RunMeta> = inputs.iter().map(|(_, p)| &p.meta).collect();
    let uniq = |f: fn(&RunMeta) -> &str| {
        let mut v: Vec<&str> = Vec::new();
        for m in &metas {
            let s = f(m);
            if !s.is_empty() && !v.contains(&s) {
                v.push(s);
            }
        }
        v.join(", ")
    };
    let wall_ns: u64 = metas.iter().map(|m| m.wall_ns).sum();
    let total_calls: u64 = metas.iter().map(|m| m.total_calls).sum();
    let probe_overhead_ns = if total_calls == 0 {
        metas.first().map_or(0.0, |m| m.probe_overhead_ns)
    } else {
        metas
            .iter()
            .map(|m| m.probe_overhead_ns * m.total_calls as f64)
            .sum::<f64>()
            / total_calls as f64
    };
    let mut warnings = Vec::new();
    for (path, p) in inputs {
        for w in &p.meta.warnings {
            warnings.push(format!("{path}: {w}"));
        }
    }
    RunMeta {
        run_id: format!("merged-{}", inputs.len()),
        title: match metas.first() {
            Some(m) if !m.title.is_empty() => {
                format!("{} (merged, {} runs)", m.title, inputs.len())
            }
            _ => format!("Merged profile of {} runs", inputs.len()),
        },
        start_time: metas
            .iter()
            .map(|m| m.start_time.as_str())
            .filter(|s| !s.is_empty())
            .min()
            .unwrap_or("")
            .to_string(),
        end_time: metas
            .iter()
            .map(|m| m.end_time.as_str())
            .max()
            .unwrap_or("")
            .to_string(),
        wall_ns,
        command_line: metas.first().map_or(Vec::new(), |m| m.command_line.clone()),
        host: uniq(|m| &m.host),
        pid: 0,
        pipelinescope_version: uniq(|m| &m.pipelinescope_version),
        probe_overhead_ns,
        probe_inside_ns: weighted(&metas, |m| m.probe_inside_ns),
        probe_outside_ns: weighted(&metas, |m| m.probe_outside_ns),
        probe_untimed_ns: weighted(&metas, |m| m.probe_untimed_ns),
        stage_probe: metas.first().map(|m| m.stage_probe).unwrap_or_default(),
        // Compensated only if every input was; sampled if any input was.
        compensated: !metas.is_empty() && metas.iter().all(|m| m.compensated),
        timing: if metas.iter().any(|m| m.timing == "sampled") {
            "sampled".to_string()
        } else {
            uniq(|m| &m.timing)
        },
        probe_overhead_share: if wall_ns == 0 {
            0.0
        } else {
            total_calls as f64 * probe_overhead_ns / wall_ns as f64
        },
        clock_source: uniq(|m| &m.clock_source),
        // The coarsest input's resolution bounds the merged figures.
        clock_resolution_ns: metas
            .iter()
            .map(|m| m.clock_resolution_ns)
            .fold(0.0, f64::max),
        ended_by_panic: metas.iter().any(|m| m.ended_by_panic),
        warnings,
        instrumented_ns: metas.iter().map(|m| m.instrumented_ns).sum(),
        total_calls,
    }
}

fn merge_functions(
    inputs: &[(String, Profile)],
    wall_ns: u64,
) -> (Vec<FunctionStats>, Vec<Vec<u32>>) {
    let mut index: HashMap<(String, String), usize> = HashMap::new();
    let mut groups: Vec<Vec<&FunctionStats>> = Vec::new();
    // For each input, its function id -> merged id.
    let mut remap: Vec<Vec<u32>> = Vec::new();
    for (_, p) in inputs {
        let mut map = vec![u32::MAX; p.functions.len()];
        for (i, f) in p.functions.iter().enumerate() {
            let key = (f.name.clone(), f.module.clone());
            let g = *index.entry(key).or_insert_with(|| {
                groups.push(Vec::new());
                groups.len() - 1
            });
            groups[g].push(f);
            // Call-tree nodes refer to functions by their index in `functions`.
            map[i] = g as u32;
        }
        remap.push(map);
    }
    let functions = groups
        .iter()
        .enumerate()
        .map(|(id, g)| {
            let first = g[0];
            let histogram = merge_histograms(g.iter().map(|f| &f.histogram));
            let parts: Vec<(Percentiles, u64)> = g
                .iter()
                .map(|f| {
                    let n = if f.histogram.count() > 0 {
                        f.histogram.count()
                    } else {
                        f.calls
                    };
                    (f.percentiles, n)
                })
                .collect();
            let cumulative_ns: u64 = g.iter().map(|f| f.cumulative_ns).sum();
            let async_stats = g.iter().filter_map(|f| f.async_stats).fold(None, |acc, a| {
                let mut s: AsyncStats = acc.unwrap_or_default();
                s.polls += a.polls;
                s.busy_ns += a.busy_ns;
                s.wall_ns += a.wall_ns;
                s.cancelled += a.cancelled;
                Some(s)
            });
            FunctionStats {
                id: id as u32,
                name: first.name.clone(),
                module: first.module.clone(),
                file: first.file.clone(),
                line: first.line,
                kind: first.kind,
                calls: g.iter().map(|f| f.calls).sum(),
                timed_calls: g.iter().map(|f| f.timed_calls).sum(),
                panics: g.iter().map(|f| f.panics).sum(),
                cumulative_ns,
                self_ns: g.iter().map(|f| f.self_ns).sum(),
                raw_cumulative_ns: g.iter().map(|f| f.raw_cumulative_ns).sum(),
                raw_self_ns: g.iter().map(|f| f.raw_self_ns).sum(),
                percentiles: merge_percentiles(&histogram, &parts),
                histogram,
                share_of_wall: if wall_ns == 0 {
                    0.0
                } else {
                    cumulative_ns as f64 / wall_ns as f64
                },
                async_stats,
                sizes: g.iter().fold(Vec::new(), |mut acc, f| {
                    pipelinescope_core::profile::add_buckets(&mut acc, &f.sizes);
                    acc
                }),
                scaling: None,
            }
        })
        .collect();
    (functions, remap)
}

/// A per-call figure of the inputs' metadata, weighted by their calls.
fn weighted(metas: &[&RunMeta], f: impl Fn(&RunMeta) -> f64) -> f64 {
    let calls: u64 = metas.iter().map(|m| m.total_calls).sum();
    if calls == 0 {
        return metas.first().map_or(0.0, |m| f(m));
    }
    metas
        .iter()
        .map(|m| f(m) * m.total_calls as f64)
        .sum::<f64>()
        / calls as f64
}

fn merge_trees(inputs: &[(String, Profile)], remap: &[Vec<u32>]) -> CallTree {
    let mut nodes = vec![CallNode {
        id: 0,
        ..Default::default()
    }];
    let mut by_path: HashMap<(u32, u32), u32> = HashMap::new();
    for ((_, p), map) in inputs.iter().zip(remap) {
        let tree = &p.call_tree.nodes;
        // Input node index -> merged node id; parents come before children.
        let mut local: Vec<u32> = vec![u32::MAX; tree.len()];
        for (i, n) in tree.iter().enumerate() {
            let merged = match (n.parent, n.function) {
                (Some(parent), Some(func)) => {
                    let Some(&mp) = local.get(parent as usize).filter(|&&m| m != u32::MAX) else {
                        continue;
                    };
                    let Some(&mf) = map.get(func as usize).filter(|&&m| m != u32::MAX) else {
                        continue;
                    };
                    *by_path.entry((mp, mf)).or_insert_with(|| {
                        let id = nodes.len() as u32;
                        nodes.push(CallNode {
                            id,
                            parent: Some(mp),
                            function: Some(mf),
                            ..Default::default()
                        });
                        nodes[mp as usize].children.push(id);
                        id
                    })
                }
                _ => 0,
            };
            local[i] = merged;
            let m = &mut nodes[merged as usize];
            m.calls += n.calls;
            m.cumulative_ns += n.cumulative_ns;
            m.self_ns += n.self_ns;
            m.panics += n.panics;
        }
    }
    CallTree { nodes }
}

fn merge_stages(inputs: &[(String, Profile)], wall_ns: u64) -> Vec<StageStats> {
    let mut index: HashMap<(String, String), usize> = HashMap::new();
    let mut groups: Vec<Vec<&StageStats>> = Vec::new();
    for (_, p) in inputs {
        for s in &p.stages {
            let g = *index
                .entry((s.name.clone(), s.module.clone()))
                .or_insert_with(|| {
                    groups.push(Vec::new());
                    groups.len() - 1
                });
            groups[g].push(s);
        }
    }
    let mut stages: Vec<StageStats> = groups
        .iter()
        .map(|g| {
            let first = g[0];
            let sum = |f: fn(&StageStats) -> u64| g.iter().map(|s| f(s)).sum::<u64>();
            let records_in = sum(|s| s.records_in);
            let records_out = sum(|s| s.records_out);
            let own_ns = sum(|s| s.own_ns);
            let invocations = sum(|s| s.invocations);
            let own_histogram = merge_histograms(g.iter().map(|s| &s.own_histogram));
            let parts: Vec<(Percentiles, u64)> = g
                .iter()
                .map(|s| {
                    let n = if s.own_histogram.count() > 0 {
                        s.own_histogram.count()
                    } else {
                        s.records_out
                    };
                    (s.own_per_record, n)
                })
                .collect();
            let first_record_ns = if invocations == 0 {
                0
            } else {
                (g.iter()
                    .map(|s| s.first_record_ns as u128 * s.invocations as u128)
                    .sum::<u128>()
                    / invocations as u128) as u64
            };
            StageStats {
                name: first.name.clone(),
                module: first.module.clone(),
                file: first.file.clone(),
                line: first.line,
                order: g.iter().map(|s| s.order).min().unwrap_or(0),
                kind: first.kind,
                invocations,
                records_in,
                records_out,
                selectivity: if records_in == 0 {
                    0.0
                } else {
                    records_out as f64 / records_in as f64
                },
                own_ns,
                upstream_ns: sum(|s| s.upstream_ns),
                downstream_wait_ns: sum(|s| s.downstream_wait_ns),
                own_per_record: merge_percentiles(&own_histogram, &parts),
                own_histogram,
                throughput_per_s: if own_ns == 0 {
                    0.0
                } else {
                    records_out as f64 / (own_ns as f64 / 1e9)
                },
                first_record_ns,
                exhausted: sum(|s| s.exhausted),
                dropped_early: sum(|s| s.dropped_early),
                active_ns: sum(|s| s.active_ns),
                call_ns: sum(|s| s.call_ns),
                sizes: g.iter().fold(Vec::new(), |mut acc, s| {
                    pipelinescope_core::profile::add_buckets(&mut acc, &s.sizes);
                    acc
                }),
                ..Default::default()
            }
        })
        .collect();
    stages.sort_by(|a, b| a.order.cmp(&b.order).then_with(|| a.name.cmp(&b.name)));
    for (i, s) in stages.iter_mut().enumerate() {
        s.order = i as u32;
    }
    let total_own: u64 = stages.iter().map(|s| s.own_ns).sum();
    let top = stages
        .iter()
        .enumerate()
        .max_by_key(|(_, s)| s.own_ns)
        .filter(|(_, s)| s.own_ns > 0)
        .map(|(i, _)| i);
    for (i, s) in stages.iter_mut().enumerate() {
        s.share_of_pipeline = if total_own == 0 {
            0.0
        } else {
            s.own_ns as f64 / total_own as f64
        };
        s.is_bottleneck = Some(i) == top;
        let p = if wall_ns == 0 {
            0.0
        } else {
            (s.own_ns as f64 / wall_ns as f64).min(1.0)
        };
        s.amdahl_if_free = if p >= 1.0 {
            f64::INFINITY
        } else {
            1.0 / (1.0 - p)
        };
        s.amdahl_if_2x = 1.0 / (1.0 - p / 2.0);
    }
    stages
}

/// Merges profiles; `inputs` are (path as given, profile). The caller checks that the schema
/// versions agree (see [`crate::load::check_same_version`]).
pub fn merge(inputs: &[(String, Profile)]) -> Profile {
    let meta = merge_meta(inputs);
    let (functions, remap) = merge_functions(inputs, meta.wall_ns);
    let call_tree = merge_trees(inputs, &remap);
    let stages = merge_stages(inputs, meta.wall_ns);
    let mut threads = Vec::new();
    for (k, (_, p)) in inputs.iter().enumerate() {
        for t in &p.threads {
            threads.push(ThreadStats {
                index: threads.len() as u32,
                name: format!("run {}: {}", k + 1, t.name),
                ..t.clone()
            });
        }
    }
    let mut edges: Vec<PipelineEdge> = Vec::new();
    for (_, p) in inputs {
        for e in &p.pipeline_edges {
            match edges.iter_mut().find(|x| x.from == e.from && x.to == e.to) {
                Some(x) => x.records += e.records,
                None => edges.push(e.clone()),
            }
        }
    }
    let mut sources = Vec::new();
    for (path, p) in inputs {
        if p.sources.is_empty() {
            sources.push(SourceRun {
                path: path.clone(),
                meta: p.meta.clone(),
            });
        } else {
            sources.extend(p.sources.iter().cloned());
        }
    }
    let mut merged = Profile {
        schema_version: inputs
            .first()
            .map_or(pipelinescope_core::SCHEMA_VERSION, |(_, p)| {
                p.schema_version
            }),
        meta,
        functions,
        call_tree,
        threads,
        stages,
        pipeline_edges: edges,
        resources: None,
        extrapolation: None,
        sources,
        // Line tables are per run (their source may differ between runs): not merged.
        lines: Vec::new(),
        // Signed sums belong to one process's snapshots.
        unclamped_self: Default::default(),
    };
    // The size classes of every input together: fitted again, over all of them.
    crate::scaling::within::annotate(&mut merged);
    merged
}

#[cfg(test)]
#[path = "merge_tests.rs"]
mod tests;
