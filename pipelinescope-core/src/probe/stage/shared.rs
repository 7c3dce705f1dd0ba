//! What a stage's output and its inputs share: the wait for a fold's consumer to return
//! ([`Awaiting`]), the announcement of a stage to the stages it first pulls
//! ([`Announcement`]), the one fold loop both run ([`counted_fold`]) and where the thread
//! publishes its current stage.

use std::cell::Cell;
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};

thread_local! {
    /// Wrappers on this thread whose `fold` waits for its consumer to return, to start a timed
    /// call or pull there. A fold's closure looks at this (one load) after its consumer
    /// returns: carrying a flag of its own across the consumer costs each wrapper a register
    /// through the whole inlined chain, which measured several times more.
    static AWAITING: Cell<u32> = const { Cell::new(0) };
}

/// Whether some wrapper waits for its consumer to return (see [`AWAITING`]).
#[inline(always)]
pub(super) fn awaited() -> bool {
    AWAITING.with(Cell::get) != 0
}

pub(super) fn awaiting_add(by: u32) {
    AWAITING.with(|a| a.set(a.get().wrapping_add(by)));
}

/// A wrapper's wait for its fold's consumer to return, counted in [`AWAITING`] while it lasts,
/// with whether the timed call (or pull) opened then counts exactly. Dropping it ends the wait,
/// so a fold that unwinds leaves no wrapper counted.
#[derive(Default)]
pub(super) struct Awaiting(Option<bool>);

impl Awaiting {
    pub(super) fn set(&mut self, exact: bool) {
        if self.0.is_none() {
            awaiting_add(1);
        }
        self.0 = Some(exact);
    }

    pub(super) fn take(&mut self) -> Option<bool> {
        let a = self.0.take();
        if a.is_some() {
            awaiting_add(u32::MAX);
        }
        a
    }
}

impl Drop for Awaiting {
    fn drop(&mut self) {
        self.take();
    }
}

/// A stage published for the length of a slow call, a first pull or a fold's start, so that a
/// stage whose first call happens inside it knows who pulls it: the pipeline's edges. (Per
/// record, a stage is published only with the `alloc` feature; see the module docs.) Holds
/// where, and what was there before, to put back.
#[derive(Default)]
pub(super) struct Announcement(Option<(&'static AtomicU32, u32)>);

impl Announcement {
    /// Publishes `id` at `cur`, unless an announcement is up already.
    pub(super) fn start(&mut self, cur: &'static AtomicU32, id: u32) {
        if self.0.is_none() {
            self.0 = Some((cur, cur.load(Relaxed)));
            cur.store(id, Relaxed);
        }
    }

    pub(super) fn end(&mut self) {
        if let Some((cur, prev)) = self.0.take() {
            cur.store(prev, Relaxed);
        }
    }

    pub(super) fn is_up(&self) -> bool {
        self.0.is_some()
    }
}

/// The slow calls of a wrapper's `fold` (see [`counted_fold`]).
pub(super) trait FoldSlow {
    /// A record arrived as the countdown ran out: the next countdown.
    fn arrived(&mut self) -> u32;
    /// The consumer returned while some wrapper waits for that (see [`AWAITING`]).
    fn returned(&mut self);
}

/// The cold state a wrapper's `fold` runs with: its own, or, not recording, an inert one made
/// by `inert` in `slot` (so that the same loop runs either way: see [`StageIter::fold`]).
pub(super) fn cold_or_inert<'a, C>(
    cold: &'a mut Option<Box<C>>,
    slot: &'a mut Option<C>,
    inert: impl FnOnce() -> C,
) -> &'a mut C {
    match cold {
        Some(c) => c,
        None => slot.insert(inert()),
    }
}

/// A wrapper's `fold` loop: the inner iterator's own fold, counting down `left` and making
/// `cold`'s slow calls around `consumer`. `left` is the wrapper's hot countdown, in a local of
/// the calling fold: should the fold unwind, it drops with the records counted so far (a guard
/// writing a register copy back cost more). The only call site of the inner `fold`.
#[inline(always)]
pub(super) fn counted_fold<I: Iterator, B, C: FoldSlow>(
    inner: I,
    left: &mut u32,
    cold: &mut C,
    init: B,
    mut consumer: impl FnMut(B, I::Item) -> B,
) -> B {
    inner.fold(init, |acc, item| {
        *left -= 1;
        // Both slow calls are rare; the hints keep them off the loop's straight path
        // (measured: the fold 1 point cheaper, the u64 chain 0.07 ns per record per stage).
        if *left == 0 {
            std::hint::cold_path();
            *left = cold.arrived();
        }
        let acc = consumer(acc, item);
        if awaited() {
            std::hint::cold_path();
            cold.returned();
        }
        acc
    })
}

/// Where the published stage goes when the thread has no recorder data (it is exiting).
pub(super) static NOWHERE: AtomicU32 = AtomicU32::new(0);

/// The thread's published current stage.
pub(super) fn published() -> &'static AtomicU32 {
    match crate::threads::local() {
        Some(td) => td.current_stage,
        None => &NOWHERE,
    }
}

/// The iterator traits a stage wrapper ([`StageIter`](super::StageIter),
/// [`StageInput`](super::StageInput)) forwards to its inner iterator the same way, with the
/// wrapper's own `fold` given. Each call goes through the hot state's `enter` and `leave`
/// around a direct call of the inner iterator: written out here rather than in a helper taking
/// the inner call as a closure, whose shim stays out of line once the chain grows (and the
/// chain stops inlining).
macro_rules! wrapper_iterator {
    ($wrapper:ident, $($fold:tt)*) => {
        impl<I: Iterator> Iterator for $wrapper<I> {
            type Item = I::Item;

            #[inline(always)]
            fn next(&mut self) -> Option<I::Item> {
                let call = self.st.enter();
                let item = self.inner.next();
                self.st.leave(call, &item);
                item
            }

            #[inline]
            fn size_hint(&self) -> (usize, Option<usize>) {
                self.inner.size_hint()
            }

            $($fold)*
        }

        impl<I: DoubleEndedIterator> DoubleEndedIterator for $wrapper<I> {
            #[inline]
            fn next_back(&mut self) -> Option<I::Item> {
                let call = self.st.enter();
                let item = self.inner.next_back();
                self.st.leave(call, &item);
                item
            }
        }

        impl<I: ExactSizeIterator> ExactSizeIterator for $wrapper<I> {}

        impl<I: std::iter::FusedIterator> std::iter::FusedIterator for $wrapper<I> {}

        impl<I: std::fmt::Debug> std::fmt::Debug for $wrapper<I> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($wrapper))
                    .field("inner", &self.inner)
                    .finish()
            }
        }
    };
}
pub(super) use wrapper_iterator;

/// Wrappers on this thread waiting for their consumer (for tests).
#[cfg(test)]
pub(super) fn awaiting_count() -> u32 {
    AWAITING.with(Cell::get)
}
