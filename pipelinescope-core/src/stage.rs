//! The stage recorder: what `#[stage]` expands into.
//!
//! A lazy stage returns an iterator; it is wrapped in a [`StageIter`] that counts its records and
//! times some of its `next` calls over the iterator's whole life. The stage's iterator inputs are
//! wrapped in [`StageInput`], which counts records in and, when a timed call of its stage asks
//! (through the [`StageLink`] they share), times the pulls from upstream, so that time is not
//! charged to the stage. How little that costs per record, and which calls are timed, is in the
//! `lazy` module. An eager stage (collections in, a collection out) is timed per call by a
//! [`StageCall`] and counts records from lengths ([`Records`]).
//!
//! Timing follows the function recorder: each thread keeps a small stack of open timed frames; a
//! frame's own time is its span minus the spans of the timed frames nested in it (upstream pulls,
//! nested stage calls). Figures live in per-thread, per-stage slots of atomics that only the
//! owning thread writes (a relaxed load and store, no lock prefix), read by [`collect`] from any
//! thread.
//!
//! Pipeline shape: a stage's iterator, on its first call, reads the stage published on its thread
//! (the stage pulling it); the records it hands out count on the edge to that stage.

use crate::clock::raw;
use crate::hist::AtomicHist;
use crate::profile::{Histogram, Percentiles, PipelineEdge, StageKind, StageStats};
use crate::segvec::SegVec;
use std::cell::{Cell, UnsafeCell};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::*};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

mod bounds;
mod calibrate;
mod exited;
pub(crate) use bounds::hold_profile;
mod lazy;
pub use calibrate::{PathCosts, StageCalibration, calibration};
pub use lazy::{MAX_GAP, StageInput, StageIter, StageLink, TIMING_BUDGET};

/// Adds to a counter that only the current thread writes.
#[inline(always)]
fn bump(c: &AtomicU64, by: u64) {
    c.store(c.load(Relaxed).wrapping_add(by), Relaxed);
}

// ---- stage sites ----------------------------------------------------------------------------

/// Static description of one stage. The macro emits one per annotated function.
pub struct StageSite {
    id: AtomicU32,
    /// Display name.
    pub name: &'static str,
    /// `module_path!()` of the function.
    pub module: &'static str,
    /// `file!()` of the function.
    pub file: &'static str,
    /// `line!()` of the function.
    pub line: u32,
    /// Lazy (returns an iterator) or eager (returns a collection).
    pub kind: StageKind,
}

/// Registered stages; id `n` is at index `n - 1` (id 0 means "no stage").
static STAGES: Mutex<Vec<&'static StageSite>> = Mutex::new(Vec::new());

fn stages() -> MutexGuard<'static, Vec<&'static StageSite>> {
    // Push is the only mutation, so a poisoned lock still holds a consistent list.
    STAGES.lock().unwrap_or_else(PoisonError::into_inner)
}

impl StageSite {
    /// A new, unregistered stage.
    pub const fn new(
        name: &'static str,
        module: &'static str,
        file: &'static str,
        line: u32,
        kind: StageKind,
    ) -> StageSite {
        StageSite {
            id: AtomicU32::new(0),
            name,
            module,
            file,
            line,
            kind,
        }
    }

    /// The stage's id (never 0), registering it on first use.
    #[inline(always)]
    pub fn id(&'static self) -> u32 {
        let id = self.id.load(Relaxed);
        if id != 0 { id } else { self.register() }
    }

    #[cold]
    #[inline(never)]
    fn register(&'static self) -> u32 {
        crate::site::register_once(&mut stages(), self, &self.id, None)
    }
}

/// Name of the stage with id `id` (as published in `ThreadData::current_stage`), for samplers.
pub fn stage_name(id: u32) -> Option<&'static str> {
    let i = (id as usize).checked_sub(1)?;
    stages().get(i).map(|s| s.name)
}

// ---- per-thread figures ---------------------------------------------------------------------

