//! Plain-text tables for the terminal: the pstats-like functions table, the stage table and the
//! run summary printed at the end of every run and by `pipelinescope top`.
//!
//! Every figure is formatted with a human unit (ns, µs, ms, s; B, KiB, MiB, GiB) and columns are
//! right-aligned so that magnitudes line up. Colour is opt-in: callers decide whether the output
//! is a terminal.

mod lines;
mod summary;
mod tables;

pub use lines::lines_listing;
pub use summary::run_summary_lines;
pub use tables::{functions_table, ordered_stages, stages_table};

use pipelinescope_core::profile::{FunctionStats, Profile};

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

pub(super) const BOLD: &str = "\x1b[1m";
pub(super) const RED: &str = "\x1b[31m";
pub(super) const YELLOW: &str = "\x1b[33m";
pub(super) const RESET: &str = "\x1b[0m";

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

/// Formats a size (a count of records, an input's length) at a plot's decade marks: `100`,
/// `1k`, `10M`.
pub fn fmt_size(n: f64) -> String {
    for (unit, suffix) in [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")] {
        if n >= unit {
            return format!("{}{suffix}", n / unit);
        }
    }
    format!("{n}")
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

pub(super) fn matches_filter(filter: &Option<String>, fields: &[&str]) -> bool {
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
