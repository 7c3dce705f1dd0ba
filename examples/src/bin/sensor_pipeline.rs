//! The lecture's sensor pipeline: 50,000 readings from a normal distribution (mean 50, sd 15),
//! a threshold filter to [20, 80], normalisation to [0, 1], and a rolling mean and variance over
//! a window of 10.
//!
//! The rolling stage comes in two versions, run one after the other on the same data: the naive
//! one re-sums the whole window for every record (the lecture's hotspot), the incremental one
//! keeps running sums. The report shows the bottleneck move from one to the other.
//!
//! `cargo run --release -p pipelinescope-examples --bin sensor_pipeline`

use pipelinescope::{profile, stage};
use std::collections::VecDeque;

const RECORDS: usize = 50_000;
const MIN: f64 = 20.0;
const MAX: f64 = 80.0;
const WINDOW: usize = 10;
const SEED: u64 = 0x5EED_2026;

/// One sensor reading, as the lecture's record: sensor id, time stamp, value, unit.
#[derive(Debug, Clone)]
struct Reading {
    sensor_id: String,
    timestamp_ms: u64,
    value: f64,
    unit: &'static str,
}

/// A reading with its rolling features.
#[derive(Debug, Clone)]
struct Featured {
    reading: Reading,
    mean: f64,
    variance: f64,
}

/// xorshift64*: a small, fixed-seed generator, so every run sees the same readings.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in (0, 1].
    fn unit(&mut self) -> f64 {
        ((self.next_u64() >> 11) + 1) as f64 / (1u64 << 53) as f64
    }

    /// Normal(mean, sd) by Box-Muller.
    fn gauss(&mut self, mean: f64, sd: f64) -> f64 {
        let (u1, u2) = (self.unit(), self.unit());
        mean + sd * (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

#[stage("generate")]
fn generate(n: usize, seed: u64) -> impl Iterator<Item = Reading> {
    let mut rng = Rng(seed);
    (0..n).map(move |i| Reading {
        sensor_id: format!("S{}", i % 5),
        timestamp_ms: 1_700_000_000_000 + i as u64,
        value: rng.gauss(50.0, 15.0),
        unit: "C",
    })
}

#[stage("threshold_filter")]
fn threshold_filter(
    records: impl Iterator<Item = Reading>,
    min: f64,
    max: f64,
) -> impl Iterator<Item = Reading> {
    records.filter(move |r| (min..=max).contains(&r.value))
}

#[stage("normalize")]
fn normalize(
    records: impl Iterator<Item = Reading>,
    min: f64,
    max: f64,
) -> impl Iterator<Item = Reading> {
    let range = max - min;
    records.map(move |r| Reading {
        value: (r.value - min) / range,
        ..r
    })
}

/// The lecture's version: every record re-sums the whole window, twice.
#[stage("rolling_naive")]
fn rolling_naive(
    records: impl Iterator<Item = Reading>,
    window: usize,
) -> impl Iterator<Item = Featured> {
    let mut win: VecDeque<f64> = VecDeque::with_capacity(window);
    records.map(move |r| {
        if win.len() == window {
            win.pop_front();
        }
        win.push_back(r.value);
        let n = win.len() as f64;
        let mean = win.iter().sum::<f64>() / n;
        let variance = win.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
        Featured {
            reading: r,
            mean,
            variance,
        }
    })
}

/// Running sum and sum of squares: O(1) per record whatever the window.
#[stage("rolling_incremental")]
fn rolling_incremental(
    records: impl Iterator<Item = Reading>,
    window: usize,
) -> impl Iterator<Item = Featured> {
    let mut win: VecDeque<f64> = VecDeque::with_capacity(window);
    let (mut sum, mut sum_sq) = (0.0f64, 0.0f64);
    records.map(move |r| {
        if win.len() == window {
            if let Some(old) = win.pop_front() {
                sum -= old;
                sum_sq -= old * old;
            }
        }
        win.push_back(r.value);
        sum += r.value;
        sum_sq += r.value * r.value;
        let n = win.len() as f64;
        let mean = sum / n;
        let variance = (sum_sq / n - mean * mean).max(0.0);
        Featured {
            reading: r,
            mean,
            variance,
        }
    })
}

#[profile]
fn run_naive() -> Vec<Featured> {
    let filtered = threshold_filter(generate(RECORDS, SEED), MIN, MAX);
    rolling_naive(normalize(filtered, MIN, MAX), WINDOW).collect()
}

#[profile]
fn run_incremental() -> Vec<Featured> {
    let filtered = threshold_filter(generate(RECORDS, SEED), MIN, MAX);
    rolling_incremental(normalize(filtered, MIN, MAX), WINDOW).collect()
}

fn main() {
    let _run = pipelinescope::start();

    let naive = run_naive();
    let incremental = run_incremental();

    let max_diff = naive
        .iter()
        .zip(&incremental)
        .map(|(a, b)| (a.mean - b.mean).abs().max((a.variance - b.variance).abs()))
        .fold(0.0f64, f64::max);
    let passed = naive.len();
    println!("sensor pipeline: {RECORDS} readings, window {WINDOW}, seed {SEED:#x}");
    println!(
        "  passed the [{MIN}, {MAX}] filter: {passed} of {RECORDS} ({:.2}%)",
        100.0 * passed as f64 / RECORDS as f64
    );
    println!(
        "  naive and incremental rolling features agree within {max_diff:.1e} over {} records",
        incremental.len()
    );
    if let Some(f) = naive.last() {
        println!(
            "  last record: {} at {} ms, value {:.4} (normalised from {}), mean {:.4}, \
             variance {:.5}",
            f.reading.sensor_id,
            f.reading.timestamp_ms,
            f.reading.value,
            f.reading.unit,
            f.mean,
            f.variance
        );
    }
    // The example's own counts, to hold against the report's stage table (both runs together).
    let expected = [
        ("generate", 0, 2 * RECORDS),
        ("threshold_filter", 2 * RECORDS, 2 * passed),
        ("normalize", 2 * passed, 2 * passed),
        ("rolling_naive", passed, passed),
        ("rolling_incremental", passed, incremental.len()),
    ];
    let profile = pipelinescope::snapshot();
    println!("  stage                 in -> out    (report: in -> out, own ms, share)");
    for (name, records_in, records_out) in expected {
        let report = profile.stages.iter().find(|s| s.name == name);
        let shown = report.map_or_else(
            || "not recorded".to_string(),
            |s| {
                format!(
                    "{} -> {}, {:.2} ms, {:.0}%{}",
                    s.records_in,
                    s.records_out,
                    s.own_ns as f64 / 1e6,
                    100.0 * s.share_of_pipeline,
                    if s.is_bottleneck { ", bottleneck" } else { "" }
                )
            },
        );
        println!("  {name:<20} {records_in:>6} -> {records_out:<6} ({shown})");
    }
    let own = |name: &str| {
        profile
            .stages
            .iter()
            .find(|s| s.name == name)
            .map_or(0.0, |s| s.own_ns as f64 / 1e6)
    };
    let (naive_ms, incremental_ms) = (own("rolling_naive"), own("rolling_incremental"));
    if incremental_ms > 0.0 {
        println!(
            "  rolling stage: naive {naive_ms:.2} ms -> incremental {incremental_ms:.2} ms \
             ({:.1}x less own time)",
            naive_ms / incremental_ms
        );
    }
}
