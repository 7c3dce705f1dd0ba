//! One thread's state: [`ThreadData`], holding the function recorder's part (`calls`), the
//! stage recorder's (`stage`) and the allocation tracker's (`alloc`), with the facts of the
//! thread samplers read (its OS id, its CPU clock at start, what runs on it now).
//!
//! Only the owning thread writes it; other threads read its atomics. How it is reached (the
//! thread-local handle) and what happens to it when the thread exits is the `threads` layer's.

#[cfg(feature = "alloc")]
use super::alloc::ThreadAlloc;
use super::calls::Owner;
use super::slots::{NodeSlot, SiteSlot};
use super::stage::StageThread;
use crate::util::cpu_clock::{current_tid, this_thread_cpu_ns};
use crate::util::segvec::SegVec;
use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering::*};
use std::sync::{Mutex, PoisonError};

static NEXT_INDEX: AtomicU32 = AtomicU32::new(0);

/// Everything one thread recorded.
pub struct ThreadData {
    pub(crate) index: u32,
    pub(crate) name: String,
    pub(crate) nodes: SegVec<NodeSlot>,
    pub(crate) node_count: AtomicU32,
    pub(crate) sites: SegVec<SiteSlot>,
    pub(crate) site_count: AtomicU32,
    pub(crate) finished: AtomicBool,
    /// Site id of the innermost open frame (0 when none), for samplers on other threads.
    pub current_site: AtomicU32,
    /// OS thread id, for the resource sampler's per-thread CPU clock.
    pub(crate) tid: i32,
    /// The thread's CPU clock when it first ran instrumented code (0 if unreadable): the
    /// sampler's starting point for a thread it sees for the first time.
    pub(crate) cpu_at_start_ns: u64,
    /// Allocation counters of this thread, written by the allocator on this thread only.
    #[cfg(feature = "alloc")]
    pub(crate) alloc: ThreadAlloc,
    /// Stage id whose code runs on this thread now (0 when none), for samplers and the
    /// allocation tracker. A cell of its own (see `stage_cell`): stage iterators keep it, and
    /// may outlive the thread.
    pub current_stage: &'static AtomicU32,
    /// The function recorder's own bookkeeping (`calls`).
    pub(super) owner: UnsafeCell<Owner>,
    /// The stage recorder's part (`stage`).
    pub(crate) stage: StageThread,
    /// Calls and stage invocations by size class (`sizes`).
    pub(crate) sizes: super::sizes::ThreadSizes,
    /// Per-line figures of `#[profile(lines)]` functions (`lines`): made on the thread's first
    /// line mark, so a thread that runs none holds one empty cell. Shared (`Arc`) because an
    /// `async fn`'s activation holds its thread's while it moves.
    pub(crate) lines: std::sync::OnceLock<std::sync::Arc<super::lines::ThreadLines>>,
}

// SAFETY: `owner` is only ever accessed by the thread the `ThreadData` belongs to (through the
// thread-local pointer or, for a private recorder, by its single user); everything else is
// atomics and immutable data.
unsafe impl Sync for ThreadData {}
// SAFETY: the raw pointers in `owner` point into `nodes` and `sites`, which move with it.
unsafe impl Send for ThreadData {}

impl ThreadData {
    /// A new thread's state, named `name`, with its call tree's root.
    pub(crate) fn new(name: String) -> ThreadData {
        let index = NEXT_INDEX.fetch_add(1, Relaxed);
        let td = ThreadData {
            index,
            name,
            nodes: SegVec::default(),
            node_count: AtomicU32::new(0),
            sites: SegVec::default(),
            site_count: AtomicU32::new(0),
            finished: AtomicBool::new(false),
            current_site: AtomicU32::new(0),
            tid: current_tid(),
            cpu_at_start_ns: this_thread_cpu_ns().unwrap_or(0),
            #[cfg(feature = "alloc")]
            alloc: ThreadAlloc::new(),
            current_stage: stage_cell(),
            owner: UnsafeCell::new(Owner::new(index)),
            stage: StageThread::new(),
            sizes: Default::default(),
            lines: std::sync::OnceLock::new(),
        };
        td.add_root();
        td
    }

    /// Bytes the function recorder holds on this thread (not counting the thread-local pointer
    /// nor the stage part, which `StageThread::bytes` counts).
    pub(crate) fn bytes(&self) -> usize {
        let mut n = std::mem::size_of::<ThreadData>() - std::mem::size_of::<StageThread>()
            + self.nodes.bytes()
            + self.sites.bytes();
        for i in 0..self.site_count.load(Acquire) as usize {
            if let Some(s) = self.sites.get(i) {
                n += s.hist.bytes() - crate::util::hist::EMPTY_BYTES;
            }
        }
        // SAFETY: only called from the owning thread in tests and benchmarks; read-only.
        let owner = unsafe { &*self.owner.get() };
        n += owner.nodes.capacity() * Owner::node_bytes();
        n += owner
            .nodes
            .iter()
            .map(|o| o.children.capacity() * 8)
            .sum::<usize>();
        n += owner.sites.capacity() * 8;
        n += owner.entries.capacity() * Owner::entry_bytes();
        n += self.sizes.functions.bytes() + self.sizes.stages.bytes();
        n
    }
}

/// Cells that no thread publishes its stage in now.
static FREE_STAGE_CELLS: Mutex<Vec<&'static AtomicU32>> = Mutex::new(Vec::new());

/// A cell for a new thread to publish its current stage in. A stage iterator keeps the cell of
/// the thread it was made on and may be moved to another thread, which may outlive the first:
/// so a cell is never freed. It goes back to the free cells when its thread's data is dropped,
/// for a later thread to reuse, and there are never more cells than threads alive at once (and
/// threads whose data a snapshot was still reading as they exited).
fn stage_cell() -> &'static AtomicU32 {
    let free = FREE_STAGE_CELLS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .pop();
    free.unwrap_or_else(|| Box::leak(Box::new(AtomicU32::new(0))))
}

impl Drop for ThreadData {
    fn drop(&mut self) {
        // An iterator moved off the exited thread may still write to the cell: that can only
        // misname a later thread's stage for a sampler, as it would have misnamed this one's.
        self.current_stage.store(0, Relaxed);
        FREE_STAGE_CELLS
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(self.current_stage);
    }
}
