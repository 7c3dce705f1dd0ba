//! What `#[stage]` costs per record: a bare iterator chain against the same chain with every
//! step a stage, and the 50,000-record sensor pipeline with and without stages, side by side in
//! one run. The sensor pipeline runs drained by a fold (`count`: the wrappers forward `fold`),
//! by a `for` loop (one `next` at a time), with recording on and off, and collected into a `Vec`
//! as the example does.
//!
//! `STAGE_BENCH_ONLY=sensor_staged|sensor_bare|sensor_next_staged|sensor_next_bare|chain_staged`
//! runs one case in a loop, for profilers (`PIPELINESCOPE=off` switches recording off).
//!
//! `cargo bench -p pipelinescope-bench --bench stage`

use pipelinescope::stage;
use std::hint::black_box;
use std::time::{Duration, Instant};

const N: u64 = 1_000_000;

mod bare {
    pub fn source(n: u64) -> impl Iterator<Item = u64> {
        0..n
    }
    pub fn keep(input: impl Iterator<Item = u64>) -> impl Iterator<Item = u64> {
        input.filter(|x| x & 7 != 0)
    }
    pub fn scale(input: impl Iterator<Item = u64>) -> impl Iterator<Item = u64> {
        input.map(|x| x.wrapping_mul(3))
    }
    pub fn offset(input: impl Iterator<Item = u64>) -> impl Iterator<Item = u64> {
        input.map(|x| x ^ 0x55)
    }
}

mod staged {
    use super::stage;
    #[stage("bench_source")]
    pub fn source(n: u64) -> impl Iterator<Item = u64> {
        0..n
    }
    #[stage("bench_keep")]
    pub fn keep(input: impl Iterator<Item = u64>) -> impl Iterator<Item = u64> {
        input.filter(|x| x & 7 != 0)
    }
    #[stage("bench_scale")]
    pub fn scale(input: impl Iterator<Item = u64>) -> impl Iterator<Item = u64> {
        input.map(|x| x.wrapping_mul(3))
    }
    #[stage("bench_offset")]
    pub fn offset(input: impl Iterator<Item = u64>) -> impl Iterator<Item = u64> {
        input.map(|x| x ^ 0x55)
    }
}

