use pipelinescope::profile;

trait Source {
    #[profile(lines)]
    fn next_row(&mut self) -> Option<u32>;
}

fn main() {}
