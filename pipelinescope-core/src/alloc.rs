//! Exact allocation counts per function: [`TrackingAllocator`], a `GlobalAlloc` wrapper.
//!
//! Every allocation, reallocation and free is charged to the innermost instrumented function
//! active on the thread doing it (`ThreadData::current_site`), into counters of that thread that
//! only that thread writes (a relaxed load and store, no atomic read-modify-write, nothing shared
//! written). A snapshot sums them over threads.
//!
//! Peak live bytes per activation (memory_profiler's "increment"): each thread keeps a running
//! `live` count (its allocations minus its frees) and `peak`, the highest `live` since the
//! innermost open frame started. Entering a frame saves the caller's `peak` and the frame's
//! starting `live` in the frame; exiting records `peak - start` for the function (the highest
//! over its activations) and hands the larger peak back to the caller. One compare per
//! allocation.
//!
//! Re-entrancy: the allocator runs while the recorder itself allocates (its first segments, a
//! growing stack). It never allocates, never touches a thread-local with a destructor, and finds
//! the thread's recorder with [`crate::recorder::current_thread`], which never creates one; a
//! thread without a recorder (or one exiting) is not counted. The recorder's own allocations
//! (a new call-tree node, a site's first histogram) are made under a [`Quiet`] guard and not
//! counted either. The counters of a site are
//! allocated by the recorder when a frame for that site is entered, outside the allocator;
//! anything the allocator cannot find a counter for goes to site 0 ("outside instrumented
//! functions"), which exists from the start.

use crate::profile::AllocationStats;
use crate::recorder::{ThreadData, current_thread, registered};
use crate::segvec::SegVec;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicI64, AtomicU32, AtomicU64, Ordering::Relaxed};

/// A `GlobalAlloc` that counts every allocation against the instrumented function running on
/// the allocating thread, then forwards to the wrapped allocator `A` (any allocator: the
/// system's, mimalloc, jemalloc).
///
/// ```
/// use pipelinescope_core::TrackingAllocator;
/// use std::alloc::System;
///
/// #[global_allocator]
/// static ALLOC: TrackingAllocator = TrackingAllocator::new(System);
/// # fn main() {}
/// ```
///
/// Through the facade the type is `pipelinescope::TrackingAllocator` (feature `alloc`).
pub struct TrackingAllocator<A: GlobalAlloc = System> {
    inner: A,
}

impl<A: GlobalAlloc> TrackingAllocator<A> {
    /// Wraps `inner`.
    pub const fn new(inner: A) -> Self {
        TrackingAllocator { inner }
    }

    /// The wrapped allocator.
    pub const fn inner(&self) -> &A {
        &self.inner
    }
}

/// Adds to a counter that only the current thread writes.
#[inline(always)]
fn bump(c: &AtomicU64, by: u64) {
    c.store(c.load(Relaxed).wrapping_add(by), Relaxed);
}

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
    slots: SegVec<AllocSlot>,
    /// Per stage id; `peak_increment` holds the high-water mark of the stage's own live bytes.
    stage_slots: SegVec<AllocSlot>,
    live: AtomicI64,
    peak: AtomicI64,
    /// Nesting depth of [`Quiet`] guards: while non-zero, nothing is counted.
    quiet: AtomicU32,
}

impl AllocSlot {
    /// `[allocations, bytes allocated, bytes freed, peak]`.
    fn figures(&self) -> [u64; 4] {
        [
            self.allocations.load(Relaxed),
            self.bytes_allocated.load(Relaxed),
            self.bytes_freed.load(Relaxed),
            self.peak_increment.load(Relaxed),
        ]
    }
}

/// The allocation figures of threads that have exited, per site and per stage id:
/// `[allocations, bytes allocated, bytes freed, peak]`. Merged as a snapshot merges threads:
/// a function's peak is the highest of any thread's, a stage's the sum of its threads'.
#[derive(Clone, Default)]
pub(crate) struct AllocTotals {
    pub(crate) sites: Vec<[u64; 4]>,
    pub(crate) stages: Vec<[u64; 4]>,
}

