//! How cost grows with input size: fits of `t = a·n^k` (and of the fixed shapes constant, `n`,
//! `n log n`, `n²`) over points `(size, cost)`.
//!
//! The points can come from several runs of one program at different sizes (`pipelinescope
//! scale`: one point per run, weight 1) or from one run whose calls recorded their own sizes
//! (one point per size class: the mean per call, weighted by the calls, see
//! [`Point::per_call`]). [`fit()`] does not care which.
//!
//! # Method
//!
//! * Weighted least squares of `ln t` on `ln n`. The slope is the exponent `k`; its 95%
//!   confidence interval is `k ± t(0.975, m-2)·s/√Sxx` with `m` points, `s` the residual
//!   standard deviation and `Sxx` the spread of `ln n`. R² is taken in log space.
//! * The fixed shapes have one parameter (`a`), fitted the same way. The model reported is the
//!   simplest whose residual is not clearly larger than the best's (an F test at 95%); the free
//!   power law is reported only when it is clearly better than that (see [`fit::choose`]).
//! * Predictions at a new size use the chosen model, with the 95% prediction interval of one new
//!   run (log space, back-transformed: the interval is asymmetric around the estimate).
//! * At least 3 points whose sizes span a factor of 10 are needed; anything less is reported as
//!   such rather than fitted.

pub mod fit;
pub mod report;
pub mod within;

pub use fit::{Fit, FitError, Model, ModelFit, Point, Prediction, fit};
pub use report::{Outcome, Repeats, RunEntry, Scaled, ScalingReport, build};

/// Confidence level of every interval in this module.
pub const CONFIDENCE: f64 = 0.95;

/// Two-sided 95% quantiles of Student's t distribution (the 0.975 point) for 1 to 30 degrees of
/// freedom.
const T_975: [f64; 30] = [
    12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281, 2.2010,
    2.1788, 2.1604, 2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.0930, 2.0860, 2.0796, 2.0739, 2.0687,
    2.0639, 2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423,
];

/// Beyond 30 degrees of freedom: (df, quantile), interpolated linearly in `1/df` down to the
/// normal quantile 1.95996 at infinity.
const T_975_TAIL: [(f64, f64); 4] = [
    (30.0, 2.0423),
    (40.0, 2.0211),
    (60.0, 2.0003),
    (120.0, 1.9799),
];

/// The 0.975 quantile of Student's t with `df` degrees of freedom (`df = 0`: infinity, no
/// interval can be given).
pub fn t_quantile_975(df: usize) -> f64 {
    const Z: f64 = 1.959_964;
    match df {
        0 => f64::INFINITY,
        1..=30 => T_975[df - 1],
        _ => {
            let inv = 1.0 / df as f64;
            for w in T_975_TAIL.windows(2) {
                let ((d0, q0), (d1, q1)) = (w[0], w[1]);
                if (df as f64) <= d1 {
                    let t = (1.0 / d0 - inv) / (1.0 / d0 - 1.0 / d1);
                    return q0 + t * (q1 - q0);
                }
            }
            let (d0, q0) = T_975_TAIL[T_975_TAIL.len() - 1];
            q0 + (Z - q0) * (1.0 / d0 - inv) * d0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::t_quantile_975;

    #[test]
    fn t_quantiles_are_monotone_and_reach_the_normal() {
        assert_eq!(t_quantile_975(0), f64::INFINITY);
        assert_eq!(t_quantile_975(1), 12.7062);
        assert_eq!(t_quantile_975(30), 2.0423);
        assert!((t_quantile_975(40) - 2.0211).abs() < 1e-9);
        assert!((t_quantile_975(120) - 1.9799).abs() < 1e-9);
        let mut prev = f64::INFINITY;
        for df in 1..2000 {
            let q = t_quantile_975(df);
            assert!(q <= prev && q > 1.959_96, "df {df}: {q}");
            prev = q;
        }
        assert!((t_quantile_975(1_000_000) - 1.96).abs() < 1e-3);
    }
}
