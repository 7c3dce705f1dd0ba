//! Run settings: defaults, then `pipelinescope.toml` (found from the working directory upward),
//! then `PIPELINESCOPE_*` environment variables, then [`Config`] set in code.
//!
//! Bad input never stops the program: each problem becomes one warning naming the file (or
//! variable), the key and what is allowed, and the setting keeps its previous value.

use std::path::{Path, PathBuf};

/// File names looked for, in this order, in each directory.
pub const CONFIG_FILE_NAMES: [&str; 2] = ["pipelinescope.toml", ".pipelinescope.toml"];

/// How many parent directories above the working directory are searched for a config file.
pub const SEARCH_LEVELS: usize = 6;

/// Every key a config file or environment variable may set.
pub const KEYS: [&str; 17] = [
    "output_dir",
    "dashboard_title",
    "enable_dashboard",
    "sample_size",
    "expected_size",
    "min_time_threshold_ms",
    "min_time_percentage",
    "enable_cpu_monitoring",
    "enable_gpu_monitoring",
    "sample_interval_ms",
    "console",
    "top_n",
    "sort_by",
    "ignore",
    "compensate",
    "timing",
    "live",
];

/// Which column the console summary sorts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortBy {
    /// Inclusive time.
    Cumulative,
    /// Exclusive time.
    SelfTime,
    /// Number of calls.
    Calls,
    /// 99th percentile of per-call time.
    P99,
}

impl SortBy {
    fn parse(s: &str) -> Option<SortBy> {
        match s.trim().to_ascii_lowercase().as_str() {
            "cumulative" | "cum" | "cumtime" => Some(SortBy::Cumulative),
            "self" | "tottime" => Some(SortBy::SelfTime),
            "calls" | "ncalls" => Some(SortBy::Calls),
            "p99" => Some(SortBy::P99),
            _ => None,
        }
    }

    /// The config spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            SortBy::Cumulative => "cumulative",
            SortBy::SelfTime => "self",
            SortBy::Calls => "calls",
            SortBy::P99 => "p99",
        }
    }
}

/// The resolved settings of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Directory that receives one `run_*` directory per run.
    pub output_dir: PathBuf,
    /// Title of the HTML report.
    pub dashboard_title: String,
    /// Whether `summary.html` is written.
    pub enable_dashboard: bool,
    /// Records (or items) processed by this run, for extrapolation.
    pub sample_size: u64,
    /// Whether `sample_size` was set (file, environment or code). When it was not, the run's
    /// extrapolation starts from the records its first stage saw rather than the default 100,
    /// which only stands in when no stage ran.
    pub sample_size_set: bool,
    /// Records expected at production scale, for extrapolation.
    pub expected_size: u64,
    /// Functions whose cumulative time is below this are hidden from the console summary and
    /// are the report's starting filter.
    pub min_time_threshold_ms: f64,
    /// Functions whose share of the run is below this percentage are hidden likewise.
    pub min_time_percentage: f64,
    /// Whether the background sampler records CPU and memory.
    pub enable_cpu_monitoring: bool,
    /// Whether the background sampler records GPU figures.
    pub enable_gpu_monitoring: bool,
    /// Sampling period of the resource sampler.
    pub sample_interval_ms: u64,
    /// Whether the console summary is printed on stderr at the end.
    pub console: bool,
    /// Rows in the console summary.
    pub top_n: usize,
    /// Sort column of the console summary.
    pub sort_by: SortBy,
    /// Glob patterns over function names to leave out of every output.
    pub ignore: Vec<String>,
    /// Whether the probe's measured cost is taken off the time figures.
    pub compensate: bool,
    /// Whether functions much shorter than the probe are timed on a sample of their calls
    /// (`true`, "sampled") or on every call ("exact").
    pub sampled_timing: bool,
    /// Address of the live endpoint (`/profile.json`, `/metrics`, `/`) served while the run
    /// lasts; `None` (the default) opens no port.
    pub live: Option<std::net::SocketAddr>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            output_dir: PathBuf::from(".pipelinescope_output"),
            dashboard_title: "PipelineScope report".to_string(),
            enable_dashboard: true,
            sample_size: 100,
            sample_size_set: false,
            expected_size: 1_000_000,
            min_time_threshold_ms: 0.0,
            min_time_percentage: 0.0,
            enable_cpu_monitoring: true,
            enable_gpu_monitoring: true,
            sample_interval_ms: 10,
            console: true,
            top_n: 15,
            sort_by: SortBy::Cumulative,
            ignore: Vec::new(),
            compensate: true,
            sampled_timing: true,
            live: None,
        }
    }
}

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
enum Value {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    List(Vec<String>),
}

