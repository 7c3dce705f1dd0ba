//! A lazy stage's output: [`StageIter`], the iterator a stage returns. Its hot state counts
//! down to the next slow call; everything else is the cold state's (`output_cold`,
//! `output_fold`).

use super::link::StageLink;
use super::output_cold::IterCold;
use super::shared::{cold_or_inert, counted_fold, published};
use super::timing::{EAGER, SEEDS};
use super::{calibrate, recording};
use crate::site::StageSite;
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};

// ---- the output ----------------------------------------------------------------------------

/// A lazy stage's output iterator: forwards to the stage's iterator, counts its records and
/// times some of its `next` calls (see the module docs of `probe::stage`).
///
/// `fold` (and so `for_each`, `count`, `sum`, ...) is forwarded to the stage's iterator, so
/// that a consumer that folds keeps the internal iteration of the whole chain: handing a record
/// to the fold's closure ends a call and the closure's return starts the next one, the same
/// events in the same order as when the consumer calls `next`.
pub struct StageIter<I> {
    pub(super) st: IterHot,
    pub(super) inner: I,
}

/// What a [`StageIter`] touches on every call. Each call reaches the wrapped iterator from one
/// place only, with the slow work before and after it in small out-of-line functions that see
/// only the heap-held [`IterCold`]: the whole chain then inlines into the consumer as it would
/// without the wrapper.
pub(super) struct IterHot {
    /// Calls until the next slow one, this one included.
    pub(super) left: u32,
    /// Publication (with the `alloc` feature only, see the module docs): where the thread
    /// publishes its current stage, this stage's id (0 when not recording), and the stage the
    /// thread is back in after a call.
    pub(super) cur: &'static AtomicU32,
    #[cfg(feature = "alloc")]
    pub(super) id: u32,
    pub(super) back: u32,
    /// None when not recording.
    pub(super) cold: Option<Box<IterCold>>,
}

impl Drop for IterHot {
    fn drop(&mut self) {
        if let Some(c) = self.cold.as_deref_mut() {
            c.finish(self.left);
        }
    }
}

/// Puts the published stage back when the wrapped iterator (or a fold's consumer) panics.
/// Dropped only while unwinding: the normal path forgets it. A timed call or pull left open by
/// the panic is forgotten when its wrapper drops (or at its next slow call, if the panic was
/// caught and the iterator kept).
#[cfg(feature = "alloc")]
pub(super) struct Unwind {
    pub(super) cur: &'static AtomicU32,
    pub(super) back: u32,
}

#[cfg(feature = "alloc")]
impl Drop for Unwind {
    #[cold]
    fn drop(&mut self) {
        self.cur.store(self.back, Relaxed);
    }
}

impl IterHot {
    pub(super) fn new(site: &'static StageSite, link: StageLink) -> IterHot {
        let cur = published();
        if !recording() {
            return IterHot::off(cur);
        }
        // What timing costs, measured before this thread's first timed call.
        calibrate::ensure();
        let id = site.id();
        let rng = SEEDS.fetch_add(0x6D2B_79F5, Relaxed) | 1;
        let every = EAGER.with(|e| e.get()) > 0;
        IterHot::on(IterCold::new(id, cur, link, every, rng))
    }

    /// A recording output with the cold state `cold`, before its first call.
    pub(super) fn on(cold: IterCold) -> IterHot {
        // The recorder's own memory is not the program's.
        #[cfg(feature = "alloc")]
        let _quiet = crate::util::quiet::quiet_here();
        IterHot {
            left: cold.gap,
            #[cfg(feature = "alloc")]
            id: cold.id,
            back: 0,
            cur: cold.cur,
            cold: Some(Box::new(cold)),
        }
    }

    pub(super) fn off(cur: &'static AtomicU32) -> IterHot {
        IterHot {
            left: u32::MAX,
            #[cfg(feature = "alloc")]
            id: 0,
            back: 0,
            cur,
            cold: None,
        }
    }

    /// Start of a call: counts down, and at zero lets the cold state start a slow call.
    #[inline(always)]
    pub(super) fn enter(&mut self) -> Call {
        self.left = self.left.wrapping_sub(1);
        if self.left == 0 {
            self.left = IterCold::before(self.cold.as_deref_mut());
            #[cfg(feature = "alloc")]
            if let Some(c) = self.cold.as_deref() {
                self.cur = c.cur;
                self.back = c.cons;
            }
        }
        #[cfg(feature = "alloc")]
        self.cur.store(self.id, Relaxed);
        Call {
            #[cfg(feature = "alloc")]
            unwind: self.unwind(),
        }
    }

