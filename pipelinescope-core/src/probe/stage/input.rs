//! A lazy stage's iterator inputs: [`StageInput`] counts records in and, while its stage asks
//! through the [`StageLink`], times the pulls from upstream, which are then not charged to the
//! stage.

use super::link::{StageLink, add};
use super::local;
use super::shared::{Announcement, Awaiting, FoldSlow, cold_or_inert, counted_fold, published};
use super::timing::{FLUSH_PULLS, Open};
use crate::clock::raw;
use crate::util::bump;
use std::sync::atomic::Ordering::Relaxed;

/// An iterator input of a stage: counts records in and, while its stage asks (see
/// [`StageLink`]), times the pulls from upstream, which are then not charged to the stage.
/// Like [`StageIter`](super::StageIter), it forwards `fold`.
pub struct StageInput<I> {
    pub(super) st: InputHot,
    pub(super) inner: I,
}

/// A pull of an input in progress, between [`InputHot::enter`] and [`InputHot::leave`]:
/// nothing to carry (the output's `Call` carries its publication).
pub(super) struct InputCall;

/// What a [`StageInput`] touches on every pull (see [`IterHot`] for why it is split).
pub(super) struct InputHot {
    pub(super) left: u32,
    /// None when not recording.
    pub(super) cold: Option<Box<InputCold>>,
}

impl Drop for InputHot {
    fn drop(&mut self) {
        if let Some(c) = self.cold.as_deref_mut() {
            c.finish(self.left);
        }
    }
}

/// The rest of an input's state, touched by slow pulls only.
pub(super) struct InputCold {
    /// The consuming stage's id.
    pub(super) id: u32,
    pub(super) link: StageLink,
    pub(super) gap: u32,
    /// Pulls before the current gap, and those that returned `None`.
    pub(super) pulls: u64,
    pub(super) nones: u64,
    /// Records in already added to the thread's figures.
    pub(super) flushed_in: u64,
    /// The link's epoch this input joined last.
    pub(super) epoch: u32,
    /// A `fold` waits for its consumer to return to open a timed pull.
    pub(super) awaiting: Awaiting,
    /// A slow pull is in progress: its end comes to [`InputCold::end_inline`] (or, for a
    /// `None`, to [`InputCold::after`]); the hot countdown is at 1 meanwhile.
    pub(super) pending: bool,
    /// A timed pull ended in [`InputCold::end_inline`]: its records in are added to the
    /// thread's figures at the next slow pull.
    pub(super) flush_due: bool,
    pub(super) done: bool,
    /// The timed pull in progress.
    pub(super) open: Option<Open>,
    /// The consuming stage, announced on the first pull.
    pub(super) announced: Announcement,
}

impl InputHot {
    pub(super) fn new(link: &StageLink) -> InputHot {
        let Some(l) = link.get() else {
            return InputHot {
                left: u32::MAX,
                cold: None,
            };
        };
        add(&l.live, 1);
        #[cfg(feature = "alloc")]
        let _quiet = crate::util::quiet::quiet_here();
        InputHot {
            left: 1,
            cold: Some(Box::new(InputCold::new(l.id, link.clone()))),
        }
    }

    /// Start of a pull: counts down, and at zero lets the cold state look at the link.
    #[inline(always)]
    pub(super) fn enter(&mut self) -> InputCall {
        self.left = self.left.wrapping_sub(1);
        if self.left == 0 {
            self.left = InputCold::before(self.cold.as_deref_mut());
        }
        InputCall
    }

    /// End of a pull that returned `item`: a timed pull, or a `None`, goes to the cold state.
    #[inline(always)]
    pub(super) fn leave<T>(&mut self, _call: InputCall, item: &Option<T>) {
        if item.is_none() {
            InputCold::after(self.cold.as_deref_mut());
        } else if self.left == 1
            && let Some(c) = self.cold.as_deref_mut()
        {
            // Timed pulls are rare: the hint moves this code out of the loop's straight path.
            // (Measured: `next` 2 points cheaper; the same hint on the output's end measured
            // no better, and worse where the consumer collects.)
            std::hint::cold_path();
            c.end_inline();
        }
    }
}

