use pipelinescope::stage;

#[stage("total")]
fn total(records: &[u32]) -> i32 {
    records.len() as i32
}

fn main() {
    let _ = total(&[1, 2]);
}