impl Value {
    fn kind(&self) -> &'static str {
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

/// Settings after resolution, with where they came from and what was wrong.
#[derive(Debug, Clone, Default)]
pub struct Resolved {
    /// The settings.
    pub settings: Settings,
    /// The config file read, if any.
    pub file: Option<PathBuf>,
    /// One line per problem found.
    pub warnings: Vec<String>,
}

/// Finds `pipelinescope.toml` or `.pipelinescope.toml` in `start` or up to [`SEARCH_LEVELS`]
/// directories above it.
pub fn find_config_file(start: &Path) -> Option<PathBuf> {
    start.ancestors().take(SEARCH_LEVELS + 1).find_map(|dir| {
        CONFIG_FILE_NAMES
            .iter()
            .map(|n| dir.join(n))
            .find(|p| p.is_file())
    })
}

/// 1-based line and column of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// Line and column of the line that sets top-level `key` (`key = ...`), if found.
fn key_position(text: &str, key: &str) -> Option<(usize, usize)> {
    text.lines().enumerate().find_map(|(i, line)| {
        let trimmed = line.trim_start();
        let rest = trimmed.strip_prefix(key)?;
        let rest = rest.trim_start();
        rest.starts_with('=')
            .then(|| (i + 1, line.len() - trimmed.len() + 1))
    })
}

/// The live endpoint's address from its config text: `None` for "" and "off", else an IP
/// address with a port, or `localhost:PORT` (127.0.0.1).
fn live_address(text: &str) -> Result<Option<std::net::SocketAddr>, String> {
    let t = text.trim();
    if t.is_empty() || t.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    if let Some(Ok(p)) = t.strip_prefix("localhost:").map(str::parse::<u16>) {
        return Ok(Some(std::net::SocketAddr::from(([127, 0, 0, 1], p))));
    }
    t.parse().map(Some).map_err(|_| {
        format!("must be an address with a port such as \"127.0.0.1:9464\", got {t:?}")
    })
}

/// The valid key closest to `key`, if any is close enough to be a likely typo.
pub fn closest_key(key: &str) -> Option<&'static str> {
    KEYS.iter()
        .map(|k| (strsim::damerau_levenshtein(key, k), *k))
        .filter(|(d, k)| *d <= 3.max(k.len() / 3))
        .min()
        .map(|(_, k)| k)
}

fn from_toml(v: &toml::Value) -> Option<Value> {
    Some(match v {
        toml::Value::String(s) => Value::Str(s.clone()),
        toml::Value::Integer(i) => Value::Int(*i),
        toml::Value::Float(f) => Value::Float(*f),
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Array(a) => Value::List(
            a.iter()
                .map(|x| match x {
                    toml::Value::String(s) => Some(s.clone()),
                    _ => None,
                })
                .collect::<Option<Vec<_>>>()?,
        ),
        _ => return None,
    })
}

impl Resolved {
    fn warn(&mut self, msg: String) {
        log::warn!("{msg}");
        self.warnings.push(msg);
    }

