//! The registry of every live thread's recorder with the figures of the threads that have
//! exited, the thread-local handle to the current one, and the guard the macros expand to.

use super::{ExitKind, Exited, Frame, ThreadData};
use crate::site::Site;
use std::cell::Cell;
use std::sync::atomic::{AtomicU32, Ordering::*};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// The live threads' recorders, and what the exited ones left: a thread moves from one to the
/// other under this lock, so a snapshot that reads both under it counts every thread once.
struct Registry {
    live: Vec<Arc<ThreadData>>,
    /// None until a thread exits. Shared with the snapshots reading it; a thread exiting while
    /// one does folds into a copy.
    exited: Option<Arc<Exited>>,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    live: Vec::new(),
    exited: None,
});
pub(super) static NEXT_INDEX: AtomicU32 = AtomicU32::new(0);

fn registry() -> MutexGuard<'static, Registry> {
    // Every change is made whole under the lock: a poisoned one is still consistent.
    REGISTRY.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Every live thread's recorder.
pub(crate) fn all_threads() -> Vec<Arc<ThreadData>> {
    registry().live.clone()
}

/// Every live thread's recorder and the figures of the threads that have exited, read at one
/// instant: each thread is in exactly one of the two.
pub(crate) fn registered() -> (Vec<Arc<ThreadData>>, Option<Arc<Exited>>) {
    let r = registry();
    (r.live.clone(), r.exited.clone())
}

/// Detaches the current thread from `td` and drops it from the registry: its calls appear
/// nowhere (the calibration thread's).
pub(crate) fn forget_current_thread(td: *const ThreadData) {
    LOCAL.with(|l| l.set(DEAD));
    crate::stage::unpublish();
    let gone = {
        let mut r = registry();
        let i = r.live.iter().position(|t| std::ptr::eq(Arc::as_ptr(t), td));
        i.map(|i| r.live.remove(i))
    };
    // Freed outside the lock (or when the last snapshot reading it lets go).
    drop(gone);
}

/// Folds the exiting thread's figures into the exited threads' and frees its recorder (at
/// once, or when the last snapshot reading it lets go). The thread records nothing more.
fn retire(p: *const ThreadData) {
    // SAFETY: the registry holds `p` until the removal below, and only this thread removes it.
    let folded = Exited::of(unsafe { &*p });
    let gone = {
        let mut r = registry();
        let Some(i) = r.live.iter().position(|t| std::ptr::eq(Arc::as_ptr(t), p)) else {
            return;
        };
        match &mut r.exited {
            Some(e) => Arc::make_mut(e).absorb(&folded),
            None => r.exited = Some(Arc::new(folded)),
        }
        r.live.remove(i)
    };
    // Outside the lock: freeing a large recorder takes a while.
    drop(gone);
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
            // SAFETY: the registry keeps the thread's `ThreadData` alive until `retire`.
            unsafe { &*p }.finished.store(true, Release);
            // The stage cell goes back for reuse with the data: publish nothing more there.
            crate::stage::unpublish();
            retire(p);
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
    registry().live.push(td);
    LOCAL.with(|l| l.set(p));
    // SAFETY: just registered; see `local`.
    Some(unsafe { &*p })
}

/// The current thread's recorder if it has one (never creates it). For the allocation tracker,
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

/// The stage (`crate::stage`) whose code runs on the calling thread now, as published for
/// samplers: 0 when none, or when the thread has not run instrumented code.
pub fn current_stage() -> u32 {
    current_thread().map_or(0, |t| t.current_stage.load(Relaxed))
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
