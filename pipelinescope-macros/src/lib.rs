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
mod func;
mod lines;
mod module;
mod sized;
mod stage;
mod valid;

use proc_macro::TokenStream;

/// Whether annotations expand into probes in this build.
const ENABLED: bool = cfg!(feature = "enable");

/// Instruments a function, a method, every method of an `impl` or `trait` block, or every
/// function of an inline module.
///
/// - On a function (free, method, trait default body, `async`, `unsafe`, `extern "C"`): each
///   call is recorded under the function's name.
/// - On `impl Type { .. }` or `impl Trait for Type { .. }`: every method, named
///   `Type::method`; `#[profile(skip)]` on a method leaves it out, `#[profile(name = "..")]`
///   renames it. A `const fn` in the block is left alone.
/// - On `trait Trait { .. }`: every method with a default body, named `Trait::method`.
/// - On an inline `mod m { .. }`: every function in it, named by its path in the module
///   (`m::f`, `m::Type::method`, `m::Trait::method`, `m::inner::f`), through `impl` and
///   `trait` blocks and nested inline modules. `#[profile(skip)]` on an item inside leaves it
///   (and what it holds) out; `#[profile(...)]` on a function inside sets its own options.
///   `const fn`, bodiless functions, macro invocations and `#[stage]` functions are left
///   alone; `mod m;`, under the attribute or inside the module, is an error (its file is not
///   visible to an attribute).
///
/// Arguments: `name = "..."` (display name; on a block or module, replaces its part of the names),
/// `crate = path` (where `pipelinescope` is when the dependency is renamed), `lines` (also
/// record hits, time and, with the allocation tracker, allocations per source line of the
/// body: `pipelinescope lines` shows them), `size = EXPR` on a sync function or method (the size
/// of each call, evaluated on entry with the parameters in scope: any primitive integer,
/// saturated into `u64`; calls are grouped by size and the report fits how time grows with it).
/// `lines` and `size` are not combined on one function.
///
/// Without the `enable` feature the arguments and the item are checked, and the item is
/// returned as written.
#[proc_macro_attribute]
pub fn profile(attr: TokenStream, item: TokenStream) -> TokenStream {
    let (attr, item) = (attr.into(), item.into());
    if module::is_module(&item) {
        module::profile(attr, item, ENABLED).into()
    } else {
        expand::profile(attr, item, ENABLED).into()
    }
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
