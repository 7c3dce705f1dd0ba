//! Least squares on log-log axes: the power law `t = a·n^k` with its free exponent, and the
//! one-parameter shapes (constant, `n`, `n log n`, `n²`) with a fixed one.
//!
//! Every model is fitted to `y = ln t` against `x = ln n`, weighted. Taking logs makes the noise
//! of a timing (roughly proportional to the time) even across sizes that differ by decades, so
//! that the largest size does not drown the others, and turns each model into a straight line:
//! `ln t = ln a + k·ln n` for the power law, `ln t = ln a + g(n)` for a fixed shape `g`.

use serde::{Deserialize, Serialize};

use super::t_quantile_975;

/// One observation: at input size `size`, the cost `value` (nanoseconds, or a count), with the
/// weight it carries in the fit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Point {
    /// Input size (records, items, bytes: whatever `n` counts).
    pub size: f64,
    /// The cost measured at that size.
    pub value: f64,
    /// Relative weight: 1 for one run; the number of calls when `value` is a mean per call.
    pub weight: f64,
}

impl Point {
    /// One observation of weight 1 (one run at one size).
    pub fn new(size: f64, value: f64) -> Point {
        Point {
            size,
            value,
            weight: 1.0,
        }
    }

    /// The mean of `calls` calls at one size that took `total` together: a mean over more calls
    /// is less noisy, so it weighs in proportion to them.
    pub fn per_call(size: f64, total: f64, calls: u64) -> Point {
        let c = calls.max(1) as f64;
        Point {
            size,
            value: total / c,
            weight: c,
        }
    }

    fn is_usable(&self) -> bool {
        self.size.is_finite()
            && self.size > 0.0
            && self.value.is_finite()
            && self.value > 0.0
            && self.weight.is_finite()
            && self.weight > 0.0
    }
}

/// The models compared, simplest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Model {
    /// `t = a`: does not grow.
    Constant,
    /// `t = a·n`.
    Linear,
    /// `t = a·n·ln n`.
    NLogN,
    /// `t = a·n²`.
    Quadratic,
    /// `t = a·n^k`, `k` fitted.
    Power,
}

impl Model {
    /// The fixed shapes, in the order of preference when they fit equally well.
    pub const FIXED: [Model; 4] = [
        Model::Constant,
        Model::Linear,
        Model::NLogN,
        Model::Quadratic,
    ];

    /// Short name for tables: `O(1)`, `O(n)`, `O(n log n)`, `O(n^2)`, `O(n^k)`.
    pub fn label(self) -> &'static str {
        match self {
            Model::Constant => "O(1)",
            Model::Linear => "O(n)",
            Model::NLogN => "O(n log n)",
            Model::Quadratic => "O(n^2)",
            Model::Power => "O(n^k)",
        }
    }

    /// `ln g(n)` of a fixed shape; for the power law, `ln n` (its exponent is applied apart).
    /// `None` where the shape is undefined (`n log n` needs `n > 1`).
    fn ln_shape(self, n: f64) -> Option<f64> {
        let x = n.ln();
        match self {
            Model::Constant => Some(0.0),
            Model::Linear | Model::Power => Some(x),
            Model::NLogN => (n > 1.0).then(|| x + x.ln()),
            Model::Quadratic => Some(2.0 * x),
        }
    }
}

/// One model fitted to the points.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelFit {
    /// Which model.
    pub model: Model,
    /// `a` in `t = a·g(n)`, in the points' unit.
    pub coefficient: f64,
    /// The exponent of `n`: 0, 1, 1, 2, or the fitted `k` of the power law.
    pub exponent: f64,
    /// Weighted residual sum of squares in log space.
    pub rss: f64,
    /// `1 - rss / total sum of squares` in log space (negative when worse than a flat line).
    pub r_squared: f64,
    /// Residual standard deviation in log space (`≈` the relative scatter of one point).
    pub residual_sd: f64,
    /// Degrees of freedom of the residuals: points less fitted parameters.
    pub df: usize,
}

/// Why points could not be fitted.
#[derive(Debug, Clone, PartialEq)]
pub enum FitError {
    /// Fewer than 3 usable points (positive, finite size and value).
    TooFewPoints {
        /// Usable points found.
        found: usize,
    },
    /// The sizes span less than one decade: the exponent would be guesswork.
    NotEnoughRange {
        /// Largest over smallest size.
        ratio: f64,
    },
}

