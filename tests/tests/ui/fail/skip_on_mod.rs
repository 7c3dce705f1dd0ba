use pipelinescope::profile;

#[profile(skip)]
mod stages {
    pub fn load() {}
}

fn main() {
    stages::load();
}
