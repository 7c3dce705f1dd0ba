//! With the `enable` feature off, annotated items compile to exactly what was written: every
//! form still compiles, behaves the same, and nothing is recorded.
#![deny(warnings)]
// The unusual forms are what is under test.
#![allow(
    clippy::multiple_bound_locations,
    clippy::needless_lifetimes,
    clippy::boxed_local
)]

use pipelinescope::profile;
use std::future::Future;
use std::pin::{Pin, pin};
use std::task::{Context, Poll, Waker};

#[profile]
fn free(x: u32) -> u32 {
    x + 1
}

#[profile(name = "renamed", crate = ::pipelinescope)]
#[must_use]
#[inline]
fn named(x: u32) -> u32 {
    x * 2
}

/// (That the size expression is not compiled at all with profiling off is a UI case,
/// `ui/pass/size_not_compiled.rs`: this file is also built with the feature on by whole-workspace
/// builds.)
#[profile(size = input.len())]
fn sized(input: &[u8]) -> usize {
    input.len()
}

#[profile]
fn generic<'a, T: ?Sized>(x: &'a T) -> &'a T
where
    T: std::fmt::Debug,
{
    x
}

#[profile]
fn early(s: &str) -> Result<u32, std::num::ParseIntError> {
    if s.is_empty() {
        return Ok(0);
    }
    let n: u32 = s.parse()?;
    Ok(n)
}

#[profile]
fn rec(n: u32) -> u32 {
    if n == 0 { 0 } else { 1 + rec(n - 1) }
}

#[profile]
unsafe fn raw(p: *const u8) -> u8 {
    unsafe { *p }
}

#[profile]
extern "C" fn c_fn(x: i32) -> i32 {
    -x
}

#[profile]
fn never() -> ! {
    panic!("never called")
}

#[profile]
fn panics() {
    panic!("deliberate");
}

#[profile]
fn iter_out(v: impl IntoIterator<Item = u8>) -> impl Iterator<Item = u8> {
    v.into_iter().map(|x| x + 1)
}

struct Thing {
    n: u32,
}

#[profile]
impl Thing {
    fn get(&self) -> u32 {
        self.n
    }
    fn set(&mut self, n: u32) {
        self.n = n;
    }
    fn take(self) -> u32 {
        self.n
    }
    fn boxed(self: Box<Self>) -> u32 {
        self.n
    }
    fn pinned(self: Pin<&mut Self>) -> u32 {
        self.n
    }
    #[profile(skip)]
    fn skipped(&self) -> u32 {
        self.n + 100
    }
    #[profile(name = "Thing::custom")]
    fn custom(&self) -> u32 {
        self.n + 1
    }
    const fn constant() -> u32 {
        5
    }
    async fn fetch(&self) -> u32 {
        self.n
    }
}

trait Area {
    fn side(&self) -> u32;

    #[profile]
    fn area(&self) -> u32 {
        self.side() * self.side()
    }
}

#[profile]
trait Twice {
    fn one(&self) -> u32;

    fn two(&self) -> u32 {
        self.one() * 2
    }

    #[profile(skip)]
    fn three(&self) -> u32 {
        self.one() * 3
    }
}

#[profile]
impl Area for Thing {
    fn side(&self) -> u32 {
        self.n
    }
}

impl Twice for Thing {
    fn one(&self) -> u32 {
        self.n
    }
}

#[profile]
async fn async_parse(s: &str) -> Result<u32, std::num::ParseIntError> {
    let n: u32 = s.parse()?;
    Ok(n)
}

#[pipelinescope::main]
fn app_main() -> u32 {
    7
}

#[pipelinescope::main(crate = pipelinescope)]
async fn async_app_main() -> u32 {
    8
}

/// Generates a function inside the profiled module.
macro_rules! make_fn {
    ($name:ident) => {
        pub fn $name() -> u32 {
            7
        }
    };
}

/// A whole module: without the feature it compiles as written, its markers removed (they would
/// not even resolve here, since nothing in the module imports `profile`).
#[profile(name = "stages")]
mod pipeline {
    pub fn parse(s: &str) -> Option<u32> {
        s.parse().ok()
    }

    #[profile(skip)]
    pub fn skipped() -> u32 {
        9
    }

    #[pipelinescope::profile(name = "custom")]
    pub fn named() -> u32 {
        3
    }

    pub const fn constant() -> u32 {
        5
    }

