use pipelinescope::profile;

#[profile(lines, size = input.len())]
fn sum(input: &[u64]) -> u64 {
    input.iter().sum()
}

struct Parser;

#[profile(lines)]
impl Parser {
    #[profile(size = n)]
    fn parse(&self, n: usize) -> usize {
        n + 1
    }
}

fn main() {
    sum(&[1, 2]);
    Parser.parse(2);
}
