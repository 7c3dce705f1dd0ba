//! Comparing two runs: per function and per stage, before and after, classified as improved,
//! regressed, stable, new or removed.
//!
//! # When a change counts
//!
//! Functions are matched by name and module, stages by name and module. For a matched pair the
//! compared figure is the mean time per call (for a stage: the mean own time per record handed
//! out), with its standard deviation and count taken from each run's histogram summary.
//!
//! * When both sides have at least two observations, the change counts when **both** hold:
//!   1. Welch's t statistic `t = (m1 - m0) / sqrt(s0²/n0 + s1²/n1)` has `|t| >= 3` (`m` mean,
//!      `s` standard deviation, `n` count of each run; 3 standard errors keeps false alarms rare
//!      even over a table of hundreds of rows), so the difference is larger than the run-to-run
//!      noise the histograms show; when both spreads are zero any difference passes;
//!   2. the relative change `|m1 - m0| / m0` is at least the threshold (`--threshold`, 5% by
//!      default), so that tiny but very certain changes of busy functions are not reported.
//! * When a side has fewer than two observations there is no spread to judge noise from; the
//!   change counts when the relative change is at least the larger of the threshold and 10%.
//!
//! The histograms show the noise within each run only; a shift of a whole run (a busy machine,
//! frequency scaling) moves every call alike and looks certain with many calls. The threshold is
//! the guard against that.
//!
//! A counted change is a regression when the mean went up and an improvement when it went down;
//! anything else is stable. A function or stage only in the current run is new, only in the base
//! run removed.

use pipelinescope_core::profile::{FunctionStats, Histogram, Percentiles, Profile, StageStats};

use crate::console::{fmt_ns, fmt_pct};

/// Critical value of Welch's t statistic (see the module docs).
pub const T_CRITICAL: f64 = 3.0;
/// Relative change needed when there is no spread to judge noise from.
pub const FIXED_RULE: f64 = 0.10;

/// What happened to a function or stage between the two runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Change {
    /// Significantly slower.
    Regressed,
    /// Significantly faster.
    Improved,
    /// Only in the current run.
    New,
    /// Only in the base run.
    Removed,
    /// No change beyond noise and threshold.
    Stable,
}

impl Change {
    /// Lower-case word for tables and HTML.
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Regressed => "regressed",
            Change::Improved => "improved",
            Change::New => "new",
            Change::Removed => "removed",
            Change::Stable => "stable",
        }
    }
}

/// Whether a row is a function or a stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Subject {
    /// An instrumented function.
    Function,
    /// A pipeline stage.
    Stage,
}

impl Subject {
    /// Short label for tables: `fn` or `stage`.
    pub fn label(self) -> &'static str {
        match self {
            Subject::Function => "fn",
            Subject::Stage => "stage",
        }
    }
}

/// Figures of one side of a comparison.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Side {
    /// Calls (stages: records handed out).
    pub calls: u64,
    /// Exclusive time (stages: own time).
    pub self_ns: u64,
    /// Inclusive time (stages: own plus upstream time).
    pub cumulative_ns: u64,
    /// Median per call (stages: per record).
    pub p50_ns: u64,
    /// 99th percentile per call (stages: per record).
    pub p99_ns: u64,
    /// Mean per call (stages: own time per record).
    pub mean_ns: f64,
    /// Standard deviation per call.
    pub stddev_ns: f64,
    /// Observations behind mean and deviation.
    pub n: u64,
}

/// One row of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct DiffRow {
    /// Function or stage.
    pub subject: Subject,
    /// Display name.
    pub name: String,
    /// Module path.
    pub module: String,
    /// Figures of the base run, if it had this row.
    pub base: Option<Side>,
    /// Figures of the current run, if it has this row.
    pub current: Option<Side>,
    /// Relative change of the mean, `(m1 - m0) / m0`, when both sides exist and `m0 > 0`.
    pub relative: Option<f64>,
    /// Welch's t statistic, when both sides have at least two observations.
    pub welch_t: Option<f64>,
    /// The verdict.
    pub change: Change,
}

/// A whole comparison.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Diff {
    /// Minimum relative change that counts (0.05 = 5%).
    pub threshold: f64,
    /// Function rows, then stage rows; each group sorted by verdict, then by the size of the
    /// change of cumulative time.
    pub rows: Vec<DiffRow>,
}

