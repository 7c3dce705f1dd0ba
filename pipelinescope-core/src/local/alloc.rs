//! The allocation tracker's part of a thread's state: allocation counters per function and per
//! stage that only the owning thread writes (a relaxed load and store, no atomic
//! read-modify-write), and the running live and peak bytes that give each activation its peak.
//!
//! Peak live bytes per activation (memory_profiler's "increment"): each thread keeps a running
//! `live` count (its allocations minus its frees) and `peak`, the highest `live` since the
//! innermost open frame started. Entering a frame saves the caller's `peak` and the frame's
//! starting `live` in the frame; exiting records `peak - start` for the function (the highest
//! over its activations) and hands the larger peak back to the caller. One compare per
//! allocation.
//!
//! The counters of a site are allocated by the recorder when a frame for that site is entered,
//! outside the allocator; anything the allocator cannot find a counter for goes to site 0
//! ("outside instrumented functions"), which exists from the start.

use crate::util::bump;
use crate::util::quiet::quiet_here;
use crate::util::segvec::SegVec;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};

/// Allocation figures of one site on one thread.
#[derive(Default)]
pub(crate) struct AllocSlot {
    allocations: AtomicU64,
    bytes_allocated: AtomicU64,
    bytes_freed: AtomicU64,
    peak_increment: AtomicU64,
}

/// A thread's allocation counters.
pub(crate) struct ThreadAlloc {
    pub(crate) slots: SegVec<AllocSlot>,
    /// Per stage id; `peak_increment` holds the high-water mark of the stage's own live bytes.
    pub(crate) stage_slots: SegVec<AllocSlot>,
    live: AtomicI64,
    peak: AtomicI64,
    /// The thread's allocations, bytes allocated and bytes freed, whatever runs: the line
    /// profiler charges their growth to the line that runs.
    pub(crate) totals: [AtomicU64; 3],
}

impl AllocSlot {
    /// `[allocations, bytes allocated, bytes freed, peak]`.
    pub(crate) fn figures(&self) -> [u64; 4] {
        [
            self.allocations.load(Relaxed),
            self.bytes_allocated.load(Relaxed),
            self.bytes_freed.load(Relaxed),
            self.peak_increment.load(Relaxed),
        ]
    }
}

/// What a frame saves on entry to compute its peak on exit.
#[derive(Clone, Copy)]
pub(crate) struct FrameMark {
    start: i64,
    outer_peak: i64,
}

impl ThreadAlloc {
    pub(crate) fn new() -> ThreadAlloc {
        let t = ThreadAlloc {
            slots: SegVec::default(),
            stage_slots: SegVec::default(),
            live: AtomicI64::new(0),
            peak: AtomicI64::new(0),
            totals: Default::default(),
        };
        // Site 0 always exists, so the allocator always has somewhere to count.
        let _ = t.slots.get_or_alloc(0);
        t
    }

    #[cold]
    #[inline(never)]
    fn grow(&self, site: u32) {
        let _q = quiet_here();
        let _ = self.slots.get_or_alloc(site as usize);
    }

    /// A frame for `site` opens (owning thread, outside the allocator).
    #[inline(always)]
    pub(crate) fn enter(&self, site: u32) -> FrameMark {
        if self.slots.get(site as usize).is_none() {
            self.grow(site);
        }
        let live = self.live.load(Relaxed);
        let mark = FrameMark {
            start: live,
            outer_peak: self.peak.load(Relaxed),
        };
        self.peak.store(live, Relaxed);
        mark
    }

    /// The frame of `site` opened with `mark` closes.
    #[inline(always)]
    pub(crate) fn exit(&self, site: u32, mark: FrameMark) {
        let peak = self.peak.load(Relaxed);
        let inc = peak.saturating_sub(mark.start).max(0) as u64;
        if let Some(s) = self.slots.get(site as usize)
            && inc > s.peak_increment.load(Relaxed)
        {
            s.peak_increment.store(inc, Relaxed);
        }
        self.peak.store(peak.max(mark.outer_peak), Relaxed);
    }

    #[inline(always)]
    fn slot(&self, site: u32) -> Option<&AllocSlot> {
        match self.slots.get(site as usize) {
            Some(s) => Some(s),
            None => self.slots.get(0),
        }
    }

    /// The slot of stage `stage`, created on first use with counting paused (its allocation
    /// goes to the wrapped allocator uncounted).
    #[inline(always)]
    fn stage_slot(&self, stage: u32) -> Option<&AllocSlot> {
        if stage == 0 {
            return None;
        }
        match self.stage_slots.get(stage as usize) {
            Some(s) => Some(s),
            None => self.grow_stage(stage),
        }
    }

    #[cold]
    #[inline(never)]
    fn grow_stage(&self, stage: u32) -> Option<&AllocSlot> {
        let _q = quiet_here();
        let _ = self.stage_slots.get_or_alloc(stage as usize);
        self.stage_slots.get(stage as usize)
    }

    #[inline(always)]
    pub(crate) fn on_alloc(&self, site: u32, stage: u32, size: usize) {
        bump(&self.totals[0], 1);
        bump(&self.totals[1], size as u64);
        if let Some(s) = self.slot(site) {
            bump(&s.allocations, 1);
            bump(&s.bytes_allocated, size as u64);
        }
        if let Some(s) = self.stage_slot(stage) {
            bump(&s.allocations, 1);
            bump(&s.bytes_allocated, size as u64);
            // A stage's activations are its record pulls, too many for a mark each: its peak is
            // the high-water mark of what it allocated and has not freed itself.
            let live = s
                .bytes_allocated
                .load(Relaxed)
                .saturating_sub(s.bytes_freed.load(Relaxed));
            if live > s.peak_increment.load(Relaxed) {
                s.peak_increment.store(live, Relaxed);
            }
        }
        let live = self.live.load(Relaxed).wrapping_add(size as i64);
        self.live.store(live, Relaxed);
        if live > self.peak.load(Relaxed) {
            self.peak.store(live, Relaxed);
        }
    }

    #[inline(always)]
    pub(crate) fn on_free(&self, site: u32, stage: u32, size: usize) {
        bump(&self.totals[2], size as u64);
        if let Some(s) = self.slot(site) {
            bump(&s.bytes_freed, size as u64);
        }
        if let Some(s) = self.stage_slot(stage) {
            bump(&s.bytes_freed, size as u64);
        }
        self.live
            .store(self.live.load(Relaxed).wrapping_sub(size as i64), Relaxed);
    }
}

impl ThreadAlloc {
    /// [`ThreadAlloc::totals`], read by the owner.
    #[inline(always)]
    pub(crate) fn read_totals(&self) -> [u64; 3] {
        std::array::from_fn(|i| self.totals[i].load(Relaxed))
    }
}
