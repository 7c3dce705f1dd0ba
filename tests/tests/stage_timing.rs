//! `#[stage]` timing semantics: own time, upstream time, downstream wait, threads.

mod common;

use common::{edge_records, spin, stage_named};
use pipelinescope::stage;
use std::time::{Duration, Instant};

/// These tests compare wall-clock intervals; run in parallel they would spin against each other
/// on a small machine, and a preempted thread charges the wait to whatever interval is open.
/// They take turns.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Takes the turn, after the process's one-time measurement of what timing a stage costs has
/// run: it runs on the thread of the first stage made, and a test that reads its thread's CPU
/// time would otherwise count it (70 ms in a debug build) against its stages.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    let turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    assert_eq!(warm_up(0..3).count(), 3);
    turn
}

#[stage("warm_up")]
fn warm_up(input: std::ops::Range<u32>) -> impl Iterator<Item = u32> {
    input
}

#[stage("sum_gen")]
fn gen_slow(n: u32) -> impl Iterator<Item = u32> {
    (0..n).inspect(|_| spin(Duration::from_micros(20)))
}

#[stage("sum_work")]
fn work(input: impl Iterator<Item = u32>) -> impl Iterator<Item = u32> {
    input.inspect(|_| spin(Duration::from_micros(40)))
}

#[stage("sum_sink")]
fn sink(records: &[u32]) -> Vec<u32> {
    spin(Duration::from_millis(5));
    records.to_vec()
}

/// CPU time of the calling thread: unlike wall time, it does not grow while the thread waits
/// for a core that other tests hold.
fn thread_cpu_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0);
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

#[test]
fn own_times_add_up_to_the_wall_time() {
    let _turn = serial();
    let t = Instant::now();
    let cpu0 = thread_cpu_ns();
    let v: Vec<u32> = work(gen_slow(500)).collect();
    let out = sink(&v);
    let cpu = thread_cpu_ns() - cpu0;
    let wall = t.elapsed().as_nanos() as u64;
    assert_eq!(out.len(), 500);
    let g = stage_named("sum_gen");
    let w = stage_named("sum_work");
    let s = stage_named("sum_sink");
    let sum = g.own_ns + w.own_ns + s.own_ns;
    assert!(
        sum as f64 <= wall as f64 * 1.02,
        "own times {sum} exceed wall {wall}"
    );
    // The stages do nearly all the work: their own times cover most of the time the thread
    // ran (its CPU time: wall time would also count waits for a core held by other tests).
    assert!(
        sum as f64 >= cpu as f64 * 0.9,
        "own {sum} vs thread CPU {cpu}"
    );
    // Each stage gets its own work, not its upstream's: 20 us, 40 us per record and 5 ms.
    // Medians, which preemption by other tests running at the same time does not move. The
    // histogram resolves values to 1% (two significant digits), so a median can read up to 1%
    // under the time spun (seen: 39,935 ns for a 40 us spin).
    let (gp, wp) = (g.own_per_record.p50_ns, w.own_per_record.p50_ns);
    assert!((19_800..26_000).contains(&gp), "gen p50 {gp}");
    assert!((39_600..50_000).contains(&wp), "work p50 {wp}");
    // (Half a percent of margin: the stage clock and the `Instant` the spin reads are
    // calibrated apart.)
    assert!(s.own_ns >= 4_975_000, "{}", s.own_ns);
    // The generator's active time (from its first call to its last) is its own time plus
    // the wait for its consumer: the 500 records of 20 + 40 us, within the run.
    let active = g.own_ns + g.upstream_ns + g.downstream_wait_ns;
    assert!(
        (500 * 60_000..=wall).contains(&active),
        "gen own {} wait {} wall {wall}",
        g.own_ns,
        g.downstream_wait_ns
    );
    // Work's upstream time is the generator's time.
    let up = w.upstream_ns as f64 / g.own_ns as f64;
    assert!((0.95..1.5).contains(&up), "upstream/gen own {up}");
    // One histogram value per record, summing to (about) the own time.
    assert_eq!(w.own_histogram.count(), 500);
    let mean_err = (w.own_per_record.mean_ns * 500.0 / w.own_ns as f64 - 1.0).abs();
    assert!(mean_err < 0.02, "{mean_err}");
    // The bottleneck is the stage with the most own time in the whole profile (other tests'
    // stages included), and there is exactly one.
    let p = pipelinescope::snapshot();
    let biggest = p.stages.iter().max_by_key(|s| s.own_ns).unwrap();
    assert!(biggest.is_bottleneck);
    assert_eq!(p.stages.iter().filter(|s| s.is_bottleneck).count(), 1);
    let share: f64 = p.stages.iter().map(|s| s.share_of_pipeline).sum();
    assert!((share - 1.0).abs() < 1e-9);
    assert!(w.amdahl_if_free > w.amdahl_if_2x && w.amdahl_if_2x > 1.0);
}

