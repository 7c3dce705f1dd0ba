//! Inference-sensitive lines next to profiled code, in the same crate as the macro expansion (so
//! the profiler's crates are loaded) and in a crate that only calls a profiled library.

// Comparisons written the way inference-sensitive user code writes them.
#![allow(clippy::comparison_to_empty)]

use pipelinescope::profile;
use pipelinescope_drop_in::{Record, first_word, lengths, total};

#[profile]
fn doubled(v: &[u8]) -> Vec<u8> {
    v.iter().map(|b| b * 2).collect()
}

fn takes_u64(x: u64) -> u64 {
    x
}

#[test]
fn comparisons_with_empty_slices_and_literals_infer() {
    let v: Vec<u8> = doubled(&[]);
    assert_eq!(&v[..], &[]);
    assert_eq!(first_word(""), &[]);
    assert_eq!(first_word("ab cd"), b"ab");
    let s = String::from("x");
    assert!(s != "");
    assert!(&*s == "x");
    let n = 3;
    assert!(n == 3);
    let words = vec!["a", "bcd"];
    assert_eq!(lengths(words), [1, 3]);
}

#[test]
fn into_and_sum_infer_their_targets() {
    // `.into()` and `sum()` whose targets come from where the value goes.
    assert_eq!(takes_u64(7u32.into()), 7);
    let sum: u32 = total(&[1, 2, 3]);
    assert!(sum == 6);
    assert_eq!(takes_u64(sum.into()), 6);
    let t: u64 = [4u32, 5].iter().copied().map(u64::from).sum();
    assert_eq!(t, 9);
    let r = Record::parse("k=12").unwrap();
    assert!(r.name == "k");
    assert!(r.value == 12);
    let name: String = "k".into();
    assert_eq!(r.name, name);
}

#[test]
fn probes_record_when_enabled() {
    let before = pipelinescope::snapshot();
    let calls = |p: &pipelinescope::Profile| {
        p.functions
            .iter()
            .filter(|f| f.name.ends_with("first_word"))
            .map(|f| f.calls)
            .sum::<u64>()
    };
    for _ in 0..5 {
        first_word("a b");
    }
    let after = pipelinescope::snapshot();
    let expected = if cfg!(feature = "enable") { 5 } else { 0 };
    assert_eq!(calls(&after) - calls(&before), expected);
}
