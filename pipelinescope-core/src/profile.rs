//! The `Profile` data model: what a run measured, as plain serde data.
//!
//! This is the contract between the recorder (which fills it) and everything that reads it (the
//! HTML report, the console table, the command-line tools). It is exactly what
//! `profile_data.json` holds; `docs/profile-schema.md` documents every field. All durations are
//! nanoseconds.

use serde::{Deserialize, Serialize};

/// Version of the `profile_data.json` layout. Bump it on any change a reader could trip on.
pub const SCHEMA_VERSION: u32 = 1;

/// Everything one run measured.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Profile {
    /// Layout version of this document, see [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Who, where and when.
    pub meta: RunMeta,
    /// One row per instrumented function, merged over all threads.
    pub functions: Vec<FunctionStats>,
    /// The calling-context tree, merged over all threads by call path.
    pub call_tree: CallTree,
    /// One row per live thread that ran instrumented code, then one row for every thread that
    /// has exited (see [`ThreadStats::exited_threads`]).
    pub threads: Vec<ThreadStats>,
    /// Pipeline stages (`#[stage]`), in pipeline order.
    #[serde(default)]
    pub stages: Vec<StageStats>,
    /// Which stage pulls from which.
    #[serde(default)]
    pub pipeline_edges: Vec<PipelineEdge>,
    /// Sampled CPU, memory and GPU figures, when the resource sampler ran.
    #[serde(default)]
    pub resources: Option<Resources>,
    /// Projection from the sample size to the expected size.
    #[serde(default)]
    pub extrapolation: Option<Extrapolation>,
    /// The runs a merged profile was built from (`pipelinescope merge`), one per input, in input
    /// order; empty for a profile written by a single run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<SourceRun>,
}

/// One input of a merged profile: where it came from and its own metadata.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SourceRun {
    /// Path of the `profile_data.json` it was read from, as given on the command line.
    pub path: String,
    /// Its metadata, unchanged.
    pub meta: RunMeta,
}

/// Run metadata.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct RunMeta {
    /// Unique id of the run (also the run directory's name).
    pub run_id: String,
    /// Title for reports (`dashboard_title`).
    pub title: String,
    /// Start of the run, RFC 3339 UTC.
    pub start_time: String,
    /// End of the run (or of the snapshot), RFC 3339 UTC.
    pub end_time: String,
    /// Wall-clock time between start and end.
    pub wall_ns: u64,
    /// The command line of the profiled process.
    pub command_line: Vec<String>,
    /// Host name.
    pub host: String,
    /// Process id.
    pub pid: u32,
    /// Version of PipelineScope that wrote the profile.
    pub pipelinescope_version: String,
    /// Measured cost of one timed instrumented call (enter and exit) on this machine,
    /// nanoseconds: `probe_inside_ns + probe_outside_ns`.
    pub probe_overhead_ns: f64,
    /// The part of a timed call's probe that falls inside its own measured interval.
    #[serde(default)]
    pub probe_inside_ns: f64,
    /// The part of a timed call's probe that falls in its caller's interval.
    #[serde(default)]
    pub probe_outside_ns: f64,
    /// Cost of an untimed (counted only) call, all of it in its caller's interval.
    #[serde(default)]
    pub probe_untimed_ns: f64,
    /// What timing a lazy stage's call costs, measured on the stage wrappers' own code and
    /// taken off the stage figures (zero when no lazy stage ran).
    #[serde(default)]
    pub stage_probe: StageCalibration,
    /// Whether the probe's cost was taken off every time figure (`compensate`).
    #[serde(default)]
    pub compensated: bool,
    /// `sampled`: functions much shorter than the probe were timed on a random sample of their
    /// calls (counts exact, times estimated); `exact`: every call was timed.
    #[serde(default)]
    pub timing: String,
    /// Estimated share of the wall time spent inside the probe itself: timed calls times the
    /// timed cost plus untimed calls times the untimed cost, over the wall time.
    pub probe_overhead_share: f64,
    /// Whether the clock is the CPU's invariant TSC (else the OS monotonic clock).
    pub clock_source: String,
    /// Smallest step the clock was seen to take, nanoseconds: durations are multiples of it, so
    /// per-call figures near it are coarse (some virtual machines step the TSC by ~10 ns).
    #[serde(default)]
    pub clock_resolution_ns: f64,
    /// True when the run ended while a panic was unwinding.
    pub ended_by_panic: bool,
    /// Configuration problems found while starting the run, in plain words.
    pub warnings: Vec<String>,
    /// Sum of the cumulative time of root calls over all threads.
    pub instrumented_ns: u64,
    /// Total instrumented calls over all functions and threads.
    pub total_calls: u64,
}