/// Figures of one stage on one thread.
struct StageSlot {
    invocations: AtomicU64,
    records_in: AtomicU64,
    records_out: AtomicU64,
    /// `next` calls of the stage's iterators, and how many of them were sampled.
    calls: AtomicU64,
    timed_calls: AtomicU64,
    /// The calls the sampled ones stand for, and their own and upstream time weighted by that
    /// (see `lazy`).
    sampled_weight: AtomicU64,
    own_weighted: AtomicU64,
    upstream_weighted: AtomicU64,
    /// `next` calls timed and counted as themselves (first calls, stages timed on every call,
    /// outliers): counted in `calls` but not in `timed_calls`; their own and upstream time.
    exact_calls: AtomicU64,
    exact_own_ticks: AtomicU64,
    exact_upstream_ticks: AtomicU64,
    /// Own time of whole calls (eager stages, construction of lazy iterators): always timed.
    call_ticks: AtomicU64,
    /// Active time of the stage's iterators: from the start of each one's first call to the
    /// end of its last (or its drop). What their calls did not take of it is downstream wait.
    active_ticks: AtomicU64,
    /// What timing the iterators' calls cost, inside spans and out (see `calibrate`): in their
    /// active time, but in neither their calls' own time nor their consumer's.
    probe_ticks: AtomicU64,
    first_ticks: AtomicU64,
    first_count: AtomicU64,
    exhausted: AtomicU64,
    dropped: AtomicU64,
    /// Own time per record handed out.
    hist: AtomicHist,
    hist_sum: AtomicU64,
    min_ticks: AtomicU64,
    max_ticks: AtomicU64,
    /// Clock reading of the first invocation on this thread (0: none yet), for ordering.
    first_seen: AtomicU64,
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
    #[inline(always)]
    fn record_per_record(&self, ticks: u64, n: u64) {
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

    #[inline(always)]
    fn invoked(&self, now: u64) {
        bump(&self.invocations, 1);
        if self.first_seen.load(Relaxed) == 0 {
            self.first_seen.store(now.max(1), Relaxed);
        }
    }
}

/// Records that crossed from one stage into another on one thread.
#[derive(Default)]
struct EdgeSlot {
    from: AtomicU32,
    to: AtomicU32,
    records: AtomicU64,
}

const MAX_DEPTH: usize = 64;

/// One open timed activity on the thread's stack: a stage's `next` or call, or a pull from
/// upstream.
#[derive(Clone, Copy, Default)]
struct Frame {
    /// Time of nested activity accounted elsewhere (nested stages, upstream pulls).
    child: u64,
    /// How many such nested frames closed inside this one.
    nested: u32,
}

/// What only the owning thread reads and writes.
struct Owner {
    slots: Vec<*const StageSlot>,
    /// `(from, to, slot)` of every edge seen on this thread.
    edges: Vec<(u32, u32, *const EdgeSlot)>,
    frames: [Frame; MAX_DEPTH],
    depth: usize,
    /// Last eager stage that finished at the top level on this thread.
    last_eager: u32,
}

/// A sampled measurement above this many times its stage's mean so far (and above 20 µs)
/// is an outlier: counted once, never scaled up.
pub const OUTLIER_FACTOR: u64 = 64;

/// Whether a measurement of `x` ticks is an outlier among `count` earlier ones that summed to
/// `total` ticks: above `OUTLIER_FACTOR` times their mean (rounded down) and above 20 µs, and
/// never before 64 of them are known.
#[inline(always)]
fn is_outlier(x: u64, total: u64, count: u64) -> bool {
    // `x > mean * F` with `mean = total / count` rounded down, without the division (tens of
    // cycles, twice per timed call): `mean * F < x` holds exactly when `mean <= (x - 1) / F`,
    // that is when `total < ((x - 1) / F + 1) * count`.
    count >= 64
        && x > outlier_floor()
        && (total as u128) < ((x - 1) / OUTLIER_FACTOR + 1) as u128 * count as u128
}

/// The 20 µs below which nothing is an outlier, in clock ticks.
#[inline(always)]
fn outlier_floor() -> u64 {
    static FLOOR: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *FLOOR.get_or_init(|| (20_000.0 / crate::clock::ns_per_tick().max(1e-6)) as u64)
}

thread_local! {
    /// Eager stage calls open on this thread: a lazy stage made inside one times every call.
    static EAGER: Cell<u32> = const { Cell::new(0) };
    /// This thread's published current stage (`ThreadData::current_stage`), once known.
    static CURRENT: Cell<*const AtomicU32> = const { Cell::new(std::ptr::null()) };
}

/// What one sample costs (two timed calls with their pulls, the wait after them, the slow calls
/// around them), in ns: about eight clock reads on a machine where one takes 9 ns, and the
/// bookkeeping.
const SAMPLE_COST_NS: f64 = 200.0;

/// Calls between two samples of a stage whose cycle (its own call and the wait for the next
/// one) takes `cycle` ticks, for timing to take [`lazy::TIMING_BUDGET`] of its time.
fn timing_gap(cycle: u64) -> u32 {
    static BUDGET: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    let budget = *BUDGET.get_or_init(|| {
        SAMPLE_COST_NS / lazy::TIMING_BUDGET / crate::clock::ns_per_tick().max(1e-6)
    });
    (budget / cycle.max(1) as f64).min(u32::MAX as f64) as u32
}

/// Stops publishing on this thread: its recorder's data, where the stage was published, is
/// going (the thread is exiting).
pub(crate) fn unpublish() {
    CURRENT.with(|c| c.set(std::ptr::null()));
}

/// Publishes `stage` as this thread's current stage; returns the previous one to restore.
#[inline(always)]
fn publish(stage: u32) -> u32 {
    let p = CURRENT.with(Cell::get);
    if p.is_null() {
        return 0;
    }
    // SAFETY: a stage cell of the function recorder, never freed (`recorder::stage_cell`).
    let a = unsafe { &*p };
    let prev = a.load(Relaxed);
    a.store(stage, Relaxed);
    prev
}

#[inline(always)]
fn restore(stage: u32) {
    let p = CURRENT.with(Cell::get);
    if !p.is_null() {
        // SAFETY: as in `publish`.
        unsafe { &*p }.store(stage, Relaxed);
    }
}

/// Seeds for the per-iterator sampling generators.
static SEEDS: AtomicU32 = AtomicU32::new(0x9E37_79B9);

/// Every stage figure one thread recorded.
pub struct StageThread {
    slots: SegVec<StageSlot>,
    slot_count: AtomicU32,
    edges: SegVec<EdgeSlot>,
    edge_count: AtomicU32,
    owner: UnsafeCell<Owner>,
}

// SAFETY: `owner` is only touched by the thread the `StageThread` belongs to (through the
// thread-local pointer); everything else is atomics and immutable data.
unsafe impl Sync for StageThread {}
// SAFETY: the raw pointers in `owner` point into `slots` and `edges`, which move with it.
unsafe impl Send for StageThread {}

impl StageThread {
    fn new() -> StageThread {
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
    unsafe fn owner(&self) -> &mut Owner {
        unsafe { &mut *self.owner.get() }
    }

    #[inline(always)]
    fn slot(&self, owner: &mut Owner, id: u32) -> &StageSlot {
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
        let _quiet = crate::alloc::quiet_here();
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
    fn edge(&self, owner: &mut Owner, from: u32, to: u32) -> usize {
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
        let _quiet = crate::alloc::quiet_here();
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

    #[inline(always)]
    fn push(&self, owner: &mut Owner) {
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
    fn pop(&self, owner: &mut Owner, span: u64) -> u64 {
        self.pop_nested(owner, span).0
    }

    /// As [`StageThread::pop`], with the number of nested frames that closed inside.
    #[inline(always)]
    fn pop_nested(&self, owner: &mut Owner, span: u64) -> (u64, u32) {
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
}

// ---- the thread-local handle ----------------------------------------------------------------

const DEAD: *const StageThread = std::ptr::dangling::<StageThread>();

thread_local! {
    static LOCAL: Cell<*const StageThread> = const { Cell::new(std::ptr::null()) };
    static EXIT: ExitMarker = const { ExitMarker };
}

struct ExitMarker;

impl Drop for ExitMarker {
    fn drop(&mut self) {
        let p = LOCAL.with(|l| l.replace(DEAD));
        if !p.is_null() && p != DEAD {
            exited::retire(p);
        }
    }
}

#[inline(always)]
fn local() -> Option<&'static StageThread> {
    let p = LOCAL.try_with(|l| l.get()).ok()?;
    if p.is_null() {
        return init_local();
    }
    if p == DEAD {
        return None;
    }
    // SAFETY: the registry keeps the thread's `StageThread` alive until the thread marks its
    // handle dead, at its exit.
    Some(unsafe { &*p })
}

#[cold]
#[inline(never)]
fn init_local() -> Option<&'static StageThread> {
    EXIT.try_with(|_| ()).ok()?;
    // The function recorder's data of this thread holds where its current stage is published.
    if let Some(td) = crate::recorder::local() {
        CURRENT.with(|c| c.set(td.current_stage));
    }
    // The recorder's own memory is not the program's.
    #[cfg(feature = "alloc")]
    let _quiet = crate::alloc::quiet_here();
    let st = Arc::new(StageThread::new());
    let p = Arc::as_ptr(&st);
    exited::register(st);
    LOCAL.with(|l| l.set(p));
    // SAFETY: just registered; see `local`.
    Some(unsafe { &*p })
}

#[inline(always)]
fn recording() -> bool {
    crate::control::enabled()
}

// ---- calls (eager stages, and the construction of lazy ones) --------------------------------

/// One call of a stage function, timed from entry to [`StageCall::finish`] (or drop, when the
/// call unwinds). For a lazy stage this is the construction of its iterator. A call is always
/// timed, and so is everything nested in it.
#[must_use = "the call is timed until it is finished or dropped"]
pub struct StageCall {
    /// Stage id, 0 when not recording.
    id: u32,
    eager: bool,
    prev_stage: u32,
    t0: u64,
}

/// Opens a call of the stage `site` that took `records_in` records from collection inputs.
#[inline]
pub fn call(site: &'static StageSite, records_in: u64) -> StageCall {
    let off = StageCall {
        id: 0,
        eager: false,
        prev_stage: 0,
        t0: 0,
    };
    if !recording() {
        return off;
    }
    let Some(t) = local() else { return off };
    let id = site.id();
    let eager = site.kind == StageKind::Eager;
    {
        // SAFETY: owning thread, no other borrow alive.
        let owner = unsafe { t.owner() };
        let now = raw();
        let s = t.slot(owner, id);
        s.invoked(now);
        if eager {
            bump(&s.records_in, records_in);
            // Top-level eager stages called one after another on a thread form a chain.
            if owner.depth == 0 && owner.last_eager != 0 && owner.last_eager != id {
                let e = t.edge(owner, owner.last_eager, id);
                // SAFETY: edge slots never move and live as long as the thread's data.
                bump(&unsafe { &*owner.edges[e].2 }.records, records_in);
            }
        }
        t.push(owner);
    }
    if eager {
        EAGER.with(|e| e.set(e.get() + 1));
    }
    StageCall {
        id,
        eager,
        prev_stage: publish(id),
        t0: raw(),
    }
}

impl StageCall {
    /// Closes the call; `out` is what the stage returned (its records count for eager stages).
    #[inline]
    pub fn finish<R: Records + ?Sized>(mut self, out: &R) {
        let n = if self.eager { out.records() } else { 0 };
        self.close(Some(n));
    }

    #[inline]
    fn close(&mut self, out: Option<u64>) {
        if self.id == 0 {
            return;
        }
        let id = std::mem::replace(&mut self.id, 0);
        let t1 = raw();
        restore(self.prev_stage);
        if self.eager {
            EAGER.with(|e| e.set(e.get().saturating_sub(1)));
        }
        let Some(t) = local() else { return };
        // SAFETY: owning thread, no other borrow alive.
        let owner = unsafe { t.owner() };
        let span = t1.saturating_sub(self.t0);
        let child = t.pop(owner, span);
        let own = span.saturating_sub(child);
        let s = t.slot(owner, id);
        bump(&s.call_ticks, own);
        if !self.eager {
            return;
        }
        match out {
            Some(n) => {
                bump(&s.records_out, n);
                bump(&s.exhausted, 1);
                if let Some(per) = own.checked_div(n) {
                    s.record_per_record(per, n);
                    bump(&s.first_ticks, span);
                    bump(&s.first_count, 1);
                }
                if owner.depth == 0 {
                    owner.last_eager = id;
                }
            }
            None => bump(&s.dropped, 1),
        }
    }
}

impl Drop for StageCall {
    fn drop(&mut self) {
        self.close(None);
    }
}

/// Anything whose records can be counted: the inputs and outputs of eager stages.
pub trait Records {
    /// Number of records held.
    fn records(&self) -> u64;
}

macro_rules! records_by_len {
    ($($t:ty => [$($g:tt)*]),* $(,)?) => {
        $(impl<$($g)*> Records for $t {
            #[inline]
            fn records(&self) -> u64 {
                self.len() as u64
            }
        })*
    };
}

records_by_len! {
    [T] => [T],
    Vec<T> => [T],
    std::collections::VecDeque<T> => [T],
    std::collections::LinkedList<T> => [T],
    std::collections::BinaryHeap<T> => [T],
    std::collections::HashMap<K, V, S> => [K, V, S],
    std::collections::BTreeMap<K, V> => [K, V],
    std::collections::HashSet<T, S> => [T, S],
    std::collections::BTreeSet<T> => [T],
    str => [],
    String => [],
}

impl<T, const N: usize> Records for [T; N] {
    #[inline]
    fn records(&self) -> u64 {
        N as u64
    }
}

impl<R: Records + ?Sized> Records for &R {
    #[inline]
    fn records(&self) -> u64 {
        (**self).records()
    }
}

impl<R: Records + ?Sized> Records for &mut R {
    #[inline]
    fn records(&self) -> u64 {
        (**self).records()
    }
}

impl<R: Records + ?Sized> Records for Box<R> {
    #[inline]
    fn records(&self) -> u64 {
        (**self).records()
    }
}

impl<R: Records> Records for Option<R> {
    #[inline]
    fn records(&self) -> u64 {
        self.as_ref().map_or(0, Records::records)
    }
}

impl<R: Records, E> Records for Result<R, E> {
    #[inline]
    fn records(&self) -> u64 {
        self.as_ref().map_or(0, Records::records)
    }
}

impl Records for () {
    #[inline]
    fn records(&self) -> u64 {
        0
    }
}

// ---- reading ------------------------------------------------------------------------------

#[derive(Default, Clone)]
struct Acc {
    invocations: u64,
    records_in: u64,
    records_out: u64,
    calls: u64,
    timed_calls: u64,
    sampled_weight: u64,
    own_weighted: u64,
    upstream_weighted: u64,
    exact_calls: u64,
    exact_own_ticks: u64,
    exact_upstream_ticks: u64,
    call_ticks: u64,
    active_ticks: u64,
    probe_ticks: u64,
    first_ticks: u64,
    first_count: u64,
    exhausted: u64,
    dropped: u64,
    hist_sum: u64,
    min: u64,
    max: u64,
    first_seen: u64,
    buckets: Vec<(u64, u64, u64)>,
}

/// Reads every thread's stage figures: the stages in pipeline order and the edges between them.
/// `wall_ns` is the run's wall time so far (for Amdahl's figures).
pub fn collect(wall_ns: u64) -> (Vec<StageStats>, Vec<PipelineEdge>) {
    let sites: Vec<&'static StageSite> = stages().clone();
    // Each thread is either live or exited here, never both nor neither.
    let (threads, exited) = exited::registered();
    let scale = crate::clock::ns_per_tick();
    let ns = |ticks: u64| (ticks as f64 * scale) as u64;
    let n = sites.len() + 1;
    let mut all = exited.map_or_else(exited::StageExited::default, |e| (*e).clone());
    for t in &threads {
        all.add_thread(t, n);
    }
    drop(threads);
    let exited::StageExited { mut accs, edges } = all;
    accs.resize_with(n, Acc::new);
    let ids: Vec<u32> = (1..accs.len() as u32)
        .filter(|&id| {
            let a = &accs[id as usize];
            a.invocations > 0 || a.records_out > 0 || a.records_in > 0
        })
        .collect();
    let order = pipeline_order(&ids, &edges, |id| accs[id as usize].first_seen);

    // Untimed `next` calls get the mean of the sampled ones of the same stage.
    let scaled = |ticks: u64, n: u64, of: u64| {
        if of == 0 {
            0.0
        } else {
            ticks as f64 * scale * (n as f64 / of as f64)
        }
    };
    // Exact calls count as they were; the others at the weighted mean of the sampled calls
    // (at the mean of the exact ones when no call was sampled yet).
    let estimate = |exact: u64, weighted: u64, a: &Acc| {
        let rest = a.calls.saturating_sub(a.exact_calls);
        let from = if a.sampled_weight > 0 {
            scaled(weighted, rest, a.sampled_weight)
        } else {
            scaled(exact, rest, a.exact_calls)
        };
        ns(exact) + from as u64
    };
    let own_of = |a: &Acc| ns(a.call_ticks) + estimate(a.exact_own_ticks, a.own_weighted, a);
    let mut out = Vec::with_capacity(ids.len());
    let mut extents = Vec::with_capacity(ids.len());
    for (pos, &id) in order.iter().enumerate() {
        let site = sites[id as usize - 1];
        let a = &accs[id as usize];
        let mut h = match hdrhistogram::Histogram::<u64>::new(2) {
            Ok(h) => h,
            Err(_) => continue,
        };
        for &(low, width, count) in &a.buckets {
            let v = ((low as f64 + (width - 1) as f64 / 2.0) * scale) as u64;
            // `record_n` grows the histogram; the saturating form would clamp to its initial
            // (tiny) range.
            if h.record_n(v, count).is_err() {
                h.saturating_record_n(v, count);
            }
        }
        let count = h.len();
        let (min, max, mean) = if count > 0 {
            (
                ns(a.min),
                ns(a.max),
                a.hist_sum as f64 * scale / count as f64,
            )
        } else {
            (0, 0, 0.0)
        };
        let own_ns = own_of(a);
        let upstream_ns = estimate(a.exact_upstream_ticks, a.upstream_weighted, a);
        // Inside the iterators' calls: their own time and their pulls from upstream.
        let inside_ns = own_ns.saturating_sub(ns(a.call_ticks)) + upstream_ns;
        // The iterators' active time, less what timing them cost inside it.
        let active_ns = ns(a.active_ticks.saturating_sub(a.probe_ticks));
        extents.push(bounds::Extent {
            id,
            call_ns: ns(a.call_ticks),
            active_ns: if a.active_ticks > 0 {
                active_ns.max(1)
            } else {
                0
            },
        });
        out.push(StageStats {
            name: site.name.to_string(),
            module: site.module.to_string(),
            file: site.file.to_string(),
            line: site.line,
            order: pos as u32,
            kind: site.kind,
            invocations: a.invocations,
            records_in: a.records_in,
            records_out: a.records_out,
            own_ns,
            upstream_ns,
            downstream_wait_ns: active_ns.saturating_sub(inside_ns),
            own_per_record: Percentiles::from_hdr(&h, min, max, mean),
            own_histogram: Histogram::from_hdr(&h),
            first_record_ns: ns(a.first_ticks).checked_div(a.first_count).unwrap_or(0),
            exhausted: a.exhausted,
            dropped_early: a.dropped,
            active_ns: extents.last().map_or(0, |e| e.active_ns),
            call_ns: ns(a.call_ticks),
            ..StageStats::default()
        });
    }
    // Selectivity, throughput, shares, the bottleneck and Amdahl's speedups.
    // Sampled estimates held to the exact active times and to their consumers' pulls.
    bounds::hold(&mut out, &extents, &edges);
    crate::delta::derive_stage_metrics(&mut out, wall_ns);

    let name = |id: u32| {
        sites
            .get((id as usize).wrapping_sub(1))
            .map_or_else(String::new, |s| s.name.to_string())
    };
    let rank: HashMap<u32, usize> = order.iter().enumerate().map(|(i, &id)| (id, i)).collect();
    let mut edge_list: Vec<((u32, u32), u64)> = edges.into_iter().filter(|e| e.1 > 0).collect();
    edge_list.sort_by_key(|&((f, t), _)| {
        (
            rank.get(&f).copied().unwrap_or(usize::MAX),
            rank.get(&t).copied().unwrap_or(usize::MAX),
        )
    });
    let edges = edge_list
        .into_iter()
        .map(|((f, t), records)| PipelineEdge {
            from: name(f),
            to: name(t),
            records,
        })
        .collect();
    (out, edges)
}

/// Stages sorted so that every stage comes after the stages feeding it; ties (and cycles) are
/// broken by first invocation.
fn pipeline_order(
    ids: &[u32],
    edges: &HashMap<(u32, u32), u64>,
    first_seen: impl Fn(u32) -> u64,
) -> Vec<u32> {
    let mut left: Vec<u32> = ids.to_vec();
    left.sort_by_key(|&id| (first_seen(id), id));
    let mut placed: Vec<u32> = Vec::with_capacity(ids.len());
    while !left.is_empty() {
        // The first stage (by first invocation) whose feeding stages are all placed; in a cycle,
        // simply the first one left.
        let ready = left
            .iter()
            .position(|&id| {
                edges
                    .keys()
                    .all(|&(f, t)| t != id || f == id || placed.contains(&f) || !left.contains(&f))
            })
            .unwrap_or(0);
        placed.push(left.remove(ready));
    }
    placed
}

/// Bytes the stage recorder holds on the calling thread.
pub fn bytes_on_this_thread() -> usize {
    let Some(t) = local() else { return 0 };
    let mut n = std::mem::size_of::<StageThread>() + t.slots.bytes() + t.edges.bytes();
    for i in 0..t.slot_count.load(Acquire) as usize {
        if let Some(s) = t.slots.get(i) {
            n += s.hist.bytes() - crate::hist::EMPTY_BYTES;
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The threshold as first written, with the division.
    fn limit_by_division(total: u64, count: u64) -> u64 {
        if count < 64 {
            return u64::MAX;
        }
        (total / count)
            .saturating_mul(OUTLIER_FACTOR)
            .max(outlier_floor())
    }

    #[test]
    fn outlier_test_matches_the_divided_threshold() {
        let floor = outlier_floor();
        let mut values = vec![0, 1, 2, 63, 64, 65, 1000, u64::MAX - 1, u64::MAX];
        for base in [floor, floor / 64, u64::MAX / OUTLIER_FACTOR, 1 << 40] {
            for d in 0..3 {
                values.extend([base.wrapping_sub(d), base.wrapping_add(d)]);
            }
        }
        let mut rng = 0x2545_F491_4F6C_DD1Du64;
        for _ in 0..2000 {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            values.push(rng >> (rng % 64));
        }
        let counts = [0, 1, 63, 64, 65, 100, 1 << 20, u64::MAX];
        for &total in &values {
            for &count in &counts {
                let limit = limit_by_division(total, count);
                for x in [
                    limit.wrapping_sub(1),
                    limit,
                    limit.wrapping_add(1),
                    total,
                    floor + 1,
                ] {
                    assert_eq!(
                        is_outlier(x, total, count),
                        x > limit,
                        "x {x} total {total} count {count}"
                    );
                }
            }
        }
    }
}