impl std::fmt::Display for FitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FitError::TooFewPoints { found } => {
                write!(f, "not enough points ({found}; at least 3 are needed)")
            }
            FitError::NotEnoughRange { ratio } => write!(
                f,
                "not enough range (sizes span {ratio:.1}x; at least 10x is needed)"
            ),
        }
    }
}

/// The fit of one series: the power law with the exponent's interval, every fixed shape, and
/// the model that describes the points best.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fit {
    /// Usable points fitted.
    pub points: usize,
    /// Fitted exponent `k` of `t = a·n^k`.
    pub exponent: f64,
    /// Lower end of `k`'s 95% confidence interval (t distribution, `points - 2` df).
    pub exponent_low: f64,
    /// Upper end of `k`'s 95% confidence interval.
    pub exponent_high: f64,
    /// R² of the power law in log space.
    pub r_squared: f64,
    /// The model chosen (see [`choose`]).
    pub best: Model,
    /// Every fixed shape that fits as well as the best of them (simplest first); more than one
    /// means the points cannot tell them apart.
    pub candidates: Vec<Model>,
    /// The model predictions use: `best`, or the power law when several shapes are candidates
    /// (it runs between them, and its interval carries the slope's uncertainty).
    pub prediction_model: Model,
    /// Every model fitted, the power law last.
    pub models: Vec<ModelFit>,
    /// Weighted mean of `ln n` (weights scaled to a mean of 1), for prediction intervals.
    pub mean_ln_size: f64,
    /// Weighted sum of squares of `ln n` about its mean.
    pub sxx: f64,
    /// Sum of the scaled weights (the number of points).
    pub total_weight: f64,
}

/// A predicted value with its 95% prediction interval (where one new run would fall).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// The size predicted at.
    pub size: f64,
    /// The model used.
    pub model: Model,
    /// Point estimate (the model's median).
    pub value: f64,
    /// Lower end of the interval.
    pub low: f64,
    /// Upper end of the interval.
    pub high: f64,
}

/// Below this (log space, per point) a residual sum of squares counts as an exact fit: it
/// keeps exact synthetic data from producing a zero noise estimate that makes every tiny
/// rounding difference look significant.
const EXACT_RSS: f64 = 1e-12;

