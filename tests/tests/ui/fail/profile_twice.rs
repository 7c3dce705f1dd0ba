use pipelinescope::profile;

#[profile]
#[profile(name = "again")]
fn load() {}

fn main() {
    load();
}
