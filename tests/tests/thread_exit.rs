//! Threads that exit leave no memory behind: their figures fold into one row of exited threads
//! and their recorders are freed, with every count still exact, in snapshots, deltas and stages.
//!
//! The tests of this file run one at a time (`SERIAL`): they read the process's resident memory
//! and count the exited threads, which the others would move. Instrumented code runs on threads
//! the tests start and join, never on the test harness's own threads (which exit when they like).

mod common;

use common::function;
use pipelinescope::{Profile, ThreadStats, profile, stage};
use std::hint::black_box;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Threads started at once by [`short_threads`].
const BATCH: usize = 8;

/// Resident memory of the process, bytes.
fn rss() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm");
    let pages: u64 = statm
        .split_ascii_whitespace()
        .nth(1)
        .and_then(|f| f.parse().ok())
        .expect("resident pages");
    // SAFETY: `sysconf` has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    pages * page.max(1) as u64
}

/// The row of the exited threads (a default row, count 0, when none has exited).
fn exited(p: &Profile) -> ThreadStats {
    p.threads
        .iter()
        .find(|t| t.is_exited_threads())
        .cloned()
        .unwrap_or_default()
}

/// Starts `n` threads, `BATCH` at a time, each running `f` once, and joins them (a join returns
/// once the thread's thread-locals are torn down: its figures are folded by then).
fn short_threads(n: usize, f: fn(u64)) {
    for b in 0..n.div_ceil(BATCH) {
        let handles: Vec<_> = (b * BATCH..((b + 1) * BATCH).min(n))
            .map(|i| std::thread::spawn(move || f(i as u64)))
            .collect();
        for h in handles {
            h.join().expect("short-lived thread");
        }
    }
}

/// Waits until `n` threads have exited in all (threads a pool lets go of exit on their own
/// time); the snapshot then.
fn wait_for_exited(n: u64) -> Profile {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let p = pipelinescope::snapshot();
        if exited(&p).exited_threads >= n {
            return p;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {n} threads exited",
            exited(&p).exited_threads
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[profile]
#[inline(never)]
fn warm_up_call(x: u64) -> u64 {
    black_box(x).wrapping_mul(3)
}

#[profile]
#[inline(never)]
fn short_lived_call(x: u64) -> u64 {
    black_box(x).wrapping_mul(5)
}

/// Bytes a recorder may leave behind per exited thread, amortised.
const PER_THREAD: u64 = 100;

/// 20,000 threads making two calls each: 40,000 calls counted, no row per thread, and resident
/// memory that does not grow with them.
///
/// Bound: 100 bytes per thread (2 MB for 20,000) plus 4 MiB. The allowance is for memory that
/// moves with thread churn whatever the recorder does: the allocator's per-thread arenas and
/// the C library's cache of thread stacks settle during the warm-up but may still take a few
/// pages, and freed heap pages are not always handed back. A recorder kept per exited thread
/// (about 17 KB each before they were folded) would add 340 MB.
#[test]
fn twenty_thousand_exited_threads_cost_no_memory_and_stay_exact() {
    let _serial = serial();
    const THREADS: usize = 20_000;
    // Warm-up: the allocator's arenas and the stack cache reach their size, the function's
    // path and histogram exist in the exited threads' figures.
    short_threads(2_000, |i| {
        black_box(warm_up_call(i));
        black_box(warm_up_call(i + 1));
    });
    let before = pipelinescope::snapshot();
    let rss_before = rss();
    short_threads(THREADS, |i| {
        black_box(short_lived_call(i));
        black_box(short_lived_call(i + 1));
    });
    let rss_after = rss();
    let p = pipelinescope::snapshot();
    let f = function(&p, "short_lived_call");
    assert_eq!(f.calls, 2 * THREADS as u64);
    assert_eq!(f.histogram.count(), 2 * THREADS as u64);
    assert_eq!(function(&p, "warm_up_call").calls, 4_000);
    let (e0, e1) = (exited(&before), exited(&p));
    assert_eq!(e1.exited_threads - e0.exited_threads, THREADS as u64);
    assert_eq!(e1.calls - e0.calls, 2 * THREADS as u64);
    assert_eq!(e1.name, format!("exited threads ({})", e1.exited_threads));
    // Live threads only, and the one row for the exited: no row per thread that came and went.
    assert!(p.threads.len() < 100, "{} thread rows", p.threads.len());
    let growth = rss_after.saturating_sub(rss_before);
    println!(
        "resident memory {rss_before} -> {rss_after} bytes after {THREADS} exited threads: \
         {:.1} bytes per thread",
        growth as f64 / THREADS as f64
    );
    assert!(
        growth <= PER_THREAD * THREADS as u64 + (4 << 20),
        "resident memory grew by {growth} bytes over {THREADS} exited threads"
    );
}

#[profile]
#[inline(never)]
fn pooled_call(x: u64) -> u64 {
    black_box(x).wrapping_add(7)
}

/// A rayon pool of `threads` threads, built, each thread making one call, and dropped.
fn pool_round(threads: usize) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("recreated-pool-{i}"))
        .build()
        .expect("a rayon pool");
    pool.broadcast(|c| black_box(pooled_call(c.index() as u64)));
}