/// Fits `t = a·n^k` and the fixed shapes to `points`.
///
/// Unusable points (size or value not positive and finite, weight not positive) are left out.
/// Needs at least 3 usable points whose sizes span at least a factor of 10.
pub fn fit(points: &[Point]) -> Result<Fit, FitError> {
    let pts: Vec<Point> = points.iter().copied().filter(Point::is_usable).collect();
    if pts.len() < 3 {
        return Err(FitError::TooFewPoints { found: pts.len() });
    }
    let (lo, hi) = pts.iter().fold((f64::INFINITY, 0.0f64), |(lo, hi), p| {
        (lo.min(p.size), hi.max(p.size))
    });
    let ratio = hi / lo;
    if ratio < 10.0 * (1.0 - 1e-9) {
        return Err(FitError::NotEnoughRange { ratio });
    }
    // Weights scaled to a mean of 1: the estimates do not change, and a new observation of
    // weight 1 is a typical one for the prediction interval.
    let mean_w = pts.iter().map(|p| p.weight).sum::<f64>() / pts.len() as f64;
    let obs: Vec<(f64, f64, f64)> = pts
        .iter()
        .map(|p| (p.size, p.value.ln(), p.weight / mean_w))
        .collect();
    let w_sum: f64 = obs.iter().map(|o| o.2).sum();
    let mean =
        |f: &dyn Fn(&(f64, f64, f64)) -> f64| obs.iter().map(|o| o.2 * f(o)).sum::<f64>() / w_sum;
    let x_bar = mean(&|o| o.0.ln());
    let y_bar = mean(&|o| o.1);
    let sxx: f64 = obs.iter().map(|o| o.2 * (o.0.ln() - x_bar).powi(2)).sum();
    let sxy: f64 = obs
        .iter()
        .map(|o| o.2 * (o.0.ln() - x_bar) * (o.1 - y_bar))
        .sum();
    let sst: f64 = obs.iter().map(|o| o.2 * (o.1 - y_bar).powi(2)).sum();
    let m = obs.len();

    let r2 = |rss: f64| {
        if sst > EXACT_RSS * m as f64 {
            1.0 - rss / sst
        } else if rss <= EXACT_RSS * m as f64 {
            1.0
        } else {
            0.0
        }
    };

    let mut models = Vec::with_capacity(5);
    for model in Model::FIXED {
        // ln a is the weighted mean of y - g(n); undefined shapes are skipped.
        let Some(resid): Option<Vec<f64>> = obs
            .iter()
            .map(|o| model.ln_shape(o.0).map(|g| o.1 - g))
            .collect()
        else {
            continue;
        };
        let ln_a = obs.iter().zip(&resid).map(|(o, r)| o.2 * r).sum::<f64>() / w_sum;
        let rss: f64 = obs
            .iter()
            .zip(&resid)
            .map(|(o, r)| o.2 * (r - ln_a).powi(2))
            .sum();
        let df = m - 1;
        models.push(ModelFit {
            model,
            coefficient: ln_a.exp(),
            exponent: match model {
                Model::Constant => 0.0,
                Model::Quadratic => 2.0,
                _ => 1.0,
            },
            rss,
            r_squared: r2(rss),
            residual_sd: (rss / df as f64).sqrt(),
            df,
        });
    }

    let k = sxy / sxx;
    let ln_a = y_bar - k * x_bar;
    let rss: f64 = obs
        .iter()
        .map(|o| o.2 * (o.1 - ln_a - k * o.0.ln()).powi(2))
        .sum::<f64>()
        .max(0.0);
    let df = m - 2;
    let s = (rss / df as f64).sqrt();
    let half = t_quantile_975(df) * s / sxx.sqrt();
    let power = ModelFit {
        model: Model::Power,
        coefficient: ln_a.exp(),
        exponent: k,
        rss,
        r_squared: r2(rss),
        residual_sd: s,
        df,
    };
    models.push(power);
    let Choice {
        best,
        candidates,
        prediction_model,
    } = choose(&models, m);
    Ok(Fit {
        points: m,
        exponent: k,
        exponent_low: k - half,
        exponent_high: k + half,
        r_squared: r2(rss),
        best,
        candidates,
        prediction_model,
        models,
        mean_ln_size: x_bar,
        sxx,
        total_weight: w_sum,
    })
}

/// What [`choose`] decided.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    /// The model reported.
    pub best: Model,
    /// The fixed shapes that fit as well as the best of them.
    pub candidates: Vec<Model>,
    /// The model to predict with.
    pub prediction_model: Model,
}

/// Which model describes the points best.
///
/// A fixed shape is a candidate unless it is clearly worse than the best fixed shape: its
/// excess residual over the best's, divided by the best's residual variance, exceeds the 95%
/// point of F(1, df) (`t²`). The simplest candidate (earliest in [`Model::FIXED`]) is reported.
/// The power law, with its extra parameter, is reported instead only when it is clearly better
/// than that by the same test against its own residual variance. Exact fits use a floor of
/// `EXACT_RSS` (1e-12) per point as their variance, so that exact data picks the exact shape.
///
/// Predictions use the reported model, except when several shapes are candidates: then the
/// data cannot tell, say, `n` from `n log n`, and picking the simpler would under-predict the
/// other by the ratio of the two at the new size; the power law runs between them.
pub fn choose(models: &[ModelFit], points: usize) -> Choice {
    let floor = EXACT_RSS * points as f64;
    let fixed: Vec<&ModelFit> = models.iter().filter(|f| f.model != Model::Power).collect();
    let power_only = Choice {
        best: Model::Power,
        candidates: Vec::new(),
        prediction_model: Model::Power,
    };
    let Some(min) = fixed.iter().min_by(|a, b| a.rss.total_cmp(&b.rss)) else {
        return power_only;
    };
    let var = (min.rss.max(floor)) / min.df.max(1) as f64;
    let crit = t_quantile_975(min.df).powi(2);
    let candidates: Vec<&ModelFit> = fixed
        .iter()
        .copied()
        .filter(|f| (f.rss - min.rss) / var <= crit)
        .collect();
    let chosen = candidates.first().copied().unwrap_or(min);
    let power_wins = match models.iter().find(|f| f.model == Model::Power) {
        Some(p) if p.df >= 1 => {
            let var = p.rss.max(floor) / p.df as f64;
            (chosen.rss - p.rss) / var > t_quantile_975(p.df).powi(2)
        }
        _ => false,
    };
    if power_wins {
        return power_only;
    }
    Choice {
        best: chosen.model,
        prediction_model: if candidates.len() > 1 {
            Model::Power
        } else {
            chosen.model
        },
        candidates: candidates.iter().map(|f| f.model).collect(),
    }
}

