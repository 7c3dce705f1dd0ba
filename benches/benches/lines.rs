//! What `#[profile(lines)]` costs per statement, side by side in one process with the same
//! function bare and under plain `#[profile]`: `cargo bench -p pipelinescope-bench --bench lines`.
//!
//! The function runs a loop of `ITERS` iterations whose body is three short statements of a
//! dependent chain (a few nanoseconds each), so each iteration runs four marks (the loop's line
//! and the three statements). Rounds interleave the variants; each figure is the median over
//! rounds of nanoseconds per iteration. The per-statement probe cost is the difference between
//! the lines variant and the plain one, divided by the marks per iteration; the table also shows
//! what the line table reports for the same iterations once the probes' cost is taken off, to
//! set against the bare figure.

use std::hint::black_box;
use std::time::Instant;

const ITERS: u64 = 1_000;
const CALLS: u64 = 2_000;
const ROUNDS: usize = 15;

#[inline(never)]
fn bare(seed: u64) -> u64 {
    let mut x = seed;
    for i in 0..ITERS {
        x = black_box(x).wrapping_mul(3);
        x ^= i;
        x = x.rotate_left(7);
    }
    x
}

#[pipelinescope::profile]
#[inline(never)]
fn with_profile(seed: u64) -> u64 {
    let mut x = seed;
    for i in 0..ITERS {
        x = black_box(x).wrapping_mul(3);
        x ^= i;
        x = x.rotate_left(7);
    }
    x
}

#[pipelinescope::profile(lines)]
#[inline(never)]
fn with_lines(seed: u64) -> u64 {
    let mut x = seed;
    for i in 0..ITERS {
        x = black_box(x).wrapping_mul(3);
        x ^= i;
        x = x.rotate_left(7);
    }
    x
}

/// A variant's label and its function.
type Variant = (&'static str, fn(u64) -> u64);

const VARIANTS: [Variant; 3] = [
    ("bare function", bare),
    ("#[profile]", with_profile),
    ("#[profile(lines)]", with_lines),
];

/// Nanoseconds per iteration of `f` over `calls` calls.
fn measure(f: fn(u64) -> u64, calls: u64) -> f64 {
    let start = Instant::now();
    let mut acc = 0u64;
    for c in 0..calls {
        acc ^= f(black_box(c));
    }
    black_box(acc);
    start.elapsed().as_nanos() as f64 / (calls * ITERS) as f64
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not: a quick pass there.
    let quick = !std::env::args().any(|a| a == "--bench");
    if quick {
        for (_, f) in VARIANTS {
            black_box(measure(f, 10));
        }
        return;
    }
    let run = pipelinescope::start();
    let mut rounds: Vec<Vec<f64>> = vec![Vec::new(); VARIANTS.len()];
    for _ in 0..ROUNDS {
        for (i, (_, f)) in VARIANTS.iter().enumerate() {
            rounds[i].push(measure(*f, CALLS));
        }
    }
    let p = pipelinescope::snapshot();
    drop(run);
    let ns: Vec<f64> = rounds.into_iter().map(median).collect();
    let t = p
        .lines
        .iter()
        .find(|t| t.function == "with_lines")
        .expect("the line table");
    let iterations = (ROUNDS as u64 * CALLS * ITERS) as f64;
    let marks: u64 = t.lines.iter().map(|l| l.hits).sum();
    let marks_per_iter = marks as f64 / iterations;
    let per_mark = (ns[2] - ns[1]) / marks_per_iter;
    let raw: u64 = t.lines.iter().map(|l| l.raw_time_ns).sum();
    println!(
        "ns per loop iteration (3 statements, {marks_per_iter:.2} marks), median of {ROUNDS} \
         rounds of {CALLS} calls x {ITERS} iterations\n"
    );
    println!("| {:<38} | {:>12} |", "variant", "ns/iteration");
    println!("|{:-<40}|{:-<14}|", "", "");
    for ((name, _), v) in VARIANTS.iter().zip(&ns) {
        println!("| {name:<38} | {v:>12.2} |");
    }
    println!(
        "| {:<38} | {:>12.2} |",
        "lines' sum, as recorded (raw)",
        raw as f64 / iterations
    );
    println!(
        "| {:<38} | {:>12.2} |",
        "lines' sum, probe cost taken off",
        t.total_ns as f64 / iterations
    );
    println!(
        "\nper-statement probe cost: {per_mark:.2} ns (lines minus #[profile], per mark); \
         calibrated at start: {:.2} ns",
        pipelinescope_core::mark_cost_measured_ns()
    );
}