/// The sensor pipeline of the `sensor_pipeline` example, defined once and instantiated with and
/// without stage attributes.
macro_rules! sensor {
    ($m:ident $(, $attr:meta)?) => {
        mod $m {
            #[allow(unused_imports)]
            use pipelinescope::stage;
            use std::collections::VecDeque;

            const SENSORS: [&str; 5] = ["S0", "S1", "S2", "S3", "S4"];

            pub struct Reading {
                pub sensor_id: &'static str,
                pub timestamp_ms: u64,
                pub value: f64,
            }

            pub struct Featured {
                pub reading: Reading,
                pub mean: f64,
                pub variance: f64,
            }

            struct Rng(u64);

            impl Rng {
                fn unit(&mut self) -> f64 {
                    self.0 ^= self.0 >> 12;
                    self.0 ^= self.0 << 25;
                    self.0 ^= self.0 >> 27;
                    let r = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D);
                    ((r >> 11) + 1) as f64 / (1u64 << 53) as f64
                }
                fn gauss(&mut self, mean: f64, sd: f64) -> f64 {
                    let (u1, u2) = (self.unit(), self.unit());
                    mean + sd * (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
                }
            }

            $(#[$attr])?
            pub fn generate(n: usize, seed: u64) -> impl Iterator<Item = Reading> {
                let mut rng = Rng(seed);
                (0..n).map(move |i| Reading {
                    sensor_id: SENSORS[i % SENSORS.len()],
                    timestamp_ms: 1_700_000_000_000 + i as u64,
                    value: rng.gauss(50.0, 15.0),
                })
            }

            $(#[$attr])?
            pub fn threshold_filter(
                records: impl Iterator<Item = Reading>,
                min: f64,
                max: f64,
            ) -> impl Iterator<Item = Reading> {
                records.filter(move |r| (min..=max).contains(&r.value))
            }

            $(#[$attr])?
            pub fn normalize(
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

            $(#[$attr])?
            pub fn rolling_naive(
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
                    Featured { reading: r, mean, variance }
                })
            }

            pub fn run() -> usize {
                let f = threshold_filter(generate(50_000, 0x5EED_2026), 20.0, 80.0);
                rolling_naive(normalize(f, 20.0, 80.0), 10)
                    .map(|f| {
                        std::hint::black_box((f.reading.sensor_id, f.reading.timestamp_ms));
                        (f.mean + f.variance) as usize
                    })
                    .count()
            }

            /// The same, collected into a `Vec` as the example does (`collect` calls `next`).
            pub fn run_collect() -> usize {
                let f = threshold_filter(generate(50_000, 0x5EED_2026), 20.0, 80.0);
                let v: Vec<Featured> = rolling_naive(normalize(f, 20.0, 80.0), 10).collect();
                std::hint::black_box(&v);
                v.len()
            }

            /// The same, drained by a `for` loop: one `next` at a time instead of a fold.
            pub fn run_next() -> usize {
                let f = threshold_filter(generate(50_000, 0x5EED_2026), 20.0, 80.0);
                let mut n = 0;
                for f in rolling_naive(normalize(f, 20.0, 80.0), 10) {
                    std::hint::black_box((f.reading.sensor_id, f.reading.timestamp_ms));
                    n += (f.mean + f.variance) as usize;
                }
                n
            }
        }
    };
}

sensor!(sensor_bare);
sensor!(sensor_staged, stage);

/// Best of `rounds` timings of `f`, after one warm-up call.
fn best(rounds: u32, mut f: impl FnMut() -> u64) -> Duration {
    black_box(f());
    (0..rounds)
        .map(|_| {
            let t = Instant::now();
            black_box(f());
            t.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn main() {
    if let Ok(which) = std::env::var("STAGE_BENCH_ONLY") {
        // For profilers: one case in a loop.
        for _ in 0..200 {
            match which.as_str() {
                "sensor_bare" => black_box(sensor_bare::run() as u64),
                "sensor_next_bare" => black_box(sensor_bare::run_next() as u64),
                "sensor_next_staged" => black_box(sensor_staged::run_next() as u64),
                "chain_staged" => black_box(
                    staged::offset(staged::scale(staged::keep(staged::source(N / 10))))
                        .fold(0, u64::wrapping_add),
                ),
                _ => black_box(sensor_staged::run() as u64),
            };
        }
        return;
    }
    // Interleave the two versions so drifting clocks and neighbours hit both alike.
    let mut chain = (Duration::MAX, Duration::MAX);
    let mut sensor = (Duration::MAX, Duration::MAX);
    let mut sensor_off = Duration::MAX;
    let mut next = (Duration::MAX, Duration::MAX, Duration::MAX);
    let mut collect = (Duration::MAX, Duration::MAX);
    // `STAGE_BENCH_ROUNDS` (default 5): more rounds give steadier minima on a noisy machine.
    let rounds = std::env::var("STAGE_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5);
    for _ in 0..rounds {
        chain.0 = chain.0.min(best(3, || {
            bare::offset(bare::scale(bare::keep(bare::source(N)))).fold(0, u64::wrapping_add)
        }));
        chain.1 = chain.1.min(best(3, || {
            staged::offset(staged::scale(staged::keep(staged::source(N))))
                .fold(0, u64::wrapping_add)
        }));
        sensor.0 = sensor.0.min(best(3, || sensor_bare::run() as u64));
        sensor.1 = sensor.1.min(best(3, || sensor_staged::run() as u64));
        // The same stages with recording switched off at run time: what the wrappers cost by
        // their mere presence (the forwarding layers), without any measuring.
        pipelinescope::set_recording(false);
        sensor_off = sensor_off.min(best(3, || sensor_staged::run() as u64));
        next.2 = next.2.min(best(3, || sensor_staged::run_next() as u64));
        pipelinescope::set_recording(true);
        next.0 = next.0.min(best(3, || sensor_bare::run_next() as u64));
        next.1 = next.1.min(best(3, || sensor_staged::run_next() as u64));
        collect.0 = collect.0.min(best(3, || sensor_bare::run_collect() as u64));
        collect.1 = collect
            .1
            .min(best(3, || sensor_staged::run_collect() as u64));
    }
    // Records through each stage: the source and the filter see N, the two maps 7/8 of N.
    let stage_records = (2 * N + 2 * (N / 8 * 7)) as f64;
    let per_record = (chain.1.as_nanos() as f64 - chain.0.as_nanos() as f64) / stage_records;
    println!("stage wrapper, 4-stage u64 chain over {N} records:");
    println!(
        "  bare {:>8.3} ms   staged {:>8.3} ms   cost per record per stage {per_record:.2} ns",
        chain.0.as_secs_f64() * 1e3,
        chain.1.as_secs_f64() * 1e3
    );
    let change = 100.0 * (sensor.1.as_secs_f64() / sensor.0.as_secs_f64() - 1.0);
    println!("sensor pipeline, 50,000 readings, 4 stages:");
    println!(
        "  bare {:>8.3} ms   staged {:>8.3} ms   change {change:+.1}%",
        sensor.0.as_secs_f64() * 1e3,
        sensor.1.as_secs_f64() * 1e3
    );
    println!(
        "  staged, recording off at run time {:>8.3} ms   change {:+.1}%",
        sensor_off.as_secs_f64() * 1e3,
        100.0 * (sensor_off.as_secs_f64() / sensor.0.as_secs_f64() - 1.0)
    );
    let pct = |d: Duration, base: Duration| 100.0 * (d.as_secs_f64() / base.as_secs_f64() - 1.0);
    println!("sensor pipeline drained by a for loop (`next` instead of `fold`):");
    println!(
        "  bare {:>8.3} ms   staged {:>8.3} ms   change {:+.1}%   recording off {:>8.3} ms   \
         change {:+.1}%",
        next.0.as_secs_f64() * 1e3,
        next.1.as_secs_f64() * 1e3,
        pct(next.1, next.0),
        next.2.as_secs_f64() * 1e3,
        pct(next.2, next.0)
    );
    println!("sensor pipeline collected into a Vec, as the example runs it:");
    println!(
        "  bare {:>8.3} ms   staged {:>8.3} ms   change {:+.1}%",
        collect.0.as_secs_f64() * 1e3,
        collect.1.as_secs_f64() * 1e3,
        pct(collect.1, collect.0)
    );
    let p = pipelinescope::snapshot();
    let recorded: u64 = p.stages.iter().map(|s| s.records_out).sum();
    println!("  (records handed out by stages during the run: {recorded})");
}