impl Diff {
    /// Whether any row regressed.
    pub fn has_regression(&self) -> bool {
        self.rows.iter().any(|r| r.change == Change::Regressed)
    }

    /// Number of rows with the given verdict.
    pub fn count(&self, change: Change) -> usize {
        self.rows.iter().filter(|r| r.change == change).count()
    }
}

/// Mean and standard deviation of a histogram's buckets (sample deviation).
pub fn histogram_moments(h: &Histogram) -> (f64, f64, u64) {
    let n: u64 = h.count();
    if n == 0 {
        return (0.0, 0.0, 0);
    }
    let mean = h
        .buckets
        .iter()
        .map(|&(v, c)| v as f64 * c as f64)
        .sum::<f64>()
        / n as f64;
    if n < 2 {
        return (mean, 0.0, n);
    }
    let ss: f64 = h
        .buckets
        .iter()
        .map(|&(v, c)| c as f64 * (v as f64 - mean).powi(2))
        .sum();
    (mean, (ss / (n - 1) as f64).sqrt(), n)
}

/// Mean, deviation and count: the exact summary where the profile has it, else the histogram.
fn moments(p: &Percentiles, h: &Histogram, count: u64, total_ns: u64) -> (f64, f64, u64) {
    let (hm, hs, hn) = histogram_moments(h);
    let n = if count > 0 { count } else { hn };
    let mean = if p.mean_ns > 0.0 {
        p.mean_ns
    } else if hn > 0 {
        hm
    } else if n > 0 {
        total_ns as f64 / n as f64
    } else {
        0.0
    };
    let sd = if p.stddev_ns > 0.0 { p.stddev_ns } else { hs };
    (mean, sd, n)
}

fn function_side(f: &FunctionStats) -> Side {
    let (mean_ns, stddev_ns, n) = moments(&f.percentiles, &f.histogram, f.calls, f.cumulative_ns);
    Side {
        calls: f.calls,
        self_ns: f.self_ns,
        cumulative_ns: f.cumulative_ns,
        p50_ns: f.percentiles.p50_ns,
        p99_ns: f.percentiles.p99_ns,
        mean_ns,
        stddev_ns,
        n,
    }
}

fn stage_side(s: &StageStats) -> Side {
    let (mean_ns, stddev_ns, n) =
        moments(&s.own_per_record, &s.own_histogram, s.records_out, s.own_ns);
    Side {
        calls: s.records_out,
        self_ns: s.own_ns,
        cumulative_ns: s.own_ns + s.upstream_ns,
        p50_ns: s.own_per_record.p50_ns,
        p99_ns: s.own_per_record.p99_ns,
        mean_ns,
        stddev_ns,
        n,
    }
}

/// Applies the rule of the module docs to one matched pair; returns the verdict, the relative
/// change and Welch's t.
pub fn classify(base: &Side, current: &Side, threshold: f64) -> (Change, Option<f64>, Option<f64>) {
    let (m0, m1) = (base.mean_ns, current.mean_ns);
    if m0 <= 0.0 {
        // Nothing measurable before: only a change from nothing to something counts.
        let change = if m1 > 0.0 {
            Change::Regressed
        } else {
            Change::Stable
        };
        return (change, None, None);
    }
    let rel = (m1 - m0) / m0;
    let (counts, t) = if base.n >= 2 && current.n >= 2 {
        let se = (base.stddev_ns.powi(2) / base.n as f64
            + current.stddev_ns.powi(2) / current.n as f64)
            .sqrt();
        let t = if se > 0.0 {
            (m1 - m0) / se
        } else if m1 == m0 {
            0.0
        } else {
            f64::INFINITY.copysign(m1 - m0)
        };
        (t.abs() >= T_CRITICAL && rel.abs() >= threshold, Some(t))
    } else {
        (rel.abs() >= threshold.max(FIXED_RULE), None)
    };
    let change = match (counts, rel > 0.0) {
        (false, _) => Change::Stable,
        (true, true) => Change::Regressed,
        (true, false) => Change::Improved,
    };
    (change, Some(rel), t)
}