    /// End of a call that returned `item`: a slow call, or a `None`, goes to the cold state.
    #[inline(always)]
    pub(super) fn leave<T>(&mut self, call: Call, item: &Option<T>) {
        #[cfg(feature = "alloc")]
        {
            std::mem::forget(call.unwind);
            self.cur.store(self.back, Relaxed);
        }
        #[cfg(not(feature = "alloc"))]
        let Call {} = call;
        if item.is_none() {
            self.left = IterCold::after(self.cold.as_deref_mut(), self.left);
        } else if self.left == 1
            && let Some(c) = self.cold.as_deref_mut()
        {
            c.end_inline();
        }
    }

    /// The guard that puts the published stage back if the call unwinds. (A timed call left
    /// open is forgotten when the iterator drops, or at its next slow call.)
    #[cfg(feature = "alloc")]
    #[inline(always)]
    pub(super) fn unwind(&self) -> Unwind {
        Unwind {
            cur: self.cur,
            back: self.back,
        }
    }
}

impl<I> StageIter<I> {
    /// Wraps the iterator a lazy stage without iterator inputs returned.
    #[inline]
    pub fn new(site: &'static StageSite, inner: I) -> StageIter<I>
    where
        I: Iterator,
    {
        StageIter {
            st: IterHot::new(site, StageLink(None)),
            inner,
        }
    }

    /// Wraps the iterator a lazy stage returned, its inputs made with `link`.
    #[inline]
    pub fn with_inputs(site: &'static StageSite, link: StageLink, inner: I) -> StageIter<I>
    where
        I: Iterator,
    {
        StageIter {
            st: IterHot::new(site, link),
            inner,
        }
    }

    /// The calibration stage (id 0, see `calibrate`) over `inner`, recording or not, sampled
    /// at most `max_gap` calls apart.
    pub(super) fn calibrating(link: StageLink, inner: I, max_gap: u32) -> StageIter<I> {
        let rng = SEEDS.fetch_add(0x6D2B_79F5, Relaxed) | 1;
        let cold = IterCold {
            max_gap,
            ..IterCold::new(0, published(), link, false, rng)
        };
        StageIter {
            st: IterHot::on(cold),
            inner,
        }
    }

    /// `inner` wrapped as when not recording.
    pub(super) fn off(inner: I) -> StageIter<I> {
        StageIter {
            st: IterHot::off(published()),
            inner,
        }
    }

    /// The wrapped iterator.
    pub fn get_ref(&self) -> &I {
        &self.inner
    }
}

/// A `next` (or `next_back`) call of an output in progress, between [`IterHot::enter`] and
/// [`IterHot::leave`]. The two halves are inlined around a direct call of the inner iterator:
/// a helper taking the inner call as a closure leaves the closure's shim out of line once the
/// chain grows, and the chain stops inlining.
pub(super) struct Call {
    #[cfg(feature = "alloc")]
    pub(super) unwind: Unwind,
}

super::shared::wrapper_iterator! {
    StageIter,
    #[inline]
    fn fold<B, F>(self, init: B, f: F) -> B
    where
        F: FnMut(B, Self::Item) -> B,
    {
        let StageIter { mut st, inner } = self;
        // Not recording, the same loop runs with an inert cold state: one call site of the
        // inner `fold`. A second one (a plain `fold` beside the recording one) makes the
        // compiler copy the whole upstream chain into both, at every stage, and stop inlining.
        let mut inert = None;
        let cur = st.cur;
        let cold = cold_or_inert(&mut st.cold, &mut inert, || IterCold::inert(cur));
        st.left = cold.fold_begin(st.left);
        st.cur = cold.cur;
        st.back = cold.cons;
        // With the `alloc` feature the stage is published while its iterator works, and the
        // consumer's stage while the consumer does.
        #[cfg(feature = "alloc")]
        let (cur, id, back) = (st.cur, st.id, st.back);
        #[cfg(feature = "alloc")]
        cur.store(id, Relaxed);
        #[cfg(feature = "alloc")]
        let unwind = Unwind { cur, back };
        #[cfg(feature = "alloc")]
        let f = {
            let mut consumer = f;
            move |acc, item| {
                cur.store(back, Relaxed);
                let acc = consumer(acc, item);
                cur.store(id, Relaxed);
                acc
            }
        };
        let acc = counted_fold(inner, &mut st.left, cold, init, f);
        #[cfg(feature = "alloc")]
        {
            std::mem::forget(unwind);
            cur.store(back, Relaxed);
        }
        cold.fold_end(st.left);
        st.left = 0;
        acc
    }
}

impl<I: Clone> Clone for StageIter<I> {
    /// A clone is a new activity of the same stage: it starts with fresh per-iterator state.
    fn clone(&self) -> Self {
        let st = match self.st.cold.as_deref() {
            None => IterHot::off(self.st.cur),
            Some(c) => IterHot::on(IterCold {
                done: c.done,
                ..IterCold::new(
                    c.id,
                    c.cur,
                    c.link.clone(),
                    c.every,
                    c.rng.rotate_left(7) | 1,
                )
            }),
        };
        StageIter {
            st,
            inner: self.inner.clone(),
        }
    }
}
