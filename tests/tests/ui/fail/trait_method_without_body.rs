use pipelinescope::profile;

trait Source {
    #[profile]
    fn next_batch(&mut self) -> Vec<u8>;
}

fn main() {}
