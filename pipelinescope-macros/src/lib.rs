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
mod stage;
mod valid;

use proc_macro::TokenStream;

/// Whether annotations expand into probes in this build.
const ENABLED: bool = cfg!(feature = "enable");

/// Instruments a function, a method, or every method of an `impl` or `trait` block.
///
/// - On a function (free, method, trait default body, `async`, `unsafe`, `extern "C"`): each
///   call is recorded under the function's name.
/// - On `impl Type { .. }` or `impl Trait for Type { .. }`: every method, named
///   `Type::method`; `#[profile(skip)]` on a method leaves it out, `#[profile(name = "..")]`
///   renames it. A `const fn` in the block is left alone.
/// - On `trait Trait { .. }`: every method with a default body, named `Trait::method`.
///
/// Arguments: `name = "..."` (display name; on a block, replaces the type part of the names),
/// `crate = path` (where `pipelinescope` is when the dependency is renamed).
///
/// Without the `enable` feature the arguments and the item are checked, and the item is
/// returned as written.
#[proc_macro_attribute]
pub fn profile(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::profile(attr.into(), item.into(), ENABLED).into()
}

/// Marks a pipeline stage.
#[proc_macro_attribute]
pub fn stage(attr: TokenStream, item: TokenStream) -> TokenStream {
    stage::expand(attr.into(), item.into()).into()
}

/// Starts a profiling run around `fn main`: `pipelinescope::start()` becomes its first
/// statement, and the run finishes when `main` returns. Works on a sync `main` and on an `async`
/// one beside `#[tokio::main]`, in either order. Argument: `crate = path`.
#[proc_macro_attribute]
pub fn main(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::main(attr.into(), item.into(), ENABLED).into()
}
