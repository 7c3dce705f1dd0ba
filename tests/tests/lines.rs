//! What `#[profile(lines)]` records, checked by value: hits per line through loops, branches,
//! arms, early returns, `?`, panics, closures, recursion and `async fn`; time per line against
//! the function's.

mod common;

use common::function;
use pipelinescope::{FunctionLines, LineStats, Profile, profile};
use std::hint::black_box;
use std::time::Duration;

/// The line table of `name`.
fn table(p: &Profile, name: &str) -> FunctionLines {
    let mut t = p.lines.iter().filter(|l| l.function == name);
    let row = t
        .next()
        .unwrap_or_else(|| panic!("no line table for {name:?}"))
        .clone();
    assert!(t.next().is_none(), "two line tables for {name:?}");
    row
}

/// The row of the one line of `t` whose source contains `text` (a line nobody ran has no row:
/// zero hits).
fn line(t: &FunctionLines, text: &str) -> LineStats {
    let n = (t.first_line..t.first_line + t.source.lines().count() as u32)
        .filter(|&n| t.source_line(n).is_some_and(|s| s.contains(text)))
        .collect::<Vec<_>>();
    assert_eq!(n.len(), 1, "{text:?} on lines {n:?} of\n{}", t.source);
    t.lines
        .iter()
        .find(|l| l.line == n[0])
        .cloned()
        .unwrap_or(LineStats {
            line: n[0],
            ..LineStats::default()
        })
}

fn hits(t: &FunctionLines, text: &str) -> u64 {
    line(t, text).hits
}

// ---- hits through a loop and a branch -------------------------------------------------------

#[profile(lines)]
fn branches(n: u64) -> u64 {
    let mut taken = 0;
    for i in 0..n {
        if black_box(i) % 4 == 0 {
            taken += 1;
        }
    }
    let mut k = 0;
    while k < 10 {
        k += 1;
    }
    taken + k
}

#[test]
fn a_loop_and_a_branch_count_exactly() {
    assert_eq!(branches(1_000), 260);
    let p = pipelinescope::snapshot();
    let t = table(&p, "branches");
    // The `fn` line counts the calls.
    assert_eq!(hits(&t, "fn branches"), 1);
    assert_eq!(hits(&t, "let mut taken"), 1);
    // A loop's line counts its entry and each iteration, as line_profiler's does.
    assert_eq!(hits(&t, "for i in"), 1_001);
    assert_eq!(hits(&t, "if black_box"), 1_000);
    assert_eq!(hits(&t, "taken += 1"), 250);
    // A `while` line counts each test of its condition.
    assert_eq!(hits(&t, "while k < 10"), 11);
    assert_eq!(hits(&t, "k += 1"), 10);
    assert_eq!(hits(&t, "taken + k"), 1);
    let f = function(&p, "branches");
    assert_eq!(f.calls, 1);
    assert!(
        t.total_ns <= f.cumulative_ns,
        "{} > {}",
        t.total_ns,
        f.cumulative_ns
    );
}

// ---- time: the slow line holds the function's time ------------------------------------------

#[profile(lines)]
fn sleeper() -> u64 {
    let a = black_box(3u64);
    std::thread::sleep(Duration::from_millis(20));
    black_box(a * 2)
}

#[test]
fn a_sleeping_line_holds_the_time() {
    assert_eq!(sleeper(), 6);
    let p = pipelinescope::snapshot();
    let t = table(&p, "sleeper");
    let f = function(&p, "sleeper");
    let sleep = line(&t, "thread::sleep");
    assert!(sleep.time_ns >= 20_000_000, "{sleep:?}");
    assert!(
        sleep.time_ns as f64 >= 0.95 * f.cumulative_ns as f64,
        "sleep line {} of {}",
        sleep.time_ns,
        f.cumulative_ns
    );
    assert!(t.lines.iter().all(|l| l.time_ns <= f.cumulative_ns));
    assert!(t.total_ns <= f.cumulative_ns);
    assert!(t.share(&sleep) >= 0.95);
}

// ---- early returns, `?`, match arms, panics ---------------------------------------------------

#[profile(lines)]
fn parse_sum(items: &[&str]) -> Result<u64, std::num::ParseIntError> {
    let mut sum = 0;
    for s in items {
        let v: u64 = s.parse()?;
        if v == 0 {
            return Ok(sum);
        }
        sum += v;
    }
    Ok(sum)
}

