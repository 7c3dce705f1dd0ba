//! Reports of PipelineScope: everything that reads a [`Profile`](pipelinescope_core::Profile)
//! and turns it into something a person or a tool reads (console tables, HTML, diffs, merged
//! profiles, exports).
#![deny(missing_docs)]

pub mod console;
pub mod diff;
pub mod export;
pub mod load;
pub mod merge;
