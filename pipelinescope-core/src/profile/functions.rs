//! Functions: their figures, histograms and percentiles, the call tree, and the threads.

use serde::{Deserialize, Serialize};

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
    /// Index of this function in [`Profile::functions`](super::Profile::functions); call-tree nodes refer to it.
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
    /// Calls by size class, for a function annotated `#[profile(size = ...)]` (schema 2).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sizes: Vec<super::SizeBucket>,
    /// How its time per call grows with the size, where the sizes allow a fit (schema 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scaling: Option<super::SizeScaling>,
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
    /// Function index into [`Profile::functions`](super::Profile::functions) (None only for the root).
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
