//! Every thread's line figures: the thread-local handle to the current thread's
//! [`ThreadLines`], the list of live threads' and the aggregate that exited threads fold into
//! (per line site, per line: the sums of their cells).
//!
//! Kept beside the function recorder's thread state rather than in it: a thread that never
//! runs a `#[profile(lines)]` function pays nothing for it.

use crate::local::lines::{FIGURES, ThreadLines};
use std::cell::Cell;
use std::sync::atomic::Ordering::*;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

const DEAD: *const ThreadLines = std::ptr::dangling();

thread_local! {
    // No destructor: a plain thread-local load on the hot path.
    static LINES: Cell<*const ThreadLines> = const { Cell::new(std::ptr::null()) };
    // Registered on first use; folds the thread's figures when it exits.
    static EXIT: ExitMarker = const { ExitMarker };
}

/// Per line site (by id), per line: the summed figures of exited threads.
pub(crate) type Totals = Vec<Vec<[u64; FIGURES]>>;

#[derive(Default)]
struct Registry {
    live: Vec<Arc<ThreadLines>>,
    exited: Totals,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    live: Vec::new(),
    exited: Vec::new(),
});

fn registry() -> MutexGuard<'static, Registry> {
    // Pushes, removals and additions only: a panic cannot leave it inconsistent.
    REGISTRY.lock().unwrap_or_else(PoisonError::into_inner)
}

struct ExitMarker;

impl Drop for ExitMarker {
    fn drop(&mut self) {
        let p = LINES.with(|l| l.replace(DEAD));
        if p.is_null() || p == DEAD {
            return;
        }
        #[cfg(feature = "alloc")]
        let _q = crate::util::quiet::quiet_here();
        let mut reg = registry();
        let Some(i) = reg.live.iter().position(|t| Arc::as_ptr(t) == p) else {
            return;
        };
        let t = reg.live.swap_remove(i);
        add_thread(&mut reg.exited, &t);
    }
}

/// Adds one thread's cells into `totals`.
fn add_thread(totals: &mut Totals, t: &ThreadLines) {
    let n = t.len.load(Acquire) as usize;
    if totals.len() < n {
        totals.resize_with(n, Vec::new);
    }
    for (id, site) in totals.iter_mut().enumerate().take(n) {
        let Some(slot) = t.slots.get(id) else {
            continue;
        };
        let cells = slot.cells();
        if site.len() < cells.len() {
            site.resize(cells.len(), [0; FIGURES]);
        }
        for (acc, c) in site.iter_mut().zip(cells) {
            for (a, v) in acc.iter_mut().zip(c.read()) {
                *a = a.wrapping_add(v);
            }
        }
    }
}

/// The current thread's line state, made on first use; None while the thread exits.
#[inline(always)]
pub(crate) fn thread_lines() -> Option<&'static ThreadLines> {
    let p = LINES.try_with(|l| l.get()).ok()?;
    if p.is_null() {
        return init();
    }
    if p == DEAD {
        return None;
    }
    // SAFETY: the registry holds the `Arc` until the exit marker takes it off, after setting
    // the handle to `DEAD`; no frame of this thread is open by then.
    Some(unsafe { &*p })
}

#[cold]
#[inline(never)]
fn init() -> Option<&'static ThreadLines> {
    EXIT.try_with(|_| ()).ok()?;
    #[cfg(feature = "alloc")]
    let _q = crate::util::quiet::quiet_here();
    let t = Arc::new(ThreadLines::default());
    let p = Arc::as_ptr(&t);
    registry().live.push(t);
    LINES.with(|l| l.set(p));
    // SAFETY: just registered; see `thread_lines`.
    Some(unsafe { &*p })
}

/// Every thread's figures summed, per line site and line: the exited threads' and each live
/// thread's, read under the lock that exiting threads fold under, so each counts once.
pub(crate) fn totals() -> Totals {
    let reg = registry();
    let mut out = reg.exited.clone();
    for t in &reg.live {
        add_thread(&mut out, t);
    }
    out
}

/// A counted hold on the current thread's line state (for an `async fn`'s activation, which
/// may outlive the thread); None if the thread has none.
pub(crate) fn hold_thread_lines() -> Option<Arc<ThreadLines>> {
    let p = LINES.try_with(|l| l.get()).ok()?;
    if p.is_null() || p == DEAD {
        return None;
    }
    // SAFETY: `p` came from `Arc::as_ptr` of an `Arc` the registry still holds (the handle is
    // not `DEAD`); one more strong count is taken before making a second `Arc` of it.
    unsafe {
        Arc::increment_strong_count(p);
        Some(Arc::from_raw(p))
    }
}
