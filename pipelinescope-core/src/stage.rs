//! The stage recorder: what `#[stage]` expands into.
//!
//! A lazy stage returns an iterator; it is wrapped in a [`StageIter`] that times every `next`
//! over the iterator's whole life. The stage's iterator inputs are wrapped in [`StageInput`],
//! whose `next` measures the time spent pulling from upstream, so that time is not charged to the
//! stage. An eager stage (collections in, a collection out) is timed per call by a [`StageCall`]
//! and counts records from lengths ([`Records`]).
//!
//! Timing follows the function recorder: each thread keeps a small stack of open stage frames;
//! a frame's own time is its span minus the spans of everything nested in it that is accounted
//! elsewhere (nested stages and upstream pulls). Figures live in per-thread, per-stage slots of
//! atomics that only the owning thread writes (a relaxed load and store, no lock prefix), read by
//! [`collect`] from any thread. Per record: two clock reads per wrapper, no lock, no allocation.
//!
//! Pipeline shape: when a stage hands a record out, the thread remembers which stage it was; when
//! an input wrapper receives a record, the last stage that handed one out during that pull is its
//! direct upstream, and the edge `upstream -> stage` is counted.

use crate::clock::raw;
use crate::hist::AtomicHist;
use crate::profile::{Histogram, Percentiles, PipelineEdge, StageKind, StageStats};
use crate::recorder::ThreadData;
use crate::segvec::SegVec;
use std::cell::{Cell, UnsafeCell};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::*};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

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
    /// `next` calls of the stage's iterators, and how many of them were timed.
    calls: AtomicU64,
    timed_calls: AtomicU64,
    /// Own and upstream time of the sampled timed `next` calls.
    own_ticks: AtomicU64,
    upstream_ticks: AtomicU64,
    /// `next` calls timed because all calls of their phase are (see [`EXACT_CALLS`]): counted
    /// in `calls` but not in `timed_calls`; their own and upstream time.
    exact_calls: AtomicU64,
    exact_own_ticks: AtomicU64,
    exact_upstream_ticks: AtomicU64,
    /// Own time of whole calls (eager stages, construction of lazy iterators): always timed.
    call_ticks: AtomicU64,
    /// Gaps between a record out and the next `next` call; the measured ones and their sum.
    gaps: AtomicU64,
    wait_samples: AtomicU64,
    wait_ticks: AtomicU64,
    /// Measured gaps far above the stage's usual wait (the thread lost the CPU, say): counted
    /// once as they were, never scaled up with the sampled ones.
    outlier_waits: AtomicU64,
    outlier_wait_ticks: AtomicU64,
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
            own_ticks: AtomicU64::new(0),
            upstream_ticks: AtomicU64::new(0),
            exact_calls: AtomicU64::new(0),
            exact_own_ticks: AtomicU64::new(0),
            exact_upstream_ticks: AtomicU64::new(0),
            call_ticks: AtomicU64::new(0),
            gaps: AtomicU64::new(0),
            wait_samples: AtomicU64::new(0),
            wait_ticks: AtomicU64::new(0),
            outlier_waits: AtomicU64::new(0),
            outlier_wait_ticks: AtomicU64::new(0),
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

/// Each outermost stage iterator (one whose `next` is not called from inside another stage)
/// times every one of its first `EXACT_CALLS` `next` calls, and everything nested in them; after
/// that, about one call in `SAMPLE_EVERY`, at random so that periodic work does not alias.
/// Counts are always exact; the time of untimed calls is estimated from the timed calls of the
/// same stage made after that first phase (the first phase holds the cold start: the first
/// record, caches filling, lazy initialisation; scaling it up to the untimed calls would charge
/// that start many times over), while the calls of the first phase count as they were. Reading the clock costs ~10 ns on some machines, more than a cheap stage's own
/// work: timing every record would distort the pipeline being measured.
pub const EXACT_CALLS: u64 = 1024;
/// See [`EXACT_CALLS`].
pub const SAMPLE_EVERY: u32 = 16;
// The exact phase is counted down in a `u32`.
const _: () = assert!(EXACT_CALLS <= u32::MAX as u64);

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

/// No stage call is open on this thread.
const IDLE: u8 = 0;
/// The open outermost stage call only counts.
const COUNTING: u8 = 1;
/// The open outermost stage call is a sampled one: it is timed, and so is everything nested in
/// it. (Any mode from here up is timed.)
const TIMED: u8 = 2;
/// The open outermost stage call is timed because every call of its phase is (the first
/// `EXACT_CALLS` of an iterator, or a whole stage call), and so is everything nested in it.
const EXACT: u8 = 3;

