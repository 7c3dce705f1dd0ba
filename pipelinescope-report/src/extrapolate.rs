//! Projection of a run from the data size it was measured on to the size expected in production.
//!
//! # Model
//!
//! Work is assumed to scale linearly with the number of records: with `k = expected / sample`, a
//! function called `n` times in this run is called `N = k·n` times at the expected size. Its calls
//! are treated as independent draws from the measured per-call distribution, with mean `μ`
//! (measured total / n) and standard deviation `σ` (from its histogram).
//!
//! The projected time is the point estimate `T̂ = N·μ = k · measured_total`. Its uncertainty has
//! two parts, both from the central limit theorem:
//!
//! * the spread of the N future calls around their mean: `Var = N·σ²`;
//! * the uncertainty of `μ` itself, estimated from only n calls (standard error `σ/√n`), which the
//!   projection multiplies by N: `Var = N²·σ²/n`. This is the measured total's CLT interval
//!   scaled by `k`, and dominates whenever the projection grows the run.
//!
//! So the interval at confidence `c` (z its two-sided normal quantile, 1.96 for 95%) is
//!
//! ```text
//! T̂ ± z · σ · √(N + N²/n),    N = k·n,   lower end clamped at 0
//! ```
//!
//! Stages use the same formula over records handed out, with the per-record own time as the
//! distribution. The whole-run total sums the variances of the root calls (children of the
//! call tree's root), taking each root function's per-call spread. The HTML page recomputes the
//! same formula in JavaScript when the sizes are edited.

use pipelinescope_core::profile::{Extrapolation, Profile, Projection};

/// Confidence level of the projected intervals.
pub const CONFIDENCE: f64 = 0.95;

/// Two-sided standard normal quantile for [`CONFIDENCE`].
pub const Z: f64 = 1.959_963_984_540_054;

/// Projects `profile` from `sample_size` records to `expected_size` records.
///
/// With `sample_size == 0` nothing can be projected: the factor is 0 and every projection is 0.
pub fn extrapolate(profile: &Profile, sample_size: u64, expected_size: u64) -> Extrapolation {
    let factor = if sample_size == 0 {
        0.0
    } else {
        expected_size as f64 / sample_size as f64
    };

    let functions: Vec<Projection> = profile
        .functions
        .iter()
        .map(|f| {
            project(
                &f.name,
                f.calls,
                f.cumulative_ns,
                f.percentiles.stddev_ns,
                factor,
            )
        })
        .collect();

    let mut stage_list: Vec<_> = profile.stages.iter().collect();
    stage_list.sort_by_key(|s| s.order);
    let stages = stage_list
        .iter()
        .map(|s| {
            project(
                &s.name,
                s.records_out,
                s.own_ns,
                s.own_per_record.stddev_ns,
                factor,
            )
        })
        .collect();

    Extrapolation {
        sample_size,
        expected_size,
        factor,
        confidence: CONFIDENCE,
        total: project_total(profile, factor),
        functions,
        stages,
    }
}

/// One projection with the interval `T̂ ± z·σ·√(N + N²/n)`.
fn project(name: &str, n: u64, measured_ns: u64, sigma: f64, factor: f64) -> Projection {
    let projected_count = n as f64 * factor;
    let projected_ns = measured_ns as f64 * factor;
    let half = half_width(variance(n, sigma, factor));
    Projection {
        name: name.to_owned(),
        measured_count: n,
        projected_count,
        measured_ns,
        projected_ns,
        low_ns: (projected_ns - half).max(0.0),
        high_ns: projected_ns + half,
    }
}

/// Variance of a projected total of `N = k·n` calls with per-call spread `sigma`.
fn variance(n: u64, sigma: f64, factor: f64) -> f64 {
    if n == 0 || !sigma.is_finite() || !factor.is_finite() {
        return 0.0;
    }
    let n = n as f64;
    let big_n = factor * n;
    sigma * sigma * (big_n + big_n * big_n / n)
}

