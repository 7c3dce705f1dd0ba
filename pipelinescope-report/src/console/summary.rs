//! The run summary under the tables: wall and CPU time, memory, what the probes cost.

use super::{fmt_bytes, fmt_ns, fmt_pct};
use pipelinescope_core::profile::Profile;

/// Renders the run summary: wall time, instrumented time, calls, probe overhead and, when the
/// resource sampler ran, the `getrusage` summary (user, sys, max RSS, faults, context switches),
/// peak memory and GPU figures. One `label: value` per line.
pub fn run_summary_lines(profile: &Profile) -> String {
    let m = &profile.meta;
    let mut lines: Vec<(String, String)> = Vec::new();
    lines.push(("wall".into(), fmt_ns(m.wall_ns as f64)));
    let instrumented = if m.wall_ns > 0 {
        format!(
            "{} ({} of wall)",
            fmt_ns(m.instrumented_ns as f64),
            fmt_pct(m.instrumented_ns as f64 / m.wall_ns as f64)
        )
    } else {
        fmt_ns(m.instrumented_ns as f64)
    };
    lines.push(("instrumented".into(), instrumented));
    lines.push(("calls".into(), m.total_calls.to_string()));
    if !profile.threads.is_empty() {
        // Exited threads are one row each run, standing for all of them.
        let (rows, live): (Vec<_>, Vec<_>) =
            profile.threads.iter().partition(|t| t.is_exited_threads());
        let exited: u64 = rows.iter().map(|t| t.exited_threads).sum();
        let exited_calls: u64 = rows.iter().map(|t| t.calls).sum();
        let mut text = format!("{} live", live.len());
        if !rows.is_empty() {
            text.push_str(&format!(", {exited} exited ({exited_calls} calls)"));
        }
        lines.push(("threads".into(), text));
    }
    lines.push(("probe".into(), crate::probe::probe_line(profile)));
    if !m.clock_source.is_empty() {
        let res = if m.clock_resolution_ns > 0.0 {
            format!(", resolution {}", fmt_ns(m.clock_resolution_ns))
        } else {
            String::new()
        };
        lines.push(("clock".into(), format!("{}{res}", m.clock_source)));
    }
    if !profile.sources.is_empty() {
        let hosts: Vec<&str> = {
            let mut v: Vec<&str> = Vec::new();
            for src in &profile.sources {
                if !src.meta.host.is_empty() && !v.contains(&src.meta.host.as_str()) {
                    v.push(&src.meta.host);
                }
            }
            v
        };
        let mut text = format!("merged from {} runs", profile.sources.len());
        if !hosts.is_empty() {
            text.push_str(&format!(" on {}", hosts.join(", ")));
        }
        lines.push(("sources".into(), text));
    }
    if let Some(r) = &profile.resources {
        if let Some(rs) = &r.run_summary {
            lines.push(("user".into(), fmt_ns(rs.user_ns as f64)));
            lines.push(("sys".into(), fmt_ns(rs.sys_ns as f64)));
            lines.push(("max RSS".into(), fmt_bytes(rs.max_rss_bytes as f64)));
            lines.push((
                "page faults".into(),
                format!("{} minor, {} major", rs.minor_faults, rs.major_faults),
            ));
            lines.push((
                "context switches".into(),
                format!(
                    "{} voluntary, {} involuntary",
                    rs.voluntary_context_switches, rs.involuntary_context_switches
                ),
            ));
        }
        if r.samples > 0 {
            lines.push((
                "peak memory".into(),
                format!(
                    "{} (mean CPU {:.0}%)",
                    fmt_bytes(r.peak_rss_bytes as f64),
                    r.mean_cpu_percent
                ),
            ));
        }
        let gpu = &r.gpu;
        let text = if gpu.available {
            let mut s = if gpu.devices.is_empty() {
                "available".to_string()
            } else {
                gpu.devices.join(", ")
            };
            if let Some(u) = gpu.mean_util_percent {
                s.push_str(&format!(", mean utilisation {u:.0}%"));
            }
            if let Some(b) = gpu.peak_process_mem_bytes {
                s.push_str(&format!(", peak process memory {}", fmt_bytes(b as f64)));
            }
            s
        } else {
            format!(
                "not available ({})",
                gpu.reason.as_deref().unwrap_or("no GPU figures collected")
            )
        };
        lines.push(("GPU".into(), text));
    }
    let width = lines
        .iter()
        .map(|(l, _)| l.chars().count())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for (label, value) in lines {
        let pad = width - label.chars().count();
        out.push_str(&label);
        out.push(':');
        out.extend(std::iter::repeat_n(' ', pad + 1));
        out.push_str(&value);
        out.push('\n');
    }
    out
}
