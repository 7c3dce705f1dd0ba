//! What the live endpoint costs the program: `cargo bench -p pipelinescope-bench --bench live`.
//!
//! 1. The hot path with the endpoint idle: a tiny profiled function called in a run without an
//!    endpoint and in a run with one listening, rounds interleaved, median ns per call. The
//!    endpoint has no code on the call path (it waits in `accept` on its own thread), so the two
//!    must agree within the noise.
//! 2. A scrape: the process CPU one request for `/metrics` (and for `/profile.json`) costs, on a
//!    run with a few hundred call paths and a pipeline of stages, and what one scrape a second
//!    makes of one core. Measured with the process's own CPU clock (`getrusage`) around requests
//!    made while the program's threads are idle, so it is the endpoint's work alone.

use std::hint::black_box;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

const CALLS: u64 = 2_000_000;
const ROUNDS: usize = 20;
const SCRAPES: usize = 30;

#[pipelinescope::profile]
#[inline(never)]
fn tiny(x: u64) -> u64 {
    black_box(x).wrapping_mul(3)
}

macro_rules! leaves {
    ($($name:ident),*) => {
        $(
            #[pipelinescope::profile]
            #[inline(never)]
            fn $name(x: u64) -> u64 {
                black_box(x).rotate_left(7) ^ 0x9e37
            }
        )*
        /// Calls every leaf from every middle function: many call paths, as a real program has.
        fn all_leaves(x: u64) -> u64 {
            let mut acc = 0;
            $( acc ^= $name(x); )*
            acc
        }
    };
}
leaves!(
    l00, l01, l02, l03, l04, l05, l06, l07, l08, l09, l10, l11, l12, l13, l14, l15, l16, l17, l18,
    l19
);

macro_rules! middles {
    ($($name:ident),*) => {
        $(
            #[pipelinescope::profile]
            #[inline(never)]
            fn $name(x: u64) -> u64 {
                all_leaves(x)
            }
        )*
        fn all_middles(x: u64) -> u64 {
            let mut acc = 0;
            $( acc ^= $name(x); )*
            acc
        }
    };
}
middles!(
    m00, m01, m02, m03, m04, m05, m06, m07, m08, m09, m10, m11, m12, m13, m14, m15
);

#[pipelinescope::stage("parse")]
fn parse(it: impl Iterator<Item = u64>) -> impl Iterator<Item = u64> {
    it.map(|x| x.wrapping_mul(31))
}

#[pipelinescope::stage("keep")]
fn keep(it: impl Iterator<Item = u64>) -> impl Iterator<Item = u64> {
    it.filter(|x| x % 3 != 0)
}

#[pipelinescope::stage("enrich")]
fn enrich(it: impl Iterator<Item = u64>) -> impl Iterator<Item = u64> {
    it.map(|x| x ^ (x >> 5))
}

fn config(live: bool, dir: &std::path::Path) -> pipelinescope::Config {
    let c = pipelinescope::Config::new()
        .defaults_only()
        .output_dir(dir)
        .console(false)
        .enable_dashboard(false);
    if live { c.live("127.0.0.1:0") } else { c }
}

fn ns_per_call(live: bool, dir: &std::path::Path) -> f64 {
    let run = pipelinescope::start_with(config(live, dir)).expect("one run at a time");
    assert_eq!(run.live_addr().is_some(), live);
    let mut acc = 0;
    let t = Instant::now();
    for i in 0..CALLS {
        acc ^= tiny(i);
    }
    let ns = t.elapsed().as_nanos() as f64 / CALLS as f64;
    black_box(acc);
    drop(run);
    ns
}

fn get(addr: SocketAddr, path: &str) -> usize {
    let mut s = TcpStream::connect(addr).expect("connect");
    write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).unwrap();
    assert!(buf.starts_with(b"HTTP/1.1 200"), "{path}");
    buf.len()
}

fn process_cpu() -> Duration {
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: a valid pointer to a writable rusage.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let quick = !std::env::args().any(|a| a == "--bench");
    let dir = std::env::temp_dir().join(format!("ps_live_bench_{}", std::process::id()));
    let rounds = if quick { 1 } else { ROUNDS };

    let (mut off, mut idle) = (Vec::new(), Vec::new());
    // Alternating which goes first, so that neither gains from the other's warm-up.
    for r in 0..rounds {
        if r % 2 == 0 {
            off.push(ns_per_call(false, &dir));
            idle.push(ns_per_call(true, &dir));
        } else {
            idle.push(ns_per_call(true, &dir));
            off.push(ns_per_call(false, &dir));
        }
    }
    let (off, idle) = (median(&mut off), median(&mut idle));
    println!("hot path, tiny #[profile] function, median of {rounds} rounds of {CALLS} calls:");
    println!("| run                      | ns per call |");
    println!("|--------------------------|-------------|");
    println!("| no live endpoint         | {off:>11.1} |");
    println!("| live endpoint, idle      | {idle:>11.1} |");
    println!("| difference               | {:>11.1} |", idle - off);

    let run = pipelinescope::start_with(config(true, &dir)).expect("one run at a time");
    let addr = run.live_addr().expect("bound");
    let mut acc = 0;
    for i in 0..200 {
        acc ^= all_middles(i);
        acc ^= enrich(keep(parse(0..1_000))).fold(0, |a, x| a ^ x);
    }
    black_box(acc);
    let scrapes = if quick { 2 } else { SCRAPES };
    for path in ["/metrics", "/profile.json"] {
        let _ = get(addr, path);
        let cpu0 = process_cpu();
        let t = Instant::now();
        let mut bytes = 0;
        for _ in 0..scrapes {
            bytes = get(addr, path);
        }
        let wall = t.elapsed() / scrapes as u32;
        let cpu = (process_cpu() - cpu0) / scrapes as u32;
        println!(
            "\n{path}: {bytes} bytes, {:.2} ms per request, {:.2} ms of process CPU per request \
             = {:.3}% of one core at one scrape per second",
            wall.as_secs_f64() * 1e3,
            cpu.as_secs_f64() * 1e3,
            cpu.as_secs_f64() * 100.0
        );
    }
    let profile = pipelinescope::snapshot();
    println!(
        "(run with {} functions, {} call paths, {} stages)",
        profile.functions.len(),
        profile.call_tree.nodes.len(),
        profile.stages.len()
    );
    drop(run);
    let _ = std::fs::remove_dir_all(&dir);
}
