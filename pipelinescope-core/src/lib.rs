//! PipelineScope's core: the per-thread recorder that `#[profile]` expands into, the clock, and
//! the [`Profile`] data model that every report reads.
//!
//! Users depend on the `pipelinescope` facade, not on this crate.

#![deny(missing_docs)]

#[cfg(feature = "alloc")]
pub mod alloc;
pub mod calibrate;
pub mod clock;
pub mod control;
pub mod delta;
mod future;
pub mod hist;
pub mod profile;
pub mod recorder;
pub mod resources;
mod sampling;
mod segvec;
pub mod site;
pub mod snapshot;
pub mod stage;

pub use calibrate::{Calibration, calibration};
pub use future::{Instrumented, instrument_future};
pub use profile::{Profile, SCHEMA_VERSION};
pub use recorder::{Guard, enter};

/// What one timed instrumented call costs on this machine (enter plus exit of an empty
/// function, nanoseconds), measured once per process: see [`calibration`] for its parts.
pub fn measure_probe_overhead() -> f64 {
    if !control::enabled() {
        return 0.0;
    }
    calibration().timed_ns()
}
pub use site::{Site, SiteKind};

#[cfg(feature = "alloc")]
pub use alloc::TrackingAllocator;

/// Bytes the recorder holds on the calling thread (for memory-bound checks and the README).
pub fn recorder_bytes_on_this_thread() -> usize {
    recorder::current_thread().map_or(0, |t| t.bytes())
}
