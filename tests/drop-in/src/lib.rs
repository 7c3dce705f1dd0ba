//! Code whose types are inferred from the trait impls in scope, as ordinary crates write it.
//!
//! rustc looks for candidate impls in every crate loaded into a build, so a crate anywhere in
//! the profiler's dependency graph that implements a std trait for a std or primitive type
//! (serde_json's `impl PartialEq<Value> for u8`, for one) makes these lines ambiguous in any
//! crate that uses the profiler: E0282/E0283 "type annotations needed". This package builds
//! with the profiler's probes on and off; if it stops compiling, a dependency brought such
//! impls in.

use pipelinescope::profile;

/// Bytes of `s` up to the first space.
#[profile]
pub fn first_word(s: &str) -> &[u8] {
    let b = s.as_bytes();
    let end = b.iter().position(|&c| c == b' ').unwrap_or(b.len());
    &b[..end]
}

/// Sum of `v`, into whatever the caller wants.
#[profile]
pub fn total<T: std::iter::Sum<u32>>(v: &[u32]) -> T {
    v.iter().copied().sum()
}

/// A record parsed from a line.
pub struct Record {
    /// Its name.
    pub name: String,
    /// Its value.
    pub value: i64,
}

impl Record {
    /// `name=value`, or `None`.
    #[profile]
    pub fn parse(line: &str) -> Option<Record> {
        let (name, value) = line.split_once('=')?;
        Some(Record {
            name: name.into(),
            value: value.trim().parse().ok()?,
        })
    }
}

/// A stage, so that the stage wrappers are part of what is checked too.
#[pipelinescope::stage("lengths")]
pub fn lengths(words: Vec<&str>) -> Vec<usize> {
    words.into_iter().map(str::len).collect()
}