impl InputCold {
    /// The state of an input of stage `id` before its first pull (a look at the link: `gap` 1).
    pub(super) fn new(id: u32, link: StageLink) -> InputCold {
        InputCold {
            id,
            link,
            gap: 1,
            pulls: 0,
            nones: 0,
            flushed_in: 0,
            epoch: 0,
            awaiting: Awaiting::default(),
            pending: false,
            flush_due: false,
            done: false,
            open: None,
            announced: Announcement::default(),
        }
    }

    /// Publishes the consuming stage (see [`Announcement`]).
    pub(super) fn announce(&mut self) {
        self.announced.start(published(), self.id);
    }

    /// Forgets a timed pull left open by a pull that unwound.
    pub(super) fn forget_stale(&mut self) {
        if let Some(open) = self.open.take() {
            open.abandon();
        }
    }

    /// As [`IterCold::inert`].
    pub(super) fn inert() -> InputCold {
        InputCold {
            gap: u32::MAX,
            ..InputCold::new(0, StageLink(None))
        }
    }

    /// Closes the countdown so far, `left` of it unused: its pulls are counted.
    pub(super) fn take_used(&mut self, left: u32) {
        self.pulls += u64::from(self.gap - left);
        self.gap = 0;
    }

    pub(super) fn none(&mut self) {
        self.nones += 1;
        self.exhausted();
    }

    /// The input returned `None` (or is dropped): its stage stops waiting for it to join.
    pub(super) fn exhausted(&mut self) {
        if !self.done {
            self.done = true;
            if let Some(l) = self.link.get() {
                add(&l.live, u32::MAX);
            }
        }
    }

    /// Closes the gap that just ran out; adds the records in to the thread's figures now and
    /// then (and at every timed pull), so that a live snapshot lags by little.
    pub(super) fn take_gap(&mut self) {
        self.take_used(0);
        if self.pulls - self.flushed_in >= FLUSH_PULLS {
            self.flush(0);
        }
    }

    /// Adds the records in not yet added to the thread's figures.
    pub(super) fn flush(&mut self, left: u32) {
        if self.id == 0 {
            return;
        }
        let got = (self.pulls + u64::from(self.gap - left)) - self.nones;
        if got == self.flushed_in {
            return;
        }
        if let Some(t) = local() {
            // SAFETY: owning thread, no other borrow alive.
            let owner = unsafe { t.owner() };
            bump(&t.slot(owner, self.id).records_in, got - self.flushed_in);
            self.flushed_in = got;
        }
    }

    /// A look at the link: whether the stage is armed (joining its current epoch if so; the
    /// input then looks at every pull). Sets the countdown to the next look.
    pub(super) fn join(&mut self) -> bool {
        let Some(l) = self.link.get() else {
            self.gap = u32::MAX;
            return false;
        };
        if !l.armed.load(Relaxed) {
            self.gap = l.poll.load(Relaxed).max(1);
            return false;
        }
        let e = l.epoch.load(Relaxed);
        if e != self.epoch {
            self.epoch = e;
            add(&l.joined, 1);
        }
        self.gap = 1;
        true
    }

    /// Whether the stage's timed call is open: a pull now is timed.
    pub(super) fn timing(&self) -> bool {
        self.link.get().is_some_and(|l| l.timing.load(Relaxed))
    }

    /// A look at the link as a pull starts: opens a timed pull if the stage's timed call is
    /// open. The countdown to the next look (every pull while the stage is armed).
    #[inline(never)]
    pub(super) fn look(&mut self) -> u32 {
        // Left open by a pull that unwound (the panic was caught and the iterator kept).
        self.forget_stale();
        if self.join() && self.timing() {
            self.open = Open::start_fenced(false);
        }
        self.gap
    }

    /// Start of a slow pull (`next`): the countdown to the next look (`u32::MAX` when not
    /// recording). The pull's end comes to [`InputCold::after`].
    #[inline(never)]
    pub(super) fn before(cold: Option<&mut InputCold>) -> u32 {
        match cold {
            Some(c) => {
                if std::mem::take(&mut c.pending) {
                    // The last slow pull unwound.
                    c.announced.end();
                }
                if std::mem::take(&mut c.flush_due) {
                    c.flush(c.gap);
                }
                c.take_gap();
                c.look();
                // The first pull names the consuming stage to the upstream's first call.
                if c.pulls == 1 {
                    c.announce();
                }
                c.pending = c.open.is_some() || c.announced.is_up();
                if c.pending {
                    c.gap = 1;
                }
                c.gap
            }
            None => u32::MAX,
        }
    }