/// What timing one call of a lazy stage costs on one way of draining it, in nanoseconds (see
/// `pipelinescope_core::stage::calibration`).
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PathCosts {
    /// Added to a timed call's own time by timing it: its clock readings and bookkeeping
    /// between them. Taken off every timed call.
    pub call_inside_ns: f64,
    /// Added to a timed call's own time by each timed pull from upstream made inside it (the
    /// input's slow path and readings, outside the pull's span). Taken off per timed pull.
    pub pull_in_call_ns: f64,
    /// Added to a timed pull's span (charged to upstream time) by timing it. Taken off per
    /// timed pull.
    pub pull_inside_ns: f64,
}

/// What timing costs, measured when this process's first lazy stage was made (see
/// `pipelinescope_core::stage::calibration`): the costs of a call drained by `next` (a `for` loop, `collect`) and by `fold`
/// (`for_each`, `count`, `sum`), and the clock's nanoseconds per tick they were converted with.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StageCalibration {
    /// Calls drained one `next` at a time.
    pub next: PathCosts,
    /// Calls inside a wrapper's `fold`.
    pub fold: PathCosts,
    /// Nanoseconds per clock tick.
    pub ns_per_tick: f64,
}

/// Per-call latency distribution of one function, as recorded HDR buckets.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Histogram {
    /// Significant decimal digits the buckets resolve (2 = within 1%).
    pub sigfig: u8,
    /// `[value_ns, count]` for every non-empty bucket, ascending by value. Re-recording these
    /// into an HDR histogram of the same precision gives back the same histogram, so runs can be
    /// merged exactly.
    pub buckets: Vec<(u64, u64)>,
}

/// Summary statistics of a latency distribution.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq)]
pub struct Percentiles {
    /// Smallest observed value (exact).
    pub min_ns: u64,
    /// Arithmetic mean (exact: total / count).
    pub mean_ns: f64,
    /// Standard deviation (from the histogram).
    pub stddev_ns: f64,
    /// Median.
    pub p50_ns: u64,
    /// 90th percentile.
    pub p90_ns: u64,
    /// 99th percentile.
    pub p99_ns: u64,
    /// 99.9th percentile.
    pub p999_ns: u64,
    /// Largest observed value (exact).
    pub max_ns: u64,
}

/// Whether a function is ordinary or `async`.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum FunctionKind {
    /// A plain function or method.
    #[default]
    Sync,
    /// An `async fn`: times are per poll, the histogram is per completed future (wall time).
    Async,
}

/// Figures of one instrumented function, over all threads.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct FunctionStats {
    /// Index of this function in [`Profile::functions`]; call-tree nodes refer to it.
    pub id: u32,
    /// Display name (`name = ...`, `Type::method`, or the function's identifier).
    pub name: String,
    /// Rust module path.
    pub module: String,
    /// Source file.
    pub file: String,
    /// Source line.
    pub line: u32,
    /// Sync or async.
    pub kind: FunctionKind,
    /// Completed calls (for async: completed futures). Calls that unwound count here too.
    pub calls: u64,
    /// Calls whose time was measured (the others were counted and estimated: see
    /// `meta.timing`). Equal to `calls` when every call was timed.
    #[serde(default)]
    pub timed_calls: u64,
    /// Calls that ended by a panic unwinding through them.
    pub panics: u64,
    /// Inclusive time; a recursive function counts its outermost activation only. With the
    /// probe's cost taken off when `meta.compensated`.
    pub cumulative_ns: u64,
    /// Exclusive time: cumulative minus instrumented callees (and, compensated, minus the
    /// probes' cost).
    pub self_ns: u64,
    /// `cumulative_ns` before the probe's cost was taken off.
    #[serde(default)]
    pub raw_cumulative_ns: u64,
    /// `self_ns` before the probe's cost was taken off.
    #[serde(default)]
    pub raw_self_ns: u64,
    /// Per-call inclusive time distribution summary.
    pub percentiles: Percentiles,
    /// Per-call inclusive time distribution.
    pub histogram: Histogram,
    /// Share of the run's wall time spent in this function (cumulative / wall), 0..=1.
    pub share_of_wall: f64,
    /// Async-only figures.
    #[serde(default)]
    pub async_stats: Option<AsyncStats>,
}

