//! The registry of every live thread's state, with the figures of the threads that have
//! exited: a thread moves from one to the other under one lock, so a snapshot that reads both
//! under it counts every thread once.

use super::exited::Exited;
use crate::local::ThreadData;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// The live threads' state, and what the exited ones left.
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

fn registry() -> MutexGuard<'static, Registry> {
    // Every change is made whole under the lock: a poisoned one is still consistent.
    REGISTRY.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Adds a new thread's state to the live list.
pub(super) fn register(td: Arc<ThreadData>) {
    registry().live.push(td);
}

/// Every live thread's state.
pub(crate) fn all_threads() -> Vec<Arc<ThreadData>> {
    registry().live.clone()
}

/// Every live thread's state and the figures of the threads that have exited, read at one
/// instant: each thread is in exactly one of the two.
pub(crate) fn registered() -> (Vec<Arc<ThreadData>>, Option<Arc<Exited>>) {
    let r = registry();
    (r.live.clone(), r.exited.clone())
}

/// Folds the exiting thread's figures into the exited threads' and frees its state (at once,
/// or when the last snapshot reading it lets go). The thread records nothing more.
pub(super) fn retire(p: *const ThreadData) {
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
