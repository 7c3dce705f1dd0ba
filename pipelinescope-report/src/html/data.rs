//! The figures the page's script works from, embedded as JSON.
//!
//! This is a compact, page-only layout (short keys, the call tree as columns, latency
//! distributions reduced to fixed percentile points) so that 10,000 functions and a
//! 100,000-node call tree stay well under 10 MB; `profile_data.json` remains the complete record.

use pipelinescope_core::profile::{Histogram, Percentiles, Profile};
use serde::Serialize;

use super::HtmlOptions;

/// Percentile points of each function's latency curve (0 = min, 1 = max).
pub const QUANTILES: [f64; 20] = [
    0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.97, 0.99, 0.995, 0.999,
    0.9995, 0.9999, 1.0,
];

#[derive(Serialize)]
struct PageData<'a> {
    wall_ns: u64,
    instrumented_ns: u64,
    opts: Opts,
    quantiles: &'static [f64],
    fns: Vec<Func<'a>>,
    tree: Tree,
    stages: Vec<Stage<'a>>,
    res: Option<Timeline>,
    ext: Ext,
}

#[derive(Serialize)]
struct Opts {
    top_n: usize,
    min_ms: f64,
    min_pct: f64,
}

/// One function; the keys are short because there can be tens of thousands.
#[derive(Serialize)]
struct Func<'a> {
    n: &'a str,
    m: &'a str,
    file: &'a str,
    line: u32,
    /// 1 for `async fn`.
    a: u8,
    c: u64,
    /// How far below its cost the self time may read, where the tables show it
    /// (`probe::shown_margins_ns`); else 0.
    lo: f64,
    x: u64,
    t: u64,
    s: u64,
    mu: f64,
    sd: f64,
    p50: u64,
    p90: u64,
    p99: u64,
    mx: u64,
    sh: f64,
    /// Latency at each of [`QUANTILES`], empty without a histogram.
    q: Vec<u64>,
    /// Growth fitted within the run, where the sizes allow one.
    #[serde(skip_serializing_if = "Option::is_none")]
    g: Option<Growth>,
}

/// A within-run fit, for the page's extrapolation: `e` the exponent, `m` the model's label,
/// `h0` and `h1` the terms of its interval (see `scaling::within::PageGrowth`).
#[derive(Serialize)]
struct Growth {
    e: f64,
    m: String,
    h0: f64,
    h1: f64,
}

fn growth(buckets: &[pipelinescope_core::profile::SizeBucket], factor: f64) -> Option<Growth> {
    let g = crate::scaling::within::page_growth(buckets, factor)?;
    Some(Growth {
        e: finite(g.exponent),
        m: g.label,
        h0: finite(g.h0),
        h1: finite(g.h1),
    })
}

/// Call tree as parallel columns (-1 = none).
#[derive(Serialize)]
struct Tree {
    p: Vec<i64>,
    f: Vec<i64>,
    c: Vec<u64>,
    t: Vec<u64>,
    s: Vec<u64>,
    /// Panics per node, empty when there were none at all.
    x: Vec<u64>,
}

#[derive(Serialize)]
struct Stage<'a> {
    n: &'a str,
    c: u64,
    t: u64,
    sd: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    g: Option<Growth>,
}

#[derive(Serialize)]
struct Timeline {
    t: Vec<f64>,
    cpu: Vec<f64>,
    rss: Vec<u64>,
    gpu: Vec<Option<f64>>,
    gmem: Vec<Option<u64>>,
}

/// Sizes and the root calls' spread for the extrapolation the page recomputes.
#[derive(Serialize)]
struct Ext {
    sample: u64,
    expected: u64,
    /// Whether the sizes came from the run's configuration (else they are placeholders).
    configured: bool,
    /// Where the sample size came from (`set`, `observed`, `default`; empty in older profiles).
    source: String,
    z: f64,
    confidence: f64,
    /// Calls of the root call paths.
    root_calls: u64,
    /// Sum over root calls of σ²·n: the total's variance is `(k + k²)` times this.
    root_s2n: f64,
    /// Root call paths whose function has a fit within the run: the total follows it for their
    /// share of the time instead of growing it linearly.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    root_fits: Vec<RootFit>,
}

/// A root call path's time and its function's fit within the run.
#[derive(Serialize)]
struct RootFit {
    t: u64,
    g: Growth,
}

