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
        let mut rows: Vec<LineStats> = Vec::new();
        for (idx, c) in cells.iter().enumerate() {
            let Some(&line) = site.lines.get(idx) else {
                continue;
            };
            let raw = (c[1] as f64 * scale) as u64;
            // The probes' cost that ran during the line, as a caller's time has its callees'
            // probes taken off: the line's mark and the calls' probes.
            let probes = if compensated {
                c[2] as f64 / 256.0 * scale
            } else {
                0.0
            };
            let time = (raw as f64 - probes).max(0.0) as u64;
            let alloc = cfg!(feature = "alloc").then(|| LineAlloc {
                allocations: c[3],
                bytes_allocated: c[4],
                bytes_freed: c[5],
                increment: c[4] as i64 - c[5] as i64,
            });
            match rows.iter_mut().find(|r| r.line == line) {
                Some(r) => {
                    r.hits += c[0];
                    r.time_ns += time;
                    r.raw_time_ns += raw;
                    if let (Some(a), Some(b)) = (&mut r.alloc, alloc) {
                        a.allocations += b.allocations;
                        a.bytes_allocated += b.bytes_allocated;
                        a.bytes_freed += b.bytes_freed;
                        a.increment += b.increment;
                    }
                }
                None => rows.push(LineStats {
                    line,
                    hits: c[0],
                    time_ns: time,
                    raw_time_ns: raw,
                    alloc,
                }),
            }
        }
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
