//! The stage recorder driven directly (the macro tests drive it through `#[stage]`): the
//! published current stage, the thread's state after a panic inside a stage, and timed calls
//! recorded by the call after them.
//!
//! A lazy stage publishes itself on every record only with the `alloc` feature (the allocation
//! counts per stage need it); `scripts/test.sh` runs this file both ways.

use pipelinescope_core::profile::{StageKind, StageStats};
use pipelinescope_core::recorder::current_stage;
use pipelinescope_core::stage::{
    StageInput, StageIter, StageLink, StageSite, calibration, call, collect, stage_name,
};

static SOURCE: StageSite = StageSite::new("direct_source", "t", "f", 1, StageKind::Lazy);
static DOUBLE: StageSite = StageSite::new("direct_double", "t", "f", 2, StageKind::Lazy);
static PANICKY: StageSite = StageSite::new("direct_panicky", "t", "f", 3, StageKind::Lazy);
static AFTER: StageSite = StageSite::new("direct_after", "t", "f", 4, StageKind::Lazy);
static FOLDED: StageSite = StageSite::new("direct_folded", "t", "f", 5, StageKind::Lazy);
static FOLD_AFTER: StageSite = StageSite::new("direct_fold_after", "t", "f", 6, StageKind::Lazy);
static FOLD_OUTER: StageSite = StageSite::new("direct_fold_outer", "t", "f", 7, StageKind::Lazy);
static MOVED: StageSite = StageSite::new("direct_moved", "t", "f", 8, StageKind::Lazy);
static DROPPED: StageSite = StageSite::new("direct_dropped", "t", "f", 9, StageKind::Lazy);
static FIRST_PANICS: StageSite =
    StageSite::new("direct_first_panics", "t", "f", 10, StageKind::Lazy);
static AFTER_NEXT: StageSite = StageSite::new("direct_after_next", "t", "f", 11, StageKind::Lazy);

fn current() -> u32 {
    current_stage()
}

/// Inside a stage's iterator: the stage is published on every record with the `alloc` feature.
fn published_as(site: &'static StageSite) {
    if cfg!(feature = "alloc") {
        assert_eq!(current(), site.id());
    }
}

fn source(n: u32) -> impl Iterator<Item = u32> {
    let c = call(&SOURCE, 0);
    let it = StageIter::new(&SOURCE, (0..n).inspect(|_| published_as(&SOURCE)));
    c.finish(&());
    it
}

fn double(input: impl Iterator<Item = u32>) -> impl Iterator<Item = u32> {
    let link = StageLink::new(&DOUBLE);
    let input = StageInput::new(&link, input);
    let c = call(&DOUBLE, 0);
    let it = StageIter::with_inputs(
        &DOUBLE,
        link,
        input.map(|x| {
            published_as(&DOUBLE);
            x * 2
        }),
    );
    c.finish(&());
    it
}

#[test]
fn current_stage_is_published_and_restored() {
    let sum: u32 = double(source(2_000)).sum();
    assert_eq!(sum, 2 * (0..2_000).sum::<u32>());
    assert_eq!(current(), 0);
    assert_eq!(stage_name(DOUBLE.id()), Some("direct_double"));
    assert_eq!(stage_name(0), None);
    let (stages, edges) = collect(1_000_000_000);
    let d = named(&stages, "direct_double");
    assert_eq!((d.records_in, d.records_out), (2_000, 2_000));
    assert!(
        edges
            .iter()
            .any(|e| e.from == "direct_source" && e.to == "direct_double" && e.records == 2_000)
    );
}

#[test]
fn a_panic_inside_a_stage_leaves_the_thread_usable() {
    std::thread::spawn(|| {
        let r = std::panic::catch_unwind(|| {
            let it = StageIter::new(&PANICKY, (0..100u32).inspect(|&x| assert!(x < 5, "boom")));
            it.count()
        });
        assert!(r.is_err());
        assert_eq!(current(), 0);
        // A new outermost stage on the same thread is timed and counted normally.
        let n = StageIter::new(&AFTER, 0..300u32).count();
        assert_eq!(n, 300);
    })
    .join()
    .unwrap();
    let (stages, _) = collect(1_000_000_000);
    let p = named(&stages, "direct_panicky");
    assert_eq!((p.records_out, p.dropped_early, p.exhausted), (5, 1, 0));
    let a = named(&stages, "direct_after");
    assert_eq!((a.records_out, a.exhausted), (300, 1));
    assert_eq!(a.own_histogram.count(), 300);
    assert!(a.own_ns > 0);
}

