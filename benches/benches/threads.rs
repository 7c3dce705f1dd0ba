//! What threads that have exited cost: resident memory per exited thread and the time of a
//! snapshot, after many short-lived threads each made a few profiled calls.
//!
//! Run: `cargo bench -p pipelinescope-bench --bench threads`
//!
//! Threads are started and joined a few at a time (`BATCH` at once), each making two calls of
//! a profiled function. Resident memory is read from `/proc/self/statm` after a warm-up of
//! `WARMUP` threads (so that the allocator's per-thread arenas and the thread-stack cache are
//! already at their size) and again after `THREADS` more; the difference over `THREADS` is the
//! memory each exited thread leaves behind. The snapshot time is the best of `ROUNDS`.

use std::hint::black_box;
use std::time::Instant;

const WARMUP: usize = 1_000;
const THREADS: usize = 20_000;
const BATCH: usize = 8;
const ROUNDS: usize = 5;

#[pipelinescope::profile]
#[inline(never)]
fn short_lived_work(x: u64) -> u64 {
    black_box(x).wrapping_mul(3)
}

/// Resident bytes of this process (0 where `/proc/self/statm` cannot be read).
fn rss() -> u64 {
    let Ok(s) = std::fs::read_to_string("/proc/self/statm") else {
        return 0;
    };
    // SAFETY: `sysconf` has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(1) as u64;
    s.split_ascii_whitespace()
        .nth(1)
        .and_then(|f| f.parse::<u64>().ok())
        .map_or(0, |p| p * page)
}

fn spawn_batches(n: usize) {
    for b in 0..n / BATCH {
        let handles: Vec<_> = (0..BATCH)
            .map(|i| {
                std::thread::spawn(move || {
                    let x = (b * BATCH + i) as u64;
                    black_box(short_lived_work(x));
                    black_box(short_lived_work(x + 1));
                })
            })
            .collect();
        for h in handles {
            h.join().expect("worker thread");
        }
    }
}

fn snapshot_ms() -> (f64, pipelinescope::Profile) {
    let mut best = f64::INFINITY;
    let mut last = None;
    for _ in 0..ROUNDS {
        let t = Instant::now();
        let p = pipelinescope::snapshot();
        best = best.min(t.elapsed().as_secs_f64() * 1e3);
        last = Some(p);
    }
    (best, last.expect("at least one round"))
}

fn main() {
    // `cargo test --benches` runs bench binaries with `--bench` absent: keep that quick.
    if !std::env::args().any(|a| a == "--bench") {
        println!("threads bench: skipped (run with cargo bench)");
        return;
    }
    black_box(short_lived_work(0));
    spawn_batches(WARMUP);
    let (ms_before, _) = snapshot_ms();
    let rss_before = rss();
    let t = Instant::now();
    spawn_batches(THREADS);
    let spawn_s = t.elapsed().as_secs_f64();
    let rss_after = rss();
    let (ms_after, p) = snapshot_ms();
    let calls = p.function("short_lived_work").map_or(0, |f| f.calls);
    let json = serde_json::to_vec(&p).map_or(0, |v| v.len());
    println!(
        "threads: {THREADS} exited threads after a warm-up of {WARMUP}, {BATCH} at a time ({spawn_s:.2} s)"
    );
    println!(
        "resident memory: {:.1} MB -> {:.1} MB, {:.0} bytes per exited thread",
        rss_before as f64 / 1e6,
        rss_after as f64 / 1e6,
        (rss_after as f64 - rss_before as f64) / THREADS as f64
    );
    println!(
        "snapshot: {ms_before:.2} ms after {WARMUP} threads, {ms_after:.2} ms after {} (best of {ROUNDS})",
        WARMUP + THREADS
    );
    println!(
        "profile: {calls} calls of short_lived_work (expected {}), {} thread rows, {json} bytes of JSON",
        2 * (WARMUP + THREADS) + 1,
        p.threads.len()
    );
}