/// Figures only an `async fn` has.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq)]
pub struct AsyncStats {
    /// Times the future was polled.
    pub polls: u64,
    /// Sum of time spent inside `poll` (the busy time).
    pub busy_ns: u64,
    /// Sum over completed futures of first poll to completion.
    pub wall_ns: u64,
    /// Futures dropped after being polled but before completing.
    pub cancelled: u64,
}

/// The calling-context tree. Node 0 is a synthetic root whose children are the root calls.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct CallTree {
    /// Nodes in creation order; a parent always comes before its children.
    pub nodes: Vec<CallNode>,
}

/// One call path: the function `function` reached through the chain of its ancestors.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct CallNode {
    /// Index of this node in [`CallTree::nodes`].
    pub id: u32,
    /// Parent node (None only for the root).
    pub parent: Option<u32>,
    /// Function index into [`Profile::functions`] (None only for the root).
    pub function: Option<u32>,
    /// Children node ids.
    pub children: Vec<u32>,
    /// Calls along this path.
    pub calls: u64,
    /// Inclusive time along this path (outermost activations only).
    pub cumulative_ns: u64,
    /// Exclusive time along this path. Recursive re-entries of a function already on the path
    /// are folded into its existing node, so their time lands here.
    pub self_ns: u64,
    /// Calls along this path that unwound.
    pub panics: u64,
}

/// Per-thread totals.
///
/// A thread's own row lasts while the thread lives: when it exits its figures are folded into
/// one row for all exited threads (index [`EXITED_THREADS_INDEX`], named
/// `exited threads (N)`, `exited_threads` = N) and its memory is freed. Functions, call paths
/// and stages count every thread's calls either way.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ThreadStats {
    /// Order in which the thread first ran instrumented code ([`EXITED_THREADS_INDEX`] for the
    /// row of the exited threads).
    pub index: u32,
    /// Thread name, if it had one.
    pub name: String,
    /// Whether the thread had exited by the time of the snapshot (a live thread's row reads
    /// true only while it is exiting; the exited threads' row always).
    pub finished: bool,
    /// Calls made on this thread.
    pub calls: u64,
    /// Sum of the cumulative time of this thread's root calls.
    pub root_ns: u64,
    /// Sum of self time over all functions on this thread (equals `root_ns`).
    pub self_ns: u64,
    /// On the row of the exited threads: how many threads it stands for (its figures are their
    /// sums); 0 on a thread's own row.
    #[serde(default)]
    pub exited_threads: u64,
}

/// [`ThreadStats::index`] of the row that stands for every thread that has exited.
pub const EXITED_THREADS_INDEX: u32 = u32::MAX;

/// The name of the row of `n` exited threads.
pub fn exited_threads_name(n: u64) -> String {
    format!("exited threads ({n})")
}

impl ThreadStats {
    /// Whether this is a row of exited threads rather than one thread's (in a merged profile,
    /// each input's row of exited threads keeps its count but gets a new index).
    pub fn is_exited_threads(&self) -> bool {
        self.index == EXITED_THREADS_INDEX || self.exited_threads > 0
    }
}