fn pair_rows<T>(
    subject: Subject,
    base: &[T],
    current: &[T],
    key: impl Fn(&T) -> (&str, &str),
    side: impl Fn(&T) -> Side,
    threshold: f64,
) -> Vec<DiffRow> {
    let mut rows = Vec::new();
    for c in current {
        let (name, module) = key(c);
        let cur = side(c);
        let row = match base.iter().find(|b| key(b) == (name, module)) {
            Some(b) => {
                let bs = side(b);
                let (change, relative, welch_t) = classify(&bs, &cur, threshold);
                DiffRow {
                    subject,
                    name: name.to_string(),
                    module: module.to_string(),
                    base: Some(bs),
                    current: Some(cur),
                    relative,
                    welch_t,
                    change,
                }
            }
            None => DiffRow {
                subject,
                name: name.to_string(),
                module: module.to_string(),
                base: None,
                current: Some(cur),
                relative: None,
                welch_t: None,
                change: Change::New,
            },
        };
        rows.push(row);
    }
    for b in base {
        let (name, module) = key(b);
        if !current.iter().any(|c| key(c) == (name, module)) {
            rows.push(DiffRow {
                subject,
                name: name.to_string(),
                module: module.to_string(),
                base: Some(side(b)),
                current: None,
                relative: None,
                welch_t: None,
                change: Change::Removed,
            });
        }
    }
    let delta = |r: &DiffRow| {
        let b = r.base.map_or(0, |s| s.cumulative_ns) as i128;
        let c = r.current.map_or(0, |s| s.cumulative_ns) as i128;
        (c - b).abs()
    };
    rows.sort_by(|a, b| {
        a.change
            .cmp(&b.change)
            .then_with(|| delta(b).cmp(&delta(a)))
            .then_with(|| a.name.cmp(&b.name))
    });
    rows
}

/// Compares `current` against `base`; `threshold` is the minimum relative change that counts
/// (0.05 = 5%).
pub fn diff(base: &Profile, current: &Profile, threshold: f64) -> Diff {
    let threshold = if threshold.is_finite() && threshold >= 0.0 {
        threshold
    } else {
        0.05
    };
    let mut rows = pair_rows(
        Subject::Function,
        &base.functions,
        &current.functions,
        |f| (f.name.as_str(), f.module.as_str()),
        function_side,
        threshold,
    );
    rows.extend(pair_rows(
        Subject::Stage,
        &base.stages,
        &current.stages,
        |s| (s.name.as_str(), s.module.as_str()),
        stage_side,
        threshold,
    ));
    Diff { threshold, rows }
}

impl DiffRow {
    /// The before -> after cells every rendering of a row shows: calls, self, cumulative, p50,
    /// p99.
    pub fn figure_cells(&self) -> [String; 5] {
        let g = |f: fn(&Side) -> u64| (self.base.as_ref().map(f), self.current.as_ref().map(f));
        let (cb, cc) = g(|s| s.calls);
        let (sb, sc) = g(|s| s.self_ns);
        let (ub, uc) = g(|s| s.cumulative_ns);
        let (pb, pc) = g(|s| s.p50_ns);
        let (qb, qc) = g(|s| s.p99_ns);
        [
            arrow_count(cb, cc),
            arrow_ns(sb, sc),
            arrow_ns(ub, uc),
            arrow_ns(pb, pc),
            arrow_ns(qb, qc),
        ]
    }
}

/// `before → after` for a duration, `-` for a missing side.
pub fn arrow_ns(b: Option<u64>, c: Option<u64>) -> String {
    let f = |v: Option<u64>| v.map_or("-".to_string(), |v| fmt_ns(v as f64));
    format!("{} → {}", f(b), f(c))
}

/// `before → after` for a count.
pub fn arrow_count(b: Option<u64>, c: Option<u64>) -> String {
    let f = |v: Option<u64>| v.map_or("-".to_string(), |v| v.to_string());
    format!("{} → {}", f(b), f(c))
}

/// Relative change as a signed percentage, `-` when unknown.
pub fn fmt_relative(rel: Option<f64>) -> String {
    match rel {
        Some(r) if r.is_finite() => {
            let s = fmt_pct(r);
            if r > 0.0 { format!("+{s}") } else { s }
        }
        _ => "-".to_string(),
    }
}

