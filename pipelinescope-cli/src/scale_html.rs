//! scaling.html: the result of `pipelinescope scale` as a self-contained page (inline style and
//! SVG, no script, no network): the runs, the table of exponents, and a log-log plot per
//! function and stage with its points, the fitted model and the prediction.

use std::fmt::Write as _;

use pipelinescope_report::console::{fmt_ns, fmt_size};
use pipelinescope_report::scaling::{Model, Outcome, Scaled, ScalingReport};

use crate::comparison::escape;
use crate::scale::{fmt_exponent, fmt_model, fmt_prediction};

/// Functions plotted at most (the largest at the largest size); every stage is plotted.
const MAX_FUNCTION_PLOTS: usize = 60;

const W: f64 = 420.0;
const H: f64 = 260.0;
const LEFT: f64 = 72.0;
const RIGHT: f64 = 14.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 36.0;

/// Renders the page.
pub fn render(r: &ScalingReport) -> String {
    let mut h = String::new();
    h.push_str(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>PipelineScope scaling</title><style>\
body{font-family:system-ui,sans-serif;margin:2em;color:#222}\
table{border-collapse:collapse;font-size:14px;margin-bottom:1.5em}\
th,td{padding:4px 8px;border-bottom:1px solid #ddd;text-align:right;white-space:nowrap}\
th{background:#f3f3f3}td.l,th.l{text-align:left}td.err{color:#b00020}\
.plots{display:flex;flex-wrap:wrap;gap:1em}figure{margin:0;border:1px solid #ddd;padding:6px}\
figcaption{font-size:13px;margin-bottom:4px}svg text{font-size:11px;fill:#444}\
.grid{stroke:#eee}.axis{stroke:#888;fill:none}.pt{fill:#1f5fbf}.fit{stroke:#d9480f;fill:none;\
stroke-width:2}.pow{stroke:#999;fill:none;stroke-dasharray:4 3}.pred{fill:#d9480f}\
.bar{stroke:#d9480f;stroke-width:1.5}</style></head><body>\n<h1>How cost grows with input size</h1>\n",
    );
    let _ = writeln!(
        h,
        "<p>Each function (cumulative time) and stage (own time) is fitted over the runs below \
as <i>t = a·n<sup>k</sup></i> by least squares on log-log axes; <i>k</i> is shown with its {:.0}% \
confidence interval. The model is the simplest of O(1), O(n), O(n log n), O(n²) that fits as well \
as the best of them (several when the points cannot tell them apart), or the power law when it \
is clearly better; R² is that model's, in log space. Predictions use that model, or the power law \
where several shapes fit, and carry the {:.0}% interval of one new run.</p>",
        r.confidence * 100.0,
        r.confidence * 100.0
    );
    h.push_str("<h2>Runs</h2><table><thead><tr><th>size</th><th class=\"l\">profile</th></tr></thead><tbody>\n");
    for run in &r.runs {
        match &run.error {
            None => {
                let _ = writeln!(
                    h,
                    "<tr><td>{}</td><td class=\"l\">{}</td></tr>",
                    run.size,
                    escape(&run.profile)
                );
            }
            Some(e) => {
                let _ = writeln!(
                    h,
                    "<tr><td>{}</td><td class=\"l err\">failed: {}</td></tr>",
                    run.size,
                    escape(e)
                );
            }
        }
    }
    h.push_str("</tbody></table>\n<h2>Exponents</h2>\n");
    let at = r
        .predict_size
        .map_or_else(|| "predicted".to_string(), |n| format!("at n = {n}"));
    let _ = writeln!(
        h,
        "<table><thead><tr><th class=\"l\">kind</th><th class=\"l\">name</th>\
<th class=\"l\">module</th><th>k (time) [95%]</th><th class=\"l\">model</th><th>R²</th>\
<th>k (self) [95%]</th><th>k (count) [95%]</th><th>{}</th><th>95% interval</th></tr></thead><tbody>",
        escape(&at)
    );
    let rows = r
        .functions
        .iter()
        .map(|s| ("fn", s))
        .chain(r.stages.iter().map(|s| ("stage", s)));
    for (kind, s) in rows {
        let (model, r2) = fmt_model(&s.time);
        let (pred, interval) = fmt_prediction(&s.time);
        let _ = writeln!(
            h,
            "<tr><td class=\"l\">{kind}</td><td class=\"l\">{}</td><td class=\"l\">{}</td>\
<td>{}</td><td class=\"l{}\">{}</td><td>{r2}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&s.name),
            escape(&s.module),
            escape(&fmt_exponent(&s.time)),
            if s.time.fit.is_none() { " err" } else { "" },
            escape(&model),
            escape(
                &s.self_time
                    .as_ref()
                    .map_or_else(|| "-".into(), fmt_exponent)
            ),
            escape(&fmt_exponent(&s.count)),
            escape(&pred),
            escape(&interval),
        );
    }
    h.push_str("</tbody></table>\n");
    if let Some(e) = &r.extrapolation {
        let t = &e.total;
        let _ = writeln!(
            h,
            "<p>Whole run at n = {}: <b>{}</b> [{}, {}]: the instrumented time of the run at \
n = {} projected, each root function following its fit ({}).</p>",
            e.expected_size,
            escape(&fmt_ns(t.projected_ns)),
            escape(&fmt_ns(t.low_ns)),
            escape(&fmt_ns(t.high_ns)),
            e.sample_size,
            escape(&t.model)
        );
    }
    h.push_str("<h2>Plots</h2>\n<p>Points: the runs. Orange: the model predictions \
use; dashed grey: the free power law where another model is used; the orange bar: the prediction and \
its interval.</p>\n<div class=\"plots\">\n");
    for s in r.functions.iter().take(MAX_FUNCTION_PLOTS) {
        figure(&mut h, "fn", s, r.predict_size);
    }
    for s in &r.stages {
        figure(&mut h, "stage", s, r.predict_size);
    }
    h.push_str("</div>\n");
    if r.functions.len() > MAX_FUNCTION_PLOTS {
        let _ = writeln!(
            h,
            "<p>{} more functions are in the table and in scaling.json.</p>",
            r.functions.len() - MAX_FUNCTION_PLOTS
        );
    }
    h.push_str("</body></html>\n");
    h
}

fn figure(h: &mut String, kind: &str, s: &Scaled, predict: Option<u64>) {
    let (model, _) = fmt_model(&s.time);
    let _ = writeln!(
        h,
        "<figure><figcaption>{kind} <b>{}</b> — {}</figcaption>{}</figure>",
        escape(&s.name),
        escape(&model),
        plot(&s.time, predict)
    );
}

/// A log-log plot of one series as inline SVG.
pub fn plot(o: &Outcome, predict: Option<u64>) -> String {
    let pts: Vec<(f64, f64)> = o
        .points
        .iter()
        .filter(|p| p.size > 0.0 && p.value > 0.0)
        .map(|p| (p.size, p.value))
        .collect();
    if pts.is_empty() {
        return "<p>no points</p>".into();
    }
    let prediction = o.prediction.as_ref();
    let mut xs: Vec<f64> = pts.iter().map(|p| p.0).collect();
    let mut ys: Vec<f64> = pts.iter().map(|p| p.1).collect();
    if let (Some(n), Some(_)) = (predict, &o.fit) {
        xs.push(n as f64);
    }
    if let Some(p) = prediction {
        ys.extend([p.low, p.high, p.value]);
    }
    let (x0, x1) = log_range(&xs);
    // The fitted curves over the whole x range, sampled evenly in log space.
    let curve = |model: Model| -> Vec<(f64, f64)> {
        let Some(fit) = &o.fit else { return Vec::new() };
        (0..=48)
            .filter_map(|i| {
                let n = 10f64.powf(x0 + (x1 - x0) * i as f64 / 48.0);
                fit.predict_with(model, n).map(|p| (n, p.value))
            })
            .filter(|(_, v)| *v > 0.0 && v.is_finite())
            .collect()
    };
    let best = o.fit.as_ref().map(|f| f.prediction_model);
    let main = best.map(curve).unwrap_or_default();
    let power = match best {
        Some(m) if m != Model::Power => curve(Model::Power),
        _ => Vec::new(),
    };
    ys.extend(main.iter().chain(&power).map(|p| p.1));
    let (y0, y1) = log_range(&ys);
    let sx = |n: f64| LEFT + (n.log10() - x0) / (x1 - x0) * (W - LEFT - RIGHT);
    let sy = |v: f64| TOP + (y1 - v.log10()) / (y1 - y0) * (H - TOP - BOTTOM);

    let mut g = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\">"
    );
    for d in (x0.ceil() as i32)..=(x1.floor() as i32) {
        let x = sx(10f64.powi(d));
        let _ = write!(
            g,
            "<line class=\"grid\" x1=\"{x:.1}\" y1=\"{TOP}\" x2=\"{x:.1}\" y2=\"{:.1}\"/>\
<text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            H - BOTTOM,
            H - BOTTOM + 14.0,
            fmt_size(10f64.powi(d))
        );
    }
    for d in (y0.ceil() as i32)..=(y1.floor() as i32) {
        let y = sy(10f64.powi(d));
        let _ = write!(
            g,
            "<line class=\"grid\" x1=\"{LEFT}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\"/>\
<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            W - RIGHT,
            LEFT - 4.0,
            y + 4.0,
            escape(&fmt_ns(10f64.powi(d)))
        );
    }
    let _ = write!(
        g,
        "<rect class=\"axis\" x=\"{LEFT}\" y=\"{TOP}\" width=\"{:.1}\" height=\"{:.1}\"/>\
<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">n</text>",
        W - LEFT - RIGHT,
        H - TOP - BOTTOM,
        (LEFT + W - RIGHT) / 2.0,
        H - 4.0
    );
    for (class, line) in [("pow", &power), ("fit", &main)] {
        if line.len() >= 2 {
            let d: Vec<String> = line
                .iter()
                .map(|&(n, v)| format!("{:.1},{:.1}", sx(n), sy(v)))
                .collect();
            let _ = write!(
                g,
                "<polyline class=\"{class}\" points=\"{}\"/>",
                d.join(" ")
            );
        }
    }
    for &(n, v) in &pts {
        let _ = write!(
            g,
            "<circle class=\"pt\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"3.5\"><title>n = {n}: {}</title></circle>",
            sx(n),
            sy(v),
            escape(&fmt_ns(v))
        );
    }
    if let Some(p) = prediction {
        let x = sx(p.size);
        let _ = write!(
            g,
            "<line class=\"bar\" x1=\"{x:.1}\" y1=\"{:.1}\" x2=\"{x:.1}\" y2=\"{:.1}\"/>\
<circle class=\"pred\" cx=\"{x:.1}\" cy=\"{:.1}\" r=\"4\"><title>predicted at n = {}: {} [{}, {}]</title></circle>",
            sy(p.low),
            sy(p.high),
            sy(p.value),
            p.size,
            escape(&fmt_ns(p.value)),
            escape(&fmt_ns(p.low)),
            escape(&fmt_ns(p.high))
        );
    }
    g.push_str("</svg>");
    g
}

/// log10 range of `v` padded by a tenth of a decade, at least half a decade wide.
fn log_range(v: &[f64]) -> (f64, f64) {
    let logs = v
        .iter()
        .filter(|x| **x > 0.0 && x.is_finite())
        .map(|x| x.log10());
    let (lo, hi) = logs.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), l| {
        (lo.min(l), hi.max(l))
    });
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let mid = (lo + hi) / 2.0;
    let half = ((hi - lo) / 2.0).max(0.25) + 0.1;
    (mid - half, mid + half)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pipelinescope_report::scaling::{Point, build};

    #[test]
    fn plots_points_fit_and_prediction() {
        let profiles: Vec<pipelinescope_core::Profile> = [100u64, 1_000, 10_000]
            .iter()
            .map(|&n| {
                let mut p = pipelinescope_core::Profile::default();
                p.functions
                    .push(pipelinescope_core::profile::FunctionStats {
                        name: "<quad>".into(),
                        calls: 1,
                        cumulative_ns: n * n,
                        ..Default::default()
                    });
                p
            })
            .collect();
        let runs: Vec<(u64, String, &pipelinescope_core::Profile)> = [100u64, 1_000, 10_000]
            .iter()
            .zip(&profiles)
            .map(|(&n, p)| (n, format!("r{n}"), p))
            .collect();
        let r = build(
            &runs,
            Some(100_000),
            pipelinescope_report::scaling::Repeats::All,
        );
        let html = render(&r);
        assert!(html.contains("&lt;quad&gt;") && !html.contains("<quad>"));
        // Self-contained: nothing is fetched or run.
        assert!(!html.contains("<script") && !html.contains("src=") && !html.contains("href="));
        assert_eq!(html.matches("<circle class=\"pt\"").count(), 3);
        assert_eq!(html.matches("<circle class=\"pred\"").count(), 1);
        assert_eq!(html.matches("<polyline class=\"fit\"").count(), 1);
        // A quadratic was chosen: the free power law is drawn dashed beside it.
        assert_eq!(html.matches("<polyline class=\"pow\"").count(), 1);
        assert!(html.contains("O(n^2)"));
        let one = Outcome {
            points: vec![Point::new(10.0, 5.0)],
            ..Outcome::default()
        };
        assert!(plot(&one, None).contains("<circle class=\"pt\""));
        assert_eq!(plot(&Outcome::default(), None), "<p>no points</p>");
    }
}
