//! Fits of every function and stage over runs of one program at different sizes: what
//! `pipelinescope scale` writes as `scaling.json`.

use pipelinescope_core::profile::{Extrapolation, Profile};
use serde::{Deserialize, Serialize};

use super::fit::{Fit, Point, Prediction, fit};

/// Layout version of `scaling.json`.
pub const SCALING_SCHEMA_VERSION: u32 = 1;

/// Everything fitted over a set of runs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScalingReport {
    /// Layout version, see [`SCALING_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Confidence level of the intervals (0.95).
    pub confidence: f64,
    /// The size predictions are made at, if one was asked for.
    pub predict_size: Option<u64>,
    /// How runs repeated at one size were combined.
    #[serde(default)]
    pub repeats: Repeats,
    /// One entry per run (fitted or failed), in the order they were given.
    pub runs: Vec<RunEntry>,
    /// One entry per function seen in any run: cumulative and self time, and calls.
    pub functions: Vec<Scaled>,
    /// One entry per stage seen in any run: own time, and records handed out.
    pub stages: Vec<Scaled>,
    /// The largest fitted run projected to [`ScalingReport::predict_size`] with
    /// [`crate::extrapolate::extrapolate_with`]: every function and stage following its fit, and
    /// the whole run's instrumented time. Set by [`ScalingReport::project_largest`].
    #[serde(default)]
    pub extrapolation: Option<Extrapolation>,
}

/// One run: its size and where it came from, or why it is missing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunEntry {
    /// Input size of the run.
    pub size: u64,
    /// Path of its `profile_data.json` (empty when it wrote none).
    pub profile: String,
    /// Why the run is not among the fitted ones; `None` when it is.
    pub error: Option<String>,
}

/// The fits of one function or stage.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Scaled {
    /// Function or stage name.
    pub name: String,
    /// Module path.
    pub module: String,
    /// Cumulative time (function) or own time (stage), nanoseconds per run.
    pub time: Outcome,
    /// Self time per run (functions only).
    pub self_time: Option<Outcome>,
    /// Calls (function) or records handed out (stage) per run.
    pub count: Outcome,
}

/// The points of one series and what could be fitted to them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// One point per run where the subject ran.
    pub points: Vec<Point>,
    /// The fit, when the points allow one.
    pub fit: Option<Fit>,
    /// Why there is no fit.
    pub error: Option<String>,
    /// The value at [`ScalingReport::predict_size`], when asked for and fitted.
    pub prediction: Option<Prediction>,
}

impl Outcome {
    /// Fits `points` and predicts at `predict` when given.
    pub fn new(points: Vec<Point>, predict: Option<u64>) -> Outcome {
        match fit(&points) {
            Ok(f) => Outcome {
                prediction: predict.and_then(|n| f.predict(n as f64)),
                fit: Some(f),
                error: None,
                points,
            },
            Err(e) => Outcome {
                points,
                fit: None,
                error: Some(e.to_string()),
                prediction: None,
            },
        }
    }
}

impl ScalingReport {
    /// The fits of the function `name` in `module` (any module when `module` is empty).
    pub fn function(&self, name: &str, module: &str) -> Option<&Scaled> {
        find(&self.functions, name, module)
    }

    /// The fits of the stage `name` in `module` (any module when `module` is empty).
    pub fn stage(&self, name: &str, module: &str) -> Option<&Scaled> {
        find(&self.stages, name, module)
    }

    /// Projects the largest of `runs` (as given to [`build`]) to the prediction size, following
    /// the fits; nothing without a prediction size or runs.
    pub fn project_largest(&mut self, runs: &[(u64, String, &Profile)]) {
        let Some(expected) = self.predict_size else {
            return;
        };
        // The largest size; of its repeats, the first.
        let largest = runs
            .iter()
            .fold(None::<&(u64, String, &Profile)>, |best, r| match best {
                Some(b) if b.0 >= r.0 => Some(b),
                _ => Some(r),
            });
        if let Some((size, _, profile)) = largest {
            let mut e = crate::extrapolate::extrapolate_with(profile, *size, expected, Some(self));
            e.sample_size_source = "set".to_owned();
            self.extrapolation = Some(e);
        }
    }

    /// The sizes of the runs that were fitted, in the order given.
    pub fn fitted_sizes(&self) -> Vec<u64> {
        self.runs
            .iter()
            .filter(|r| r.error.is_none())
            .map(|r| r.size)
            .collect()
    }
}

fn find<'a>(list: &'a [Scaled], name: &str, module: &str) -> Option<&'a Scaled> {
    list.iter()
        .find(|s| s.name == name && s.module == module)
        .or_else(|| {
            list.iter()
                .find(|s| s.name == name && (module.is_empty() || s.module.is_empty()))
        })
}

/// Series of one subject while collecting: points of time, self time and count.
#[derive(Default)]
struct Series {
    name: String,
    module: String,
    time: Vec<Point>,
    self_time: Vec<Point>,
    count: Vec<Point>,
    /// Time at the largest size, for ordering.
    largest: (u64, u64),
}

