//! Per-call overhead of `#[profile]` against a bare function and against other profilers, side
//! by side in one process: `cargo bench -p pipelinescope-bench --bench overhead`.
//!
//! Every variant is the same tiny function (`x * 3` through `black_box`), instrumented the way
//! each tool documents. Rounds interleave the variants so that frequency drift and noise from the
//! other core hit them all alike; each figure is the median over rounds of nanoseconds per call.
//! A hand-written harness rather than criterion, because the figure wanted is a difference
//! between variants measured under the same conditions, printed as one table.

use std::hint::black_box;
use std::time::Instant;

const CALLS: u64 = 2_000_000;
const ROUNDS: usize = 15;

#[inline(never)]
fn bare(x: u64) -> u64 {
    black_box(x).wrapping_mul(3)
}

#[pipelinescope::profile]
#[inline(never)]
fn with_pipelinescope(x: u64) -> u64 {
    black_box(x).wrapping_mul(3)
}

#[pipelinescope::profile]
#[inline(never)]
fn with_pipelinescope_exact(x: u64) -> u64 {
    black_box(x).wrapping_mul(3)
}

#[tracing::instrument(level = "info", skip_all)]
#[inline(never)]
fn with_tracing(x: u64) -> u64 {
    black_box(x).wrapping_mul(3)
}

#[inline(never)]
fn with_puffin(x: u64) -> u64 {
    puffin::profile_function!();
    black_box(x).wrapping_mul(3)
}

#[fastrace::trace]
#[inline(never)]
fn with_fastrace(x: u64) -> u64 {
    black_box(x).wrapping_mul(3)
}

#[hotpath::measure]
#[inline(never)]
fn with_hotpath(x: u64) -> u64 {
    black_box(x).wrapping_mul(3)
}

#[time_graph::instrument]
#[inline(never)]
fn with_time_graph(x: u64) -> u64 {
    black_box(x).wrapping_mul(3)
}

struct NullReporter;
impl fastrace::collector::Reporter for NullReporter {
    fn report(&mut self, spans: Vec<fastrace::prelude::SpanRecord>) {
        black_box(spans);
    }
}

/// The floor any timing probe pays: two reads of the clock PipelineScope uses.
#[inline(never)]
fn two_clock_reads(x: u64) -> u64 {
    let a = pipelinescope_core::clock::raw();
    let r = black_box(x).wrapping_mul(3);
    let b = pipelinescope_core::clock::raw();
    r ^ (b.wrapping_sub(a) & 1)
}

#[derive(Clone, Copy, PartialEq)]
enum Variant {
    Bare,
    ClockFloor,
    PipelineScope,
    PipelineScopeExact,
    PipelineScopeOff,
    Tracing,
    Puffin,
    Fastrace,
    Hotpath,
    TimeGraph,
}

impl Variant {
    const ALL: [Variant; 10] = [
        Variant::Bare,
        Variant::ClockFloor,
        Variant::PipelineScope,
        Variant::PipelineScopeExact,
        Variant::PipelineScopeOff,
        Variant::Tracing,
        Variant::Puffin,
        Variant::Fastrace,
        Variant::Hotpath,
        Variant::TimeGraph,
    ];