    make_fn!(generated);

    pub struct Reader {
        pub n: u32,
    }

    #[profile(skip)]
    impl Reader {
        pub fn get(&self) -> u32 {
            self.n
        }
        #[profile]
        pub fn set(&mut self, n: u32) {
            self.n = n;
        }
    }

    pub trait Source {
        fn pull(&self) -> u32;
        fn twice(&self) -> u32 {
            self.pull() * 2
        }
    }

    impl Source for Reader {
        fn pull(&self) -> u32 {
            self.n
        }
    }

    pub mod io {
        pub async fn open(path: &str) -> usize {
            path.len()
        }
    }
}

/// Polls a future that never waits on anything external to completion.
fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

#[test]
fn every_form_behaves_as_written_and_nothing_is_recorded() {
    assert!(!pipelinescope::is_recording());
    assert_eq!(free(1), 2);
    assert_eq!(named(2), 4);
    assert_eq!(sized(b"abc"), 3);
    assert_eq!(generic("s"), "s");
    assert_eq!(early(""), Ok(0));
    assert_eq!(early("12"), Ok(12));
    assert!(early("x").is_err());
    assert_eq!(rec(100), 100);
    assert_eq!(unsafe { raw(&3) }, 3);
    assert_eq!(c_fn(4), -4);
    let _: fn() -> ! = never;
    assert!(std::panic::catch_unwind(panics).is_err());
    assert_eq!(iter_out([1, 2]).collect::<Vec<_>>(), vec![2, 3]);

    let mut t = Thing { n: 1 };
    t.set(3);
    assert_eq!(t.get(), 3);
    assert_eq!(t.skipped(), 103);
    assert_eq!(t.custom(), 4);
    assert_eq!(Thing::constant(), 5);
    assert_eq!(Pin::new(&mut t).pinned(), 3);
    assert_eq!(block_on(t.fetch()), 3);
    assert_eq!(t.area(), 9);
    assert_eq!(t.two(), 6);
    assert_eq!(t.three(), 9);
    assert_eq!(Box::new(Thing { n: 2 }).boxed(), 2);
    assert_eq!(t.take(), 3);

    assert_eq!(block_on(async_parse("5")), Ok(5));
    assert!(block_on(async_parse("z")).is_err());
    assert_eq!(app_main(), 7);
    assert_eq!(block_on(async_app_main()), 8);

    let p = pipelinescope::snapshot();
    assert!(p.functions.is_empty(), "{:?}", p.functions);
    assert!(p.threads.is_empty());
    assert!(p.call_tree.nodes.len() <= 1);
}

#[test]
fn a_profiled_module_behaves_as_written_and_nothing_is_recorded() {
    use pipeline::Source;
    assert_eq!(pipeline::parse("4"), Some(4));
    assert_eq!(pipeline::skipped(), 9);
    assert_eq!(pipeline::named(), 3);
    assert_eq!(pipeline::constant(), 5);
    assert_eq!(pipeline::generated(), 7);
    let mut r = pipeline::Reader { n: 1 };
    r.set(2);
    assert_eq!((r.get(), r.pull(), r.twice()), (2, 2, 4));
    assert_eq!(block_on(pipeline::io::open("a.csv")), 5);
    assert!(pipelinescope::snapshot().functions.is_empty());
}

#[profile(lines)]
fn lines_off(n: u32) -> u32 {
    let mut s = 0;
    for i in 0..n {
        s += i;
    }
    s
}

#[profile(lines)]
async fn lines_off_async(x: u32) -> u32 {
    std::future::ready(x).await + 1
}

#[test]
fn lines_compile_as_written_and_record_nothing() {
    assert_eq!(lines_off(10), 45);
    assert_eq!(block_on(lines_off_async(1)), 2);
    let p = pipelinescope::snapshot();
    assert!(p.lines.is_empty() && p.functions.is_empty());
}

#[test]
fn a_library_annotated_through_the_probe_crate_runs_as_written_and_records_nothing() {
    use pipelinescope_probe_lib::{digit_sum, encode_all, evens};
    assert_eq!(encode_all(10), 90);
    assert_eq!(digit_sum("7x8"), 15);
    assert_eq!(evens(0..10u64).count(), 5);
    let p = pipelinescope::snapshot();
    assert!(p.functions.is_empty() && p.stages.is_empty(), "{p:?}");
}
