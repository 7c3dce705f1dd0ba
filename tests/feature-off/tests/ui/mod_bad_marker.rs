use pipelinescope::profile;

#[profile]
mod stages {
    #[profile(skip = true)]
    pub fn load() {}
}

fn main() {
    stages::load();
}
