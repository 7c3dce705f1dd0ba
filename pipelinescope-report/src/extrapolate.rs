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
//!
//! # Following a fit
//!
//! Linear growth under-predicts a sort or a pairwise join by orders of magnitude. When fits over
//! runs at several sizes are known ([`extrapolate_with`], from `pipelinescope scale`), a function
//! or stage with a fitted time is projected with its fitted model instead: the measured time
//! times the model's growth from `sample_size` to `expected_size` (for `t = a·n^k`, `(E/s)^k`),
//! and its call or record count likewise when that was fitted. The interval is the fit's (see
//! [`crate::scaling::Fit::growth`]): the scatter of this run and of the projected one around the
//! model, plus the exponent's uncertainty for a free power law. Each projection names its model
//! and R²; the linear ones say `O(n) assumed`. The whole-run total replaces the linear share of
//! each fitted root call by its fitted projection and adds the interval half-widths in quadrature.
//!
//! Without fits over runs, a function or stage whose calls recorded their sizes
//! (`#[profile(size = ...)]`, a stage's records per invocation) and whose size classes allow a
//! fit within this one run ([`crate::scaling::within`]) follows that fit: every call's size
//! grows by the factor and the number of calls stays, so its time grows as the fitted time per
//! call does from the calls' mean size to the factor times it. Its label names the model and
//! says `within the run`; R² is the fit's. Only the rest is projected linearly, labelled
//! `O(n) assumed`.

use pipelinescope_core::profile::{Extrapolation, Profile, Projection};

use crate::scaling::{Fit, ScalingReport, within};
use pipelinescope_core::profile::SizeBucket;

/// [`Projection::model`] of a linear projection made without a fit.
pub const ASSUMED_LINEAR: &str = "O(n) assumed";

/// Confidence level of the projected intervals.
pub const CONFIDENCE: f64 = 0.95;

/// Two-sided standard normal quantile for [`CONFIDENCE`].
pub const Z: f64 = 1.959_963_984_540_054;

/// Projects `profile` from `sample_size` records to `expected_size` records, linearly.
///
/// With `sample_size == 0` nothing can be projected: the factor is 0 and every projection is 0.
pub fn extrapolate(profile: &Profile, sample_size: u64, expected_size: u64) -> Extrapolation {
    extrapolate_with(profile, sample_size, expected_size, None)
}

/// Projects `profile` from `sample_size` to `expected_size`, following the fitted model of each
/// function and stage that `fits` holds (matched by name and module), linearly elsewhere.
pub fn extrapolate_with(
    profile: &Profile,
    sample_size: u64,
    expected_size: u64,
    fits: Option<&ScalingReport>,
) -> Extrapolation {
    let factor = if sample_size == 0 {
        0.0
    } else {
        expected_size as f64 / sample_size as f64
    };
    let sizes = (sample_size as f64, expected_size as f64);

    let functions: Vec<Projection> = profile
        .functions
        .iter()
        .map(|f| {
            let linear = project(
                &f.name,
                f.calls,
                f.cumulative_ns,
                f.percentiles.stddev_ns,
                factor,
            );
            match fits.and_then(|r| r.function(&f.name, &f.module)) {
                Some(s) => follow(linear, s.time.fit.as_ref(), s.count.fit.as_ref(), sizes),
                None => follow_within(linear, &f.sizes, factor),
            }
        })
        .collect();

    let mut stage_list: Vec<_> = profile.stages.iter().collect();
    stage_list.sort_by_key(|s| s.order);
    let stages = stage_list
        .iter()
        .map(|s| {
            let linear = project(
                &s.name,
                s.records_out,
                s.own_ns,
                s.own_per_record.stddev_ns,
                factor,
            );
            match fits.and_then(|r| r.stage(&s.name, &s.module)) {
                Some(f) => follow(linear, f.time.fit.as_ref(), f.count.fit.as_ref(), sizes),
                None => follow_within(linear, &s.sizes, factor),
            }
        })
        .collect();

    Extrapolation {
        sample_size,
        expected_size,
        sample_size_source: String::new(),
        factor,
        confidence: CONFIDENCE,
        total: project_total(profile, factor, fits, sizes),
        functions,
        stages,
    }
}

/// The sample size a run saw, for when none was configured: the records its first stage took
/// in, or handed out when it is a source (took none in). `None` without stages or records.
pub fn observed_sample_size(profile: &Profile) -> Option<u64> {
    let first = profile.stages.iter().min_by_key(|s| s.order)?;
    let n = if first.records_in > 0 {
        first.records_in
    } else {
        first.records_out
    };
    (n > 0).then_some(n)
}

