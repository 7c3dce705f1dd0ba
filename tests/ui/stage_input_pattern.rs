use pipelinescope::stage;

#[stage("pairs")]
fn pairs(#[input] (left, right): (Vec<u32>, Vec<u32>)) -> Vec<u32> {
    left.into_iter().chain(right).collect()
}

fn main() {
    let _ = pairs((vec![1], vec![2]));
}
