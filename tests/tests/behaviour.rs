//! What `#[profile]` records, checked by value: counts, self and cumulative times, nesting,
//! recursion, threads, panics, early returns and names.

mod common;

use common::{assert_close, function, has_function, nodes, parent_name, spin};
use pipelinescope::profile;
use std::hint::black_box;
use std::time::{Duration, Instant};

const US: Duration = Duration::from_micros(1);

// ---- nesting: self + children = cumulative -------------------------------------------------

#[profile]
fn nest_outer() {
    spin(200 * US);
    nest_a();
    nest_b();
    nest_a();
}

#[profile]
fn nest_a() {
    spin(300 * US);
}

#[profile]
fn nest_b() {
    spin(100 * US);
    nest_c();
}

#[profile]
fn nest_c() {
    spin(150 * US);
}

#[test]
fn nested_self_plus_children_is_cumulative() {
    for _ in 0..20 {
        nest_outer();
    }
    let p = pipelinescope::snapshot();
    let (outer, a, b, c) = (
        function(&p, "nest_outer"),
        function(&p, "nest_a"),
        function(&p, "nest_b"),
        function(&p, "nest_c"),
    );
    assert_eq!((outer.calls, a.calls, b.calls, c.calls), (20, 40, 20, 20));
    assert_close(
        outer.self_ns + a.cumulative_ns + b.cumulative_ns,
        outer.cumulative_ns,
        0.01,
        "nest_outer self + children",
    );
    assert_close(
        b.self_ns + c.cumulative_ns,
        b.cumulative_ns,
        0.01,
        "nest_b self + child",
    );
    // Leaves: all their time is their own.
    assert_close(a.self_ns, a.cumulative_ns, 0.01, "nest_a self");
    // And the spins are really inside: each nest_a call spun 300 µs.
    assert!(a.cumulative_ns >= 40 * 300_000, "{}", a.cumulative_ns);
    assert!(outer.self_ns >= 20 * 200_000, "{}", outer.self_ns);
    // The same holds per call path.
    for node in &p.call_tree.nodes[1..] {
        let children: u64 = node
            .children
            .iter()
            .map(|&c| p.call_tree.nodes[c as usize].cumulative_ns)
            .sum();
        if node.function == Some(outer.id) {
            assert_close(
                node.self_ns + children,
                node.cumulative_ns,
                0.01,
                "call path",
            );
        }
    }
    let [c_node] = nodes(&p, "nest_c")[..] else {
        panic!("nest_c has one call path")
    };
    assert_eq!(parent_name(&p, c_node).as_deref(), Some("nest_b"));
}

// ---- recursion ------------------------------------------------------------------------------

#[profile]
fn rec_depth(n: u32) -> u64 {
    if n == 0 {
        0
    } else {
        black_box(1 + rec_depth(n - 1))
    }
}

#[test]
fn recursion_depth_10000_cumulative_within_wall() {
    let wall = std::thread::Builder::new()
        .name("recursion".into())
        .stack_size(256 << 20)
        .spawn(|| {
            let start = Instant::now();
            assert_eq!(rec_depth(10_000), 10_000);
            start.elapsed().as_nanos() as u64
        })
        .unwrap()
        .join()
        .unwrap();
    let p = pipelinescope::snapshot();
    let f = function(&p, "rec_depth");
    assert_eq!(f.calls, 10_001);
    assert!(f.cumulative_ns > 0);
    assert!(
        f.cumulative_ns <= wall,
        "cumulative {} > wall {wall}: recursion counted more than once",
        f.cumulative_ns
    );
    // Every activation's own time adds up to the outermost call's time.
    assert_close(f.self_ns, f.cumulative_ns, 0.01, "recursive self");
    // Recursion folds into one call path, whatever the depth.
    assert_eq!(nodes(&p, "rec_depth").len(), 1);
}

// ---- per-thread totals ----------------------------------------------------------------------

#[profile]
fn ts_root() {
    spin(100 * US);
    for _ in 0..3 {
        ts_child();
    }
}

#[profile]
fn ts_child() {
    spin(50 * US);
}

#[profile]
fn ts_other_root() {
    spin(80 * US);
}

