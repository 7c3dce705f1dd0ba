//! Resolution: the defaults, then the config file, then the environment, then [`Config`]'s
//! overrides, each key checked and each problem one warning.

use super::builder::Value;
use super::{KEYS, Resolved, SortBy};
use std::path::{Path, PathBuf};

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

    pub(super) fn load_file(&mut self, path: &Path) {
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

    pub(super) fn load_env(&mut self, vars: impl Iterator<Item = (String, String)>) {
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

    pub(super) fn apply(&mut self, key: &str, value: Value, place: &str) {
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
