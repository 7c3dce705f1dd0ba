//! `#[pipelinescope::main]` on a plain `fn main` returning a `Result`.
#![deny(warnings)]

#[pipelinescope::main(crate = ::pipelinescope)]
fn main() -> Result<(), std::num::ParseIntError> {
    let n: u32 = "3".parse()?;
    assert_eq!(n, 3);
    Ok(())
}
