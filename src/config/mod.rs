//! Run settings: defaults, then `pipelinescope.toml` (found from the working directory upward),
//! then `PIPELINESCOPE_*` environment variables, then [`Config`] set in code.
//!
//! Bad input never stops the program: each problem becomes one warning naming the file (or
//! variable), the key and what is allowed, and the setting keeps its previous value.

mod builder;
mod resolve;

pub use builder::Config;
#[cfg(test)]
use {builder::Value, resolve::closest_key};

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
