//! Plain-text tables for the terminal: the pstats-like functions table, the stage table and the
//! run summary printed at the end of every run and by `pipelinescope top`.
//!
//! Every figure is formatted with a human unit (ns, µs, ms, s; B, KiB, MiB, GiB) and columns are
//! right-aligned so that magnitudes line up. Colour is opt-in: callers decide whether the output
//! is a terminal.

use pipelinescope_core::profile::{FunctionStats, Profile, StageStats};

/// Column the functions table is sorted by (always descending).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum SortKey {
    /// Inclusive time.
    #[default]
    Cumulative,
    /// Exclusive time.
    SelfTime,
    /// Number of calls.
    Calls,
    /// 99th percentile of the per-call inclusive time.
    P99,
}

/// How to render a table.
#[derive(Debug, Clone, PartialEq)]
pub struct TableOptions {
    /// Sort order of the functions table (the stage table is always in pipeline order).
    pub sort_by: SortKey,
    /// Rows to show at most; 0 shows every row.
    pub limit: usize,
    /// Keep only rows whose name, module or file contains this text (case-insensitive).
    pub filter: Option<String>,
    /// Use ANSI colours (bold header, highlighted hot rows).
    pub color: bool,
    /// Hide functions whose cumulative time is below this (`min_time_threshold_ms`).
    pub min_cumulative_ns: u64,
    /// Hide functions whose share of the run's wall time is below this percentage
    /// (`min_time_percentage`).
    pub min_percentage: f64,
}

impl Default for TableOptions {
    fn default() -> Self {
        TableOptions {
            sort_by: SortKey::Cumulative,
            limit: 20,
            filter: None,
            color: false,
            min_cumulative_ns: 0,
            min_percentage: 0.0,
        }
    }
}

const BOLD: &str = "\x1b[1m";
const RED: &str = "\x1b[31m";
const YELLOW: &str = "\x1b[33m";
const RESET: &str = "\x1b[0m";

/// Formats a duration in nanoseconds with a unit chosen so that 1 to 3 digits precede the point.
pub fn fmt_ns(ns: f64) -> String {
    if !ns.is_finite() {
        return "-".to_string();
    }
    let a = ns.abs();
    if a < 1_000.0 {
        if ns.fract() == 0.0 {
            format!("{ns:.0} ns")
        } else {
            format!("{ns:.1} ns")
        }
    } else if a < 1_000_000.0 {
        format!("{:.2} µs", ns / 1e3)
    } else if a < 1_000_000_000.0 {
        format!("{:.2} ms", ns / 1e6)
    } else {
        format!("{:.2} s", ns / 1e9)
    }
}

/// Formats a byte count with a binary unit.
pub fn fmt_bytes(bytes: f64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes;
    let mut unit = 0;
    while v.abs() >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{v:.0} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// Formats a ratio (0..=1) as a percentage.
pub fn fmt_pct(ratio: f64) -> String {
    if !ratio.is_finite() {
        return "-".to_string();
    }
    format!("{:.1}%", ratio * 100.0)
}

/// Formats a rate per second with a metric suffix (k, M, G).
pub fn fmt_rate(per_s: f64) -> String {
    if !per_s.is_finite() {
        return "-".to_string();
    }
    if per_s >= 1e9 {
        format!("{:.2} G/s", per_s / 1e9)
    } else if per_s >= 1e6 {
        format!("{:.2} M/s", per_s / 1e6)
    } else if per_s >= 1e3 {
        format!("{:.2} k/s", per_s / 1e3)
    } else {
        format!("{per_s:.1} /s")
    }
}

fn matches_filter(filter: &Option<String>, fields: &[&str]) -> bool {
    match filter {
        None => true,
        Some(f) if f.is_empty() => true,
        Some(f) => {
            let needle = f.to_lowercase();
            fields.iter().any(|s| s.to_lowercase().contains(&needle))
        }
    }
}

/// Functions of `profile` that pass the filter, in the order `opts.sort_by` asks for (ties by
/// name), before the limit is applied.
pub fn sorted_functions<'a>(profile: &'a Profile, opts: &TableOptions) -> Vec<&'a FunctionStats> {
    let mut rows: Vec<&FunctionStats> = profile
        .functions
        .iter()
        .filter(|f| matches_filter(&opts.filter, &[&f.name, &f.module, &f.file]))
        .filter(|f| f.cumulative_ns >= opts.min_cumulative_ns)
        .filter(|f| {
            opts.min_percentage <= 0.0
                || profile.meta.wall_ns == 0
                || f.cumulative_ns as f64 * 100.0 / profile.meta.wall_ns as f64
                    >= opts.min_percentage
        })
        .collect();
    let key = |f: &FunctionStats| -> u64 {
        match opts.sort_by {
            SortKey::Cumulative => f.cumulative_ns,
            SortKey::SelfTime => f.self_ns,
            SortKey::Calls => f.calls,
            SortKey::P99 => f.percentiles.p99_ns,
        }
    };
    rows.sort_by(|a, b| {
        key(b)
            .cmp(&key(a))
            .then_with(|| a.name.cmp(&b.name))
            .then_with(|| a.module.cmp(&b.module))
    });
    rows
}

