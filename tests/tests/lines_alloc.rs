//! Allocations per line (`#[profile(lines)]` with the allocation tracker installed): bytes
//! allocated and freed, the increment and the allocation count of each line, exactly.

use pipelinescope::{FunctionLines, LineAlloc, TrackingAllocator, profile};
use std::alloc::System;

#[global_allocator]
static ALLOC: TrackingAllocator = TrackingAllocator::new(System);

const KIB: usize = 1024;

#[profile(lines)]
fn keep_then_free_half() -> usize {
    let mut kept: Vec<Vec<u8>> = Vec::with_capacity(1_000);
    for _ in 0..1_000 {
        kept.push(vec![7u8; KIB]);
    }
    kept.truncate(500);
    kept.len()
}

fn alloc_on(t: &FunctionLines, text: &str) -> LineAlloc {
    let n = (t.first_line..t.first_line + t.source.lines().count() as u32)
        .find(|&n| t.source_line(n).is_some_and(|s| s.contains(text)))
        .unwrap_or_else(|| panic!("{text:?} not in\n{}", t.source));
    t.lines
        .iter()
        .find(|l| l.line == n)
        .and_then(|l| l.alloc)
        .unwrap_or_else(|| panic!("no allocation figures on line {n}: {t:#?}"))
}

#[test]
fn a_line_allocates_and_the_next_frees_half() {
    assert_eq!(keep_then_free_half(), 500);
    let p = pipelinescope::snapshot();
    let t = p
        .lines
        .iter()
        .find(|t| t.function == "keep_then_free_half")
        .expect("a line table");
    let outer = 1_000 * std::mem::size_of::<Vec<u8>>() as u64;
    let with_capacity = alloc_on(t, "Vec::with_capacity");
    assert_eq!(
        with_capacity,
        LineAlloc {
            allocations: 1,
            bytes_allocated: outer,
            bytes_freed: 0,
            increment: outer as i64,
        }
    );
    let push = alloc_on(t, "kept.push");
    assert_eq!(
        push,
        LineAlloc {
            allocations: 1_000,
            bytes_allocated: 1_024_000,
            bytes_freed: 0,
            increment: 1_024_000,
        }
    );
    let truncate = alloc_on(t, "kept.truncate");
    assert_eq!(
        truncate,
        LineAlloc {
            allocations: 0,
            bytes_allocated: 0,
            bytes_freed: 512_000,
            increment: -512_000,
        }
    );
    // The rest is freed where `kept` goes out of scope: after the last line ran.
    let tail = alloc_on(t, "kept.len()");
    assert_eq!(tail.bytes_freed, 512_000 + outer);
    assert_eq!(alloc_on(t, "for _ in").bytes_allocated, 0);
    // Every byte is on some line, once.
    let all: i64 = t
        .lines
        .iter()
        .filter_map(|l| l.alloc)
        .map(|a| a.increment)
        .sum();
    assert_eq!(all, 0);
}
