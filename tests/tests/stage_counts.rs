//! `#[stage]` counts: records in and out, selectivity, exhaustion, eager and lazy forms.

mod common;

use common::{edge_records, stage_named};
use pipelinescope::{StageKind, stage};
use std::collections::HashMap;

#[stage("counts_source")]
fn source(n: u64) -> impl Iterator<Item = u64> {
    0..n
}

#[stage("counts_keep_thirds")]
fn keep_thirds(input: impl Iterator<Item = u64>) -> impl Iterator<Item = u64> {
    input.filter(|x| x % 3 == 0)
}

#[stage(name = "counts_double")]
fn double<I: Iterator<Item = u64>>(input: I) -> impl Iterator<Item = u64> {
    input.map(|x| x * 2)
}

#[test]
fn filter_with_known_selectivity() {
    let total: u64 = double(keep_thirds(source(3_000))).sum();
    assert_eq!(
        total,
        (0..3_000u64)
            .filter(|x| x % 3 == 0)
            .map(|x| x * 2)
            .sum::<u64>()
    );
    let src = stage_named("counts_source");
    let f = stage_named("counts_keep_thirds");
    let d = stage_named("counts_double");
    assert_eq!((src.records_in, src.records_out), (0, 3_000));
    assert_eq!((f.records_in, f.records_out), (3_000, 1_000));
    assert!((f.selectivity - 1.0 / 3.0).abs() < 1e-12);
    assert_eq!((d.records_in, d.records_out), (1_000, 1_000));
    assert_eq!(d.selectivity, 1.0);
    for s in [&src, &f, &d] {
        assert_eq!(s.kind, StageKind::Lazy);
        assert_eq!(s.invocations, 1);
        assert_eq!(s.exhausted, 1);
        assert_eq!(s.dropped_early, 0);
        assert_eq!(s.own_histogram.count(), s.records_out);
    }
    assert!(src.order < f.order && f.order < d.order);
    assert_eq!(
        edge_records("counts_source", "counts_keep_thirds"),
        Some(3_000)
    );
    assert_eq!(
        edge_records("counts_keep_thirds", "counts_double"),
        Some(1_000)
    );
}

#[stage("drop_source")]
fn drop_source() -> impl Iterator<Item = u32> {
    0..1_000
}

#[test]
fn dropped_after_ten_records() {
    let taken: Vec<u32> = drop_source().take(10).collect();
    assert_eq!(taken.len(), 10);
    let s = stage_named("drop_source");
    assert_eq!(s.records_out, 10);
    assert_eq!(s.exhausted, 0);
    assert_eq!(s.dropped_early, 1);
}

#[stage("eager_filter")]
fn eager_filter(records: &[u64]) -> Vec<u64> {
    records.iter().copied().filter(|x| x % 4 == 1).collect()
}

#[stage("lazy_filter")]
fn lazy_filter(records: impl IntoIterator<Item = u64>) -> impl Iterator<Item = u64> {
    records.into_iter().filter(|x| x % 4 == 1)
}

#[stage("eager_index")]
fn eager_index(records: Vec<u64>) -> HashMap<u64, u64> {
    records.into_iter().map(|x| (x, x)).collect()
}

#[test]
fn eager_and_lazy_forms_agree() {
    let data: Vec<u64> = (0..10_001).collect();
    let eager = eager_filter(&data);
    let lazy: Vec<u64> = lazy_filter(data.clone()).collect();
    assert_eq!(eager, lazy);
    let index = eager_index(eager);
    assert_eq!(index.len(), 2_500);
    let e = stage_named("eager_filter");
    let l = stage_named("lazy_filter");
    assert_eq!(e.kind, StageKind::Eager);
    assert_eq!((e.records_in, e.records_out), (l.records_in, l.records_out));
    assert_eq!((e.records_in, e.records_out), (10_001, 2_500));
    assert_eq!(e.selectivity, l.selectivity);
    assert_eq!(e.exhausted, 1);
    assert_eq!(e.own_histogram.count(), 2_500);
    let i = stage_named("eager_index");
    assert_eq!((i.records_in, i.records_out), (2_500, 2_500));
    assert_eq!(edge_records("eager_filter", "eager_index"), Some(2_500));
}

#[stage("late_source")]
fn late_source(n: u64) -> impl Iterator<Item = u64> {
    0..n
}

/// Hands out a header record before it first pulls from its input.
#[stage("late_header")]
fn with_header(input: impl Iterator<Item = u64>) -> impl Iterator<Item = u64> {
    std::iter::once(u64::MAX).chain(input)
}

/// The upstream's first call comes after the stage's first record, in a call that is not the
/// stage's first: the edge is still found (the input names its stage on its first pull), and its
/// records are the upstream's records out. Once with `next`, then with `fold`: an edge missing
/// in either run would leave fewer records on it than the two runs together.
#[test]
fn an_upstream_first_pulled_late_still_has_its_edge() {
    let mut n = 0;
    for _ in with_header(late_source(500)) {
        n += 1;
    }
    assert_eq!(n, 501);
    assert_eq!(edge_records("late_source", "late_header"), Some(500));
    assert_eq!(with_header(late_source(700)).count(), 701);
    let h = stage_named("late_header");
    assert_eq!((h.records_in, h.records_out), (1_200, 1_202));
    assert_eq!(edge_records("late_source", "late_header"), Some(1_200));
}
