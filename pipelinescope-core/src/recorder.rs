//! The per-thread recorder: what one instrumented call does.
//!
//! Each thread owns a [`ThreadData`]. Its figures (per call path and per site) are atomics that
//! only the owning thread writes, with a relaxed load and store (plain moves on x86: no lock
//! prefix, no cache line shared with another writer), so a snapshot can read them at any time
//! from another thread without stopping anyone and without losing counts. The bookkeeping only
//! the owner needs (the stack of open frames, the child lookup of each call-tree node) sits in an
//! `UnsafeCell` that no other thread touches.
//!
//! Enter: find the call-tree child of the current frame for this site (a short linear scan of
//! the parent's children), push a frame, read the clock. Exit: read the clock, pop, add to the
//! node's calls, self and (for the outermost activation of the node) cumulative time, add the
//! elapsed time to the parent frame's child time, record the site's histogram, min, max and sum.
//!
//! Recursion: when a function already on the current path is entered again, the frame is folded
//! into that ancestor's node instead of growing the tree, and the node's cumulative time only
//! counts its outermost activation. The tree's size is bounded by the distinct call paths without
//! repetition, never by call count or recursion depth.

use crate::hist::AtomicHist;
use crate::segvec::SegVec;
use crate::site::{Site, SiteKind};
use std::cell::{Cell, UnsafeCell};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering::*};
use std::sync::{Arc, Mutex, PoisonError};

/// Adds to a counter that only the current thread writes: no atomic read-modify-write needed.
#[inline(always)]
fn bump(c: &AtomicU64, by: u64) {
    c.store(c.load(Relaxed).wrapping_add(by), Relaxed);
}

/// Figures of one call path on one thread.
#[derive(Default)]
pub(crate) struct NodeSlot {
    pub site: AtomicU32,
    /// Parent node index; the root (index 0) is its own parent.
    pub parent: AtomicU32,
    pub calls: AtomicU64,
    pub self_ticks: AtomicU64,
    pub cum_ticks: AtomicU64,
    pub panics: AtomicU64,
}

/// Figures of one site on one thread.
pub(crate) struct SiteSlot {
    pub hist: AtomicHist,
    /// Sum of every call's inclusive time, recursive activations included (for the exact mean).
    pub sum_ticks: AtomicU64,
    pub min_ticks: AtomicU64,
    pub max_ticks: AtomicU64,
    pub polls: AtomicU64,
    pub busy_ticks: AtomicU64,
    pub cancelled: AtomicU64,
}

impl Default for SiteSlot {
    fn default() -> Self {
        SiteSlot {
            hist: AtomicHist::default(),
            sum_ticks: AtomicU64::new(0),
            min_ticks: AtomicU64::new(u64::MAX),
            max_ticks: AtomicU64::new(0),
            polls: AtomicU64::new(0),
            busy_ticks: AtomicU64::new(0),
            cancelled: AtomicU64::new(0),
        }
    }
}

impl SiteSlot {
    #[inline(always)]
    fn record(&self, ticks: u64) {
        self.hist.record(ticks);
        bump(&self.sum_ticks, ticks);
        if ticks < self.min_ticks.load(Relaxed) {
            self.min_ticks.store(ticks, Relaxed);
        }
        if ticks > self.max_ticks.load(Relaxed) {
            self.max_ticks.store(ticks, Relaxed);
        }
    }
}

#[derive(Clone, Copy)]
struct Frame {
    node: u32,
    /// This frame's site: the next frame's `prev_site`.
    site: u32,
    /// Site of the frame below, restored into `current_site` on exit.
    prev_site: u32,
    start: u64,
    child_ticks: u64,
    #[cfg(feature = "alloc")]
    alloc: crate::alloc::FrameMark,
}

struct OwnerNode {
    /// `(site id, node index)` of each child already seen.
    children: Vec<(u32, u32)>,
    /// Open activations of this node on the stack (recursion folds into the same node).
    active: u32,
    site: u32,
    slot: *const NodeSlot,
    /// This node's site's per-thread figures (null for the root).
    site_slot: *const SiteSlot,
}

