//! JSON text of any serde type, for what a profiled program writes itself (the profile, the
//! report's data block, the exports).
//!
//! It streams the value through `sval_json`, a writer with no JSON value type: serde_json is
//! kept out of the profiled program's build because its `PartialEq<serde_json::Value>` impls
//! for `u8`, `str`, `i64` and other primitives make ordinary user code ambiguous (`assert_eq!(&v[..],
//! &[])` stops compiling) in every crate that depends on the profiler. Reading JSON back is for
//! the command-line tools ([`crate::load`], feature `tools`), which may use serde_json.
//!
//! The text is compact. Numbers are written as serde_json writes them (integers exactly, floats
//! in their shortest round-trip form); a NaN or an infinity becomes `null`.

use std::fmt;

/// Why a value could not be written as JSON (a map with keys that are not strings, say).
#[derive(Debug)]
pub struct Error(sval_json::Error);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot write JSON: {}", self.0)
    }
}

impl std::error::Error for Error {}

/// `value` as compact JSON text.
pub fn to_string<T: serde::Serialize + ?Sized>(value: &T) -> Result<String, Error> {
    sval_json::stream_to_string(sval_serde::ToValue::new(value)).map_err(Error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pipelinescope_core::profile::Profile;

    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    enum Kind {
        Plain,
        Tuple(u8, String),
        Named { x: f64 },
    }

    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct Sample {
        n: u64,
        big: u128,
        neg: i64,
        f: f64,
        s: String,
        o: Option<u32>,
        v: Vec<Kind>,
        m: std::collections::BTreeMap<String, u32>,
    }

    #[test]
    fn reads_back_as_serde_json_reads_it() {
        let sample = Sample {
            n: u64::MAX,
            big: u128::from(u64::MAX) * 3,
            neg: -7,
            f: 0.1 + 0.2,
            s: "quote \" backslash \\ newline \n tab \t bell \u{7} </script> é".into(),
            o: None,
            v: vec![
                Kind::Plain,
                Kind::Tuple(3, "t".into()),
                Kind::Named { x: 1.5 },
            ],
            m: [("a".to_string(), 1), ("b".to_string(), 2)].into(),
        };
        let text = to_string(&sample).unwrap();
        let back: Sample = serde_json::from_str(&text).unwrap();
        assert_eq!(back, sample);
        // The same text serde_json writes, field for field.
        let theirs: serde_json::Value =
            serde_json::from_str(&serde_json::to_string(&sample).unwrap()).unwrap();
        let ours: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(ours, theirs);
    }

    #[test]
    fn non_finite_floats_become_null() {
        let text = to_string(&[f64::NAN, f64::INFINITY, 2.0]).unwrap();
        assert_eq!(text, "[null,null,2.0]");
    }

    #[test]
    fn a_profile_round_trips() {
        let mut p = Profile::default();
        p.meta.run_id = "r1".into();
        p.meta.title = "t \"x\"".into();
        let text = to_string(&p).unwrap();
        let back: Profile = serde_json::from_str(&text).unwrap();
        assert_eq!(back, p);
    }
}
