//! Reading every thread's allocation counters (the `alloc` feature): per function and per
//! stage, live threads and the exited threads' aggregate.

use crate::profile::AllocationStats;
use crate::threads::registered;
use crate::util::quiet::untracked;

/// Allocation figures per function, summed over every thread; functions that never allocated
/// or freed are left out. Peak live bytes is the highest over all activations on any thread.
pub fn collect() -> Vec<AllocationStats> {
    untracked(collect_inner)
}

/// Allocation figures per stage, summed over every thread, charged to the innermost stage whose
/// code was running. Peak live bytes is the high-water mark of what the stage allocated and had
/// not freed itself (summed over threads: an upper bound when threads peak at different times).
pub fn collect_stages() -> Vec<AllocationStats> {
    untracked(|| {
        // Each thread is either live or exited here, never both nor neither.
        let (threads, exited) = registered();
        let mut rows: Vec<AllocationStats> = Vec::new();
        let mut id = 1u32;
        while let Some(name) = crate::site::stage_name(id) {
            let mut row = AllocationStats {
                name: name.to_string(),
                ..AllocationStats::default()
            };
            let mut add = |f: [u64; 4]| {
                row.allocations += f[0];
                row.bytes_allocated += f[1];
                row.bytes_freed += f[2];
                // Threads hold their memory at the same time at worst: sum their peaks.
                row.peak_live_bytes += f[3];
            };
            if let Some(f) = exited
                .as_ref()
                .and_then(|e| e.alloc.stages.get(id as usize))
            {
                add(*f);
            }
            for td in &threads {
                if let Some(s) = td.alloc.stage_slots.get(id as usize) {
                    add(s.figures());
                }
            }
            row.net_retained_bytes = row.bytes_allocated as i64 - row.bytes_freed as i64;
            if row.allocations > 0 || row.bytes_freed > 0 {
                rows.push(row);
            }
            id += 1;
        }
        rows.sort_by(|a, b| {
            b.bytes_allocated
                .cmp(&a.bytes_allocated)
                .then_with(|| a.name.cmp(&b.name))
        });
        rows
    })
}

fn collect_inner() -> Vec<AllocationStats> {
    let names: Vec<&'static str> = crate::site::registry().iter().map(|s| s.name).collect();
    let mut rows: Vec<AllocationStats> = names
        .iter()
        .map(|n| AllocationStats {
            name: n.to_string(),
            ..AllocationStats::default()
        })
        .collect();
    // Each thread is either live or exited here, never both nor neither.
    let (threads, exited) = registered();
    let add = |row: &mut AllocationStats, f: [u64; 4]| {
        row.allocations += f[0];
        row.bytes_allocated += f[1];
        row.bytes_freed += f[2];
        row.peak_live_bytes = row.peak_live_bytes.max(f[3]);
    };
    if let Some(e) = &exited {
        for (row, f) in rows.iter_mut().zip(&e.alloc.sites).skip(1) {
            add(row, *f);
        }
    }
    for td in &threads {
        for (id, row) in rows.iter_mut().enumerate().skip(1) {
            if let Some(s) = td.alloc.slots.get(id) {
                add(row, s.figures());
            }
        }
    }
    let mut rows: Vec<AllocationStats> = rows
        .into_iter()
        .skip(1)
        .filter(|r| r.allocations > 0 || r.bytes_freed > 0)
        .map(|mut r| {
            r.net_retained_bytes = r.bytes_allocated as i64 - r.bytes_freed as i64;
            r
        })
        .collect();
    rows.sort_by(|a, b| {
        b.bytes_allocated
            .cmp(&a.bytes_allocated)
            .then_with(|| a.name.cmp(&b.name))
    });
    rows
}
