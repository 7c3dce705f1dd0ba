//! Lazy stages: the iterator a stage returns ([`StageIter`]) and its iterator inputs
//! ([`StageInput`]), tied together by a [`StageLink`].
//!
//! # What a record costs
//!
//! Per record, a wrapper counts down to its next slow call (one decrement and a branch on a field
//! of the wrapper), and after its inner call tests whether the call returned `None` or its
//! countdown is at 1, where a slow call keeps it (`next`), or whether some wrapper waits for the
//! consumer to return (`fold`: one thread-local load). No clock, nothing shared written. Records
//! in and out are not counted one by one: they are the calls the countdowns went through, less
//! the calls that returned `None`, added to the thread's figures at the slow calls and when the
//! wrapper drops.
//!
//! With the `alloc` feature the output also publishes which stage the thread is in on every
//! record (two stores to the thread's `current_stage`), so that the allocation tracker charges
//! each allocation to the stage running. Without it a stage publishes itself only during its
//! slow calls and first pulls, which is enough for a stage to learn, on its first call, which
//! stage pulls it (the pipeline's edges).
//!
//! # What is timed
//!
//! A stage's first call is timed, and so is every call while the stage's own work per call is
//! long next to what timing costs; otherwise calls are sampled so that timing takes about
//! [`TIMING_BUDGET`] of the stage's cycle time (its own call plus the wait for the next one),
//! at random intervals of at most [`MAX_GAP`] calls. A timed call's own time is its span less
//! the pulls from upstream made inside it, which the stage's inputs time while their stage asks
//! them to: the output arms the link, each input looks at it on its next slow pull (every
//! `poll` pulls) and from then on at every pull, and the output times a call once every live
//! input has joined (or after a few tries); the joined inputs time the pulls made while that
//! call is open. What timing adds inside a timed call and inside its timed pulls (the clock
//! readings, the slow paths between them) is measured once per process on this module's own
//! code and taken off (see `calibrate`). A sampled call stands for the calls since the previous
//! timed one: the stage's own time is the exact calls as they were plus the other calls at the
//! weighted mean of the sampled ones, and the per-record histogram holds each sampled record
//! with that weight, so that it counts every record out.
//!
//! Downstream wait is not sampled: an iterator's active time (from the start of its first call
//! to the end of its last) is counted exactly, and whatever its calls did not take of it was
//! spent waiting for the consumer.
//!
//! A slow `next` call that returns a record ends inline in the caller's loop: a clock reading
//! (one instruction where the CPU has a counter, see [`Start::raw_now`]), its frame closed, its
//! stage's announcement taken back. No function is called there: the compiler would then keep
//! every value of the loop safe from the call on every record (the sensor pipeline collected
//! into a `Vec` cost +18% that way, +5% this way). The rest (recording the call, choosing the
//! next one to time) is done by the next call, which is slow for that reason, or when the
//! iterator drops. A call that returns `None` ends out of line.
//!
//! In a `fold`, a call runs from the return of the consumer's closure to the next record handed
//! to it. The decision to time the next call is taken as a record arrives; the clock is read
//! when the consumer returns, by the wrappers counted in `AWAITING`.

use super::{
    EAGER, StageSite, StageSlot, StageThread, bump, calibrate, is_outlier, local, recording,
    timing_gap,
};
use crate::clock::{Start, raw};
use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering::Relaxed};

/// The most calls between two timed calls of a stage, whatever the budget allows: a stage whose
/// work changes is seen changing within this many calls.
pub const MAX_GAP: u32 = 4096;
/// The share of a stage's cycle time that timing it may take (see the module docs).
pub const TIMING_BUDGET: f64 = 0.002;
/// The most pulls an input makes between two looks at whether its stage wants it timed.
const MAX_POLL: u32 = 64;
/// Calls between two looks of an armed output at whether its inputs have all joined: an input
/// that joined times every pull until the output's timed call is over.
const ARMED_CHECK: u32 = 4;
/// Looks at a link that keeps finding an input missing before the output times anyway (an
/// input pulled less than once a call joins late).
const MAX_TRIES: u32 = 2 * MAX_POLL / ARMED_CHECK;

/// Pulls an input makes at most between two additions of its records in to the thread's
/// figures (which a snapshot reads).
const FLUSH_PULLS: u64 = 1 << 16;

thread_local! {
    /// Wrappers on this thread whose `fold` waits for its consumer to return, to start a timed
    /// call or pull there. A fold's closure looks at this (one load) after its consumer
    /// returns: carrying a flag of its own across the consumer costs each wrapper a register
    /// through the whole inlined chain, which measured several times more.
    static AWAITING: Cell<u32> = const { Cell::new(0) };
}

