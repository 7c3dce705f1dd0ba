//! How cost grows within one run: the fit over a function's or a stage's size classes
//! (`#[profile(size = ...)]`, a stage's records per invocation), with the same [`fit()`] the
//! fits over several runs use.
//!
//! Each class with calls is one point: its mean size (exact: the sizes are summed) against its
//! mean time per call, weighted by its calls ([`Point::per_call`]). Classes of mean size 1 or
//! less are left out (`n log n` is not defined there, and a size of 0 or 1 says nothing of
//! growth). A fit needs [`MIN_CLASSES`] classes holding [`MIN_CALLS`] calls together whose
//! mean sizes span a factor of 10; anything less gets no `scaling`.

use pipelinescope_core::profile::{Profile, SizeBucket, SizeScaling};

use super::fit::{Fit, Model, Point, fit};

/// Size classes a within-run fit needs.
pub const MIN_CLASSES: usize = 3;

/// Calls a within-run fit needs, over its classes together.
pub const MIN_CALLS: u64 = 10;

/// The points of `buckets`: one per class with calls, time and a mean size above 1.
pub fn points(buckets: &[SizeBucket]) -> Vec<Point> {
    buckets
        .iter()
        .filter(|b| b.calls > 0 && b.time_ns > 0 && b.mean_size() > 1.0)
        .map(|b| Point::per_call(b.mean_size(), b.time_ns as f64, b.calls))
        .collect()
}

/// The fit of `buckets`, where they allow one (see the module docs).
pub fn fit_buckets(buckets: &[SizeBucket]) -> Option<Fit> {
    let usable: Vec<&SizeBucket> = buckets
        .iter()
        .filter(|b| b.calls > 0 && b.time_ns > 0 && b.mean_size() > 1.0)
        .collect();
    let calls: u64 = usable.iter().map(|b| b.calls).sum();
    if usable.len() < MIN_CLASSES || calls < MIN_CALLS {
        return None;
    }
    fit(&points(buckets)).ok()
}

/// The figures `profile_data.json` holds of a fit over `buckets`.
pub fn summary(fit: &Fit, buckets: &[SizeBucket]) -> SizeScaling {
    let pts = points(buckets);
    let power = fit.model(Model::Power);
    SizeScaling {
        points: fit.points,
        calls: pts.iter().map(|p| p.weight as u64).sum(),
        min_size: pts.iter().map(|p| p.size).fold(f64::INFINITY, f64::min),
        max_size: pts.iter().map(|p| p.size).fold(0.0, f64::max),
        exponent: fit.exponent,
        exponent_low: fit.exponent_low,
        exponent_high: fit.exponent_high,
        coefficient: power.map_or(0.0, |p| p.coefficient),
        r_squared: fit.r_squared,
        n_log_n_r_squared: fit.model(Model::NLogN).map_or(f64::NAN, |m| m.r_squared),
        model: fit.describe(),
    }
}

/// The `scaling` of `buckets`, where they allow a fit.
pub fn scaling(buckets: &[SizeBucket]) -> Option<SizeScaling> {
    fit_buckets(buckets).map(|f| summary(&f, buckets))
}

/// Fills `scaling` of every function and stage whose size classes allow a fit.
pub fn annotate(profile: &mut Profile) {
    for f in &mut profile.functions {
        f.scaling = scaling(&f.sizes);
    }
    for s in &mut profile.stages {
        s.scaling = scaling(&s.sizes);
    }
}

/// The exponent for a table column: `n^1.98±0.05` (half the 95% interval's width).
pub fn exponent_label(s: &SizeScaling) -> String {
    let half = (s.exponent_high - s.exponent_low) / 2.0;
    if half.is_finite() {
        format!("n^{:.2}±{:.2}", s.exponent, half)
    } else {
        format!("n^{:.2}", s.exponent)
    }
}

/// The calls-weighted mean size of `buckets` (0 when none).
pub fn mean_size(buckets: &[SizeBucket]) -> f64 {
    let calls: u64 = buckets.iter().map(|b| b.calls).sum();
    if calls == 0 {
        return 0.0;
    }
    buckets.iter().map(|b| b.size_sum as f64).sum::<f64>() / calls as f64
}

/// The within-run fit of `buckets` and how much its time per call grows when every call's size
/// is `factor` times larger (from the calls' mean size): `(fit, ratio, half-width of the
/// ratio's 95% interval in log space)`.
pub fn growth(buckets: &[SizeBucket], factor: f64) -> Option<(Fit, f64, f64)> {
    let fit = fit_buckets(buckets)?;
    let from = mean_size(buckets);
    let (ratio, half) = fit.growth(from, from * factor)?;
    Some((fit, ratio, half))
}

/// What the page needs to redo a within-run projection at any factor `k`: time × `k^exponent`,
/// the calls unchanged, and the 95% interval `exp(±√(h0 + ln(k)²·h1))` around it.
pub struct PageGrowth {
    /// Growth exponent of the prediction model (for `n log n`, its local exponent at the
    /// calls' mean size times `factor`).
    pub exponent: f64,
    /// The model, for the row's label.
    pub label: String,
    /// `(t·s)²·2`: the scatter of the measured and the projected size.
    pub h0: f64,
    /// `(t·s)²/Sxx`: the exponent's uncertainty per unit of `ln k` squared (free power law).
    pub h1: f64,
}

