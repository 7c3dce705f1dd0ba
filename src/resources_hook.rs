//! Starting and stopping the resource sampler with the run.

use crate::config::Settings;
use pipelinescope_core::resources::{Peeker, Sampler, SamplerConfig};

/// The running sampler.
pub struct SamplerHandle(Sampler);

/// Starts the background sampler. It always runs: even with CPU and GPU monitoring off it
/// provides the `getrusage` run summary at the end.
pub fn start(settings: &Settings) -> Option<SamplerHandle> {
    Some(SamplerHandle(Sampler::start(SamplerConfig {
        interval_ms: settings.sample_interval_ms,
        cpu: settings.enable_cpu_monitoring,
        gpu: settings.enable_gpu_monitoring,
        gpu_backend: None,
    })))
}

/// Asks the running sampler for its figures so far.
pub fn peeker(handle: &SamplerHandle) -> Peeker {
    handle.0.peeker()
}

/// Stops the sampler and returns what it measured.
pub fn stop(handle: SamplerHandle) -> crate::Resources {
    handle.0.stop()
}
