//! `#[profile(size = ...)]` and stage invocations by size class: exact counts per class.
//! Classes are powers of two: class 0 holds size 0, class `b` sizes `2^(b-1)..2^b`.

mod common;

use common::{function, stage_named};
use pipelinescope::{SizeBucket, profile, stage};

/// The class of `size` in `buckets`: `(calls, size_sum)`.
fn class_of(buckets: &[SizeBucket], size: u64) -> (u64, u64) {
    let b = buckets
        .iter()
        .find(|b| b.min_size <= size && size <= b.max_size)
        .unwrap_or_else(|| panic!("no class holds {size}: {buckets:?}"));
    (b.calls, b.size_sum)
}

#[profile(size = input.len())]
fn sz_checksum(input: &[u64]) -> u64 {
    input
        .iter()
        .fold(0u64, |a, &x| a.wrapping_mul(31).wrapping_add(x))
}

#[profile(size = n)]
fn sz_signed(n: i64) -> i64 {
    n.wrapping_mul(3)
}

#[profile(size = n)]
fn sz_wide(n: u128) -> u128 {
    n / 2
}

#[profile(size = 100)]
fn sz_literal() -> u8 {
    7
}

struct Bag(Vec<u32>);

impl Bag {
    #[profile(size = self.0.len(), name = "Bag::total")]
    fn total(&self) -> u64 {
        self.0.iter().map(|&x| u64::from(x)).sum()
    }
}

#[test]
fn calls_land_in_their_size_class_exactly() {
    let data: Vec<u64> = (0..2_000).collect();
    let mut sink = 0u64;
    // 0 twice, 1 three times, 4..7: 5, 5, 5, 6 (class 3), 1000 seven times (class 10).
    for n in [
        0, 0, 1, 1, 1, 5, 5, 5, 6, 1_000, 1_000, 1_000, 1_000, 1_000, 1_000, 1_000,
    ] {
        sink = sink.wrapping_add(sz_checksum(&data[..n]));
    }
    assert_ne!(sink, 1);
    let p = pipelinescope::snapshot();
    let f = function(&p, "sz_checksum");
    assert_eq!(f.calls, 16);
    assert_eq!(f.timed_calls, 16, "every sized call is timed");
    assert_eq!(f.sizes.len(), 4, "{:?}", f.sizes);
    assert_eq!(class_of(&f.sizes, 0), (2, 0));
    assert_eq!(class_of(&f.sizes, 1), (3, 3));
    assert_eq!(class_of(&f.sizes, 5), (4, 21));
    assert_eq!(class_of(&f.sizes, 1_000), (7, 7_000));
    assert_eq!(f.sizes.iter().map(|b| b.calls).sum::<u64>(), f.calls);
    let b = f.sizes.iter().find(|b| b.min_size == 512).unwrap();
    assert_eq!((b.min_size, b.max_size), (512, 1023));
    assert_eq!(b.mean_size(), 1_000.0);
    // Four classes, but only two above size 1 and no decade between them: no fit.
    assert!(pipelinescope_report::scaling::within::scaling(&f.sizes).is_none());
    // The class times add up to no more than the function's inclusive time.
    let classes: u64 = f.sizes.iter().map(|b| b.time_ns).sum();
    assert!(
        classes <= f.cumulative_ns + 1_000,
        "{classes} > {}",
        f.cumulative_ns
    );
}

struct Grid;

#[profile]
impl Grid {
    #[profile(size = rows * cols)]
    fn fill(&self, rows: u32, cols: u32) -> u64 {
        u64::from(rows) * u64::from(cols)
    }

    fn plain(&self) -> u8 {
        1
    }
}

#[profile]
mod shapes {
    #[profile(size = side)]
    pub fn square(side: usize) -> usize {
        side * side
    }
}

#[test]
fn sizes_on_methods_of_a_profiled_block_and_functions_of_a_module() {
    assert_eq!(Grid.fill(3, 4) + Grid.fill(10, 10), 112);
    assert_eq!(Grid.plain(), 1);
    assert_eq!(shapes::square(9), 81);
    let p = pipelinescope::snapshot();
    let fill = function(&p, "Grid::fill").sizes;
    assert_eq!(class_of(&fill, 12), (1, 12));
    assert_eq!(class_of(&fill, 100), (1, 100));
    assert!(function(&p, "Grid::plain").sizes.is_empty());
    assert_eq!(class_of(&function(&p, "shapes::square").sizes, 9), (1, 9));
}

