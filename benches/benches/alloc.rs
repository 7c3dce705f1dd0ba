//! Cost of `TrackingAllocator<System>` over `System`, side by side in one binary.
//!
//! Run: `cargo bench -p pipelinescope-bench --features alloc --bench alloc`
//!
//! Each figure is the best of several rounds of an allocation and its free, in nanoseconds per
//! allocation-and-free pair, called through the `GlobalAlloc` methods directly (what
//! `#[global_allocator]` does). The tracked figures run inside an instrumented function, so every
//! allocation takes the full counting path.

use pipelinescope::__private::{Site, SiteKind, enter};
use pipelinescope::TrackingAllocator;
use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::time::Instant;

static TRACKED: TrackingAllocator<System> = TrackingAllocator::new(System);
static SITE: Site = Site::new("bench_alloc", "bench", "alloc.rs", 1, SiteKind::Sync);

const PAIRS: usize = 1_000_000;
const BATCH: usize = 1_000;
const ROUNDS: usize = 7;

/// ns per pair: alloc then immediately free, `PAIRS` times.
fn pairs<A: GlobalAlloc>(a: &A, layout: Layout) -> f64 {
    let t = Instant::now();
    for _ in 0..PAIRS {
        // SAFETY: non-zero size layout; the block is freed with the same layout.
        unsafe {
            let p = black_box(a.alloc(layout));
            a.dealloc(p, layout);
        }
    }
    t.elapsed().as_nanos() as f64 / PAIRS as f64
}

/// ns per pair: `BATCH` allocations, then their frees, repeated.
fn batches<A: GlobalAlloc>(a: &A, layout: Layout, held: &mut Vec<*mut u8>) -> f64 {
    let rounds = PAIRS / BATCH;
    let t = Instant::now();
    for _ in 0..rounds {
        for _ in 0..BATCH {
            // SAFETY: as above.
            held.push(black_box(unsafe { a.alloc(layout) }));
        }
        for p in held.drain(..) {
            // SAFETY: allocated just above with `layout`.
            unsafe { a.dealloc(p, layout) };
        }
    }
    t.elapsed().as_nanos() as f64 / (rounds * BATCH) as f64
}

fn best(mut f: impl FnMut() -> f64) -> f64 {
    (0..ROUNDS).map(|_| f()).fold(f64::INFINITY, f64::min)
}

fn main() {
    // `cargo test --benches` runs bench binaries with `--bench` absent: keep that quick.
    if !std::env::args().any(|a| a == "--bench") {
        println!("alloc bench: skipped (run with cargo bench)");
        return;
    }
    let _frame = enter(&SITE);
    let mut held = Vec::with_capacity(BATCH);
    println!(
        "{:<28} {:>10} {:>12} {:>10}",
        "pattern", "System", "Tracking", "overhead"
    );
    for size in [16usize, 64, 1024] {
        let layout = Layout::from_size_align(size, 8).expect("valid layout");
        // Interleave the two so drift on a shared machine hits both alike.
        let (mut s, mut t) = (f64::INFINITY, f64::INFINITY);
        for _ in 0..ROUNDS {
            s = s.min(pairs(&System, layout));
            t = t.min(pairs(&TRACKED, layout));
        }
        println!(
            "{:<28} {:>8.2}ns {:>10.2}ns {:>8.2}ns",
            format!("alloc+free {size} B"),
            s,
            t,
            t - s
        );
        let s = best(|| batches(&System, layout, &mut held));
        let t = best(|| batches(&TRACKED, layout, &mut held));
        println!(
            "{:<28} {:>8.2}ns {:>10.2}ns {:>8.2}ns",
            format!("{BATCH} allocs, {BATCH} frees, {size} B"),
            s,
            t,
            t - s
        );
    }
    drop(_frame);
    // Outside any instrumented function: counted against site 0.
    let layout = Layout::from_size_align(64, 8).expect("valid layout");
    let (mut s, mut t) = (f64::INFINITY, f64::INFINITY);
    for _ in 0..ROUNDS {
        s = s.min(pairs(&System, layout));
        t = t.min(pairs(&TRACKED, layout));
    }
    println!(
        "{:<28} {:>8.2}ns {:>10.2}ns {:>8.2}ns",
        "alloc+free 64 B, no frame",
        s,
        t,
        t - s
    );
    // A thread that never ran instrumented code: not counted at all.
    let (s, t) = std::thread::spawn(move || {
        let (mut s, mut t) = (f64::INFINITY, f64::INFINITY);
        for _ in 0..ROUNDS {
            s = s.min(pairs(&System, layout));
            t = t.min(pairs(&TRACKED, layout));
        }
        (s, t)
    })
    .join()
    .unwrap_or((0.0, 0.0));
    println!(
        "{:<28} {:>8.2}ns {:>10.2}ns {:>8.2}ns",
        "alloc+free 64 B, untracked",
        s,
        t,
        t - s
    );
}
