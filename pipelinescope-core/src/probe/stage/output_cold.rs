//! The cold state of a lazy stage's output, touched by slow calls only: which call is timed
//! next (the timing policy's schedule), the timed call in progress, and the recording of a
//! closed one into the thread's stage figures.

use super::calibrate;
use super::invocation::InvocationOwn;
use super::link::{StageLink, add};
use super::local;
use super::shared::{Announcement, Awaiting, published};
use super::timing::{ARMED_CHECK, MAX_GAP, MAX_POLL, MAX_TRIES, Open, is_outlier, timing_gap};
use crate::clock::raw;
use crate::local::stage::{StageSlot, StageThread};
use crate::util::bump;
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};

/// What the next slow call of an output does.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Next {
    /// The first call: timed, exactly.
    First,
    /// Every call is timed exactly (made inside an eager stage, or slow enough).
    Every,
    /// Time is up for a sample: arm the inputs (or time now when there are none).
    Sample,
    /// The inputs were armed: time the call once they have all joined.
    Armed,
}

/// The rest of an output's state, touched by slow calls only.
pub(super) struct IterCold {
    pub(super) id: u32,
    /// The countdown the hot `left` started from.
    pub(super) gap: u32,
    /// The countdown a slow call that is not timed ends with (set as it starts).
    pub(super) resume: u32,
    /// Calls before the current gap.
    pub(super) calls: u64,
    /// Calls that returned `None`.
    pub(super) nones: u64,
    pub(super) next: Next,
    pub(super) tries: u32,
    /// Made inside an eager stage: every call is timed.
    pub(super) every: bool,
    pub(super) done: bool,
    /// Where the thread publishes its current stage.
    pub(super) cur: &'static AtomicU32,
    /// The stage published where this iterator is pulled (read on its first call): what the
    /// thread is back in when a call returns, and the stage the records go to.
    pub(super) cons: u32,
    /// Up during slow calls and a fold's start.
    pub(super) announced: Announcement,
    pub(super) link: StageLink,
    pub(super) rng: u32,
    /// The timed call in progress.
    pub(super) open: Option<Open>,
    /// Calls and records out already added to the thread's figures.
    pub(super) flushed_calls: u64,
    pub(super) flushed_out: u64,
    /// Calls when the last timed call was made, and records out already in the histogram.
    pub(super) timed_at: u64,
    pub(super) hist_outs: u64,
    /// Own time of the last sampled record: the records after it are held at this value.
    pub(super) last_own: Option<u64>,
    /// Clock reading up to which the iterator's active time (from the start of its first call
    /// to the end of its last) is counted; 0 before the first call and once it is exhausted.
    pub(super) mark: u64,
    /// Ticks per call over the last sampling interval (active time over calls): the cycle
    /// time that sets the next interval.
    pub(super) cycle: u64,
    /// A `fold` waits for its consumer to return to open a timed call.
    pub(super) awaiting: Awaiting,
    /// A slow `next` call is in progress: its end comes to [`IterCold::end_inline`] (or, for a
    /// `None`, to [`IterCold::after`]). The hot countdown stays at 1 meanwhile, which is what
    /// the hot path tests after the call.
    pub(super) pending: bool,
    /// A slow call ended with a record in [`IterCold::end_inline`]: the next call is slow, and
    /// records it first ([`IterCold::catch_up`]).
    pub(super) ended: bool,
    /// The timed call that ended so, if it was timed.
    pub(super) closed: Option<Closed>,
    /// Not recording: a `fold`'s stand-in cold state, which records nothing.
    pub(super) inert: bool,
    /// The most calls between two timed calls ([`MAX_GAP`]; less for the calibration stage,
    /// for more samples in less time).
    pub(super) max_gap: u32,
    /// This invocation's own time, for its size class.
    pub(super) inv: InvocationOwn,
}

/// A timed call closed at the end of the wrapped call, to be recorded at the next slow call:
/// its end reading, span, time in timed pulls (and nested stage calls), and how many closed
/// inside it.
pub(super) struct Closed {
    pub(super) t1: u64,
    pub(super) span: u64,
    pub(super) child: u64,
    pub(super) nested: u32,
    pub(super) exact: bool,
}

impl Closed {
    #[inline(always)]
    pub(super) fn of(open: Open, t1: u64) -> Closed {
        let exact = open.exact;
        let (span, child, nested) = open.finish_nested(t1);
        Closed {
            t1,
            span,
            child,
            nested,
            exact,
        }
    }
}

