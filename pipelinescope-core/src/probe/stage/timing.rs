//! The timing policy of lazy stages and the timed frames it opens: how often a stage's calls
//! are timed (the budget, the gap between samples, the outliers counted as themselves), and a
//! timed call or pull in progress ([`Open`]) on the thread's stack of stage frames.

use super::local;
use crate::clock::Start;
use crate::local::stage::StageThread;
use std::cell::Cell;
use std::sync::atomic::AtomicU32;

/// The most calls between two timed calls of a stage, whatever the budget allows: a stage whose
/// work changes is seen changing within this many calls.
pub const MAX_GAP: u32 = 4096;
/// The share of a stage's cycle time that timing it may take (see the module docs).
pub const TIMING_BUDGET: f64 = 0.002;
/// The most pulls an input makes between two looks at whether its stage wants it timed.
pub(super) const MAX_POLL: u32 = 64;
/// Calls between two looks of an armed output at whether its inputs have all joined: an input
/// that joined times every pull until the output's timed call is over.
pub(super) const ARMED_CHECK: u32 = 4;
/// Looks at a link that keeps finding an input missing before the output times anyway (an
/// input pulled less than once a call joins late).
pub(super) const MAX_TRIES: u32 = 2 * MAX_POLL / ARMED_CHECK;

/// Pulls an input makes at most between two additions of its records in to the thread's
/// figures (which a snapshot reads).
pub(super) const FLUSH_PULLS: u64 = 1 << 16;

/// A sampled measurement above this many times its stage's mean so far (and above 20 µs)
/// is an outlier: counted once, never scaled up.
pub const OUTLIER_FACTOR: u64 = 64;

/// Whether a measurement of `x` ticks is an outlier among `count` earlier ones that summed to
/// `total` ticks: above `OUTLIER_FACTOR` times their mean (rounded down) and above 20 µs, and
/// never before 64 of them are known.
#[inline(always)]
pub(super) fn is_outlier(x: u64, total: u64, count: u64) -> bool {
    // `x > mean * F` with `mean = total / count` rounded down, without the division (tens of
    // cycles, twice per timed call): `mean * F < x` holds exactly when `mean <= (x - 1) / F`,
    // that is when `total < ((x - 1) / F + 1) * count`.
    count >= 64
        && x > outlier_floor()
        && (total as u128) < ((x - 1) / OUTLIER_FACTOR + 1) as u128 * count as u128
}

/// The 20 µs below which nothing is an outlier, in clock ticks.
#[inline(always)]
pub(super) fn outlier_floor() -> u64 {
    static FLOOR: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *FLOOR.get_or_init(|| (20_000.0 / crate::clock::ns_per_tick().max(1e-6)) as u64)
}

thread_local! {
    /// Eager stage calls open on this thread: a lazy stage made inside one times every call.
    pub(super) static EAGER: Cell<u32> = const { Cell::new(0) };
}

/// What one sample costs (two timed calls with their pulls, the wait after them, the slow calls
/// around them), in ns: about eight clock reads on a machine where one takes 9 ns, and the
/// bookkeeping.
pub(super) const SAMPLE_COST_NS: f64 = 200.0;

/// Calls between two samples of a stage whose cycle (its own call and the wait for the next
/// one) takes `cycle` ticks, for timing to take [`TIMING_BUDGET`] of its time.
pub(super) fn timing_gap(cycle: u64) -> u32 {
    static BUDGET: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    let budget = *BUDGET
        .get_or_init(|| SAMPLE_COST_NS / TIMING_BUDGET / crate::clock::ns_per_tick().max(1e-6));
    (budget / cycle.max(1) as f64).min(u32::MAX as f64) as u32
}

/// Seeds for the per-iterator sampling generators.
pub(super) static SEEDS: AtomicU32 = AtomicU32::new(0x9E37_79B9);

/// A timed call or pull in progress: its frame on the thread's stack and its start.
pub(super) struct Open {
    /// The stage data of the thread that opened it. An address rather than a reference: a
    /// frame left open by a caught panic may outlive the thread (see [`Open::abandon`]).
    pub(super) t: ThreadAddr,
    /// Depth of the thread's frame stack before this frame.
    pub(super) depth: usize,
    pub(super) t0: Start,
    /// Counted as itself, never scaled up (first call, every call timed).
    pub(super) exact: bool,
}

/// The address of a thread's stage data.
#[derive(Clone, Copy)]
pub(super) struct ThreadAddr(*const StageThread);

// SAFETY: only dereferenced on the thread it belongs to, while that thread's data is alive
// (`Open::finish_nested`), or after checking that it is the current thread's (`Open::abandon`).
unsafe impl Send for ThreadAddr {}
// SAFETY: as above; shared references to it only copy the address.
unsafe impl Sync for ThreadAddr {}

impl Open {
    /// Opens a frame on the current thread (None when the thread's data is gone).
    #[inline(always)]
    pub(super) fn start(exact: bool) -> Option<Open> {
        let mut open = Open::start_at(Start { raw: 0, counter: 0 }, exact)?;
        open.t0 = Start::now();
        Some(open)
    }

    /// [`Open::start`] with the reading ordered after the work before it: for a timed pull.
    /// Unfenced, the counter is read up to the out-of-order window early, so the pull's span
    /// takes in the end of the consuming stage's call setup and the stage is charged that much
    /// less own time (a 25 ns stage read 3.5 to 5 ns under its bare cost, about 1 ns closer with
    /// the fence). A call's start stays plain: fenced, it waits for the previous record's work
    /// still in flight downstream and that work lands in no span at all.
    #[inline(always)]
    pub(super) fn start_fenced(exact: bool) -> Option<Open> {
        let mut open = Open::start_at(Start { raw: 0, counter: 0 }, exact)?;
        crate::clock::order();
        open.t0 = Start::now();
        Some(open)
    }

    /// Opens a frame that started at `t0`.
    #[inline(always)]
    pub(super) fn start_at(t0: Start, exact: bool) -> Option<Open> {
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
    pub(super) fn finish(self, t1: u64) -> (u64, u64) {
        let (span, child, _) = self.finish_nested(t1);
        (span, child)
    }

    /// Closes the frame now, inline (see [`Start::raw_now`]).
    #[inline(always)]
    pub(super) fn finish_now(self) -> (u64, u64) {
        crate::clock::order();
        let t1 = self.t0.raw_now();
        self.finish(t1)
    }

    /// As [`Open::finish`], with the number of timed frames nested inside.
    #[inline(always)]
    pub(super) fn finish_nested(self, t1: u64) -> (u64, u64, u32) {
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
    pub(super) fn abandon(&self) {
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
