use pipelinescope::profile;

#[profile(name = 42)]
fn load() {}

#[profile(name = load_rows)]
fn load_rows() {}

fn main() {
    load();
    load_rows();
}
