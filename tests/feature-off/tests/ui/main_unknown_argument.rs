#[pipelinescope::main(output = "runs")]
fn main() {}
