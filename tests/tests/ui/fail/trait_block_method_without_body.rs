use pipelinescope::profile;

#[profile]
trait Source {
    #[profile(name = "Source::pull")]
    fn pull(&mut self) -> Vec<u8>;

    fn pull_all(&mut self) -> Vec<u8> {
        self.pull()
    }
}

fn main() {}
