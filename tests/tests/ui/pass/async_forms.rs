//! Async forms: `async fn`, async methods, async trait methods, `?` inference, Send-ness, and
//! `#[pipelinescope::main]` together with `#[tokio::main]`.
#![deny(warnings)]

use pipelinescope::profile;
use std::rc::Rc;

#[derive(Debug)]
struct ParseError;

impl From<std::num::ParseIntError> for ParseError {
    fn from(_: std::num::ParseIntError) -> Self {
        ParseError
    }
}

#[profile]
async fn parse(s: &str) -> Result<u32, ParseError> {
    // `?` converts through `From`: needs the return type to be known in the body.
    let n: u32 = s.parse()?;
    if n == 0 {
        return Ok(1);
    }
    Ok(n)
}

#[profile]
async fn unit() {}

#[profile]
async fn returns_impl() -> impl std::fmt::Display {
    5
}

#[profile]
async fn not_send() -> u32 {
    let rc = Rc::new(3);
    tokio::task::yield_now().await;
    *rc
}

#[profile]
async fn borrows<'a>(s: &'a str, mut extra: Vec<u8>) -> &'a str {
    extra.push(1);
    &s[..extra.len()]
}

#[profile]
async unsafe fn async_unsafe(p: *const u8) -> u8 {
    unsafe { *p }
}

struct Service {
    base: u32,
}

#[profile]
impl Service {
    async fn add(&self, x: u32) -> u32 {
        self.base + x
    }
    async fn consume(self) -> u32 {
        self.base
    }
    async fn bump(&mut self) {
        self.base += 1;
    }
}

trait Fetch {
    async fn fetch(&self) -> u32;

    #[profile]
    async fn fetch_twice(&self) -> u32 {
        self.fetch().await * 2
    }
}

#[profile]
impl Fetch for Service {
    async fn fetch(&self) -> u32 {
        self.base
    }
}

fn assert_send<T: Send>(t: T) -> T {
    t
}

#[pipelinescope::main]
#[tokio::main(flavor = "current_thread")]
async fn main() {
    assert_eq!(assert_send(parse("7")).await.unwrap(), 7);
    assert_eq!(parse("0").await.unwrap(), 1);
    assert!(parse("x").await.is_err());
    unit().await;
    assert_eq!(returns_impl().await.to_string(), "5");
    assert_eq!(not_send().await, 3);
    assert_eq!(borrows("abc", vec![1]).await, "ab");
    assert_eq!(unsafe { async_unsafe(&4).await }, 4);
    let mut s = Service { base: 1 };
    s.bump().await;
    assert_eq!(assert_send(s.add(1)).await, 3);
    assert_eq!(s.fetch_twice().await, 4);
    let handle = tokio::spawn(async move { s.consume().await });
    assert_eq!(handle.await.unwrap(), 2);

    let names: Vec<String> = pipelinescope::snapshot()
        .functions
        .into_iter()
        .map(|f| f.name)
        .collect();
    for expected in ["parse", "unit", "Service::add", "Service::fetch", "fetch_twice"] {
        assert!(names.iter().any(|n| n == expected), "{expected} missing from {names:?}");
    }
}
