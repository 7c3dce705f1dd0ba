//! The line probe of `#[profile(lines)]`: [`enter_lines`] opens an activation of a function's
//! line table on the current thread, [`Lines::mark`] (one per statement the macro saw) charges
//! the time since the last mark to the line that ran and counts a hit on the next one, and the
//! guard's drop charges the rest and hands the current line back to the activation it
//! interrupted (a recursive call, or a closure of the body called from it).
//!
//! So every tick between an activation's entry and its exit goes to exactly one line of the
//! function, and the lines' times add up to the function's time with lines on.
//!
//! Per mark: one clock reading, two counter updates in the thread's own slot, no lock, no
//! allocation. The slot and its cells are made the first time a thread runs the function.

use crate::clock;
use crate::local::ThreadData;
use crate::local::lines::{LineCell, LineSlot, ThreadLines, add_probe_cost, probe_fp};
use crate::site::Site;
use crate::threads::lines::thread_lines;
use crate::util::bump;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::*};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// The line table of one function annotated `#[profile(lines)]`: the macro emits one beside
/// the function's [`Site`].
pub struct LineSite {
    /// The function.
    pub site: &'static Site,
    /// Line numbers by index: index 0 is the `fn` line, then every line a statement starts on.
    pub lines: &'static [u32],
    /// The function's source, from its `fn` line to its closing brace (empty if unread).
    pub source: &'static str,
    /// Line number of the first line of `source`.
    pub first_line: u32,
    id: AtomicU32,
}

impl LineSite {
    /// A line table, unregistered.
    pub const fn new(
        site: &'static Site,
        lines: &'static [u32],
        source: &'static str,
        first_line: u32,
    ) -> LineSite {
        LineSite {
            site,
            lines,
            source,
            first_line,
            id: AtomicU32::new(0),
        }
    }

    #[inline(always)]
    fn id(&'static self) -> u32 {
        let id = self.id.load(Relaxed);
        if id != 0 { id } else { register(self) }
    }
}

static LINE_SITES: Mutex<Vec<&'static LineSite>> = Mutex::new(Vec::new());

/// The registered line tables; id `n` is at index `n - 1`.
pub(crate) fn line_sites() -> MutexGuard<'static, Vec<&'static LineSite>> {
    LINE_SITES.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cold]
#[inline(never)]
fn register(site: &'static LineSite) -> u32 {
    #[cfg(feature = "alloc")]
    let _q = crate::util::quiet::quiet_here();
    let mut list = line_sites();
    let id = site.id.load(Relaxed);
    if id != 0 {
        return id;
    }
    list.push(site);
    let id = list.len() as u32;
    site.id.store(id, Relaxed);
    id
}

/// One open activation of a line table; charges the last line when dropped (return, `?`,
/// `break` out of the body, unwinding).
#[must_use = "the activation closes when the guard is dropped"]
pub struct Lines {
    slot: *const LineSlot,
    cells: *const LineCell,
    saved: u32,
    /// The thread's recorder, whose probe-cost sum marks add to.
    td: Option<&'static ThreadData>,
    #[cfg(feature = "alloc")]
    alloc: Option<&'static crate::local::alloc::ThreadAlloc>,
}

impl Lines {
    const INERT: Lines = Lines {
        slot: std::ptr::null(),
        cells: std::ptr::null(),
        saved: 0,
        td: None,
        #[cfg(feature = "alloc")]
        alloc: None,
    };
}

#[cold]
#[inline(never)]
fn make_slot(t: &'static ThreadLines, site: &'static LineSite, id: u32) -> *const LineSlot {
    #[cfg(feature = "alloc")]
    let _q = crate::util::quiet::quiet_here();
    let slot = t.slot_or_make(id);
    // SAFETY: slots live as long as the thread's `ThreadLines`.
    unsafe { &*slot }.cells_or_make(site.lines.len().max(1));
    slot
}

