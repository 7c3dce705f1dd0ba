//! With profiling off, a size expression is not even compiled: it may name nothing at all.
use pipelinescope::profile;

#[profile(size = not_a_variable.len())]
fn sized(input: &[u8]) -> usize {
    input.len()
}

fn main() {
    assert_eq!(sized(b"abc"), 3);
}