/// A thread pool built and dropped 1,000 times: memory after the 1,000th is that after the
/// 100th, within 100 bytes per thread started since and 2 MiB (allocator arenas and the stack
/// cache, as above; 1,800 recorders kept would add about 30 MB).
#[test]
fn a_thread_pool_recreated_a_thousand_times_stays_flat() {
    let _serial = serial();
    const THREADS: usize = 2;
    let start = exited(&pipelinescope::snapshot()).exited_threads;
    for _ in 0..100 {
        pool_round(THREADS);
    }
    let first = wait_for_exited(start + 100 * THREADS as u64);
    let rss_100 = rss();
    for _ in 100..1_000 {
        pool_round(THREADS);
    }
    let p = wait_for_exited(start + 1_000 * THREADS as u64);
    let rss_1000 = rss();
    assert_eq!(function(&first, "pooled_call").calls, 100 * THREADS as u64);
    assert_eq!(function(&p, "pooled_call").calls, 1_000 * THREADS as u64);
    assert!(
        p.threads
            .iter()
            .all(|t| !t.name.starts_with("recreated-pool-")),
        "an exited pool thread kept its row"
    );
    let started = 900 * THREADS as u64;
    let growth = rss_1000.saturating_sub(rss_100);
    println!("resident memory after 100 pools {rss_100}, after 1,000 {rss_1000} bytes");
    assert!(
        growth <= PER_THREAD * started + (2 << 20),
        "resident memory grew by {growth} bytes over {started} more pool threads"
    );
}

#[profile]
#[inline(never)]
fn delta_call(x: u64) -> u64 {
    black_box(x).wrapping_sub(1)
}

/// A run that starts while a thread lives and ends after it exited reports that thread's calls
/// made during the run once: not those made before, which its own row held at the start.
#[test]
fn a_delta_reports_an_exited_threads_calls_once() {
    let _serial = serial();
    let (made, made_rx) = std::sync::mpsc::channel();
    let (more, more_rx) = std::sync::mpsc::channel::<()>();
    let worker = std::thread::Builder::new()
        .name("delta-worker".into())
        .spawn(move || {
            for i in 0..30 {
                black_box(delta_call(i));
            }
            made.send(()).unwrap();
            more_rx.recv().unwrap();
            for i in 0..12 {
                black_box(delta_call(i));
            }
        })
        .unwrap();
    made_rx.recv().unwrap();
    let base = pipelinescope::snapshot();
    let row = base.threads.iter().find(|t| t.name == "delta-worker");
    assert_eq!(row.map(|t| t.calls), Some(30));
    more.send(()).unwrap();
    worker.join().unwrap();
    let now = pipelinescope::snapshot();
    assert!(now.threads.iter().all(|t| t.name != "delta-worker"));
    let d = now.since(&base);
    assert_eq!(function(&d, "delta_call").calls, 12);
    let e = exited(&d);
    assert_eq!((e.exited_threads, e.calls), (1, 12), "{e:?}");
    assert_eq!(e.name, "exited threads (1)");
    assert_eq!(d.threads.iter().map(|t| t.calls).sum::<u64>(), 12);
    assert_eq!(d.meta.total_calls, 12);
}

#[stage("exiting_source")]
fn exiting_source(n: u64) -> impl Iterator<Item = u64> {
    0..n
}

#[stage("exiting_evens")]
fn exiting_evens(input: impl Iterator<Item = u64>) -> impl Iterator<Item = u64> {
    input.filter(|x| x % 2 == 0)
}

/// Stage figures of exited threads are folded too: records, invocations and the edge stay exact.
#[test]
fn stage_figures_of_exited_threads_stay_exact() {
    let _serial = serial();
    short_threads(400, |i| {
        let n = 10 + i % 7;
        let kept = exiting_evens(exiting_source(n)).count() as u64;
        assert_eq!(kept, n.div_ceil(2));
    });
    let p = pipelinescope::snapshot();
    let total: u64 = (0..400).map(|i| 10 + i % 7).sum();
    let kept: u64 = (0..400).map(|i: u64| (10 + i % 7).div_ceil(2)).sum();
    let s = p
        .stages
        .iter()
        .find(|s| s.name == "exiting_source")
        .unwrap();
    let e = p.stages.iter().find(|s| s.name == "exiting_evens").unwrap();
    assert_eq!((s.invocations, s.records_out), (400, total));
    assert_eq!(
        (e.invocations, e.records_in, e.records_out),
        (400, total, kept)
    );
    assert_eq!(s.exhausted, 400);
    assert_eq!(e.own_histogram.count(), kept);
    let edge = p
        .pipeline_edges
        .iter()
        .find(|x| x.from == "exiting_source" && x.to == "exiting_evens")
        .map(|x| x.records);
    assert_eq!(edge, Some(total));
}

/// The exited threads' row in the JSON profile, and a profile written before there was one
/// (no `exited_threads` field) still reads.
#[test]
fn the_exited_threads_row_in_json() {
    let _serial = serial();
    short_threads(3, |i| {
        black_box(delta_call(i));
    });
    let p = pipelinescope::snapshot();
    let json = serde_json::to_value(&p).unwrap();
    let rows = json["threads"].as_array().unwrap();
    let row = rows
        .iter()
        .find(|t| t["index"] == u32::MAX)
        .expect("the exited threads' row");
    let n = row["exited_threads"].as_u64().unwrap();
    assert!(n >= 3);
    assert_eq!(row["name"], format!("exited threads ({n})"));
    assert_eq!(row["finished"], true);
    let old: ThreadStats = serde_json::from_str(
        r#"{"index":4,"name":"w","finished":true,"calls":9,"root_ns":5,"self_ns":5}"#,
    )
    .unwrap();
    assert_eq!((old.exited_threads, old.calls), (0, 9));
    assert!(!old.is_exited_threads());
}
