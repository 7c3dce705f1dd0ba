use pipelinescope::profile;

#[profile(crate = pipelinescope, crate = pipelinescope)]
fn load() {}

fn main() {
    load();
}
