//! The thread-local handle to the current thread's state: made on first use, registered, and
//! at the thread's exit marked dead, its figures folded into the exited threads' and freed.
//! One handle and one exit path for all three parts of the state (functions, stages,
//! allocations).

use super::registry;
use crate::local::ThreadData;
use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::Ordering::*;

/// Sentinel: this thread is tearing down its thread-locals; record nothing more.
const DEAD: *const ThreadData = std::ptr::dangling();

thread_local! {
    // No destructor, so access is a plain thread-local load.
    static LOCAL: Cell<*const ThreadData> = const { Cell::new(std::ptr::null()) };
    // Registered on first use; marks the thread finished when it exits.
    static EXIT: ExitMarker = const { ExitMarker };
}

struct ExitMarker;

impl Drop for ExitMarker {
    fn drop(&mut self) {
        let p = LOCAL.with(|l| l.replace(DEAD));
        if !p.is_null() && p != DEAD {
            // SAFETY: the registry keeps the thread's `ThreadData` alive until `retire`.
            unsafe { &*p }.finished.store(true, Release);
            registry::retire(p);
        }
    }
}

/// The current thread's state, created on first use; None while the thread is exiting.
#[inline(always)]
pub(crate) fn local() -> Option<&'static ThreadData> {
    local_made().or_else(|| {
        if LOCAL.with(|l| l.get()).is_null() {
            init_local()
        } else {
            None
        }
    })
}

/// The current thread's state when it is made already (None on its first use and while it
/// exits): what the probe's inlined part takes, leaving a thread's first call to the general
/// path.
#[inline(always)]
pub(crate) fn local_made() -> Option<&'static ThreadData> {
    let p = LOCAL.with(|l| l.get());
    if p.is_null() || p == DEAD {
        return None;
    }
    // SAFETY: the registry keeps the thread's `ThreadData` alive until the thread marks its
    // handle dead (at its exit, or the calibration thread when it is done).
    Some(unsafe { &*p })
}

#[cold]
#[inline(never)]
fn init_local() -> Option<&'static ThreadData> {
    // If the exit marker can no longer be registered the thread is tearing down.
    EXIT.try_with(|_| ()).ok()?;
    let name = std::thread::current().name().unwrap_or("").to_string();
    let td = Arc::new(ThreadData::new(name));
    let p = Arc::as_ptr(&td);
    registry::register(td);
    LOCAL.with(|l| l.set(p));
    // SAFETY: just registered; see `local`.
    Some(unsafe { &*p })
}

/// The current thread's state if it has one (never creates it). For the allocation tracker,
/// which must not allocate. The reference is good until the thread exits: never keep it.
#[inline(always)]
pub(crate) fn current_thread() -> Option<&'static ThreadData> {
    let p = LOCAL.try_with(|l| l.get()).ok()?;
    if p.is_null() || p == DEAD {
        None
    } else {
        // SAFETY: as in `local`.
        Some(unsafe { &*p })
    }
}

/// Runs `f` with a state of its own for the current thread that no registry lists: what the
/// calibration's calls record appears nowhere, not even in a snapshot taken while they run.
/// None when the thread has a state already (it must be one made for this).
pub(crate) fn with_private_state<R>(f: impl FnOnce(&ThreadData) -> R) -> Option<R> {
    if !LOCAL.with(|l| l.get()).is_null() {
        return None;
    }
    let name = std::thread::current().name().unwrap_or("").to_string();
    let td = Arc::new(ThreadData::new(name));
    LOCAL.with(|l| l.set(Arc::as_ptr(&td)));
    let r = f(&td);
    // Nothing more is recorded on this thread; the state goes with `td`.
    LOCAL.with(|l| l.set(DEAD));
    drop(td);
    Some(r)
}
