use pipelinescope::stage;

struct Summary {
    count: usize,
}

#[stage("summarize")]
fn summarize(records: &[u32]) -> Summary {
    Summary {
        count: records.len(),
    }
}

fn main() {
    let _ = summarize(&[1]);
}