#[test]
fn a_panic_in_the_consumer_of_a_fold_leaves_the_thread_usable() {
    std::thread::spawn(|| {
        let r = std::panic::catch_unwind(|| {
            StageIter::new(&FOLDED, 0..100u32).for_each(|x| assert!(x < 5, "boom"));
        });
        assert!(r.is_err());
        assert_eq!(current(), 0);
        // Folded through a stage input, nested in another stage: counted and timed normally.
        let link = StageLink::new(&FOLD_OUTER);
        let input = StageInput::new(&link, StageIter::new(&FOLD_AFTER, 0..300u32));
        let doubled = StageIter::with_inputs(&FOLD_OUTER, link, input.map(|x| x * 2));
        assert_eq!(doubled.fold(0u32, |n, _| n + 1), 300);
        assert_eq!(current(), 0);
    })
    .join()
    .unwrap();
    let (stages, edges) = collect(1_000_000_000);
    assert!(
        edges.iter().any(|e| e.from == "direct_fold_after"
            && e.to == "direct_fold_outer"
            && e.records == 300)
    );
    let f = named(&stages, "direct_folded");
    // Records 0 to 5 were handed out; the consumer panicked on the last.
    assert_eq!((f.records_out, f.dropped_early, f.exhausted), (6, 1, 0));
    let a = named(&stages, "direct_fold_after");
    assert_eq!((a.records_out, a.exhausted), (300, 1));
    assert_eq!(a.own_histogram.count(), 300);
    let o = named(&stages, "direct_fold_outer");
    assert_eq!((o.records_in, o.records_out, o.exhausted), (300, 300, 1));
}

fn spin(d: std::time::Duration) {
    let t = std::time::Instant::now();
    while t.elapsed() < d {
        std::hint::spin_loop();
    }
}

fn named<'a>(stages: &'a [StageStats], name: &str) -> &'a StageStats {
    stages.iter().find(|s| s.name == name).unwrap()
}

/// Records out, exhausted, dropped early, and records in the own-time histogram.
fn outcome(s: &StageStats) -> (u64, u64, u64, u64) {
    (
        s.records_out,
        s.exhausted,
        s.dropped_early,
        s.own_histogram.count(),
    )
}

/// A timed call that returns a record ends inline and is recorded by the iterator's next call,
/// or when it drops: recorded on the thread that makes that call, once.
#[test]
fn a_timed_call_is_recorded_by_the_next_call_or_the_drop() {
    let ms = std::time::Duration::from_millis(1);
    // Dropped after its first call: the drop records it.
    let mut it = StageIter::new(&DROPPED, (0..100u32).inspect(|_| spin(ms)));
    assert_eq!(it.next(), Some(0));
    drop(it);
    // Its first call on this thread, the rest on another.
    let mut it = StageIter::new(
        &MOVED,
        (0..500u32).inspect(move |&x| {
            if x == 0 {
                spin(ms)
            }
        }),
    );
    assert_eq!(it.next(), Some(0));
    let rest = std::thread::spawn(move || it.map(u64::from).sum::<u64>())
        .join()
        .unwrap();
    assert_eq!(rest, (1..500).sum::<u64>());
    let (stages, _) = collect(1_000_000_000);
    let d = named(&stages, "direct_dropped");
    assert_eq!(outcome(d), (1, 0, 1, 1));
    assert!(d.own_ns >= 990_000, "{}", d.own_ns);
    let m = named(&stages, "direct_moved");
    assert_eq!(outcome(m), (500, 1, 0, 500));
    assert!(m.own_ns >= 990_000, "{}", m.own_ns);
}

/// A call that unwinds is forgotten by the next one: the thread's timing goes on normally.
#[test]
fn a_panic_in_a_timed_next_call_leaves_the_thread_usable() {
    std::thread::spawn(|| {
        let mut it = StageIter::new(
            &FIRST_PANICS,
            (0..200u32).inspect(|&x| assert!(x != 0, "boom")),
        );
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| it.next()));
        assert!(r.is_err());
        // The stage's announcement is taken back by its next call (at once with `alloc`).
        assert_eq!(it.by_ref().count(), 199);
        assert_eq!(current(), 0);
        let mut n = 0;
        for _ in StageIter::new(&AFTER_NEXT, 0..300u32) {
            n += 1;
        }
        assert_eq!(n, 300);
        assert_eq!(current(), 0);
    })
    .join()
    .unwrap();
    let (stages, _) = collect(1_000_000_000);
    // The call that unwound counts as a call, as a record out: a wrapper cannot tell it from
    // one that returned.
    assert_eq!(
        outcome(named(&stages, "direct_first_panics")),
        (200, 1, 0, 200)
    );
    let a = named(&stages, "direct_after_next");
    assert_eq!(outcome(a), (300, 1, 0, 300));
    assert!(a.own_ns > 0);
}

/// What timing a call costs is measured once, as the first lazy stage is made: something (a
/// clock reading is not free), and far less than a microsecond per timed call or pull.
#[test]
fn timing_costs_are_calibrated() {
    assert_eq!(source(3).count(), 3);
    let c = calibration();
    eprintln!("{c:?}");
    assert!(c.ns_per_tick > 0.0, "{c:?}");
    for p in [c.next, c.fold] {
        for v in [p.call_inside_ns, p.pull_in_call_ns, p.pull_inside_ns] {
            assert!((0.0..1_000.0).contains(&v), "{c:?}");
        }
    }
    // Measured, not left at zero. Each path's figure is a difference of two lower quartiles,
    // which a loaded machine (this test runs beside others, unoptimised) can take to zero for
    // one path, not for both.
    assert!(c.next.call_inside_ns + c.fold.call_inside_ns > 0.0, "{c:?}");
}