impl IterCold {
    /// The state of stage `id` before its first call (timed: `gap` 1).
    pub(super) fn new(
        id: u32,
        cur: &'static AtomicU32,
        link: StageLink,
        every: bool,
        rng: u32,
    ) -> IterCold {
        IterCold {
            id,
            gap: 1,
            resume: 1,
            calls: 0,
            nones: 0,
            next: Next::First,
            tries: 0,
            every,
            done: false,
            cur,
            cons: 0,
            announced: Announcement::default(),
            link,
            rng,
            open: None,
            flushed_calls: 0,
            flushed_out: 0,
            timed_at: 0,
            hist_outs: 0,
            last_own: None,
            mark: 0,
            cycle: 0,
            awaiting: Awaiting::default(),
            pending: false,
            ended: false,
            closed: None,
            inert: false,
            max_gap: MAX_GAP,
            inv: InvocationOwn::default(),
        }
    }

    /// The cold state a `fold` runs with when not recording: its countdown never runs out in
    /// practice, and records nothing when it does.
    pub(super) fn inert(cur: &'static AtomicU32) -> IterCold {
        IterCold {
            gap: u32::MAX,
            next: Next::Sample,
            inert: true,
            ..IterCold::new(0, cur, StageLink(None), false, 1)
        }
    }

    /// Closes the countdown so far, `left` of it unused: its calls are counted.
    pub(super) fn take_used(&mut self, left: u32) {
        self.calls += u64::from(self.gap - left);
        self.gap = 0;
    }

    /// Calls made so far, `left` being the hot countdown.
    pub(super) fn total(&self, left: u32) -> u64 {
        self.calls + u64::from(self.gap - left)
    }

    /// Closes the gap that just ran out (the current call included).
    pub(super) fn take_gap(&mut self) {
        self.take_used(0);
    }

    pub(super) fn set_gap(&mut self, gap: u32) -> u32 {
        self.gap = gap.max(1);
        self.gap
    }

    pub(super) fn none(&mut self) {
        self.nones += 1;
        if !self.done {
            self.done = true;
            // The end of its active time.
            if self.mark != 0
                && let Some(t) = local()
            {
                // SAFETY: owning thread, no other borrow alive.
                let owner = unsafe { t.owner() };
                self.active_until(t.slot(owner, self.id), raw());
            }
            self.mark = 0;
        }
    }

    /// Adds the active time up to `now`: the time from the start of the iterator's first call to
    /// the end of its last, of which whatever its calls did not take is downstream wait.
    pub(super) fn active_until(&mut self, s: &StageSlot, now: u64) {
        if self.mark != 0 {
            bump(&s.active_ticks, now.saturating_sub(self.mark));
            self.mark = now;
        }
    }

    /// Forgets a timed call left open by a call that unwound (the panic was caught and the
    /// iterator kept).
    pub(super) fn forget_stale(&mut self) {
        if let Some(open) = self.open.take() {
            open.abandon();
            self.set_timing(false);
        }
    }

    /// Opens a timed call (`exact`: counted as itself); the armed inputs time their pulls
    /// while it is open.
    pub(super) fn open_call(&mut self, exact: bool) {
        self.open = Open::start(exact);
        self.set_timing(self.open.is_some());
    }

    pub(super) fn set_timing(&self, on: bool) {
        if let Some(l) = self.link.get() {
            l.timing.store(on, Relaxed);
        }
    }

    /// Whether every live input has joined the current epoch (or there are none).
    pub(super) fn ready(&self) -> bool {
        self.link.get().is_none_or(|l| {
            let live = l.live.load(Relaxed);
            live == 0 || (l.armed.load(Relaxed) && l.joined.load(Relaxed) >= live)
        })
    }

    /// Asks the inputs to time their pulls from their next look on.
    pub(super) fn arm(&mut self) {
        if let Some(l) = self.link.get()
            && !l.armed.load(Relaxed)
        {
            add(&l.epoch, 1);
            l.joined.store(0, Relaxed);
            l.armed.store(true, Relaxed);
        }
    }

    /// After a timed call: when to time the next one. Returns the countdown.
    pub(super) fn schedule(&mut self) -> u32 {
        let gap = timing_gap(self.cycle).min(self.max_gap);
        if self.every || gap <= 2 {
            self.next = Next::Every;
            if let Some(l) = self.link.get() {
                l.armed.store(true, Relaxed);
            }
            return self.set_gap(1);
        }
        if let Some(l) = self.link.get() {
            l.armed.store(false, Relaxed);
            l.poll.store((gap / 16).clamp(1, MAX_POLL), Relaxed);
        }
        // Uniform in [gap/2, 3gap/2): a mean of `gap`, and no aliasing with periodic work.
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.rng = x;
        self.next = Next::Sample;
        self.set_gap(gap / 2 + x % gap)
    }

