// `crate = path` really replaces `::pipelinescope` in the generated code.
use pipelinescope::profile;

#[profile(crate = crate::nowhere)]
fn load() {}

fn main() {
    load();
}
