//! PipelineScope's core: the per-thread recorder that `#[profile]` and `#[stage]` expand into,
//! the clock, and the [`Profile`] data model that every report reads.
//!
//! Users depend on the `pipelinescope` facade, not on this crate.
//!
//! # Layers
//!
//! Each layer uses only the layers below it (`scripts/module-graph.py` checks that no two
//! top-level modules import each other, directly or through others):
//!
//! ```text
//!  4  collection   snapshot/ (functions, stages, allocations), delta, bounds, resources/
//!                  read every thread's figures into a Profile, between two snapshots, or
//!                  beside the run (the resource sampler)
//!  3  probes       probe/: function (enter, Guard), future, stage/ (output, input, link,
//!                  call, timing), alloc_hook (TrackingAllocator), calibrate
//!                  what instrumented code runs
//!  2  threads      threads/: handle (the thread-local handle, the exit path), registry
//!                  (live threads, the exited threads' aggregate), merge, stage_merge,
//!                  alloc_totals: how a thread reaches its state, and every thread's
//!  1  local        local/: thread (ThreadData), calls (the function recorder), slots,
//!                  stage, alloc: one thread's state, nothing about other threads
//!  0  base         profile/ (the data model, plain data), site (Site, StageSite and their
//!                  registries), cost (the probe's cost values), sampling, clock, control,
//!                  util/ (segvec, hist, quiet, cpu_clock, counters)
//! ```
//!
//! The public paths older than these layers (`recorder`, `stage`, `alloc`, `calibrate`,
//! `hist`) are kept as re-exports.

#![deny(missing_docs)]

mod bounds;
pub mod clock;
pub mod control;
mod cost;
pub mod delta;
mod local;
mod probe;
pub mod profile;
pub mod resources;
mod sampling;
pub mod site;
pub mod snapshot;
mod threads;
mod util;

pub use probe::calibrate::{Calibration, calibration};
pub use probe::function::{Guard, OutlinedGuard, enter, enter_outlined};
pub use probe::future::{Instrumented, instrument_future};
pub use probe::lines::{LineSite, Lines, enter_closure, enter_lines, mark_cost_measured_ns};
pub use probe::lines_async::{AsyncLines, LinesAwait, enter_lines_async, lines_await};
pub use probe::size::{IntoSize, SizedGuard, enter_sized, size_of_call};
pub use profile::{Profile, SCHEMA_VERSION};
pub use site::{Site, SiteKind};
pub use util::hist;

#[cfg(feature = "alloc")]
pub use probe::alloc_hook::TrackingAllocator;

/// What one instrumented function call costs, as measured at start, and the switches that
/// decide how that cost is taken off the figures.
pub mod calibrate {
    pub use crate::cost::set_sampling;
    pub use crate::probe::calibrate::{Calibration, calibration, ensure, set_compensation};
}

/// The function probe the macros expand to, and the thread state it records into.
pub mod recorder {
    pub use crate::local::ThreadData;
    pub use crate::probe::function::{Guard, current_stage, enter};
}

/// The stage probes `#[stage]` expands into, and reading their figures.
pub mod stage {
    pub use crate::probe::stage::{
        MAX_GAP, OUTLIER_FACTOR, PathCosts, Records, StageCalibration, StageCall, StageInput,
        StageIter, StageLink, TIMING_BUDGET, calibration, call,
    };
    pub use crate::site::{StageSite, stage_name};
    pub use crate::snapshot::stages::{bytes_on_this_thread, collect};
}

/// Exact allocation counts per function and per stage: the allocator and reading its counters.
#[cfg(feature = "alloc")]
pub mod alloc {
    pub use crate::probe::alloc_hook::TrackingAllocator;
    pub use crate::snapshot::alloc::{collect, collect_stages};
    pub use crate::util::quiet::untracked;
}

/// What the macros expand to, re-exported as `__private` by the `pipelinescope` facade and by
/// `pipelinescope-probe`: one list, so that a library annotated through either crate expands to
/// the same probes. Not part of the public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::probe::function::{Guard, OutlinedGuard, enter, enter_outlined};
    pub use crate::probe::future::{Instrumented, instrument_future};
    pub use crate::probe::lines::{LineSite, Lines, enter_closure, enter_lines};
    pub use crate::probe::lines_async::{AsyncLines, enter_lines_async, lines_await};
    pub use crate::probe::size::{SizedGuard, enter_sized, size_of_call};
    pub use crate::probe::stage::{
        Records, StageCall, StageInput, StageIter, StageLink, call as stage_call,
    };
    pub use crate::profile::StageKind;
    pub use crate::site::{Site, SiteKind, StageSite};
}

/// What one timed instrumented call costs on this machine (enter plus exit of an empty
/// function, nanoseconds), measured once per process: see [`calibration`] for its parts.
pub fn measure_probe_overhead() -> f64 {
    if !control::enabled() {
        return 0.0;
    }
    calibration().timed_ns()
}

/// Bytes the recorder holds on the calling thread (for memory-bound checks and the README).
pub fn recorder_bytes_on_this_thread() -> usize {
    threads::current_thread().map_or(0, |t| t.bytes())
}