#[test]
fn thread_self_sum_equals_root_time() {
    let (made, made_rx) = std::sync::mpsc::channel();
    let (exit, exit_rx) = std::sync::mpsc::channel::<()>();
    let worker = std::thread::Builder::new()
        .name("thread-sums".into())
        .spawn(move || {
            for _ in 0..10 {
                ts_root();
                ts_other_root();
            }
            made.send(()).unwrap();
            // Alive until its row is read.
            let _ = exit_rx.recv();
        })
        .unwrap();
    made_rx.recv().unwrap();
    let p = pipelinescope::snapshot();
    let t = p
        .threads
        .iter()
        .find(|t| t.name == "thread-sums")
        .expect("the thread's row");
    assert!(!t.finished, "the thread is alive");
    assert_eq!(t.calls, 10 + 30 + 10);
    // Once it exits its row goes, its calls stay (in the functions and the exited threads' row).
    exit.send(()).unwrap();
    worker.join().unwrap();
    let after = pipelinescope::snapshot();
    assert!(after.threads.iter().all(|t| t.name != "thread-sums"));
    let exited = after
        .threads
        .iter()
        .find(|t| t.is_exited_threads())
        .expect("the exited threads' row");
    assert!(
        exited.exited_threads >= 1 && exited.calls >= 50,
        "{exited:?}"
    );
    assert_eq!(function(&after, "ts_root").calls, 10);
    assert_eq!(function(&after, "ts_child").calls, 30);
    let (root, child, other) = (
        function(&p, "ts_root"),
        function(&p, "ts_child"),
        function(&p, "ts_other_root"),
    );
    assert_close(t.self_ns, t.root_ns, 0.001, "thread self vs root");
    assert_close(
        t.root_ns,
        root.cumulative_ns + other.cumulative_ns,
        0.001,
        "root calls' time",
    );
    assert_close(
        root.self_ns + child.self_ns + other.self_ns,
        t.root_ns,
        0.001,
        "sum of self",
    );
}

// ---- many threads: no count lost ------------------------------------------------------------

#[profile]
fn mt_tick(x: u64) -> u64 {
    black_box(x).wrapping_add(1)
}

#[test]
fn eight_threads_100k_calls_each() {
    std::thread::scope(|s| {
        for t in 0..8u64 {
            s.spawn(move || {
                let mut acc = 0;
                for i in 0..100_000 {
                    acc = mt_tick(acc ^ i ^ t);
                }
                black_box(acc);
            });
        }
    });
    let p = pipelinescope::snapshot();
    let f = function(&p, "mt_tick");
    assert_eq!(f.calls, 800_000);
    assert_eq!(f.panics, 0);
    let count: u64 = f.histogram.buckets.iter().map(|b| b.1).sum();
    assert_eq!(count, 800_000, "every call in the histogram");
}

// ---- panics ---------------------------------------------------------------------------------

#[profile]
fn pan_callee(fail: bool) -> u32 {
    spin(50 * US);
    if fail {
        panic!("deliberate panic in pan_callee");
    }
    1
}

#[profile]
fn pan_caller() -> u32 {
    let ok = pan_callee(false);
    let caught = std::panic::catch_unwind(|| pan_callee(true));
    spin(50 * US);
    ok + u32::from(caught.is_err())
}

#[profile]
fn pan_after() {}

#[test]
fn panic_counted_once_and_caller_stays_right() {
    assert_eq!(pan_caller(), 2);
    pan_after();
    let p = pipelinescope::snapshot();
    let (callee, caller) = (function(&p, "pan_callee"), function(&p, "pan_caller"));
    assert_eq!((callee.calls, callee.panics), (2, 1));
    assert_eq!((caller.calls, caller.panics), (1, 0));
    assert_close(
        caller.self_ns + callee.cumulative_ns,
        caller.cumulative_ns,
        0.01,
        "caller self + callee",
    );
    assert!(
        caller.self_ns >= 50_000,
        "the caller's own spin is its self time"
    );
    let [callee_node] = nodes(&p, "pan_callee")[..] else {
        panic!("pan_callee has one call path")
    };
    assert_eq!(parent_name(&p, callee_node).as_deref(), Some("pan_caller"));
    assert_eq!(callee_node.panics, 1);
    // The stack unwound cleanly: the next call is a root call again.
    let [after] = nodes(&p, "pan_after")[..] else {
        panic!("pan_after has one call path")
    };
    assert_eq!(parent_name(&p, after), None);
}

// ---- early return and `?` -------------------------------------------------------------------

#[profile]
fn er_early(x: i32) -> i32 {
    if x > 0 {
        return x;
    }
    spin(10 * US);
    -x
}

#[profile]
fn er_question(s: &str) -> Result<i32, std::num::ParseIntError> {
    let v: i32 = s.parse()?;
    spin(10 * US);
    Ok(v * 2)
}

#[profile]
fn er_parent() -> i32 {
    let mut sum = 0;
    for i in -5..5 {
        sum += er_early(i);
    }
    for s in ["1", "x", "2", "y"] {
        sum += er_question(s).unwrap_or(100);
    }
    sum
}

#[profile]
fn er_after() {}

