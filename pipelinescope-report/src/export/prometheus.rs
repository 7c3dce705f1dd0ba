//! Prometheus text exposition of a profile.

use std::fmt::Write as _;

use pipelinescope_core::profile::{FunctionStats, Histogram, Profile, StageStats};

/// Escapes a Prometheus label value: backslash, double quote and line feed.
pub fn prom_label(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// A counter: metric name, help text and how to read its value from a row.
type Counter<T> = (&'static str, &'static str, fn(&T) -> String);

fn seconds(ns: f64) -> String {
    // Shortest exact-enough text: Rust's float Display prints the shortest round-trip form.
    format!("{}", ns / 1e9)
}

/// Sum of a histogram's values: from the exact mean when there is one, else from its buckets.
fn hist_sum_ns(h: &Histogram, mean_ns: f64) -> f64 {
    if mean_ns > 0.0 {
        mean_ns * h.count() as f64
    } else {
        h.buckets.iter().map(|&(v, c)| v as f64 * c as f64).sum()
    }
}

/// Upper bounds of the Prometheus histogram buckets, in nanoseconds: 1, 2.5 and 5 times each
/// power of ten from 10 ns to 100 s. Fixed, so that series from many processes (and from one
/// process over time) have the same `le` labels and can be summed before `histogram_quantile`.
pub const PROM_BOUNDS_NS: [u64; 31] = {
    let mut b = [0u64; 31];
    let mut decade = 10u64;
    let mut i = 0;
    while i < 30 {
        b[i] = decade;
        b[i + 1] = decade * 5 / 2;
        b[i + 2] = decade * 5;
        decade *= 10;
        i += 3;
    }
    b[30] = decade;
    b
};

pub(super) fn prom_histogram(
    out: &mut String,
    metric: &str,
    labels: &str,
    h: &Histogram,
    sum_ns: f64,
) {
    // Each recorded HDR bucket (within 1% of its values) falls in the first bound at or above
    // its value.
    let mut at = h.buckets.iter().peekable();
    let mut cumulative = 0u64;
    for &bound in &PROM_BOUNDS_NS {
        while let Some(&&(v, c)) = at.peek() {
            if v > bound {
                break;
            }
            cumulative += c;
            at.next();
        }
        let _ = writeln!(
            out,
            "{metric}_bucket{{{labels},le=\"{}\"}} {cumulative}",
            seconds(bound as f64)
        );
    }
    let total = h.count();
    let _ = writeln!(out, "{metric}_bucket{{{labels},le=\"+Inf\"}} {total}");
    let _ = writeln!(out, "{metric}_sum{{{labels}}} {}", seconds(sum_ns));
    let _ = writeln!(out, "{metric}_count{{{labels}}} {total}");
}

/// Prometheus text exposition (version 0.0.4): counters of calls and time per function, the
/// per-call time histogram of each function (fixed `le` bounds, [`PROM_BOUNDS_NS`], with
/// cumulative counts), stage record counters and per-record histograms, run gauges and the
/// resource sampler's process gauges. Times are seconds, as Prometheus conventions ask.
pub fn prometheus(profile: &Profile) -> String {
    let mut out = String::new();
    let m = &profile.meta;
    header(
        &mut out,
        "pipelinescope_run_wall_seconds",
        "gauge",
        "Wall-clock time of the run.",
    );
    let _ = writeln!(
        out,
        "pipelinescope_run_wall_seconds {}",
        seconds(m.wall_ns as f64)
    );
    header(
        &mut out,
        "pipelinescope_run_instrumented_seconds",
        "gauge",
        "Cumulative time of root instrumented calls over all threads.",
    );
    let _ = writeln!(
        out,
        "pipelinescope_run_instrumented_seconds {}",
        seconds(m.instrumented_ns as f64)
    );

    let counters: [Counter<FunctionStats>; 4] = [
        (
            "pipelinescope_function_calls_total",
            "Completed calls of an instrumented function.",
            |f| f.calls.to_string(),
        ),
        (
            "pipelinescope_function_panics_total",
            "Calls that ended by a panic unwinding.",
            |f| f.panics.to_string(),
        ),
        (
            "pipelinescope_function_self_seconds_total",
            "Exclusive time of a function.",
            |f| seconds(f.self_ns as f64),
        ),
        (
            "pipelinescope_function_cumulative_seconds_total",
            "Inclusive time of a function.",
            |f| seconds(f.cumulative_ns as f64),
        ),
    ];
    prom_rows(
        &mut out,
        &profile.functions,
        |f| (&f.name, &f.module),
        &counters,
        (
            "pipelinescope_function_duration_seconds",
            "Per-call inclusive time of a function.",
            |f| (&f.histogram, f.percentiles.mean_ns),
        ),
    );
    if !profile.stages.is_empty() {
        let stage_counters: [Counter<StageStats>; 5] = [
            (
                "pipelinescope_stage_records_in_total",
                "Records a stage took in.",
                |s| s.records_in.to_string(),
            ),
            (
                "pipelinescope_stage_records_out_total",
                "Records a stage handed out.",
                |s| s.records_out.to_string(),
            ),
            (
                "pipelinescope_stage_own_seconds_total",
                "Time inside a stage itself.",
                |s| seconds(s.own_ns as f64),
            ),
            (
                "pipelinescope_stage_upstream_seconds_total",
                "Time a stage spent pulling records from the stages before it.",
                |s| seconds(s.upstream_ns as f64),
            ),
            (
                "pipelinescope_stage_downstream_wait_seconds_total",
                "Time a stage waited for its consumer.",
                |s| seconds(s.downstream_wait_ns as f64),
            ),
        ];
        prom_rows(
            &mut out,
            &profile.stages,
            |s| (&s.name, &s.module),
            &stage_counters,
            (
                "pipelinescope_stage_own_seconds_per_record",
                "Own time of a stage per record handed out.",
                |s| (&s.own_histogram, s.own_per_record.mean_ns),
            ),
        );
    }
    if let Some(r) = &profile.resources {
        prom_resources(&mut out, r);
    }
    out
}

/// One metric without labels.
fn prom_single(out: &mut String, kind: &str, metric: &str, help: &str, value: &str) {
    let _ = writeln!(out, "# HELP {metric} {help}");
    let _ = writeln!(out, "# TYPE {metric} {kind}");
    let _ = writeln!(out, "{metric} {value}");
}

/// Process gauges from the resource sampler: the latest sample's CPU and memory, the peaks, and
/// the GPU figures when a GPU was read.
fn prom_resources(out: &mut String, r: &pipelinescope_core::profile::Resources) {
    let gauge = |out: &mut String, name: &str, help: &str, value: String| {
        prom_single(out, "gauge", name, help, &value);
    };
    if let Some(last) = r.timeline.last() {
        gauge(
            out,
            "pipelinescope_process_cpu_percent",
            "CPU use of the process over the latest sample, percent of one core.",
            last.cpu_percent.to_string(),
        );
        gauge(
            out,
            "pipelinescope_process_resident_memory_bytes",
            "Resident memory of the process at the latest sample.",
            last.rss_bytes.to_string(),
        );
    }
    gauge(
        out,
        "pipelinescope_process_peak_resident_memory_bytes",
        "Highest resident memory of the process sampled so far.",
        r.peak_rss_bytes.to_string(),
    );
    prom_single(
        out,
        "counter",
        "pipelinescope_process_cpu_seconds_total",
        "CPU time of the program since the run started (the profiler's sampler left out).",
        &seconds(r.program_cpu_ns as f64),
    );
    if !r.gpu.available {
        return;
    }
    if let Some(last) = r.timeline.last() {
        if let Some(u) = last.gpu_util_percent {
            gauge(
                out,
                "pipelinescope_gpu_utilization_percent",
                "Mean utilisation of the GPUs at the latest sample.",
                u.to_string(),
            );
        }
        if let Some(m) = last.gpu_mem_bytes {
            gauge(
                out,
                "pipelinescope_gpu_memory_used_bytes",
                "Memory in use on the GPUs, all processes, at the latest sample.",
                m.to_string(),
            );
        }
        if let Some(m) = last.process_gpu_mem_bytes {
            gauge(
                out,
                "pipelinescope_process_gpu_memory_bytes",
                "GPU memory held by this process at the latest sample.",
                m.to_string(),
            );
        }
    }
}

/// The `# HELP` and `# TYPE` lines of a metric.
fn header(out: &mut String, metric: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {metric} {help}");
    let _ = writeln!(out, "# TYPE {metric} {kind}");
}

/// The labels of a function's or a stage's series.
fn name_labels(name: &str, module: &str) -> String {
    format!(
        "name=\"{}\",module=\"{}\"",
        prom_label(name),
        prom_label(module)
    )
}

/// A histogram metric: name, help text, and a row's histogram with its exact mean (0: none).
type HistMetric<T> = (&'static str, &'static str, fn(&T) -> (&Histogram, f64));

/// The series of a list of rows (the functions, or the stages): each counter over every row,
/// then the histogram of every row, each row labelled by its name and module.
fn prom_rows<T>(
    out: &mut String,
    rows: &[T],
    names: fn(&T) -> (&String, &String),
    counters: &[Counter<T>],
    (metric, help, hist): HistMetric<T>,
) {
    for &(metric, help, value) in counters {
        header(out, metric, "counter", help);
        for r in rows {
            let (name, module) = names(r);
            let _ = writeln!(
                out,
                "{metric}{{{}}} {}",
                name_labels(name, module),
                value(r)
            );
        }
    }
    header(out, metric, "histogram", help);
    for r in rows {
        let (name, module) = names(r);
        let (h, mean_ns) = hist(r);
        let sum = hist_sum_ns(h, mean_ns);
        prom_histogram(out, metric, &name_labels(name, module), h, sum);
    }
}
