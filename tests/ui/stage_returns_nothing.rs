use pipelinescope::stage;

#[stage("print")]
fn print(records: &[u32]) {
    println!("{records:?}");
}

fn main() {
    print(&[1, 2]);
}
