use pipelinescope::stage;

#[stage("debuggable")]
fn debuggable(records: &[u32]) -> impl std::fmt::Debug {
    records.len()
}

fn main() {
    let _ = debuggable(&[1]);
}
