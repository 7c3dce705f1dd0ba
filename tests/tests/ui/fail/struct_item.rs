use pipelinescope::profile;

#[profile]
struct Record {
    id: u64,
}

fn main() {
    let _ = Record { id: 1 }.id;
}
