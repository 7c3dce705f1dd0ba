//! Exact allocation counts through `TrackingAllocator` installed as the global allocator.

use pipelinescope_core::TrackingAllocator;
use pipelinescope_core::alloc::collect;
use pipelinescope_core::enter;
use pipelinescope_core::profile::AllocationStats;
use pipelinescope_core::site::{Site, SiteKind};
use std::alloc::System;

#[global_allocator]
static ALLOC: TrackingAllocator = TrackingAllocator::new(System);

const KIB: usize = 1024;

fn stats(name: &str) -> AllocationStats {
    collect()
        .into_iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no allocation row for {name}"))
}

/// Allocates exactly 1,000 x 1 KiB into `out` (whose capacity is reserved by the caller).
fn thousand_kib(site: &'static Site, out: &mut Vec<Vec<u8>>) {
    let _g = enter(site);
    for _ in 0..1_000 {
        out.push(vec![7u8; KIB]);
    }
}

#[test]
fn thousand_kib_kept() {
    static KEEP: Site = Site::new("keep_1000_kib", "t", "f", 1, SiteKind::Sync);
    let mut out = Vec::with_capacity(1_000);
    thousand_kib(&KEEP, &mut out);
    let s = stats("keep_1000_kib");
    assert_eq!(s.allocations, 1_000);
    assert_eq!(s.bytes_allocated, 1_024_000);
    assert_eq!(s.bytes_freed, 0);
    assert_eq!(s.net_retained_bytes, 1_024_000);
    assert_eq!(s.peak_live_bytes, 1_024_000);
    drop(out);
    // Freed outside the function: its figures do not change.
    assert_eq!(stats("keep_1000_kib"), s);
}

#[test]
fn thousand_kib_freed_inside() {
    static FREE: Site = Site::new("free_1000_kib", "t", "f", 2, SiteKind::Sync);
    let mut out = Vec::with_capacity(1_000);
    {
        let _g = enter(&FREE);
        for _ in 0..1_000 {
            out.push(vec![7u8; KIB]);
        }
        // Free 400 of them before returning.
        out.truncate(600);
    }
    let s = stats("free_1000_kib");
    assert_eq!(s.allocations, 1_000);
    assert_eq!(s.bytes_allocated, 1_024_000);
    assert_eq!(s.bytes_freed, 400 * 1_024);
    assert_eq!(s.net_retained_bytes, 600 * 1_024);
    assert_eq!(s.peak_live_bytes, 1_024_000);
}

#[test]
fn peak_is_the_high_water_mark_not_the_sum() {
    static SAW: Site = Site::new("sawtooth", "t", "f", 3, SiteKind::Sync);
    for _ in 0..3 {
        let _g = enter(&SAW);
        for _ in 0..100 {
            // 64 KiB live at most, 100 times over.
            let v = vec![1u8; 64 * KIB];
            std::hint::black_box(&v);
        }
    }
    let s = stats("sawtooth");
    assert_eq!(s.allocations, 300);
    assert_eq!(s.bytes_allocated, 300 * 64 * 1_024);
    assert_eq!(s.bytes_freed, s.bytes_allocated);
    assert_eq!(s.net_retained_bytes, 0);
    assert_eq!(s.peak_live_bytes, 64 * 1_024);
}

#[test]
fn nested_functions_count_their_own_and_peaks_nest() {
    static OUTER: Site = Site::new("alloc_outer", "t", "f", 4, SiteKind::Sync);
    static INNER: Site = Site::new("alloc_inner", "t", "f", 5, SiteKind::Sync);
    fn inner() -> Vec<Vec<u8>> {
        let _g = enter(&INNER);
        let mut v = Vec::with_capacity(5);
        for _ in 0..5 {
            v.push(vec![0u8; KIB]);
        }
        v
    }
    let kept = {
        let _g = enter(&OUTER);
        let mut mine: Vec<Vec<u8>> = Vec::with_capacity(10);
        for _ in 0..10 {
            mine.push(vec![0u8; KIB]);
        }
        let theirs = inner();
        drop(mine);
        theirs
    };
    let o = stats("alloc_outer");
    let i = stats("alloc_inner");
    // Outer: 10 x 1 KiB plus its own 10-slot vector; inner: 5 x 1 KiB plus its 5-slot vector.
    let slot = std::mem::size_of::<Vec<u8>>() as u64;
    assert_eq!(o.allocations, 11);
    assert_eq!(o.bytes_allocated, 10 * 1_024 + 10 * slot);
    assert_eq!(o.bytes_freed, o.bytes_allocated);
    assert_eq!(i.allocations, 6);
    assert_eq!(i.bytes_allocated, 5 * 1_024 + 5 * slot);
    assert_eq!(i.net_retained_bytes, i.bytes_allocated as i64);
    assert_eq!(i.peak_live_bytes, i.bytes_allocated);
    // While inner ran, outer's own memory was still live: its peak covers both.
    assert_eq!(o.peak_live_bytes, o.bytes_allocated + i.bytes_allocated);
    drop(kept);
}

