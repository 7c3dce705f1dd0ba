//! A program watched through the live endpoint by the live tests. It records a known number of
//! calls and records on 8 threads, prints a result that does not depend on the profiler, then
//! waits (at most 30 s) for the file `release` to appear in its output directory before it ends,
//! so a test can make its requests while the run is still going.
//!
//! Arguments: `<output_dir> <exit_code>`. Settings come from the environment
//! (`PIPELINESCOPE_LIVE`).

use pipelinescope::{profile, stage};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Threads that record.
pub const THREADS: u64 = 8;
/// Calls of `step` per thread.
pub const CALLS: u64 = 20_000;
/// Records through the pipeline per thread.
pub const RECORDS: u64 = 5_000;

#[profile]
fn step(i: u64) -> u64 {
    std::hint::black_box(i.wrapping_mul(2654435761) >> 7)
}

/// What the program does while it waits for the test, so the live figures keep moving: 10
/// records through the `ticks` stage, then a pause.
#[profile]
fn idle_tick() {
    std::hint::black_box(ticks(0..10).count());
    std::thread::sleep(Duration::from_millis(5));
}

#[stage("ticks")]
fn ticks(it: impl Iterator<Item = u64>) -> impl Iterator<Item = u64> {
    it.map(|x| x + 1)
}

#[stage("evens")]
fn evens(it: impl Iterator<Item = u64>) -> impl Iterator<Item = u64> {
    it.filter(|x| x % 2 == 0)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let out = PathBuf::from(args.get(1).cloned().unwrap_or_else(|| "live_out".into()));
    let code: u8 = args.get(2).and_then(|c| c.parse().ok()).unwrap_or(0);
    let run = pipelinescope::start_with(pipelinescope::Config::new().output_dir(&out))
        .expect("no other run");
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            std::thread::spawn(move || {
                let mut acc = 0u64;
                for i in 0..CALLS {
                    acc = acc.wrapping_add(step(i + t));
                }
                let kept = evens(0..RECORDS).count() as u64;
                acc.wrapping_add(kept)
            })
        })
        .collect();
    let total = handles
        .into_iter()
        .map(|h| h.join().unwrap_or(0))
        .fold(0u64, u64::wrapping_add);
    println!("result {total}");
    let until = Instant::now() + Duration::from_secs(30);
    while !out.join("release").exists() && Instant::now() < until {
        idle_tick();
    }
    drop(run);
    ExitCode::from(code)
}
