use pipelinescope::profile;

#[profile(name = "load", name = "load_again")]
fn load() {}

fn main() {
    load();
}
