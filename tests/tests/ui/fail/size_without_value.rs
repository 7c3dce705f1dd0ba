use pipelinescope::profile;

#[profile(size)]
fn sum(input: &[u64]) -> u64 {
    input.iter().sum()
}

fn main() {
    sum(&[1, 2]);
}
