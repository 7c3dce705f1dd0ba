//! `#[profile]` on an inline module: every function in it is recorded under its path in the
//! module, with exact counts; skipped, `const`, macro-generated and stage functions are not.
// The unusual forms are what is under test.
#![allow(
    clippy::needless_lifetimes,
    clippy::multiple_bound_locations,
    clippy::boxed_local
)]

mod common;

use common::{function, has_function, nodes, parent_name};
use pipelinescope::FunctionKind;
use std::future::Future;
use std::pin::{Pin, pin};
use std::task::{Context, Poll, Waker};

/// Generates a function the module's attribute cannot see (it only sees the invocation).
macro_rules! make_fn {
    ($name:ident) => {
        pub fn $name() -> u32 {
            7
        }
    };
}

#[pipelinescope::profile]
mod pipeline {
    //! An inner doc comment.
    #![allow(dead_code)]

    use std::fmt::Debug;

    /// A doc comment.
    pub fn parse(s: &str) -> Result<u32, std::num::ParseIntError> {
        let n: u32 = s.trim().parse()?;
        Ok(n)
    }

    pub fn generic<'a, T: ?Sized>(x: &'a T) -> &'a T
    where
        T: Debug,
    {
        x
    }

    /// # Safety
    /// `p` points at a readable byte.
    pub unsafe fn raw(p: *const u8) -> u8 {
        unsafe { *p }
    }

    pub const fn constant() -> u32 {
        5
    }

    #[profile(skip)]
    pub fn skipped() -> u32 {
        9
    }

    #[pipelinescope::profile(name = "module_custom")]
    pub fn own_options() -> u32 {
        3
    }

    #[cfg(test)]
    pub fn cfg_on() -> u32 {
        1
    }

    #[cfg(not(test))]
    pub fn cfg_off() -> u32 {
        0
    }

    make_fn!(generated);

    pub fn evens(n: u32) -> impl Iterator<Item = u32> {
        (0..n).filter(|x| x % 2 == 0)
    }

    pub async fn fetch(x: u32) -> Result<u32, String> {
        if x == 0 {
            return Err("zero".to_string());
        }
        Ok(x + 1)
    }

    #[pipelinescope::stage("module_stage")]
    pub fn staged(v: Vec<u32>) -> Vec<u32> {
        v.into_iter().map(|x| x * 10).collect()
    }

    pub struct Reader<T> {
        pub items: Vec<T>,
        pub pos: usize,
    }

    impl<T: Clone> Reader<T> {
        pub fn new(items: Vec<T>) -> Self {
            Reader { items, pos: 0 }
        }

        pub fn next_record(&mut self) -> Option<T> {
            let item = self.items.get(self.pos).cloned();
            self.pos += 1;
            item
        }

        pub fn remaining(&self) -> usize {
            self.items.len().saturating_sub(self.pos)
        }

        pub fn into_items(self) -> Vec<T> {
            self.items
        }

        pub fn boxed(self: Box<Self>) -> usize {
            self.items.len()
        }

        pub fn pinned(self: std::pin::Pin<&mut Self>) -> usize {
            self.pos
        }

        #[profile(skip)]
        pub fn peek(&self) -> Option<&T> {
            self.items.get(self.pos)
        }

        pub const fn capacity_hint() -> usize {
            16
        }
    }

    pub trait Source {
        /// A signature: nothing to instrument.
        fn pull(&mut self) -> Option<u32>;

        fn pull_two(&mut self) -> (Option<u32>, Option<u32>) {
            (self.pull(), self.pull())
        }
    }

    impl Source for Reader<u32> {
        fn pull(&mut self) -> Option<u32> {
            self.next_record()
        }
    }

    unsafe extern "C" {
        /// A foreign function: no body, left alone.
        pub safe fn abs(x: i32) -> i32;
    }

    pub mod io {
        pub fn open(path: &str) -> usize {
            path.len()
        }

        pub mod deeper {
            pub fn seek(to: u64) -> u64 {
                to
            }
        }
    }

    #[profile(skip)]
    pub mod quiet {
        pub fn hidden() -> u32 {
            2
        }

        #[profile]
        pub fn loud() -> u32 {
            4
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
fn every_function_is_recorded_by_path_with_exact_counts() {
    use pipeline::Source;

    for i in 0..3 {
        assert_eq!(pipeline::parse(&format!(" {i} ")), Ok(i));
    }
    assert!(pipeline::parse("x").is_err());
    assert_eq!(pipeline::generic("s"), "s");
    assert_eq!(pipeline::generic(&[1u8, 2][..]), &[1, 2]);
    assert_eq!(unsafe { pipeline::raw(&3) }, 3);
    assert_eq!(pipeline::constant(), 5);
    const AT_COMPILE_TIME: u32 = pipeline::constant();
    assert_eq!(AT_COMPILE_TIME, 5);
    assert_eq!(pipeline::skipped(), 9);
    assert_eq!(pipeline::own_options(), 3);
    assert_eq!(pipeline::cfg_on(), 1);
    assert_eq!(pipeline::generated(), 7);
    assert_eq!(pipeline::evens(10).collect::<Vec<_>>(), [0, 2, 4, 6, 8]);
    assert_eq!(block_on(pipeline::fetch(1)), Ok(2));
    assert_eq!(block_on(pipeline::fetch(0)), Err("zero".to_string()));
    assert_eq!(pipeline::staged(vec![1, 2]), [10, 20]);
    assert_eq!(pipeline::abs(-4), 4);

    let mut r = pipeline::Reader::new(vec![1u32, 2, 3, 4, 5]);
    assert_eq!(r.peek(), Some(&1));
    assert_eq!(r.pull_two(), (Some(1), Some(2)));
    assert_eq!(r.pull(), Some(3));
    assert_eq!(r.next_record(), Some(4));
    assert_eq!(r.remaining(), 1);
    assert_eq!(Pin::new(&mut r).pinned(), 4);
    assert_eq!(pipeline::Reader::<u32>::capacity_hint(), 16);
    assert_eq!(Box::new(pipeline::Reader::new(vec!["a"])).boxed(), 1);
    assert_eq!(r.into_items().len(), 5);

    assert_eq!(pipeline::io::open("data.csv"), 8);
    assert_eq!(pipeline::io::deeper::seek(4), 4);
    assert_eq!(pipeline::quiet::hidden(), 2);
    assert_eq!(pipeline::quiet::loud(), 4);

    let p = pipelinescope::snapshot();
    let count = |name: &str| function(&p, name).calls;
    assert_eq!(count("pipeline::parse"), 4);
    assert_eq!(count("pipeline::generic"), 2);
    assert_eq!(count("pipeline::raw"), 1);
    assert_eq!(count("module_custom"), 1);
    assert_eq!(count("pipeline::cfg_on"), 1);
    assert_eq!(count("pipeline::evens"), 1);
    assert_eq!(count("pipeline::fetch"), 2);
    // Two readers of different types share one site, as a generic function does.
    assert_eq!(count("pipeline::Reader::new"), 2);
    // 2 through `pull_two`'s pulls and 1 direct `pull`, plus 1 direct call.
    assert_eq!(count("pipeline::Reader::next_record"), 4);
    assert_eq!(count("pipeline::Reader::pull"), 3);
    assert_eq!(count("pipeline::Source::pull_two"), 1);
    assert_eq!(count("pipeline::Reader::remaining"), 1);
    assert_eq!(count("pipeline::Reader::pinned"), 1);
    assert_eq!(count("pipeline::Reader::boxed"), 1);
    assert_eq!(count("pipeline::Reader::into_items"), 1);
    assert_eq!(count("pipeline::io::open"), 1);
    assert_eq!(count("pipeline::io::deeper::seek"), 1);
    assert_eq!(count("pipeline::quiet::loud"), 1);

    let mut recorded: Vec<&str> = p
        .functions
        .iter()
        .map(|f| f.name.as_str())
        .filter(|n| n.starts_with("pipeline::") || n.starts_with("module_"))
        .collect();
    recorded.sort_unstable();
    assert_eq!(
        recorded,
        [
            "module_custom",
            "pipeline::Reader::boxed",
            "pipeline::Reader::into_items",
            "pipeline::Reader::new",
            "pipeline::Reader::next_record",
            "pipeline::Reader::pinned",
            "pipeline::Reader::pull",
            "pipeline::Reader::remaining",
            "pipeline::Source::pull_two",
            "pipeline::cfg_on",
            "pipeline::evens",
            "pipeline::fetch",
            "pipeline::generic",
            "pipeline::io::deeper::seek",
            "pipeline::io::open",
            "pipeline::parse",
            "pipeline::quiet::loud",
            "pipeline::raw",
        ],
        "skipped, const, macro-generated, stage and foreign functions are not recorded"
    );
    for absent in [
        "pipeline::skipped",
        "pipeline::constant",
        "pipeline::generated",
        "pipeline::staged",
        "pipeline::abs",
        "pipeline::Reader::peek",
        "pipeline::Reader::capacity_hint",
        "pipeline::quiet::hidden",
    ] {
        assert!(!has_function(&p, absent), "{absent} recorded");
    }

    // The stage is still measured as a stage.
    let stage = p
        .stages
        .iter()
        .find(|s| s.name == "module_stage")
        .expect("stage");
    assert_eq!((stage.invocations, stage.records_out), (1, 2));

    // The real module path, the kind, and the call tree through the trait's default body.
    assert_eq!(
        function(&p, "pipeline::io::deeper::seek").module,
        "module::pipeline::io::deeper"
    );
    assert_eq!(function(&p, "pipeline::fetch").kind, FunctionKind::Async);
    let pulls = nodes(&p, "pipeline::Reader::pull");
    let mut parents: Vec<_> = pulls.iter().map(|n| parent_name(&p, n)).collect();
    parents.sort();
    assert_eq!(
        parents,
        [None, Some("pipeline::Source::pull_two".to_string())]
    );
}