/// A table of cells rendered with per-column alignment.
struct Table {
    header: Vec<&'static str>,
    /// True for right-aligned (numeric) columns.
    right: Vec<bool>,
    rows: Vec<(Vec<String>, Option<&'static str>)>,
}

impl Table {
    fn render(&self, color: bool, out: &mut String) {
        let n = self.header.len();
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for (row, _) in &self.rows {
            for (i, cell) in row.iter().enumerate().take(n) {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
        let line = |cells: &[String], out: &mut String| {
            let mut s = String::new();
            for (i, cell) in cells.iter().enumerate().take(n) {
                if i > 0 {
                    s.push_str("  ");
                }
                let pad = widths[i].saturating_sub(cell.chars().count());
                let last = i + 1 == n;
                if self.right[i] {
                    s.extend(std::iter::repeat_n(' ', pad));
                    s.push_str(cell);
                } else {
                    s.push_str(cell);
                    if !last {
                        s.extend(std::iter::repeat_n(' ', pad));
                    }
                }
            }
            out.push_str(s.trim_end());
        };
        let header: Vec<String> = self.header.iter().map(|h| h.to_string()).collect();
        if color {
            out.push_str(BOLD);
        }
        line(&header, out);
        if color {
            out.push_str(RESET);
        }
        out.push('\n');
        for (row, style) in &self.rows {
            let style = if color { *style } else { None };
            if let Some(st) = style {
                out.push_str(st);
            }
            line(row, out);
            if style.is_some() {
                out.push_str(RESET);
            }
            out.push('\n');
        }
    }
}

fn location(file: &str, line: u32) -> String {
    if file.is_empty() {
        String::new()
    } else {
        format!("{file}:{line}")
    }
}

/// Renders the pstats-like functions table: calls, self, cumulative, per call, p50, p99, share of
/// the run's wall time (cumulative / `meta.wall_ns`), name and location, one function per line.
///
/// Rows are sorted descending by `opts.sort_by` (ties by name), filtered by `opts.filter` and cut
/// to `opts.limit`; a final line says how many rows were left out.
pub fn functions_table(profile: &Profile, opts: &TableOptions) -> String {
    let rows = sorted_functions(profile, opts);
    let total = rows.len();
    let shown = if opts.limit == 0 {
        total
    } else {
        total.min(opts.limit)
    };
    let wall = profile.meta.wall_ns;
    let mut table = Table {
        header: vec![
            "calls",
            "self",
            "cumulative",
            "per call",
            "p50",
            "p99",
            "% of run",
            "name",
            "location",
        ],
        right: vec![true, true, true, true, true, true, true, false, false],
        rows: Vec::with_capacity(shown),
    };
    for f in rows.iter().take(shown) {
        let per_call = if f.calls == 0 {
            f64::NAN
        } else {
            f.cumulative_ns as f64 / f.calls as f64
        };
        let share = if wall == 0 {
            f64::NAN
        } else {
            f.cumulative_ns as f64 / wall as f64
        };
        let mut calls = f.calls.to_string();
        if f.panics > 0 {
            calls.push_str(&format!(" ({} panicked)", f.panics));
        }
        let style = if share.is_finite() && share >= 0.5 {
            Some(RED)
        } else if share.is_finite() && share >= 0.1 {
            Some(YELLOW)
        } else {
            None
        };
        table.rows.push((
            vec![
                calls,
                fmt_ns(f.self_ns as f64),
                fmt_ns(f.cumulative_ns as f64),
                fmt_ns(per_call),
                fmt_ns(f.percentiles.p50_ns as f64),
                fmt_ns(f.percentiles.p99_ns as f64),
                fmt_pct(share),
                f.name.clone(),
                location(&f.file, f.line),
            ],
            style,
        ));
    }
    let mut out = String::new();
    if total == 0 {
        out.push_str(if profile.functions.is_empty() {
            "no instrumented function ran\n"
        } else {
            "no function matches the filter\n"
        });
        return out;
    }
    table.render(opts.color, &mut out);
    if shown < total {
        out.push_str(&format!(
            "… {} more function{} not shown\n",
            total - shown,
            if total - shown == 1 { "" } else { "s" }
        ));
    }
    out
}

/// Stages of `profile` that pass the filter, in pipeline order.
pub fn ordered_stages<'a>(profile: &'a Profile, opts: &TableOptions) -> Vec<&'a StageStats> {
    let mut v: Vec<&StageStats> = profile
        .stages
        .iter()
        .filter(|s| matches_filter(&opts.filter, &[&s.name, &s.module, &s.file]))
        .collect();
    v.sort_by(|a, b| a.order.cmp(&b.order).then_with(|| a.name.cmp(&b.name)));
    v
}

/// Renders the stage table in pipeline order: records in and out, selectivity, own time, own
/// time per record (p50, p99), downstream wait, throughput, share of the pipeline's own time, and
/// a marker on the bottleneck (the stage with the largest own-time share).
pub fn stages_table(profile: &Profile, opts: &TableOptions) -> String {
    let rows = ordered_stages(profile, opts);
    let mut out = String::new();
    if rows.is_empty() {
        out.push_str(if profile.stages.is_empty() {
            "no pipeline stage ran\n"
        } else {
            "no stage matches the filter\n"
        });
        return out;
    }
    let total = rows.len();
    let shown = if opts.limit == 0 {
        total
    } else {
        total.min(opts.limit)
    };
    let mut table = Table {
        header: vec![
            "stage",
            "in",
            "out",
            "selectivity",
            "own",
            "own/rec p50",
            "own/rec p99",
            "downstream wait",
            "throughput",
            "share",
            "",
        ],
        right: vec![
            false, true, true, true, true, true, true, true, true, true, false,
        ],
        rows: Vec::with_capacity(shown),
    };
    for s in rows.iter().take(shown) {
        table.rows.push((
            vec![
                s.name.clone(),
                s.records_in.to_string(),
                s.records_out.to_string(),
                if s.records_in == 0 {
                    "-".to_string()
                } else {
                    fmt_pct(s.selectivity)
                },
                fmt_ns(s.own_ns as f64),
                fmt_ns(s.own_per_record.p50_ns as f64),
                fmt_ns(s.own_per_record.p99_ns as f64),
                fmt_ns(s.downstream_wait_ns as f64),
                fmt_rate(s.throughput_per_s),
                fmt_pct(s.share_of_pipeline),
                if s.is_bottleneck {
                    "◀ bottleneck".to_string()
                } else {
                    String::new()
                },
            ],
            if s.is_bottleneck { Some(RED) } else { None },
        ));
    }
    table.render(opts.color, &mut out);
    if shown < total {
        out.push_str(&format!("… {} more stages not shown\n", total - shown));
    }
    out
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use pipelinescope_core::profile::{
        GpuInfo, Percentiles, Resources, RunMeta, RunSummary, StageStats, ThreadStats,
    };

    fn func(name: &str, calls: u64, self_ns: u64, cum: u64, p99: u64) -> FunctionStats {
        FunctionStats {
            name: name.into(),
            module: format!("app::{name}"),
            file: "src/main.rs".into(),
            line: 10,
            calls,
            self_ns,
            cumulative_ns: cum,
            percentiles: Percentiles {
                p50_ns: cum / calls.max(1),
                p99_ns: p99,
                ..Default::default()
            },
            ..Default::default()
        }
    }

    fn profile() -> Profile {
        Profile {
            schema_version: 1,
            meta: RunMeta {
                wall_ns: 2_000_000_000,
                instrumented_ns: 1_500_000_000,
                total_calls: 1111,
                probe_overhead_ns: 12.5,
                probe_overhead_share: 0.0001,
                ..Default::default()
            },
            functions: vec![
                func("parse", 1000, 400_000_000, 500_000_000, 900_000),
                func("main", 1, 100_000_000, 1_500_000_000, 1_500_000_000),
                func("filter", 100, 900_000_000, 900_000_000, 20_000_000),
                func("tiny", 10, 500, 500, 60),
            ],
            ..Default::default()
        }
    }

    fn names(table: &str) -> Vec<String> {
        table
            .lines()
            .skip(1)
            .filter(|l| !l.starts_with('…'))
            .map(|l| {
                let cols: Vec<&str> = l.split_whitespace().collect();
                cols[cols.len() - 2].to_string()
            })
            .collect()
    }

    fn opts(sort_by: SortKey) -> TableOptions {
        TableOptions {
            sort_by,
            limit: 0,
            filter: None,
            color: false,
            min_cumulative_ns: 0,
            min_percentage: 0.0,
        }
    }

    #[test]
    fn units_are_human() {
        assert_eq!(fmt_ns(0.0), "0 ns");
        assert_eq!(fmt_ns(999.0), "999 ns");
        assert_eq!(fmt_ns(12.5), "12.5 ns");
        assert_eq!(fmt_ns(1_500.0), "1.50 µs");
        assert_eq!(fmt_ns(2_500_000.0), "2.50 ms");
        assert_eq!(fmt_ns(3_000_000_000.0), "3.00 s");
        assert_eq!(fmt_bytes(512.0), "512 B");
        assert_eq!(fmt_bytes(1536.0), "1.5 KiB");
        assert_eq!(fmt_bytes(3.0 * 1024.0 * 1024.0 * 1024.0), "3.0 GiB");
        assert_eq!(fmt_pct(0.25), "25.0%");
        assert_eq!(fmt_rate(2_500.0), "2.50 k/s");
    }

    #[test]
    fn sort_orders() {
        let p = profile();
        let t = functions_table(&p, &opts(SortKey::Cumulative));
        assert_eq!(names(&t), ["main", "filter", "parse", "tiny"]);
        let t = functions_table(&p, &opts(SortKey::SelfTime));
        assert_eq!(names(&t), ["filter", "parse", "main", "tiny"]);
        let t = functions_table(&p, &opts(SortKey::Calls));
        assert_eq!(names(&t), ["parse", "filter", "tiny", "main"]);
        let t = functions_table(&p, &opts(SortKey::P99));
        assert_eq!(names(&t), ["main", "filter", "parse", "tiny"]);
    }

    #[test]
    fn numbers_in_a_row() {
        let p = profile();
        let t = functions_table(&p, &opts(SortKey::Cumulative));
        let header = t.lines().next().unwrap();
        for h in [
            "calls",
            "self",
            "cumulative",
            "per call",
            "p50",
            "p99",
            "% of run",
        ] {
            assert!(header.contains(h), "{header}");
        }
        let parse = t.lines().find(|l| l.contains(" parse ")).unwrap();
        // 1000 calls, self 400 ms, cumulative 500 ms, 500 µs per call, 25% of the 2 s run.
        assert!(parse.trim_start().starts_with("1000  "), "{parse}");
        assert!(parse.contains("400.00 ms"), "{parse}");
        assert!(parse.contains("500.00 ms"), "{parse}");
        assert!(parse.contains("500.00 µs"), "{parse}");
        assert!(parse.contains("900.00 µs"), "{parse}");
        assert!(parse.contains("25.0%"), "{parse}");
        assert!(parse.ends_with("src/main.rs:10"), "{parse}");
        let main = t.lines().find(|l| l.contains(" main ")).unwrap();
        assert!(main.contains("75.0%"), "{main}");
    }

    #[test]
    fn columns_are_aligned() {
        let t = functions_table(&profile(), &opts(SortKey::Cumulative));
        // Right-aligned numeric columns: the '%' of the share column ends at the same character
        // position on every line.
        let ends: Vec<usize> = t
            .lines()
            .skip(1)
            .map(|l| l.chars().position(|c| c == '%').unwrap())
            .collect();
        assert!(ends.windows(2).all(|w| w[0] == w[1]), "{t}");
    }

    #[test]
    fn limit_and_filter() {
        let p = profile();
        let mut o = opts(SortKey::Cumulative);
        o.limit = 2;
        let t = functions_table(&p, &o);
        assert_eq!(names(&t), ["main", "filter"]);
        assert!(t.contains("2 more functions not shown"), "{t}");
        o.limit = 0;
        o.filter = Some("PAR".into());
        let t = functions_table(&p, &o);
        assert_eq!(names(&t), ["parse"]);
        o.filter = Some("nothing".into());
        assert_eq!(functions_table(&p, &o), "no function matches the filter\n");
    }

    #[test]
    fn color_only_when_asked() {
        let p = profile();
        assert!(!functions_table(&p, &opts(SortKey::Calls)).contains('\x1b'));
        let mut o = opts(SortKey::Calls);
        o.color = true;
        let t = functions_table(&p, &o);
        assert!(t.starts_with(BOLD));
        // main is 75% of the run: red.
        assert!(t.lines().any(|l| l.starts_with(RED) && l.contains("main")));
    }

    #[test]
    fn stage_table_in_pipeline_order() {
        let mut p = profile();
        let stage = |name: &str, order: u32, inp: u64, out: u64, own: u64, bn: bool| StageStats {
            name: name.into(),
            order,
            records_in: inp,
            records_out: out,
            selectivity: if inp == 0 {
                0.0
            } else {
                out as f64 / inp as f64
            },
            own_ns: own,
            downstream_wait_ns: 1_000,
            throughput_per_s: out as f64 / (own as f64 / 1e9),
            share_of_pipeline: own as f64 / 4_000_000.0,
            is_bottleneck: bn,
            ..Default::default()
        };
        p.stages = vec![
            stage("normalize", 2, 500, 500, 1_000_000, false),
            stage("generate", 0, 0, 1000, 500_000, false),
            stage("threshold", 1, 1000, 500, 2_500_000, true),
        ];
        let t = stages_table(&p, &opts(SortKey::Cumulative));
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 4, "{t}");
        assert!(lines[1].starts_with("generate"));
        assert!(lines[2].starts_with("threshold"));
        assert!(lines[3].starts_with("normalize"));
        assert!(lines[2].contains("50.0%"), "selectivity {t}");
        assert!(lines[2].contains("62.5%"), "share {t}");
        assert!(lines[2].ends_with("◀ bottleneck"));
        assert!(!lines[1].contains("bottleneck"));
        assert!(lines[2].contains("200.00 k/s"), "{t}");
    }

