//! Attribute macros of PipelineScope. Use them through the `pipelinescope` crate.
//!
//! Structure after thiserror-impl: argument parsing (`attr`), checks (`valid`), code generation
//! (`expand`). Every error is a `syn::Error` spanned at the offending tokens; on error the
//! original item is emitted too, so one mistake gives one message.
//!
//! The `enable` feature decides whether items are instrumented; without it they are still parsed
//! and checked, then returned untouched.

#![deny(missing_docs)]

extern crate proc_macro;

mod attr;
mod expand;
mod valid;

use proc_macro::TokenStream;

/// Whether annotations expand into probes in this build.
const ENABLED: bool = cfg!(feature = "enable");

/// Instruments a function, a method, or every method of an `impl` or `trait` block.
#[proc_macro_attribute]
pub fn profile(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::profile(attr.into(), item.into(), ENABLED).into()
}

/// Marks a pipeline stage.
#[proc_macro_attribute]
pub fn stage(attr: TokenStream, item: TokenStream) -> TokenStream {
    let _ = attr;
    item
}

/// Starts a profiling run around `fn main`.
#[proc_macro_attribute]
pub fn main(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::main(attr.into(), item.into(), ENABLED).into()
}
