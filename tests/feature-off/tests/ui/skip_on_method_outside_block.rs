use pipelinescope::profile;

struct Loader;

impl Loader {
    #[profile(skip)]
    fn load(&self) {}
}

fn main() {
    Loader.load();
}
