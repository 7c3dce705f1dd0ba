//! Behaviour of the recorder driven directly (the macro tests drive it through `#[profile]`).

use pipelinescope_core::site::{Site, SiteKind};
use pipelinescope_core::{enter, snapshot};

static OUTER: Site = Site::new("outer", "t", "f", 1, SiteKind::Sync);
static INNER: Site = Site::new("inner", "t", "f", 2, SiteKind::Sync);
static REC: Site = Site::new("rec", "t", "f", 3, SiteKind::Sync);
static THR: Site = Site::new("thr", "t", "f", 4, SiteKind::Sync);

fn spin(ns: u64) {
    let t = std::time::Instant::now();
    while (t.elapsed().as_nanos() as u64) < ns {
        std::hint::spin_loop();
    }
}

fn inner() {
    let _g = enter(&INNER);
    spin(200_000);
}

fn outer() {
    let _g = enter(&OUTER);
    spin(100_000);
    inner();
    inner();
}

fn rec(n: u32) -> u64 {
    let _g = enter(&REC);
    if n == 0 { 0 } else { 1 + rec(n - 1) }
}

#[test]
fn nested_recursive_and_threaded() {
    for _ in 0..5 {
        outer();
    }
    let p = snapshot::collect(1);
    let o = p.function("outer").unwrap();
    let i = p.function("inner").unwrap();
    assert_eq!(o.calls, 5);
    assert_eq!(i.calls, 10);
    let err = (o.self_ns + i.cumulative_ns) as f64 / o.cumulative_ns as f64 - 1.0;
    assert!(
        err.abs() < 0.01,
        "self + children vs cumulative off by {err}"
    );
    assert_eq!(i.self_ns, i.cumulative_ns);

    let t = std::time::Instant::now();
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(|| rec(10_000))
        .unwrap()
        .join()
        .unwrap();
    let wall = t.elapsed().as_nanos() as u64;
    let p = snapshot::collect(1);
    let r = p.function("rec").unwrap();
    assert_eq!(r.calls, 10_001);
    assert!(r.cumulative_ns <= wall, "{} > {}", r.cumulative_ns, wall);
    // Recursion folds into one node.
    let rec_nodes = p
        .call_tree
        .nodes
        .iter()
        .filter(|n| n.function == Some(r.id))
        .count();
    assert_eq!(rec_nodes, 1);

    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| {
                for _ in 0..100_000 {
                    let _g = enter(&THR);
                }
            });
        }
    });
    let p = snapshot::collect(1);
    assert_eq!(p.function("thr").unwrap().calls, 800_000);
    assert_eq!(p.function("thr").unwrap().histogram.count(), 800_000);
    for t in &p.threads {
        let diff = t.self_ns.abs_diff(t.root_ns);
        assert!(diff <= t.root_ns / 100 + 1_000, "{t:?}");
    }
}

#[test]
fn probe_overhead_is_measured() {
    let ns = pipelinescope_core::measure_probe_overhead();
    assert!(ns > 0.0 && ns < 100_000.0, "{ns}");
}

#[test]
fn histograms_keep_their_spread() {
    static SPREAD: Site = Site::new("spread", "t", "f", 5, SiteKind::Sync);
    for i in 0..200u64 {
        let _g = enter(&SPREAD);
        spin(1_000 + i * 500);
    }
    let p = snapshot::collect(1);
    let f = p.function("spread").unwrap();
    let q = f.percentiles;
    assert!(q.p50_ns > q.min_ns && q.p99_ns > q.p50_ns, "{q:?}");
    assert!(
        f.histogram.buckets.len() > 50,
        "{}",
        f.histogram.buckets.len()
    );
    assert!(q.p50_ns >= 40_000 && q.p50_ns <= 80_000, "{q:?}");
}

#[test]
fn since_keeps_only_what_came_after_the_baseline() {
    static EARLY: Site = Site::new("since_f", "t", "f", 6, SiteKind::Sync);
    static LATE: Site = Site::new("since_g", "t", "f", 7, SiteKind::Sync);
    let f = |ns: u64| {
        let _g = enter(&EARLY);
        spin(ns);
    };
    std::thread::spawn(move || {
        for _ in 0..100 {
            f(10_000);
        }
        let base = snapshot::collect(1);
        let t = std::time::Instant::now();
        for _ in 0..50 {
            f(200_000);
            let _g = enter(&LATE);
        }
        let elapsed = t.elapsed().as_nanos() as f64;
        let now = snapshot::collect(1);
        let d = now.since(&base);
        let ff = d.function("since_f").unwrap();
        assert_eq!(ff.calls, 50);
        assert_eq!(ff.histogram.count(), 50);
        assert!(ff.percentiles.p50_ns >= 190_000, "{:?}", ff.percentiles);
        assert!(ff.percentiles.min_ns >= 190_000, "{:?}", ff.percentiles);
        assert!(ff.percentiles.mean_ns >= 190_000.0, "{:?}", ff.percentiles);
        // The 50 later calls and none of the earlier ones: at least their spins, and no more
        // than the time they ran in (a bound that preemption on a busy machine cannot break).
        assert!(ff.cumulative_ns >= 50 * 200_000, "{}", ff.cumulative_ns);
        assert!(
            ff.cumulative_ns as f64 <= elapsed * 1.02,
            "{} in {elapsed} ns",
            ff.cumulative_ns
        );
        assert_eq!(d.function("since_g").unwrap().calls, 50);
        let node_calls: u64 = d
            .call_tree
            .nodes
            .iter()
            .filter(|n| n.function == Some(ff.id))
            .map(|n| n.calls)
            .sum();
        assert_eq!(node_calls, 50);
        for n in &d.call_tree.nodes {
            for &c in &n.children {
                assert_eq!(d.call_tree.nodes[c as usize].parent, Some(n.id));
            }
        }
        // Nothing new: an empty difference.
        let again = snapshot::collect(1).since(&now);
        assert!(again.function("since_f").is_none());
    })
    .join()
    .unwrap();
}
