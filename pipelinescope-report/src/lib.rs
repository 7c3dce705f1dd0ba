//! Reports of PipelineScope: everything that reads a [`Profile`](pipelinescope_core::Profile)
//! and turns it into something a person or a tool reads: the self-contained `summary.html`
//! ([`html`]), the projection of a run to a larger data size
//! ([`extrapolate`](mod@extrapolate)), console tables ([`console`]), comparisons ([`diff`]),
//! merged profiles ([`merge`]) and exports ([`export`]).

#![deny(missing_docs)]

pub mod console;
pub mod diff;
pub mod export;
pub mod extrapolate;
pub mod html;
pub mod json;
#[cfg(feature = "tools")]
pub mod load;
pub mod merge;
pub mod probe;
pub mod scaling;

pub use extrapolate::extrapolate;
