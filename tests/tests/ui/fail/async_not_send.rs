// The wrapped future is Send exactly when the original is: holding an `Rc` across an await
// still makes it !Send.
use pipelinescope::profile;
use std::rc::Rc;

#[profile]
async fn holds_rc() -> u32 {
    let rc = Rc::new(1);
    std::future::ready(()).await;
    *rc
}

fn assert_send<T: Send>(_: T) {}

fn main() {
    assert_send(holds_rc());
}