    fn load_file(&mut self, path: &Path) {
        let shown = path.display().to_string();
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => {
                self.warn(format!(
                    "{shown}: cannot read config file: {e}; using defaults"
                ));
                return;
            }
        };
        self.file = Some(path.to_path_buf());
        let table: toml::Table = match toml::from_str(&text) {
            Ok(t) => t,
            Err(e) => {
                let at = e.span().map(|s| line_col(&text, s.start));
                let msg = e.message().trim().to_string();
                self.warn(match at {
                    Some((l, c)) => {
                        format!("{shown}:{l}:{c}: malformed TOML: {msg}; using defaults")
                    }
                    None => format!("{shown}: malformed TOML: {msg}; using defaults"),
                });
                return;
            }
        };
        // Report problems in file order, each at the line that sets the key.
        let mut entries: Vec<_> = table
            .iter()
            .map(|(k, v)| (key_position(&text, k), k, v))
            .collect();
        entries.sort_by_key(|(pos, _, _)| pos.unwrap_or((usize::MAX, 0)));
        for (pos, key, value) in entries {
            let place = match pos {
                Some((l, c)) => format!("{shown}:{l}:{c}"),
                None => shown.clone(),
            };
            match from_toml(value) {
                Some(v) => self.apply(key, v, &place),
                None => self.warn(format!(
                    "{place}: `{key}` has an unsupported value type; keeping {}",
                    self.current(key)
                )),
            }
        }
    }

    fn load_env(&mut self, vars: impl Iterator<Item = (String, String)>) {
        for (name, raw) in vars {
            let Some(key) = name.strip_prefix("PIPELINESCOPE_") else {
                continue;
            };
            if key == "CONFIG" {
                continue;
            }
            let key = key.to_ascii_lowercase();
            let place = format!("environment variable {name}");
            let value = if key == "ignore" {
                Value::List(
                    raw.split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(String::from)
                        .collect(),
                )
            } else if let Ok(b) = raw.trim().parse::<bool>() {
                Value::Bool(b)
            } else if let Ok(i) = raw.trim().parse::<i64>() {
                Value::Int(i)
            } else if let Ok(f) = raw.trim().parse::<f64>() {
                Value::Float(f)
            } else {
                Value::Str(raw)
            };
            self.apply(&key, value, &place);
        }
    }

    fn current(&self, key: &str) -> String {
        let s = &self.settings;
        match key {
            "output_dir" => format!("{:?}", s.output_dir.display().to_string()),
            "dashboard_title" => format!("{:?}", s.dashboard_title),
            "enable_dashboard" => s.enable_dashboard.to_string(),
            "sample_size" => s.sample_size.to_string(),
            "expected_size" => s.expected_size.to_string(),
            "min_time_threshold_ms" => s.min_time_threshold_ms.to_string(),
            "min_time_percentage" => s.min_time_percentage.to_string(),
            "enable_cpu_monitoring" => s.enable_cpu_monitoring.to_string(),
            "enable_gpu_monitoring" => s.enable_gpu_monitoring.to_string(),
            "sample_interval_ms" => s.sample_interval_ms.to_string(),
            "console" => if s.console { "\"on\"" } else { "\"off\"" }.to_string(),
            "top_n" => s.top_n.to_string(),
            "sort_by" => format!("\"{}\"", s.sort_by.as_str()),
            "ignore" => format!("{:?}", s.ignore),
            "compensate" => s.compensate.to_string(),
            "live" => s
                .live
                .map_or_else(|| "off".to_string(), |a| format!("\"{a}\"")),
            "timing" => if s.sampled_timing {
                "\"sampled\""
            } else {
                "\"exact\""
            }
            .to_string(),
            _ => String::new(),
        }
    }

    fn apply(&mut self, key: &str, value: Value, place: &str) {
        if !KEYS.contains(&key) {
            let hint = closest_key(key)
                .map(|k| format!(" (did you mean `{k}`?)"))
                .unwrap_or_default();
            self.warn(format!("{place}: unknown key `{key}`{hint}; ignored"));
            return;
        }
        let keep = self.current(key);
        let bad = |what: &str| format!("{place}: `{key}` {what}; keeping {keep}");
        let s = &mut self.settings;
        let err: Option<String> = match (key, value) {
            ("output_dir", Value::Str(v)) if !v.trim().is_empty() => {
                s.output_dir = PathBuf::from(v);
                None
            }
            ("output_dir", _) => Some(bad("must be a non-empty path string")),
            ("dashboard_title", Value::Str(v)) => {
                s.dashboard_title = v;
                None
            }
            ("dashboard_title", _) => Some(bad("must be a string")),
            ("enable_dashboard", Value::Bool(v)) => {
                s.enable_dashboard = v;
                None
            }
            ("enable_cpu_monitoring", Value::Bool(v)) => {
                s.enable_cpu_monitoring = v;
                None
            }
            ("enable_gpu_monitoring", Value::Bool(v)) => {
                s.enable_gpu_monitoring = v;
                None
            }
            ("compensate", Value::Bool(v)) => {
                s.compensate = v;
                None
            }
            ("timing", Value::Str(v)) if matches!(v.trim(), "sampled" | "exact") => {
                s.sampled_timing = v.trim() == "sampled";
                None
            }
            ("live", Value::Bool(false)) => {
                s.live = None;
                None
            }
            ("live", Value::Str(v)) => match live_address(&v) {
                Ok(None) => {
                    s.live = None;
                    None
                }
                Ok(Some(a)) if !a.ip().is_loopback() && place.starts_with("environment") => {
                    Some(bad(&format!(
                        "may only name a loopback address (127.0.0.1, [::1], localhost), not \
                         {a}: serving other machines must be written in pipelinescope.toml or \
                         set with Config::live"
                    )))
                }
                Ok(Some(a)) => {
                    s.live = Some(a);
                    None
                }
                Err(why) => Some(bad(&why)),
            },
            ("live", v) => Some(bad(&format!(
                "must be an address such as \"127.0.0.1:9464\", got {}",
                show(&v)
            ))),
            ("timing", v) => Some(bad(&format!(
                "must be \"sampled\" or \"exact\", got {}",
                show(&v)
            ))),
            (
                "enable_dashboard"
                | "enable_cpu_monitoring"
                | "enable_gpu_monitoring"
                | "compensate",
                v,
            ) => Some(bad(&format!("must be true or false, not {}", v.kind()))),
            ("sample_size", Value::Int(v)) if v >= 1 => {
                s.sample_size = v as u64;
                s.sample_size_set = true;
                None
            }
            ("expected_size", Value::Int(v)) if v >= 1 => {
                s.expected_size = v as u64;
                None
            }
            ("sample_size" | "expected_size", v) => Some(bad(&format!(
                "must be a whole number of at least 1, got {}",
                show(&v)
            ))),
            ("min_time_threshold_ms", Value::Int(v)) if v >= 0 => {
                s.min_time_threshold_ms = v as f64;
                None
            }
            ("min_time_threshold_ms", Value::Float(v)) if v >= 0.0 && v.is_finite() => {
                s.min_time_threshold_ms = v;
                None
            }
            ("min_time_threshold_ms", v) => Some(bad(&format!(
                "must be a number of milliseconds >= 0, got {}",
                show(&v)
            ))),
            ("min_time_percentage", Value::Int(v)) if (0..=100).contains(&v) => {
                s.min_time_percentage = v as f64;
                None
            }
            ("min_time_percentage", Value::Float(v)) if (0.0..=100.0).contains(&v) => {
                s.min_time_percentage = v;
                None
            }
            ("min_time_percentage", v) => Some(bad(&format!(
                "must be a percentage between 0 and 100, got {}",
                show(&v)
            ))),
            ("sample_interval_ms", Value::Int(v)) if (1..=60_000).contains(&v) => {
                s.sample_interval_ms = v as u64;
                None
            }
            ("sample_interval_ms", v) => Some(bad(&format!(
                "must be a whole number of milliseconds from 1 to 60000, got {}",
                show(&v)
            ))),
            ("console", Value::Str(v)) if matches!(v.as_str(), "on" | "off") => {
                s.console = v == "on";
                None
            }
            ("console", Value::Bool(v)) => {
                s.console = v;
                None
            }
            ("console", v) => Some(bad(&format!("must be \"on\" or \"off\", got {}", show(&v)))),
            ("top_n", Value::Int(v)) if v >= 1 => {
                s.top_n = v as usize;
                None
            }
            ("top_n", v) => Some(bad(&format!(
                "must be a whole number of at least 1, got {}",
                show(&v)
            ))),
            ("sort_by", Value::Str(v)) if SortBy::parse(&v).is_some() => {
                s.sort_by = SortBy::parse(&v).unwrap_or(SortBy::Cumulative);
                None
            }
            ("sort_by", v) => Some(bad(&format!(
                "must be one of \"cumulative\", \"self\", \"calls\", \"p99\", got {}",
                show(&v)
            ))),
            ("ignore", Value::List(pats)) => {
                let mut good = Vec::new();
                let mut errs = Vec::new();
                for p in pats {
                    match globset::Glob::new(&p) {
                        Ok(_) => good.push(p),
                        Err(e) => errs.push(format!(
                            "{place}: `ignore` pattern {p:?} is not a valid glob ({}); skipped",
                            e.kind()
                        )),
                    }
                }
                s.ignore = good;
                for e in errs {
                    self.warn(e);
                }
                None
            }
            ("ignore", v) => Some(bad(&format!(
                "must be a list of glob patterns, got {}",
                show(&v)
            ))),
            _ => None,
        };
        if let Some(e) = err {
            self.warn(e);
        }
    }
}