#[stage("wait_fast_source")]
fn fast_source(n: u32) -> impl Iterator<Item = u32> {
    0..n
}

#[test]
fn slow_consumer_shows_as_downstream_wait() {
    let _turn = serial();
    let t = Instant::now();
    let mut n = 0;
    for _ in fast_source(200) {
        spin(Duration::from_micros(100));
        n += 1;
    }
    let wall = t.elapsed().as_nanos() as u64;
    assert_eq!(n, 200);
    let s = stage_named("wait_fast_source");
    // 200 gaps between a record out and the next request (the last record is followed by the
    // final `next` that returns None), each at least the 100 us spin, and all of them inside
    // the loop: the wait is the consumer's time, neither less nor more. (One gap of margin:
    // the stage clock and `Instant` are calibrated apart.)
    assert!(
        s.downstream_wait_ns >= 199 * 100_000,
        "{}",
        s.downstream_wait_ns
    );
    assert!(
        s.downstream_wait_ns + s.own_ns <= wall,
        "wait {} own {} wall {wall}",
        s.downstream_wait_ns,
        s.own_ns
    );
    // None of the consumer's 100 us reaches the stage's own time. Judged per record, at the
    // median: a loaded machine may preempt a handful of the 201 `next` calls for milliseconds,
    // which moves the sum but not the typical record. A record whose wait leaked into its own
    // time would read 100 us or more; the bound is a tenth of that, because an unoptimised
    // build's own time for a trivial record is about 1 us and twice that under load.
    assert!(
        s.own_per_record.p50_ns * 10 < 100_000,
        "own {} wait {} per record {:?}",
        s.own_ns,
        s.downstream_wait_ns,
        s.own_per_record
    );
}

#[stage("plain_upstream_consumer")]
fn consumer(input: impl Iterator<Item = u32>) -> impl Iterator<Item = u32> {
    input.filter(|x| x % 2 == 0)
}

#[test]
fn unstaged_upstream_work_is_not_own_time() {
    let _turn = serial();
    let expensive = (0..300u32).inspect(|_| spin(Duration::from_micros(30)));
    let kept = consumer(expensive).count();
    assert_eq!(kept, 150);
    let s = stage_named("plain_upstream_consumer");
    assert_eq!((s.records_in, s.records_out), (300, 150));
    assert!(s.upstream_ns >= 300 * 30_000, "{}", s.upstream_ns);
    assert!(
        s.own_ns * 20 < s.upstream_ns,
        "own {} upstream {}",
        s.own_ns,
        s.upstream_ns
    );
    // Two upstream records per record out, both charged to upstream: the per-record own time
    // stays small (p90: a preemption by a concurrently running test may land in own time).
    assert!(s.own_per_record.p90_ns < 30_000, "{:?}", s.own_per_record);
}

#[stage("mt_source")]
fn mt_source(n: u64) -> impl Iterator<Item = u64> {
    0..n
}

#[stage("mt_odd")]
fn mt_odd(input: impl Iterator<Item = u64>) -> impl Iterator<Item = u64> {
    input.filter(|x| x % 2 == 1)
}

#[stage("mt_eager")]
fn mt_eager(records: &Vec<u64>) -> Vec<u64> {
    records.iter().map(|x| x + 1).collect()
}

