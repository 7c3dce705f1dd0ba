//! The line probe of an `async fn` annotated `#[profile(lines)]`: time inside polls only.
//!
//! An `async fn`'s activation lives in its future, which may be suspended at any `.await`,
//! interleaved on one thread with other activations of the same function, and polled on other
//! threads. So its current line and clock reading live in the guard itself ([`AsyncLines`],
//! kept in the future's state), not in the thread's slot, and every `.await` of the body is
//! wrapped ([`lines_await`]): a poll of the awaited future that returns `Pending` charges the
//! time so far to the awaiting line and stops the count, the next poll starts it again. So a line
//! holds the time of its polls (the awaited future's work included), never the time suspended.
//!
//! The cells are those of the thread that started the activation, kept alive by the guard even
//! if that thread exits first; another thread may write them too (an activation that moved, or
//! one started there), so they are added to with atomic read-modify-writes.

use super::lines::{LineSite, MARK_APPLIED_FP, slot_of};
use crate::clock;
use crate::local::lines::{LineCell, ThreadLines};
use crate::threads::lines::hold_thread_lines;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering::*};
use std::task::{Context, Poll};

/// One activation of an `async fn`'s line table.
#[must_use = "the activation closes when the guard is dropped"]
pub struct AsyncLines {
    cells: *const LineCell,
    /// Holds the thread's line state the cells belong to.
    _keep: Option<Arc<ThreadLines>>,
    cur: AtomicU32,
    last: AtomicU64,
    /// Suspended at an `.await`: the time until the next poll is nobody's.
    paused: AtomicBool,
}

// SAFETY: the cells are atomics kept alive by `_keep`; the rest is atomics. A guard shared or
// moved between threads can only mix figures, never touch memory it does not own.
unsafe impl Send for AsyncLines {}
// SAFETY: as for `Send`.
unsafe impl Sync for AsyncLines {}

/// Opens an activation of `site`'s `async fn` (its body's first poll).
pub fn enter_lines_async(site: &'static LineSite) -> AsyncLines {
    let inert = AsyncLines {
        cells: std::ptr::null(),
        _keep: None,
        cur: AtomicU32::new(0),
        last: AtomicU64::new(0),
        paused: AtomicBool::new(false),
    };
    if !crate::control::enabled() {
        return inert;
    }
    let Some((_, cells)) = slot_of(site) else {
        return inert;
    };
    let Some(keep) = hold_thread_lines() else {
        return inert;
    };
    // SAFETY: index 0 always exists.
    unsafe { &*cells }.figures[0].fetch_add(1, Relaxed);
    AsyncLines {
        cells,
        _keep: Some(keep),
        cur: AtomicU32::new(0),
        last: AtomicU64::new(clock::raw()),
        paused: AtomicBool::new(false),
    }
}

impl AsyncLines {
    #[inline]
    fn charge(&self, now: u64) {
        let cur = self.cur.load(Relaxed) as usize;
        // SAFETY: `cur` is an index of this site's table; the cells live as long as `_keep`.
        let cell = unsafe { &*self.cells.add(cur) };
        let last = self.last.swap(now, Relaxed);
        cell.figures[1].fetch_add(now.saturating_sub(last), Relaxed);
    }

    /// A statement starting on line index `line` runs next.
    #[inline]
    pub fn mark(&self, line: u32) {
        if self.cells.is_null() {
            return;
        }
        let now = clock::raw();
        self.charge(now);
        let cur = self.cur.load(Relaxed) as usize;
        // SAFETY: as in `charge`.
        let prev = unsafe { &*self.cells.add(cur) };
        // One mark's cost in each line's interval, taken off at the snapshot.
        prev.figures[2].fetch_add(MARK_APPLIED_FP.load(Relaxed), Relaxed);
        self.cur.store(line, Relaxed);
        // SAFETY: `line` comes from the macro's table for this site.
        unsafe { &*self.cells.add(line as usize) }.figures[0].fetch_add(1, Relaxed);
    }

    fn pause(&self) {
        if !self.cells.is_null() && !self.paused.swap(true, Relaxed) {
            self.charge(clock::raw());
        }
    }

    fn resume(&self) {
        if self.paused.swap(false, Relaxed) {
            self.last.store(clock::raw(), Relaxed);
        }
    }
}

impl Drop for AsyncLines {
    fn drop(&mut self) {
        // A future dropped while suspended (cancelled) has nothing more to charge.
        if !self.cells.is_null() && !*self.paused.get_mut() {
            self.charge(clock::raw());
        }
    }
}

/// An `.await` of an `async fn` annotated `#[profile(lines)]`: counts the polls of `f` on the
/// awaiting line and the time suspended on no line.
pub fn lines_await<F: IntoFuture>(g: &AsyncLines, f: F) -> LinesAwait<'_, F::IntoFuture> {
    LinesAwait {
        g,
        inner: f.into_future(),
    }
}

/// The future of [`lines_await`].
pub struct LinesAwait<'a, F> {
    g: &'a AsyncLines,
    inner: F,
}

impl<F: Future> Future for LinesAwait<'_, F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: `inner` is pinned structurally: never moved out of `self`, dropped in place.
        let this = unsafe { self.get_unchecked_mut() };
        this.g.resume();
        // SAFETY: as above.
        let r = unsafe { Pin::new_unchecked(&mut this.inner) }.poll(cx);
        if r.is_pending() {
            this.g.pause();
        }
        r
    }
}
