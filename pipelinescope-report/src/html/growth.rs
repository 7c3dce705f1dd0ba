//! "How cost grows": for each function and stage with a within-run fit, a log-log plot of its
//! size classes (mean size against mean time per call) and the fitted `t = a·n^k`, drawn as
//! inline SVG at render time. The SVG holds numbers and fixed text only; names go through the
//! template, which escapes them.

use std::fmt::Write as _;

use pipelinescope_core::profile::{Profile, SizeBucket, SizeScaling};

use super::format;
use crate::scaling::within;

/// One plot of the section.
pub(super) struct GrowthPlot {
    pub name: String,
    pub kind: &'static str,
    /// `n^1.98±0.05 · O(n^2) · R² 0.998 · n log n R² 0.91 · 12 classes, 3400 calls`.
    pub caption: String,
    pub svg: String,
}

/// The plots of every fitted function (by time, largest first) and stage (in pipeline order).
pub(super) fn plots(profile: &Profile) -> Vec<GrowthPlot> {
    let mut out = Vec::new();
    let mut stages: Vec<_> = profile.stages.iter().collect();
    stages.sort_by_key(|s| s.order);
    for s in stages {
        if let Some(sc) = &s.scaling {
            out.push(plot(&s.name, "stage", sc, &s.sizes));
        }
    }
    for f in profile.by_cumulative() {
        if let Some(sc) = &f.scaling {
            out.push(plot(&f.name, "function", sc, &f.sizes));
        }
    }
    out
}

const W: f64 = 380.0;
const H: f64 = 230.0;
const LEFT: f64 = 62.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 10.0;
const BOTTOM: f64 = 34.0;

fn plot(name: &str, kind: &'static str, s: &SizeScaling, buckets: &[SizeBucket]) -> GrowthPlot {
    let pts: Vec<(f64, f64)> = within::points(buckets)
        .iter()
        .map(|p| (p.size, p.value))
        .collect();
    let caption = format!(
        "{} · {} · R² {:.3} · n log n R² {:.3} · {} size classes, {} calls",
        within::exponent_label(s),
        s.model,
        s.r_squared,
        s.n_log_n_r_squared,
        s.points,
        s.calls
    );
    GrowthPlot {
        name: name.to_owned(),
        kind,
        caption,
        svg: svg(&pts, s),
    }
}

/// Decades spanning `lo..=hi` (logs base 10), at least one.
fn decades(lo: f64, hi: f64) -> (f64, f64) {
    let (a, b) = (lo.log10().floor(), hi.log10().ceil());
    if b > a { (a, b) } else { (a, a + 1.0) }
}

fn svg(pts: &[(f64, f64)], s: &SizeScaling) -> String {
    let fit_at = |n: f64| s.coefficient * n.powf(s.exponent);
    let (xmin, xmax) = (s.min_size, s.max_size);
    let ys = pts
        .iter()
        .map(|p| p.1)
        .chain([fit_at(xmin), fit_at(xmax)])
        .filter(|v| v.is_finite() && *v > 0.0);
    let (ylo, yhi) = ys.fold((f64::INFINITY, 0f64), |(a, b), v| (a.min(v), b.max(v)));
    if !(xmin > 0.0 && xmax >= xmin && ylo > 0.0 && yhi >= ylo) {
        return String::new();
    }
    let (xa, xb) = decades(xmin, xmax);
    let (ya, yb) = decades(ylo, yhi);
    let pw = W - LEFT - RIGHT;
    let ph = H - TOP - BOTTOM;
    let x = |n: f64| LEFT + (n.log10() - xa) / (xb - xa) * pw;
    let y = |t: f64| TOP + ph - (t.log10() - ya) / (yb - ya) * ph;
    let mut o = String::new();
    let _ = write!(
        o,
        "<svg class=\"growth-plot\" viewBox=\"0 0 {W} {H}\" role=\"img\" \
         aria-label=\"time per call against size, log-log\">"
    );
    let _ = write!(
        o,
        "<rect x=\"{LEFT}\" y=\"{TOP}\" width=\"{pw}\" height=\"{ph}\" fill=\"none\" \
         stroke=\"currentColor\" stroke-opacity=\"0.25\"/>"
    );
    let mut d = xa;
    while d <= xb + 1e-9 {
        let px = x(10f64.powf(d));
        let _ = write!(
            o,
            "<line x1=\"{px:.1}\" y1=\"{TOP}\" x2=\"{px:.1}\" y2=\"{:.1}\" stroke=\"currentColor\" \
             stroke-opacity=\"0.1\"/><text x=\"{px:.1}\" y=\"{:.1}\" font-size=\"10\" \
             text-anchor=\"middle\" fill=\"currentColor\">{}</text>",
            TOP + ph,
            TOP + ph + 13.0,
            crate::console::fmt_size(10f64.powf(d))
        );
        d += 1.0;
    }
    let mut d = ya;
    while d <= yb + 1e-9 {
        let py = y(10f64.powf(d));
        let _ = write!(
            o,
            "<line x1=\"{LEFT}\" y1=\"{py:.1}\" x2=\"{:.1}\" y2=\"{py:.1}\" stroke=\"currentColor\" \
             stroke-opacity=\"0.1\"/><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" \
             text-anchor=\"end\" fill=\"currentColor\">{}</text>",
            LEFT + pw,
            LEFT - 4.0,
            py + 3.0,
            format::ns(10f64.powf(d))
        );
        d += 1.0;
    }
    let _ = write!(
        o,
        "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"middle\" \
         fill=\"currentColor\" fill-opacity=\"0.7\">size n (mean of each class)</text>",
        LEFT + pw / 2.0,
        H - 4.0
    );
    // The fit, as a straight line on these axes.
    let _ = write!(
        o,
        "<line class=\"fit\" x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" \
         stroke=\"var(--hot)\" stroke-width=\"1.5\"/>",
        x(xmin),
        y(fit_at(xmin)),
        x(xmax),
        y(fit_at(xmax))
    );
    for &(n, t) in pts {
        let _ = write!(
            o,
            "<circle class=\"pt\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"3.5\" fill=\"var(--accent)\"/>",
            x(n),
            y(t)
        );
    }
    o.push_str("</svg>");
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use pipelinescope_core::profile::FunctionStats;

    #[test]
    fn one_plot_per_fit_with_its_points_and_line() {
        let sizes: Vec<SizeBucket> = [10u64, 100, 1_000, 10_000]
            .iter()
            .map(|&n| SizeBucket::of_calls(n, 5, 5 * n * n))
            .collect();
        let mut p = Profile::default();
        p.functions.push(FunctionStats {
            name: "pairs".into(),
            calls: 20,
            sizes,
            ..FunctionStats::default()
        });
        p.functions.push(FunctionStats {
            name: "plain".into(),
            calls: 1,
            ..FunctionStats::default()
        });
        within::annotate(&mut p);
        let plots = plots(&p);
        assert_eq!(plots.len(), 1);
        let g = &plots[0];
        assert_eq!((g.name.as_str(), g.kind), ("pairs", "function"));
        assert!(
            g.caption.starts_with("n^2.00±0.00 · O(n^2)"),
            "{}",
            g.caption
        );
        assert_eq!(g.svg.matches("<circle class=\"pt\"").count(), 4);
        assert_eq!(g.svg.matches("class=\"fit\"").count(), 1);
        assert!(
            g.svg.contains(">10k<") && g.svg.contains(">100 ms<"),
            "{}",
            g.svg
        );
    }
}
