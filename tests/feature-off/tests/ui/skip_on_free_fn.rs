use pipelinescope::profile;

#[profile(skip)]
fn load() {}

fn main() {
    load();
}