impl AllocTotals {
    /// Adds an exiting thread's counters.
    pub(crate) fn add_thread(&mut self, a: &ThreadAlloc) {
        let sites = crate::site::registry().len();
        let stages = (1..)
            .find(|&id| crate::stage::stage_name(id).is_none())
            .unwrap_or(1) as usize;
        fold(&mut self.sites, sites, |i| a.slots.get(i), false);
        fold(&mut self.stages, stages, |i| a.stage_slots.get(i), true);
    }

    /// Adds another aggregate.
    pub(crate) fn absorb(&mut self, o: &AllocTotals) {
        merge(&mut self.sites, &o.sites, false);
        merge(&mut self.stages, &o.stages, true);
    }
}

/// Adds the slots `0..n` that `get` finds into `into`; peaks summed or the highest kept.
fn fold<'a>(
    into: &mut Vec<[u64; 4]>,
    n: usize,
    get: impl Fn(usize) -> Option<&'a AllocSlot>,
    sum_peaks: bool,
) {
    let found: Vec<[u64; 4]> = (0..n)
        .map(|i| get(i).map_or([0; 4], AllocSlot::figures))
        .collect();
    merge(into, &found, sum_peaks);
}

fn merge(into: &mut Vec<[u64; 4]>, from: &[[u64; 4]], sum_peaks: bool) {
    if into.len() < from.len() {
        into.resize(from.len(), [0; 4]);
    }
    for (a, b) in into.iter_mut().zip(from) {
        a[0] += b[0];
        a[1] += b[1];
        a[2] += b[2];
        a[3] = if sum_peaks {
            a[3] + b[3]
        } else {
            a[3].max(b[3])
        };
    }
}

/// While alive, the owning thread's allocations are not counted (the profiler's own).
pub(crate) struct Quiet<'a>(&'a AtomicU32);

impl Drop for Quiet<'_> {
    fn drop(&mut self) {
        self.0.store(self.0.load(Relaxed).wrapping_sub(1), Relaxed);
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
            quiet: AtomicU32::new(0),
        };
        // Site 0 always exists, so the allocator always has somewhere to count.
        let _ = t.slots.get_or_alloc(0);
        t
    }

    /// Stops counting on this thread until the guard drops (owning thread only).
    pub(crate) fn quiet(&self) -> Quiet<'_> {
        self.quiet
            .store(self.quiet.load(Relaxed).wrapping_add(1), Relaxed);
        Quiet(&self.quiet)
    }

    #[cold]
    #[inline(never)]
    fn grow(&self, site: u32) {
        let _q = self.quiet();
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
        let _q = self.quiet();
        let _ = self.stage_slots.get_or_alloc(stage as usize);
        self.stage_slots.get(stage as usize)
    }

    #[inline(always)]
    fn on_alloc(&self, site: u32, stage: u32, size: usize) {
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
    fn on_free(&self, site: u32, stage: u32, size: usize) {
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

#[inline(always)]
fn tracked() -> Option<(&'static ThreadData, u32, u32)> {
    let td = current_thread()?;
    if td.alloc.quiet.load(Relaxed) != 0 {
        return None;
    }
    Some((
        td,
        td.current_site.load(Relaxed),
        td.current_stage.load(Relaxed),
    ))
}

// SAFETY: every method forwards to `inner` with the caller's arguments unchanged and returns
// its result unchanged; the bookkeeping around it neither allocates nor touches the memory.
unsafe impl<A: GlobalAlloc> GlobalAlloc for TrackingAllocator<A> {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, passed on unchanged.
        let p = unsafe { self.inner.alloc(layout) };
        if !p.is_null()
            && let Some((td, site, stage)) = tracked()
        {
            td.alloc.on_alloc(site, stage, layout.size());
        }
        p
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as in `alloc`.
        let p = unsafe { self.inner.alloc_zeroed(layout) };
        if !p.is_null()
            && let Some((td, site, stage)) = tracked()
        {
            td.alloc.on_alloc(site, stage, layout.size());
        }
        p
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as in `alloc`.
        unsafe { self.inner.dealloc(ptr, layout) };
        if let Some((td, site, stage)) = tracked() {
            td.alloc.on_free(site, stage, layout.size());
        }
    }

    /// Counted as one allocation of `new_size` and a free of the old size.
    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as in `alloc`.
        let p = unsafe { self.inner.realloc(ptr, layout, new_size) };
        if !p.is_null()
            && let Some((td, site, stage)) = tracked()
        {
            td.alloc.on_free(site, stage, layout.size());
            td.alloc.on_alloc(site, stage, new_size);
        }
        p
    }
}

