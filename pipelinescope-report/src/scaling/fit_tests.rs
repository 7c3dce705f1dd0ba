use super::*;

/// A cost as a function of the size.
type Shape = dyn Fn(f64) -> f64;

/// Sizes over three decades, a few per decade.
const SIZES: [f64; 10] = [1e3, 2.5e3, 5e3, 1e4, 2.5e4, 5e4, 1e5, 2.5e5, 5e5, 1e6];

fn series(f: impl Fn(f64) -> f64, noise: f64) -> Vec<Point> {
    // A fixed pseudo-random sequence (64-bit LCG), so the "noisy" tests are exact too.
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    SIZES
        .iter()
        .map(|&n| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let u = (state >> 11) as f64 / (1u64 << 53) as f64; // [0, 1)
            Point::new(n, f(n) * (1.0 + noise * (2.0 * u - 1.0)))
        })
        .collect()
}

fn nlogn(n: f64) -> f64 {
    3.0 * n * n.ln()
}

/// d ln(n ln n) / d ln n = 1 + 1/ln n: the local slope of n log n, at the geometric middle of
/// the sizes.
fn nlogn_slope() -> f64 {
    let mid = SIZES.iter().map(|n| n.ln()).sum::<f64>() / SIZES.len() as f64;
    1.0 + 1.0 / mid
}

#[test]
fn exact_data_gives_exact_exponents_and_models() {
    let cases: [(&Shape, f64, Model); 4] = [
        (&|n| 5.0 * n, 1.0, Model::Linear),
        (&nlogn, nlogn_slope(), Model::NLogN),
        (&|n| 0.25 * n * n, 2.0, Model::Quadratic),
        (&|_| 40.0, 0.0, Model::Constant),
    ];
    for (f, k, model) in cases {
        let fit = fit(&series(f, 0.0)).unwrap();
        assert!(
            (fit.exponent - k).abs() < 0.02,
            "{model:?}: k = {}",
            fit.exponent
        );
        assert_eq!(fit.best, model);
        assert!(fit.exponent_low <= fit.exponent && fit.exponent <= fit.exponent_high);
        assert!(fit.r_squared > 0.99, "{model:?}: R² = {}", fit.r_squared);
    }
    // Exact power laws: exponent and coefficient to rounding, zero-width interval.
    let fit = fit(&series(|n| 0.25 * n * n, 0.0)).unwrap();
    assert!((fit.exponent - 2.0).abs() < 1e-9);
    assert!(fit.exponent_high - fit.exponent_low < 1e-6);
    let q = fit.model(Model::Quadratic).unwrap();
    assert!((q.coefficient - 0.25).abs() < 1e-9);
    let p = fit.model(Model::Power).unwrap();
    assert!((p.coefficient - 0.25).abs() < 1e-6);
}

#[test]
fn a_power_law_between_the_shapes_is_reported_as_such() {
    let fit = fit(&series(|n| 2.0 * n.powf(1.5), 0.0)).unwrap();
    assert_eq!(fit.best, Model::Power);
    assert!((fit.exponent - 1.5).abs() < 1e-9);
    assert_eq!(fit.describe(), "O(n^1.50)");
}

#[test]
fn noisy_data_keeps_the_shape_and_an_honest_interval() {
    let cases: [(&Shape, f64, Model); 3] = [
        (&|n| 5.0 * n, 1.0, Model::Linear),
        (&nlogn, nlogn_slope(), Model::NLogN),
        (&|n| 0.25 * n * n, 2.0, Model::Quadratic),
    ];
    for (f, k, model) in cases {
        let fit = fit(&series(f, 0.05)).unwrap();
        assert!(
            (fit.exponent - k).abs() < 0.05,
            "{model:?}: k = {}",
            fit.exponent
        );
        assert!(
            fit.exponent_low < k && k < fit.exponent_high,
            "{model:?}: {k} outside [{}, {}]",
            fit.exponent_low,
            fit.exponent_high
        );
        assert_eq!(fit.best, model, "{model:?}");
        assert!(fit.r_squared > 0.99);
    }
}