#[inline(always)]
pub(super) fn slot_of(site: &'static LineSite) -> Option<(&'static LineSlot, *const LineCell)> {
    let id = site.id();
    let t = thread_lines()?;
    let slot = match t.slots.get(id as usize) {
        Some(s) if !s.cells().is_empty() => s as *const LineSlot,
        _ => make_slot(t, site, id),
    };
    // SAFETY: see `make_slot`.
    let slot = unsafe { &*slot };
    Some((slot, slot.cells().as_ptr()))
}

#[cfg(feature = "alloc")]
#[inline(always)]
fn thread_alloc() -> Option<&'static crate::local::alloc::ThreadAlloc> {
    crate::threads::current_thread().map(|td| &td.alloc)
}

/// Opens an activation of `site`'s function on the current thread: its `fn` line counts a
/// hit and runs until the first statement's mark.
#[inline(always)]
pub fn enter_lines(site: &'static LineSite) -> Lines {
    open(site, 0, Open::Function)
}

#[derive(Clone, Copy, PartialEq)]
enum Open {
    Function,
    Closure,
}

/// Opens an activation for a closure defined in `site`'s function, starting on line index
/// `line`; inert unless the function runs on this thread (a closure called later, or on
/// another thread, is timed on the line that calls it, if any).
#[inline(always)]
pub fn enter_closure(site: &'static LineSite, line: u32) -> Lines {
    open(site, line, Open::Closure)
}

#[inline(always)]
fn open(site: &'static LineSite, line: u32, how: Open) -> Lines {
    if !crate::control::enabled() {
        return Lines::INERT;
    }
    let Some((slot, cells)) = slot_of(site) else {
        return Lines::INERT;
    };
    let depth = slot.depth.load(Relaxed);
    if how == Open::Closure && depth == 0 {
        return Lines::INERT;
    }
    #[cfg(feature = "alloc")]
    let alloc = thread_alloc();
    let td = crate::threads::current_thread();
    let probes = match td {
        Some(td) => probe_fp(td),
        None => slot.last_probe.load(Relaxed),
    };
    let now = clock::raw();
    let saved = slot.cur.load(Relaxed);
    if depth > 0 {
        // The line that called in gets the time up to here.
        slot.charge(cells, now, probes);
        #[cfg(feature = "alloc")]
        if let Some(a) = alloc {
            slot.charge_alloc(cells, a.read_totals());
        }
    } else {
        slot.last.store(now, Relaxed);
        slot.last_probe.store(probes, Relaxed);
        #[cfg(feature = "alloc")]
        if let Some(a) = alloc {
            for (l, t) in slot.last_alloc.iter().zip(a.read_totals()) {
                l.store(t, Relaxed);
            }
        }
    }
    slot.depth.store(depth + 1, Relaxed);
    slot.cur.store(line, Relaxed);
    if how != Open::Closure {
        // SAFETY: index 0 always exists.
        bump(unsafe { &(*cells).figures[0] }, 1);
    }
    Lines {
        slot,
        cells,
        saved,
        td,
        #[cfg(feature = "alloc")]
        alloc,
    }
}

impl Lines {
    /// A statement starting on line index `line` runs next.
    #[inline(always)]
    pub fn mark(&self, line: u32) {
        if self.slot.is_null() {
            return;
        }
        // SAFETY: a non-null slot lives as long as its thread, on which this guard stays
        // (except an `async fn`'s, which may move: its figures then land in the first
        // thread's cells, through atomics).
        let slot = unsafe { &*self.slot };
        // The previous mark's cost goes to the line charged now: each line's interval holds
        // one mark, taken off as the open calls take it off.
        let cost = MARK_APPLIED_FP.load(Relaxed);
        let probes = match self.td {
            Some(td) => add_probe_cost(td, cost),
            None => slot.last_probe.load(Relaxed).wrapping_add(cost),
        };
        let now = clock::raw();
        slot.charge(self.cells, now, probes);
        #[cfg(feature = "alloc")]
        if let Some(a) = self.alloc {
            slot.charge_alloc(self.cells, a.read_totals());
        }
        slot.cur.store(line, Relaxed);
        // SAFETY: `line` comes from the macro's table for this site.
        bump(unsafe { &(*self.cells.add(line as usize)).figures[0] }, 1);
    }
}

