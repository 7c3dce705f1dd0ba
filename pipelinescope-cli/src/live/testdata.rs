//! Hand-made snapshots of one run, for the model's and the view's tests.
//!
//! Two snapshots two seconds apart (`meta.wall_ns` 1 s and 3 s):
//!
//! | function | calls 1 s -> 3 s | self ns 1 s -> 3 s | per-call times |
//! |---|---|---|---|
//! | `parse` | 1000 -> 5000 | 0.2 s -> 1.0 s | 1000 x 100 ns, then 4000 x 200 ns |
//! | `write_rows` | 10 -> 10 | 50 ms -> 50 ms | 10 x 240 ns |
//! | `late_starter` | (absent) -> 30 | 0.3 s | 30 x 150 ns |
//!
//! | stage | order | in 1 s -> 3 s | out 1 s -> 3 s | own ns 1 s -> 3 s |
//! |---|---|---|---|---|
//! | `source` | 0 | 0 -> 0 | 1000 -> 3000 | 100 ms -> 300 ms |
//! | `transform` | 1 | 1000 -> 3000 | 1000 -> 2000 | 200 ms -> 900 ms |
//! | `sink` | 2 | 1000 -> 2000 | 0 -> 0 | 1500 ms -> 1600 ms |
//!
//! `sink` has the most own time since the start, `transform` the most in the interval.

use pipelinescope_core::profile::{
    FunctionStats, Histogram, Percentiles, ResourceSample, Resources, RunMeta, StageStats,
};
use pipelinescope_core::{Profile, SCHEMA_VERSION};

/// A function whose calls took the given `(ns, count)` times; self time as given.
pub fn function(name: &str, self_ns: u64, times: &[(u64, u64)]) -> FunctionStats {
    let mut h = hdrhistogram::Histogram::<u64>::new(2).unwrap();
    for &(v, n) in times {
        h.record_n(v, n).unwrap();
    }
    let calls: u64 = times.iter().map(|t| t.1).sum();
    let cumulative: u64 = times.iter().map(|t| t.0 * t.1).sum();
    let (min, max) = (h.min(), h.max());
    FunctionStats {
        name: name.to_string(),
        module: format!("etl::{name}"),
        file: "src/main.rs".to_string(),
        line: 10,
        calls,
        timed_calls: calls,
        cumulative_ns: cumulative,
        self_ns,
        raw_cumulative_ns: cumulative,
        raw_self_ns: self_ns,
        percentiles: Percentiles::from_hdr(&h, min, max, cumulative as f64 / calls as f64),
        histogram: Histogram::from_hdr(&h),
        ..Default::default()
    }
}

/// A lazy stage with the given counts and own time.
pub fn stage(name: &str, order: u32, records_in: u64, records_out: u64, own_ns: u64) -> StageStats {
    StageStats {
        name: name.to_string(),
        module: "etl".to_string(),
        file: "src/main.rs".to_string(),
        line: 20 + order,
        order,
        invocations: 1,
        records_in,
        records_out,
        own_ns,
        ..Default::default()
    }
}

/// A snapshot of run `run_20260101T000000Z_7` (pid 7, program `etl_job`) at `wall_ns`.
pub fn snapshot(wall_ns: u64, functions: Vec<FunctionStats>, stages: Vec<StageStats>) -> Profile {
    let mut p = Profile {
        schema_version: SCHEMA_VERSION,
        meta: RunMeta {
            run_id: "run_20260101T000000Z_7".to_string(),
            title: "PipelineScope report".to_string(),
            command_line: vec!["/opt/bin/etl_job".to_string(), "--fast".to_string()],
            pid: 7,
            wall_ns,
            ..Default::default()
        },
        functions,
        stages,
        ..Default::default()
    };
    for (i, f) in p.functions.iter_mut().enumerate() {
        f.id = i as u32;
    }
    p.meta.total_calls = p.functions.iter().map(|f| f.calls).sum();
    p
}

/// The snapshot at 1 s (see the module docs).
pub fn first() -> Profile {
    snapshot(
        1_000_000_000,
        vec![
            function("parse", 200_000_000, &[(100, 1000)]),
            function("write_rows", 50_000_000, &[(240, 10)]),
        ],
        vec![
            stage("source", 0, 0, 1000, 100_000_000),
            stage("transform", 1, 1000, 1000, 200_000_000),
            stage("sink", 2, 1000, 0, 1_500_000_000),
        ],
    )
}

/// The snapshot at 3 s (see the module docs).
pub fn second() -> Profile {
    snapshot(
        3_000_000_000,
        vec![
            function("parse", 1_000_000_000, &[(100, 1000), (200, 4000)]),
            function("write_rows", 50_000_000, &[(240, 10)]),
            function("late_starter", 300_000_000, &[(150, 30)]),
        ],
        vec![
            stage("source", 0, 0, 3000, 300_000_000),
            stage("transform", 1, 3000, 2000, 900_000_000),
            stage("sink", 2, 2000, 0, 1_600_000_000),
        ],
    )
}

/// Resource samples at the given `(t_ms, cpu_percent, rss_bytes)`.
pub fn resources(samples: &[(f64, f64, u64)]) -> Resources {
    Resources {
        sample_interval_ms: 500,
        samples: samples.len() as u64,
        timeline: samples
            .iter()
            .map(|&(t_ms, cpu_percent, rss_bytes)| ResourceSample {
                t_ms,
                cpu_percent,
                rss_bytes,
                ..Default::default()
            })
            .collect(),
        peak_rss_bytes: samples.iter().map(|s| s.2).max().unwrap_or(0),
        ..Default::default()
    }
}