impl Fit {
    /// The fit of `model`, if it was fitted.
    pub fn model(&self, model: Model) -> Option<&ModelFit> {
        self.models.iter().find(|f| f.model == model)
    }

    /// The fit of the chosen model.
    pub fn best_fit(&self) -> &ModelFit {
        // `best` is always one of `models`; the power law is always there.
        self.model(self.best)
            .or_else(|| self.models.last())
            .expect("a fit always holds the power law")
    }

    /// Predicts the value at `size` with [`Fit::prediction_model`] and its 95% prediction
    /// interval.
    pub fn predict(&self, size: f64) -> Option<Prediction> {
        self.predict_with(self.prediction_model, size)
    }

    /// Predicts the value at `size` with `model`.
    ///
    /// In log space the interval is `ŷ ± t·s·√(1 + 1/W [+ (x - x̄)²/Sxx])`: the scatter of one new
    /// run, the uncertainty of the level, and for the power law that of the slope, which grows
    /// with the distance from the measured sizes.
    pub fn predict_with(&self, model: Model, size: f64) -> Option<Prediction> {
        let f = self.model(model)?;
        let g = model.ln_shape(size)?;
        let y = f.coefficient.ln()
            + if model == Model::Power {
                f.exponent * g
            } else {
                g
            };
        let mut v = 1.0 + 1.0 / self.total_weight;
        if model == Model::Power {
            v += (size.ln() - self.mean_ln_size).powi(2) / self.sxx;
        }
        let half = t_quantile_975(f.df) * f.residual_sd * v.sqrt();
        finite_prediction(Prediction {
            size,
            model,
            value: y.exp(),
            low: (y - half).exp(),
            high: (y + half).exp(),
        })
    }

    /// How much the prediction model grows from size `from` to size `to` (the ratio of its values),
    /// with the half-width of the ratio's 95% interval in log space: the scatter of the
    /// measured run and of the new one (`2s²`), plus for the power law the slope's uncertainty
    /// over the distance `ln(to/from)`.
    pub fn growth(&self, from: f64, to: f64) -> Option<(f64, f64)> {
        if !(from > 0.0 && to > 0.0 && from.is_finite() && to.is_finite()) {
            return None;
        }
        let f = self.model(self.prediction_model)?;
        let g = f.model.ln_shape(to)? - f.model.ln_shape(from)?;
        let ln_ratio = if f.model == Model::Power {
            f.exponent * g
        } else {
            g
        };
        let mut v = 2.0 * f.residual_sd.powi(2);
        if f.model == Model::Power {
            v += (g * f.residual_sd).powi(2) / self.sxx;
        }
        let half = t_quantile_975(f.df) * v.sqrt();
        let r = ln_ratio.exp();
        (r.is_finite() && half.is_finite()).then_some((r, half))
    }

    /// The model for tables: `O(n log n)`, `O(n^1.47)`, or `O(n) or O(n log n)` when the
    /// points cannot tell the shapes apart.
    pub fn describe(&self) -> String {
        match self.best {
            Model::Power => format!("O(n^{:.2})", self.exponent),
            _ if self.candidates.len() > 1 => self
                .candidates
                .iter()
                .map(|m| m.label())
                .collect::<Vec<_>>()
                .join(" or "),
            m => m.label().to_owned(),
        }
    }
}

impl Fit {
    /// The model predictions use, for labels: [`Fit::describe`], followed by the candidate
    /// shapes when the power law stands in for them (`O(n^1.07) between O(n) or O(n log n)`).
    pub fn describe_prediction(&self) -> String {
        if self.prediction_model == self.best {
            self.describe()
        } else {
            format!("O(n^{:.2}) between {}", self.exponent, self.describe())
        }
    }

    /// R² of the model predictions use.
    pub fn prediction_r_squared(&self) -> f64 {
        self.model(self.prediction_model)
            .map_or(self.r_squared, |f| f.r_squared)
    }
}

fn finite_prediction(p: Prediction) -> Option<Prediction> {
    (p.value.is_finite() && p.low.is_finite() && p.high.is_finite()).then_some(p)
}

#[cfg(test)]
#[path = "fit_tests.rs"]
mod tests;