#[test]
fn any_integer_type_is_a_size_saturated_into_u64() {
    assert_eq!(sz_signed(-5) + sz_signed(3), -6);
    assert_eq!(sz_wide(u128::MAX), u128::MAX / 2);
    assert_eq!(sz_wide(40), 20);
    assert_eq!(sz_literal(), 7);
    let bag = Bag(vec![1, 2, 3]);
    assert_eq!(bag.total(), 6);
    let p = pipelinescope::snapshot();
    let s = function(&p, "sz_signed").sizes;
    assert_eq!(class_of(&s, 0), (1, 0), "a negative size counts as 0");
    assert_eq!(class_of(&s, 3), (1, 3));
    let w = function(&p, "sz_wide").sizes;
    assert_eq!(class_of(&w, u64::MAX), (1, u64::MAX));
    assert_eq!(class_of(&w, 40), (1, 40));
    assert_eq!(class_of(&function(&p, "sz_literal").sizes, 100), (1, 100));
    assert_eq!(class_of(&function(&p, "Bag::total").sizes, 3), (1, 3));
}

#[stage("sz_source")]
fn sz_source(n: u64) -> impl Iterator<Item = u64> {
    0..n
}

#[stage("sz_keep_even")]
fn sz_keep_even(input: impl Iterator<Item = u64>) -> impl Iterator<Item = u64> {
    input.filter(|x| x % 2 == 0)
}

#[stage("sz_sorted")]
fn sz_sorted(records: Vec<u64>) -> Vec<u64> {
    let mut v = records;
    v.sort_unstable();
    v
}

#[test]
fn stage_invocations_land_in_the_class_of_their_records() {
    // Inputs of 10, 100 (three times), 1000 and 3000 records.
    let sizes = [10u64, 100, 100, 100, 1_000, 3_000];
    let mut kept = 0;
    for &n in &sizes {
        kept += sz_keep_even(sz_source(n)).count();
    }
    assert_eq!(kept, (5 + 50 * 3 + 500 + 1_500) as usize);
    // A stage dropped before the end: its size is what it took in.
    let first: Vec<u64> = sz_keep_even(sz_source(50)).take(3).collect();
    assert_eq!(first, [0, 2, 4]);
    for n in [20u64, 2_000] {
        assert_eq!(sz_sorted((0..n).rev().collect()).len() as u64, n);
    }
    let keep = stage_named("sz_keep_even");
    assert_eq!(keep.invocations, 7);
    let k = &keep.sizes;
    assert_eq!(k.iter().map(|b| b.calls).sum::<u64>(), 7, "{k:?}");
    assert_eq!(class_of(k, 10), (1, 10));
    assert_eq!(class_of(k, 100), (3, 300));
    assert_eq!(class_of(k, 1_000), (1, 1_000));
    assert_eq!(class_of(k, 3_000), (1, 3_000));
    // The one dropped early took 0..=4 for its three records: 5, in the class of 4..=7.
    assert_eq!(class_of(k, 5), (1, 5), "{k:?}");
    // A source takes nothing in: its size is what it handed out.
    let src = stage_named("sz_source");
    let s = &src.sizes;
    assert_eq!(s.iter().map(|b| b.calls).sum::<u64>(), 7, "{s:?}");
    assert_eq!(class_of(s, 100), (3, 300));
    assert_eq!(class_of(s, 3_000), (1, 3_000));
    // An eager stage: one call, its records in.
    let sorted = stage_named("sz_sorted");
    assert_eq!(class_of(&sorted.sizes, 20), (1, 20));
    assert_eq!(class_of(&sorted.sizes, 2_000), (1, 2_000));
    for b in k.iter().chain(s).chain(&sorted.sizes) {
        assert!(b.time_ns <= 1_000_000_000, "{b:?}");
    }
}

#[profile(size = input.len())]
fn sz_fitted(input: &[u64]) -> u64 {
    input.iter().fold(1u64, |a, &x| a.wrapping_mul(x | 1))
}

#[test]
fn a_snapshot_carries_the_fit_and_a_difference_does_not() {
    let data: Vec<u64> = (0..20_000).collect();
    let mut sink = 0u64;
    // Sizes 10 to 20,000: twelve classes over three decades, 20 calls in each.
    for n in [10, 40, 160, 640, 2_560, 10_240, 20_000] {
        for _ in 0..20 {
            sink = sink.wrapping_add(sz_fitted(&data[..n]));
        }
    }
    assert_ne!(sink, 1);
    let before = pipelinescope::snapshot();
    let f = function(&before, "sz_fitted");
    assert_eq!(f.calls, 140);
    let s = f
        .scaling
        .as_ref()
        .unwrap_or_else(|| panic!("a snapshot fits the size classes: {:?}", f.sizes));
    assert_eq!((s.points, s.calls), (7, 140), "{s:?}");
    assert!(s.exponent_low <= s.exponent_high, "{s:?}");
    for n in [10, 20_000] {
        sink = sink.wrapping_add(sz_fitted(&data[..n]));
    }
    assert_ne!(sink, 1);
    let d = pipelinescope::snapshot().since(&before);
    let f = function(&d, "sz_fitted");
    assert_eq!(f.calls, 2);
    assert_eq!(f.sizes.iter().map(|b| b.calls).sum::<u64>(), 2);
    assert!(f.scaling.is_none(), "{:?}", f.scaling);
}
