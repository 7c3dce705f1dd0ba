//! A library annotated through `pipelinescope-probe` (depended on under the name
//! `pipelinescope`, without `enable`), linked into this program, which turns `enable` on through
//! the facade: the library's functions, methods, module functions and stage record into the
//! same profile as the program's own, with exact counts.

mod common;

use common::{function, stage_named};
use pipelinescope_probe_lib::{digit_sum, encode_all, evens};

#[test]
fn a_library_annotated_through_the_probe_crate_records_into_the_program_s_profile() {
    assert_eq!(encode_all(1_000), 999_000);
    assert_eq!(digit_sum("a1b22c333"), 14);
    assert_eq!(evens(0..100u64).count(), 50);

    let p = pipelinescope::snapshot();
    assert_eq!(function(&p, "Reader::new").calls, 1);
    assert_eq!(function(&p, "Reader::next_record").calls, 1_001);
    assert_eq!(function(&p, "codec::encode").calls, 1_000);
    assert_eq!(function(&p, "digit_sum").calls, 1);
    let s = stage_named("probe_lib_evens");
    assert_eq!((s.invocations, s.records_in, s.records_out), (1, 100, 50));
}
