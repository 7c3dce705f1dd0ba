//! Per-thread state: what one thread records, and nothing about other threads.
//!
//! [`ThreadData`] holds the three parts of a thread's figures: the function recorder's
//! (`calls`: the call tree, per-site histograms, the sampling state), the stage recorder's
//! (`stage`) and the allocation tracker's (`alloc`, with the `alloc` feature). Every figure is
//! an atomic that only the owning thread writes, with a relaxed load and store, so a snapshot
//! reads them from another thread at any time; the owner's own bookkeeping sits in
//! `UnsafeCell`s no other thread touches. How a thread reaches its state, and what becomes of
//! it when the thread exits, is the `threads` layer's.

#[cfg(feature = "alloc")]
pub(crate) mod alloc;
mod calls;
pub(crate) mod lines;
pub(crate) mod sizes;
mod slots;
pub(crate) mod stage;
mod thread;

pub(crate) use calls::{ExitKind, Frame};
pub use thread::ThreadData;
