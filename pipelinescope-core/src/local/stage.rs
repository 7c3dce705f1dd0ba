//! The stage recorder's part of a thread's state: per-stage figures (atomics only the owning
//! thread writes, read by snapshots from any thread), the records that crossed between stages,
//! and the stack of open timed frames whose own time is their span less the timed frames
//! nested in them (upstream pulls, nested stage calls).

use crate::util::bump;
use crate::util::hist::AtomicHist;
use crate::util::segvec::SegVec;
use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::*};

/// Figures of one stage on one thread.
pub(crate) struct StageSlot {
    pub(crate) invocations: AtomicU64,
    pub(crate) records_in: AtomicU64,
    pub(crate) records_out: AtomicU64,
    /// `next` calls of the stage's iterators, and how many of them were sampled.
    pub(crate) calls: AtomicU64,
    pub(crate) timed_calls: AtomicU64,
    /// The calls the sampled ones stand for, and their own and upstream time weighted by that
    /// (see `probe::stage`).
    pub(crate) sampled_weight: AtomicU64,
    pub(crate) own_weighted: AtomicU64,
    pub(crate) upstream_weighted: AtomicU64,
    /// `next` calls timed and counted as themselves (first calls, stages timed on every call,
    /// outliers): counted in `calls` but not in `timed_calls`; their own and upstream time.
    pub(crate) exact_calls: AtomicU64,
    pub(crate) exact_own_ticks: AtomicU64,
    pub(crate) exact_upstream_ticks: AtomicU64,
    /// Own time of whole calls (eager stages, construction of lazy iterators): always timed.
    pub(crate) call_ticks: AtomicU64,
    /// Active time of the stage's iterators: from the start of each one's first call to the
    /// end of its last (or its drop). What their calls did not take of it is downstream wait.
    pub(crate) active_ticks: AtomicU64,
    /// What timing the iterators' calls cost, inside spans and out (see `calibrate`): in their
    /// active time, but in neither their calls' own time nor their consumer's.
    pub(crate) probe_ticks: AtomicU64,
    pub(crate) first_ticks: AtomicU64,
    pub(crate) first_count: AtomicU64,
    pub(crate) exhausted: AtomicU64,
    pub(crate) dropped: AtomicU64,
    /// Own time per record handed out.
    pub(crate) hist: AtomicHist,
    pub(crate) hist_sum: AtomicU64,
    pub(crate) min_ticks: AtomicU64,
    pub(crate) max_ticks: AtomicU64,
    /// Clock reading of the first invocation on this thread (0: none yet), for ordering.
    pub(crate) first_seen: AtomicU64,
}

impl Default for StageSlot {
    fn default() -> Self {
        StageSlot {
            invocations: AtomicU64::new(0),
            records_in: AtomicU64::new(0),
            records_out: AtomicU64::new(0),
            calls: AtomicU64::new(0),
            timed_calls: AtomicU64::new(0),
            sampled_weight: AtomicU64::new(0),
            own_weighted: AtomicU64::new(0),
            upstream_weighted: AtomicU64::new(0),
            exact_calls: AtomicU64::new(0),
            exact_own_ticks: AtomicU64::new(0),
            exact_upstream_ticks: AtomicU64::new(0),
            call_ticks: AtomicU64::new(0),
            active_ticks: AtomicU64::new(0),
            probe_ticks: AtomicU64::new(0),
            first_ticks: AtomicU64::new(0),
            first_count: AtomicU64::new(0),
            exhausted: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            hist: AtomicHist::default(),
            hist_sum: AtomicU64::new(0),
            min_ticks: AtomicU64::new(u64::MAX),
            max_ticks: AtomicU64::new(0),
            first_seen: AtomicU64::new(0),
        }
    }
}

impl StageSlot {
    /// Counts `n` records of `ticks` own time each.
    #[inline(always)]
    pub(crate) fn record_per_record(&self, ticks: u64, n: u64) {
        if n == 0 {
            return;
        }
        self.hist.record_n(ticks, n);
        bump(&self.hist_sum, ticks.wrapping_mul(n));
        if ticks < self.min_ticks.load(Relaxed) {
            self.min_ticks.store(ticks, Relaxed);
        }
        if ticks > self.max_ticks.load(Relaxed) {
            self.max_ticks.store(ticks, Relaxed);
        }
    }

    /// Counts an invocation at clock reading `now`.
    #[inline(always)]
    pub(crate) fn invoked(&self, now: u64) {
        bump(&self.invocations, 1);
        if self.first_seen.load(Relaxed) == 0 {
            self.first_seen.store(now.max(1), Relaxed);
        }
    }
}

/// Records that crossed from one stage into another on one thread.
#[derive(Default)]
pub(crate) struct EdgeSlot {
    pub(crate) from: AtomicU32,
    pub(crate) to: AtomicU32,
    pub(crate) records: AtomicU64,
}

const MAX_DEPTH: usize = 64;

/// One open timed activity on the thread's stack: a stage's `next` or call, or a pull from
/// upstream.
#[derive(Clone, Copy, Default)]
pub(crate) struct Frame {
    /// Time of nested activity accounted elsewhere (nested stages, upstream pulls).
    pub(crate) child: u64,
    /// How many such nested frames closed inside this one.
    pub(crate) nested: u32,
}