#[test]
fn three_points_over_two_decades_suffice_for_clear_shapes() {
    let pts = |f: &dyn Fn(f64) -> f64| -> Vec<Point> {
        [1e3, 1e4, 1e5]
            .iter()
            .zip([1.01, 0.98, 1.02])
            .map(|(&n, e)| Point::new(n, f(n) * e))
            .collect()
    };
    let lin = fit(&pts(&|n| 5.0 * n)).unwrap();
    assert_eq!(lin.best, Model::Linear);
    assert!((lin.exponent - 1.0).abs() < 0.02);
    let quad = fit(&pts(&|n| n * n)).unwrap();
    assert_eq!(quad.best, Model::Quadratic);
    // With one degree of freedom the interval is wide (t = 12.7) but holds the truth.
    assert!(quad.exponent_low < 2.0 && 2.0 < quad.exponent_high);
    let exact = fit(&[
        Point::new(1e3, nlogn(1e3)),
        Point::new(1e4, nlogn(1e4)),
        Point::new(1e5, nlogn(1e5)),
    ])
    .unwrap();
    assert_eq!(exact.best, Model::NLogN);
}

#[test]
fn prediction_follows_the_model_and_widens_with_distance() {
    let fit = fit(&series(|n| 0.25 * n * n, 0.05)).unwrap();
    let near = fit.predict(1e6).unwrap();
    assert_eq!(near.model, Model::Quadratic);
    assert!((near.value / 2.5e11 - 1.0).abs() < 0.05, "{}", near.value);
    assert!(near.low < near.value && near.value < near.high);
    assert!(near.low < 2.5e11 && 2.5e11 < near.high);
    // The power law's interval grows away from the measured sizes; the fixed shape's does not.
    let p_near = fit.predict_with(Model::Power, 1e5).unwrap();
    let p_far = fit.predict_with(Model::Power, 1e8).unwrap();
    assert!(p_far.high / p_far.value > p_near.high / p_near.value);
    let q_far = fit.predict_with(Model::Quadratic, 1e8).unwrap();
    assert!((q_far.high / q_far.value - near.high / near.value).abs() < 1e-9);
    // Exact data: a zero-width interval on the exact value.
    let exact = super::fit(&series(|n| 5.0 * n, 0.0)).unwrap();
    let p = exact.predict(1e7).unwrap();
    assert!((p.value / 5e7 - 1.0).abs() < 1e-9);
    assert!((p.high - p.low) / p.value < 1e-6);
}

#[test]
fn growth_between_two_sizes() {
    let quad = fit(&series(|n| 0.25 * n * n, 0.0)).unwrap();
    let (r, half) = quad.growth(1e3, 1e4).unwrap();
    assert!((r - 100.0).abs() < 1e-6);
    assert!(half < 1e-5);
    let noisy = fit(&series(|n| 2.0 * n.powf(1.5), 0.05)).unwrap();
    if noisy.best == Model::Power {
        let (_, near) = noisy.growth(1e5, 2e5).unwrap();
        let (_, far) = noisy.growth(1e5, 1e8).unwrap();
        assert!(far > near);
    }
}

#[test]
fn weights_follow_the_calls() {
    // Per-call means: a heavy, exact series and one light outlier. The outlier barely moves
    // the fit when it carries one call against thousands.
    let mut pts: Vec<Point> = [1e2, 1e3, 1e4]
        .iter()
        .map(|&n| Point::per_call(n, 10.0 * n * 1000.0, 1000))
        .collect();
    pts.push(Point::per_call(3e3, 10.0 * 3e3 * 4.0, 1));
    let f = fit(&pts).unwrap();
    assert!((f.exponent - 1.0).abs() < 0.01, "{}", f.exponent);
    assert_eq!(pts[0].value, 1_000.0);
    assert_eq!(pts[0].weight, 1_000.0);
    let unweighted: Vec<Point> = pts.iter().map(|p| Point::new(p.size, p.value)).collect();
    let u = fit(&unweighted).unwrap();
    assert!((u.exponent - 1.0).abs() > (f.exponent - 1.0).abs());
}