/// Figures of one pipeline stage (`#[stage]`), merged over every invocation and thread.
///
/// Counts are exact. Times of lazy stages come from timed `next` calls: an iterator's first
/// call, then calls sampled at random to a small budget of the stage's time (every call when the
/// stage is slow enough, or made inside an eager stage); each sampled call stands for the calls
/// since the previous one. What timing a call costs (its clock readings and bookkeeping, measured
/// once per process: `stage::calibration`) is taken off the timed calls' own and upstream time,
/// and a lazy stage's own and upstream time together are held to its iterators' active time,
/// and to its consumer's upstream time when it feeds one stage only: a pipeline's own times add
/// up to no more than the time that passed. Eager stages are timed on every call.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct StageStats {
    /// Stage name.
    pub name: String,
    /// Rust module path.
    pub module: String,
    /// Source file.
    pub file: String,
    /// Source line.
    pub line: u32,
    /// Position in the pipeline (order of first record produced), 0-based.
    pub order: u32,
    /// `lazy` (returns an iterator) or `eager` (takes and returns collections).
    pub kind: StageKind,
    /// Times the stage function was called.
    pub invocations: u64,
    /// Records taken in.
    pub records_in: u64,
    /// Records handed out.
    pub records_out: u64,
    /// `records_out / records_in` (0 when nothing came in).
    pub selectivity: f64,
    /// Time inside the stage itself: time in its `next` minus time pulling from upstream
    /// (eager stages: the call's own time).
    pub own_ns: u64,
    /// Time spent pulling records from upstream stages.
    pub upstream_ns: u64,
    /// Time between handing a record out and being asked for the next one: the consumer's time.
    /// Lazy stages: the iterators' active time (from the start of the first call to the end of
    /// the last, or the drop) less the time inside their calls.
    pub downstream_wait_ns: u64,
    /// Own time per record handed out (lazy: the own time of the call that handed it out, from
    /// the timed records, each standing for the records since the previous one; eager: the
    /// call's own time divided by its records out).
    pub own_per_record: Percentiles,
    /// Own time per record handed out, as a histogram: its count is the records out (sampled
    /// records weighted by the records they stand for).
    pub own_histogram: Histogram,
    /// Records out per second of active time: own time plus time pulling from upstream (the
    /// time the stage was busy producing its records, without the time its consumer kept it
    /// waiting). For the last stage of a chain this is the whole chain's rate.
    pub throughput_per_s: f64,
    /// From the first `next` to the first record handed out (mean over invocations; eager
    /// stages: the call's duration).
    pub first_record_ns: u64,
    /// Iterators run to the end.
    pub exhausted: u64,
    /// Iterators dropped before the end.
    pub dropped_early: u64,
    /// Share of all stages' own time, 0..=1.
    pub share_of_pipeline: f64,
    /// Whether this stage has the largest own-time share.
    pub is_bottleneck: bool,
    /// Whole-run speedup if this stage took no time: 1 / (1 - p), p = own time / run wall time
    /// (capped at 0.999, so the figure stays finite).
    pub amdahl_if_free: f64,
    /// Whole-run speedup if this stage were twice as fast: 1 / (1 - p/2).
    pub amdahl_if_2x: f64,
    /// Time the stage's iterators were active (from the first call to the last, or the drop),
    /// less what timing them cost; 0 for an eager stage. Their own and upstream time are held
    /// to it.
    #[serde(default)]
    pub active_ns: u64,
    /// Part of `own_ns` spent in the stage function's call itself (an eager stage's work, or
    /// making a lazy stage's iterators), outside its iterators.
    #[serde(default)]
    pub call_ns: u64,
}

/// How a stage moves records.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum StageKind {
    /// Returns an iterator, timed over its whole life.
    #[default]
    Lazy,
    /// Takes and returns collections; counts come from their lengths.
    Eager,
}

/// `from` feeds records into `to`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct PipelineEdge {
    /// Upstream stage name.
    pub from: String,
    /// Downstream stage name.
    pub to: String,
    /// Records that crossed the edge.
    pub records: u64,
}

// Edges are found at run time: a lazy stage's input that receives a record handed out by another
// stage's iterator (directly or through plain adapters) counts it on `from -> to`; eager stages
// called one after another at the top level of a thread are chained with the second one's
// records in.