/// [`PageGrowth`] of `buckets`, its `n log n` exponent taken over `factor`.
pub fn page_growth(buckets: &[SizeBucket], factor: f64) -> Option<PageGrowth> {
    let fit = fit_buckets(buckets)?;
    let f = fit.model(fit.prediction_model)?;
    let exponent = match f.model {
        Model::Power => f.exponent,
        Model::Constant => 0.0,
        Model::Linear => 1.0,
        Model::Quadratic => 2.0,
        Model::NLogN => {
            let k = if factor > 1.0 { factor } else { 10.0 };
            let (ratio, _) = fit.growth(mean_size(buckets), mean_size(buckets) * k)?;
            ratio.ln() / k.ln()
        }
    };
    let ts2 = (super::t_quantile_975(f.df) * f.residual_sd).powi(2);
    Some(PageGrowth {
        exponent,
        label: projection_label(&fit),
        h0: 2.0 * ts2,
        h1: if f.model == Model::Power && fit.sxx > 0.0 {
            ts2 / fit.sxx
        } else {
            0.0
        },
    })
}

/// The label of a projection that follows a within-run fit.
pub fn projection_label(fit: &Fit) -> String {
    format!(
        "{} within the run, call sizes × factor",
        fit.describe_prediction()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bucket(size: u64, calls: u64, per_call_ns: f64) -> SizeBucket {
        let c = pipelinescope_core::profile::size_class(size);
        let (min_size, max_size) = pipelinescope_core::profile::class_bounds(c);
        SizeBucket {
            min_size,
            max_size,
            calls,
            size_sum: size * calls,
            time_ns: (per_call_ns * calls as f64) as u64,
        }
    }

    #[test]
    fn fits_a_known_exponent_and_needs_enough_classes() {
        let quad: Vec<SizeBucket> = [10u64, 100, 1_000, 10_000]
            .iter()
            .map(|&n| bucket(n, 5, 3.0 * (n * n) as f64))
            .collect();
        let s = scaling(&quad).unwrap();
        assert!((s.exponent - 2.0).abs() < 1e-6, "{s:?}");
        assert_eq!(s.points, 4);
        assert_eq!(s.calls, 20);
        assert_eq!(s.model, "O(n^2)");
        assert_eq!(exponent_label(&s), "n^2.00±0.00");
        assert!((s.min_size - 10.0).abs() < 1e-9 && (s.max_size - 10_000.0).abs() < 1e-9);
        // Two classes, or too few calls, or less than a decade: no fit.
        assert!(scaling(&quad[..2]).is_none());
        let few: Vec<SizeBucket> = [10u64, 100, 1_000]
            .iter()
            .map(|&n| bucket(n, 3, n as f64))
            .collect();
        assert!(scaling(&few).is_none());
        let narrow: Vec<SizeBucket> = [16u64, 32, 64, 128, 256]
            .iter()
            .map(|&n| bucket(n, 10, n as f64))
            .collect();
        assert!(scaling(&narrow).is_some());
        // A factor of 8 is less than a decade.
        let narrower: Vec<SizeBucket> = [16u64, 32, 64, 128]
            .iter()
            .map(|&n| bucket(n, 10, n as f64))
            .collect();
        assert!(scaling(&narrower).is_none());
    }

    #[test]
    fn tables_show_a_growth_column_only_where_a_fit_is() {
        use crate::console::{TableOptions, functions_table, stages_table};
        use pipelinescope_core::profile::{FunctionStats, StageStats};
        let mut p = Profile::default();
        p.functions.push(FunctionStats {
            name: "plain".into(),
            calls: 1,
            ..FunctionStats::default()
        });
        p.stages.push(StageStats {
            name: "read".into(),
            ..StageStats::default()
        });
        let opts = TableOptions::default();
        assert!(!functions_table(&p, &opts).contains("growth"));
        assert!(!stages_table(&p, &opts).contains("growth"));
        let quad: Vec<SizeBucket> = [10u64, 100, 1_000, 10_000]
            .iter()
            .map(|&n| bucket(n, 5, 3.0 * (n * n) as f64))
            .collect();
        p.functions.push(FunctionStats {
            name: "pairs".into(),
            calls: 20,
            sizes: quad.clone(),
            ..FunctionStats::default()
        });
        p.stages[0].sizes = quad;
        annotate(&mut p);
        assert!(p.functions[0].scaling.is_none());
        let t = functions_table(&p, &opts);
        assert!(t.contains("growth") && t.contains("n^2.00±0.00"), "{t}");
        let t = stages_table(&p, &opts);
        assert!(t.contains("growth") && t.contains("n^2.00±0.00"), "{t}");
    }

    #[test]
    fn merged_runs_pool_their_classes_and_fit_again() {
        use pipelinescope_core::profile::FunctionStats;
        let run = |sizes: &[u64]| {
            let mut p = Profile::default();
            p.functions.push(FunctionStats {
                name: "pairs".into(),
                calls: sizes.len() as u64 * 4,
                sizes: sizes
                    .iter()
                    .map(|&n| bucket(n, 4, (n * n) as f64))
                    .collect(),
                ..FunctionStats::default()
            });
            p
        };
        // Neither run alone spans a decade over 3 classes; together they do.
        let (a, b) = (run(&[10, 20]), run(&[20, 1_000]));
        assert!(scaling(&a.functions[0].sizes).is_none());
        let m = crate::merge::merge(&[("a".into(), a), ("b".into(), b)]);
        let f = &m.functions[0];
        assert_eq!(f.sizes.len(), 3);
        assert_eq!(
            f.sizes.iter().map(|b| b.calls).collect::<Vec<_>>(),
            [4, 8, 4]
        );
        let s = f.scaling.as_ref().expect("fitted over the pooled classes");
        assert!((s.exponent - 2.0).abs() < 1e-6, "{s:?}");
    }
}
