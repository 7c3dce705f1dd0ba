//! The Askama view of a profile: every figure pre-formatted, every string escaped by the template.

use askama::Template;
use pipelinescope_core::profile::{Profile, Resources, StageKind, StageStats, exited_threads_name};

use super::{HtmlOptions, data, format};

const CSS: &str = include_str!("../../templates/report.css");
const JS: &str = include_str!("../../templates/report.js");

#[derive(Template)]
#[template(path = "summary.html")]
struct Page<'a> {
    title: String,
    run_id: &'a str,
    start_time: &'a str,
    wall: String,
    command_line: String,
    host: &'a str,
    pid: u32,
    version: &'a str,
    overhead: String,
    clock: &'a str,
    ended_by_panic: bool,
    warnings: &'a [String],
    cards: Vec<Card>,
    n_functions: String,
    total_calls: String,
    n_nodes: String,
    threads: Vec<ThreadView>,
    pipeline: Option<PipelineView>,
    pipeline_reason: &'static str,
    resources: Option<ResourcesView>,
    resources_reason: &'static str,
    lines: Vec<super::lines::LinesView>,
    growth: Vec<super::growth::GrowthPlot>,
    css: &'static str,
    js: &'static str,
    data: String,
}

struct Card {
    label: &'static str,
    value: String,
    note: String,
    class: &'static str,
}

struct ThreadView {
    /// Empty on the row of the exited threads, which stands for many.
    index: String,
    name: String,
    calls: String,
    root: String,
    /// `running`, `finished`, or `exited` (the row of the exited threads).
    status: &'static str,
}

struct PipelineView {
    stages: Vec<StageView>,
    other_edges: Vec<(String, String, String)>,
    bottleneck: String,
}

struct StageView {
    name: String,
    module: String,
    kind: &'static str,
    invocations: String,
    records_in: String,
    records_out: String,
    records_in_short: String,
    records_out_short: String,
    selectivity: String,
    throughput: String,
    own: String,
    share: String,
    share_width: String,
    bottleneck: bool,
    next_edge: Option<String>,
    per_record_p50: String,
    per_record_p99: String,
    upstream: String,
    downstream_wait: String,
    first_record: String,
    exhausted: String,
    dropped_early: String,
    amdahl_free: String,
    amdahl_2x: String,
}

