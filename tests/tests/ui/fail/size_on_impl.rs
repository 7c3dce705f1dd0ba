use pipelinescope::profile;

struct Bag(Vec<u32>);

#[profile(size = 4)]
impl Bag {
    fn len(&self) -> usize {
        self.0.len()
    }
}

fn main() {
    Bag(vec![1]).len();
}
