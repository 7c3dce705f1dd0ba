use pipelinescope::profile;

#[profile]
enum Step {
    Load,
    Save,
}

fn main() {
    let _ = (Step::Load, Step::Save);
}