#[test]
fn threads_aggregate_exactly() {
    let _turn = serial();
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| {
                for _ in 0..10 {
                    let v: Vec<u64> = mt_odd(mt_source(10_000)).collect();
                    assert_eq!(mt_eager(&v).len(), 5_000);
                }
            });
        }
    });
    // An iterator made on one thread and drained on another still counts.
    let it = mt_odd(mt_source(100));
    let n = std::thread::spawn(move || it.count()).join().unwrap();
    assert_eq!(n, 50);
    let src = stage_named("mt_source");
    let odd = stage_named("mt_odd");
    let e = stage_named("mt_eager");
    assert_eq!(src.invocations, 81);
    assert_eq!(src.records_out, 800_100);
    assert_eq!((odd.records_in, odd.records_out), (800_100, 400_050));
    assert_eq!(odd.exhausted, 81);
    // Sampled records stand for the records out since the previous sample, and the records
    // after the last sample are held at its value: the histogram counts every record out.
    assert_eq!(odd.own_histogram.count(), odd.records_out);
    assert_eq!(
        (e.records_in, e.records_out, e.invocations),
        (400_000, 400_000, 80)
    );
    assert_eq!(edge_records("mt_source", "mt_odd"), Some(800_100));
}

#[stage("cold_start")]
fn cold_start(n: u32) -> impl Iterator<Item = u32> {
    (0..n).inspect(|&i| {
        if i == 0 {
            spin(Duration::from_millis(20));
        }
    })
}

#[test]
fn a_slow_first_record_is_charged_once() {
    let _turn = serial();
    // 5,000 records: the first 1,024 `next` calls are timed, about one in 16 after that. The
    // 20 ms of the first record must not be scaled up to the untimed calls (that would make
    // about 80 ms).
    let n = std::thread::spawn(|| cold_start(5_000).count())
        .join()
        .unwrap();
    assert_eq!(n, 5_000);
    let s = stage_named("cold_start");
    assert_eq!(s.records_out, 5_000);
    let own_ms = s.own_ns as f64 / 1e6;
    // (From 19.9: the stage clock and the `Instant` the spin reads are calibrated apart.)
    assert!((19.9..45.0).contains(&own_ms), "{own_ms} ms");
}

#[stage("regime_change")]
fn regime_change(n: u32) -> impl Iterator<Item = u32> {
    // 20,000 cheap records, sampled at the longest interval (`MAX_GAP` calls), then 20,000
    // records of 2 us each: the first sample in the new regime must shorten the interval, and
    // the sampled ones must not be taken for outliers against the cheap mean.
    (0..n).inspect(|&i| {
        if i >= 20_000 {
            spin(Duration::from_micros(2))
        }
    })
}

#[test]
fn sampled_estimate_follows_a_change_of_regime() {
    let _turn = serial();
    let n = regime_change(40_000).count();
    assert_eq!(n, 40_000);
    let s = stage_named("regime_change");
    let truth = 20_000 * 2_000u64;
    let own = s.own_ns;
    assert!(
        own as f64 >= truth as f64 * 0.75 && own as f64 <= truth as f64 * 2.0,
        "own {own} ns against about {truth} ns of work"
    );
}

// ---- sampled timing against known work ------------------------------------------------------

/// `k` rounds of a dependent multiply-add: work of a known, steady cost per record, which the
/// compiler cannot fold away or overlap with the next record's.
#[inline(always)]
fn burn(mut x: u64, k: u32) -> u64 {
    for _ in 0..k {
        x = std::hint::black_box(
            x.wrapping_mul(0x5851_F42D_4C95_7F2D)
                .wrapping_add(0x1405_7B7E_F767_814F),
        );
    }
    x
}

/// Rounds of [`burn`] of the four known-cost stages: about 8, 25, 130 and 700 ns a record on the
/// machine the tests were written on (each is measured bare in the test).
const KNOWN: [u32; 4] = [4, 16, 100, 550];
const KNOWN_RECORDS: u64 = 50_000;

#[stage("known_0")]
fn known_source(n: u64) -> impl Iterator<Item = u64> {
    (0..n).map(|i| burn(i, KNOWN[0]))
}

