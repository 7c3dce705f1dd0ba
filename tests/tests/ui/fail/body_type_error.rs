// Errors inside an instrumented body point at the user's code, as without #[profile].
use pipelinescope::profile;

#[profile]
fn sync_wrong() -> u32 {
    "not a number"
}

#[profile]
async fn async_wrong() -> Result<u32, std::num::ParseIntError> {
    let n: u32 = "1".parse()?;
    Ok(n as u64)
}

fn main() {
    let _ = sync_wrong();
    let _ = async_wrong();
}
