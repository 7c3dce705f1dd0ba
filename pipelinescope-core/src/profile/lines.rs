//! Per-line figures of the functions annotated `#[profile(lines)]`: hits and time per source
//! line, as `kernprof -l -v` shows them, with allocations per line when the allocation tracker
//! runs (memory_profiler's "Increment").

use serde::{Deserialize, Serialize};

/// The lines of one function annotated `#[profile(lines)]`, over all threads.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct FunctionLines {
    /// Display name of the function, as in [`FunctionStats::name`](super::FunctionStats::name).
    pub function: String,
    /// Rust module path of the function.
    pub module: String,
    /// Source file.
    pub file: String,
    /// Line of the function's `fn`.
    pub line: u32,
    /// Sum of the lines' times: every nanosecond between an activation's entry and exit is
    /// charged to exactly one line (with the probes' cost taken off when `compensated`).
    pub total_ns: u64,
    /// The per-statement probe cost taken off each hit, in nanoseconds (0 when not compensated).
    #[serde(default)]
    pub probe_ns: f64,
    /// The function's source as the macro read it when it compiled, from the line of its `fn`
    /// (line `first_line`) to its closing brace; empty when it could not be read.
    #[serde(default)]
    pub source: String,
    /// Line number of the first line of `source`.
    #[serde(default)]
    pub first_line: u32,
    /// One row per line a statement starts on (and the `fn` line, whose hits are the calls), in
    /// line order.
    pub lines: Vec<LineStats>,
}

/// Figures of one source line.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct LineStats {
    /// Line number in the file.
    pub line: u32,
    /// Times a statement starting on the line ran; a loop's line counts its entry and each
    /// iteration (a `while` line: each test of its condition).
    pub hits: u64,
    /// Time from the line's start to the next line's start, summed: inclusive of the calls made
    /// on the line, exclusive of the statements of nested blocks (which are lines of their own).
    pub time_ns: u64,
    /// `time_ns` before the probes' cost was taken off.
    #[serde(default)]
    pub raw_time_ns: u64,
    /// Allocations made while the line ran (with the allocation tracker).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alloc: Option<LineAlloc>,
}

/// Allocation figures of one line.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct LineAlloc {
    /// Allocations (a reallocation counts as one).
    pub allocations: u64,
    /// Bytes allocated.
    pub bytes_allocated: u64,
    /// Bytes freed.
    pub bytes_freed: u64,
    /// Allocated less freed: memory_profiler's "Increment".
    pub increment: i64,
}

impl FunctionLines {
    /// The text of source line `line`, if the source was captured.
    pub fn source_line(&self, line: u32) -> Option<&str> {
        let i = line.checked_sub(self.first_line)? as usize;
        self.source.lines().nth(i)
    }

    /// Share of the function's time spent on `l`, 0..=1.
    pub fn share(&self, l: &LineStats) -> f64 {
        if self.total_ns == 0 {
            0.0
        } else {
            l.time_ns as f64 / self.total_ns as f64
        }
    }
}

/// The line figures of `cur` beyond those of `base`, an earlier snapshot of the same process
/// (matched by function and line); tables with no hits left are dropped.
pub fn lines_since(cur: &[FunctionLines], base: &[FunctionLines]) -> Vec<FunctionLines> {
    let mut out = Vec::new();
    for f in cur {
        let mut f = f.clone();
        let b = base
            .iter()
            .find(|b| b.function == f.function && b.file == f.file && b.line == f.line);
        if let Some(b) = b {
            for l in &mut f.lines {
                let Some(bl) = b.lines.iter().find(|x| x.line == l.line) else {
                    continue;
                };
                l.hits = l.hits.saturating_sub(bl.hits);
                l.time_ns = l.time_ns.saturating_sub(bl.time_ns);
                l.raw_time_ns = l.raw_time_ns.saturating_sub(bl.raw_time_ns);
                if let (Some(a), Some(ba)) = (&mut l.alloc, bl.alloc) {
                    a.allocations = a.allocations.saturating_sub(ba.allocations);
                    a.bytes_allocated = a.bytes_allocated.saturating_sub(ba.bytes_allocated);
                    a.bytes_freed = a.bytes_freed.saturating_sub(ba.bytes_freed);
                    a.increment = a.bytes_allocated as i64 - a.bytes_freed as i64;
                }
            }
            f.total_ns = f.lines.iter().map(|l| l.time_ns).sum();
        }
        if f.lines.iter().any(|l| l.hits > 0) {
            out.push(f);
        }
    }
    out
}