    /// Whether the call starting now is timed, and whether exactly; arms the inputs when a
    /// sample is due and they are not all timing yet.
    pub(super) fn timed_kind(&mut self) -> Option<bool> {
        match self.next {
            Next::First | Next::Every => Some(true),
            Next::Sample => {
                if self.ready() {
                    return Some(false);
                }
                self.arm();
                self.next = Next::Armed;
                self.tries = 0;
                None
            }
            Next::Armed => {
                if self.ready() || self.tries >= MAX_TRIES {
                    return Some(false);
                }
                self.tries += 1;
                None
            }
        }
    }

    /// Where to publish, and (on the first call) what we are pulled for.
    pub(super) fn settle(&mut self) {
        self.cur = published();
        if self.next == Next::First {
            self.cons = self.cur.load(Relaxed);
        }
    }

    /// Publishes this stage (see [`Announcement`]).
    pub(super) fn announce(&mut self) {
        self.announced.start(self.cur, self.id);
    }

    /// Start of a slow `next` call: the countdown (`u32::MAX` when not recording; 1 while a
    /// slow call is in progress, so that should it unwind, the next call is slow again).
    #[inline(never)]
    pub(super) fn before(cold: Option<&mut IterCold>) -> u32 {
        let Some(c) = cold else {
            return u32::MAX;
        };
        if let Some(gap) = c.catch_up() {
            // This call is the first of the next gap.
            c.calls += 1;
            c.gap = 0;
            if gap > 1 {
                return c.set_gap(gap - 1);
            }
        } else {
            c.take_gap();
        }
        c.start();
        c.pending = true;
        1
    }

    /// The end of a slow call that returned a record, inline in the caller's loop: only clock
    /// readings and stores, no call (a call there would make the compiler keep the loop's
    /// values safe from it on every record). The rest is done by the next call, which is slow.
    #[inline(always)]
    pub(super) fn end_inline(&mut self) {
        if !self.pending {
            return;
        }
        self.pending = false;
        self.ended = true;
        if let Some(open) = self.open.take() {
            crate::clock::order();
            let t1 = open.t0.raw_now();
            self.closed = Some(Closed::of(open, t1));
        }
        self.announced.end();
    }

    /// Records the slow call that ended with a record in [`IterCold::end_inline`], if one did:
    /// the countdown it leaves, counting from the call after it. Forgets a slow call that never
    /// ended (it unwound).
    pub(super) fn catch_up(&mut self) -> Option<u32> {
        if std::mem::take(&mut self.pending) {
            self.announced.end();
            self.forget_stale();
        }
        self.record_ended(true)
    }

    /// `left`, or the countdown a caught-up call leaves (the hot one is stale then).
    pub(super) fn caught_up(&mut self, left: u32) -> u32 {
        if self.catch_up().is_some() {
            self.gap
        } else {
            left
        }
    }

    /// Records the slow call [`IterCold::end_inline`] ended, if it ended one, which returned a
    /// record (`some`) or not: the countdown it leaves.
    pub(super) fn record_ended(&mut self, some: bool) -> Option<u32> {
        if !std::mem::take(&mut self.ended) {
            return None;
        }
        Some(match self.closed.take() {
            Some(closed) => {
                self.set_timing(false);
                self.record(closed, some, false);
                self.schedule()
            }
            None => self.untimed_gap(),
        })
    }

    /// A call of the output returned `None`, its countdown at `left`: the countdown. (A slow
    /// one ends here as [`IterCold::end_inline`] ends one that returned a record, and is
    /// recorded at once: there is no record to keep safe from a call.)
    #[inline(never)]
    pub(super) fn after(cold: Option<&mut IterCold>, left: u32) -> u32 {
        let Some(c) = cold else { return left };
        c.none();
        c.end_inline();
        c.record_ended(false).unwrap_or(left)
    }

    /// Start of a slow `next` call (counted already).
    pub(super) fn start(&mut self) {
        self.forget_stale();
        self.settle();
        self.announce();
        if let Some(exact) = self.timed_kind() {
            self.open_call(exact);
        }
        // The hot countdown is at 1 until the call ends: should it unwind, the next call is slow
        // and counts this gap of one.
        self.resume = self.gap.max(1);
        self.gap = 1;
    }

    /// The countdown after a slow call that was not timed.
    pub(super) fn untimed_gap(&mut self) -> u32 {
        match self.next {
            Next::Armed => self.set_gap(ARMED_CHECK),
            Next::Sample | Next::Every => self.set_gap(self.resume),
            // Thread data gone: try again later.
            _ => self.set_gap(MAX_GAP),
        }
    }

    /// Records the timed call `open` of a `fold`, ended at `t1`.
    pub(super) fn close(&mut self, open: Open, t1: u64, some: bool) {
        self.set_timing(false);
        self.record(Closed::of(open, t1), some, true);
    }

