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
