//! Every thread's line figures. A thread's [`ThreadLines`] hangs off its `ThreadData`, made on
//! its first line mark (a thread that never runs a `#[profile(lines)]` function holds one empty
//! cell), reached through the one thread-local handle (`handle`), and folded into the exited
//! threads' aggregate with the rest of its figures when the thread exits (`exited`).

use crate::local::ThreadData;
use crate::local::lines::{FIGURES, ThreadLines};
use std::sync::Arc;
use std::sync::atomic::Ordering::*;

/// Per line site (by id), per line: the summed figures of exited threads.
pub(crate) type Totals = Vec<Vec<[u64; FIGURES]>>;

/// Adds one thread's cells into `totals`.
pub(crate) fn add_thread(totals: &mut Totals, t: &ThreadLines) {
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

/// Adds the totals `from` into `into`.
pub(crate) fn add_totals(into: &mut Totals, from: &Totals) {
    if into.len() < from.len() {
        into.resize_with(from.len(), Vec::new);
    }
    for (acc, site) in into.iter_mut().zip(from) {
        if acc.len() < site.len() {
            acc.resize(site.len(), [0; FIGURES]);
        }
        for (a, line) in acc.iter_mut().zip(site) {
            for (x, v) in a.iter_mut().zip(line) {
                *x = x.wrapping_add(*v);
            }
        }
    }
}

/// The current thread's line state, made on first use; None while the thread exits.
#[inline(always)]
pub(crate) fn thread_lines() -> Option<&'static ThreadLines> {
    let td = crate::threads::local()?;
    match td.lines.get() {
        Some(t) => Some(t),
        None => init(td),
    }
}

#[cold]
#[inline(never)]
fn init(td: &'static ThreadData) -> Option<&'static ThreadLines> {
    #[cfg(feature = "alloc")]
    let _q = crate::util::quiet::quiet_here();
    Some(td.lines.get_or_init(|| Arc::new(ThreadLines::default())))
}

/// Every thread's figures summed, per line site and line: the exited threads' and each live
/// thread's, read at one instant of the registry (each thread is in exactly one of the two).
pub(crate) fn totals() -> Totals {
    let (live, exited) = crate::threads::registered();
    let mut out = exited.map(|e| e.lines.clone()).unwrap_or_default();
    for td in &live {
        if let Some(t) = td.lines.get() {
            add_thread(&mut out, t);
        }
    }
    out
}

/// A counted hold on the current thread's line state (for an `async fn`'s activation, which
/// may outlive the thread); None if the thread has none.
pub(crate) fn hold_thread_lines() -> Option<Arc<ThreadLines>> {
    crate::threads::current_thread()?.lines.get().cloned()
}