thread_local! {
    /// IDLE, COUNTING, TIMED or EXACT. A plain `const` cell: reading it is one thread-local load.
    static MODE: Cell<u8> = const { Cell::new(IDLE) };
    /// Stage that last handed a record out on this thread (0: none since the last pull began).
    static LAST_OUT: Cell<u32> = const { Cell::new(0) };
    /// This thread's published current stage (`ThreadData::current_stage`), once known.
    static CURRENT: Cell<*const AtomicU32> = const { Cell::new(std::ptr::null()) };
}

/// Publishes `stage` as this thread's current stage; returns the previous one to restore.
#[inline(always)]
fn publish(stage: u32) -> u32 {
    let p = CURRENT.with(Cell::get);
    if p.is_null() {
        return 0;
    }
    // SAFETY: points into a `ThreadData` that the function recorder keeps alive.
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
    /// The function recorder's data of this thread, where the current stage is published.
    td: Option<&'static ThreadData>,
    owner: UnsafeCell<Owner>,
}

// SAFETY: `owner` is only touched by the thread the `StageThread` belongs to (through the
// thread-local pointer); everything else is atomics and immutable data.
unsafe impl Sync for StageThread {}
// SAFETY: the raw pointers in `owner` point into `slots` and `edges`, which move with it.
unsafe impl Send for StageThread {}

static THREADS: Mutex<Vec<Arc<StageThread>>> = Mutex::new(Vec::new());

fn all_threads() -> Vec<Arc<StageThread>> {
    THREADS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone()
}

impl StageThread {
    fn new() -> StageThread {
        StageThread {
            slots: SegVec::default(),
            slot_count: AtomicU32::new(0),
            edges: SegVec::default(),
            edge_count: AtomicU32::new(0),
            td: crate::recorder::local(),
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
            *f = Frame { child: 0 };
        }
        owner.depth += 1;
    }

    /// Closes the innermost frame, charging `span` to its parent; returns the frame's child time.
    #[inline(always)]
    fn pop(&self, owner: &mut Owner, span: u64) -> u64 {
        owner.depth = owner.depth.saturating_sub(1);
        let child = owner.frames.get(owner.depth).map_or(0, |f| f.child);
        if let Some(p) = owner
            .depth
            .checked_sub(1)
            .and_then(|d| owner.frames.get_mut(d))
        {
            p.child += span;
        }
        child
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
        LOCAL.with(|l| l.set(DEAD));
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
    // SAFETY: the registry keeps every `StageThread` alive for the rest of the process.
    Some(unsafe { &*p })
}

#[cold]
#[inline(never)]
fn init_local() -> Option<&'static StageThread> {
    EXIT.try_with(|_| ()).ok()?;
    // The recorder's own memory is not the program's.
    #[cfg(feature = "alloc")]
    let _quiet = crate::alloc::quiet_here();
    let st = Arc::new(StageThread::new());
    if let Some(td) = st.td {
        CURRENT.with(|c| c.set(&td.current_stage));
    }
    let p = Arc::as_ptr(&st);
    THREADS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(st);
    LOCAL.with(|l| l.set(p));
    // SAFETY: just registered; see `local`.
    Some(unsafe { &*p })
}

#[inline(always)]
fn recording() -> bool {
    crate::control::enabled()
}

// ---- lazy stages ----------------------------------------------------------------------------

/// Counts an iterator gathered between timed calls, added to its thread's slot on the next
/// timed call and when it drops (so nothing is written to shared memory on untimed calls).
#[derive(Clone, Copy, Default)]
struct Pending {
    calls: u64,
    out: u64,
    gaps: u64,
    wait_samples: u64,
    wait_ticks: u64,
    outlier_waits: u64,
    outlier_wait_ticks: u64,
}

impl Pending {
    #[inline(always)]
    fn flush(&mut self, s: &StageSlot) {
        if self.calls == 0 && self.gaps == 0 {
            return;
        }
        bump(&s.calls, self.calls);
        bump(&s.records_out, self.out);
        bump(&s.gaps, self.gaps);
        bump(&s.wait_samples, self.wait_samples);
        bump(&s.wait_ticks, self.wait_ticks);
        bump(&s.outlier_waits, self.outlier_waits);
        bump(&s.outlier_wait_ticks, self.outlier_wait_ticks);
        *self = Pending::default();
    }
}

/// A lazy stage's output iterator: forwards to the stage's iterator and times its `next` calls.
///
/// Own time is the time inside `next` minus the time pulling from upstream (through
/// [`StageInput`]) and inside nested stages; downstream wait is the time between handing a record
/// out and the next call to `next`. See [`EXACT_CALLS`] for which calls are timed.
///
/// `fold` (and so `for_each`, `count`, `sum`, ...) is forwarded to the stage's iterator, so that
/// a consumer that folds keeps the internal iteration of the whole chain: when not recording the
/// wrapper then costs nothing per record. While recording, handing a record to the fold's
/// closure ends a `next` call and the closure's return starts the next one: the same events, in
/// the same order, as when the consumer calls `next`.
pub struct StageIter<I> {
    st: IterState,
    inner: I,
}

