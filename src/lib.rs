//! # PipelineScope
//!
//! A compile-time instrumentation profiler for Rust data pipelines. Annotate functions with
//! `#[profile]` and pipeline stages with `#[stage("name")]`, turn the `enable` feature on, and
//! every run writes a report of where the time goes.
//!
//! With the `enable` feature off (the default) the attributes still check their arguments and
//! then return the item untouched, and this API compiles to no-ops: [`snapshot`] is empty.

#![deny(missing_docs)]

/// Counts allocations per instrumented function (feature `alloc`); install it with
/// `#[global_allocator]`.
#[cfg(feature = "alloc")]
pub use pipelinescope_core::TrackingAllocator;
pub use pipelinescope_core::profile::*;
pub use pipelinescope_macros::{main, profile, stage};

mod config;
mod live;
mod output;
mod report_hook;
#[cfg(feature = "enable")]
mod resources_hook;
mod run;
pub use config::{Config, Resolved, Settings, SortBy};
pub use run::{Run, StartError, start, start_with};

/// Everything recorded so far, over all threads (live, pooled and finished), with how each
/// sized function's and stage's time grows with its calls' size (`scaling`) fitted as at the
/// end of a run. [`Profile::since`] gives what happened between two snapshots; it carries no
/// fits, since a fit over all calls does not describe a part of them.
///
/// Without the `enable` feature this is an empty profile.
pub fn snapshot() -> Profile {
    #[cfg(feature = "enable")]
    {
        let mut p = pipelinescope_core::snapshot::collect(process_wall_ns());
        pipelinescope_report::scaling::within::annotate(&mut p);
        p
    }
    #[cfg(not(feature = "enable"))]
    {
        Profile {
            schema_version: SCHEMA_VERSION,
            ..Profile::default()
        }
    }
}

/// Whether this build records (the `enable` feature) and the runtime switch allows it.
pub fn is_recording() -> bool {
    cfg!(feature = "enable") && pipelinescope_core::control::enabled()
}

/// Turns recording on or off at run time, overriding `PIPELINESCOPE` from the environment.
pub fn set_recording(on: bool) {
    pipelinescope_core::control::set_enabled(on);
}

/// Wall time since the process's first instrumented call: what a snapshot outside a run covers.
#[cfg(feature = "enable")]
fn process_wall_ns() -> u64 {
    pipelinescope_core::clock::since_first_use()
        .as_nanos()
        .min(u64::MAX as u128) as u64
}

/// Bytes the recorder holds for the calling thread (0 without the `enable` feature). Bounded by
/// the number of instrumented functions and call paths, never by the number of calls.
pub fn recorder_bytes_on_this_thread() -> usize {
    pipelinescope_core::recorder_bytes_on_this_thread()
}

/// Measures what one instrumented call costs on this machine, in nanoseconds (0 when not
/// recording). Every run does this at start and reports it as `probe_overhead_ns`.
pub fn measure_probe_overhead() -> f64 {
    if is_recording() {
        pipelinescope_core::measure_probe_overhead()
    } else {
        0.0
    }
}

pub use pipelinescope_core::calibrate::Calibration;

/// What one instrumented call costs on this machine, split into the part inside a timed call's
/// own interval, the part in its caller's, and the cost of an untimed call, as measured once
/// per process; and whether those costs are taken off the figures and short functions timed
/// on a sample of their calls. All zero when not recording.
pub fn calibration() -> Calibration {
    if is_recording() {
        pipelinescope_core::calibration()
    } else {
        Calibration::default()
    }
}

/// Whether the probe's measured cost is taken off every time figure (default on; the config
/// key `compensate`). Off, the figures are raw, probe included. Applies to calls that end from
/// now on.
pub fn set_compensation(on: bool) {
    if is_recording() {
        pipelinescope_core::calibrate::set_compensation(on);
    }
}

/// Whether functions much shorter than the probe are timed on a random sample of their calls
/// (default on; the config key `timing = "sampled"`), or every call is timed (`"exact"`).
/// Counts are exact either way.
pub fn set_sampled_timing(on: bool) {
    if is_recording() {
        pipelinescope_core::calibrate::set_sampling(on);
    }
}

/// What the macros expand to. Not part of the public API: names and signatures here may change
/// in any release.
#[doc(hidden)]
pub use pipelinescope_core::__private;