struct ResourcesView {
    facts: Vec<(&'static str, String)>,
    gpu: String,
    has_timeline: bool,
    cores: Vec<(String, String, String)>,
    run_summary: Vec<(&'static str, String)>,
    per_function: Vec<(String, String, String, String)>,
    per_stage: Vec<(String, String, String, String)>,
    allocations: Vec<(String, String, String, String, String, String)>,
}

/// Rows shown in the static resource tables (the JSON has them all).
const TABLE_ROWS: usize = 30;

pub fn render(profile: &Profile, opts: &HtmlOptions) -> String {
    let meta = &profile.meta;
    let title = if !opts.title.trim().is_empty() {
        opts.title.clone()
    } else if !meta.title.trim().is_empty() {
        meta.title.clone()
    } else {
        "PipelineScope report".to_owned()
    };
    let (pipeline, pipeline_reason) = pipeline_view(profile);
    let (resources, resources_reason) = match &profile.resources {
        Some(r) => (Some(resources_view(r)), ""),
        None => (
            None,
            "the resource sampler did not run for this profile (it is off, or the profile was \
             taken before it reported)",
        ),
    };
    let clock = if meta.clock_resolution_ns > 0.0 {
        format!(
            "{}, resolution {}",
            meta.clock_source,
            format::ns(meta.clock_resolution_ns)
        )
    } else {
        meta.clock_source.clone()
    };
    let page = Page {
        title,
        run_id: &meta.run_id,
        start_time: &meta.start_time,
        wall: format::ns(meta.wall_ns as f64),
        command_line: meta.command_line.join(" "),
        host: &meta.host,
        pid: meta.pid,
        version: &meta.pipelinescope_version,
        overhead: crate::probe::probe_line(profile),
        clock: &clock,
        ended_by_panic: meta.ended_by_panic,
        warnings: &meta.warnings,
        cards: cards(profile),
        n_functions: format::count(profile.functions.len() as u64),
        total_calls: format::count(meta.total_calls),
        n_nodes: format::count(profile.call_tree.nodes.len() as u64),
        threads: profile
            .threads
            .iter()
            .map(|t| ThreadView {
                index: if t.is_exited_threads() {
                    String::new()
                } else {
                    t.index.to_string()
                },
                name: if !t.name.is_empty() {
                    t.name.clone()
                } else if t.is_exited_threads() {
                    exited_threads_name(t.exited_threads)
                } else {
                    "(unnamed)".to_owned()
                },
                calls: format::count(t.calls),
                root: format::ns(t.root_ns as f64),
                status: if t.is_exited_threads() {
                    "exited"
                } else if t.finished {
                    "finished"
                } else {
                    "running"
                },
            })
            .collect(),
        pipeline,
        pipeline_reason,
        resources,
        resources_reason,
        lines: super::lines::views(profile),
        growth: super::growth::plots(profile),
        css: CSS,
        js: JS,
        data: data::json(profile, opts),
    };
    match page.render() {
        Ok(html) => html,
        // Rendering only fails if formatting fails; still hand back a valid page.
        Err(e) => format!(
            "<!doctype html><meta charset=utf-8><title>PipelineScope report</title>\
             <p>The report could not be rendered: {}</p>",
            escape(&e.to_string())
        ),
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn cards(profile: &Profile) -> Vec<Card> {
    let meta = &profile.meta;
    let res = profile.resources.as_ref();
    let mut cards = vec![
        Card {
            label: "Wall time",
            value: format::ns(meta.wall_ns as f64),
            note: format!("{} instrumented calls", format::count(meta.total_calls)),
            class: "",
        },
        Card {
            label: "Instrumented",
            value: format::ns(meta.instrumented_ns as f64),
            note: if meta.wall_ns > 0 {
                format!(
                    "{} of wall, summed over threads",
                    format::pct(meta.instrumented_ns as f64 / meta.wall_ns as f64)
                )
            } else {
                "summed over threads".to_owned()
            },
            class: "",
        },
    ];
    let cpu = match res.and_then(|r| r.run_summary.as_ref()) {
        Some(s) => Card {
            label: "CPU time",
            value: format::ns(s.user_ns.saturating_add(s.sys_ns) as f64),
            note: format!(
                "user {} · sys {}",
                format::ns(s.user_ns as f64),
                format::ns(s.sys_ns as f64)
            ),
            class: "",
        },
        None => Card {
            label: "CPU time",
            value: "no data".to_owned(),
            note: if res.is_some() {
                "no run summary (getrusage) recorded".to_owned()
            } else {
                "resource sampler did not run".to_owned()
            },
            class: "muted",
        },
    };
    cards.push(cpu);
    let peak = res.map(|r| {
        r.peak_rss_bytes
            .max(r.run_summary.as_ref().map_or(0, |s| s.max_rss_bytes))
    });
    cards.push(match peak {
        Some(b) if b > 0 => Card {
            label: "Peak memory",
            value: format::bytes(b as f64),
            note: "resident set size".to_owned(),
            class: "",
        },
        _ => Card {
            label: "Peak memory",
            value: "no data".to_owned(),
            note: if res.is_some() {
                "no memory samples".to_owned()
            } else {
                "resource sampler did not run".to_owned()
            },
            class: "muted",
        },
    });
    cards.push(match res {
        None => Card {
            label: "GPU",
            value: "no data".to_owned(),
            note: "resource sampler did not run".to_owned(),
            class: "muted",
        },
        Some(r) if r.gpu.available => Card {
            label: "GPU",
            value: r
                .gpu
                .mean_util_percent
                .map_or("available".to_owned(), |u| format!("{u:.0}% busy")),
            note: {
                let mut parts = Vec::new();
                if !r.gpu.devices.is_empty() {
                    parts.push(r.gpu.devices.join(", "));
                }
                if let Some(m) = r.gpu.peak_process_mem_bytes {
                    parts.push(format!("peak {} used", format::bytes(m as f64)));
                }
                parts.join(" · ")
            },
            class: "",
        },
        Some(r) => Card {
            label: "GPU",
            value: "not available".to_owned(),
            note: r
                .gpu
                .reason
                .clone()
                .unwrap_or_else(|| "no reason recorded".to_owned()),
            class: "muted",
        },
    });
    cards
}

fn pipeline_view(profile: &Profile) -> (Option<PipelineView>, &'static str) {
    if profile.stages.is_empty() {
        return (
            None,
            "no pipeline stages ran: annotate stage functions with #[stage(\"name\")] to see \
             records, selectivity and the bottleneck here",
        );
    }
    let mut stages: Vec<&StageStats> = profile.stages.iter().collect();
    stages.sort_by_key(|s| s.order);
    let flagged = stages.iter().position(|s| s.is_bottleneck);
    let bottleneck = flagged.or_else(|| {
        stages
            .iter()
            .enumerate()
            .filter(|(_, s)| s.own_ns > 0)
            .max_by_key(|(_, s)| s.own_ns)
            .map(|(i, _)| i)
    });
    let mut used = vec![false; profile.pipeline_edges.len()];
    let views = stages
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let next_edge = stages.get(i + 1).map(|next| {
                match profile
                    .pipeline_edges
                    .iter()
                    .position(|e| e.from == s.name && e.to == next.name)
                {
                    Some(j) => {
                        used[j] = true;
                        format!(
                            "{} rec",
                            format::rate(profile.pipeline_edges[j].records as f64)
                        )
                    }
                    None => format!("{} out", format::rate(s.records_out as f64)),
                }
            });
            let share = if s.share_of_pipeline.is_finite() {
                s.share_of_pipeline.clamp(0.0, 1.0)
            } else {
                0.0
            };
            StageView {
                name: s.name.clone(),
                module: s.module.clone(),
                kind: match s.kind {
                    StageKind::Lazy => "lazy",
                    StageKind::Eager => "eager",
                },
                invocations: format::count(s.invocations),
                records_in: format::count(s.records_in),
                records_out: format::count(s.records_out),
                records_in_short: format::rate(s.records_in as f64),
                records_out_short: format::rate(s.records_out as f64),
                selectivity: if s.records_in > 0 {
                    format!("{:.3}", s.selectivity)
                } else {
                    "–".to_owned()
                },
                throughput: format!("{} rec/s", format::rate(s.throughput_per_s)),
                own: format::ns(s.own_ns as f64),
                share: format::pct(share),
                share_width: format!("{:.1}", share * 100.0),
                bottleneck: Some(i) == bottleneck,
                next_edge,
                per_record_p50: format::ns(s.own_per_record.p50_ns as f64),
                per_record_p99: format::ns(s.own_per_record.p99_ns as f64),
                upstream: format::ns(s.upstream_ns as f64),
                downstream_wait: format::ns(s.downstream_wait_ns as f64),
                first_record: format::ns(s.first_record_ns as f64),
                exhausted: format::count(s.exhausted),
                dropped_early: format::count(s.dropped_early),
                amdahl_free: format::speedup(s.amdahl_if_free),
                amdahl_2x: format::speedup(s.amdahl_if_2x),
            }
        })
        .collect::<Vec<_>>();
    let other_edges = profile
        .pipeline_edges
        .iter()
        .zip(&used)
        .filter(|(_, u)| !**u)
        .map(|(e, _)| (e.from.clone(), e.to.clone(), format::count(e.records)))
        .collect();
    let bottleneck = bottleneck
        .and_then(|i| views.get(i))
        .map(|v| v.name.clone())
        .unwrap_or_default();
    (
        Some(PipelineView {
            stages: views,
            other_edges,
            bottleneck,
        }),
        "",
    )
}

fn resources_view(r: &Resources) -> ResourcesView {
    let mut facts = vec![
        ("Samples", format::count(r.samples)),
        ("Interval", format!("{} ms", r.sample_interval_ms)),
        (
            "Mean CPU",
            format!("{:.0}% of one core", r.mean_cpu_percent),
        ),
        ("Peak RSS", format::bytes(r.peak_rss_bytes as f64)),
    ];
    if !r.cpu_per_core_percent.is_empty() {
        facts.push(("Cores", r.cpu_per_core_percent.len().to_string()));
    }
    let gpu = if r.gpu.available {
        let mut s = format!("GPU: {}", r.gpu.devices.join(", "));
        if let Some(u) = r.gpu.mean_util_percent {
            s.push_str(&format!(" · mean utilisation {u:.0}%"));
        }
        if let Some(m) = r.gpu.peak_process_mem_bytes {
            s.push_str(&format!(
                " · peak memory of this process {}",
                format::bytes(m as f64)
            ));
        }
        s
    } else {
        format!(
            "GPU: not available, because {}",
            r.gpu.reason.as_deref().unwrap_or("no reason was recorded")
        )
    };
    let cores = r
        .cpu_per_core_percent
        .iter()
        .enumerate()
        .map(|(i, &p)| {
            let p = if p.is_finite() {
                p.clamp(0.0, 100.0)
            } else {
                0.0
            };
            (format!("cpu{i}"), format!("{p:.0}%"), format!("{p:.1}"))
        })
        .collect();
    let run_summary = r
        .run_summary
        .as_ref()
        .map(|s| {
            vec![
                ("Wall", format::ns(s.wall_ns as f64)),
                ("User CPU", format::ns(s.user_ns as f64)),
                ("System CPU", format::ns(s.sys_ns as f64)),
                ("Max RSS", format::bytes(s.max_rss_bytes as f64)),
                ("Minor faults", format::count(s.minor_faults)),
                ("Major faults", format::count(s.major_faults)),
                (
                    "Voluntary switches",
                    format::count(s.voluntary_context_switches),
                ),
                (
                    "Involuntary switches",
                    format::count(s.involuntary_context_switches),
                ),
            ]
        })
        .unwrap_or_default();
    let attributed = |v: &[pipelinescope_core::profile::AttributedResources]| {
        let mut rows: Vec<_> = v.iter().collect();
        rows.sort_by_key(|a| std::cmp::Reverse(a.cpu_ns));
        rows.into_iter()
            .take(TABLE_ROWS)
            .map(|a| {
                (
                    a.name.clone(),
                    format::ns(a.cpu_ns as f64),
                    format::pct(a.cpu_share),
                    signed_bytes(a.mem_growth_bytes),
                )
            })
            .collect()
    };
    let mut allocs: Vec<_> = r.allocations.iter().collect();
    allocs.sort_by_key(|a| std::cmp::Reverse(a.bytes_allocated));
    ResourcesView {
        facts,
        gpu,
        has_timeline: !r.timeline.is_empty(),
        cores,
        run_summary,
        per_function: attributed(&r.per_function),
        per_stage: attributed(&r.per_stage),
        allocations: allocs
            .into_iter()
            .take(TABLE_ROWS)
            .map(|a| {
                (
                    a.name.clone(),
                    format::count(a.allocations),
                    format::bytes(a.bytes_allocated as f64),
                    format::bytes(a.bytes_freed as f64),
                    signed_bytes(a.net_retained_bytes),
                    format::bytes(a.peak_live_bytes as f64),
                )
            })
            .collect(),
    }
}

fn signed_bytes(v: i64) -> String {
    if v < 0 {
        format!("−{}", format::bytes(v.unsigned_abs() as f64))
    } else {
        format::bytes(v as f64)
    }
}
