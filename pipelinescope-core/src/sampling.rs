//! Which calls of a function are timed.
//!
//! Reading the clock twice is most of what a probe costs (on some virtual machines 18 ns), so
//! timing every call of a function that does 3 ns of work makes the program several times
//! slower, whatever is taken off afterwards. Every call is counted; every call of a call path is
//! timed until it has [`WARMUP`] timed calls, and from then on, a path whose calls are short
//! next to the probe is timed on a random sample: the gap to the next timed call is drawn
//! uniformly from `1..2g` so that timing costs about [`BUDGET`] of the path's time, `g` at most
//! [`MAX_GAP`]. Each timed call then stands for the calls since the previous one (its weight),
//! so totals are ratio estimates over every call and the per-call histogram holds every call.
//! A gap drawn at random, not fixed, keeps a periodic pattern in the calls (every fourth call
//! slow) from lining up with the samples. A path whose function recursed is always timed.

use crate::cost::FP;

/// Timed calls of a path before it may be sampled.
pub const WARMUP: u64 = 256;
/// Largest mean gap between timed calls.
pub const MAX_GAP: u64 = 256;
/// Share of a sampled path's time that timing may cost.
pub const BUDGET: f64 = 0.02;
/// Timed calls between two looks at a path's mean (whether an always-timed path got short, or
/// a sampled one's gap should change); in between, a sampled path only draws its next gap.
pub const RECHECK: u64 = 32;

/// The mean gap for a path whose calls take `est` (compensated, fixed-point ticks) when a timed
/// call costs `timed` and an untimed one `untimed` (both fixed-point ticks): 1 when timing
/// every call costs less than the budget.
pub(crate) fn mean_gap(est: u64, timed: u64, untimed: u64) -> u64 {
    let extra = timed.saturating_sub(untimed) as f64;
    let base = (est + untimed).max(1) as f64;
    let g = (extra / (BUDGET * base)).ceil();
    if g <= 1.0 { 1 } else { (g as u64).min(MAX_GAP) }
}

/// A fast per-thread generator (xorshift64*): gaps need to be unpredictable to the program, not
/// to an adversary.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }

    /// Uniform in `1..=2g-1`: mean `g`.
    pub(crate) fn gap(&mut self, g: u64) -> u32 {
        if g <= 1 {
            return 1;
        }
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        let r = x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 32;
        // Multiply and shift instead of a division: uniform enough for gaps under 2^32.
        (1 + ((r * (2 * g - 1)) >> 32)) as u32
    }
}

/// Fixed-point ticks to whole ticks, negative amounts (over-compensated) read as 0.
#[inline(always)]
pub(crate) fn whole_ticks(fp: u64) -> u64 {
    if (fp as i64) <= 0 { 0 } else { fp >> FP }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_have_the_mean_asked_for() {
        let mut r = Rng::new(42);
        for g in [1u64, 2, 7, 64, 256] {
            let n = 200_000u64;
            let sum: u64 = (0..n).map(|_| u64::from(r.gap(g))).sum();
            let mean = sum as f64 / n as f64;
            assert!(
                (mean - g as f64).abs() <= g as f64 * 0.02 + 0.01,
                "{g}: {mean}"
            );
            assert!((0..1000).all(|_| {
                let x = u64::from(r.gap(g));
                x >= 1 && x < 2 * g.max(1)
            }));
        }
    }

    #[test]
    fn long_calls_are_always_timed_short_ones_sampled() {
        let t = 25 << FP;
        let u = 5 << FP;
        assert_eq!(mean_gap(10_000 << FP, t, u), 1);
        let g = mean_gap(3 << FP, t, u);
        assert!(g > 50 && g <= MAX_GAP, "{g}");
        assert!(mean_gap(0, t, u) >= g);
        assert_eq!(mean_gap(0, 1_000 << FP, u), MAX_GAP);
    }

    #[test]
    fn negative_amounts_read_as_zero() {
        assert_eq!(whole_ticks((-5i64 << FP) as u64), 0);
        assert_eq!(whole_ticks(7 << FP), 7);
    }
}
