//! The line figures of a snapshot: every thread's cells summed per line table, in
//! nanoseconds, with the per-mark cost taken off each hit.

use crate::clock::ns_per_tick;
use crate::probe::lines::{line_sites, mark_cost_ns};
use crate::profile::{FunctionLines, LineAlloc, LineStats};
use crate::threads::lines::totals;

/// One entry per line table some thread ran.
pub(crate) fn collect() -> Vec<FunctionLines> {
    let sites = line_sites().clone();
    let totals = totals();
    let scale = ns_per_tick();
    let cost = mark_cost_ns();
    let compensated = crate::cost::COMPENSATE.load(std::sync::atomic::Ordering::Relaxed);
    let mut out = Vec::new();
    for (i, site) in sites.iter().enumerate() {
        // Ids start at 1.
        let Some(cells) = totals.get(i + 1) else {
            continue;
        };
        if cells.iter().all(|c| c[0] == 0) {
            continue;
        }
        // Several indices may name one line (a closure's line and a statement's): merged.
        // Times stay signed until the table is complete (see `settle`).
        let mut rows: Vec<(LineStats, f64)> = Vec::new();
        for (idx, c) in cells.iter().enumerate() {
            let Some(&line) = site.lines.get(idx) else {
                continue;
            };
            let raw = (c[1] as f64 * scale) as u64;
            // The probes' cost that ran during the line, as a caller's time has its callees'
            // probes taken off: the line's marks and the calls' probes.
            let probes = if compensated {
                c[2] as f64 / 256.0 * scale
            } else {
                0.0
            };
            let time = raw as f64 - probes;
            let alloc = cfg!(feature = "alloc").then(|| LineAlloc {
                allocations: c[3],
                bytes_allocated: c[4],
                bytes_freed: c[5],
                increment: c[4] as i64 - c[5] as i64,
            });
            match rows.iter_mut().find(|(r, _)| r.line == line) {
                Some((r, t)) => {
                    r.hits += c[0];
                    *t += time;
                    r.raw_time_ns += raw;
                    if let (Some(a), Some(b)) = (&mut r.alloc, alloc) {
                        a.allocations += b.allocations;
                        a.bytes_allocated += b.bytes_allocated;
                        a.bytes_freed += b.bytes_freed;
                        a.increment += b.increment;
                    }
                }
                None => rows.push((
                    LineStats {
                        line,
                        hits: c[0],
                        time_ns: 0,
                        raw_time_ns: raw,
                        alloc,
                    },
                    time,
                )),
            }
        }
        let mut rows = settle(rows);
        rows.sort_by_key(|r| r.line);
        out.push(FunctionLines {
            function: site.site.name.to_string(),
            module: site.site.module.to_string(),
            file: site.site.file.to_string(),
            line: site.site.line,
            total_ns: rows.iter().map(|r| r.time_ns).sum(),
            probe_ns: cost,
            source: site.source.to_string(),
            first_line: site.first_line,
            lines: rows,
        });
    }
    out
}

/// Compensated line times from signed ones. A line cheaper than the probes taken off it reads
/// below zero (the calibrated cost is a typical one); showing it as zero while its neighbours
/// keep theirs would make the lines add up to more than the function, whose own figure takes
/// off the same probes from the unclamped sum. So the lines are shown at zero or more, scaled so
/// that they add up to the signed sum (at least zero), each keeping its share of the positive
/// time.
fn settle(rows: Vec<(LineStats, f64)>) -> Vec<LineStats> {
    let sum: f64 = rows.iter().map(|(_, t)| t).sum::<f64>().max(0.0);
    let positive: f64 = rows.iter().map(|(_, t)| t.max(0.0)).sum();
    let k = if positive > 0.0 { sum / positive } else { 0.0 };
    rows.into_iter()
        .map(|(mut r, t)| {
            r.time_ns = (t.max(0.0) * k) as u64;
            r
        })
        .collect()
}

/// Holds each table to its function's inclusive time in the same snapshot: the lines run inside
/// the function's interval, but the two are compensated separately and the function's own
/// probe is taken off only its figure.
pub(crate) fn bound(p: &mut crate::profile::Profile) {
    for t in &mut p.lines {
        let Some(f) = p
            .functions
            .iter()
            .find(|f| f.name == t.function && f.file == t.file && f.line == t.line)
        else {
            continue;
        };
        if t.total_ns > f.cumulative_ns && t.total_ns > 0 {
            let k = f.cumulative_ns as f64 / t.total_ns as f64;
            for l in &mut t.lines {
                l.time_ns = (l.time_ns as f64 * k) as u64;
            }
            t.total_ns = t.lines.iter().map(|l| l.time_ns).sum();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negative_lines_read_zero_and_the_rest_shrinks_to_the_sum() {
        let row = |line| LineStats {
            line,
            ..LineStats::default()
        };
        let out = settle(vec![(row(1), 300.0), (row(2), -100.0), (row(3), 100.0)]);
        let t: Vec<u64> = out.iter().map(|r| r.time_ns).collect();
        assert_eq!(t, [225, 0, 75]);
        let out = settle(vec![(row(1), 10.0), (row(2), -100.0)]);
        assert!(out.iter().all(|r| r.time_ns == 0));
    }
}