#[stage("known_1")]
fn known_1(input: impl Iterator<Item = u64>) -> impl Iterator<Item = u64> {
    input.map(|x| burn(x, KNOWN[1]))
}

#[stage("known_2")]
fn known_2(input: impl Iterator<Item = u64>) -> impl Iterator<Item = u64> {
    input.map(|x| burn(x, KNOWN[2]))
}

#[stage("known_3")]
fn known_3(input: impl Iterator<Item = u64>) -> impl Iterator<Item = u64> {
    input.map(|x| burn(x, KNOWN[3]))
}

/// Nanoseconds per record of `k` rounds of [`burn`], bare: the best of a few runs over as many
/// records as the staged pipeline sees.
fn bare_ns_per_record(k: u32) -> f64 {
    (0..5)
        .map(|_| {
            let t = Instant::now();
            let mut acc = 0u64;
            for i in 0..KNOWN_RECORDS {
                acc ^= burn(i ^ acc, k);
            }
            std::hint::black_box(acc);
            t.elapsed().as_nanos() as f64 / KNOWN_RECORDS as f64
        })
        .fold(f64::INFINITY, f64::min)
}

/// Nanoseconds per record of the four known-cost steps chained as the staged pipeline chains
/// them, without stages: the best of a few runs.
fn bare_chain_ns_per_record() -> f64 {
    (0..5)
        .map(|_| {
            let t = Instant::now();
            let mut acc = 0u64;
            let chain = (0..KNOWN_RECORDS)
                .map(|i| burn(i, KNOWN[0]))
                .map(|x| burn(x, KNOWN[1]))
                .map(|x| burn(x, KNOWN[2]))
                .map(|x| burn(x, KNOWN[3]));
            for x in chain {
                acc ^= x;
            }
            std::hint::black_box(acc);
            t.elapsed().as_nanos() as f64 / KNOWN_RECORDS as f64
        })
        .fold(f64::INFINITY, f64::min)
}

/// Own time per record of each stage of a four-stage pipeline of known work, drained by a `for`
/// loop, against the same work timed bare: sampled timing must not charge a stage what timing
/// costs. (A stage timed on a sampled call stands for the calls since the last one; were timed
/// calls dearer than the others, every stage would be inflated by that difference.)
#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "timing figures are checked on optimised builds"
)]
fn known_work_is_measured_as_it_costs() {
    let _turn = serial();
    let truth: Vec<f64> = KNOWN.iter().map(|&k| bare_ns_per_record(k)).collect();
    let names = ["known_0", "known_1", "known_2", "known_3"];
    let before: Vec<u64> = names.iter().map(|n| own_or_zero(n)).collect();
    let rounds = 3;
    let wall = Instant::now();
    for _ in 0..rounds {
        let mut acc = 0u64;
        for x in known_3(known_2(known_1(known_source(KNOWN_RECORDS)))) {
            acc ^= x;
        }
        std::hint::black_box(acc);
    }
    let records = (rounds * KNOWN_RECORDS) as f64;
    let wall = wall.elapsed().as_nanos() as f64 / records;
    let cal = pipelinescope::snapshot().meta.stage_probe;
    let mut report = format!(
        "taken off a timed call: {:.1} ns, a timed pull in it {:.1} ns, inside the pull {:.1} ns\n",
        cal.next.call_inside_ns, cal.next.pull_in_call_ns, cal.next.pull_inside_ns
    );
    let mut bad = Vec::new();
    let (mut own_sum, mut truth_sum) = (0.0, 0.0);
    for (i, name) in names.iter().enumerate() {
        let own = (stage_named(name).own_ns - before[i]) as f64 / records;
        report += &format!("{name}: own {own:.1} ns a record, bare {:.1}\n", truth[i]);
        own_sum += own;
        truth_sum += truth[i];
        // Not above the truth by more than 30% and 4 ns: timing is not charged to the stage.
        // Nor under half of it less 30 ns: what is taken off for timing is known to about
        // 25 ns a record. (The timing code's real cost moves by 10 ns or so from one process to
        // the next, with where its data lands, and the calibration reads the calibration
        // stage's code, not this stage's: 6.6 to 26.7 ns were seen for the 22 ns stage over
        // twenty processes on a 2-core VM, and 0.8 once.)
        if own > truth[i] * 1.3 + 4.0 || own < truth[i] * 0.5 - 30.0 {
            bad.push(*name);
        }
    }
    // The pipeline as a whole, where the per-stage errors are small against the work. (Within
    // 30% either way: the staged pipeline ran 10-17% slower than the same steps chained bare
    // in one build of this test and as fast in the next, the only change being in code the
    // pipeline does not run: it moves with where code and data land.)
    let chained = bare_chain_ns_per_record();
    report += &format!(
        "all stages: own {own_sum:.1} ns a record, wall {wall:.1}, bare {truth_sum:.1}, chained bare {chained:.1}\n"
    );
    if !(0.7..=1.3).contains(&(own_sum / truth_sum)) {
        bad.push("all stages");
    }
    eprint!("{report}");
    assert!(bad.is_empty(), "{bad:?} off the truth:\n{report}");
}

