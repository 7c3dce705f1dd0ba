use pipelinescope::profile;

#[profile(size = input.len())]
async fn sum(input: Vec<u64>) -> u64 {
    input.iter().sum()
}

fn main() {
    let _ = sum(vec![1, 2]);
}
