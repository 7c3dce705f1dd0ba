//! Pausing the allocation tracker on the calling thread: the profiler's own memory (a call
//! path's first node, a histogram's new range, a snapshot) is not the program's.
//!
//! A count per thread in a thread-local without a destructor, so the allocator can read it at
//! any time, thread teardown included, without allocating.

use std::cell::Cell;

thread_local! {
    /// Nesting depth of [`Quiet`] guards on this thread: while non-zero, nothing is counted.
    static QUIET: Cell<u32> = const { Cell::new(0) };
}

/// While alive, the calling thread's allocations are not counted.
pub(crate) struct Quiet {
    /// Not `Send`: the guard must drop on the thread it paused.
    _here: std::marker::PhantomData<*const ()>,
}

impl Drop for Quiet {
    fn drop(&mut self) {
        let _ = QUIET.try_with(|q| q.set(q.get().wrapping_sub(1)));
    }
}

/// Stops counting the calling thread's allocations until the guard drops.
pub(crate) fn quiet_here() -> Quiet {
    let _ = QUIET.try_with(|q| q.set(q.get().wrapping_add(1)));
    Quiet {
        _here: std::marker::PhantomData,
    }
}

/// Whether the calling thread's allocations are paused now.
#[inline(always)]
pub(crate) fn is_quiet() -> bool {
    QUIET.try_with(Cell::get).is_ok_and(|q| q != 0)
}

/// Runs `f` without counting the calling thread's allocations: for the profiler's own work
/// (snapshots, reports) done from inside instrumented code.
pub fn untracked<R>(f: impl FnOnce() -> R) -> R {
    let _q = quiet_here();
    f()
}
