//! The bottom layer's small containers and helpers: no state of the profiler, nothing that
//! knows about threads' recorders.

pub mod cpu_clock;
pub mod hist;
#[cfg(feature = "alloc")]
pub mod quiet;
pub mod segvec;

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};

/// Adds to a counter that only the current thread writes: no atomic read-modify-write needed
/// (a relaxed load and store, plain moves on x86).
#[inline(always)]
pub(crate) fn bump(c: &AtomicU64, by: u64) {
    c.store(c.load(Relaxed).wrapping_add(by), Relaxed);
}

/// [`bump`] for a 32-bit counter (`u32::MAX` takes one off).
#[inline(always)]
pub(crate) fn bump32(c: &AtomicU32, by: u32) {
    c.store(c.load(Relaxed).wrapping_add(by), Relaxed);
}