    /// Records a closed timed call that returned a record (`some`) or not, made by `next`
    /// or (`fold`) in a fold.
    pub(super) fn record(&mut self, closed: Closed, some: bool, fold: bool) {
        let Closed {
            t1,
            span,
            child,
            nested,
            exact,
        } = closed;
        // The thread recording now: the iterator may have moved to another since the call.
        let Some(t) = local() else { return };
        let first = self.next == Next::First;
        // SAFETY: owning thread, no other borrow alive.
        let owner = unsafe { t.owner() };
        let s = t.slot(owner, self.id);
        // Less what timing itself put inside the span and the pulls' spans (see `calibrate`);
        // the calibration stage (id 0) keeps its calls as they were, for the calibration.
        let (own, child, probe) = if self.id == 0 {
            calibrate::sample(span, child, exact);
            (span - child, child, 0)
        } else {
            let c = calibrate::costs(fold);
            (
                c.own(span, child, nested),
                c.pulls(child, nested),
                c.probe(nested),
            )
        };
        let total = self.calls;
        let weight = total.saturating_sub(self.timed_at).max(1);
        self.timed_at = total;
        // The active time since the last timed call, over the calls in it: the cycle time.
        if first {
            self.mark = t1.saturating_sub(span).max(1);
        }
        let since = self.mark;
        self.active_until(s, t1);
        self.cycle = if first {
            span
        } else {
            t1.saturating_sub(since) / weight
        };
        bump(&s.probe_ticks, probe);
        // (An interrupt inside a timed pull is no more upstream time than one in the call is
        // own time.)
        let sampled = s.sampled_weight.load(Relaxed);
        let outlier = !exact
            && (is_outlier(own, s.own_weighted.load(Relaxed), sampled)
                || is_outlier(child, s.upstream_weighted.load(Relaxed), sampled));
        if exact || outlier {
            self.inv.exact(own);
            bump(&s.exact_calls, 1);
            bump(&s.exact_own_ticks, own);
            bump(&s.exact_upstream_ticks, child);
        } else {
            self.inv.sampled(own, weight);
            bump(&s.timed_calls, 1);
            bump(&s.sampled_weight, weight);
            bump(&s.own_weighted, own.saturating_mul(weight));
            bump(&s.upstream_weighted, child.saturating_mul(weight));
        }
        if some {
            let outs = total - self.nones;
            // An outlier stands for itself; the records before it wait for the next sample.
            let n = if outlier { 1 } else { outs - self.hist_outs };
            s.record_per_record(own, n);
            self.hist_outs += n;
            if !outlier {
                self.last_own = Some(own);
            }
            if first {
                bump(&s.first_ticks, span);
                bump(&s.first_count, 1);
            }
        }
        // The current call is in `calls` already; none of the next gap is.
        self.flush(t, s, self.gap);
    }

    /// Adds the calls and records out not yet added to the thread's figures.
    pub(super) fn flush(&mut self, t: &'static StageThread, s: &StageSlot, left: u32) {
        let total = self.total(left);
        let outs = total - self.nones;
        bump(&s.calls, total - self.flushed_calls);
        let new_out = outs - self.flushed_out;
        bump(&s.records_out, new_out);
        if new_out > 0 && self.cons != 0 && self.id != 0 && self.cons != self.id {
            // SAFETY: owning thread, no other borrow alive.
            let owner = unsafe { t.owner() };
            let e = t.edge(owner, self.id, self.cons);
            // SAFETY: edge slots never move and live as long as the thread's data.
            bump(&unsafe { &*owner.edges[e].2 }.records, new_out);
        }
        self.flushed_calls = total;
        self.flushed_out = outs;
    }

    /// The iterator is dropped, its countdown at `left`.
    pub(super) fn finish(&mut self, left: u32) {
        let left = self.caught_up(left);
        self.announced.end();
        self.awaiting.take();
        self.forget_stale();
        let Some(t) = local() else { return };
        // SAFETY: owning thread, no other borrow alive.
        let owner = unsafe { t.owner() };
        let s = t.slot(owner, self.id);
        self.flush(t, s, left);
        // The records after the last sampled one, at its value: the histogram counts them all.
        let outs = self.total(left) - self.nones;
        let sampled = s.sampled_weight.load(Relaxed);
        let stage_mean =
            (sampled > 0).then(|| s.own_weighted.load(Relaxed) as f64 / sampled as f64);
        let own = self
            .inv
            .estimate(self.total(left), stage_mean, u64::from(self.gap.max(1)));
        match self.link.get() {
            Some(l) => l.output_done(outs, own),
            None => super::invocation::record(self.id, outs, own),
        }
        if let Some(own) = self.last_own
            && outs > self.hist_outs
        {
            s.record_per_record(own, outs - self.hist_outs);
        }
        if self.done {
            bump(&s.exhausted, 1);
        } else {
            bump(&s.dropped, 1);
            // Dropped before the end: it was waiting until now.
            self.active_until(s, raw());
        }
    }
}