/// Sampled resource figures and the process's run summary.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Resources {
    /// Sampling period.
    pub sample_interval_ms: u64,
    /// Samples taken (the timeline may hold fewer after downsampling).
    pub samples: u64,
    /// Process figures over time, at most 2,000 points.
    pub timeline: Vec<ResourceSample>,
    /// Mean process CPU over the run, percent of one core.
    pub mean_cpu_percent: f64,
    /// Highest resident memory seen by the sampler.
    pub peak_rss_bytes: u64,
    /// Mean utilisation per logical core over the run, percent.
    pub cpu_per_core_percent: Vec<f64>,
    /// GPU figures or why there are none.
    pub gpu: GpuInfo,
    /// CPU and memory attributed to each function from the samples.
    pub per_function: Vec<AttributedResources>,
    /// CPU and memory attributed to each stage from the samples.
    pub per_stage: Vec<AttributedResources>,
    /// `/usr/bin/time -v`-like summary from `getrusage`.
    pub run_summary: Option<RunSummary>,
    /// Exact allocation figures per function and stage (feature `alloc`).
    pub allocations: Vec<AllocationStats>,
    /// Exact allocation figures per stage (feature `alloc`); a stage's peak is the high-water
    /// mark of the bytes it allocated and had not freed itself.
    #[serde(default)]
    pub stage_allocations: Vec<AllocationStats>,
    /// CPU time of the program over the sampled span, the sampler's own left out: the
    /// denominator of `cpu_share`.
    #[serde(default)]
    pub program_cpu_ns: u64,
    /// Part of `program_cpu_ns` charged to no function (code outside instrumented functions, or
    /// threads that never ran any).
    #[serde(default)]
    pub unattributed_cpu_ns: u64,
    /// Resident-memory growth while no instrumented function was active on any thread.
    #[serde(default)]
    pub unattributed_mem_growth_bytes: i64,
    /// CPU time the sampler thread itself used.
    #[serde(default)]
    pub sampler_cpu_ns: u64,
    /// Why the sampler could not run, when it could not.
    #[serde(default)]
    pub sampler_error: Option<String>,
}

/// One resource sample.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ResourceSample {
    /// Milliseconds since the run started.
    pub t_ms: f64,
    /// Process CPU, percent of one core (200 = two cores busy).
    pub cpu_percent: f64,
    /// Resident memory.
    pub rss_bytes: u64,
    /// Virtual memory.
    pub virt_bytes: u64,
    /// GPU utilisation, percent, when a GPU is available.
    pub gpu_util_percent: Option<f64>,
    /// GPU memory in use (all processes), when available.
    pub gpu_mem_bytes: Option<u64>,
    /// GPU memory used by this process, when available.
    pub process_gpu_mem_bytes: Option<u64>,
}

/// GPU availability.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct GpuInfo {
    /// Whether GPU figures were collected.
    pub available: bool,
    /// Device name(s), when available.
    pub devices: Vec<String>,
    /// Why there are no GPU figures ("no NVML library", "disabled by config", ...).
    pub reason: Option<String>,
    /// Highest GPU memory used by this process.
    pub peak_process_mem_bytes: Option<u64>,
    /// Mean GPU utilisation over the run, percent.
    pub mean_util_percent: Option<f64>,
}

/// Resources charged to one function or stage by sampling what was running.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct AttributedResources {
    /// Function or stage name.
    pub name: String,
    /// Samples in which it was the innermost active frame on some thread.
    pub samples: u64,
    /// Estimated CPU time charged to it.
    pub cpu_ns: u64,
    /// Share of the process's sampled CPU time, 0..=1.
    pub cpu_share: f64,
    /// Resident-memory growth during samples where it was active (may be negative).
    pub mem_growth_bytes: i64,
}

/// Whole-process figures at the end of the run, like `/usr/bin/time -v`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct RunSummary {
    /// Wall-clock time.
    pub wall_ns: u64,
    /// User CPU time.
    pub user_ns: u64,
    /// System CPU time.
    pub sys_ns: u64,
    /// Maximum resident set size.
    pub max_rss_bytes: u64,
    /// Minor (reclaiming) page faults.
    pub minor_faults: u64,
    /// Major (I/O) page faults.
    pub major_faults: u64,
    /// Voluntary context switches.
    pub voluntary_context_switches: u64,
    /// Involuntary context switches.
    pub involuntary_context_switches: u64,
}

/// Exact allocation figures of one function or stage, during its activations.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct AllocationStats {
    /// Function or stage name.
    pub name: String,
    /// Number of allocations.
    pub allocations: u64,
    /// Bytes allocated.
    pub bytes_allocated: u64,
    /// Bytes freed.
    pub bytes_freed: u64,
    /// Allocated minus freed (may be negative when it frees what others allocated).
    pub net_retained_bytes: i64,
    /// Highest live-bytes increase over the activation's start (memory_profiler's increment).
    pub peak_live_bytes: u64,
}

