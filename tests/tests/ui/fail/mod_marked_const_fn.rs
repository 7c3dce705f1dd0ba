use pipelinescope::profile;

#[profile]
mod stages {
    // Unmarked, a `const fn` in the module is left alone; asked for by name, it is an error.
    #[profile(name = "size")]
    pub const fn size() -> usize {
        4
    }
}

fn main() {
    let _ = stages::size();
}