/// Everything a [`StageIter`] keeps besides the wrapped iterator; adds its counts to the thread's
/// figures when dropped.
struct IterState {
    /// Stage id, 0 when not recording.
    id: u32,
    /// Outermost calls left in the current phase: the exact phase (the first `EXACT_CALLS`),
    /// then the untimed calls before the next sampled one. One counter, so that an untimed
    /// call only decrements and compares it.
    countdown: u32,
    /// The mode of the calls counted down: EXACT during the exact phase, then COUNTING.
    phase: u8,
    rng: u32,
    first_enter: u64,
    /// Clock reading when the last record went out, if that call was timed (else 0).
    last_out: u64,
    /// A record went out and the next `next` call has not come yet.
    gap_open: bool,
    own_since_out: u64,
    first_done: bool,
    done: bool,
    pending: Pending,
    /// The stage's measured gaps (their sum and count) as of the last timed call, against which
    /// a gap is an outlier (see [`is_outlier`]).
    wait_total: u64,
    wait_count: u64,
}

/// A timed call in progress.
struct Open {
    t: &'static StageThread,
    slot: &'static StageSlot,
    /// Depth of the thread's frame stack before this call's frame.
    depth: usize,
    t0: u64,
    /// Timed because every call of its phase is (counted apart from the sampled ones).
    exact: bool,
}

/// Puts the thread's stage state back when the inner iterator panics: dropped only while
/// unwinding (the normal path forgets it), so it costs nothing per call.
struct Unwind {
    outer: bool,
    prev: Option<u32>,
    depth: Option<(&'static StageThread, usize)>,
}

impl Drop for Unwind {
    #[cold]
    fn drop(&mut self) {
        if let Some(prev) = self.prev {
            restore(prev);
        }
        if self.outer {
            MODE.with(|m| m.set(IDLE));
        }
        if let Some((t, depth)) = self.depth {
            // SAFETY: owning thread; the frames above `depth` belong to calls that unwound.
            unsafe { t.owner() }.depth = depth;
        }
    }
}

impl<I> StageIter<I> {
    /// Wraps the iterator a lazy stage returned.
    #[inline]
    pub fn new(site: &'static StageSite, inner: I) -> StageIter<I>
    where
        I: Iterator,
    {
        let on = recording();
        StageIter {
            st: IterState {
                id: if on { site.id() } else { 0 },
                countdown: EXACT_CALLS as u32,
                phase: EXACT,
                rng: if on {
                    SEEDS.fetch_add(0x6D2B_79F5, Relaxed) | 1
                } else {
                    1
                },
                first_enter: 0,
                last_out: 0,
                gap_open: false,
                own_since_out: 0,
                first_done: false,
                done: false,
                pending: Pending::default(),
                wait_total: 0,
                wait_count: 0,
            },
            inner,
        }
    }

    /// The wrapped iterator.
    pub fn get_ref(&self) -> &I {
        &self.inner
    }

    #[inline(always)]
    fn step<T>(&mut self, f: impl FnOnce(&mut I) -> Option<T>) -> Option<T> {
        if self.st.id == 0 {
            return f(&mut self.inner);
        }
        let (outer, mode) = self.st.mode();
        if mode >= TIMED {
            self.step_timed(outer, mode, f)
        } else {
            self.step_counting(outer, f)
        }
    }

    /// An untimed call: counts only, in the iterator itself.
    #[inline(always)]
    fn step_counting<T>(&mut self, outer: bool, f: impl FnOnce(&mut I) -> Option<T>) -> Option<T> {
        if outer {
            MODE.with(|m| m.set(COUNTING));
        }
        self.st.count_enter();
        let prev = publish(self.st.id);
        let unwind = Unwind {
            outer,
            prev: Some(prev),
            depth: None,
        };
        let item = f(&mut self.inner);
        std::mem::forget(unwind);
        restore(prev);
        if outer {
            MODE.with(|m| m.set(IDLE));
        }
        self.st.exit(None, item.is_some());
        item
    }

    #[inline(always)]
    fn step_timed<T>(
        &mut self,
        outer: bool,
        mode: u8,
        f: impl FnOnce(&mut I) -> Option<T>,
    ) -> Option<T> {
        if outer {
            MODE.with(|m| m.set(mode));
        }
        let mut open = None;
        self.st.timed_enter(mode == EXACT, &mut open);
        let prev = publish(self.st.id);
        let unwind = Unwind {
            outer,
            prev: Some(prev),
            depth: open.as_ref().map(|o| (o.t, o.depth)),
        };
        let item = f(&mut self.inner);
        std::mem::forget(unwind);
        restore(prev);
        if outer {
            MODE.with(|m| m.set(IDLE));
        }
        self.st.exit(open, item.is_some());
        item
    }
}

impl<I: Iterator> StageIter<I> {
    /// A timed `next`, out of line: the counting path inlines into the consumer, small.
    #[inline(never)]
    fn next_timed(&mut self, outer: bool, mode: u8) -> Option<I::Item> {
        self.step_timed(outer, mode, Iterator::next)
    }
}

impl IterState {
    /// The mode of this outermost call: EXACT, TIMED or COUNTING.
    #[inline(always)]
    fn sample(&mut self) -> u8 {
        if self.countdown > 0 {
            self.countdown -= 1;
            return self.phase;
        }
        self.phase = COUNTING;
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.rng = x;
        // Uniform in 0..2n-1: a mean gap of n-1 untimed calls, one timed call in n.
        self.countdown = x % (2 * SAMPLE_EVERY - 1);
        TIMED
    }

