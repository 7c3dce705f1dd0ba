//! Calls grouped by the size of their input: what a run needs to tell how a function's or a
//! stage's cost grows with `n` within that one run.

use serde::{Deserialize, Serialize};

/// Size classes: class 0 holds size 0, class `b` (1 to 64) sizes `2^(b-1)` to `2^b - 1`.
pub const SIZE_CLASSES: usize = 65;

/// The size class of `size`: powers of two, about three per decade.
#[inline(always)]
pub const fn size_class(size: u64) -> usize {
    (u64::BITS - size.leading_zeros()) as usize
}

/// Smallest and largest size of class `class`.
pub const fn class_bounds(class: usize) -> (u64, u64) {
    match class {
        0 => (0, 0),
        64.. => (1 << 63, u64::MAX),
        b => (1 << (b - 1), (1 << b) - 1),
    }
}

/// The calls of one size class: how many, their sizes summed (so the class's mean size is
/// exact) and their time summed.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq)]
pub struct SizeBucket {
    /// Smallest size of the class.
    pub min_size: u64,
    /// Largest size of the class.
    pub max_size: u64,
    /// Calls (function) or invocations (stage) whose size fell in the class.
    pub calls: u64,
    /// Their sizes summed (saturating at `u64::MAX`).
    pub size_sum: u64,
    /// Their time summed: a function's compensated inclusive time, a stage's own time.
    pub time_ns: u64,
}

impl SizeBucket {
    /// The class of `size`, holding `calls` calls all of that size that took `time_ns` in all
    /// (for profiles made by hand: tests, synthetic reports).
    pub fn of_calls(size: u64, calls: u64, time_ns: u64) -> SizeBucket {
        let (min_size, max_size) = class_bounds(size_class(size));
        SizeBucket {
            min_size,
            max_size,
            calls,
            size_sum: calls.saturating_mul(size),
            time_ns,
        }
    }

    /// Mean size of the calls in the class (0 when none).
    pub fn mean_size(&self) -> f64 {
        if self.calls == 0 {
            0.0
        } else {
            self.size_sum as f64 / self.calls as f64
        }
    }

    /// Mean time per call, nanoseconds (0 when none).
    pub fn mean_ns(&self) -> f64 {
        if self.calls == 0 {
            0.0
        } else {
            self.time_ns as f64 / self.calls as f64
        }
    }
}

/// How time per call grows with the call's size within one run: `t = a·n^k` fitted over the
/// size classes (each class's mean size against its mean time, weighted by its calls), and
/// `a·n log n` beside it. Present only where the sizes span a factor of 10 over at least 3
/// classes and 10 calls.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SizeScaling {
    /// Size classes fitted.
    pub points: usize,
    /// Calls in them.
    pub calls: u64,
    /// Smallest and largest mean size of a class fitted.
    pub min_size: f64,
    /// See `min_size`.
    pub max_size: f64,
    /// `k` of the power law.
    pub exponent: f64,
    /// 95% confidence interval of `k`.
    pub exponent_low: f64,
    /// See `exponent_low`.
    pub exponent_high: f64,
    /// `a` of the power law, nanoseconds.
    pub coefficient: f64,
    /// R² of the power law, in log space.
    pub r_squared: f64,
    /// R² of `a·n log n`, in log space, for comparison.
    pub n_log_n_r_squared: f64,
    /// The model that describes the points best: `O(n)`, `O(n log n)`, `O(n^2)`, `O(n^1.47)`,
    /// or several where the points cannot tell them apart.
    pub model: String,
}

/// `now` less `before` class by class (an earlier snapshot's buckets of the same function or
/// stage): what a run recorded. Classes left with no calls are dropped.
pub fn subtract_buckets(now: &mut Vec<SizeBucket>, before: &[SizeBucket]) {
    for b in before {
        if let Some(n) = now.iter_mut().find(|n| n.min_size == b.min_size) {
            n.calls = n.calls.saturating_sub(b.calls);
            n.size_sum = n.size_sum.saturating_sub(b.size_sum);
            n.time_ns = n.time_ns.saturating_sub(b.time_ns);
        }
    }
    now.retain(|n| n.calls > 0);
}

/// Adds `from`'s classes to `into` (the buckets of one function or stage in two runs), keeping
/// them ordered by size.
pub fn add_buckets(into: &mut Vec<SizeBucket>, from: &[SizeBucket]) {
    for b in from {
        match into.iter_mut().find(|n| n.min_size == b.min_size) {
            Some(n) => {
                n.calls += b.calls;
                n.size_sum = n.size_sum.saturating_add(b.size_sum);
                n.time_ns = n.time_ns.saturating_add(b.time_ns);
            }
            None => into.push(*b),
        }
    }
    into.sort_by_key(|b| b.min_size);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_are_powers_of_two() {
        assert_eq!(size_class(0), 0);
        assert_eq!(size_class(1), 1);
        assert_eq!(size_class(2), 2);
        assert_eq!(size_class(3), 2);
        assert_eq!(size_class(1023), 10);
        assert_eq!(size_class(1024), 11);
        assert_eq!(size_class(u64::MAX), 64);
        for c in 0..SIZE_CLASSES {
            let (lo, hi) = class_bounds(c);
            assert_eq!(size_class(lo), c);
            assert_eq!(size_class(hi), c);
        }
    }
}
