//! Every synchronous form `#[profile]` accepts compiles, and behaves as written.
#![deny(warnings)]

use pipelinescope::profile;
use std::fmt::Debug;
use std::pin::Pin;

/// A free function with a doc comment.
#[profile]
pub fn free(x: u32) -> u32 {
    x + 1
}

#[profile(name = "custom name")]
fn named() {}

#[profile]
#[inline]
#[must_use]
fn with_attrs(x: u8) -> u8 {
    x
}

#[inline(never)]
#[profile]
#[track_caller]
fn caller_line() -> u32 {
    std::panic::Location::caller().line()
}

#[profile]
fn generic<'a, T, U: Clone>(a: &'a T, u: U) -> (&'a T, U)
where
    T: Debug + ?Sized,
{
    (a, u.clone())
}

#[profile]
fn impl_trait_arg(items: impl IntoIterator<Item = u32>) -> impl Iterator<Item = u32> {
    items.into_iter().map(|x| x * 2)
}

#[profile]
unsafe fn raw_read(p: *const u32) -> u32 {
    unsafe { *p }
}

#[profile]
extern "C" fn c_callback(x: i32) -> i32 {
    x - 1
}

#[profile]
pub unsafe extern "C" fn c_unsafe(x: i32) -> i32 {
    x
}

#[profile]
fn diverges() -> ! {
    panic!("never returns")
}

#[profile]
fn fib(n: u64) -> u64 {
    if n < 2 { n } else { fib(n - 1) + fib(n - 2) }
}

#[profile]
fn early(x: i32) -> Result<i32, String> {
    if x < 0 {
        return Err("negative".into());
    }
    let parsed: i32 = "7".parse().map_err(|_| "parse".to_string())?;
    Ok('outer: loop {
        loop {
            break 'outer x + parsed;
        }
    })
}

#[profile]
fn labelled_block(x: u32) -> u32 {
    'b: {
        if x > 3 {
            break 'b 1;
        }
        2
    }
}

#[profile]
fn inner_attrs() -> u32 {
    #![allow(unused_variables)]
    let unused = 1;
    2
}

#[profile]
fn with_inner_fn() -> u32 {
    #[profile]
    fn helper() -> u32 {
        5
    }
    helper()
}

#[profile]
fn mut_pattern_args(mut v: Vec<u32>, (a, b): (u32, u32)) -> Vec<u32> {
    v.push(a + b);
    v
}

#[derive(Default)]
struct Machine {
    n: u32,
}

#[profile]
impl Machine {
    fn new() -> Self {
        Machine { n: 0 }
    }
    fn by_ref(&self) -> u32 {
        self.n
    }
    fn by_mut(&mut self) {
        self.n += 1;
    }
    fn by_value(self) -> u32 {
        self.n
    }
    fn by_mut_value(mut self) -> u32 {
        self.n += 1;
        self.n
    }
    fn boxed(self: Box<Self>) -> u32 {
        self.n
    }
    fn pinned(self: Pin<&mut Self>) -> u32 {
        self.n
    }
    fn with_lifetime<'a>(&'a self, other: &'a str) -> &'a str {
        if self.n > 0 { other } else { "" }
    }
    #[profile(skip)]
    fn skipped(&self) -> u32 {
        self.n
    }
    #[profile(name = "Machine::renamed")]
    fn named_method(&self) {}
    const fn constant() -> u32 {
        3
    }
}

struct Wrapper<T>(T);

#[profile]
impl<T: Clone> Wrapper<T>
where
    T: Debug,
{
    fn get(&self) -> T {
        self.0.clone()
    }
}

trait Shape {
    fn area(&self) -> f64;

    #[profile]
    fn doubled(&self) -> f64 {
        self.area() * 2.0
    }
}

#[profile]
trait Scaled {
    fn factor(&self) -> f64;

    fn scaled(&self, x: f64) -> f64 {
        x * self.factor()
    }

    #[profile(skip)]
    fn unscaled(&self, x: f64) -> f64 {
        x
    }
}

struct Square(f64);

#[profile]
impl Shape for Square {
    fn area(&self) -> f64 {
        self.0 * self.0
    }
}

impl Scaled for Square {
    fn factor(&self) -> f64 {
        self.0
    }
}

impl Square {
    #[profile]
    fn side(&self) -> f64 {
        self.0
    }
}

fn main() {
    assert_eq!(free(1), 2);
    named();
    assert_eq!(with_attrs(3), 3);
    assert_eq!(caller_line(), line!());
    assert_eq!(generic("s", 1u8), ("s", 1));
    assert_eq!(impl_trait_arg(vec![1, 2]).collect::<Vec<_>>(), vec![2, 4]);
    let v = 9u32;
    assert_eq!(unsafe { raw_read(&v) }, 9);
    assert_eq!(c_callback(3), 2);
    assert_eq!(unsafe { c_unsafe(3) }, 3);
    let _never: fn() -> ! = diverges;
    assert_eq!(fib(10), 55);
    assert_eq!(early(-1), Err("negative".to_string()));
    assert_eq!(early(1), Ok(8));
    assert_eq!(labelled_block(5), 1);
    assert_eq!(inner_attrs(), 2);
    assert_eq!(with_inner_fn(), 5);
    assert_eq!(mut_pattern_args(vec![], (1, 2)), vec![3]);

    let mut m = Machine::new();
    m.by_mut();
    assert_eq!(m.by_ref(), 1);
    assert_eq!(m.with_lifetime("x"), "x");
    assert_eq!(m.skipped(), 1);
    m.named_method();
    assert_eq!(Machine::constant(), 3);
    assert_eq!(Pin::new(&mut m).pinned(), 1);
    assert_eq!(Box::new(Machine::default()).boxed(), 0);
    assert_eq!(Machine::default().by_mut_value(), 1);
    assert_eq!(m.by_value(), 1);
    assert_eq!(Wrapper(4u8).get(), 4);

    let s = Square(2.0);
    assert_eq!(s.doubled(), 8.0);
    assert_eq!(s.scaled(1.5), 3.0);
    assert_eq!(s.unscaled(1.5), 1.5);
    assert_eq!(s.side(), 2.0);

    let names: Vec<String> = pipelinescope::snapshot()
        .functions
        .into_iter()
        .map(|f| f.name)
        .collect();
    for expected in [
        "free",
        "custom name",
        "fib",
        "helper",
        "Machine::new",
        "Machine::by_ref",
        "Machine::boxed",
        "Machine::pinned",
        "Machine::renamed",
        "Wrapper::get",
        "Square::area",
        "doubled",
        "Scaled::scaled",
        "side",
    ] {
        assert!(names.iter().any(|n| n == expected), "{expected} missing from {names:?}");
    }
    for absent in ["Machine::skipped", "Machine::constant", "Scaled::unscaled", "Machine::named_method"] {
        assert!(!names.iter().any(|n| n == absent), "{absent} present in {names:?}");
    }
}
