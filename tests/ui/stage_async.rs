use pipelinescope::stage;

#[stage("load")]
async fn load(records: &[u32]) -> Vec<u32> {
    records.to_vec()
}

fn main() {
    let _ = load(&[1]);
}
