//! Reports of a PipelineScope run, all built from a [`pipelinescope_core::Profile`]:
//! the self-contained `summary.html` page ([`html`]) and the projection of a run to a larger
//! data size ([`extrapolate`]).

#![deny(missing_docs)]

pub mod extrapolate;
pub mod html;

pub use extrapolate::extrapolate;