    /// Whether the call starting now is the outermost stage call on its thread, and its mode
    /// (COUNTING, TIMED or EXACT).
    #[inline(always)]
    fn mode(&mut self) -> (bool, u8) {
        let mode = MODE.with(Cell::get);
        let outer = mode == IDLE;
        (outer, if outer { self.sample() } else { mode })
    }

    /// End of a `next` call that returned a record (`some`) or not.
    #[inline(always)]
    fn exit(&mut self, open: Option<Open>, some: bool) {
        match open {
            Some(open) => self.timed_exit(open, some),
            None if some => {
                self.pending.out += 1;
                self.gap_open = true;
                LAST_OUT.with(|l| l.set(self.id));
            }
            None => self.done = true,
        }
    }

    /// Start of an untimed call: counts only, in the iterator itself.
    #[inline(always)]
    fn count_enter(&mut self) {
        let p = &mut self.pending;
        p.calls += 1;
        if self.gap_open {
            self.gap_open = false;
            p.gaps += 1;
            if self.last_out != 0 {
                // The previous record went out in a timed call: close its gap.
                let w = raw().saturating_sub(self.last_out);
                if is_outlier(w, self.wait_total, self.wait_count) {
                    p.outlier_wait_ticks += w;
                    p.outlier_waits += 1;
                } else {
                    p.wait_ticks += w;
                    p.wait_samples += 1;
                }
                self.last_out = 0;
            }
        }
    }

    /// Opens a timed call into `into` (left as it is when the thread's data is gone). Written
    /// in place: an `Option<Open>` returned through a temporary and copied at once is read back
    /// wider than it was written, which stalls the store buffer.
    #[inline(never)]
    fn timed_enter(&mut self, exact: bool, into: &mut Option<Open>) {
        let Some(t) = local() else { return };
        // SAFETY: owning thread; this borrow ends before the inner call.
        let owner = unsafe { t.owner() };
        let depth = owner.depth;
        t.push(owner);
        let slot = t.slot(owner, self.id);
        *into = Some(Open {
            t,
            slot,
            depth,
            t0: raw(),
            exact,
        });
    }

    #[inline(never)]
    fn timed_exit(&mut self, open: Open, some: bool) {
        let t1 = raw();
        let Open {
            t,
            slot: s,
            t0,
            exact,
            ..
        } = open;
        // SAFETY: owning thread, no other borrow alive.
        let owner = unsafe { t.owner() };
        let span = t1.saturating_sub(t0);
        let child = t.pop(owner, span);
        let own = span.saturating_sub(child);
        self.pending.calls += 1;
        self.pending.flush(s);
        // A sampled call far slower than this stage's exact-phase calls (the thread lost the
        // CPU, a page fault) counts once as it was: scaled up like a typical call it would
        // charge the stage many times over for one accident.
        let (ec, eo) = (s.exact_calls.load(Relaxed), s.exact_own_ticks.load(Relaxed));
        if exact || is_outlier(own, eo, ec) {
            bump(&s.exact_calls, 1);
            bump(&s.exact_own_ticks, own);
        } else {
            bump(&s.timed_calls, 1);
            bump(&s.own_ticks, own);
        }
        if self.gap_open {
            self.gap_open = false;
            bump(&s.gaps, 1);
            if self.last_out != 0 {
                let w = t0.saturating_sub(self.last_out);
                if is_outlier(w, self.wait_total, self.wait_count) {
                    bump(&s.outlier_wait_ticks, w);
                    bump(&s.outlier_waits, 1);
                } else {
                    bump(&s.wait_ticks, w);
                    bump(&s.wait_samples, 1);
                }
            }
        }
        self.wait_total = s.wait_ticks.load(Relaxed);
        self.wait_count = s.wait_samples.load(Relaxed);
        if self.first_enter == 0 {
            self.first_enter = t0.max(1);
        }
        let own_total = self.own_since_out + own;
        if some {
            bump(&s.records_out, 1);
            s.record_per_record(own_total, 1);
            self.own_since_out = 0;
            self.last_out = t1;
            self.gap_open = true;
            LAST_OUT.with(|l| l.set(self.id));
            if !self.first_done {
                self.first_done = true;
                bump(&s.first_ticks, t1.saturating_sub(self.first_enter));
                bump(&s.first_count, 1);
            }
        } else {
            self.own_since_out = own_total;
            self.last_out = 0;
            self.done = true;
        }
    }
}

impl Drop for IterState {
    fn drop(&mut self) {
        if self.id == 0 {
            return;
        }
        let Some(t) = local() else { return };
        // SAFETY: owning thread, no other borrow alive.
        let owner = unsafe { t.owner() };
        let s = t.slot(owner, self.id);
        self.pending.flush(s);
        if self.done {
            bump(&s.exhausted, 1);
        } else {
            bump(&s.dropped, 1);
        }
    }
}

impl<I: Iterator> Iterator for StageIter<I> {
    type Item = I::Item;