impl Series {
    fn add(&mut self, size: u64, time: u64, self_time: Option<u64>, count: u64) {
        let n = size as f64;
        self.time.push(Point::new(n, time as f64));
        if let Some(s) = self_time {
            self.self_time.push(Point::new(n, s as f64));
        }
        self.count.push(Point::new(n, count as f64));
        if (size, time) > self.largest {
            self.largest = (size, time);
        }
    }
}

/// What to fit when a size was run more than once.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Repeats {
    /// Every run is a point: the fit goes through the (geometric) middle of the repeats, and the
    /// intervals include the run-to-run scatter.
    #[default]
    All,
    /// The median run of each size.
    Median,
    /// The fastest run of each size: the cost with the least interference, biased low as a
    /// prediction on a busy machine (a long run cannot dodge interference as a short one can).
    Min,
}

/// `points` with the repeats at each size combined as `how` says, in order of first appearance.
fn combine(points: Vec<Point>, how: Repeats) -> Vec<Point> {
    if how == Repeats::All {
        return points;
    }
    let mut sizes: Vec<f64> = Vec::new();
    for p in &points {
        if !sizes.contains(&p.size) {
            sizes.push(p.size);
        }
    }
    sizes
        .into_iter()
        .map(|n| {
            let mut v: Vec<f64> = points
                .iter()
                .filter(|p| p.size == n)
                .map(|p| p.value)
                .collect();
            v.sort_by(f64::total_cmp);
            let value = match how {
                Repeats::Min => v[0],
                _ if v.len() % 2 == 1 => v[v.len() / 2],
                _ => (v[v.len() / 2 - 1] + v[v.len() / 2]) / 2.0,
            };
            Point::new(n, value)
        })
        .collect()
}

fn series<'a>(list: &'a mut Vec<Series>, name: &str, module: &str) -> &'a mut Series {
    match list
        .iter()
        .position(|s| s.name == name && s.module == module)
    {
        Some(i) => &mut list[i],
        None => {
            list.push(Series {
                name: name.to_owned(),
                module: module.to_owned(),
                ..Series::default()
            });
            list.last_mut().expect("just pushed")
        }
    }
}