/// Whether some wrapper waits for its consumer to return (see [`AWAITING`]).
#[inline(always)]
fn awaited() -> bool {
    AWAITING.with(Cell::get) != 0
}

fn awaiting_add(by: u32) {
    AWAITING.with(|a| a.set(a.get().wrapping_add(by)));
}

/// A wrapper's wait for its fold's consumer to return, counted in [`AWAITING`] while it lasts,
/// with whether the timed call (or pull) opened then counts exactly. Dropping it ends the wait,
/// so a fold that unwinds leaves no wrapper counted.
#[derive(Default)]
struct Awaiting(Option<bool>);

impl Awaiting {
    fn set(&mut self, exact: bool) {
        if self.0.is_none() {
            awaiting_add(1);
        }
        self.0 = Some(exact);
    }

    fn take(&mut self) -> Option<bool> {
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
struct Announcement(Option<(&'static AtomicU32, u32)>);

impl Announcement {
    /// Publishes `id` at `cur`, unless an announcement is up already.
    fn start(&mut self, cur: &'static AtomicU32, id: u32) {
        if self.0.is_none() {
            self.0 = Some((cur, cur.load(Relaxed)));
            cur.store(id, Relaxed);
        }
    }

    fn end(&mut self) {
        if let Some((cur, prev)) = self.0.take() {
            cur.store(prev, Relaxed);
        }
    }

    fn is_up(&self) -> bool {
        self.0.is_some()
    }
}

/// The slow calls of a wrapper's `fold` (see [`counted_fold`]).
trait FoldSlow {
    /// A record arrived as the countdown ran out: the next countdown.
    fn arrived(&mut self) -> u32;
    /// The consumer returned while some wrapper waits for that (see [`AWAITING`]).
    fn returned(&mut self);
}

/// The cold state a wrapper's `fold` runs with: its own, or, not recording, an inert one made
/// by `inert` in `slot` (so that the same loop runs either way: see [`StageIter::fold`]).
fn cold_or_inert<'a, C>(
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
fn counted_fold<I: Iterator, B, C: FoldSlow>(
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
static NOWHERE: AtomicU32 = AtomicU32::new(0);

/// The thread's published current stage.
fn published() -> &'static AtomicU32 {
    // The thread's stage data first: making it makes the function recorder's data too.
    match local().and(crate::recorder::current_thread()) {
        Some(td) => td.current_stage,
        None => &NOWHERE,
    }
}

// ---- the link between a stage's output and its inputs ----------------------------------------

/// Ties a lazy stage's inputs to its output, so that the output can ask the inputs to time their
/// pulls. The macro makes one per stage call that has iterator inputs.
pub struct StageLink(Option<Arc<Link>>);

struct Link {
    id: u32,
    /// Inputs look at every pull while set (and time those made while `timing`).
    armed: AtomicBool,
    /// Bumped each time the output arms the link; each input joins an epoch once.
    epoch: AtomicU32,
    /// Inputs that joined the current epoch.
    joined: AtomicU32,
    /// Inputs that can still be pulled (made, not yet exhausted or dropped).
    live: AtomicU32,
    /// Pulls between two looks at `armed` by an input that is not timing.
    poll: AtomicU32,
    /// A timed call of the output is open: armed inputs time their pulls while it is.
    timing: AtomicBool,
}

/// Adds to a counter of a link: only the thread using the stage writes it.
fn add(c: &AtomicU32, by: u32) {
    c.store(c.load(Relaxed).wrapping_add(by), Relaxed);
}

impl StageLink {
    /// A link for one call of the stage `site` (inert when not recording).
    pub fn new(site: &'static StageSite) -> StageLink {
        if !recording() {
            return StageLink(None);
        }
        // The recorder's own memory is not the program's.
        #[cfg(feature = "alloc")]
        let _quiet = crate::alloc::quiet_here();
        StageLink::with_id(site.id())
    }

    /// A live link for stage `id`, its first call timed with its pulls.
    fn with_id(id: u32) -> StageLink {
        StageLink(Some(Arc::new(Link {
            id,
            armed: AtomicBool::new(true),
            epoch: AtomicU32::new(1),
            joined: AtomicU32::new(0),
            live: AtomicU32::new(0),
            poll: AtomicU32::new(1),
            timing: AtomicBool::new(false),
        })))
    }

    fn get(&self) -> Option<&Link> {
        self.0.as_deref()
    }

    /// The link of the calibration stage (id 0, see `calibrate`), recording or not.
    pub(super) fn calibrating() -> StageLink {
        StageLink::with_id(0)
    }

    /// A link that is not recording.
    pub(super) fn off() -> StageLink {
        StageLink(None)
    }
}

impl Clone for StageLink {
    fn clone(&self) -> Self {
        #[cfg(feature = "alloc")]
        let _quiet = crate::alloc::quiet_here();
        StageLink(self.0.clone())
    }
}

impl Drop for StageLink {
    fn drop(&mut self) {
        // Freeing the link is the recorder's business too.
        #[cfg(feature = "alloc")]
        let _quiet = crate::alloc::quiet_here();
        self.0.take();
    }
}

// ---- timed calls ----------------------------------------------------------------------------

/// A timed call or pull in progress: its frame on the thread's stack and its start.
struct Open {
    /// The stage data of the thread that opened it. An address rather than a reference: a
    /// frame left open by a caught panic may outlive the thread (see [`Open::abandon`]).
    t: ThreadAddr,
    /// Depth of the thread's frame stack before this frame.
    depth: usize,
    t0: Start,
    /// Counted as itself, never scaled up (first call, every call timed).
    exact: bool,
}

/// The address of a thread's stage data.
#[derive(Clone, Copy)]
struct ThreadAddr(*const StageThread);

// SAFETY: only dereferenced on the thread it belongs to, while that thread's data is alive
// (`Open::finish_nested`), or after checking that it is the current thread's (`Open::abandon`).
unsafe impl Send for ThreadAddr {}
// SAFETY: as above; shared references to it only copy the address.
unsafe impl Sync for ThreadAddr {}

impl Open {
    /// Opens a frame on the current thread (None when the thread's data is gone).
    #[inline(always)]
    fn start(exact: bool) -> Option<Open> {
        let mut open = Open::start_at(Start { raw: 0, counter: 0 }, exact)?;
        open.t0 = Start::now();
        Some(open)
    }

    /// Opens a frame that started at `t0`.
    #[inline(always)]
    fn start_at(t0: Start, exact: bool) -> Option<Open> {
        let t = local()?;
        // SAFETY: owning thread; this borrow ends here.
        let owner = unsafe { t.owner() };
        let depth = owner.depth;
        t.push(owner);
        Some(Open {
            t: ThreadAddr(t),
            depth,
            t0,
            exact,
        })
    }

    /// Closes the frame at `t1`: `(span, child)`, the child being the time of the timed pulls
    /// (and nested stage calls) inside it.
    #[inline(always)]
    fn finish(self, t1: u64) -> (u64, u64) {
        let (span, child, _) = self.finish_nested(t1);
        (span, child)
    }

    /// Closes the frame now, inline (see [`Start::raw_now`]).
    #[inline(always)]
    fn finish_now(self) -> (u64, u64) {
        crate::clock::order();
        let t1 = self.t0.raw_now();
        self.finish(t1)
    }

    /// As [`Open::finish`], with the number of timed frames nested inside.
    #[inline(always)]
    fn finish_nested(self, t1: u64) -> (u64, u64, u32) {
        // SAFETY: a frame is finished in the call (or fold) that opened it, on its thread, whose
        // data lives as long as the thread; one left open across calls by a panic only ever
        // goes to `abandon`.
        let t = unsafe { &*self.t.0 };
        // SAFETY: owning thread, no other borrow alive.
        let owner = unsafe { t.owner() };
        let span = t1.saturating_sub(self.t0.raw);
        // Frames opened inside and left open by a caught panic are dropped with this one.
        owner.depth = self.depth + 1;
        let (child, nested) = t.pop_nested(owner, span);
        (span, child.min(span), nested)
    }

    /// Forgets the frame: what it timed unwound, or the iterator it timed is dropped. The
    /// frames above it belong to calls that unwound; when later frames have closed below it
    /// already (the panic was caught and the stack moved on) the stack is left as it is.
    fn abandon(&self) {
        // Only on the thread that opened it: an iterator kept after a caught panic may have
        // moved to another thread, and the first one may have exited and freed its data.
        // (Compared as addresses, never read: a live thread's data at the same address is this
        // thread's own, which it may touch.)
        match local() {
            Some(t) if std::ptr::eq(t, self.t.0) => {
                // SAFETY: owning thread, no other borrow alive.
                let owner = unsafe { t.owner() };
                owner.depth = owner.depth.min(self.depth);
            }
            _ => {}
        }
    }
}

/// Puts the published stage back when the wrapped iterator (or a fold's consumer) panics.
/// Dropped only while unwinding: the normal path forgets it. A timed call or pull left open by
/// the panic is forgotten when its wrapper drops (or at its next slow call, if the panic was
/// caught and the iterator kept).
#[cfg(feature = "alloc")]
struct Unwind {
    cur: &'static AtomicU32,
    back: u32,
}

#[cfg(feature = "alloc")]
impl Drop for Unwind {
    #[cold]
    fn drop(&mut self) {
        self.cur.store(self.back, Relaxed);
    }
}

// ---- the output ----------------------------------------------------------------------------

/// A lazy stage's output iterator: forwards to the stage's iterator, counts its records and
/// times some of its `next` calls (see the module docs of `stage::lazy`).
///
/// `fold` (and so `for_each`, `count`, `sum`, ...) is forwarded to the stage's iterator, so
/// that a consumer that folds keeps the internal iteration of the whole chain: handing a record
/// to the fold's closure ends a call and the closure's return starts the next one, the same
/// events in the same order as when the consumer calls `next`.
pub struct StageIter<I> {
    st: IterHot,
    inner: I,
}

/// What a [`StageIter`] touches on every call. Each call reaches the wrapped iterator from one
/// place only, with the slow work before and after it in small out-of-line functions that see
/// only the heap-held [`IterCold`]: the whole chain then inlines into the consumer as it would
/// without the wrapper.
struct IterHot {
    /// Calls until the next slow one, this one included.
    left: u32,
    /// Publication (with the `alloc` feature only, see the module docs): where the thread
    /// publishes its current stage, this stage's id (0 when not recording), and the stage the
    /// thread is back in after a call.
    cur: &'static AtomicU32,
    #[cfg(feature = "alloc")]
    id: u32,
    back: u32,
    /// None when not recording.
    cold: Option<Box<IterCold>>,
}

impl Drop for IterHot {
    fn drop(&mut self) {
        if let Some(c) = self.cold.as_deref_mut() {
            c.finish(self.left);
        }
    }
}

/// What the next slow call of an output does.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Next {
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
struct IterCold {
    id: u32,
    /// The countdown the hot `left` started from.
    gap: u32,
    /// The countdown a slow call that is not timed ends with (set as it starts).
    resume: u32,
    /// Calls before the current gap.
    calls: u64,
    /// Calls that returned `None`.
    nones: u64,
    next: Next,
    tries: u32,
    /// Made inside an eager stage: every call is timed.
    every: bool,
    done: bool,
    /// Where the thread publishes its current stage.
    cur: &'static AtomicU32,
    /// The stage published where this iterator is pulled (read on its first call): what the
    /// thread is back in when a call returns, and the stage the records go to.
    cons: u32,
    /// Up during slow calls and a fold's start.
    announced: Announcement,
    link: StageLink,
    rng: u32,
    /// The timed call in progress.
    open: Option<Open>,
    /// Calls and records out already added to the thread's figures.
    flushed_calls: u64,
    flushed_out: u64,
    /// Calls when the last timed call was made, and records out already in the histogram.
    timed_at: u64,
    hist_outs: u64,
    /// Own time of the last sampled record: the records after it are held at this value.
    last_own: Option<u64>,
    /// Clock reading up to which the iterator's active time (from the start of its first call
    /// to the end of its last) is counted; 0 before the first call and once it is exhausted.
    mark: u64,
    /// Ticks per call over the last sampling interval (active time over calls): the cycle
    /// time that sets the next interval.
    cycle: u64,
    /// A `fold` waits for its consumer to return to open a timed call.
    awaiting: Awaiting,
    /// A slow `next` call is in progress: its end comes to [`IterCold::end_inline`] (or, for a
    /// `None`, to [`IterCold::after`]). The hot countdown stays at 1 meanwhile, which is what
    /// the hot path tests after the call.
    pending: bool,
    /// A slow call ended with a record in [`IterCold::end_inline`]: the next call is slow, and
    /// records it first ([`IterCold::catch_up`]).
    ended: bool,
    /// The timed call that ended so, if it was timed.
    closed: Option<Closed>,
    /// Not recording: a `fold`'s stand-in cold state, which records nothing.
    inert: bool,
    /// The most calls between two timed calls ([`MAX_GAP`]; less for the calibration stage,
    /// for more samples in less time).
    max_gap: u32,
}

/// A timed call closed at the end of the wrapped call, to be recorded at the next slow call:
/// its end reading, span, time in timed pulls (and nested stage calls), and how many closed
/// inside it.
struct Closed {
    t1: u64,
    span: u64,
    child: u64,
    nested: u32,
    exact: bool,
}

impl Closed {
    #[inline(always)]
    fn of(open: Open, t1: u64) -> Closed {
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

impl IterHot {
    fn new(site: &'static StageSite, link: StageLink) -> IterHot {
        let cur = published();
        if !recording() {
            return IterHot::off(cur);
        }
        // What timing costs, measured before this thread's first timed call.
        calibrate::ensure();
        let id = site.id();
        let rng = super::SEEDS.fetch_add(0x6D2B_79F5, Relaxed) | 1;
        let every = EAGER.with(|e| e.get()) > 0;
        IterHot::on(IterCold::new(id, cur, link, every, rng))
    }

    /// A recording output with the cold state `cold`, before its first call.
    fn on(cold: IterCold) -> IterHot {
        // The recorder's own memory is not the program's.
        #[cfg(feature = "alloc")]
        let _quiet = crate::alloc::quiet_here();
        IterHot {
            left: cold.gap,
            #[cfg(feature = "alloc")]
            id: cold.id,
            back: 0,
            cur: cold.cur,
            cold: Some(Box::new(cold)),
        }
    }

    fn off(cur: &'static AtomicU32) -> IterHot {
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
    fn enter(&mut self) -> Call {
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
    fn leave<T>(&mut self, call: Call, item: &Option<T>) {
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
    fn unwind(&self) -> Unwind {
        Unwind {
            cur: self.cur,
            back: self.back,
        }
    }
}

impl IterCold {
    /// The state of stage `id` before its first call (timed: `gap` 1).
    fn new(id: u32, cur: &'static AtomicU32, link: StageLink, every: bool, rng: u32) -> IterCold {
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
        }
    }

    /// The cold state a `fold` runs with when not recording: its countdown never runs out in
    /// practice, and records nothing when it does.
    fn inert(cur: &'static AtomicU32) -> IterCold {
        IterCold {
            gap: u32::MAX,
            next: Next::Sample,
            inert: true,
            ..IterCold::new(0, cur, StageLink(None), false, 1)
        }
    }

    /// Closes the countdown so far, `left` of it unused: its calls are counted.
    fn take_used(&mut self, left: u32) {
        self.calls += u64::from(self.gap - left);
        self.gap = 0;
    }

    /// Calls made so far, `left` being the hot countdown.
    fn total(&self, left: u32) -> u64 {
        self.calls + u64::from(self.gap - left)
    }

    /// Closes the gap that just ran out (the current call included).
    fn take_gap(&mut self) {
        self.take_used(0);
    }

    fn set_gap(&mut self, gap: u32) -> u32 {
        self.gap = gap.max(1);
        self.gap
    }

    fn none(&mut self) {
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
    fn active_until(&mut self, s: &StageSlot, now: u64) {
        if self.mark != 0 {
            bump(&s.active_ticks, now.saturating_sub(self.mark));
            self.mark = now;
        }
    }

    /// Forgets a timed call left open by a call that unwound (the panic was caught and the
    /// iterator kept).
    fn forget_stale(&mut self) {
        if let Some(open) = self.open.take() {
            open.abandon();
            self.set_timing(false);
        }
    }

    /// Opens a timed call (`exact`: counted as itself); the armed inputs time their pulls
    /// while it is open.
    fn open_call(&mut self, exact: bool) {
        self.open = Open::start(exact);
        self.set_timing(self.open.is_some());
    }

    fn set_timing(&self, on: bool) {
        if let Some(l) = self.link.get() {
            l.timing.store(on, Relaxed);
        }
    }

    /// Whether every live input has joined the current epoch (or there are none).
    fn ready(&self) -> bool {
        self.link.get().is_none_or(|l| {
            let live = l.live.load(Relaxed);
            live == 0 || (l.armed.load(Relaxed) && l.joined.load(Relaxed) >= live)
        })
    }

    /// Asks the inputs to time their pulls from their next look on.
    fn arm(&mut self) {
        if let Some(l) = self.link.get()
            && !l.armed.load(Relaxed)
        {
            add(&l.epoch, 1);
            l.joined.store(0, Relaxed);
            l.armed.store(true, Relaxed);
        }
    }

    /// After a timed call: when to time the next one. Returns the countdown.
    fn schedule(&mut self) -> u32 {
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
    fn timed_kind(&mut self) -> Option<bool> {
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
    fn settle(&mut self) {
        self.cur = published();
        if self.next == Next::First {
            self.cons = self.cur.load(Relaxed);
        }
    }

    /// Publishes this stage (see [`Announcement`]).
    fn announce(&mut self) {
        self.announced.start(self.cur, self.id);
    }

    /// Start of a slow `next` call: the countdown (`u32::MAX` when not recording; 1 while a
    /// slow call is in progress, so that should it unwind, the next call is slow again).
    #[inline(never)]
    fn before(cold: Option<&mut IterCold>) -> u32 {
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
    fn end_inline(&mut self) {
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
    fn catch_up(&mut self) -> Option<u32> {
        if std::mem::take(&mut self.pending) {
            self.announced.end();
            self.forget_stale();
        }
        self.record_ended(true)
    }

    /// `left`, or the countdown a caught-up call leaves (the hot one is stale then).
    fn caught_up(&mut self, left: u32) -> u32 {
        if self.catch_up().is_some() {
            self.gap
        } else {
            left
        }
    }

    /// Records the slow call [`IterCold::end_inline`] ended, if it ended one, which returned a
    /// record (`some`) or not: the countdown it leaves.
    fn record_ended(&mut self, some: bool) -> Option<u32> {
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
    fn after(cold: Option<&mut IterCold>, left: u32) -> u32 {
        let Some(c) = cold else { return left };
        c.none();
        c.end_inline();
        c.record_ended(false).unwrap_or(left)
    }

    /// Start of a slow `next` call (counted already).
    fn start(&mut self) {
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
    fn untimed_gap(&mut self) -> u32 {
        match self.next {
            Next::Armed => self.set_gap(ARMED_CHECK),
            Next::Sample | Next::Every => self.set_gap(self.resume),
            // Thread data gone: try again later.
            _ => self.set_gap(MAX_GAP),
        }
    }

    /// Records the timed call `open` of a `fold`, ended at `t1`.
    fn close(&mut self, open: Open, t1: u64, some: bool) {
        self.set_timing(false);
        self.record(Closed::of(open, t1), some, true);
    }

    /// Records a closed timed call that returned a record (`some`) or not, made by `next`
    /// or (`fold`) in a fold.
    fn record(&mut self, closed: Closed, some: bool, fold: bool) {
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
            bump(&s.exact_calls, 1);
            bump(&s.exact_own_ticks, own);
            bump(&s.exact_upstream_ticks, child);
        } else {
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
    fn flush(&mut self, t: &'static StageThread, s: &StageSlot, left: u32) {
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
    fn finish(&mut self, left: u32) {
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

    // ---- `fold`: a call runs from the fold's start, or the return of its closure, to the
    // next record handed to the closure.

    /// The fold starts: the countdown. When the first record is a slow one (the stage's first
    /// call among them), the stage is announced until it comes.
    #[inline(never)]
    fn fold_begin(&mut self, left: u32) -> u32 {
        if self.inert {
            return left;
        }
        let left = self.caught_up(left);
        self.forget_stale();
        self.settle();
        let left = self.fold_countdown(left);
        if left == 1 {
            self.announce();
        }
        left
    }

    fn fold_countdown(&mut self, left: u32) -> u32 {
        if self.next == Next::First || (self.next == Next::Every && left == 1) {
            // The countdown now counts the calls that end in a record out.
            self.take_used(left);
            self.open_call(true);
            return self.set_gap(1);
        }
        left
    }

    /// A record out at the end of a countdown, before it is handed on: closes a timed call,
    /// and decides whether the next call is timed (it then starts when the consumer returns).
    /// The countdown.
    #[inline(never)]
    fn out_before(&mut self) -> u32 {
        crate::clock::order();
        let t1 = raw();
        self.take_gap();
        if self.inert {
            return self.set_gap(u32::MAX);
        }
        self.announced.end();
        let exact = if let Some(open) = self.open.take() {
            self.close(open, t1, true);
            let gap = self.schedule();
            if self.next != Next::Every {
                return gap;
            }
            Some(true)
        } else {
            self.timed_kind()
        };
        match exact {
            Some(exact) => {
                self.awaiting.set(exact);
                self.set_gap(1)
            }
            None if self.next == Next::Armed => self.set_gap(ARMED_CHECK),
            None => self.set_gap(MAX_GAP),
        }
    }

    /// The consumer returned while some wrapper waits for it: if this one does, its timed call
    /// starts now.
    #[inline(never)]
    fn out_after(&mut self) {
        if let Some(exact) = self.awaiting.take() {
            self.open_call(exact);
        }
    }

    /// The wrapped iterator is exhausted: the last call returned `None`.
    #[inline(never)]
    fn fold_end(&mut self, left: u32) {
        if self.inert {
            return;
        }
        self.announced.end();
        // The last call, which returned `None`.
        self.take_used(left);
        self.calls += 1;
        self.none();
        if let Some(open) = self.open.take() {
            self.close(open, raw(), false);
        }
    }
}

impl FoldSlow for IterCold {
    #[inline(always)]
    fn arrived(&mut self) -> u32 {
        self.out_before()
    }

    #[inline(always)]
    fn returned(&mut self) {
        self.out_after();
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
        let rng = super::SEEDS.fetch_add(0x6D2B_79F5, Relaxed) | 1;
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
struct Call {
    #[cfg(feature = "alloc")]
    unwind: Unwind,
}

impl<I: Iterator> Iterator for StageIter<I> {
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

impl<I: DoubleEndedIterator> DoubleEndedIterator for StageIter<I> {
    #[inline]
    fn next_back(&mut self) -> Option<I::Item> {
        let call = self.st.enter();
        let item = self.inner.next_back();
        self.st.leave(call, &item);
        item
    }
}

impl<I: ExactSizeIterator> ExactSizeIterator for StageIter<I> {}

impl<I: std::iter::FusedIterator> std::iter::FusedIterator for StageIter<I> {}

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

impl<I: std::fmt::Debug> std::fmt::Debug for StageIter<I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StageIter")
            .field("inner", &self.inner)
            .finish()
    }
}

// ---- the inputs ----------------------------------------------------------------------------

/// An iterator input of a stage: counts records in and, while its stage asks (see
/// [`StageLink`]), times the pulls from upstream, which are then not charged to the stage.
/// Like [`StageIter`], it forwards `fold`.
pub struct StageInput<I> {
    st: InputHot,
    inner: I,
}

/// What a [`StageInput`] touches on every pull (see [`IterHot`] for why it is split).
struct InputHot {
    left: u32,
    /// None when not recording.
    cold: Option<Box<InputCold>>,
}

impl Drop for InputHot {
    fn drop(&mut self) {
        if let Some(c) = self.cold.as_deref_mut() {
            c.finish(self.left);
        }
    }
}

/// The rest of an input's state, touched by slow pulls only.
struct InputCold {
    /// The consuming stage's id.
    id: u32,
    link: StageLink,
    gap: u32,
    /// Pulls before the current gap, and those that returned `None`.
    pulls: u64,
    nones: u64,
    /// Records in already added to the thread's figures.
    flushed_in: u64,
    /// The link's epoch this input joined last.
    epoch: u32,
    /// A `fold` waits for its consumer to return to open a timed pull.
    awaiting: Awaiting,
    /// A slow pull is in progress: its end comes to [`InputCold::end_inline`] (or, for a
    /// `None`, to [`InputCold::after`]); the hot countdown is at 1 meanwhile.
    pending: bool,
    /// A timed pull ended in [`InputCold::end_inline`]: its records in are added to the
    /// thread's figures at the next slow pull.
    flush_due: bool,
    done: bool,
    /// The timed pull in progress.
    open: Option<Open>,
    /// The consuming stage, announced on the first pull.
    announced: Announcement,
}

impl InputHot {
    fn new(link: &StageLink) -> InputHot {
        let Some(l) = link.get() else {
            return InputHot {
                left: u32::MAX,
                cold: None,
            };
        };
        add(&l.live, 1);
        #[cfg(feature = "alloc")]
        let _quiet = crate::alloc::quiet_here();
        InputHot {
            left: 1,
            cold: Some(Box::new(InputCold::new(l.id, link.clone()))),
        }
    }

    /// Start of a pull: counts down, and at zero lets the cold state look at the link.
    #[inline(always)]
    fn enter(&mut self) {
        self.left = self.left.wrapping_sub(1);
        if self.left == 0 {
            self.left = InputCold::before(self.cold.as_deref_mut());
        }
    }

    /// End of a pull that returned `item`: a timed pull, or a `None`, goes to the cold state.
    #[inline(always)]
    fn leave<T>(&mut self, item: &Option<T>) {
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
    fn new(id: u32, link: StageLink) -> InputCold {
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
    fn announce(&mut self) {
        self.announced.start(published(), self.id);
    }

    /// Forgets a timed pull left open by a pull that unwound.
    fn forget_stale(&mut self) {
        if let Some(open) = self.open.take() {
            open.abandon();
        }
    }

    /// As [`IterCold::inert`].
    fn inert() -> InputCold {
        InputCold {
            gap: u32::MAX,
            ..InputCold::new(0, StageLink(None))
        }
    }

    /// Closes the countdown so far, `left` of it unused: its pulls are counted.
    fn take_used(&mut self, left: u32) {
        self.pulls += u64::from(self.gap - left);
        self.gap = 0;
    }

    fn none(&mut self) {
        self.nones += 1;
        self.exhausted();
    }

    /// The input returned `None` (or is dropped): its stage stops waiting for it to join.
    fn exhausted(&mut self) {
        if !self.done {
            self.done = true;
            if let Some(l) = self.link.get() {
                add(&l.live, u32::MAX);
            }
        }
    }

    /// Closes the gap that just ran out; adds the records in to the thread's figures now and
    /// then (and at every timed pull), so that a live snapshot lags by little.
    fn take_gap(&mut self) {
        self.take_used(0);
        if self.pulls - self.flushed_in >= FLUSH_PULLS {
            self.flush(0);
        }
    }

    /// Adds the records in not yet added to the thread's figures.
    fn flush(&mut self, left: u32) {
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
    fn join(&mut self) -> bool {
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
    fn timing(&self) -> bool {
        self.link.get().is_some_and(|l| l.timing.load(Relaxed))
    }

    /// A look at the link as a pull starts: opens a timed pull if the stage's timed call is
    /// open. The countdown to the next look (every pull while the stage is armed).
    #[inline(never)]
    fn look(&mut self) -> u32 {
        // Left open by a pull that unwound (the panic was caught and the iterator kept).
        self.forget_stale();
        if self.join() && self.timing() {
            self.open = Open::start(false);
        }
        self.gap
    }

    /// Start of a slow pull (`next`): the countdown to the next look (`u32::MAX` when not
    /// recording). The pull's end comes to [`InputCold::after`].
    #[inline(never)]
    fn before(cold: Option<&mut InputCold>) -> u32 {
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
    fn end_inline(&mut self) {
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
    fn after(cold: Option<&mut InputCold>) {
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
    fn in_before(&mut self) -> u32 {
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
    fn in_after(&mut self) {
        if self.awaiting.take().is_some() && self.timing() {
            self.open = Open::start(false);
        }
    }

    /// The input was exhausted (`fold`).
    #[inline(never)]
    fn fold_end(&mut self, left: u32) {
        self.announced.end();
        if let Some(open) = self.open.take() {
            open.finish(raw());
        }
        // The last pull, which returned `None`.
        self.take_used(left);
        self.pulls += 1;
        self.none();
    }

    fn finish(&mut self, left: u32) {
        self.announced.end();
        self.awaiting.take();
        self.forget_stale();
        self.flush(left);
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

impl<I: Iterator> Iterator for StageInput<I> {
    type Item = I::Item;

    #[inline(always)]
    fn next(&mut self) -> Option<I::Item> {
        self.st.enter();
        let item = self.inner.next();
        self.st.leave(&item);
        item
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }

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

impl<I: DoubleEndedIterator> DoubleEndedIterator for StageInput<I> {
    #[inline]
    fn next_back(&mut self) -> Option<I::Item> {
        self.st.enter();
        let item = self.inner.next_back();
        self.st.leave(&item);
        item
    }
}

impl<I: ExactSizeIterator> ExactSizeIterator for StageInput<I> {}

impl<I: std::iter::FusedIterator> std::iter::FusedIterator for StageInput<I> {}

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

impl<I: std::fmt::Debug> std::fmt::Debug for StageInput<I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StageInput")
            .field("inner", &self.inner)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::StageKind;
    use std::time::{Duration, Instant};

    static SLOW_OUT: StageSite = StageSite::new("lazy_test_slow_out", "t", "f", 1, StageKind::Lazy);
    static SLOW_IN: StageSite = StageSite::new("lazy_test_slow_in", "t", "f", 2, StageKind::Lazy);

    fn spin(d: Duration) {
        let start = Instant::now();
        while start.elapsed() < d {
            std::hint::spin_loop();
        }
    }

    fn awaiting() -> u32 {
        AWAITING.with(Cell::get)
    }

    /// A stage slow enough to be timed on every call (60 us a record) waits for its consumer on
    /// every record, and so does its input; a consumer that panics leaves no wrapper counted as
    /// waiting, or every fold on the thread would take its slow path from then on.
    #[test]
    fn a_panicking_consumer_leaves_no_wrapper_waiting() {
        std::thread::spawn(|| {
            let r = std::panic::catch_unwind(|| {
                let link = StageLink::new(&SLOW_OUT);
                let input = StageInput::new(&link, 0..100u32);
                let out = StageIter::with_inputs(
                    &SLOW_OUT,
                    link,
                    input.inspect(|_| spin(Duration::from_micros(60))),
                );
                out.for_each(|x| {
                    assert!(x < 20, "boom");
                });
            });
            assert!(r.is_err());
            assert_eq!(awaiting(), 0);
            // And the thread folds normally afterwards: every record counted.
            let n = StageIter::new(&SLOW_IN, 0..50u32).fold(0, |n, _| n + 1);
            assert_eq!(n, 50);
            assert_eq!(awaiting(), 0);
        })
        .join()
        .unwrap();
    }
}