impl Drop for Lines {
    #[inline(always)]
    fn drop(&mut self) {
        if self.slot.is_null() {
            return;
        }
        // SAFETY: as in `mark`.
        let slot = unsafe { &*self.slot };
        let probes = match self.td {
            Some(td) => probe_fp(td),
            None => slot.last_probe.load(Relaxed),
        };
        let now = clock::raw();
        slot.charge(self.cells, now, probes);
        #[cfg(feature = "alloc")]
        if let Some(a) = self.alloc {
            slot.charge_alloc(self.cells, a.read_totals());
        }
        slot.cur.store(self.saved, Relaxed);
        slot.depth
            .store(slot.depth.load(Relaxed).saturating_sub(1), Relaxed);
    }
}

/// What one mark costs, in fixed-point ticks (8 fractional bits): the interval a line is
/// charged when nothing runs between two marks.
static MARK_COST_FP: AtomicU64 = AtomicU64::new(0);

/// [`MARK_COST_FP`] while compensation is on, else 0: what each mark adds to the probe cost
/// the open calls and the lines take off.
pub(super) static MARK_APPLIED_FP: AtomicU64 = AtomicU64::new(0);

/// The per-hit cost taken off a line's time, in nanoseconds (0 when compensation is off).
pub(crate) fn mark_cost_ns() -> f64 {
    apply();
    MARK_APPLIED_FP.load(Relaxed) as f64 / 256.0 * clock::ns_per_tick()
}

/// Sets the applied cost from the measured one and the compensation switch.
pub(crate) fn apply() {
    let on = crate::cost::COMPENSATE.load(Relaxed);
    let v = if on { MARK_COST_FP.load(Relaxed) } else { 0 };
    MARK_APPLIED_FP.store(v, Relaxed);
}

/// The measured per-mark cost in nanoseconds, whether or not it is taken off.
pub fn mark_cost_measured_ns() -> f64 {
    calibrate();
    MARK_COST_FP.load(Relaxed) as f64 / 256.0 * clock::ns_per_tick()
}

static CALIBRATED: std::sync::Once = std::sync::Once::new();

/// Measures the mark once per process: marks run back to back on a private slot, so each
/// interval holds one mark and nothing else; the lower quartile of 15 rounds of 2,000. Runs
/// on the function probe's calibration thread, before any call is recorded.
pub(crate) fn calibrate() {
    CALIBRATED.call_once(|| {
        #[cfg(feature = "alloc")]
        let _q = crate::util::quiet::quiet_here();
        let slot = LineSlot::default();
        let cells = slot.cells_or_make(2);
        // The thread's recorder, as a sync function's marks have one: each mark reads and adds
        // to its probe-cost sum (with a cost of 0 while this runs).
        let td = crate::threads::local();
        let guard = Lines {
            slot: &slot,
            cells,
            saved: 0,
            td,
            #[cfg(feature = "alloc")]
            alloc: None,
        };
        const N: u64 = 2_000;
        let mut rounds = Vec::with_capacity(15);
        for _ in 0..15 {
            let before = slot.cells()[1].read()[1];
            slot.last.store(clock::raw(), Relaxed);
            if let Some(td) = td {
                slot.last_probe.store(probe_fp(td), Relaxed);
            }
            slot.cur.store(1, Relaxed);
            marks(&guard, N);
            let after = slot.cells()[1].read()[1];
            rounds.push(((after - before) << 8) / N);
        }
        std::mem::forget(guard);
        rounds.sort_unstable();
        MARK_COST_FP.store(rounds[rounds.len() / 4], Relaxed);
        apply();
    });
}

/// `n` marks back to back, inlined into one loop as a body's marks are into its code.
#[inline(never)]
fn marks(g: &Lines, n: u64) {
    for _ in 0..n {
        g.mark(std::hint::black_box(1));
    }
}