    fn name(self) -> &'static str {
        match self {
            Variant::Bare => "bare function",
            Variant::ClockFloor => "two TSC reads (the floor of any timer)",
            Variant::PipelineScope => "pipelinescope #[profile] (sampled timing)",
            Variant::PipelineScopeExact => "pipelinescope, timing = \"exact\"",
            Variant::PipelineScopeOff => "pipelinescope, PIPELINESCOPE=off",
            Variant::Tracing => "tracing #[instrument] + tracing-timing",
            Variant::Puffin => "puffin profile_function!",
            Variant::Fastrace => "fastrace #[trace] (in a root span)",
            Variant::Hotpath => "hotpath #[measure]",
            Variant::TimeGraph => "time-graph #[instrument]",
        }
    }

    /// Nanoseconds per call over `CALLS` calls.
    fn measure(self) -> f64 {
        self.measure_n(CALLS)
    }

    /// Nanoseconds per call over `calls` calls.
    fn measure_n(self, calls: u64) -> f64 {
        let mut acc = 0u64;
        let t = Instant::now();
        match self {
            Variant::Bare => (0..calls).for_each(|i| acc ^= bare(i)),
            Variant::ClockFloor => (0..calls).for_each(|i| acc ^= two_clock_reads(i)),
            Variant::PipelineScope | Variant::PipelineScopeOff => {
                pipelinescope::set_recording(self == Variant::PipelineScope);
                (0..calls).for_each(|i| acc ^= with_pipelinescope(i));
                pipelinescope::set_recording(true);
            }
            Variant::PipelineScopeExact => {
                // Its own function, so that the sampled variant's path keeps its sampling.
                pipelinescope::set_sampled_timing(false);
                (0..calls).for_each(|i| acc ^= with_pipelinescope_exact(i));
                pipelinescope::set_sampled_timing(true);
            }
            Variant::Tracing => (0..calls).for_each(|i| acc ^= with_tracing(i)),
            Variant::Puffin => {
                (0..calls).for_each(|i| acc ^= with_puffin(i));
                // Close the frame so puffin's buffers do not grow without bound.
                puffin::GlobalProfiler::lock().new_frame();
            }
            Variant::Fastrace => {
                let root = fastrace::Span::root("round", fastrace::prelude::SpanContext::random());
                let _g = root.set_local_parent();
                // A root span keeps its local spans until it closes; close one every 10,000
                // calls as a real request-scoped trace would.
                let mut i = 0;
                while i < calls {
                    let root =
                        fastrace::Span::root("batch", fastrace::prelude::SpanContext::random());
                    let _g = root.set_local_parent();
                    for j in i..(i + 10_000).min(calls) {
                        acc ^= with_fastrace(j);
                    }
                    i += 10_000;
                }
                drop(_g);
                drop(root);
                // Its collector thread processes the spans after the calls return: that work is
                // part of fastrace's cost, and left running it would steal the CPU from the
                // variants measured next.
                fastrace::flush();
            }
            Variant::Hotpath => (0..calls).for_each(|i| acc ^= with_hotpath(i)),
            Variant::TimeGraph => (0..calls).for_each(|i| acc ^= with_time_graph(i)),
        }
        let ns = t.elapsed().as_nanos() as f64 / calls as f64;
        black_box(acc);
        ns
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Runs every variant `ROUNDS` times on `threads` threads at once; median ns per call.
fn run(threads: usize) -> Vec<f64> {
    let mut samples: Vec<Vec<f64>> = vec![Vec::new(); Variant::ALL.len()];
    for _ in 0..ROUNDS {
        for (k, v) in Variant::ALL.iter().enumerate() {
            let per_thread: Vec<f64> = std::thread::scope(|s| {
                let hs: Vec<_> = (0..threads).map(|_| s.spawn(|| v.measure())).collect();
                hs.into_iter()
                    .map(|h| h.join().unwrap_or(f64::NAN))
                    .collect()
            });
            samples[k].push(per_thread.iter().sum::<f64>() / threads as f64);
        }
    }
    samples.iter_mut().map(|s| median(s)).collect()
}

/// A function that can unwind (a bounds-checked lookup returning a `Result`), bare: most real
/// functions have such a path, and with it the guard's drop is a call of its own wherever the
/// probe is inlined.
#[inline(never)]
fn lookup_bare(table: &[u8], i: usize) -> Result<u32, usize> {
    let d = table[i];
    if d == 0xFF { Err(i) } else { Ok(u32::from(d)) }
}

#[pipelinescope::profile]
#[inline(never)]
fn lookup_profiled(table: &[u8], i: usize) -> Result<u32, usize> {
    let d = table[i];
    if d == 0xFF { Err(i) } else { Ok(u32::from(d)) }
}

/// Nanoseconds per call of `f` over `calls` calls on a 256-entry table.
fn lookups(f: fn(&[u8], usize) -> Result<u32, usize>, calls: u64) -> f64 {
    let table: Vec<u8> = (0..=255u8).map(|b| b % 64).collect();
    let table = black_box(&table[..]);
    let mut acc = 0u32;
    let t = Instant::now();
    for i in 0..calls {
        acc ^= f(table, (i & 255) as usize).unwrap_or(0);
    }
    let ns = t.elapsed().as_nanos() as f64 / calls as f64;
    black_box(acc);
    ns
}

/// Memory of the recorder after `n` calls of one function on this thread.
fn recorder_bytes_after(n: u64) -> usize {
    let mut acc = 0;
    for i in 0..n {
        acc ^= with_pipelinescope(i);
    }
    black_box(acc);
    pipelinescope::recorder_bytes_on_this_thread()
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not, and a quick pass that
    // checks every variant still runs is enough there.
    let quick = !std::env::args().any(|a| a == "--bench");
    let _hotpath = hotpath::HotpathGuardBuilder::new("overhead").build();
    let subscriber = tracing_timing::Builder::default().build(|| {
        tracing_timing::Histogram::new_with_max(10_000_000_000, 2).expect("valid bounds")
    });
    let _ = tracing::subscriber::set_global_default(subscriber);
    puffin::set_scopes_on(true);
    fastrace::set_reporter(NullReporter, fastrace::collector::Config::default());
    time_graph::enable_data_collection(true);
    if quick {
        for v in Variant::ALL {
            black_box(v.measure_n(10_000));
        }
        black_box(lookups(lookup_bare, 10_000) + lookups(lookup_profiled, 10_000));
        return;
    }

    println!(
        "per-call cost, median of {ROUNDS} rounds of {CALLS} calls (ns; overhead = minus bare)\n"
    );
    let one = run(1);
    let two = run(2);
    println!(
        "| {:<40} | {:>10} | {:>10} | {:>13} | {:>13} |",
        "variant", "1 thread", "overhead", "2 threads", "overhead"
    );
    println!(
        "|{:-<42}|{:-<12}|{:-<12}|{:-<15}|{:-<15}|",
        "", "", "", "", ""
    );
    for (k, v) in Variant::ALL.iter().enumerate() {
        println!(
            "| {:<40} | {:>10.1} | {:>10.1} | {:>13.1} | {:>13.1} |",
            v.name(),
            one[k],
            one[k] - one[0],
            two[k],
            two[k] - two[0]
        );
    }

    let (mut bare, mut profiled) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        bare.push(lookups(lookup_bare, CALLS));
        profiled.push(lookups(lookup_profiled, CALLS));
    }
    let (b, p) = (median(&mut bare), median(&mut profiled));
    println!(
        "\na function that can unwind (bounds-checked lookup returning Result), 1 thread:\n  \
         bare {b:.1} ns, #[profile] {p:.1} ns per call (overhead {:.1})",
        p - b
    );

    println!("\nrecorder memory on one thread, one function:");
    let after_1m = recorder_bytes_after(1_000_000);
    let after_100m = recorder_bytes_after(99_000_000);
    println!("  after 1,000,000 calls:   {after_1m} bytes");
    println!("  after 100,000,000 calls: {after_100m} bytes");
    // The only growth possible is a histogram range (a power of two of durations) seen for the
    // first time, e.g. a call preempted by the OS: at most 57 ranges of 1 KiB per (function,
    // thread), whatever the number of calls.
    println!(
        "  difference: {} bytes (new duration ranges only; the bound is {} bytes per function and thread)",
        after_100m as i64 - after_1m as i64,
        pipelinescope_core::hist::MAX_BYTES
    );
    println!(
        "  probe overhead measured by the recorder itself: {:.1} ns per call",
        pipelinescope::measure_probe_overhead()
    );
}
