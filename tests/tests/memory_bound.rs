//! The recorder's memory grows with functions and threads, never with calls.

macro_rules! many {
    ($($name:ident)*) => {
        $(
            #[pipelinescope::profile]
            #[inline(never)]
            fn $name(x: u64) -> u64 {
                std::hint::black_box(x).wrapping_mul(3)
            }
        )*
        fn call_all(x: u64) -> u64 {
            let mut acc = 0;
            $(acc ^= $name(x);)*
            acc
        }
    };
}

many!(m00 m01 m02 m03 m04 m05 m06 m07 m08 m09 m10 m11 m12 m13 m14 m15 m16 m17 m18 m19
      m20 m21 m22 m23 m24 m25 m26 m27 m28 m29 m30 m31 m32 m33 m34 m35 m36 m37 m38 m39
      m40 m41 m42 m43 m44 m45 m46 m47 m48 m49 m50 m51 m52 m53 m54 m55 m56 m57 m58 m59
      m60 m61 m62 m63);

#[pipelinescope::profile]
fn warm() {}

#[test]
fn bytes_grow_with_functions_not_calls() {
    // On a fresh thread, so other tests' functions do not count.
    std::thread::spawn(|| {
        warm();
        let before = pipelinescope::recorder_bytes_on_this_thread();
        std::hint::black_box(call_all(1));
        let after_one_call = pipelinescope::recorder_bytes_on_this_thread();
        for i in 0..20_000 {
            std::hint::black_box(call_all(i));
        }
        let after_many = pipelinescope::recorder_bytes_on_this_thread();
        let per_function = (after_one_call - before) as f64 / 64.0;
        println!(
            "recorder bytes per (function, thread): {per_function:.0} \
             (64 functions: {before} -> {after_one_call} bytes; after 1,280,000 more calls: {after_many})"
        );
        assert!(per_function < 8192.0, "{per_function} bytes per function");
        // More calls may only open histogram ranges never seen before (bounded per function).
        let growth = after_many - after_one_call;
        assert!(
            growth <= 64 * pipelinescope_core_hist_max(),
            "grew by {growth} bytes"
        );
        let p = pipelinescope::snapshot();
        let m = p.function("m00").expect("m00 recorded");
        assert_eq!(m.calls, 20_001);
    })
    .join()
    .unwrap();
}

/// Upper bound of one histogram's growth (all duration ranges allocated).
fn pipelinescope_core_hist_max() -> usize {
    // 256 slots below 256 ticks plus 56 ranges of 128 slots, 8 bytes each.
    (256 + 56 * 128) * 8
}
