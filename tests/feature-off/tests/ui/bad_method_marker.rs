use pipelinescope::profile;

struct Loader;

#[profile]
impl Loader {
    #[profile(skip, verbose)]
    fn load(&self) {}
}

fn main() {
    Loader.load();
}