fn show(v: &Value) -> String {
    match v {
        Value::Str(s) => format!("{s:?}"),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::List(l) => format!("{l:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from_text(text: &str) -> Resolved {
        let dir = std::env::temp_dir().join(format!(
            "pipelinescope-config-{}-{}",
            std::process::id(),
            text.len()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("pipelinescope.toml");
        std::fs::write(&path, text).unwrap();
        let mut r = Resolved::default();
        r.load_file(&path);
        r
    }

    #[test]
    fn reads_every_key() {
        let r = from_text(
            "output_dir = \"out\"\ndashboard_title = \"T\"\nenable_dashboard = false\n\
             sample_size = 10\nexpected_size = 1000\nmin_time_threshold_ms = 2.5\n\
             min_time_percentage = 1\nenable_cpu_monitoring = false\n\
             enable_gpu_monitoring = false\nsample_interval_ms = 50\nconsole = \"off\"\n\
             top_n = 3\nsort_by = \"self\"\nignore = [\"helper*\"]\n",
        );
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);
        let s = &r.settings;
        assert_eq!(s.output_dir, PathBuf::from("out"));
        assert_eq!(s.dashboard_title, "T");
        assert!(!s.enable_dashboard && !s.enable_cpu_monitoring && !s.enable_gpu_monitoring);
        assert_eq!((s.sample_size, s.expected_size), (10, 1000));
        assert!(s.sample_size_set);
        assert_eq!(s.min_time_threshold_ms, 2.5);
        assert_eq!(s.min_time_percentage, 1.0);
        assert_eq!(s.sample_interval_ms, 50);
        assert!(!s.console);
        assert_eq!(s.top_n, 3);
        assert_eq!(s.sort_by, SortBy::SelfTime);
        assert_eq!(s.ignore, vec!["helper*".to_string()]);
    }

    #[test]
    fn malformed_toml_names_file_line_and_column() {
        let r = from_text("top_n = 3\nsort_by = \"self\nconsole = \"off\"\n");
        assert_eq!(r.warnings.len(), 1, "{:?}", r.warnings);
        let w = &r.warnings[0];
        assert!(w.contains("pipelinescope.toml:2:"), "{w}");
        assert!(w.contains("malformed TOML"), "{w}");
        assert_eq!(r.settings, Settings::default());
    }

    #[test]
    fn unknown_key_suggests_the_closest() {
        let r = from_text("ouput_dir = \"x\"\ntop_n = 4\n");
        assert_eq!(r.warnings.len(), 1);
        assert!(
            r.warnings[0].contains("did you mean `output_dir`?"),
            "{:?}",
            r.warnings
        );
        assert!(
            r.warnings[0].contains("pipelinescope.toml:1:1"),
            "{:?}",
            r.warnings
        );
        assert_eq!(r.settings.top_n, 4, "good keys still apply");
        assert_eq!(closest_key("zzzzzzzzzzzzzzzzzzzz"), None);
    }

    #[test]
    fn invalid_values_name_key_and_range_and_keep_defaults() {
        let r = from_text(
            "sample_size = -5\nmin_time_percentage = 150\nignore = [\"a[\", \"ok*\"]\n\
             sample_interval_ms = 0\nsort_by = \"fast\"\n",
        );
        let all = r.warnings.join("\n");
        assert_eq!(r.warnings.len(), 5, "{all}");
        assert!(all.contains("`sample_size` must be a whole number of at least 1, got -5"));
        assert!(all.contains("`min_time_percentage` must be a percentage between 0 and 100"));
        assert!(all.contains("\"a[\" is not a valid glob"));
        assert!(all.contains("`sample_interval_ms` must be"));
        assert!(all.contains("`sort_by` must be one of"));
        assert_eq!(r.settings.sample_size, 100);
        assert!(!r.settings.sample_size_set);
        assert_eq!(r.settings.min_time_percentage, 0.0);
        assert_eq!(r.settings.ignore, vec!["ok*".to_string()]);
    }

    #[test]
    fn environment_overrides_file_and_code_overrides_environment() {
        let mut r = from_text("top_n = 3\n");
        r.load_env(
            [
                ("PIPELINESCOPE_TOP_N".to_string(), "7".to_string()),
                ("PIPELINESCOPE_IGNORE".to_string(), "a*, b".to_string()),
                ("PIPELINESCOPE_TOPN".to_string(), "1".to_string()),
                ("OTHER".to_string(), "1".to_string()),
            ]
            .into_iter(),
        );
        assert_eq!(r.settings.top_n, 7);
        assert_eq!(r.settings.ignore, vec!["a*".to_string(), "b".to_string()]);
        assert_eq!(r.warnings.len(), 1);
        assert!(
            r.warnings[0].contains("PIPELINESCOPE_TOPN"),
            "{:?}",
            r.warnings
        );
        assert!(r.warnings[0].contains("did you mean `top_n`?"));
        r.apply("top_n", Value::Int(9), "in code");
        assert_eq!(r.settings.top_n, 9);
    }

    #[test]
    fn discovery_walks_up_six_levels() {
        let base = std::env::temp_dir().join(format!("pipelinescope-find-{}", std::process::id()));
        let deep = base.join("a/b/c/d/e/f");
        std::fs::create_dir_all(&deep).unwrap();
        std::fs::write(base.join(".pipelinescope.toml"), "top_n = 2\n").unwrap();
        assert_eq!(
            find_config_file(&deep),
            Some(base.join(".pipelinescope.toml"))
        );
        let deeper = deep.join("g");
        std::fs::create_dir_all(&deeper).unwrap();
        assert_eq!(
            find_config_file(&deeper),
            None,
            "seven levels up is too far"
        );
        std::fs::remove_dir_all(&base).unwrap();
    }
}
