//! # PipelineScope
//!
//! A compile-time instrumentation profiler for Rust data pipelines. Annotate functions with
//! `#[profile]` and pipeline stages with `#[stage("name")]`, turn the `enable` feature on, and
//! every run writes a report of where the time goes.
//!
//! With the `enable` feature off (the default) the attributes still check their arguments and
//! then return the item untouched, and this API compiles to no-ops: [`snapshot`] is empty.

#![deny(missing_docs)]

pub use pipelinescope_core::profile::*;
pub use pipelinescope_macros::{main, profile, stage};

mod run;
pub use run::{Run, StartError, start};

/// Everything recorded so far, over all threads (live, pooled and finished).
///
/// Without the `enable` feature this is an empty profile.
pub fn snapshot() -> Profile {
    #[cfg(feature = "enable")]
    {
        pipelinescope_core::snapshot::collect(process_wall_ns())
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

#[cfg(feature = "enable")]
fn process_wall_ns() -> u64 {
    use std::sync::OnceLock;
    static EPOCH: OnceLock<std::time::Instant> = OnceLock::new();
    EPOCH
        .get_or_init(std::time::Instant::now)
        .elapsed()
        .as_nanos() as u64
}

/// What the macros expand to. Not part of the public API: names and signatures here may change
/// in any release.
#[doc(hidden)]
pub mod __private {
    pub use pipelinescope_core::profile::StageKind;
    pub use pipelinescope_core::recorder::{Guard, Instrumented, enter, instrument_future};
    pub use pipelinescope_core::site::{Site, SiteKind};
    pub use pipelinescope_core::stage::{
        Records, StageCall, StageInput, StageIter, StageSite, call as stage_call,
    };
}
