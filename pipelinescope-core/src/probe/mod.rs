//! The probes: what instrumented code runs. A sync function's [`enter`] and [`Guard`]
//! (`function`), an `async fn`'s future (`future`), the stage wrappers (`stage`), the
//! allocator hook (`alloc_hook`), and the measurement of what the function probe costs
//! (`calibrate`), which runs the probes themselves.

#[cfg(feature = "alloc")]
pub(crate) mod alloc_hook;
pub(crate) mod calibrate;
pub(crate) mod function;
pub(crate) mod future;
pub(crate) mod lines;
pub(crate) mod lines_async;
pub(crate) mod size;
pub(crate) mod stage;
