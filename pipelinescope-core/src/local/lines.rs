//! One thread's part of the line profiler (`#[profile(lines)]`): per annotated function, a
//! slot holding the line being run now, the clock reading it started at, and one cell of
//! figures per source line of the function.
//!
//! Only the owning thread writes a slot (relaxed loads and stores, plain moves on x86), so a
//! snapshot reads the cells from another thread at any time, as it reads the function
//! recorder's figures. A slot's cells are allocated once, the first time the thread runs the
//! function; nothing is allocated per call.

use crate::util::bump;
use crate::util::segvec::SegVec;
use std::sync::atomic::{AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering::*};

/// Figures in a line's cell, in this order: hits, ticks, the function probes' cost that ran
/// during the line (fixed-point ticks), then (with the allocation tracker) allocations, bytes
/// allocated, bytes freed.
pub(crate) const FIGURES: usize = 6;

/// Figures of one line on one thread.
#[derive(Default)]
pub(crate) struct LineCell {
    pub(crate) figures: [AtomicU64; FIGURES],
}

impl LineCell {
    pub(crate) fn read(&self) -> [u64; FIGURES] {
        std::array::from_fn(|i| self.figures[i].load(Relaxed))
    }
}

/// One function's line figures on one thread, and where its innermost activation is.
#[derive(Default)]
pub(crate) struct LineSlot {
    cells: AtomicPtr<LineCell>,
    len: AtomicUsize,
    /// Index of the line that runs now (0: the `fn` line, before the first statement).
    pub(crate) cur: AtomicU32,
    /// Clock reading when `cur` started (or last was charged).
    pub(crate) last: AtomicU64,
    /// Activations open on this thread (recursion, closures defined in the body).
    pub(crate) depth: AtomicU32,
    /// The thread's function-probe cost sum (`Owner::probe_fp`) when `cur` was last charged.
    pub(crate) last_probe: AtomicU64,
    /// The thread's allocation totals when `cur` was last charged: allocations, bytes
    /// allocated, bytes freed.
    #[cfg(feature = "alloc")]
    pub(crate) last_alloc: [AtomicU64; 3],
}

impl LineSlot {
    /// The cells, empty before the owner made them. Any thread.
    pub(crate) fn cells(&self) -> &[LineCell] {
        let p = self.cells.load(Acquire);
        if p.is_null() {
            return &[];
        }
        // SAFETY: `len` was stored before the pointer was published with `Release`, and the
        // cells live as long as the slot.
        unsafe { std::slice::from_raw_parts(p, self.len.load(Relaxed)) }
    }

    /// Pointer to the first cell, made with `n` cells on first use. Owner only.
    pub(crate) fn cells_or_make(&self, n: usize) -> *const LineCell {
        let p = self.cells.load(Relaxed);
        if !p.is_null() {
            return p;
        }
        let b: Box<[LineCell]> = (0..n).map(|_| LineCell::default()).collect();
        let p = Box::into_raw(b) as *mut LineCell;
        self.len.store(n, Relaxed);
        self.cells.store(p, Release);
        p
    }

    /// Charges the time since `last` (and, with the tracker, the allocations since) to the
    /// current line and restarts the count at `now`. Owner only; `cells` is this slot's.
    #[inline(always)]
    pub(crate) fn charge(&self, cells: *const LineCell, now: u64, probe_fp: u64) {
        let cur = self.cur.load(Relaxed) as usize;
        // SAFETY: `cur` is an index the macro generated for this function's table, below the
        // number of cells made for it.
        let cell = unsafe { &*cells.add(cur) };
        bump(
            &cell.figures[1],
            now.saturating_sub(self.last.load(Relaxed)),
        );
        bump(
            &cell.figures[2],
            probe_fp.wrapping_sub(self.last_probe.load(Relaxed)),
        );
        self.last.store(now, Relaxed);
        self.last_probe.store(probe_fp, Relaxed);
    }

    /// Charges the allocations since the last charge to the current line. Owner only.
    #[cfg(feature = "alloc")]
    #[inline(always)]
    pub(crate) fn charge_alloc(&self, cells: *const LineCell, totals: [u64; 3]) {
        let cur = self.cur.load(Relaxed) as usize;
        // SAFETY: as in `charge`.
        let cell = unsafe { &*cells.add(cur) };
        for (i, t) in totals.into_iter().enumerate() {
            let before = self.last_alloc[i].load(Relaxed);
            bump(&cell.figures[3 + i], t.wrapping_sub(before));
            self.last_alloc[i].store(t, Relaxed);
        }
    }
}

impl Drop for LineSlot {
    fn drop(&mut self) {
        let p = *self.cells.get_mut();
        if !p.is_null() {
            let n = *self.len.get_mut();
            // SAFETY: made in `cells_or_make` as a boxed slice of `n` cells.
            drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(p, n)) });
        }
    }
}

/// Every line slot of one thread, by line-site id.
#[derive(Default)]
pub(crate) struct ThreadLines {
    pub(crate) slots: SegVec<LineSlot>,
    /// One past the highest site id with a slot (for readers).
    pub(crate) len: AtomicU32,
}

impl ThreadLines {
    /// The slot of line site `id`, made on first use. Owner only.
    pub(crate) fn slot_or_make(&self, id: u32) -> *const LineSlot {
        let p = self.slots.get_or_alloc(id as usize);
        if self.len.load(Relaxed) <= id {
            self.len.store(id + 1, Release);
        }
        p
    }
}

/// The thread's function-probe cost sum (see `Owner::probe_fp`). Owner only.
#[inline(always)]
pub(crate) fn probe_fp(td: &super::ThreadData) -> u64 {
    // SAFETY: called on the thread that owns `td`; read only.
    unsafe { &*td.owner.get() }.probe_fp()
}

/// Adds a mark's cost `fp` to the thread's probe cost sum, so that the open calls take it off
/// as they take off their callees' probes; returns the sum before it. Owner only.
#[inline(always)]
pub(crate) fn add_probe_cost(td: &super::ThreadData, fp: u64) -> u64 {
    // SAFETY: called on the thread that owns `td`, between probes: no other reference to its
    // bookkeeping is live.
    unsafe { &mut *td.owner.get() }.add_probe_cost(fp)
}