#[test]
fn threads_are_counted_exactly() {
    static MT: Site = Site::new("alloc_threads", "t", "f", 6, SiteKind::Sync);
    let handles: Vec<_> = (0..4)
        .map(|_| {
            std::thread::spawn(|| {
                let mut out = Vec::with_capacity(1_000);
                thousand_kib(&MT, &mut out);
                out.len()
            })
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), 1_000);
    }
    let s = stats("alloc_threads");
    assert_eq!(s.allocations, 4_000);
    assert_eq!(s.bytes_allocated, 4_096_000);
    // Each thread's vectors were freed after the function returned.
    assert_eq!(s.bytes_freed, 0);
    assert_eq!(s.peak_live_bytes, 1_024_000);
}

#[test]
fn realloc_counts_as_a_new_block() {
    static GROWS: Site = Site::new("alloc_realloc", "t", "f", 7, SiteKind::Sync);
    let v = {
        let _g = enter(&GROWS);
        let mut v: Vec<u8> = Vec::with_capacity(1_000);
        v.extend(std::iter::repeat_n(1u8, 1_000));
        v.reserve_exact(1_000); // realloc 1,000 -> 2,000
        v
    };
    let s = stats("alloc_realloc");
    assert_eq!(s.allocations, 2);
    assert_eq!(s.bytes_allocated, 3_000);
    assert_eq!(s.bytes_freed, 1_000);
    assert_eq!(s.net_retained_bytes, 2_000);
    assert_eq!(s.peak_live_bytes, 2_000);
    drop(v);
}

#[test]
fn the_sampler_reports_allocations() {
    use pipelinescope_core::resources::{Sampler, SamplerConfig};
    static SAMPLED: Site = Site::new("alloc_sampled", "t", "f", 8, SiteKind::Sync);
    let s = Sampler::start(SamplerConfig {
        interval_ms: 10,
        cpu: true,
        gpu: false,
        gpu_backend: None,
    });
    let mut out = Vec::with_capacity(1_000);
    thousand_kib(&SAMPLED, &mut out);
    let r = s.stop();
    let row = r
        .allocations
        .iter()
        .find(|a| a.name == "alloc_sampled")
        .expect("allocation row in Resources");
    assert_eq!(row.allocations, 1_000);
    assert_eq!(row.bytes_allocated, 1_024_000);
    assert_eq!(row.net_retained_bytes, 1_024_000);
}

#[test]
fn stage_allocations_are_exact() {
    use pipelinescope_core::profile::StageKind;
    use pipelinescope_core::stage::{StageInput, StageIter, StageLink, StageSite};
    static MAKE: StageSite = StageSite::new("alloc_stage_make", "t", "f", 1, StageKind::Lazy);
    static DROP_HALF: StageSite = StageSite::new("alloc_stage_drop", "t", "f", 2, StageKind::Lazy);
    // 500 records of exactly 1 KiB made by one stage; the next stage frees every other one.
    let make = StageIter::new(&MAKE, (0..500).map(|_| vec![1u8; KIB]));
    let link = StageLink::new(&DROP_HALF);
    let input = StageInput::new(&link, make);
    let mut i = 0;
    let keep = StageIter::with_inputs(
        &DROP_HALF,
        link,
        input.filter(move |_| {
            i += 1;
            i % 2 == 0
        }),
    );
    let mut kept: Vec<Vec<u8>> = Vec::with_capacity(500);
    kept.extend(keep);
    assert_eq!(kept.len(), 250);
    let rows = pipelinescope_core::alloc::collect_stages();
    let row = |n: &str| {
        rows.iter()
            .find(|r| r.name == n)
            .cloned()
            .unwrap_or_default()
    };
    let m = row("alloc_stage_make");
    assert_eq!((m.allocations, m.bytes_allocated), (500, 500 * KIB as u64));
    // Nothing it made was freed inside it: all 500 KiB were live at once as far as it knows.
    assert_eq!(m.peak_live_bytes, 500 * KIB as u64);
    let d = row("alloc_stage_drop");
    assert_eq!(d.bytes_freed, 250 * KIB as u64, "{d:?}");
    assert_eq!(d.allocations, 0, "{d:?}");
}

/// Stage allocation counts of threads that have exited (folded at their exit) stay exact.
#[test]
fn stage_allocations_of_exited_threads_are_exact() {
    use pipelinescope_core::profile::StageKind;
    use pipelinescope_core::stage::{StageIter, StageSite};
    static MADE: StageSite = StageSite::new("alloc_exited_make", "t", "f", 3, StageKind::Lazy);
    for _ in 0..4 {
        std::thread::spawn(|| {
            let made: Vec<Vec<u8>> =
                StageIter::new(&MADE, (0..100).map(|_| vec![1u8; KIB])).collect();
            assert_eq!(made.len(), 100);
        })
        .join()
        .unwrap();
    }
    let rows = pipelinescope_core::alloc::collect_stages();
    let m = rows
        .iter()
        .find(|r| r.name == "alloc_exited_make")
        .cloned()
        .unwrap_or_default();
    assert_eq!((m.allocations, m.bytes_allocated), (400, 400 * KIB as u64));
    // Each thread's peak, summed over threads as for live ones.
    assert_eq!(m.peak_live_bytes, 400 * KIB as u64);
}
