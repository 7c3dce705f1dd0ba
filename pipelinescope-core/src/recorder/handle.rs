//! The registry of every thread's recorder, the thread-local handle to the current one, and the
//! guard the macros expand to.

use super::{ExitKind, Frame, ThreadData};
use crate::site::Site;
use std::cell::Cell;
use std::sync::atomic::{AtomicU32, Ordering::*};
use std::sync::{Arc, Mutex, PoisonError};

static THREADS: Mutex<Vec<Arc<ThreadData>>> = Mutex::new(Vec::new());
pub(super) static NEXT_INDEX: AtomicU32 = AtomicU32::new(0);

/// Every thread's data recorded so far, live and finished.
pub(crate) fn all_threads() -> Vec<Arc<ThreadData>> {
    THREADS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone()
}

/// Detaches the current thread from `td` and drops it from the registry: its calls appear
/// nowhere (the calibration thread's).
pub(crate) fn forget_current_thread(td: &'static ThreadData) {
    LOCAL.with(|l| l.set(DEAD));
    THREADS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .retain(|t| !std::ptr::eq(Arc::as_ptr(t), td));
}

// ---- the thread-local handle -------------------------------------------------------------

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
            // SAFETY: the registry keeps every `ThreadData` alive.
            unsafe { &*p }.finished.store(true, Release);
        }
    }
}

/// The current thread's recorder, created on first use; None while the thread is exiting.
#[inline(always)]
pub(crate) fn local() -> Option<&'static ThreadData> {
    let p = LOCAL.with(|l| l.get());
    if p.is_null() {
        return init_local();
    }
    if p == DEAD {
        return None;
    }
    // SAFETY: the registry keeps every `ThreadData` alive for the rest of the process, except
    // the calibration thread's, which is dropped only after that thread has stopped using it.
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
    THREADS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(td);
    LOCAL.with(|l| l.set(p));
    // SAFETY: just registered; see `local`.
    Some(unsafe { &*p })
}

/// The current thread's recorder if it has one (never creates it). For samplers and the
/// allocation tracker, which must not allocate.
#[inline(always)]
pub fn current_thread() -> Option<&'static ThreadData> {
    let p = LOCAL.try_with(|l| l.get()).ok()?;
    if p.is_null() || p == DEAD {
        None
    } else {
        // SAFETY: as in `local`.
        Some(unsafe { &*p })
    }
}

// ---- the probes the macros expand to -----------------------------------------------------

/// Closes a sync frame when dropped, on return, `?` and unwinding alike.
#[must_use = "the frame closes when the guard is dropped"]
pub struct Guard {
    open: Option<(&'static ThreadData, Frame)>,
}

/// Opens a frame for `site` on the current thread.
#[inline(always)]
pub fn enter(site: &'static Site) -> Guard {
    if !crate::control::enabled() {
        return Guard { open: None };
    }
    let id = site.id();
    Guard {
        open: local().map(|td| (td, td.enter_as(id, None))),
    }
}

impl Drop for Guard {
    #[inline(always)]
    fn drop(&mut self) {
        if let Some((td, frame)) = &self.open {
            td.exit(frame, ExitKind::Call);
        }
    }
}
