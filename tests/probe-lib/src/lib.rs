//! A library annotated through `pipelinescope-probe` (depended on as `pipelinescope`, without
//! the `enable` feature): free functions, an `impl` block, a module and a stage. Whether they
//! record is the application's choice (`tests/tests/probe_crate.rs` turns it on,
//! `tests/feature-off` leaves it off).

/// Sum of the decimal digits of `line`.
#[pipelinescope::profile]
pub fn digit_sum(line: &str) -> u64 {
    line.bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| u64::from(b - b'0'))
        .sum()
}

/// Hands out `0..n`.
pub struct Reader {
    next: u64,
    n: u64,
}

#[pipelinescope::profile]
impl Reader {
    /// A reader of `n` records.
    pub fn new(n: u64) -> Reader {
        Reader { next: 0, n }
    }

    /// The next record, if any.
    pub fn next_record(&mut self) -> Option<u64> {
        (self.next < self.n).then(|| {
            self.next += 1;
            self.next - 1
        })
    }
}

/// Functions named by their path in the module.
#[pipelinescope::profile]
pub mod codec {
    /// Twice `x`.
    pub fn encode(x: u64) -> u64 {
        x.wrapping_mul(2)
    }
}

/// The even records of `input`, as a pipeline stage.
#[pipelinescope::stage("probe_lib_evens")]
pub fn evens(input: impl Iterator<Item = u64>) -> impl Iterator<Item = u64> {
    input.filter(|x| x % 2 == 0)
}

/// Reads `n` records and encodes each: `n + 1` calls of `Reader::next_record`, `n` of
/// `codec::encode`, one of `Reader::new`. Returns the sum of the encoded records.
pub fn encode_all(n: u64) -> u64 {
    let mut reader = Reader::new(n);
    let mut sum = 0;
    while let Some(r) = reader.next_record() {
        sum += codec::encode(r);
    }
    sum
}