    // Inlined into the consumer when not recording or only counting (most records); timed
    // calls go out of line.
    #[inline(always)]
    fn next(&mut self) -> Option<I::Item> {
        if self.st.id == 0 {
            return self.inner.next();
        }
        let (outer, mode) = self.st.mode();
        if mode >= TIMED {
            return self.next_timed(outer, mode);
        }
        self.step_counting(outer, Iterator::next)
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }

    #[inline]
    fn fold<B, F>(self, init: B, mut f: F) -> B
    where
        F: FnMut(B, Self::Item) -> B,
    {
        if self.st.id == 0 {
            let StageIter { st: _, inner } = self;
            return inner.fold(init, f);
        }
        // Recording: the wrapped iterator is folded too. Handing a record to the closure ends
        // a `next` call and the closure's return starts the next one: the same events, in the
        // same order, as when the consumer calls `next`.
        let StageIter { mut st, inner } = self;
        let mut fold = IterFold {
            st: &mut st,
            open: false,
            outer: false,
            mode: IDLE,
            prev: 0,
            timed: None,
        };
        fold.resume();
        let acc = inner.fold(init, |acc, item| {
            fold.out(true);
            let acc = f(acc, item);
            fold.resume();
            acc
        });
        fold.out(false);
        acc
    }
}

/// A `fold` through a recording stage iterator: the `next` call open between two records.
struct IterFold<'a> {
    st: &'a mut IterState,
    /// A call is open (the fold is inside the wrapped iterator).
    open: bool,
    outer: bool,
    mode: u8,
    prev: u32,
    timed: Option<Open>,
}

impl IterFold<'_> {
    /// Starts a `next` call.
    #[inline(always)]
    fn resume(&mut self) {
        let (outer, mode) = self.st.mode();
        if outer {
            MODE.with(|m| m.set(mode));
        }
        if mode >= TIMED {
            // `timed` is None here (`out` took it).
            self.st.timed_enter(mode == EXACT, &mut self.timed);
        } else {
            self.st.count_enter();
        }
        self.prev = publish(self.st.id);
        self.outer = outer;
        self.mode = mode;
        self.open = true;
    }

    /// Ends the open call, with a record or at the end.
    #[inline(always)]
    fn out(&mut self, some: bool) {
        self.open = false;
        restore(self.prev);
        if self.outer {
            MODE.with(|m| m.set(IDLE));
        }
        let open = if self.mode >= TIMED {
            self.timed.take()
        } else {
            None
        };
        self.st.exit(open, some);
    }
}

impl Drop for IterFold<'_> {
    /// Unwinds the open call when the wrapped iterator panics (a panic in the consumer's
    /// closure finds no call open).
    fn drop(&mut self) {
        if self.open {
            drop(Unwind {
                outer: self.outer,
                prev: Some(self.prev),
                depth: self.timed.as_ref().map(|o| (o.t, o.depth)),
            });
        }
    }
}

impl<I: DoubleEndedIterator> DoubleEndedIterator for StageIter<I> {
    #[inline]
    fn next_back(&mut self) -> Option<I::Item> {
        self.step(DoubleEndedIterator::next_back)
    }
}

impl<I: ExactSizeIterator> ExactSizeIterator for StageIter<I> {}

impl<I: std::iter::FusedIterator> std::iter::FusedIterator for StageIter<I> {}

