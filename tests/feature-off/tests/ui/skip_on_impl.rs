use pipelinescope::profile;

struct Loader;

#[profile(skip)]
impl Loader {
    fn load(&self) {}
}

fn main() {
    Loader.load();
}
