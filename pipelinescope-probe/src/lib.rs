//! PipelineScope's annotations for libraries: `#[profile]` and `#[stage]`, and the probes they
//! expand into, without the run machinery (configuration, reports, resource sampling, the live
//! endpoint) in the library's build.
//!
//! A library depends on this crate under the name `pipelinescope`, so that its annotations read
//! as in any other crate:
//!
//! ```toml
//! [dependencies]
//! pipelinescope = { package = "pipelinescope-probe", version = "0.1" }
//! ```
//!
//! The application that links the library depends on the `pipelinescope` crate itself and turns
//! its `enable` feature on: that turns this crate's `enable` on too (cargo unifies features), the
//! library's annotations become probes, and the application's run reports them with its own.
//! Without `enable` the attributes check their arguments and return the item untouched, and the
//! library's build loads nothing but this crate and the macros.
//!
//! Why a crate of its own: rustc checks a crate's trait impls against those of every crate its
//! dependencies load, so a library that depends on the whole `pipelinescope` graph pays for it
//! in every build, whether or not profiling is on.

#![deny(missing_docs)]

pub use pipelinescope_macros::{profile, stage};

/// What the macros expand to. Not part of the public API.
#[cfg(feature = "enable")]
#[doc(hidden)]
pub use pipelinescope_core::__private;