/// What only the owning thread reads and writes.
pub(crate) struct Owner {
    pub(crate) slots: Vec<*const StageSlot>,
    /// `(from, to, slot)` of every edge seen on this thread.
    pub(crate) edges: Vec<(u32, u32, *const EdgeSlot)>,
    pub(crate) frames: [Frame; MAX_DEPTH],
    pub(crate) depth: usize,
    /// Last eager stage that finished at the top level on this thread.
    pub(crate) last_eager: u32,
}

/// Every stage figure one thread recorded.
pub(crate) struct StageThread {
    pub(crate) slots: SegVec<StageSlot>,
    pub(crate) slot_count: AtomicU32,
    pub(crate) edges: SegVec<EdgeSlot>,
    pub(crate) edge_count: AtomicU32,
    owner: UnsafeCell<Owner>,
}

// SAFETY: `owner` is only touched by the thread the `StageThread` belongs to (through its
// `ThreadData`); everything else is atomics and immutable data.
unsafe impl Sync for StageThread {}
// SAFETY: the raw pointers in `owner` point into `slots` and `edges`, which move with it.
unsafe impl Send for StageThread {}

impl StageThread {
    pub(crate) fn new() -> StageThread {
        StageThread {
            slots: SegVec::default(),
            slot_count: AtomicU32::new(0),
            edges: SegVec::default(),
            edge_count: AtomicU32::new(0),
            owner: UnsafeCell::new(Owner {
                slots: Vec::new(),
                edges: Vec::new(),
                frames: [Frame::default(); MAX_DEPTH],
                depth: 0,
                last_eager: 0,
            }),
        }
    }

    #[allow(clippy::mut_from_ref)]
    #[inline(always)]
    // SAFETY (caller): only the owning thread, and never while another `&mut Owner` is alive.
    pub(crate) unsafe fn owner(&self) -> &mut Owner {
        unsafe { &mut *self.owner.get() }
    }

    /// The figures of stage `id` on this thread, made on first use.
    #[inline(always)]
    pub(crate) fn slot(&self, owner: &mut Owner, id: u32) -> &StageSlot {
        let p = match owner.slots.get(id as usize) {
            Some(p) if !p.is_null() => *p,
            _ => self.new_slot(owner, id),
        };
        // SAFETY: slots never move and live as long as `self`.
        unsafe { &*p }
    }

    #[cold]
    #[inline(never)]
    fn new_slot(&self, owner: &mut Owner, id: u32) -> *const StageSlot {
        // The recorder's own memory is not the program's.
        #[cfg(feature = "alloc")]
        let _quiet = crate::util::quiet::quiet_here();
        let i = id as usize;
        if owner.slots.len() <= i {
            owner.slots.resize(i + 1, std::ptr::null());
        }
        if owner.slots[i].is_null() {
            owner.slots[i] = self.slots.get_or_alloc(i);
            let n = self.slot_count.load(Relaxed).max(id + 1);
            self.slot_count.store(n, Release);
        }
        owner.slots[i]
    }

    /// Index of the edge `from -> to` in `owner.edges`, creating it on first use.
    pub(crate) fn edge(&self, owner: &mut Owner, from: u32, to: u32) -> usize {
        if let Some(i) = owner.edges.iter().position(|e| e.0 == from && e.1 == to) {
            return i;
        }
        self.new_edge(owner, from, to)
    }

    #[cold]
    #[inline(never)]
    fn new_edge(&self, owner: &mut Owner, from: u32, to: u32) -> usize {
        // The recorder's own memory is not the program's.
        #[cfg(feature = "alloc")]
        let _quiet = crate::util::quiet::quiet_here();
        let idx = self.edge_count.load(Relaxed);
        let p = self.edges.get_or_alloc(idx as usize);
        // SAFETY: freshly allocated, not yet published through `edge_count`.
        let e = unsafe { &*p };
        e.from.store(from, Relaxed);
        e.to.store(to, Relaxed);
        self.edge_count.store(idx + 1, Release);
        owner.edges.push((from, to, p));
        owner.edges.len() - 1
    }

    /// Opens a timed frame.
    #[inline(always)]
    pub(crate) fn push(&self, owner: &mut Owner) {
        if let Some(f) = owner.frames.get_mut(owner.depth) {
            *f = Frame {
                child: 0,
                nested: 0,
            };
        }
        owner.depth += 1;
    }

    /// Closes the innermost frame, charging `span` to its parent; returns the frame's child time.
    #[inline(always)]
    pub(crate) fn pop(&self, owner: &mut Owner, span: u64) -> u64 {
        self.pop_nested(owner, span).0
    }

    /// As [`StageThread::pop`], with the number of nested frames that closed inside.
    #[inline(always)]
    pub(crate) fn pop_nested(&self, owner: &mut Owner, span: u64) -> (u64, u32) {
        owner.depth = owner.depth.saturating_sub(1);
        let (child, nested) = owner
            .frames
            .get(owner.depth)
            .map_or((0, 0), |f| (f.child, f.nested));
        if let Some(p) = owner
            .depth
            .checked_sub(1)
            .and_then(|d| owner.frames.get_mut(d))
        {
            p.child += span;
            p.nested += 1;
        }
        (child, nested)
    }

    /// Bytes the stage recorder holds on this thread.
    pub(crate) fn bytes(&self) -> usize {
        let mut n = std::mem::size_of::<StageThread>() + self.slots.bytes() + self.edges.bytes();
        for i in 0..self.slot_count.load(Acquire) as usize {
            if let Some(s) = self.slots.get(i) {
                n += s.hist.bytes() - crate::util::hist::EMPTY_BYTES;
            }
        }
        n
    }
}