/// Stops counting the calling thread's allocations until the guard drops.
pub(crate) fn quiet_here() -> Option<Quiet<'static>> {
    current_thread().map(|td| td.alloc.quiet())
}

/// Runs `f` without counting the calling thread's allocations: for the profiler's own work
/// (snapshots, reports) done from inside instrumented code.
pub fn untracked<R>(f: impl FnOnce() -> R) -> R {
    let _q = quiet_here();
    f()
}

/// Allocation figures per function, summed over every thread; functions that never allocated
/// or freed are left out. Peak live bytes is the highest over all activations on any thread.
pub fn collect() -> Vec<AllocationStats> {
    untracked(collect_inner)
}

/// Allocation figures per stage, summed over every thread, charged to the innermost stage whose
/// code was running. Peak live bytes is the high-water mark of what the stage allocated and had
/// not freed itself (summed over threads: an upper bound when threads peak at different times).
pub fn collect_stages() -> Vec<AllocationStats> {
    untracked(|| {
        // Each thread is either live or exited here, never both nor neither.
        let (threads, exited) = registered();
        let mut rows: Vec<AllocationStats> = Vec::new();
        let mut id = 1u32;
        while let Some(name) = crate::stage::stage_name(id) {
            let mut row = AllocationStats {
                name: name.to_string(),
                ..AllocationStats::default()
            };
            let mut add = |f: [u64; 4]| {
                row.allocations += f[0];
                row.bytes_allocated += f[1];
                row.bytes_freed += f[2];
                // Threads hold their memory at the same time at worst: sum their peaks.
                row.peak_live_bytes += f[3];
            };
            if let Some(f) = exited
                .as_ref()
                .and_then(|e| e.alloc.stages.get(id as usize))
            {
                add(*f);
            }
            for td in &threads {
                if let Some(s) = td.alloc.stage_slots.get(id as usize) {
                    add(s.figures());
                }
            }
            row.net_retained_bytes = row.bytes_allocated as i64 - row.bytes_freed as i64;
            if row.allocations > 0 || row.bytes_freed > 0 {
                rows.push(row);
            }
            id += 1;
        }
        rows.sort_by(|a, b| {
            b.bytes_allocated
                .cmp(&a.bytes_allocated)
                .then_with(|| a.name.cmp(&b.name))
        });
        rows
    })
}

fn collect_inner() -> Vec<AllocationStats> {
    let names: Vec<&'static str> = crate::site::registry().iter().map(|s| s.name).collect();
    let mut rows: Vec<AllocationStats> = names
        .iter()
        .map(|n| AllocationStats {
            name: n.to_string(),
            ..AllocationStats::default()
        })
        .collect();
    // Each thread is either live or exited here, never both nor neither.
    let (threads, exited) = registered();
    let add = |row: &mut AllocationStats, f: [u64; 4]| {
        row.allocations += f[0];
        row.bytes_allocated += f[1];
        row.bytes_freed += f[2];
        row.peak_live_bytes = row.peak_live_bytes.max(f[3]);
    };
    if let Some(e) = &exited {
        for (row, f) in rows.iter_mut().zip(&e.alloc.sites).skip(1) {
            add(row, *f);
        }
    }
    for td in &threads {
        for (id, row) in rows.iter_mut().enumerate().skip(1) {
            if let Some(s) = td.alloc.slots.get(id) {
                add(row, s.figures());
            }
        }
    }
    let mut rows: Vec<AllocationStats> = rows
        .into_iter()
        .skip(1)
        .filter(|r| r.allocations > 0 || r.bytes_freed > 0)
        .map(|mut r| {
            r.net_retained_bytes = r.bytes_allocated as i64 - r.bytes_freed as i64;
            r
        })
        .collect();
    rows.sort_by(|a, b| {
        b.bytes_allocated
            .cmp(&a.bytes_allocated)
            .then_with(|| a.name.cmp(&b.name))
    });
    rows
}