/// Renders the comparison as an aligned text table with a one-line tally at the end.
pub fn diff_table(d: &Diff, color: bool) -> String {
    let header = [
        "status",
        "kind",
        "name",
        "mean/call Δ",
        "calls",
        "self",
        "cumulative",
        "p50",
        "p99",
    ];
    let mut rows: Vec<Vec<String>> = Vec::new();
    for r in &d.rows {
        let mut row = vec![
            r.change.as_str().to_string(),
            r.subject.label().to_string(),
            r.name.clone(),
            fmt_relative(r.relative),
        ];
        row.extend(r.figure_cells());
        rows.push(row);
    }
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (i, c) in row.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &[String], style: Option<&str>| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i > 0 {
                s.push_str("  ");
            }
            let pad = widths[i].saturating_sub(c.chars().count());
            if i >= 3 {
                s.extend(std::iter::repeat_n(' ', pad));
                s.push_str(c);
            } else {
                s.push_str(c);
                s.extend(std::iter::repeat_n(' ', pad));
            }
        }
        if let Some(st) = style {
            out.push_str(st);
        }
        out.push_str(s.trim_end());
        if style.is_some() {
            out.push_str("\x1b[0m");
        }
        out.push('\n');
    };
    let head: Vec<String> = header.iter().map(|s| s.to_string()).collect();
    line(&head, color.then_some("\x1b[1m"));
    for (row, r) in rows.iter().zip(&d.rows) {
        let style = match r.change {
            Change::Regressed => Some("\x1b[31m"),
            Change::Improved => Some("\x1b[32m"),
            _ => None,
        };
        line(row, if color { style } else { None });
    }
    out.push_str(&format!(
        "{} regressed, {} improved, {} new, {} removed, {} stable (threshold {})\n",
        d.count(Change::Regressed),
        d.count(Change::Improved),
        d.count(Change::New),
        d.count(Change::Removed),
        d.count(Change::Stable),
        fmt_pct(d.threshold)
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn side(mean: f64, sd: f64, n: u64) -> Side {
        Side {
            mean_ns: mean,
            stddev_ns: sd,
            n,
            calls: n,
            ..Default::default()
        }
    }

    #[test]
    fn welch_rule() {
        // 2x slower with small spread: regressed.
        let (c, rel, t) = classify(&side(1000.0, 100.0, 1000), &side(2000.0, 200.0, 1000), 0.05);
        assert_eq!(c, Change::Regressed);
        assert!((rel.unwrap() - 1.0).abs() < 1e-12);
        assert!(t.unwrap() > 100.0);
        // Identical: stable.
        let (c, _, t) = classify(&side(1000.0, 100.0, 1000), &side(1000.0, 100.0, 1000), 0.05);
        assert_eq!((c, t), (Change::Stable, Some(0.0)));
        // 20% faster but drowned in noise (few calls, huge spread): stable.
        let (c, _, t) = classify(&side(1000.0, 2000.0, 10), &side(800.0, 2000.0, 10), 0.05);
        assert_eq!(c, Change::Stable);
        assert!(t.unwrap().abs() < T_CRITICAL);
        // 20% faster and certain: improved.
        let (c, _, _) = classify(&side(1000.0, 10.0, 100), &side(800.0, 10.0, 100), 0.05);
        assert_eq!(c, Change::Improved);
        // Certain but below the threshold: stable.
        let (c, _, t) = classify(&side(1000.0, 1.0, 10_000), &side(1020.0, 1.0, 10_000), 0.05);
        assert_eq!(c, Change::Stable);
        assert!(t.unwrap() > T_CRITICAL);
        // One call each side: the fixed 10% rule.
        assert_eq!(
            classify(&side(1000.0, 0.0, 1), &side(1080.0, 0.0, 1), 0.05).0,
            Change::Stable
        );
        assert_eq!(
            classify(&side(1000.0, 0.0, 1), &side(1120.0, 0.0, 1), 0.05).0,
            Change::Regressed
        );
    }

    #[test]
    fn moments_of_histogram() {
        let h = Histogram {
            sigfig: 3,
            buckets: vec![(10, 2), (20, 2)],
        };
        let (m, s, n) = histogram_moments(&h);
        assert_eq!(n, 4);
        assert!((m - 15.0).abs() < 1e-12);
        // Sample deviation of 10,10,20,20: sqrt(100/3).
        assert!((s - (100.0f64 / 3.0).sqrt()).abs() < 1e-9);
    }
}
