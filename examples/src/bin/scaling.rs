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

// Each measured function is a thin `#[profile]` wrapper around an implementation that `main`
// runs once on a small input before measuring (see `warm_up`). The implementations are not
// inlined, so that the wrapper and the warm-up run the same machine code.

/// Linear: a checksum over every record, a few dependent rounds each (compute-bound, so the
/// cost per record stays the same whether the records fit in cache or not).
#[profile]
fn checksum(data: &[u64]) -> u64 {
    checksum_of(data)
}

#[inline(never)]
fn checksum_of(data: &[u64]) -> u64 {
    data.iter().fold(0xCBF2_9CE4_8422_2325u64, |mut h, &x| {
        for _ in 0..8 {
            h = (h ^ x).wrapping_mul(0x0000_0100_0000_01B3).rotate_left(29);
        }
        h
    })
}

/// `n log n`: sorts the records by a hashed key. Computing the key makes each comparison cost
/// far more than its memory access, so that where the records live (cache level, page size)
/// does not bend the curve away from `n log n`.
#[profile]
fn sort(data: &mut [u64]) {
    sort_by_hash(data);
}

#[inline(never)]
fn sort_by_hash(data: &mut [u64]) {
    data.sort_unstable_by_key(|&x| {
        let mut h = x;
        for _ in 0..4 {
            h = (h ^ (h >> 29)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        }
        h
    });
}

/// Records per tile of the pairwise loop: two tiles (16 KiB) stay in the L1 cache.
const TILE: usize = 1024;

/// Quadratic: counts the pairs of records whose mixed difference has few bits set, over every
/// pair. The pairs are visited tile against tile so that both sides stay in the L1 cache at every
/// size: the cost per pair is then the same at every size, and the growth is the algorithm's
/// alone. Each pair costs a few multiplications, so that the cost per row (a branch
/// mispredicted where each row ends, about as dear as ten cheap pairs) stays small even at the
/// smallest size, where rows are 50 pairs long on average.
#[profile]
fn similar_pairs(data: &[u64]) -> u64 {
    count_similar(data)
}

#[inline(never)]
fn count_similar(data: &[u64]) -> u64 {
    let close = |a: u64, b: u64| {
        let mut x = a ^ b;
        for _ in 0..3 {
            x = (x ^ (x >> 29)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
        u64::from(x.count_ones() < 24)
    };
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

/// Runs each implementation once, unmeasured, on two tiles of records. The first run of any code
/// pays once for faulting in its pages and filling the caches and branch predictors: a few
/// microseconds that a production-size run never notices, but that would inflate the
/// measurement at the smallest sizes (10 µs calls) and so bend the fitted exponents down.
fn warm_up() {
    let small = records(2 * TILE);
    black_box(checksum_of(black_box(&small)));
    let mut sorted = small.clone();
    sort_by_hash(black_box(&mut sorted));
    black_box(count_similar(black_box(&small)));
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
    warm_up();
    let data = records(n);
    let sum = checksum(black_box(&data));
    let mut sorted = data.clone();
    sort(black_box(&mut sorted));
    let pairs = similar_pairs(black_box(&data[..n / 10]));
    println!(
        "scaling: {n} records, checksum {sum:016x}, middle {}, {pairs} similar pairs among {}",
        sorted.get(n / 2).copied().unwrap_or(0),
        n / 10
    );
}