#[profile(lines)]
fn classify(v: u32) -> &'static str {
    match v % 3 {
        0 => "zero",
        1 => {
            let s = "one";
            s
        }
        _ => "two",
    }
}

#[profile(lines)]
fn may_panic(v: u32) -> u32 {
    let w = v + 1;
    if v == 3 {
        panic!("three");
    }
    w
}

#[test]
fn early_exits_and_arms() {
    assert_eq!(parse_sum(&["1", "2", "x", "4"]).ok(), None);
    assert_eq!(parse_sum(&["1", "0", "5"]), Ok(1));
    assert_eq!(parse_sum(&["5"]), Ok(5));
    for v in 0..30 {
        black_box(classify(v));
    }
    let quiet = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    for v in 0..6 {
        let _ = std::panic::catch_unwind(|| may_panic(v));
    }
    std::panic::set_hook(quiet);
    let p = pipelinescope::snapshot();
    let t = table(&p, "parse_sum");
    assert_eq!(hits(&t, "fn parse_sum"), 3);
    // Iterations: 3 (the third errs), 2 (the second returns), 1.
    assert_eq!(hits(&t, "let v: u64"), 6);
    assert_eq!(hits(&t, "if v == 0"), 5);
    assert_eq!(hits(&t, "return Ok(sum)"), 1);
    assert_eq!(hits(&t, "sum += v"), 4);
    assert_eq!(hits(&t, "    Ok(sum)"), 1);
    let t = table(&p, "classify");
    assert_eq!(hits(&t, "match v % 3"), 30);
    assert_eq!(hits(&t, "0 => \"zero\""), 10);
    assert_eq!(hits(&t, "1 => {"), 10);
    assert_eq!(hits(&t, "let s = \"one\""), 10);
    assert_eq!(hits(&t, "_ => \"two\""), 10);
    let t = table(&p, "may_panic");
    assert_eq!(hits(&t, "let w = v + 1"), 6);
    assert_eq!(hits(&t, "panic!(\"three\")"), 1);
    assert_eq!(hits(&t, "    w"), 5);
    let f = function(&p, "may_panic");
    assert_eq!((f.calls, f.panics), (6, 1));
}

// ---- closures and recursion: every tick on one line ------------------------------------------

#[profile(lines)]
fn with_closure(n: u64) -> u64 {
    let add = |x: u64| {
        let y = black_box(x) * 2;
        y + 1
    };
    let mut s = 0;
    for i in 0..n {
        s += add(i);
    }
    s
}

#[profile(lines)]
fn fib(n: u64) -> u64 {
    if n < 2 {
        return n;
    }
    fib(n - 1) + fib(n - 2)
}

#[test]
fn closures_and_recursion_count_on_their_lines() {
    assert_eq!(with_closure(100), 100 * 99 + 100);
    assert_eq!(fib(15), 610);
    let p = pipelinescope::snapshot();
    let t = table(&p, "with_closure");
    assert_eq!(hits(&t, "let y = black_box"), 100);
    assert_eq!(hits(&t, "y + 1"), 100);
    assert_eq!(hits(&t, "s += add(i)"), 100);
    let f = function(&p, "with_closure");
    assert!(
        t.total_ns <= f.cumulative_ns,
        "{} > {}",
        t.total_ns,
        f.cumulative_ns
    );
    let t = table(&p, "fib");
    // fib(15) makes 1,973 calls, 987 of them with n < 2.
    assert_eq!(hits(&t, "fn fib"), 1_973);
    assert_eq!(hits(&t, "if n < 2"), 1_973);
    assert_eq!(hits(&t, "return n"), 987);
    assert_eq!(hits(&t, "fib(n - 1) + fib(n - 2)"), 986);
    let f = function(&p, "fib");
    // The outermost activation's time; the lines share it without counting any tick twice.
    assert!(
        t.total_ns <= f.cumulative_ns,
        "{} > {}",
        t.total_ns,
        f.cumulative_ns
    );
}

// ---- async fn --------------------------------------------------------------------------------

#[profile(lines)]
async fn async_steps(n: u32) -> u32 {
    let mut s = 0;
    for i in 0..n {
        tokio::task::yield_now().await;
        s += i;
    }
    s
}