#[test]
fn early_return_and_question_mark_close_once() {
    assert_eq!(er_parent(), (15 + 10) + (2 + 100 + 4 + 100));
    er_after();
    let p = pipelinescope::snapshot();
    let (parent, early, question) = (
        function(&p, "er_parent"),
        function(&p, "er_early"),
        function(&p, "er_question"),
    );
    assert_eq!((parent.calls, early.calls, question.calls), (1, 10, 4));
    assert_close(
        parent.self_ns + early.cumulative_ns + question.cumulative_ns,
        parent.cumulative_ns,
        0.01,
        "parent self + children",
    );
    for name in ["er_early", "er_question"] {
        let [node] = nodes(&p, name)[..] else {
            panic!("{name} has one call path")
        };
        assert_eq!(parent_name(&p, node).as_deref(), Some("er_parent"));
    }
    let [after] = nodes(&p, "er_after")[..] else {
        panic!("er_after has one call path")
    };
    assert_eq!(parent_name(&p, after), None, "no frame left open");
}

// ---- impl blocks: names and skip ------------------------------------------------------------

struct Basket {
    n: u32,
}

#[profile]
impl Basket {
    const PUT_LINE: u32 = line!() + 1;
    fn bk_put(&mut self) {
        self.n += 1;
    }

    #[profile(skip)]
    fn bk_skipped(&self) -> u32 {
        self.n
    }

    #[profile(name = "bk_custom")]
    fn bk_named(&self) -> u32 {
        self.n
    }

    #[allow(clippy::boxed_local)] // the receiver form is what is under test
    fn bk_boxed(self: Box<Self>) -> u32 {
        self.n
    }
}

trait Weigh {
    fn bk_weigh(&self) -> u32;

    fn bk_default(&self) -> u32 {
        self.bk_weigh() + 1
    }
}

#[profile]
impl Weigh for Basket {
    fn bk_weigh(&self) -> u32 {
        self.n * 10
    }
}

#[profile]
trait Count {
    fn bk_count(&self) -> u32;

    fn bk_count_twice(&self) -> u32 {
        self.bk_count() * 2
    }
}

impl Count for Basket {
    fn bk_count(&self) -> u32 {
        self.n
    }
}

#[test]
fn impl_methods_named_type_method_and_skip_skips() {
    let mut b = Basket { n: 0 };
    b.bk_put();
    b.bk_put();
    assert_eq!(b.bk_skipped(), 2);
    assert_eq!(b.bk_named(), 2);
    assert_eq!(b.bk_weigh(), 20);
    assert_eq!(b.bk_default(), 21);
    assert_eq!(b.bk_count_twice(), 4);
    assert_eq!(Box::new(b).bk_boxed(), 2);
    let p = pipelinescope::snapshot();
    let put = function(&p, "Basket::bk_put");
    assert_eq!(put.calls, 2);
    assert_eq!(put.line, Basket::PUT_LINE, "the line of the `fn`");
    assert!(put.file.ends_with("behaviour.rs"), "{}", put.file);
    assert!(put.module.ends_with("behaviour"), "{}", put.module);
    assert_eq!(function(&p, "bk_custom").calls, 1);
    assert_eq!(function(&p, "Basket::bk_weigh").calls, 2);
    assert_eq!(function(&p, "Basket::bk_boxed").calls, 1);
    assert_eq!(function(&p, "Count::bk_count_twice").calls, 1);
    assert!(!p.functions.iter().any(|f| f.name.contains("bk_skipped")));
    assert!(!p.functions.iter().any(|f| f.name.contains("bk_named")));
    // Not annotated: the trait's own default method and the plain impl.
    assert!(!has_function(&p, "bk_default") && !has_function(&p, "Weigh::bk_default"));
    assert!(!p.functions.iter().any(|f| f.name.ends_with("::bk_count")));
}

// ---- the annotation changes nothing ---------------------------------------------------------

fn sv_plain<T: Clone + std::fmt::Debug>(items: &[T], limit: usize) -> Result<Vec<String>, String> {
    if items.is_empty() {
        return Err("empty".into());
    }
    let n: usize = limit.to_string().parse().map_err(|_| "parse".to_string())?;
    Ok(items.iter().take(n).map(|x| format!("{x:?}")).collect())
}

#[profile]
fn sv_profiled<T: Clone + std::fmt::Debug>(
    items: &[T],
    limit: usize,
) -> Result<Vec<String>, String> {
    if items.is_empty() {
        return Err("empty".into());
    }
    let n: usize = limit.to_string().parse().map_err(|_| "parse".to_string())?;
    Ok(items.iter().take(n).map(|x| format!("{x:?}")).collect())
}

#[test]
fn profiled_functions_return_the_same_values() {
    for (items, limit) in [(vec![1, 2, 3], 2), (vec![], 1), (vec![7], 5)] {
        assert_eq!(sv_profiled(&items, limit), sv_plain(&items, limit));
    }
    assert_eq!(sv_profiled(&["a"], 0), sv_plain(&["a"], 0));
    let p = pipelinescope::snapshot();
    // One site for every instantiation of the generic function.
    assert_eq!(function(&p, "sv_profiled").calls, 4);
}