/// What only the owning thread reads and writes.
struct Owner {
    stack: Vec<Frame>,
    nodes: Vec<OwnerNode>,
    sites: Vec<*const SiteSlot>,
}

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
    pub(crate) alloc: crate::alloc::ThreadAlloc,
    /// Stage id (`crate::stage`) whose code runs on this thread now (0 when none), for samplers.
    pub current_stage: AtomicU32,
    owner: UnsafeCell<Owner>,
}

// SAFETY: `owner` is only ever accessed by the thread the `ThreadData` belongs to (through the
// thread-local pointer or, for a private recorder, by its single user); everything else is
// atomics and immutable data.
unsafe impl Sync for ThreadData {}
// SAFETY: the raw pointers in `owner` point into `nodes` and `sites`, which move with it.
unsafe impl Send for ThreadData {}

static THREADS: Mutex<Vec<Arc<ThreadData>>> = Mutex::new(Vec::new());
static NEXT_INDEX: AtomicU32 = AtomicU32::new(0);

/// Every thread's data recorded so far, live and finished.
pub(crate) fn all_threads() -> Vec<Arc<ThreadData>> {
    THREADS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone()
}

fn forget_thread(td: *const ThreadData) {
    THREADS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .retain(|t| !std::ptr::eq(Arc::as_ptr(t), td));
}

impl ThreadData {
    pub(crate) fn new(name: String) -> ThreadData {
        let td = ThreadData {
            index: NEXT_INDEX.fetch_add(1, Relaxed),
            name,
            nodes: SegVec::default(),
            node_count: AtomicU32::new(0),
            sites: SegVec::default(),
            site_count: AtomicU32::new(0),
            finished: AtomicBool::new(false),
            current_site: AtomicU32::new(0),
            tid: crate::resources::current_tid(),
            cpu_at_start_ns: crate::resources::this_thread_cpu_ns().unwrap_or(0),
            #[cfg(feature = "alloc")]
            alloc: crate::alloc::ThreadAlloc::new(),
            current_stage: AtomicU32::new(0),
            owner: UnsafeCell::new(Owner {
                stack: Vec::with_capacity(64),
                nodes: Vec::with_capacity(64),
                sites: Vec::new(),
            }),
        };
        // Node 0: the root of this thread's call tree.
        let root = td.nodes.get_or_alloc(0);
        td.node_count.store(1, Release);
        // SAFETY: not shared yet.
        unsafe { &mut *td.owner.get() }.nodes.push(OwnerNode {
            children: Vec::new(),
            active: 0,
            site: 0,
            slot: root,
            site_slot: std::ptr::null(),
        });
        td
    }

    #[allow(clippy::mut_from_ref)]
    #[inline(always)]
    // SAFETY (caller): only the owning thread, and never while another `&mut Owner` is alive.
    unsafe fn owner(&self) -> &mut Owner {
        unsafe { &mut *self.owner.get() }
    }

    #[cold]
    #[inline(never)]
    fn site_slot(&self, owner: &mut Owner, site: u32) -> *const SiteSlot {
        #[cfg(feature = "alloc")]
        let _quiet = self.alloc.quiet();
        let site = site as usize;
        if owner.sites.len() <= site {
            owner.sites.resize(site + 1, std::ptr::null());
        }
        if owner.sites[site].is_null() {
            owner.sites[site] = self.sites.get_or_alloc(site);
            let n = self.site_count.load(Relaxed).max(site as u32 + 1);
            self.site_count.store(n, Release);
        }
        owner.sites[site]
    }

