use pipelinescope::profile;

#[profile(size = input.len(), size = 3)]
fn sum(input: &[u64]) -> u64 {
    input.iter().sum()
}

fn main() {
    sum(&[1, 2]);
}
