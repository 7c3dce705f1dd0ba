use pipelinescope::profile;

#[profile]
mod stages {
    pub fn load() {}
}

fn main() {
    stages::load();
}