    #[cold]
    #[inline(never)]
    fn new_child(&self, owner: &mut Owner, parent: u32, site: u32) -> u32 {
        #[cfg(feature = "alloc")]
        let _quiet = self.alloc.quiet();
        // Recursion: fold into the ancestor that already runs this site.
        let mut a = parent;
        while a != 0 {
            let n = &owner.nodes[a as usize];
            if n.site == site {
                owner.nodes[parent as usize].children.push((site, a));
                return a;
            }
            // SAFETY: slot pointers stay valid as long as `self`.
            a = unsafe { &*n.slot }.parent.load(Relaxed);
        }
        let idx = self.node_count.load(Relaxed);
        let slot = self.nodes.get_or_alloc(idx as usize);
        // SAFETY: freshly allocated, not yet published through `node_count`.
        let s = unsafe { &*slot };
        s.site.store(site, Relaxed);
        s.parent.store(parent, Relaxed);
        self.node_count.store(idx + 1, Release);
        let site_slot = self.site_slot(owner, site);
        owner.nodes.push(OwnerNode {
            children: Vec::new(),
            active: 0,
            site,
            slot,
            site_slot,
        });
        owner.nodes[parent as usize].children.push((site, idx));
        idx
    }

    /// Opens a frame for `site`.
    #[inline(always)]
    pub(crate) fn enter(&self, site: u32) {
        // SAFETY: called by the owning thread only; no other `&mut Owner` is alive.
        let owner = unsafe { self.owner() };
        let (parent, prev_site) = match owner.stack.last() {
            Some(f) => (f.node, f.site),
            None => (0, 0),
        };
        // SAFETY: frame and child node indices always come from `owner.nodes`, which only
        // grows, so they are in bounds.
        let pn = unsafe { owner.nodes.get_unchecked(parent as usize) };
        let node = match pn.children.iter().find(|c| c.0 == site) {
            Some(c) => c.1,
            None => self.new_child(owner, parent, site),
        };
        // SAFETY: as above.
        unsafe { owner.nodes.get_unchecked_mut(node as usize) }.active += 1;
        #[cfg(feature = "alloc")]
        let alloc = self.alloc.enter(site);
        self.current_site.store(site, Relaxed);
        owner.stack.push(Frame {
            node,
            site,
            prev_site,
            start: 0,
            child_ticks: 0,
            #[cfg(feature = "alloc")]
            alloc,
        });
        let start = crate::clock::raw();
        if let Some(f) = owner.stack.last_mut() {
            f.start = start;
        }
    }

    /// Closes the innermost frame: a whole call, one poll of a future that is not finished yet,
    /// or the last poll of one that is (its wall time, first poll to completion, goes into the
    /// histogram instead of the poll's time).
    #[inline(always)]
    pub(crate) fn exit(&self, kind: ExitKind) {
        let end = crate::clock::raw();
        // SAFETY: as in `enter`.
        let owner = unsafe { self.owner() };
        let Some(f) = owner.stack.pop() else { return };
        let ticks = end.saturating_sub(f.start);
        // SAFETY: as in `enter`.
        let on = unsafe { owner.nodes.get_unchecked_mut(f.node as usize) };
        on.active -= 1;
        let outermost = on.active == 0;
        #[cfg(feature = "alloc")]
        self.alloc.exit(on.site, f.alloc);
        // SAFETY: slot pointers stay valid as long as `self`.
        let slot = unsafe { &*on.slot };
        // SAFETY: as above; only the root has a null site slot, and it is never on the stack.
        let ss = unsafe { &*on.site_slot };
        bump(&slot.self_ticks, ticks.saturating_sub(f.child_ticks));
        if outermost {
            bump(&slot.cum_ticks, ticks);
        }
        if let Some(p) = owner.stack.last_mut() {
            p.child_ticks += ticks;
        }
        self.current_site.store(f.prev_site, Relaxed);
        match kind {
            ExitKind::Call => {
                bump(&slot.calls, 1);
                ss.record(ticks);
            }
            ExitKind::Poll => {
                bump(&ss.polls, 1);
                bump(&ss.busy_ticks, ticks);
            }
            ExitKind::PollCompleted { wall_ticks } => {
                bump(&slot.calls, 1);
                bump(&ss.polls, 1);
                bump(&ss.busy_ticks, ticks);
                ss.record(wall_ticks);
            }
        }
        if std::thread::panicking() {
            bump(&slot.panics, 1);
        }
    }

    /// Counts a future of `site` dropped before it completed.
    pub(crate) fn cancelled(&self, site: u32) {
        // SAFETY: as in `enter`.
        let owner = unsafe { self.owner() };
        let ss = self.site_slot(owner, site);
        // SAFETY: as above.
        bump(&unsafe { &*ss }.cancelled, 1);
    }

