//! How cost grows within one run: functions annotated `#[profile(size = ...)]` are called over
//! inputs from 10 to 100,000 records, and a stage runs over batches of different sizes. The
//! report fits `t = a·n^k` per function and stage from the calls' sizes: the console table's
//! `growth` column, a log-log plot per function in `summary.html`, `scaling` in
//! `profile_data.json`, and the extrapolation follows each fit.
//!
//! ```text
//! cargo run --release -p pipelinescope-examples --bin growth
//! ```

use pipelinescope::{profile, stage};
use std::hint::black_box;

/// Pseudo-random records (splitmix64).
fn records(n: usize) -> Vec<u64> {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    (0..n)
        .map(|_| {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        })
        .collect()
}

/// Linear: a few dependent rounds per record.
#[profile(size = data.len())]
fn checksum(data: &[u64]) -> u64 {
    data.iter().fold(0xCBF2_9CE4_8422_2325u64, |mut h, &x| {
        for _ in 0..8 {
            h = (h ^ x).wrapping_mul(0x0000_0100_0000_01B3).rotate_left(29);
        }
        h
    })
}

/// `n log n`: sorts by a hashed key.
#[profile(size = data.len())]
fn sort(data: &mut [u64]) {
    data.sort_unstable_by_key(|&x| {
        let mut h = x;
        for _ in 0..4 {
            h = (h ^ (h >> 29)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        }
        h
    });
}

/// Quadratic: every pair of records compared.
#[profile(size = data.len())]
fn similar_pairs(data: &[u64]) -> u64 {
    let mut count = 0u64;
    for (i, &a) in data.iter().enumerate() {
        for &b in &data[i + 1..] {
            let x = (a ^ b).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            count += u64::from(x.count_ones() < 24);
        }
    }
    count
}

/// A stage over one batch: its size is the records it takes in. Some tens of nanoseconds a
/// record, so that what starting an invocation costs (tens of nanoseconds) does not bend the
/// line at the smallest batches.
#[stage("normalize")]
fn normalize(batch: impl Iterator<Item = u64>) -> impl Iterator<Item = u64> {
    batch.map(|x| {
        let mut h = x;
        for _ in 0..24 {
            h = (h ^ (h >> 31)).wrapping_mul(0x94D0_49BB_1331_11EB);
        }
        h
    })
}

/// Sizes 1, 2 and 5 per decade from `from` to `to`.
fn sizes(from: usize, to: usize) -> impl Iterator<Item = usize> {
    (1..=6u32)
        .flat_map(|d| [1, 2, 5].map(|m| m * 10usize.pow(d)))
        .filter(move |&n| n >= from && n <= to)
}

fn main() {
    let _run = pipelinescope::start();
    let data = records(100_000);
    let mut acc = 0u64;
    for n in sizes(10, 100_000) {
        // More calls of the small sizes, for steady means; about the same work at each size.
        for _ in 0..(20_000 / n).clamp(2, 50) {
            acc ^= checksum(black_box(&data[..n]));
            let mut part = data[..n].to_vec();
            sort(black_box(&mut part));
            acc ^= part[n / 2];
        }
    }
    // The stage's time is sampled (about one call in thousands is timed): more invocations of
    // each size than the functions need, for steady means.
    for n in sizes(100, 100_000) {
        for _ in 0..(500_000 / n).clamp(5, 200) {
            // Drained by `next`: in a `fold`, the records' work inside the upstream's fold
            // counts as pulling from upstream, not as the stage's own time.
            for x in normalize(data[..n].iter().copied()) {
                acc ^= x;
            }
        }
    }
    for n in sizes(10, 2_000) {
        for _ in 0..(2_000 / n).clamp(2, 50) {
            acc += similar_pairs(black_box(&data[..n]));
        }
    }
    println!("growth: checksum of everything {acc:016x}");
}
