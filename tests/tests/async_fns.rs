//! What `#[profile]` records for `async fn`: wall time from first poll to completion, busy time
//! inside polls, poll counts, and futures dropped before completion.

mod common;

use common::function;
use pipelinescope::{FunctionKind, profile};
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Waker};
use std::time::Duration;

const MS: u64 = 1_000_000;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
}

#[profile]
async fn as_sleeper() -> u32 {
    tokio::time::sleep(Duration::from_millis(20)).await;
    7
}

#[test]
fn awaiting_a_timer_is_wall_time_not_busy_time() {
    assert_eq!(runtime().block_on(as_sleeper()), 7);
    let p = pipelinescope::snapshot();
    let f = function(&p, "as_sleeper");
    assert_eq!(f.kind, FunctionKind::Async);
    assert_eq!(f.calls, 1);
    let a = f.async_stats.expect("async figures");
    assert!(a.wall_ns >= 20 * MS, "wall {} ns", a.wall_ns);
    assert!(a.busy_ns < 5 * MS, "busy {} ns", a.busy_ns);
    assert!(a.polls >= 2, "polls {}", a.polls);
    assert_eq!(a.cancelled, 0);
}

#[profile]
async fn as_never() {
    std::future::pending::<()>().await;
}

#[test]
fn future_dropped_before_completion_is_cancelled() {
    {
        let mut fut = pin!(as_never());
        let mut cx = Context::from_waker(Waker::noop());
        assert!(fut.as_mut().poll(&mut cx).is_pending());
    }
    // Created but never polled: not started, so not cancelled either.
    drop(as_never());
    let p = pipelinescope::snapshot();
    let f = function(&p, "as_never");
    let a = f.async_stats.expect("async figures");
    assert_eq!((f.calls, a.polls, a.cancelled), (0, 1, 1));
}

#[derive(Debug, PartialEq)]
struct BadNumber;

impl From<std::num::ParseIntError> for BadNumber {
    fn from(_: std::num::ParseIntError) -> Self {
        BadNumber
    }
}

#[profile]
async fn as_parse(s: &str) -> Result<u32, BadNumber> {
    let n: u32 = s.parse()?;
    if n == 0 {
        return Err(BadNumber);
    }
    tokio::task::yield_now().await;
    Ok(n * 2)
}

async fn as_parse_plain(s: &str) -> Result<u32, BadNumber> {
    let n: u32 = s.parse()?;
    if n == 0 {
        return Err(BadNumber);
    }
    tokio::task::yield_now().await;
    Ok(n * 2)
}

fn assert_send<T: Send>(t: T) -> T {
    t
}

#[test]
fn async_values_unchanged_and_future_is_send() {
    let rt = runtime();
    for s in ["4", "0", "x"] {
        let got = rt.block_on(assert_send(as_parse(s)));
        assert_eq!(got, rt.block_on(as_parse_plain(s)));
    }
    let p = pipelinescope::snapshot();
    let f = function(&p, "as_parse");
    assert_eq!(f.calls, 3);
    // "4" yields once (2 polls); "0" and "x" finish in their first poll.
    assert_eq!(f.async_stats.expect("async figures").polls, 4);
}

struct Store {
    base: u32,
}

#[profile]
impl Store {
    async fn as_get(&self, k: u32) -> u32 {
        tokio::task::yield_now().await;
        self.base + k
    }
}

trait Lookup {
    async fn as_lookup(&self) -> u32;
}

#[profile]
impl Lookup for Store {
    async fn as_lookup(&self) -> u32 {
        self.base
    }
}

#[test]
fn async_methods_are_named_and_timed() {
    let s = Store { base: 10 };
    let rt = runtime();
    assert_eq!(rt.block_on(s.as_get(1)), 11);
    assert_eq!(rt.block_on(s.as_lookup()), 10);
    let p = pipelinescope::snapshot();
    let get = function(&p, "Store::as_get");
    assert_eq!((get.kind, get.calls), (FunctionKind::Async, 1));
    assert_eq!(get.async_stats.expect("async figures").polls, 2);
    assert_eq!(function(&p, "Store::as_lookup").calls, 1);
}