/// Fits every function and stage over `runs`, each given as (size, path of its profile, the
/// profile). Functions are matched by name and module, stages likewise; a subject missing from a
/// run has no point there. Runs repeated at one size are combined as `repeats` says. Subjects are
/// listed by their time at the largest size, largest first
/// (stages in pipeline order of the last run that has them).
pub fn build(
    runs: &[(u64, String, &Profile)],
    predict_size: Option<u64>,
    repeats: Repeats,
) -> ScalingReport {
    let mut functions: Vec<Series> = Vec::new();
    let mut stages: Vec<Series> = Vec::new();
    let mut stage_order: Vec<(String, String, u32)> = Vec::new();
    for (size, _, profile) in runs {
        for f in profile.functions.iter().filter(|f| f.calls > 0) {
            series(&mut functions, &f.name, &f.module).add(
                *size,
                f.cumulative_ns,
                Some(f.self_ns),
                f.calls,
            );
        }
        for s in &profile.stages {
            series(&mut stages, &s.name, &s.module).add(*size, s.own_ns, None, s.records_out);
            match stage_order
                .iter_mut()
                .find(|(n, m, _)| *n == s.name && *m == s.module)
            {
                Some(e) => e.2 = s.order,
                None => stage_order.push((s.name.clone(), s.module.clone(), s.order)),
            }
        }
    }
    functions.sort_by_key(|s| std::cmp::Reverse(s.largest));
    let order = |s: &Series| {
        stage_order
            .iter()
            .position(|(n, m, _)| *n == s.name && *m == s.module)
            .map_or(u32::MAX, |i| stage_order[i].2)
    };
    stages.sort_by_key(|s| order(s));
    let finish = |s: Series, with_self: bool| Scaled {
        time: Outcome::new(combine(s.time, repeats), predict_size),
        self_time: with_self.then(|| Outcome::new(combine(s.self_time, repeats), predict_size)),
        count: Outcome::new(combine(s.count, repeats), predict_size),
        name: s.name,
        module: s.module,
    };
    ScalingReport {
        schema_version: SCALING_SCHEMA_VERSION,
        confidence: super::CONFIDENCE,
        predict_size,
        repeats,
        runs: runs
            .iter()
            .map(|(size, path, _)| RunEntry {
                size: *size,
                profile: path.clone(),
                error: None,
            })
            .collect(),
        functions: functions.into_iter().map(|s| finish(s, true)).collect(),
        stages: stages.into_iter().map(|s| finish(s, false)).collect(),
        extrapolation: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scaling::Model;
    use pipelinescope_core::profile::{FunctionStats, StageStats};

    fn profile(n: u64) -> Profile {
        let mut p = Profile::default();
        let n2 = n * n;
        p.functions.push(FunctionStats {
            name: "quad".into(),
            module: "m".into(),
            calls: 1,
            cumulative_ns: n2,
            self_ns: n2 / 2,
            ..FunctionStats::default()
        });
        p.functions.push(FunctionStats {
            name: "lin".into(),
            module: "m".into(),
            calls: n,
            cumulative_ns: 3 * n,
            self_ns: 3 * n,
            ..FunctionStats::default()
        });
        p.stages.push(StageStats {
            name: "parse".into(),
            records_out: n,
            own_ns: 7 * n,
            ..StageStats::default()
        });
        p
    }

    #[test]
    fn fits_every_function_and_stage() {
        let ps: Vec<Profile> = [100, 1_000, 10_000].into_iter().map(profile).collect();
        let runs: Vec<(u64, String, &Profile)> = ps
            .iter()
            .zip([100, 1_000, 10_000])
            .map(|(p, n)| (n, format!("run{n}"), p))
            .collect();
        let r = build(&runs, Some(100_000), Repeats::All);
        assert_eq!(r.fitted_sizes(), vec![100, 1_000, 10_000]);
        // Ordered by time at the largest size: quad (1e8) before lin (3e4).
        assert_eq!(r.functions[0].name, "quad");
        let quad = r.function("quad", "m").unwrap();
        let f = quad.time.fit.as_ref().unwrap();
        assert!((f.exponent - 2.0).abs() < 1e-9);
        assert_eq!(f.best, Model::Quadratic);
        let pr = quad.time.prediction.as_ref().unwrap();
        assert!((pr.value / 1e10 - 1.0).abs() < 1e-6);
        let self_fit = quad.self_time.as_ref().unwrap().fit.as_ref().unwrap();
        assert_eq!(self_fit.best, Model::Quadratic);
        assert_eq!(quad.count.fit.as_ref().unwrap().best, Model::Constant);
        let lin = r.function("lin", "").unwrap();
        assert_eq!(lin.time.fit.as_ref().unwrap().best, Model::Linear);
        assert_eq!(lin.count.fit.as_ref().unwrap().best, Model::Linear);
        let parse = r.stage("parse", "").unwrap();
        assert_eq!(parse.time.fit.as_ref().unwrap().best, Model::Linear);
        assert!(parse.self_time.is_none());

        // The largest run projected to 100000 follows the fits: quad 100x, lin and parse 10x.
        let mut r = r;
        r.project_largest(&runs);
        let e = r.extrapolation.as_ref().unwrap();
        assert_eq!((e.sample_size, e.expected_size), (10_000, 100_000));
        let by_name = |n: &str| e.functions.iter().find(|p| p.name == n).unwrap();
        assert!((by_name("quad").projected_ns / 1e10 - 1.0).abs() < 1e-9);
        assert_eq!(by_name("quad").model, "O(n^2)");
        assert!((by_name("lin").projected_ns / 3e5 - 1.0).abs() < 1e-9);
        assert!((e.stages[0].projected_ns / 7e5 - 1.0).abs() < 1e-9);
    }

    #[test]
    fn repeated_sizes_are_combined_as_asked() {
        let mut slow = profile(1_000);
        slow.functions[0].cumulative_ns *= 4;
        let mut slower = profile(1_000);
        slower.functions[0].cumulative_ns *= 16;
        let ps = [profile(100), slow, profile(1_000), slower, profile(10_000)];
        let runs: Vec<(u64, String, &Profile)> = ps
            .iter()
            .zip([100, 1_000, 1_000, 1_000, 10_000])
            .map(|(p, n)| (n, String::new(), p))
            .collect();
        let at_1000 = |how| {
            let r = build(&runs, None, how);
            let quad = r.function("quad", "m").unwrap().clone();
            assert_eq!(r.repeats, how);
            assert_eq!(r.runs.len(), 5);
            quad
        };
        let all = at_1000(Repeats::All);
        assert_eq!(all.time.points.len(), 5);
        // ln-space mean of 1, 4 and 16 at n = 1000: 4 (k stays 2, the level moves).
        let f = all.time.fit.as_ref().unwrap();
        assert!((f.exponent - 2.0).abs() < 1e-9);
        assert!(f.exponent_high > f.exponent_low + 0.1);
        let min = at_1000(Repeats::Min);
        assert_eq!(min.time.points.len(), 3);
        assert_eq!(min.time.points[1], Point::new(1_000.0, 1e6));
        assert!((min.time.fit.as_ref().unwrap().exponent - 2.0).abs() < 1e-9);
        let median = at_1000(Repeats::Median);
        assert_eq!(median.time.points[1], Point::new(1_000.0, 4e6));
        assert_eq!(
            combine(
                vec![Point::new(1.0, 3.0), Point::new(1.0, 1.0)],
                Repeats::Median
            ),
            vec![Point::new(1.0, 2.0)]
        );
    }

    #[test]
    fn a_subject_missing_from_runs_reports_why() {
        let ps: Vec<Profile> = [100, 1_000].into_iter().map(profile).collect();
        let runs: Vec<(u64, String, &Profile)> =
            vec![(100, String::new(), &ps[0]), (1_000, String::new(), &ps[1])];
        let r = build(&runs, None, Repeats::All);
        let quad = r.function("quad", "m").unwrap();
        assert!(quad.time.fit.is_none());
        assert_eq!(quad.time.points.len(), 2);
        assert!(
            quad.time
                .error
                .as_ref()
                .unwrap()
                .contains("not enough points")
        );
    }
}
