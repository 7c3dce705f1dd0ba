//! `#[tokio::main]` outside `#[pipelinescope::main]`.
#![deny(warnings)]

#[tokio::main(flavor = "current_thread")]
#[pipelinescope::main]
async fn main() {
    tokio::task::yield_now().await;
}