/// Projection of the run from `sample_size` to `expected_size`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Extrapolation {
    /// Records (or items) in this run.
    pub sample_size: u64,
    /// Records expected at production scale.
    pub expected_size: u64,
    /// Where `sample_size` came from: `set` (configuration, environment or code), `observed`
    /// (not set: the records the first stage took in, or a source stage handed out), `default`
    /// (not set and no stage ran: the default 100); empty in profiles written before it existed.
    #[serde(default)]
    pub sample_size_source: String,
    /// `expected_size / sample_size`.
    pub factor: f64,
    /// Confidence level of the intervals, e.g. 0.95.
    pub confidence: f64,
    /// Projected whole-run instrumented time.
    pub total: Projection,
    /// Per function.
    pub functions: Vec<Projection>,
    /// Per stage.
    pub stages: Vec<Projection>,
}

/// A projected time with its confidence interval.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Projection {
    /// Function or stage name (empty for the total).
    pub name: String,
    /// Measured count (calls or records).
    pub measured_count: u64,
    /// Projected count.
    pub projected_count: f64,
    /// Measured time.
    pub measured_ns: u64,
    /// Projected time (point estimate).
    pub projected_ns: f64,
    /// Lower end of the confidence interval.
    pub low_ns: f64,
    /// Upper end of the confidence interval.
    pub high_ns: f64,
    /// How the time was projected: `O(n) assumed` (linear in the records, no fit known), or the
    /// fitted model (`O(n log n)`, `O(n^1.93)`, see `pipelinescope scale`); empty in profiles
    /// written before it existed (which were all linear).
    #[serde(default)]
    pub model: String,
    /// R² (log space) of the fitted model; `None` when linear growth was assumed.
    #[serde(default)]
    pub r_squared: Option<f64>,
}

impl Profile {
    /// Looks a function up by display name.
    pub fn function(&self, name: &str) -> Option<&FunctionStats> {
        self.functions.iter().find(|f| f.name == name)
    }

    /// Functions sorted by descending cumulative time.
    pub fn by_cumulative(&self) -> Vec<&FunctionStats> {
        let mut v: Vec<_> = self.functions.iter().collect();
        v.sort_by(|a, b| {
            b.cumulative_ns
                .cmp(&a.cumulative_ns)
                .then(a.name.cmp(&b.name))
        });
        v
    }

    /// The probe's estimated cost over the whole profile: timed calls at the timed cost,
    /// untimed calls at the untimed cost (a profile from before the split: every call at
    /// `probe_overhead_ns`).
    pub fn probe_cost_ns(&self) -> f64 {
        let m = &self.meta;
        let timed: u64 = self.functions.iter().map(|f| f.timed_calls).sum();
        if timed == 0 {
            return m.total_calls as f64 * m.probe_overhead_ns;
        }
        timed as f64 * m.probe_overhead_ns
            + m.total_calls.saturating_sub(timed) as f64 * m.probe_untimed_ns
    }

    /// Functions sorted by descending self time.
    pub fn by_self(&self) -> Vec<&FunctionStats> {
        let mut v: Vec<_> = self.functions.iter().collect();
        v.sort_by(|a, b| b.self_ns.cmp(&a.self_ns).then(a.name.cmp(&b.name)));
        v
    }
}

impl Histogram {
    /// Rebuilds an HDR histogram from the stored buckets.
    pub fn to_hdr(&self) -> hdrhistogram::Histogram<u64> {
        let mut h = hdrhistogram::Histogram::<u64>::new(self.sigfig.clamp(1, 5))
            .expect("sigfig is clamped to the valid range");
        for &(v, c) in &self.buckets {
            // `saturating_record_n` clamps to the current range without resizing (a fresh
            // histogram tracks 1..=2), so record with auto-resize and only clamp what cannot fit.
            if h.record_n(v, c).is_err() {
                h.saturating_record_n(v, c);
            }
        }
        h
    }

