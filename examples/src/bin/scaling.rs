//! Three functions that grow differently with the input: a linear pass, an `n log n` sort and a
//! quadratic pairwise comparison (over a tenth of the input). Run it at several sizes and fit
//! how each grows:
//!
//! ```text
//! cargo build --release -p pipelinescope-examples --bin scaling
//! pipelinescope scale --sizes 1000,10000,100000 --predict 1000000 -- target/release/scaling {n}
//! ```
//!
//! `scaling N` processes N records (default 100000).

use pipelinescope::profile;
use std::hint::black_box;

/// Pseudo-random records (splitmix64), the same for every run of a size.
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

/// Linear: a checksum over every record, a few dependent rounds each (compute-bound, so the
/// cost per record stays the same whether the records fit in cache or not).
#[profile]
fn checksum(data: &[u64]) -> u64 {
    data.iter().fold(0xCBF2_9CE4_8422_2325u64, |mut h, &x| {
        for _ in 0..8 {
            h = (h ^ x).wrapping_mul(0x0000_0100_0000_01B3).rotate_left(29);
        }
        h
    })
}

/// `n log n`: sorts the records.
#[profile]
fn sort(data: &mut [u64]) {
    data.sort_unstable();
}

/// Records per tile of the pairwise loop: two tiles (16 KiB) stay in the L1 cache.
const TILE: usize = 1024;

/// Quadratic: counts the pairs of records that share many bits, over every pair. The pairs are
/// visited tile against tile so that both sides stay in the L1 cache at every size: the cost per
/// pair is then the same at every size, and the growth is the algorithm's alone.
#[profile]
fn similar_pairs(data: &[u64]) -> u64 {
    let close = |a: u64, b: u64| u64::from((a ^ b).count_ones() < 24);
    let mut count = 0u64;
    for (t, tile) in data.chunks(TILE).enumerate() {
        for (i, &a) in tile.iter().enumerate() {
            count += tile[i + 1..].iter().map(|&b| close(a, b)).sum::<u64>();
        }
        for other in data.chunks(TILE).skip(t + 1) {
            for &a in tile {
                count += other.iter().map(|&b| close(a, b)).sum::<u64>();
            }
        }
    }
    count
}

fn main() {
    let n: usize = match std::env::args().nth(1) {
        None => 100_000,
        Some(a) => match a.parse() {
            Ok(n) => n,
            Err(_) => {
                eprintln!("usage: scaling [N]   (N: number of records, default 100000)");
                std::process::exit(2);
            }
        },
    };
    let _run = pipelinescope::start();
    let data = records(n);
    let sum = checksum(black_box(&data));
    let mut sorted = data.clone();
    sort(black_box(&mut sorted));
    let pairs = similar_pairs(black_box(&data[..n / 10]));
    println!(
        "scaling: {n} records, checksum {sum:016x}, median {}, {pairs} similar pairs among {}",
        sorted.get(n / 2).copied().unwrap_or(0),
        n / 10
    );
}
