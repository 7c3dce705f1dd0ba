//! The probe of an `async fn`: its body's future, timed per poll and from first poll to
//! completion. Polls are always timed (a future is polled a few times, not millions).

use crate::local::{ExitKind, Frame, ThreadData};
use crate::site::{Site, SiteKind};
use crate::threads::local;

/// An `async fn`'s future, timed per poll and from first poll to completion.
pub struct Instrumented<F> {
    inner: F,
    site: &'static Site,
    first_poll: u64,
    done: bool,
}

/// Wraps an `async fn` body's future.
#[inline]
pub fn instrument_future<F: std::future::Future>(site: &'static Site, inner: F) -> Instrumented<F> {
    debug_assert!(site.kind == SiteKind::Async);
    Instrumented {
        inner,
        site,
        first_poll: 0,
        done: false,
    }
}

struct PollGuard {
    td: &'static ThreadData,
    frame: Frame,
    kind: ExitKind,
}

impl Drop for PollGuard {
    #[inline(always)]
    fn drop(&mut self) {
        self.td.exit(&self.frame, self.kind);
    }
}

impl<F: std::future::Future> std::future::Future for Instrumented<F> {
    type Output = F::Output;

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<F::Output> {
        // SAFETY: `inner` is structurally pinned: it is never moved out of `self`, and
        // `Instrumented` has no `Unpin` impl of its own beyond the auto trait.
        let this = unsafe { self.get_unchecked_mut() };
        let inner = unsafe { std::pin::Pin::new_unchecked(&mut this.inner) };
        if this.done || !crate::control::enabled() {
            return inner.poll(cx);
        }
        let Some(td) = local() else {
            return inner.poll(cx);
        };
        if this.first_poll == 0 {
            this.first_poll = crate::clock::raw().max(1);
        }
        let frame = td.enter_as(this.site.id(), Some(true));
        let mut guard = PollGuard {
            td,
            frame,
            kind: ExitKind::Poll,
        };
        let r = inner.poll(cx);
        if r.is_ready() {
            this.done = true;
            guard.kind = ExitKind::PollCompleted {
                wall_ticks: crate::clock::raw().saturating_sub(this.first_poll),
            };
        }
        drop(guard);
        r
    }
}

impl<F> Drop for Instrumented<F> {
    fn drop(&mut self) {
        if !self.done
            && self.first_poll != 0
            && let Some(td) = local()
        {
            td.cancelled(self.site.id());
        }
    }
}