impl<I: Clone> Clone for StageIter<I> {
    /// A clone is a new activity of the same stage: it starts with fresh per-iterator state.
    fn clone(&self) -> Self {
        StageIter {
            st: IterState {
                id: self.st.id,
                countdown: EXACT_CALLS as u32,
                phase: EXACT,
                rng: self.st.rng.rotate_left(7) | 1,
                first_enter: 0,
                last_out: 0,
                gap_open: false,
                own_since_out: 0,
                first_done: false,
                done: self.st.done,
                pending: Pending::default(),
                wait_total: 0,
                wait_count: 0,
            },
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

/// An iterator input of a stage: counts records in and measures the time spent pulling them from
/// upstream, which is then not charged to the stage. Like [`StageIter`], it forwards `fold`.
pub struct StageInput<I> {
    st: InputState,
    inner: I,
}

/// Everything a [`StageInput`] keeps besides the wrapped iterator; adds its counts to the
/// thread's figures when dropped.
struct InputState {
    /// The consuming stage's id, 0 when not recording.
    stage: u32,
    /// Records in not yet added to the thread's slot.
    pending_in: u64,
    /// The upstream stage of the last record, and records from it not yet added to its edge.
    edge_from: u32,
    pending_edge: u64,
}

impl<I> StageInput<I> {
    /// Wraps an iterator input of the stage `site`.
    #[inline]
    pub fn new(site: &'static StageSite, inner: I) -> StageInput<I>
    where
        I: Iterator,
    {
        StageInput {
            st: InputState {
                stage: if recording() { site.id() } else { 0 },
                pending_in: 0,
                edge_from: 0,
                pending_edge: 0,
            },
            inner,
        }
    }

    #[inline(always)]
    fn step<T>(&mut self, f: impl FnOnce(&mut I) -> Option<T>) -> Option<T> {
        if self.st.stage == 0 {
            return f(&mut self.inner);
        }
        let mut open = None;
        self.st.pull_begin(&mut open);
        // The current stage stays the consuming stage while it pulls (an upstream stage
        // publishes itself): one thread-local write less per record.
        let unwind = Unwind {
            outer: false,
            prev: None,
            depth: open.as_ref().map(|o| (o.t, o.depth)),
        };
        let item = f(&mut self.inner);
        std::mem::forget(unwind);
        self.st.pull_end(open, item.is_some());
        item
    }
}

impl InputState {
    /// Start of a pull from upstream (recording only); a timed pull opens into `into`, which
    /// is None.
    #[inline(always)]
    fn pull_begin(&mut self, into: &mut Option<Open>) {
        LAST_OUT.with(|l| l.set(0));
        let mode = MODE.with(Cell::get);
        if mode >= TIMED {
            self.timed_enter(mode == EXACT, into);
        }
    }

    /// End of a pull that brought a record (`some`) or not.
    #[inline(always)]
    fn pull_end(&mut self, open: Option<Open>, some: bool) {
        if let Some(open) = open {
            self.timed_exit(open);
        }
        if some {
            self.pending_in += 1;
            let from = LAST_OUT.with(Cell::get);
            if from != self.edge_from {
                self.switch_edge(from);
            }
            self.pending_edge += 1;
        }
    }

    #[inline(never)]
    // The pull's clock readings enclose the pull's own bookkeeping: that time then counts as
    // upstream time, not as the consuming stage's own (where it would add some tens of ns per
    // timed record to every stage with an input).
    // Written in place, as `IterState::timed_enter`.
    fn timed_enter(&mut self, exact: bool, into: &mut Option<Open>) {
        let t0 = raw();
        let Some(t) = local() else { return };
        // SAFETY: owning thread; this borrow ends before the inner call.
        let owner = unsafe { t.owner() };
        let depth = owner.depth;
        t.push(owner);
        let slot = t.slot(owner, self.stage);
        *into = Some(Open {
            t,
            slot,
            depth,
            t0,
            exact,
        });
    }

    #[inline(never)]
    fn timed_exit(&mut self, open: Open) {
        let t = open.t;
        // SAFETY: owning thread, no other borrow alive.
        let owner = unsafe { t.owner() };
        self.flush(t, owner);
        let span = raw().saturating_sub(open.t0);
        t.pop(owner, span);
        let s = open.slot;
        let (ec, eu) = (
            s.exact_calls.load(Relaxed),
            s.exact_upstream_ticks.load(Relaxed),
        );
        if open.exact || is_outlier(span, eu, ec) {
            bump(&open.slot.exact_upstream_ticks, span);
        } else {
            bump(&open.slot.upstream_ticks, span);
        }
    }

    /// Adds the pending counts to the current thread's slots.
    fn flush(&mut self, t: &StageThread, owner: &mut Owner) {
        if self.pending_in > 0 {
            let s = t.slot(owner, self.stage);
            bump(&s.records_in, std::mem::take(&mut self.pending_in));
        }
        if self.pending_edge > 0 && self.edge_from != 0 {
            let e = t.edge(owner, self.edge_from, self.stage);
            // SAFETY: edge slots never move and live as long as the thread's data.
            bump(&unsafe { &*owner.edges[e].2 }.records, self.pending_edge);
        }
        self.pending_edge = 0;
    }

    #[cold]
    #[inline(never)]
    fn switch_edge(&mut self, from: u32) {
        if let Some(t) = local() {
            // SAFETY: owning thread, no other borrow alive.
            let owner = unsafe { t.owner() };
            self.flush(t, owner);
        }
        self.edge_from = from;
    }
}

impl Drop for InputState {
    fn drop(&mut self) {
        if self.stage == 0 {
            return;
        }
        if let Some(t) = local() {
            // SAFETY: owning thread, no other borrow alive.
            let owner = unsafe { t.owner() };
            self.flush(t, owner);
        }
    }
}

impl<I: Iterator> Iterator for StageInput<I> {
    type Item = I::Item;

    // Inlined into the consumer when not recording or only counting; timed pulls go out of
    // line.
    #[inline(always)]
    fn next(&mut self) -> Option<I::Item> {
        if self.st.stage == 0 {
            return self.inner.next();
        }
        if MODE.with(Cell::get) >= TIMED {
            return self.next_timed();
        }
        LAST_OUT.with(|l| l.set(0));
        let item = self.inner.next();
        self.st.pull_end(None, item.is_some());
        item
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }

    #[inline]
    fn fold<B, F>(self, init: B, mut f: F) -> B
    where
        F: FnMut(B, Self::Item) -> B,
    {
        if self.st.stage == 0 {
            let StageInput { st: _, inner } = self;
            return inner.fold(init, f);
        }
        // Recording: the wrapped iterator is folded too, as in `StageIter::fold`.
        let StageInput { mut st, inner } = self;
        let mut fold = InputFold {
            st: &mut st,
            pulling: false,
            timed: None,
        };
        fold.resume();
        let acc = inner.fold(init, |acc, item| {
            fold.got(true);
            let acc = f(acc, item);
            fold.resume();
            acc
        });
        fold.got(false);
        acc
    }
}

/// A `fold` through a recording stage input: the pull open between two records.
struct InputFold<'a> {
    st: &'a mut InputState,
    /// A pull is open (the fold is inside the wrapped iterator).
    pulling: bool,
    timed: Option<Open>,
}

impl InputFold<'_> {
    /// Starts a pull.
    #[inline(always)]
    fn resume(&mut self) {
        // `timed` is None here (`got` took it): an untimed pull leaves it alone rather than
        // write a whole `Option<Open>` per record (a byte-wide tag written and read back
        // eight bytes wide stalls the store buffer).
        self.st.pull_begin(&mut self.timed);
        self.pulling = true;
    }

    /// Ends the open pull, with a record or at the end.
    #[inline(always)]
    fn got(&mut self, some: bool) {
        self.pulling = false;
        let open = if self.timed.is_some() {
            self.timed.take()
        } else {
            None
        };
        self.st.pull_end(open, some);
    }
}

impl Drop for InputFold<'_> {
    /// Unwinds the open pull when upstream panics.
    fn drop(&mut self) {
        if self.pulling {
            drop(Unwind {
                outer: false,
                prev: None,
                depth: self.timed.as_ref().map(|o| (o.t, o.depth)),
            });
        }
    }
}

impl<I: Iterator> StageInput<I> {
    /// A timed pull, out of line: the counting path inlines into the consumer, small.
    #[inline(never)]
    fn next_timed(&mut self) -> Option<I::Item> {
        self.step(Iterator::next)
    }
}

impl<I: DoubleEndedIterator> DoubleEndedIterator for StageInput<I> {
    #[inline]
    fn next_back(&mut self) -> Option<I::Item> {
        self.step(DoubleEndedIterator::next_back)
    }
}

impl<I: ExactSizeIterator> ExactSizeIterator for StageInput<I> {}

impl<I: std::iter::FusedIterator> std::iter::FusedIterator for StageInput<I> {}

impl<I: Clone> Clone for StageInput<I> {
    fn clone(&self) -> Self {
        StageInput {
            st: InputState {
                stage: self.st.stage,
                pending_in: 0,
                edge_from: 0,
                pending_edge: 0,
            },
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

// ---- calls (eager stages, and the construction of lazy ones) --------------------------------

/// One call of a stage function, timed from entry to [`StageCall::finish`] (or drop, when the
/// call unwinds). For a lazy stage this is the construction of its iterator. A call is always
/// timed, and so is everything nested in it.
#[must_use = "the call is timed until it is finished or dropped"]
pub struct StageCall {
    /// Stage id, 0 when not recording.
    id: u32,
    eager: bool,
    prev_mode: u8,
    prev_stage: u32,
    t0: u64,
}

/// Opens a call of the stage `site` that took `records_in` records from collection inputs.
#[inline]
pub fn call(site: &'static StageSite, records_in: u64) -> StageCall {
    let off = StageCall {
        id: 0,
        eager: false,
        prev_mode: IDLE,
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
    let prev_mode = MODE.with(|m| m.replace(EXACT));
    StageCall {
        id,
        eager,
        prev_mode,
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
        MODE.with(|m| m.set(self.prev_mode));
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

#[derive(Default)]
struct Acc {
    invocations: u64,
    records_in: u64,
    records_out: u64,
    calls: u64,
    timed_calls: u64,
    own_ticks: u64,
    upstream_ticks: u64,
    exact_calls: u64,
    exact_own_ticks: u64,
    exact_upstream_ticks: u64,
    call_ticks: u64,
    gaps: u64,
    wait_samples: u64,
    wait_ticks: u64,
    outlier_waits: u64,
    outlier_wait_ticks: u64,
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
    let threads = all_threads();
    let scale = crate::clock::ns_per_tick();
    let ns = |ticks: u64| (ticks as f64 * scale) as u64;
    let mut accs: Vec<Acc> = (0..=sites.len())
        .map(|_| Acc {
            min: u64::MAX,
            ..Acc::default()
        })
        .collect();
    let mut edges: HashMap<(u32, u32), u64> = HashMap::new();
    for t in &threads {
        let n = (t.slot_count.load(Acquire) as usize).min(accs.len());
        for (id, a) in accs.iter_mut().enumerate().take(n).skip(1) {
            let Some(s) = t.slots.get(id) else { continue };
            a.invocations += s.invocations.load(Relaxed);
            a.records_in += s.records_in.load(Relaxed);
            a.records_out += s.records_out.load(Relaxed);
            a.calls += s.calls.load(Relaxed);
            a.timed_calls += s.timed_calls.load(Relaxed);
            a.own_ticks += s.own_ticks.load(Relaxed);
            a.upstream_ticks += s.upstream_ticks.load(Relaxed);
            a.exact_calls += s.exact_calls.load(Relaxed);
            a.exact_own_ticks += s.exact_own_ticks.load(Relaxed);
            a.exact_upstream_ticks += s.exact_upstream_ticks.load(Relaxed);
            a.call_ticks += s.call_ticks.load(Relaxed);
            a.gaps += s.gaps.load(Relaxed);
            a.wait_samples += s.wait_samples.load(Relaxed);
            a.wait_ticks += s.wait_ticks.load(Relaxed);
            a.outlier_waits += s.outlier_waits.load(Relaxed);
            a.outlier_wait_ticks += s.outlier_wait_ticks.load(Relaxed);
            a.first_ticks += s.first_ticks.load(Relaxed);
            a.first_count += s.first_count.load(Relaxed);
            a.exhausted += s.exhausted.load(Relaxed);
            a.dropped += s.dropped.load(Relaxed);
            a.hist_sum += s.hist_sum.load(Relaxed);
            a.min = a.min.min(s.min_ticks.load(Relaxed));
            a.max = a.max.max(s.max_ticks.load(Relaxed));
            let fs = s.first_seen.load(Relaxed);
            if fs != 0 && (a.first_seen == 0 || fs < a.first_seen) {
                a.first_seen = fs;
            }
            s.hist
                .for_each(|low, width, count| a.buckets.push((low, width, count)));
        }
        for i in 0..t.edge_count.load(Acquire) as usize {
            let Some(e) = t.edges.get(i) else { break };
            let key = (e.from.load(Relaxed), e.to.load(Relaxed));
            *edges.entry(key).or_insert(0) += e.records.load(Relaxed);
        }
    }

    let ids: Vec<u32> = (1..accs.len() as u32)
        .filter(|&id| {
            let a = &accs[id as usize];
            a.invocations > 0 || a.records_out > 0 || a.records_in > 0
        })
        .collect();
    let order = pipeline_order(&ids, &edges, |id| accs[id as usize].first_seen);

    // Untimed `next` calls get the mean of the timed ones of the same stage.
    let scaled = |ticks: u64, n: u64, of: u64| {
        if of == 0 {
            0.0
        } else {
            ns(ticks) as f64 * (n as f64 / of as f64)
        }
    };
    // The calls of the exact phase count as they were; the others are estimated from the
    // sampled timed calls (from the exact phase when no call was sampled yet).
    let estimate = |exact: u64, sampled: u64, a: &Acc| {
        let rest = a.calls.saturating_sub(a.exact_calls);
        let from = if a.timed_calls > 0 {
            scaled(sampled, rest, a.timed_calls)
        } else {
            scaled(exact, rest, a.exact_calls)
        };
        ns(exact) + from as u64
    };
    let own_of = |a: &Acc| ns(a.call_ticks) + estimate(a.exact_own_ticks, a.own_ticks, a);
    let mut out = Vec::with_capacity(ids.len());
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
        let upstream_ns = estimate(a.exact_upstream_ticks, a.upstream_ticks, a);
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
            downstream_wait_ns: ns(a.outlier_wait_ticks)
                + scaled(
                    a.wait_ticks,
                    a.gaps.saturating_sub(a.outlier_waits),
                    a.wait_samples,
                ) as u64,
            own_per_record: Percentiles::from_hdr(&h, min, max, mean),
            own_histogram: Histogram::from_hdr(&h),
            first_record_ns: ns(a.first_ticks).checked_div(a.first_count).unwrap_or(0),
            exhausted: a.exhausted,
            dropped_early: a.dropped,
            ..StageStats::default()
        });
    }
    // Selectivity, throughput, shares, the bottleneck and Amdahl's speedups.
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
