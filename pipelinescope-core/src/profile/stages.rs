//! Pipeline stages and the records that crossed between them.

use super::{Histogram, Percentiles};
use serde::{Deserialize, Serialize};

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
    /// Invocations by size class: records in per invocation (records out for a source), with
    /// each invocation's own time (schema 2). A lazy stage's invocation is its iterator's life,
    /// an eager stage's one call.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sizes: Vec<super::SizeBucket>,
    /// How its own time per invocation grows with the size, where the sizes allow a fit
    /// (schema 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scaling: Option<super::SizeScaling>,
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