    /// Bytes held for recording on this thread (not counting the thread-local pointer).
    pub(crate) fn bytes(&self) -> usize {
        let mut n = std::mem::size_of::<ThreadData>() + self.nodes.bytes() + self.sites.bytes();
        for i in 0..self.site_count.load(Acquire) as usize {
            if let Some(s) = self.sites.get(i) {
                n += s.hist.bytes() - crate::hist::EMPTY_BYTES;
            }
        }
        // SAFETY: only called from the owning thread in tests and benchmarks; read-only.
        let owner = unsafe { &*self.owner.get() };
        n += owner.stack.capacity() * std::mem::size_of::<Frame>();
        n += owner.nodes.capacity() * std::mem::size_of::<OwnerNode>();
        n += owner
            .nodes
            .iter()
            .map(|o| o.children.capacity() * 8)
            .sum::<usize>();
        n += owner.sites.capacity() * 8;
        n
    }
}

/// How a frame closes.
#[derive(Clone, Copy)]
pub(crate) enum ExitKind {
    Call,
    Poll,
    PollCompleted { wall_ticks: u64 },
}

// ---- the thread-local handle -------------------------------------------------------------

/// Sentinel: this thread is tearing down its thread-locals; record nothing more.
const DEAD: *const ThreadData = std::ptr::dangling();

thread_local! {
    // No destructor, so access is a plain thread-local load.
    static LOCAL: Cell<*const ThreadData> = const { Cell::new(std::ptr::null()) };
    // Registered on first use; marks the thread finished when it exits.
    static EXIT: ExitMarker = const { ExitMarker };
}

struct ExitMarker;

impl Drop for ExitMarker {
    fn drop(&mut self) {
        let p = LOCAL.with(|l| l.replace(DEAD));
        if !p.is_null() && p != DEAD {
            // SAFETY: the registry keeps every `ThreadData` alive.
            unsafe { &*p }.finished.store(true, Release);
        }
    }
}

/// The current thread's recorder, created on first use; None while the thread is exiting.
#[inline(always)]
pub(crate) fn local() -> Option<&'static ThreadData> {
    let p = LOCAL.with(|l| l.get());
    if p.is_null() {
        return init_local();
    }
    if p == DEAD {
        return None;
    }
    // SAFETY: the registry keeps every `ThreadData` alive for the rest of the process, except
    // the calibration thread's, which is dropped only after that thread has stopped using it.
    Some(unsafe { &*p })
}

#[cold]
#[inline(never)]
fn init_local() -> Option<&'static ThreadData> {
    // If the exit marker can no longer be registered the thread is tearing down.
    EXIT.try_with(|_| ()).ok()?;
    let name = std::thread::current().name().unwrap_or("").to_string();
    let td = Arc::new(ThreadData::new(name));
    let p = Arc::as_ptr(&td);
    THREADS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(td);
    LOCAL.with(|l| l.set(p));
    // SAFETY: just registered; see `local`.
    Some(unsafe { &*p })
}

/// The current thread's recorder if it has one (never creates it). For samplers and the
/// allocation tracker, which must not allocate.
#[inline(always)]
pub fn current_thread() -> Option<&'static ThreadData> {
    let p = LOCAL.try_with(|l| l.get()).ok()?;
    if p.is_null() || p == DEAD {
        None
    } else {
        // SAFETY: as in `local`.
        Some(unsafe { &*p })
    }
}

// ---- the probes the macros expand to -----------------------------------------------------

/// Closes a sync frame when dropped, on return, `?` and unwinding alike.
#[must_use = "the frame closes when the guard is dropped"]
pub struct Guard {
    td: Option<&'static ThreadData>,
}

/// Opens a frame for `site` on the current thread.
#[inline(always)]
pub fn enter(site: &'static Site) -> Guard {
    if !crate::control::enabled() {
        return Guard { td: None };
    }
    let id = site.id();
    let td = local();
    if let Some(td) = td {
        td.enter(id);
    }
    Guard { td }
}

