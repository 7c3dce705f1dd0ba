use pipelinescope::profile;

#[profile]
#[path = "files/stages.rs"]
mod stages;

fn main() {
    stages::load();
}
