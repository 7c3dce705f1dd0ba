use pipelinescope::stage;

#[stage(42)]
fn numbered(records: &[u32]) -> Vec<u32> {
    records.to_vec()
}

#[stage(name = filter)]
fn named(records: &[u32]) -> Vec<u32> {
    records.to_vec()
}

#[stage(filter)]
fn bare(records: &[u32]) -> Vec<u32> {
    records.to_vec()
}

fn main() {
    let _ = (numbered(&[1]), named(&[1]), bare(&[1]));
}