impl Drop for Guard {
    #[inline(always)]
    fn drop(&mut self) {
        if let Some(td) = self.td {
            td.exit(ExitKind::Call);
        }
    }
}

/// An `async fn`'s future, timed per poll and from first poll to completion.
pub struct Instrumented<F> {
    inner: F,
    site: &'static Site,
    first_poll: u64,
    done: bool,
}

/// Wraps an `async fn` body's future.
#[inline]
pub fn instrument_future<F: std::future::Future>(site: &'static Site, inner: F) -> Instrumented<F> {
    debug_assert!(site.kind == SiteKind::Async);
    Instrumented {
        inner,
        site,
        first_poll: 0,
        done: false,
    }
}

struct PollGuard {
    td: &'static ThreadData,
    kind: ExitKind,
}

impl Drop for PollGuard {
    #[inline(always)]
    fn drop(&mut self) {
        self.td.exit(self.kind);
    }
}

impl<F: std::future::Future> std::future::Future for Instrumented<F> {
    type Output = F::Output;

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<F::Output> {
        // SAFETY: `inner` is structurally pinned: it is never moved out of `self`, and
        // `Instrumented` has no `Unpin` impl of its own beyond the auto trait.
        let this = unsafe { self.get_unchecked_mut() };
        let inner = unsafe { std::pin::Pin::new_unchecked(&mut this.inner) };
        if this.done || !crate::control::enabled() {
            return inner.poll(cx);
        }
        let Some(td) = local() else {
            return inner.poll(cx);
        };
        if this.first_poll == 0 {
            this.first_poll = crate::clock::raw().max(1);
        }
        td.enter(this.site.id());
        let mut guard = PollGuard {
            td,
            kind: ExitKind::Poll,
        };
        let r = inner.poll(cx);
        if r.is_ready() {
            this.done = true;
            guard.kind = ExitKind::PollCompleted {
                wall_ticks: crate::clock::raw().saturating_sub(this.first_poll),
            };
        }
        drop(guard);
        r
    }
}

impl<F> Drop for Instrumented<F> {
    fn drop(&mut self) {
        if !self.done
            && self.first_poll != 0
            && let Some(td) = local()
        {
            td.cancelled(self.site.id());
        }
    }
}

// ---- probe self-measurement ----------------------------------------------------------------

/// Measures what one instrumented call costs on this machine (enter plus exit of an empty
/// function, in nanoseconds), on a private thread whose data is then discarded, so a reader can
/// tell probe overhead from work.
pub fn measure_probe_overhead() -> f64 {
    static PROBE: Site = Site::new("<probe calibration>", "", "", 0, SiteKind::Sync);
    const N: u32 = 20_000;
    let run = || {
        let td = local()?;
        let tdp = td as *const ThreadData;
        // The fastest of several rounds, for the probed loop and the empty loop separately:
        // a round that lost the CPU to another process is slower, never faster.
        let (mut probe, mut empty) = (f64::INFINITY, f64::INFINITY);
        for _ in 0..7 {
            let t0 = crate::clock::raw();
            for _ in 0..N {
                let g = enter(&PROBE);
                std::hint::black_box(&g);
                drop(g);
            }
            let t1 = crate::clock::raw();
            for _ in 0..N {
                std::hint::black_box(());
            }
            let t2 = crate::clock::raw();
            probe = probe.min(crate::clock::ticks_to_ns(t1 - t0) as f64);
            empty = empty.min(crate::clock::ticks_to_ns(t2 - t1) as f64);
        }
        let best = ((probe - empty) / N as f64).max(0.0);
        // Detach this thread from its recorder before dropping it, so the exit marker does not
        // touch it again.
        LOCAL.with(|l| l.set(DEAD));
        forget_thread(tdp);
        Some(best)
    };
    let was = crate::control::enabled();
    if !was {
        return 0.0;
    }
    std::thread::Builder::new()
        .name("pipelinescope-calibrate".into())
        .spawn(run)
        .ok()
        .and_then(|h| h.join().ok())
        .flatten()
        .unwrap_or(0.0)
}