fn own_or_zero(name: &str) -> u64 {
    pipelinescope::snapshot()
        .stages
        .iter()
        .find(|s| s.name == name)
        .map_or(0, |s| s.own_ns)
}

#[stage("trivial_0")]
fn trivial_source(n: u64) -> impl Iterator<Item = u64> {
    0..n
}

#[stage("trivial_1")]
fn trivial_1(input: impl Iterator<Item = u64>) -> impl Iterator<Item = u64> {
    input.map(|x| x ^ 1)
}

#[stage("trivial_2")]
fn trivial_2(input: impl Iterator<Item = u64>) -> impl Iterator<Item = u64> {
    input.map(|x| x ^ 2)
}

#[stage("trivial_3")]
fn trivial_3(input: impl Iterator<Item = u64>) -> impl Iterator<Item = u64> {
    input.map(|x| x ^ 3)
}

/// Stages that do almost nothing, where what a timed call costs is all there is to see: their
/// own times add up to no more than the pipeline's wall time, and none is charged more than a
/// few nanoseconds a record. (With a timed call charged its readings, the stages with an input
/// came out at 10 to 20 ns a record each, together twice the wall time.)
#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "timing figures are checked on optimised builds"
)]
fn trivial_stages_are_not_charged_for_their_timing() {
    let _turn = serial();
    let n = 1_000_000u64;
    let t = Instant::now();
    let mut acc = 0u64;
    for x in trivial_3(trivial_2(trivial_1(trivial_source(n)))) {
        acc ^= std::hint::black_box(x);
    }
    let wall = t.elapsed().as_nanos() as u64;
    std::hint::black_box(acc);
    let own: Vec<u64> = ["trivial_0", "trivial_1", "trivial_2", "trivial_3"]
        .iter()
        .map(|name| stage_named(name).own_ns)
        .collect();
    let sum: u64 = own.iter().sum();
    let report = format!("own {own:?} ns, sum {sum} ns, wall {wall} ns over {n} records");
    eprintln!("{report}");
    assert!(sum as f64 <= wall as f64 * 1.02, "{report}");
    assert!(own.iter().all(|&o| o < 12 * n), "{report}");
}

