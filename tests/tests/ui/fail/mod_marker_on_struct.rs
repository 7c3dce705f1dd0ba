use pipelinescope::profile;

#[profile]
mod stages {
    #[profile(skip)]
    pub struct Loader;

    pub fn load(_: &Loader) {}
}

fn main() {
    stages::load(&stages::Loader);
}
