//! The lecture's sensor pipeline: 50,000 readings from a normal distribution (mean 50, sd 15),
//! a threshold filter to [20, 80], normalisation to [0, 1], and a rolling mean and variance over
//! a window of 10.
//!
//! The rolling stage comes in two versions, run one after the other on the same data: the naive
//! one re-sums the whole window for every record (the lecture's hotspot), the incremental one
//! keeps running sums. Each version is its own pipeline with its own stage names (`naive/...` and
//! `incremental/...`), so the report shows the hotspot move: the naive rolling stage carries the
//! most own time of its pipeline, the incremental one does not.
//!
//! `cargo run --release -p pipelinescope-examples --bin sensor_pipeline`

use std::collections::VecDeque;

const RECORDS: usize = 50_000;
const MIN: f64 = 20.0;
const MAX: f64 = 80.0;
const WINDOW: usize = 10;
const SEED: u64 = 0x5EED_2026;

/// The sensors taking turns, by index: a table, so that naming a reading costs no allocation.
const SENSORS: [&str; 5] = ["S0", "S1", "S2", "S3", "S4"];

/// One sensor reading, as the lecture's record: sensor id, time stamp, value, unit.
#[derive(Debug, Clone, Copy)]
struct Reading {
    sensor_id: &'static str,
    timestamp_ms: u64,
    value: f64,
    unit: &'static str,
}

/// A reading with its rolling features.
#[derive(Debug, Clone, Copy)]
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

// ---- the stage logic, shared by both pipelines ------------------------------------------------

fn readings(n: usize, seed: u64) -> impl Iterator<Item = Reading> {
    let mut rng = Rng(seed);
    (0..n).map(move |i| Reading {
        sensor_id: SENSORS[i % SENSORS.len()],
        timestamp_ms: 1_700_000_000_000 + i as u64,
        value: rng.gauss(50.0, 15.0),
        unit: "C",
    })
}

fn in_range(records: impl Iterator<Item = Reading>) -> impl Iterator<Item = Reading> {
    records.filter(|r| (MIN..=MAX).contains(&r.value))
}

fn normalized(records: impl Iterator<Item = Reading>) -> impl Iterator<Item = Reading> {
    records.map(|r| Reading {
        value: (r.value - MIN) / (MAX - MIN),
        ..r
    })
}

/// The lecture's version: every record re-sums the whole window, twice.
fn rolling_naive(records: impl Iterator<Item = Reading>) -> impl Iterator<Item = Featured> {
    let mut win: VecDeque<f64> = VecDeque::with_capacity(WINDOW);
    records.map(move |r| {
        if win.len() == WINDOW {
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
fn rolling_incremental(records: impl Iterator<Item = Reading>) -> impl Iterator<Item = Featured> {
    let mut win: VecDeque<f64> = VecDeque::with_capacity(WINDOW);
    let (mut sum, mut sum_sq) = (0.0f64, 0.0f64);
    records.map(move |r| {
        if win.len() == WINDOW
            && let Some(old) = win.pop_front()
        {
            sum -= old;
            sum_sq -= old * old;
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

// ---- the two pipelines, each with its own stages --------------------------------------------

/// The pipeline with the naive rolling stage.
mod naive {
    use super::*;
    use pipelinescope::{profile, stage};

    #[stage("naive/generate")]
    fn generate(n: usize, seed: u64) -> impl Iterator<Item = Reading> {
        readings(n, seed)
    }

    #[stage("naive/threshold_filter")]
    fn threshold_filter(records: impl Iterator<Item = Reading>) -> impl Iterator<Item = Reading> {
        in_range(records)
    }

    #[stage("naive/normalize")]
    fn normalize(records: impl Iterator<Item = Reading>) -> impl Iterator<Item = Reading> {
        normalized(records)
    }

    #[stage("naive/rolling")]
    fn rolling(records: impl Iterator<Item = Reading>) -> impl Iterator<Item = Featured> {
        rolling_naive(records)
    }

    #[profile(name = "naive::run")]
    pub fn run() -> Vec<Featured> {
        rolling(normalize(threshold_filter(generate(RECORDS, SEED)))).collect()
    }
}

/// The same pipeline with the incremental rolling stage.
mod incremental {
    use super::*;
    use pipelinescope::{profile, stage};

    #[stage("incremental/generate")]
    fn generate(n: usize, seed: u64) -> impl Iterator<Item = Reading> {
        readings(n, seed)
    }

    #[stage("incremental/threshold_filter")]
    fn threshold_filter(records: impl Iterator<Item = Reading>) -> impl Iterator<Item = Reading> {
        in_range(records)
    }

    #[stage("incremental/normalize")]
    fn normalize(records: impl Iterator<Item = Reading>) -> impl Iterator<Item = Reading> {
        normalized(records)
    }

    #[stage("incremental/rolling")]
    fn rolling(records: impl Iterator<Item = Reading>) -> impl Iterator<Item = Featured> {
        rolling_incremental(records)
    }

    #[profile(name = "incremental::run")]
    pub fn run() -> Vec<Featured> {
        rolling(normalize(threshold_filter(generate(RECORDS, SEED)))).collect()
    }
}

fn main() {
    let _run = pipelinescope::start();

    let naive = naive::run();
    let incremental = incremental::run();

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
    // The example's own counts, to hold against the report's stage table.
    let profile = pipelinescope::snapshot();
    for (pipeline, out) in [("naive", naive.len()), ("incremental", incremental.len())] {
        let expected = [
            ("generate", 0, RECORDS),
            ("threshold_filter", RECORDS, passed),
            ("normalize", passed, passed),
            ("rolling", passed, out),
        ];
        println!("  {pipeline} pipeline:");
        println!("    stage                 in -> out    (report: in -> out, own ms)");
        let mut hottest: Option<(&str, u64)> = None;
        for (stage, records_in, records_out) in expected {
            let name = format!("{pipeline}/{stage}");
            let report = profile.stages.iter().find(|s| s.name == name);
            let shown = report.map_or_else(
                || "not recorded".to_string(),
                |s| {
                    format!(
                        "{} -> {}, {:.2} ms",
                        s.records_in,
                        s.records_out,
                        s.own_ns as f64 / 1e6
                    )
                },
            );
            if let Some(s) = report
                && hottest.is_none_or(|(_, ns)| s.own_ns > ns)
            {
                hottest = Some((stage, s.own_ns));
            }
            println!("    {stage:<20} {records_in:>6} -> {records_out:<6} ({shown})");
        }
        if let Some((stage, ns)) = hottest {
            println!("    most own time: {stage} ({:.2} ms)", ns as f64 / 1e6);
        }
    }
    let own = |name: &str| {
        profile
            .stages
            .iter()
            .find(|s| s.name == name)
            .map_or(0.0, |s| s.own_ns as f64 / 1e6)
    };
    let (naive_ms, incremental_ms) = (own("naive/rolling"), own("incremental/rolling"));
    if incremental_ms > 0.0 {
        println!(
            "  rolling stage: naive {naive_ms:.2} ms -> incremental {incremental_ms:.2} ms \
             ({:.1}x less own time)",
            naive_ms / incremental_ms
        );
    }
}
