use pipelinescope::profile;

#[profile(verbose = true)]
mod stages {
    pub fn load() {}
}

fn main() {
    stages::load();
}