#[test]
fn async_fn_lines_count() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    // The future stays `Send`: it can be spawned on a multi-threaded runtime.
    fn is_send<T: Send>(t: T) -> T {
        t
    }
    assert_eq!(rt.block_on(is_send(async_steps(10))), 45);
    let p = pipelinescope::snapshot();
    let t = table(&p, "async_steps");
    assert_eq!(hits(&t, "for i in 0..n"), 11);
    assert_eq!(hits(&t, "yield_now"), 10);
    assert_eq!(hits(&t, "s += i"), 10);
}

#[profile(lines)]
async fn async_sleeper() -> u32 {
    let a = black_box(2);
    tokio::time::sleep(Duration::from_millis(20)).await;
    a + 1
}

#[test]
fn async_lines_hold_time_inside_polls_only() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    assert_eq!(rt.block_on(async_sleeper()), 3);
    let p = pipelinescope::snapshot();
    let t = table(&p, "async_sleeper");
    let sleep = line(&t, "time::sleep");
    assert_eq!(sleep.hits, 1);
    // Suspended for 20 ms, on no line: the line holds its two polls of the timer.
    assert!(sleep.raw_time_ns < 10_000_000, "{sleep:?}");
    assert!(t.total_ns < 10_000_000, "{}", t.total_ns);
    let f = function(&p, "async_sleeper");
    assert!(f.async_stats.is_some_and(|a| a.wall_ns >= 20_000_000));
}

// ---- methods of a block ----------------------------------------------------------------------

struct Counter(u64);

#[profile(lines)]
impl Counter {
    fn bump(&mut self, by: u64) {
        for _ in 0..by {
            self.0 += 1;
        }
    }
}

#[test]
fn methods_of_a_block() {
    let mut c = Counter(0);
    c.bump(7);
    assert_eq!(c.0, 7);
    let p = pipelinescope::snapshot();
    let t = table(&p, "Counter::bump");
    assert_eq!(hits(&t, "self.0 += 1"), 7);
    assert_eq!(hits(&t, "for _ in 0..by"), 8);
}

// ---- threads: live and exited threads count once ------------------------------------------

#[profile(lines)]
fn per_thread(n: u64) -> u64 {
    let mut s = 0;
    for i in 0..n {
        s += black_box(i);
    }
    s
}

#[test]
fn exited_threads_fold_into_the_lines() {
    let handles: Vec<_> = (0..4)
        .map(|_| std::thread::spawn(|| per_thread(100)))
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), 4_950);
    }
    // And one live thread: this one.
    assert_eq!(per_thread(100), 4_950);
    let p = pipelinescope::snapshot();
    let t = table(&p, "per_thread");
    assert_eq!(hits(&t, "fn per_thread"), 5);
    assert_eq!(hits(&t, "s += black_box(i)"), 500);
    assert_eq!(hits(&t, "for i in 0..n"), 505);
    // A second snapshot reads the same: nothing counted twice, nothing lost.
    let again = table(&pipelinescope::snapshot(), "per_thread");
    assert_eq!(hits(&again, "s += black_box(i)"), 500);
}

// ---- a module: every function ------------------------------------------------------------

#[profile(lines)]
mod tally {
    pub fn count(n: u32) -> u32 {
        let mut c = 0;
        for _ in 0..n {
            c += 2;
        }
        c
    }
}

#[test]
fn every_function_of_a_module() {
    assert_eq!(tally::count(9), 18);
    let p = pipelinescope::snapshot();
    let t = table(&p, "tally::count");
    assert_eq!(hits(&t, "c += 2"), 9);
    assert_eq!(hits(&t, "for _ in 0..n"), 10);
}

#[profile]
mod shapes {
    pub struct Square(pub u32);

    #[profile(lines)]
    impl Square {
        pub fn area(&self) -> u32 {
            let s = self.0;
            s * s
        }
    }

    pub fn plain(x: u32) -> u32 {
        x + 1
    }
}

#[test]
fn lines_on_a_block_inside_a_profiled_module() {
    assert_eq!(shapes::Square(3).area(), 9);
    assert_eq!(shapes::plain(1), 2);
    let p = pipelinescope::snapshot();
    let t = table(&p, "shapes::Square::area");
    assert_eq!(hits(&t, "let s = self.0"), 1);
    // Only the block asked for lines.
    assert!(!p.lines.iter().any(|t| t.function == "shapes::plain"));
    assert_eq!(function(&p, "shapes::plain").calls, 1);
}
