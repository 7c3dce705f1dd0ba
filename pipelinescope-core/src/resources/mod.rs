//! Resources per function: a background sampler of CPU, memory and GPU, attribution of what it
//! samples to the functions and stages running at the time, and the run summary.
//!
//! The run lifecycle calls [`Sampler::start`] when the run starts and [`Sampler::stop`] when it
//! ends; the [`Resources`](crate::profile::Resources) it returns goes into
//! `Profile::resources`. Nothing here touches the probes' hot path: the probes only publish the
//! innermost site of each thread (`ThreadData::current_site`, one relaxed store on enter and
//! exit), which the sampler reads from its own thread.

mod attribution;
mod gpu;
mod rusage;
mod sampler;
mod timeline;

pub use gpu::{FakeGpuBackend, GpuBackend, GpuReading, NvmlBackend};
pub use rusage::{mark_run_start, run_summary};
pub use sampler::{Peeker, Sampler, SamplerConfig, StageHook, set_stage_hook};
pub use timeline::{MAX_POINTS, Timeline};
