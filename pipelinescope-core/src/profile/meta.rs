//! What a run was: its meta data, what the probes cost, and projections to a larger input.

use serde::{Deserialize, Serialize};

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
