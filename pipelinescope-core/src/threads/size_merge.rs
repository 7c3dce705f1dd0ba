//! Merging threads' size classes: per function site and per stage, by plain sums, so an
//! aggregate holds exactly what reading the threads one by one would. Exited threads join the
//! aggregate as they exit; a snapshot adds the live ones through the same code.

use crate::local::ThreadData;
use crate::local::sizes::SizeTable;
use crate::profile::{SIZE_CLASSES, SizeBucket, class_bounds};
use std::collections::HashMap;
use std::sync::atomic::Ordering::Relaxed;

/// One size class summed over threads. Time in ticks.
#[derive(Clone, Copy, Default)]
pub(crate) struct ClassAcc {
    pub calls: u64,
    pub size_sum: u64,
    pub ticks: f64,
}

/// The classes of one site.
pub(crate) type Classes = [ClassAcc; SIZE_CLASSES];

/// Size classes of functions (by site id) and stages (by stage id).
#[derive(Clone, Default)]
pub(crate) struct SizeMerged {
    pub functions: HashMap<u32, Classes>,
    pub stages: HashMap<u32, Classes>,
}

fn add_table(into: &mut HashMap<u32, Classes>, t: &SizeTable) {
    t.for_each(|id, c| {
        let acc = into
            .entry(id)
            .or_insert([ClassAcc::default(); SIZE_CLASSES]);
        for (i, a) in acc.iter_mut().enumerate() {
            let calls = c.calls[i].load(Relaxed);
            if calls == 0 {
                continue;
            }
            a.calls += calls;
            a.size_sum = a.size_sum.saturating_add(c.size_sum[i].load(Relaxed));
            a.ticks +=
                c.time_fp[i].load(Relaxed) as i64 as f64 / f64::from(1u32 << crate::cost::FP);
        }
    });
}

fn absorb(into: &mut HashMap<u32, Classes>, from: &HashMap<u32, Classes>) {
    for (&id, c) in from {
        let acc = into
            .entry(id)
            .or_insert([ClassAcc::default(); SIZE_CLASSES]);
        for (a, b) in acc.iter_mut().zip(c) {
            a.calls += b.calls;
            a.size_sum = a.size_sum.saturating_add(b.size_sum);
            a.ticks += b.ticks;
        }
    }
}

impl SizeMerged {
    /// Adds one thread's classes.
    pub(crate) fn add_thread(&mut self, td: &ThreadData) {
        add_table(&mut self.functions, &td.sizes.functions);
        add_table(&mut self.stages, &td.sizes.stages);
    }

    /// Adds another aggregate.
    pub(crate) fn absorb(&mut self, o: &SizeMerged) {
        absorb(&mut self.functions, &o.functions);
        absorb(&mut self.stages, &o.stages);
    }
}

/// The non-empty classes of `c` as buckets, times in nanoseconds (`scale` per tick), a class
/// whose compensated time came out below zero at 0.
pub(crate) fn buckets(c: &Classes, scale: f64) -> Vec<SizeBucket> {
    c.iter()
        .enumerate()
        .filter(|(_, a)| a.calls > 0)
        .map(|(i, a)| {
            let (min_size, max_size) = class_bounds(i);
            SizeBucket {
                min_size,
                max_size,
                calls: a.calls,
                size_sum: a.size_sum,
                time_ns: (a.ticks.max(0.0) * scale) as u64,
            }
        })
        .collect()
}