/// Builds the page data and serializes it for a `<script>` block.
pub fn json(profile: &Profile, opts: &HtmlOptions) -> String {
    let factor = profile.extrapolation.as_ref().map_or(10.0, |e| e.factor);
    let margins = crate::probe::shown_margins_ns(profile);
    let fns = profile
        .functions
        .iter()
        .map(|f| Func {
            lo: margins.get(f.id as usize).copied().map_or(0.0, finite),
            n: &f.name,
            m: &f.module,
            file: &f.file,
            line: f.line,
            a: u8::from(f.kind == pipelinescope_core::profile::FunctionKind::Async),
            c: f.calls,
            x: f.panics,
            t: f.cumulative_ns,
            s: f.self_ns,
            mu: finite(f.percentiles.mean_ns),
            sd: finite(f.percentiles.stddev_ns),
            p50: f.percentiles.p50_ns,
            p90: f.percentiles.p90_ns,
            p99: f.percentiles.p99_ns,
            mx: f.percentiles.max_ns,
            sh: finite(f.share_of_wall),
            q: quantile_curve(&f.histogram, &f.percentiles),
            g: growth(&f.sizes, factor),
        })
        .collect();

    let nodes = &profile.call_tree.nodes;
    let opt = |v: Option<u32>| v.map_or(-1, i64::from);
    let any_panics = nodes.iter().any(|n| n.panics > 0);
    let tree = Tree {
        p: nodes.iter().map(|n| opt(n.parent)).collect(),
        f: nodes.iter().map(|n| opt(n.function)).collect(),
        c: nodes.iter().map(|n| n.calls).collect(),
        t: nodes.iter().map(|n| n.cumulative_ns).collect(),
        s: nodes.iter().map(|n| n.self_ns).collect(),
        x: if any_panics {
            nodes.iter().map(|n| n.panics).collect()
        } else {
            Vec::new()
        },
    };

    let mut stage_list: Vec<_> = profile.stages.iter().collect();
    stage_list.sort_by_key(|s| s.order);
    let stages = stage_list
        .iter()
        .map(|s| Stage {
            n: &s.name,
            c: s.records_out,
            t: s.own_ns,
            sd: finite(s.own_per_record.stddev_ns),
            g: growth(&s.sizes, factor),
        })
        .collect();

    let res = profile.resources.as_ref().and_then(|r| {
        (!r.timeline.is_empty()).then(|| Timeline {
            t: r.timeline.iter().map(|s| finite(s.t_ms)).collect(),
            cpu: r.timeline.iter().map(|s| finite(s.cpu_percent)).collect(),
            rss: r.timeline.iter().map(|s| s.rss_bytes).collect(),
            gpu: r
                .timeline
                .iter()
                .map(|s| s.gpu_util_percent.filter(|v| v.is_finite()))
                .collect(),
            gmem: r
                .timeline
                .iter()
                .map(|s| s.process_gpu_mem_bytes.or(s.gpu_mem_bytes))
                .collect(),
        })
    });

    let data = PageData {
        wall_ns: profile.meta.wall_ns,
        instrumented_ns: profile.meta.instrumented_ns,
        opts: Opts {
            top_n: opts.top_n,
            min_ms: finite(opts.min_time_threshold_ms).max(0.0),
            min_pct: finite(opts.min_time_percentage).max(0.0),
        },
        quantiles: &QUANTILES,
        fns,
        tree,
        stages,
        res,
        ext: ext(profile, factor),
    };
    match crate::json::to_string(&data) {
        Ok(s) => escape_for_script(&s),
        Err(_) => "null".to_owned(),
    }
}

fn ext(profile: &Profile, factor: f64) -> Ext {
    let (sample, expected, configured) = match &profile.extrapolation {
        Some(e) if e.sample_size > 0 => (e.sample_size, e.expected_size, true),
        _ => {
            // Placeholders the user edits: the first stage's input, else the root calls.
            let first = profile
                .stages
                .iter()
                .min_by_key(|s| s.order)
                .map_or(0, |s| s.records_in);
            let sample = first.max(1);
            (sample, sample.saturating_mul(10), false)
        }
    };
    let nodes = &profile.call_tree.nodes;
    let mut root_calls = 0u64;
    let mut root_s2n = 0.0;
    let mut root_fits = Vec::new();
    if let Some(root) = nodes.iter().find(|n| n.parent.is_none()) {
        for &c in &root.children {
            if let Some(node) = nodes.get(c as usize) {
                let function = node
                    .function
                    .and_then(|f| profile.functions.get(f as usize));
                let sd = function.map_or(0.0, |f| finite(f.percentiles.stddev_ns));
                if let Some(g) = function.and_then(|f| growth(&f.sizes, factor)) {
                    root_fits.push(RootFit {
                        t: node.cumulative_ns,
                        g,
                    });
                }
                root_calls = root_calls.saturating_add(node.calls);
                root_s2n += sd * sd * node.calls as f64;
            }
        }
    }
    Ext {
        sample,
        expected,
        configured,
        source: profile
            .extrapolation
            .as_ref()
            .map_or_else(String::new, |e| e.sample_size_source.clone()),
        z: crate::extrapolate::Z,
        confidence: crate::extrapolate::CONFIDENCE,
        root_calls,
        root_s2n: finite(root_s2n),
        root_fits,
    }
}

