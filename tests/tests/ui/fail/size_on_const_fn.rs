use pipelinescope::profile;

#[profile(size = n)]
const fn triple(n: u32) -> u32 {
    n * 3
}

fn main() {
    triple(2);
}
