//! The functions table and the stages table.

use super::{
    BOLD, RED, RESET, TableOptions, YELLOW, fmt_ns, fmt_pct, fmt_rate, matches_filter,
    sorted_functions,
};
use crate::scaling::within::exponent_label;
use pipelinescope_core::profile::{Profile, SizeScaling, StageStats};

/// A table of cells rendered with per-column alignment.
pub(super) struct Table {
    header: Vec<&'static str>,
    /// True for right-aligned (numeric) columns.
    right: Vec<bool>,
    rows: Vec<(Vec<String>, Option<&'static str>)>,
}

impl Table {
    pub(super) fn render(&self, color: bool, out: &mut String) {
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

pub(super) fn location(file: &str, line: u32) -> String {
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
    add_growth_column(&mut table, rows.iter().map(|f| f.scaling.as_ref()), 7);
    table.render(opts.color, &mut out);
    let margins = crate::probe::shown_margins_ns(profile);
    let low: Vec<String> = rows
        .iter()
        .take(shown)
        .filter_map(|f| {
            let m = margins.get(f.id as usize).copied().unwrap_or(0.0);
            (m > 0.0).then(|| format!("{} +{}", f.name, fmt_ns(m)))
        })
        .collect();
    if !low.is_empty() {
        out.push_str(&format!(
            "self time may read low by up to: {} (their sampled callees' probes are taken off \
             at what they cost in a tight loop, and around the caller's own work they cost less)\n",
            low.join(", ")
        ));
    }
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
    add_growth_column(&mut table, rows.iter().map(|s| s.scaling.as_ref()), 10);
    table.render(opts.color, &mut out);
    if shown < total {
        out.push_str(&format!("… {} more stages not shown\n", total - shown));
    }
    out
}

/// Inserts the `growth` column (how time per call grows with the call's size, fitted within
/// the run: `n^1.98±0.05`) at `at`, where at least one row has a fit; the tables of runs
/// without sizes stay as they were.
fn add_growth_column<'a>(
    table: &mut Table,
    fits: impl Iterator<Item = Option<&'a SizeScaling>>,
    at: usize,
) {
    // One cell per row shown (the table holds the rows shown only).
    let cells: Vec<String> = fits
        .take(table.rows.len())
        .map(|f| f.map_or_else(String::new, exponent_label))
        .collect();
    if cells.iter().all(String::is_empty) {
        return;
    }
    table.header.insert(at, "growth");
    table.right.insert(at, true);
    for ((row, _), cell) in table.rows.iter_mut().zip(cells) {
        row.insert(at, cell);
    }
}