fn finite(v: f64) -> f64 {
    if v.is_finite() { v } else { 0.0 }
}

/// Latency at each of [`QUANTILES`], read off the histogram's buckets.
pub fn quantile_curve(h: &Histogram, p: &Percentiles) -> Vec<u64> {
    let total: u64 = h
        .buckets
        .iter()
        .fold(0u64, |a, &(_, c)| a.saturating_add(c));
    if total == 0 {
        return Vec::new();
    }
    let mut buckets = h.buckets.clone();
    if !buckets.is_sorted_by_key(|b| b.0) {
        buckets.sort_by_key(|b| b.0);
    }
    let lo = if p.min_ns > 0 { p.min_ns } else { buckets[0].0 };
    let hi = if p.max_ns >= lo && p.max_ns > 0 {
        p.max_ns
    } else {
        buckets[buckets.len() - 1].0
    };
    let mut out = Vec::with_capacity(QUANTILES.len());
    let mut i = 0usize;
    let mut seen = 0u64;
    for &q in &QUANTILES {
        if q <= 0.0 {
            out.push(lo);
            continue;
        }
        if q >= 1.0 {
            out.push(hi);
            continue;
        }
        let rank = ((q * total as f64).ceil() as u64).clamp(1, total);
        while i < buckets.len() && seen.saturating_add(buckets[i].1) < rank {
            seen = seen.saturating_add(buckets[i].1);
            i += 1;
        }
        let v = buckets.get(i).map_or(hi, |b| b.0);
        out.push(v.clamp(lo, hi.max(lo)));
    }
    out
}

/// Makes JSON safe inside `<script>`: no `<`, `>` or `&` survives, so no `</script>` or `<!--`
/// can end or confuse the block. These characters only occur inside JSON strings, where the
/// `\u` escapes mean the same.
pub fn escape_for_script(json: &str) -> String {
    let mut out = String::with_capacity(json.len() + 16);
    for ch in json.chars() {
        match ch {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_from_buckets() {
        let h = Histogram {
            sigfig: 2,
            buckets: vec![(10, 50), (20, 40), (100, 9), (1000, 1)],
        };
        let p = Percentiles {
            min_ns: 9,
            max_ns: 1003,
            ..Percentiles::default()
        };
        let q = quantile_curve(&h, &p);
        assert_eq!(q.len(), QUANTILES.len());
        assert_eq!(q[0], 9);
        assert_eq!(q[5], 10); // p50: rank 50 is in the first bucket
        assert_eq!(q[11], 20); // p90: rank 90
        assert_eq!(q[14], 100); // p99: rank 99
        assert_eq!(q[16], 1000); // p99.9: rank 100
        assert_eq!(q[19], 1003);
        assert!(q.windows(2).all(|w| w[0] <= w[1]));
        assert!(quantile_curve(&Histogram::default(), &p).is_empty());
    }

    #[test]
    fn script_escaping() {
        let s = escape_for_script(r#"{"n":"</script><!--&"}"#);
        assert!(!s.contains('<') && !s.contains('>') && !s.contains('&'));
        let back: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(back["n"], "</script><!--&");
    }

    /// A root call path whose function grows quadratically within the run is handed to the
    /// page with its time and fit, so that the projected total follows it; the fit's exponent
    /// is the synthetic profile's 2.
    #[test]
    fn fitted_roots_reach_the_page() {
        let p = crate::html::synthetic::profile(20, 200);
        let e = ext(&p, 10.0);
        assert!(!e.root_fits.is_empty(), "no fitted root");
        for r in &e.root_fits {
            assert!(r.t > 0);
            assert!((r.g.e - 2.0).abs() < 0.05, "exponent {}", r.g.e);
        }
    }
}