#[test]
fn refuses_too_few_points_or_too_little_range() {
    let two = [Point::new(1e3, 1.0), Point::new(1e5, 100.0)];
    assert_eq!(fit(&two), Err(FitError::TooFewPoints { found: 2 }));
    let narrow = [
        Point::new(1e3, 1.0),
        Point::new(3e3, 3.0),
        Point::new(9e3, 9.0),
    ];
    let e = fit(&narrow).unwrap_err();
    assert!(matches!(e, FitError::NotEnoughRange { ratio } if (ratio - 9.0).abs() < 1e-9));
    assert!(e.to_string().starts_with("not enough range"));
    // Unusable points do not count.
    let with_zero = [
        Point::new(1e3, 1.0),
        Point::new(1e4, 0.0),
        Point::new(1e5, f64::NAN),
        Point::new(1e5, 100.0),
    ];
    assert_eq!(fit(&with_zero), Err(FitError::TooFewPoints { found: 2 }));
    // Exactly one decade is enough.
    assert!(
        fit(&[
            Point::new(1e3, 1.0),
            Point::new(5e3, 5.0),
            Point::new(1e4, 10.0)
        ])
        .is_ok()
    );
}

#[test]
fn everything_serialized_is_finite() {
    for f in [
        fit(&series(|_| 7.0, 0.0)).unwrap(),
        fit(&series(|n| n, 0.0)).unwrap(),
        fit(&[
            Point::new(1.0, 1.0),
            Point::new(10.0, 10.0),
            Point::new(100.0, 100.0),
        ])
        .unwrap(),
    ] {
        for m in &f.models {
            assert!(m.coefficient.is_finite() && m.rss.is_finite() && m.r_squared.is_finite());
            assert!(m.residual_sd.is_finite() && m.exponent.is_finite());
        }
        assert!(f.exponent_low.is_finite() && f.exponent_high.is_finite());
    }
    // Size 1: n log n is undefined there and is left out rather than made infinite.
    let f = fit(&[
        Point::new(1.0, 1.0),
        Point::new(10.0, 10.0),
        Point::new(100.0, 100.0),
    ])
    .unwrap();
    assert!(f.model(Model::NLogN).is_none());
    assert_eq!(f.best, Model::Linear);
}

#[test]
fn shapes_the_points_cannot_tell_apart_predict_with_the_power_law() {
    // n^1.05 with ±10% scatter over two decades: as close to n as to n log n.
    let pts: Vec<Point> = [1e3, 3e3, 1e4, 3e4, 1e5]
        .iter()
        .zip([1.1, 0.9, 1.1, 0.9, 1.1])
        .map(|(&n, e)| Point::new(n, n.powf(1.05) * e))
        .collect();
    let f = fit(&pts).unwrap();
    assert_eq!(f.candidates, vec![Model::Linear, Model::NLogN]);
    assert_eq!(f.best, Model::Linear);
    assert_eq!(f.prediction_model, Model::Power);
    assert_eq!(f.describe(), "O(n) or O(n log n)");
    assert!(f.describe_prediction().starts_with("O(n^1.0"));
    let p = f.predict(1e6).unwrap();
    assert_eq!(p.model, Model::Power);
    let lin = f.predict_with(Model::Linear, 1e6).unwrap().value;
    let nlogn = f.predict_with(Model::NLogN, 1e6).unwrap().value;
    assert!(
        lin < p.value && p.value < nlogn,
        "{lin} {} {nlogn}",
        p.value
    );
    // Clear data has one candidate and predicts with it.
    let clear = fit(&series(|n| 5.0 * n, 0.05)).unwrap();
    assert_eq!(clear.candidates, vec![Model::Linear]);
    assert_eq!(clear.prediction_model, Model::Linear);
    assert_eq!(clear.describe_prediction(), "O(n)");
}
