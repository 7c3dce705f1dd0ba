use pipelinescope::stage;

#[stage("fast", speed = "high")]
fn fast(records: &[u32]) -> Vec<u32> {
    records.to_vec()
}

fn main() {
    let _ = fast(&[1]);
}