    /// Stores an HDR histogram's non-empty buckets.
    pub fn from_hdr(h: &hdrhistogram::Histogram<u64>) -> Self {
        Histogram {
            sigfig: h.sigfig(),
            buckets: h
                .iter_recorded()
                .map(|v| (v.value_iterated_to(), v.count_at_value()))
                .collect(),
        }
    }

    /// Total number of recorded values.
    pub fn count(&self) -> u64 {
        self.buckets.iter().map(|&(_, c)| c).sum()
    }
}

impl Percentiles {
    /// Summary of an HDR histogram, with the exact min, max and mean where they are known.
    pub fn from_hdr(h: &hdrhistogram::Histogram<u64>, min: u64, max: u64, mean: f64) -> Self {
        if h.is_empty() {
            return Percentiles::default();
        }
        let clamp = |v: u64| v.clamp(min, max);
        Percentiles {
            min_ns: min,
            mean_ns: mean,
            stddev_ns: h.stdev(),
            p50_ns: clamp(h.value_at_quantile(0.5)),
            p90_ns: clamp(h.value_at_quantile(0.9)),
            p99_ns: clamp(h.value_at_quantile(0.99)),
            p999_ns: clamp(h.value_at_quantile(0.999)),
            max_ns: max,
        }
    }
}

impl Profile {
    /// Removes the functions for which `drop` is true, as if they had not been instrumented:
    /// their call-tree nodes are spliced out (children move up to the caller) and their self
    /// time is charged to the caller, whose self time grows accordingly.
    pub fn remove_functions(&mut self, mut drop: impl FnMut(&FunctionStats) -> bool) {
        let removed: Vec<bool> = self.functions.iter().map(&mut drop).collect();
        if !removed.iter().any(|&r| r) {
            return;
        }
        let mut new_fn: Vec<Option<u32>> = Vec::with_capacity(removed.len());
        let mut kept = Vec::new();
        for (f, &r) in std::mem::take(&mut self.functions)
            .into_iter()
            .zip(&removed)
        {
            if r {
                new_fn.push(None);
            } else {
                new_fn.push(Some(kept.len() as u32));
                kept.push(f);
            }
        }
        for (i, f) in kept.iter_mut().enumerate() {
            f.id = i as u32;
        }
        // Rebuild the tree: nodes of removed functions map to their (new) parent.
        let old = std::mem::take(&mut self.call_tree.nodes);
        let mut map: Vec<u32> = vec![0; old.len()];
        let mut nodes: Vec<CallNode> = Vec::with_capacity(old.len());
        let mut by_path: std::collections::HashMap<(u32, u32), u32> = Default::default();
        for n in &old {
            let (Some(p), Some(f)) = (n.parent, n.function) else {
                // The root.
                map[n.id as usize] = nodes.len() as u32;
                nodes.push(CallNode {
                    children: Vec::new(),
                    ..n.clone()
                });
                continue;
            };
            let parent = map[p as usize];
            match new_fn.get(f as usize).copied().flatten() {
                None => {
                    map[n.id as usize] = parent;
                    if parent != 0 {
                        nodes[parent as usize].self_ns += n.self_ns;
                    }
                }
                Some(nf) => {
                    // Splicing can bring two paths together: merge them.
                    let id = *by_path.entry((parent, nf)).or_insert_with(|| {
                        let id = nodes.len() as u32;
                        nodes.push(CallNode {
                            id,
                            parent: Some(parent),
                            function: Some(nf),
                            ..CallNode::default()
                        });
                        nodes[parent as usize].children.push(id);
                        id
                    });
                    let m = &mut nodes[id as usize];
                    m.calls += n.calls;
                    m.cumulative_ns += n.cumulative_ns;
                    m.self_ns += n.self_ns;
                    m.panics += n.panics;
                    map[n.id as usize] = id;
                }
            }
        }
        let mut self_by_fn = vec![0u64; kept.len()];
        for n in &nodes {
            if let Some(f) = n.function {
                self_by_fn[f as usize] += n.self_ns;
            }
        }
        for (f, s) in kept.iter_mut().zip(self_by_fn) {
            f.self_ns = s;
        }
        self.functions = kept;
        self.call_tree.nodes = nodes;
        self.meta.total_calls = self.functions.iter().map(|f| f.calls).sum();
    }
}