fn half_width(var: f64) -> f64 {
    if var.is_finite() && var > 0.0 {
        Z * var.sqrt()
    } else {
        0.0
    }
}

/// The whole run: instrumented time scaled, variance summed over the root calls.
fn project_total(profile: &Profile, factor: f64) -> Projection {
    let nodes = &profile.call_tree.nodes;
    let mut var = 0.0;
    let mut calls = 0u64;
    if let Some(root) = nodes.iter().find(|n| n.parent.is_none()) {
        for &c in &root.children {
            let Some(node) = nodes.get(c as usize) else {
                continue;
            };
            let sigma = node
                .function
                .and_then(|f| profile.functions.get(f as usize))
                .map_or(0.0, |f| f.percentiles.stddev_ns);
            var += variance(node.calls, sigma, factor);
            calls = calls.saturating_add(node.calls);
        }
    }
    let measured_ns = profile.meta.instrumented_ns;
    let projected_ns = measured_ns as f64 * factor;
    let half = half_width(var);
    Projection {
        name: String::new(),
        measured_count: calls,
        projected_count: calls as f64 * factor,
        measured_ns,
        projected_ns,
        low_ns: (projected_ns - half).max(0.0),
        high_ns: projected_ns + half,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pipelinescope_core::profile::{FunctionStats, Percentiles};

    fn one_function(calls: u64, total: u64, sigma: f64) -> Profile {
        let mut p = Profile::default();
        p.functions.push(FunctionStats {
            name: "f".into(),
            calls,
            cumulative_ns: total,
            percentiles: Percentiles {
                mean_ns: total as f64 / calls as f64,
                stddev_ns: sigma,
                ..Percentiles::default()
            },
            ..FunctionStats::default()
        });
        p
    }

    #[test]
    fn scales_point_estimate_and_interval() {
        // 100 calls of mean 1 ms, sigma 0.1 ms; 10x the data.
        let p = one_function(100, 100_000_000, 100_000.0);
        let e = extrapolate(&p, 1_000, 10_000);
        assert_eq!(e.factor, 10.0);
        let f = &e.functions[0];
        assert_eq!(f.projected_count, 1_000.0);
        assert_eq!(f.projected_ns, 1_000_000_000.0);
        // N = 1000, n = 100: sqrt(1000 + 1000^2/100) = sqrt(11000).
        let half = Z * 100_000.0 * 11_000f64.sqrt();
        assert!((f.high_ns - f.projected_ns - half).abs() < 1e-3);
        assert!((f.projected_ns - f.low_ns - half).abs() < 1e-3);
        assert!(f.low_ns < f.projected_ns && f.projected_ns < f.high_ns);
    }

    #[test]
    fn more_calls_narrow_the_relative_interval() {
        let small = extrapolate(&one_function(10, 10_000_000, 500_000.0), 1, 100);
        let large = extrapolate(&one_function(10_000, 10_000_000_000, 500_000.0), 1, 100);
        let rel = |p: &Projection| (p.high_ns - p.low_ns) / p.projected_ns;
        assert!(rel(&large.functions[0]) < rel(&small.functions[0]) / 10.0);
    }

    #[test]
    fn zero_sample_and_empty_profile_do_not_panic() {
        let e = extrapolate(&Profile::default(), 0, 1_000);
        assert_eq!(e.factor, 0.0);
        assert_eq!(e.total.projected_ns, 0.0);
        let e = extrapolate(&one_function(0, 0, f64::NAN), 0, 0);
        assert_eq!(e.functions[0].low_ns, 0.0);
        assert_eq!(e.functions[0].high_ns, 0.0);
    }

    #[test]
    fn lower_end_never_negative() {
        let e = extrapolate(&one_function(2, 2_000, 1e9), 1, 2);
        assert_eq!(e.functions[0].low_ns, 0.0);
    }
}