/// `linear` re-projected with the fitted growth of its time (and of its count, when fitted);
/// unchanged when the time has no fit or the sizes give no growth (a zero sample size).
fn follow(
    linear: Projection,
    time: Option<&Fit>,
    count: Option<&Fit>,
    (from, to): (f64, f64),
) -> Projection {
    let Some(fit) = time else {
        return linear;
    };
    let Some((ratio, half)) = fit.growth(from, to) else {
        return linear;
    };
    let projected_ns = linear.measured_ns as f64 * ratio;
    let projected_count = match count.and_then(|c| c.growth(from, to)) {
        Some((r, _)) => linear.measured_count as f64 * r,
        None => linear.projected_count,
    };
    Projection {
        projected_count,
        projected_ns,
        low_ns: projected_ns * (-half).exp(),
        high_ns: projected_ns * half.exp(),
        model: fit.describe_prediction(),
        r_squared: Some(fit.prediction_r_squared()),
        ..linear
    }
}

/// `linear` re-projected with the fit of its size classes within this run, where they allow
/// one: each call's size grows by `factor`, the number of calls stays, so the time grows as the
/// fitted time per call does from the calls' mean size to `factor` times it.
fn follow_within(linear: Projection, sizes: &[SizeBucket], factor: f64) -> Projection {
    let Some((fit, ratio, half)) = within::growth(sizes, factor) else {
        return linear;
    };
    let projected_ns = linear.measured_ns as f64 * ratio;
    Projection {
        projected_count: linear.measured_count as f64,
        projected_ns,
        low_ns: projected_ns * (-half).exp(),
        high_ns: projected_ns * half.exp(),
        model: within::projection_label(&fit),
        r_squared: Some(fit.prediction_r_squared()),
        ..linear
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
        model: ASSUMED_LINEAR.to_owned(),
        r_squared: None,
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

/// The whole run: instrumented time scaled, variance summed over the root calls; root calls of
/// fitted functions follow their fit (see the module docs).
fn project_total(
    profile: &Profile,
    factor: f64,
    fits: Option<&ScalingReport>,
    sizes: (f64, f64),
) -> Projection {
    let nodes = &profile.call_tree.nodes;
    let mut var = 0.0;
    let mut calls = 0u64;
    // Fitted root calls: projected minus linear time, and the squared half-widths.
    let mut shift = 0.0;
    let mut fitted_sq = 0.0;
    let mut fitted = 0usize;
    let mut roots = 0usize;
    if let Some(root) = nodes.iter().find(|n| n.parent.is_none()) {
        for &c in &root.children {
            let Some(node) = nodes.get(c as usize) else {
                continue;
            };
            let func = node
                .function
                .and_then(|f| profile.functions.get(f as usize));
            calls = calls.saturating_add(node.calls);
            roots += 1;
            let across = func
                .and_then(|f| fits?.function(&f.name, &f.module))
                .and_then(|s| s.time.fit.as_ref())
                .and_then(|fit| fit.growth(sizes.0, sizes.1));
            let fit = across.or_else(|| {
                let f = func?;
                let (_, r, h) = within::growth(&f.sizes, factor)?;
                Some((r, h))
            });
            if let Some((ratio, half)) = fit {
                let p = node.cumulative_ns as f64 * ratio;
                shift += p - node.cumulative_ns as f64 * factor;
                fitted_sq += (p * half.exp() - p * (-half).exp()).powi(2) / 4.0;
                fitted += 1;
                continue;
            }
            let sigma = func.map_or(0.0, |f| f.percentiles.stddev_ns);
            var += variance(node.calls, sigma, factor);
        }
    }
    let measured_ns = profile.meta.instrumented_ns;
    let projected_ns = (measured_ns as f64 * factor + shift).max(0.0);
    let half = (half_width(var).powi(2) + fitted_sq).sqrt();
    Projection {
        name: String::new(),
        measured_count: calls,
        projected_count: calls as f64 * factor,
        measured_ns,
        projected_ns,
        low_ns: (projected_ns - half).max(0.0),
        high_ns: projected_ns + half,
        model: match fitted {
            0 => ASSUMED_LINEAR.to_owned(),
            f if f == roots => "all root functions fitted".to_owned(),
            f => format!("{f} of {roots} root functions fitted, the rest O(n) assumed"),
        },
        r_squared: None,
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

    /// A profile with one root function `name` of `calls` calls taking `total`, and a stage.
    fn rooted(name: &str, calls: u64, total: u64) -> Profile {
        use pipelinescope_core::profile::{CallNode, StageStats};
        let mut p = one_function(calls, total, 0.0);
        p.functions[0].name = name.into();
        p.call_tree.nodes = vec![
            CallNode {
                children: vec![1],
                ..CallNode::default()
            },
            CallNode {
                id: 1,
                parent: Some(0),
                function: Some(0),
                calls,
                cumulative_ns: total,
                ..CallNode::default()
            },
        ];
        p.meta.instrumented_ns = total;
        p.stages.push(StageStats {
            name: "read".into(),
            records_in: 0,
            records_out: 500,
            own_ns: 5_000,
            ..StageStats::default()
        });
        p
    }

    /// Fits over three runs where `sort` takes n² ns in one call and the stage n ns.
    fn quadratic_fits() -> crate::scaling::ScalingReport {
        let ps: Vec<(u64, Profile)> = [100u64, 1_000, 10_000]
            .into_iter()
            .map(|n| {
                let mut p = rooted("sort", 1, n * n);
                p.stages[0].records_out = n;
                p.stages[0].own_ns = 10 * n;
                (n, p)
            })
            .collect();
        let runs: Vec<(u64, String, &Profile)> =
            ps.iter().map(|(n, p)| (*n, String::new(), p)).collect();
        crate::scaling::build(&runs, None, crate::scaling::Repeats::All)
    }

    #[test]
    fn follows_the_fit_where_there_is_one() {
        let fits = quadratic_fits();
        // This run: 1000 records, sort took 1e6 ns. At 10x the data a quadratic sort takes 100x.
        let mut p = rooted("sort", 1, 1_000_000);
        p.functions.push(FunctionStats {
            name: "unfitted".into(),
            calls: 10,
            cumulative_ns: 1_000,
            ..FunctionStats::default()
        });
        let e = extrapolate_with(&p, 1_000, 10_000, Some(&fits));
        let sort = &e.functions[0];
        assert_eq!(sort.model, "O(n^2)");
        assert!((sort.r_squared.unwrap() - 1.0).abs() < 1e-9);
        assert!((sort.projected_ns / 1e8 - 1.0).abs() < 1e-9);
        // The call count was fitted as constant: still one call.
        assert!((sort.projected_count - 1.0).abs() < 1e-9);
        assert!(sort.low_ns <= sort.projected_ns && sort.projected_ns <= sort.high_ns);
        let other = &e.functions[1];
        assert_eq!(other.model, ASSUMED_LINEAR);
        assert_eq!(other.r_squared, None);
        assert_eq!(other.projected_ns, 10_000.0);
        let stage = &e.stages[0];
        assert_eq!(stage.model, "O(n)");
        assert!((stage.projected_ns / 50_000.0 - 1.0).abs() < 1e-9);
        assert!((stage.projected_count / 5_000.0 - 1.0).abs() < 1e-9);
        // The total follows its only root call.
        assert!((e.total.projected_ns / 1e8 - 1.0).abs() < 1e-9);
        assert_eq!(e.total.model, "all root functions fitted");
        // Without fits: linear everywhere, labelled so.
        let lin = extrapolate(&p, 1_000, 10_000);
        assert_eq!(lin.functions[0].projected_ns, 1e7);
        assert!(lin.functions.iter().all(|f| f.model == ASSUMED_LINEAR));
        assert_eq!(lin.total.model, ASSUMED_LINEAR);
    }

    #[test]
    fn follows_the_within_run_fit_where_sizes_allow() {
        use pipelinescope_core::profile::SizeBucket;
        // `sort` called 4 times at each of 10, 100, 1000, 10000: n² ns per call.
        let mut p = rooted("sort", 16, 0);
        let sizes: Vec<SizeBucket> = [10u64, 100, 1_000, 10_000]
            .iter()
            .map(|&n| SizeBucket::of_calls(n, 4, 4 * n * n))
            .collect();
        let total: u64 = sizes.iter().map(|b| b.time_ns).sum();
        p.functions[0].sizes = sizes;
        p.functions[0].cumulative_ns = total;
        p.call_tree.nodes[1].cumulative_ns = total;
        p.meta.instrumented_ns = total;
        let e = extrapolate(&p, 1_000, 10_000);
        let sort = &e.functions[0];
        assert_eq!(sort.model, "O(n^2) within the run, call sizes × factor");
        assert!((sort.r_squared.unwrap() - 1.0).abs() < 1e-9);
        // Ten times the data: each call ten times larger, a hundred times slower; still 16 calls.
        assert!((sort.projected_ns / (total as f64 * 100.0) - 1.0).abs() < 1e-6);
        assert_eq!(sort.projected_count, 16.0);
        assert!((e.total.projected_ns / (total as f64 * 100.0) - 1.0).abs() < 1e-6);
        assert_eq!(e.total.model, "all root functions fitted");
        // The stage has no sizes: linear, labelled so.
        assert_eq!(e.stages[0].model, ASSUMED_LINEAR);
    }

    #[test]
    fn fits_need_a_sample_size() {
        let fits = quadratic_fits();
        let e = extrapolate_with(&rooted("sort", 1, 1_000), 0, 10_000, Some(&fits));
        assert_eq!(e.functions[0].projected_ns, 0.0);
        assert_eq!(e.functions[0].model, ASSUMED_LINEAR);
    }

    #[test]
    fn observed_sample_size_reads_the_first_stage() {
        let mut p = rooted("f", 1, 1);
        assert_eq!(observed_sample_size(&p), Some(500));
        p.stages[0].records_in = 700;
        assert_eq!(observed_sample_size(&p), Some(700));
        p.stages.clear();
        assert_eq!(observed_sample_size(&p), None);
    }
}
