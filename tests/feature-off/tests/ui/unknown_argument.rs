use pipelinescope::profile;

#[profile(label = "load")]
fn load() {}

fn main() {
    load();
}
