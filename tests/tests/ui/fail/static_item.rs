use pipelinescope::profile;

#[profile]
static LIMIT: u32 = 10;

fn main() {
    let _ = LIMIT;
}