/// The lecture's sensor pipeline, with a rolling window of 200, as stages named after `$m`.
macro_rules! sensor_rep {
    ($m:ident, $g:tt, $t:tt, $n:tt, $r:tt) => {
        mod $m {
            use pipelinescope::stage;
            use std::collections::VecDeque;

            pub const NAMES: [&str; 4] = [$g, $t, $n, $r];

            struct Rng(u64);

            impl Rng {
                fn unit(&mut self) -> f64 {
                    self.0 ^= self.0 >> 12;
                    self.0 ^= self.0 << 25;
                    self.0 ^= self.0 >> 27;
                    let r = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D);
                    ((r >> 11) + 1) as f64 / (1u64 << 53) as f64
                }
                fn gauss(&mut self) -> f64 {
                    let (u1, u2) = (self.unit(), self.unit());
                    50.0 + 15.0 * (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
                }
            }

            #[stage($g)]
            fn generate(n: usize) -> impl Iterator<Item = (u64, f64)> {
                let mut rng = Rng(0x5EED_2026);
                (0..n).map(move |i| (i as u64, rng.gauss()))
            }

            #[stage($t)]
            fn threshold(
                records: impl Iterator<Item = (u64, f64)>,
            ) -> impl Iterator<Item = (u64, f64)> {
                records.filter(|r| (20.0..=80.0).contains(&r.1))
            }

            #[stage($n)]
            fn normalize(
                records: impl Iterator<Item = (u64, f64)>,
            ) -> impl Iterator<Item = (u64, f64)> {
                records.map(|(i, v)| (i, (v - 20.0) / 60.0))
            }

            #[stage($r)]
            fn rolling(
                records: impl Iterator<Item = (u64, f64)>,
            ) -> impl Iterator<Item = (u64, f64, f64)> {
                let mut win: VecDeque<f64> = VecDeque::with_capacity(200);
                records.map(move |(i, v)| {
                    if win.len() == 200 {
                        win.pop_front();
                    }
                    win.push_back(v);
                    let n = win.len() as f64;
                    let mean = win.iter().sum::<f64>() / n;
                    let var = win.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
                    (i, mean, var)
                })
            }

            /// Runs the pipeline drained by a `for` loop; its wall time in ns.
            pub fn run() -> u64 {
                let t = std::time::Instant::now();
                let mut acc = 0.0;
                for (_, mean, var) in rolling(normalize(threshold(generate(50_000)))) {
                    acc += mean + var;
                }
                std::hint::black_box(acc);
                t.elapsed().as_nanos() as u64
            }
        }
    };
}

sensor_rep!(
    sensor_a,
    "sensor_a/generate",
    "sensor_a/threshold",
    "sensor_a/normalize",
    "sensor_a/rolling"
);
sensor_rep!(
    sensor_b,
    "sensor_b/generate",
    "sensor_b/threshold",
    "sensor_b/normalize",
    "sensor_b/rolling"
);
sensor_rep!(
    sensor_c,
    "sensor_c/generate",
    "sensor_c/threshold",
    "sensor_c/normalize",
    "sensor_c/rolling"
);
sensor_rep!(
    sensor_d,
    "sensor_d/generate",
    "sensor_d/threshold",
    "sensor_d/normalize",
    "sensor_d/rolling"
);

/// A run of one copy of the sensor pipeline (its wall time) and its stages' names.
type SensorRun = (fn() -> u64, [&'static str; 4]);

/// Own time is time that passed: the own times of a pipeline's stages add up to no more than
/// the pipeline's wall time, and the last stage's own and upstream time (everything inside its
/// calls) to no more either. Four runs, each with stages of its own, each asserted.
#[test]
fn sensor_stages_own_no_more_than_the_wall_time() {
    let _turn = serial();
    let runs: [SensorRun; 4] = [
        (sensor_a::run, sensor_a::NAMES),
        (sensor_b::run, sensor_b::NAMES),
        (sensor_c::run, sensor_c::NAMES),
        (sensor_d::run, sensor_d::NAMES),
    ];
    let mut report = String::new();
    let mut bad = false;
    for (run, names) in runs {
        let wall = run();
        let stages: Vec<_> = names.iter().map(|n| stage_named(n)).collect();
        let own: u64 = stages.iter().map(|s| s.own_ns).sum();
        let last = &stages[3];
        let inside = last.own_ns + last.upstream_ns;
        report += &format!(
            "wall {wall} ns: own {:?} sum {own} ({:.1}%), last stage own + upstream {inside} \
             ({:.1}%)\n",
            stages.iter().map(|s| s.own_ns).collect::<Vec<_>>(),
            100.0 * own as f64 / wall as f64,
            100.0 * inside as f64 / wall as f64
        );
        // The same margin as above: the stage clock and `Instant` are calibrated apart.
        bad |= own as f64 > wall as f64 * 1.02 || inside as f64 > wall as f64 * 1.02;
    }
    eprint!("{report}");
    assert!(!bad, "own time beyond the wall time:\n{report}");
}
