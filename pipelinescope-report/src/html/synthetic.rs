//! Deterministic synthetic profiles of any size, for tests and benchmarks of the report.

use pipelinescope_core::profile::{
    AllocationStats, AttributedResources, CallNode, CallTree, FunctionKind, FunctionStats, GpuInfo,
    Histogram, Percentiles, PipelineEdge, Profile, ResourceSample, Resources, RunMeta, RunSummary,
    SizeBucket, StageKind, StageStats, ThreadStats,
};

/// Small fast generator (SplitMix64): the same seed always gives the same profile.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }
}

/// A plausible profile with `functions` functions, a call tree of `nodes` nodes (root included),
/// five pipeline stages, a full resource section and an extrapolation.
///
/// Every function appears in the tree when `nodes > functions`. Figures are consistent: a node's
/// cumulative time is its self time plus its children's, a function's figures sum its nodes.
pub fn profile(functions: usize, nodes: usize) -> Profile {
    let mut rng = Rng(0x5EED);
    let nodes = nodes.max(1);
    let mut tree = vec![CallNode::default(); nodes];
    for (i, node) in tree.iter_mut().enumerate() {
        node.id = i as u32;
    }
    for i in 1..nodes {
        // Uniform random parent: a random recursive tree, depth about e·ln(nodes).
        let parent = rng.below(i as u64) as usize;
        tree[i].parent = Some(parent as u32);
        tree[parent].children.push(i as u32);
        let f = if functions == 0 {
            None
        } else if i <= functions {
            Some((i - 1) as u32)
        } else {
            Some(rng.below(functions as u64) as u32)
        };
        tree[i].function = f;
        tree[i].calls = 1 + rng.below(200);
        tree[i].self_ns = tree[i].calls * (200 + rng.below(50_000));
        tree[i].panics = u64::from(rng.below(500) == 0);
    }
    for i in (1..nodes).rev() {
        tree[i].cumulative_ns = tree[i].cumulative_ns.saturating_add(tree[i].self_ns);
        if let Some(p) = tree[i].parent {
            let c = tree[i].cumulative_ns;
            tree[p as usize].cumulative_ns = tree[p as usize].cumulative_ns.saturating_add(c);
        }
    }
    let instrumented = tree[0].cumulative_ns;
    let wall = instrumented + instrumented / 20 + 1;

    let mut fstats: Vec<FunctionStats> = (0..functions)
        .map(|i| FunctionStats {
            id: i as u32,
            name: format!("stage_{}::transform_{i}", i % 37),
            module: format!("synthetic::pipeline::m{}", i % 113),
            file: format!("src/m{}.rs", i % 113),
            line: (i % 900) as u32 + 1,
            kind: if i % 17 == 0 {
                FunctionKind::Async
            } else {
                FunctionKind::Sync
            },
            ..FunctionStats::default()
        })
        .collect();
    for n in &tree[1..] {
        if let Some(f) = n.function.and_then(|f| fstats.get_mut(f as usize)) {
            f.calls += n.calls;
            f.panics += n.panics;
            f.self_ns += n.self_ns;
            f.cumulative_ns += n.cumulative_ns;
        }
    }
    for f in &mut fstats {
        if f.calls == 0 {
            continue;
        }
        let mean = f.cumulative_ns as f64 / f.calls as f64;
        f.histogram = histogram(&mut rng, mean, f.calls);
        f.percentiles = percentiles(&f.histogram, mean);
        f.share_of_wall = f.cumulative_ns as f64 / wall as f64;
    }

    let stage_names = ["read_csv", "parse", "validate", "enrich", "write_parquet"];
    let mut records = 1_000_000u64;
    let mut stages = Vec::new();
    let mut edges = Vec::new();
    let own = [120u64, 900, 300, 2_400, 700];
    let total_own: u64 = stage_names
        .iter()
        .enumerate()
        .map(|(i, _)| own[i] * 1_000_000)
        .sum();
    for (i, name) in stage_names.iter().enumerate() {
        let out = if i == 2 { records * 9 / 10 } else { records };
        let own_ns = own[i] * 1_000_000;
        let share = own_ns as f64 / total_own as f64;
        let p = own_ns as f64 / wall.max(1) as f64;
        stages.push(StageStats {
            name: (*name).to_owned(),
            module: "synthetic::pipeline".to_owned(),
            file: "src/pipeline.rs".to_owned(),
            line: 10 + i as u32 * 20,
            order: i as u32,
            kind: if i == 4 {
                StageKind::Eager
            } else {
                StageKind::Lazy
            },
            invocations: 1,
            records_in: if i == 0 { 0 } else { records },
            records_out: out,
            selectivity: if i == 0 {
                0.0
            } else {
                out as f64 / records as f64
            },
            own_ns,
            upstream_ns: own[..i].iter().sum::<u64>() * 1_000_000,
            downstream_wait_ns: 1_000_000,
            own_per_record: Percentiles {
                min_ns: 50,
                mean_ns: own_ns as f64 / out as f64,
                stddev_ns: own_ns as f64 / out as f64 / 3.0,
                p50_ns: own_ns / out,
                p90_ns: own_ns / out * 2,
                p99_ns: own_ns / out * 4,
                p999_ns: own_ns / out * 8,
                max_ns: own_ns / out * 20,
            },
            own_histogram: Histogram::default(),
            throughput_per_s: out as f64 / (own_ns as f64 / 1e9),
            first_record_ns: 20_000,
            exhausted: 1,
            dropped_early: 0,
            share_of_pipeline: share,
            is_bottleneck: i == 3,
            sizes: Vec::new(),
            scaling: None,
            amdahl_if_free: 1.0 / (1.0 - p.min(0.99)),
            amdahl_if_2x: 1.0 / (1.0 - p.min(0.99) / 2.0),
            active_ns: 0,
            call_ns: 0,
        });
        if i > 0 {
            edges.push(PipelineEdge {
                from: stage_names[i - 1].to_owned(),
                to: (*name).to_owned(),
                records,
            });
        }
        records = out;
    }

    let points = 2_000usize;
    let timeline = (0..points)
        .map(|i| {
            let t = i as f64 / points as f64;
            ResourceSample {
                t_ms: t * wall as f64 / 1e6,
                cpu_percent: 80.0 + 60.0 * (t * 12.0).sin().abs() + rng.below(20) as f64,
                rss_bytes: 200_000_000 + (t * 1.5e9) as u64 + rng.below(50_000_000),
                virt_bytes: 4_000_000_000,
                gpu_util_percent: None,
                gpu_mem_bytes: None,
                process_gpu_mem_bytes: None,
            }
        })
        .collect();
    let per_function = fstats
        .iter()
        .take(40)
        .map(|f| AttributedResources {
            name: f.name.clone(),
            samples: f.calls / 10,
            cpu_ns: f.self_ns,
            cpu_share: f.self_ns as f64 / instrumented.max(1) as f64,
            mem_growth_bytes: (f.calls as i64 - 100) * 1024,
        })
        .collect();
    let allocations = fstats
        .iter()
        .take(20)
        .map(|f| AllocationStats {
            name: f.name.clone(),
            allocations: f.calls * 3,
            bytes_allocated: f.calls * 4096,
            bytes_freed: f.calls * 4000,
            net_retained_bytes: f.calls as i64 * 96,
            peak_live_bytes: 1 << 20,
        })
        .collect();
    let resources = Resources {
        sample_interval_ms: 10,
        samples: points as u64,
        timeline,
        mean_cpu_percent: 118.0,
        peak_rss_bytes: 1_800_000_000,
        cpu_per_core_percent: vec![71.0, 64.5],
        gpu: GpuInfo {
            available: false,
            devices: Vec::new(),
            reason: Some("no NVIDIA driver (libnvidia-ml.so not found)".to_owned()),
            peak_process_mem_bytes: None,
            mean_util_percent: None,
        },
        per_function,
        per_stage: Vec::new(),
        run_summary: Some(RunSummary {
            wall_ns: wall,
            user_ns: wall * 9 / 10,
            sys_ns: wall / 12,
            max_rss_bytes: 1_850_000_000,
            minor_faults: 420_000,
            major_faults: 3,
            voluntary_context_switches: 1_200,
            involuntary_context_switches: 5_400,
        }),
        allocations,
        ..Resources::default()
    };

    let total_calls = fstats.iter().map(|f| f.calls).sum();
    let mut p = Profile {
        schema_version: pipelinescope_core::SCHEMA_VERSION,
        meta: RunMeta {
            run_id: "20261121T051300Z-synthetic".to_owned(),
            title: "Synthetic pipeline".to_owned(),
            start_time: "2026-11-21T05:13:00Z".to_owned(),
            end_time: "2026-11-21T05:14:00Z".to_owned(),
            wall_ns: wall,
            command_line: vec![
                "target/release/etl".to_owned(),
                "--input".to_owned(),
                "data.csv".to_owned(),
            ],
            host: "build-host".to_owned(),
            pid: 4242,
            pipelinescope_version: env!("CARGO_PKG_VERSION").to_owned(),
            probe_overhead_ns: 17.5,
            probe_inside_ns: 7.5,
            probe_outside_ns: 10.0,
            probe_untimed_ns: 3.0,
            compensated: true,
            stage_probe: Default::default(),
            timing: "sampled".to_owned(),
            probe_overhead_share: 0.004,
            clock_source: "tsc".to_owned(),
            clock_resolution_ns: 10.0,
            ended_by_panic: false,
            warnings: vec![
                "unknown key `sample_sise` in pipelinescope.toml (did you mean `sample_size`?)"
                    .to_owned(),
            ],
            instrumented_ns: instrumented,
            total_calls,
        },
        functions: fstats,
        call_tree: CallTree { nodes: tree },
        unclamped_self: Default::default(),
        sources: Vec::new(),
        lines: Vec::new(),
        threads: vec![
            ThreadStats {
                index: 0,
                name: "main".to_owned(),
                finished: false,
                calls: total_calls / 2,
                root_ns: instrumented / 2,
                self_ns: instrumented / 2,
                exited_threads: 0,
            },
            ThreadStats {
                index: pipelinescope_core::profile::EXITED_THREADS_INDEX,
                name: pipelinescope_core::profile::exited_threads_name(3),
                finished: true,
                calls: total_calls - total_calls / 2,
                root_ns: instrumented - instrumented / 2,
                self_ns: instrumented - instrumented / 2,
                exited_threads: 3,
            },
        ],
        stages,
        pipeline_edges: edges,
        resources: Some(resources),
        extrapolation: None,
    };
    // The busiest function and the stages recorded their sizes: quadratic and linear growth.
    if let Some(f) = p.functions.iter_mut().max_by_key(|f| f.cumulative_ns) {
        f.sizes = sized_classes(f.calls, f.cumulative_ns, 2);
    }
    for s in &mut p.stages {
        s.sizes = sized_classes(s.invocations.max(12), s.own_ns, 1);
    }
    crate::scaling::within::annotate(&mut p);
    p.extrapolation = Some(crate::extrapolate::extrapolate(&p, 1_000_000, 250_000_000));
    p
}

