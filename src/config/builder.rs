//! [`Config`]: settings set in code, over the file and the environment.

use super::{Resolved, find_config_file};
use std::path::{Path, PathBuf};

/// Settings given in code; each one set here wins over the file and the environment.
///
/// ```
/// let config = pipelinescope::Config::new()
///     .output_dir("target/profiles")
///     .dashboard_title("Nightly ETL")
///     .top_n(20);
/// # let _ = config;
/// ```
#[derive(Debug, Clone, Default)]
pub struct Config {
    overrides: Vec<(&'static str, Value)>,
    config_file: Option<PathBuf>,
    discover: bool,
}

/// A setting's value, before checking.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Value {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    List(Vec<String>),
}

impl Value {
    pub(super) fn kind(&self) -> &'static str {
        match self {
            Value::Str(_) => "a string",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number",
            Value::Bool(_) => "a boolean",
            Value::List(_) => "a list",
        }
    }
}

macro_rules! setter {
    ($(#[$doc:meta])* $name:ident: $ty:ty => $conv:expr) => {
        $(#[$doc])*
        pub fn $name(mut self, value: $ty) -> Self {
            #[allow(clippy::redundant_closure_call)]
            let v = ($conv)(value);
            self.overrides.push((stringify!($name), v));
            self
        }
    };
}

impl Config {
    /// Settings from the config file and environment, with nothing overridden yet.
    pub fn new() -> Self {
        Config {
            overrides: Vec::new(),
            config_file: None,
            discover: true,
        }
    }

    /// Reads this file instead of searching for `pipelinescope.toml`.
    pub fn config_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.config_file = Some(path.into());
        self
    }

    /// Ignores config files and the environment: defaults plus what is set in code.
    pub fn defaults_only(mut self) -> Self {
        self.discover = false;
        self
    }

    /// Directory that receives the run directories.
    pub fn output_dir(mut self, value: impl AsRef<Path>) -> Self {
        let v = Value::Str(value.as_ref().to_string_lossy().into_owned());
        self.overrides.push(("output_dir", v));
        self
    }
    setter!(
        /// Title of the HTML report.
        dashboard_title: &str => |v: &str| Value::Str(v.to_string())
    );
    setter!(
        /// Whether `summary.html` is written.
        enable_dashboard: bool => Value::Bool
    );
    setter!(
        /// Records processed by this run, for extrapolation.
        sample_size: u64 => |v: u64| Value::Int(v.min(i64::MAX as u64) as i64)
    );
    setter!(
        /// Records expected at production scale, for extrapolation.
        expected_size: u64 => |v: u64| Value::Int(v.min(i64::MAX as u64) as i64)
    );
    setter!(
        /// Minimum cumulative time shown, milliseconds.
        min_time_threshold_ms: f64 => Value::Float
    );
    setter!(
        /// Minimum share of the run shown, percent.
        min_time_percentage: f64 => Value::Float
    );
    setter!(
        /// Whether CPU and memory are sampled.
        enable_cpu_monitoring: bool => Value::Bool
    );
    setter!(
        /// Whether GPU figures are sampled.
        enable_gpu_monitoring: bool => Value::Bool
    );
    setter!(
        /// Sampling period, milliseconds.
        sample_interval_ms: u64 => |v: u64| Value::Int(v.min(i64::MAX as u64) as i64)
    );
    setter!(
        /// Whether the console summary is printed.
        console: bool => |v: bool| Value::Str(if v { "on" } else { "off" }.to_string())
    );
    setter!(
        /// Rows in the console summary.
        top_n: usize => |v: usize| Value::Int(v.min(i64::MAX as usize) as i64)
    );
    setter!(
        /// Console sort column: `cumulative`, `self`, `calls` or `p99`.
        sort_by: &str => |v: &str| Value::Str(v.to_string())
    );
    setter!(
        /// Whether the probe's measured cost is taken off the time figures (default true).
        compensate: bool => Value::Bool
    );
    setter!(
        /// `"sampled"` (default): functions much shorter than the probe are timed on a random
        /// sample of their calls; `"exact"`: every call is timed.
        timing: &str => |v: &str| Value::Str(v.to_string())
    );

    setter!(
        /// Serves the run live at this address (`"127.0.0.1:9464"`; port 0 picks a free one):
        /// `/profile.json`, `/metrics` (Prometheus) and `/` (the report, refreshing itself).
        /// Any address may be given here or in the config file; the environment variable
        /// `PIPELINESCOPE_LIVE` may only name a loopback one.
        live: &str => |v: &str| Value::Str(v.to_string())
    );

    /// Glob patterns over function names to leave out of every output.
    pub fn ignore<I, S>(mut self, patterns: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let v = Value::List(patterns.into_iter().map(Into::into).collect());
        self.overrides.push(("ignore", v));
        self
    }

    /// Resolves defaults, file, environment and code, in that order. Problems become warnings.
    pub fn resolve(&self) -> Resolved {
        let mut r = Resolved::default();
        if self.discover {
            let file = match &self.config_file {
                Some(p) => Some(p.clone()),
                None => std::env::current_dir()
                    .ok()
                    .and_then(|d| find_config_file(&d)),
            };
            if let Some(path) = file {
                r.load_file(&path);
            }
            r.load_env(std::env::vars());
        }
        for (key, value) in &self.overrides {
            r.apply(key, value.clone(), "in code");
        }
        r
    }
}