    #[test]
    fn summary_lines() {
        let mut p = profile();
        let s = run_summary_lines(&p);
        assert!(s.contains("wall:"));
        assert!(s.contains("2.00 s"));
        assert!(s.contains("1.50 s (75.0% of wall)"), "{s}");
        assert!(s.contains("calls:") && s.contains("1111"));
        assert!(s.contains("12.5 ns per timed call, 0.0% of wall"), "{s}");
        assert!(!s.contains("max RSS"));
        assert!(!s.contains("sources"));
        assert!(!s.contains("threads:"), "{s}");
        p.threads = vec![
            ThreadStats {
                index: 0,
                calls: 11,
                ..Default::default()
            },
            ThreadStats {
                index: pipelinescope_core::profile::EXITED_THREADS_INDEX,
                name: pipelinescope_core::profile::exited_threads_name(20_000),
                finished: true,
                calls: 40_000,
                exited_threads: 20_000,
                ..Default::default()
            },
        ];
        let s = run_summary_lines(&p);
        assert!(
            s.lines()
                .any(|l| l.starts_with("threads:")
                    && l.ends_with(" 1 live, 20000 exited (40000 calls)")),
            "{s}"
        );
        p.threads.clear();
        p.sources = vec![
            pipelinescope_core::profile::SourceRun {
                path: "a".into(),
                meta: RunMeta {
                    host: "h1".into(),
                    ..Default::default()
                },
            };
            3
        ];
        let s = run_summary_lines(&p);
        assert!(
            s.lines()
                .any(|l| l.starts_with("sources:") && l.ends_with(" merged from 3 runs on h1")),
            "{s}"
        );
        p.sources.clear();
        p.resources = Some(Resources {
            samples: 10,
            peak_rss_bytes: 64 * 1024 * 1024,
            mean_cpu_percent: 97.0,
            gpu: GpuInfo {
                available: false,
                reason: Some("no NVML library".into()),
                ..Default::default()
            },
            run_summary: Some(RunSummary {
                user_ns: 1_200_000_000,
                sys_ns: 30_000_000,
                max_rss_bytes: 70 * 1024 * 1024,
                minor_faults: 12,
                major_faults: 1,
                voluntary_context_switches: 5,
                involuntary_context_switches: 7,
                ..Default::default()
            }),
            ..Default::default()
        });
        let s = run_summary_lines(&p);
        assert!(s.contains("user:") && s.contains("1.20 s"), "{s}");
        assert!(s.contains("30.00 ms"));
        assert!(s.contains("70.0 MiB"));
        assert!(s.contains("12 minor, 1 major"));
        assert!(s.contains("5 voluntary, 7 involuntary"));
        assert!(s.contains("64.0 MiB (mean CPU 97%)"));
        assert!(s.contains("not available (no NVML library)"));
        // Labels are padded so that values start in one column.
        let starts: Vec<usize> = s
            .lines()
            .map(|l| {
                l.find(':').unwrap() + l[l.find(':').unwrap() + 1..].len()
                    - l[l.find(':').unwrap() + 1..].trim_start().len()
            })
            .collect();
        assert!(starts.windows(2).all(|w| w[0] == w[1]), "{s}");
    }
}