/// `calls` spread over sizes 10 to 10,000 (a class per decade), their times growing as
/// `n^power` and adding up to `total_ns`.
fn sized_classes(calls: u64, total_ns: u64, power: i32) -> Vec<SizeBucket> {
    let sizes = [10u64, 100, 1_000, 10_000];
    let per = (calls / 4).max(3);
    let weight: f64 = sizes.iter().map(|&n| (n as f64).powi(power)).sum();
    sizes
        .iter()
        .map(|&n| {
            let time = (total_ns as f64 * (n as f64).powi(power) / weight).max(1.0);
            SizeBucket::of_calls(n, per, time as u64)
        })
        .collect()
}

/// Percentiles read straight off the buckets.
fn percentiles(h: &Histogram, mean: f64) -> Percentiles {
    let first = h.buckets.first().map_or(0, |b| b.0);
    let last = h.buckets.last().map_or(0, |b| b.0);
    let bounds = Percentiles {
        min_ns: first,
        max_ns: last,
        ..Percentiles::default()
    };
    let q = super::data::quantile_curve(h, &bounds);
    let at = |p: f64| {
        super::data::QUANTILES
            .iter()
            .position(|&x| x == p)
            .and_then(|i| q.get(i).copied())
            .unwrap_or(0)
    };
    let n = h.count().max(1) as f64;
    let var = h
        .buckets
        .iter()
        .map(|&(v, c)| c as f64 * (v as f64 - mean).powi(2))
        .sum::<f64>()
        / n;
    Percentiles {
        min_ns: first,
        mean_ns: mean,
        stddev_ns: var.sqrt(),
        p50_ns: at(0.5),
        p90_ns: at(0.9),
        p99_ns: at(0.99),
        p999_ns: at(0.999),
        max_ns: last,
    }
}

/// About 15 buckets of a skewed (log-normal-like) distribution around `mean`.
fn histogram(rng: &mut Rng, mean: f64, calls: u64) -> Histogram {
    let mut buckets = Vec::new();
    let mut left = calls;
    let shape = [
        0.4, 0.55, 0.7, 0.8, 0.9, 1.0, 1.1, 1.25, 1.5, 1.8, 2.3, 3.0, 4.5, 8.0, 20.0,
    ];
    let weight = [3, 6, 10, 14, 16, 15, 11, 8, 6, 4, 3, 2, 1, 1, 1];
    let wsum: u64 = weight.iter().sum();
    for (i, (&s, &w)) in shape.iter().zip(&weight).enumerate() {
        let c = if i + 1 == shape.len() {
            left
        } else {
            (calls * w / wsum).min(left)
        };
        left -= c;
        if c > 0 {
            let v = ((mean * s) as u64).max(1) + rng.below(3);
            if buckets.last().is_none_or(|&(last, _)| v > last) {
                buckets.push((v, c));
            } else if let Some(b) = buckets.last_mut() {
                b.1 += c;
            }
        }
    }
    Histogram { sigfig: 2, buckets }
}
