//! Resources: the sampler's timeline and attribution, the run summary, allocations.

use serde::{Deserialize, Serialize};

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