    /// The end of a slow pull that returned a record, inline in the caller's loop (see
    /// [`IterCold::end_inline`]).
    #[inline(always)]
    pub(super) fn end_inline(&mut self) {
        if !self.pending {
            return;
        }
        self.pending = false;
        self.announced.end();
        if let Some(open) = self.open.take() {
            self.flush_due = true;
            open.finish_now();
        }
    }

    /// A pull returned `None`; a slow one ends here, its records in added at once.
    #[inline(never)]
    pub(super) fn after(cold: Option<&mut InputCold>) {
        let Some(c) = cold else { return };
        let pending = std::mem::take(&mut c.pending);
        c.announced.end();
        c.none();
        if pending && let Some(open) = c.open.take() {
            c.flush(c.gap);
            open.finish(raw());
        }
    }

    /// A record came in at the end of a countdown (`fold`): closes a timed pull, and looks at
    /// the link (a timed pull then starts when the consumer returns). The countdown.
    #[inline(never)]
    pub(super) fn in_before(&mut self) -> u32 {
        self.announced.end();
        let open = self.open.take();
        self.take_gap();
        if let Some(open) = open {
            // The pull's clock readings enclose the input's own bookkeeping: that time counts
            // as upstream time, not as the consuming stage's own.
            self.flush(self.gap);
            crate::clock::order();
            open.finish(raw());
        }
        if self.join() {
            self.awaiting.set(false);
        }
        self.gap
    }

    /// The consumer returned while some wrapper waits for it: if this input does, its timed
    /// pull starts now.
    #[inline(never)]
    pub(super) fn in_after(&mut self) {
        if self.awaiting.take().is_some() && self.timing() {
            self.open = Open::start_fenced(false);
        }
    }

    /// The input was exhausted (`fold`).
    #[inline(never)]
    pub(super) fn fold_end(&mut self, left: u32) {
        self.announced.end();
        if let Some(open) = self.open.take() {
            open.finish(raw());
        }
        // The last pull, which returned `None`.
        self.take_used(left);
        self.pulls += 1;
        self.none();
    }

    pub(super) fn finish(&mut self, left: u32) {
        self.announced.end();
        self.awaiting.take();
        self.forget_stale();
        self.flush(left);
        if self.id != 0
            && let Some(l) = self.link.get()
        {
            l.input_done((self.pulls + u64::from(self.gap - left)) - self.nones);
        }
        self.exhausted();
    }
}

impl FoldSlow for InputCold {
    #[inline(always)]
    fn arrived(&mut self) -> u32 {
        self.in_before()
    }

    #[inline(always)]
    fn returned(&mut self) {
        self.in_after();
    }
}

impl<I> StageInput<I> {
    /// Wraps an iterator input of the stage call that made `link`.
    #[inline]
    pub fn new(link: &StageLink, inner: I) -> StageInput<I>
    where
        I: Iterator,
    {
        StageInput {
            st: InputHot::new(link),
            inner,
        }
    }
}

super::shared::wrapper_iterator! {
    StageInput,
    #[inline]
    fn fold<B, F>(self, init: B, f: F) -> B
    where
        F: FnMut(B, Self::Item) -> B,
    {
        let StageInput { mut st, inner } = self;
        // As in `StageIter::fold`: one call site of the inner `fold`, recording or not.
        let mut inert = None;
        let cold = cold_or_inert(&mut st.cold, &mut inert, InputCold::inert);
        cold.take_used(st.left);
        st.left = cold.look();
        // Before the input's first record, its stage is announced, so that a stage first pulled
        // here learns who pulls it; the first record is then a slow one, which ends that.
        if (st.left == 1 || cold.pulls == 0) && cold.id != 0 {
            cold.announce();
            st.left = 1;
            cold.gap = 1;
        }
        let acc = counted_fold(inner, &mut st.left, cold, init, f);
        cold.fold_end(st.left);
        st.left = 0;
        acc
    }
}

impl<I: Clone> Clone for StageInput<I> {
    /// A clone is another input of the same stage call.
    fn clone(&self) -> Self {
        let link = self
            .st
            .cold
            .as_deref()
            .map_or(StageLink(None), |c| c.link.clone());
        StageInput {
            st: InputHot::new(&link),
            inner: self.inner.clone(),
        }
    }
}
