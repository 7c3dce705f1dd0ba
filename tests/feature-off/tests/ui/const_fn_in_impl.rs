use pipelinescope::profile;

struct Table;

#[profile]
impl Table {
    #[profile(name = "Table::width")]
    const fn width(&self) -> usize {
        3
    }
}

fn main() {
    let _ = Table.width();
}
