use pipelinescope::profile;

#[profile(lines, lines)]
fn work() -> u32 {
    42
}

fn main() {
    let _ = work();
}
