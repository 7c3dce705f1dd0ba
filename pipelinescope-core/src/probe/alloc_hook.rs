//! The allocation tracker's hook: [`TrackingAllocator`], a `GlobalAlloc` wrapper.
//!
//! Every allocation, reallocation and free is charged to the innermost instrumented function
//! active on the thread doing it (`ThreadData::current_site`) and to the stage running there,
//! into that thread's counters (`local::alloc`), which only it writes: nothing shared written.
//!
//! Re-entrancy: the allocator runs while the profiler itself allocates (a thread's first
//! segments, a growing list). It never allocates, never touches a thread-local with a
//! destructor, and finds the thread's state with `threads::current_thread`, which never
//! creates one; a thread without state (or one exiting) is not counted. The profiler's own
//! allocations (a new call-tree node, a site's first histogram) are made under a quiet guard
//! (`util::quiet`) and not counted either.

use crate::local::ThreadData;
use crate::threads::current_thread;
use crate::util::quiet::is_quiet;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::Ordering::Relaxed;

/// A `GlobalAlloc` that counts every allocation against the instrumented function running on
/// the allocating thread, then forwards to the wrapped allocator `A` (any allocator: the
/// system's, mimalloc, jemalloc).
///
/// ```
/// use pipelinescope_core::TrackingAllocator;
/// use std::alloc::System;
///
/// #[global_allocator]
/// static ALLOC: TrackingAllocator = TrackingAllocator::new(System);
/// # fn main() {}
/// ```
///
/// Through the facade the type is `pipelinescope::TrackingAllocator` (feature `alloc`).
pub struct TrackingAllocator<A: GlobalAlloc = System> {
    inner: A,
}

impl<A: GlobalAlloc> TrackingAllocator<A> {
    /// Wraps `inner`.
    pub const fn new(inner: A) -> Self {
        TrackingAllocator { inner }
    }

    /// The wrapped allocator.
    pub const fn inner(&self) -> &A {
        &self.inner
    }
}

#[inline(always)]
fn tracked() -> Option<(&'static ThreadData, u32, u32)> {
    let td = current_thread()?;
    if is_quiet() {
        return None;
    }
    Some((
        td,
        td.current_site.load(Relaxed),
        td.current_stage.load(Relaxed),
    ))
}

// SAFETY: every method forwards to `inner` with the caller's arguments unchanged and returns
// its result unchanged; the bookkeeping around it neither allocates nor touches the memory.
unsafe impl<A: GlobalAlloc> GlobalAlloc for TrackingAllocator<A> {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, passed on unchanged.
        let p = unsafe { self.inner.alloc(layout) };
        if !p.is_null()
            && let Some((td, site, stage)) = tracked()
        {
            td.alloc.on_alloc(site, stage, layout.size());
        }
        p
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as in `alloc`.
        let p = unsafe { self.inner.alloc_zeroed(layout) };
        if !p.is_null()
            && let Some((td, site, stage)) = tracked()
        {
            td.alloc.on_alloc(site, stage, layout.size());
        }
        p
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as in `alloc`.
        unsafe { self.inner.dealloc(ptr, layout) };
        if let Some((td, site, stage)) = tracked() {
            td.alloc.on_free(site, stage, layout.size());
        }
    }

    /// Counted as one allocation of `new_size` and a free of the old size.
    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as in `alloc`.
        let p = unsafe { self.inner.realloc(ptr, layout, new_size) };
        if !p.is_null()
            && let Some((td, site, stage)) = tracked()
        {
            td.alloc.on_free(site, stage, layout.size());
            td.alloc.on_alloc(site, stage, new_size);
        }
        p
    }
}
