//! Finding and reading `profile_data.json`, with errors that name the file and the problem.
//!
//! A run is named by a run directory (holding `profile_data.json`), by the path of a
//! `profile_data.json` itself, or by the word `latest`: the newest run of the default output
//! directory (`.pipelinescope_output`). `DIR/latest` names the newest run under `DIR`. The newest
//! run is the one a `latest` file or symlink in the output directory points to, else the run
//! directory with the greatest name (run directories are named by their start time, so the
//! greatest name is the newest run).
//!
//! The schema version is read before the rest of the document, so a profile written by a
//! newer layout is reported as such rather than as a confusing field error.

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use pipelinescope_core::profile::{Profile, SCHEMA_VERSION};
use serde::Deserialize;

/// File name of a run's profile inside its run directory.
pub const PROFILE_FILE: &str = "profile_data.json";
/// Default output directory of runs, relative to the working directory.
pub const DEFAULT_OUTPUT_DIR: &str = ".pipelinescope_output";

/// Why a run could not be found or read. Its `Display` is one line naming the path.
#[derive(Debug)]
pub enum LoadError {
    /// Nothing exists at the path.
    NotFound {
        /// The path given.
        path: PathBuf,
    },
    /// A directory without `profile_data.json`.
    NoRun {
        /// The directory.
        dir: PathBuf,
    },
    /// `latest` was asked for, but the output directory holds no run.
    NoLatest {
        /// The output directory searched.
        dir: PathBuf,
    },
    /// The file exists but could not be read.
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The file ends in the middle of the JSON document.
    Truncated {
        /// The file.
        path: PathBuf,
    },
    /// The file is not valid JSON.
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Line of the first syntax error (1-based).
        line: usize,
        /// Column of the first syntax error (1-based).
        column: usize,
        /// What the parser found wrong.
        message: String,
    },
    /// Valid JSON without a `schema_version` number: not a PipelineScope profile.
    NotAProfile {
        /// The file.
        path: PathBuf,
    },
    /// A profile of a layout this tool does not read.
    SchemaVersion {
        /// The file.
        path: PathBuf,
        /// Version found in the file.
        found: u64,
        /// Newest version this tool reads (it reads every one from 1).
        expected: u32,
    },
    /// The version matches but the document does not have the expected fields.
    Layout {
        /// The file.
        path: PathBuf,
        /// What the deserializer found wrong.
        message: String,
    },
    /// Profiles to be combined have different schema versions.
    MixedVersions {
        /// The first file.
        first: PathBuf,
        /// Its version.
        first_version: u32,
        /// The file whose version differs.
        other: PathBuf,
        /// Its version.
        other_version: u32,
    },
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::NotFound { path } => {
                write!(f, "{}: no such file or directory", path.display())
            }
            LoadError::NoRun { dir } => write!(
                f,
                "{}: directory holds no run ({PROFILE_FILE} is missing)",
                dir.display()
            ),
            LoadError::NoLatest { dir } => write!(
                f,
                "{}: no run found for `latest` (no `latest` link and no run directory with {PROFILE_FILE})",
                dir.display()
            ),
            LoadError::Io { path, source } => {
                write!(f, "{}: cannot read: {source}", path.display())
            }
            LoadError::Truncated { path } => write!(
                f,
                "{}: truncated JSON (the file ends before the document does)",
                path.display()
            ),
            LoadError::Corrupt {
                path,
                line,
                column,
                message,
            } => write!(
                f,
                "{}: corrupt JSON at line {line}, column {column}: {message}",
                path.display()
            ),
            LoadError::NotAProfile { path } => write!(
                f,
                "{}: not a PipelineScope profile (no schema_version field)",
                path.display()
            ),
            LoadError::SchemaVersion {
                path,
                found,
                expected,
            } => write!(
                f,
                "{}: written by schema version {found}, this tool reads 1 to {expected}",
                path.display()
            ),
            LoadError::Layout { path, message } => {
                write!(
                    f,
                    "{}: unexpected profile layout: {message}",
                    path.display()
                )
            }
            LoadError::MixedVersions {
                first,
                first_version,
                other,
                other_version,
            } => write!(
                f,
                "{}: schema version {other_version} differs from {} (schema version {first_version}); cannot combine them",
                other.display(),
                first.display()
            ),
        }
    }
}

impl std::error::Error for LoadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LoadError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Turns a RUN argument into the path of its `profile_data.json` (see the module docs).
pub fn resolve_run(arg: &str) -> Result<PathBuf, LoadError> {
    if arg == "latest" {
        return latest_in(Path::new(DEFAULT_OUTPUT_DIR));
    }
    let path = Path::new(arg);
    let named_latest = path.file_name().is_some_and(|n| n == "latest");
    if named_latest && !path.is_dir() {
        // `DIR/latest`, whether or not DIR holds a `latest` file or link to a file.
        let parent = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        return latest_in(parent);
    }
    match fs::metadata(path) {
        Ok(m) if m.is_dir() => {
            let file = path.join(PROFILE_FILE);
            if file.is_file() {
                Ok(file)
            } else {
                Err(LoadError::NoRun {
                    dir: path.to_path_buf(),
                })
            }
        }
        Ok(_) => Ok(path.to_path_buf()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(LoadError::NotFound {
            path: path.to_path_buf(),
        }),
        Err(source) => Err(LoadError::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// The newest run under an output directory, as the path of its `profile_data.json`.
pub fn latest_in(dir: &Path) -> Result<PathBuf, LoadError> {
    if !dir.is_dir() {
        return Err(LoadError::NoLatest {
            dir: dir.to_path_buf(),
        });
    }
    let link = dir.join("latest");
    if let Ok(m) = fs::metadata(&link) {
        // A symlink (followed by metadata) or a directory named `latest`.
        if m.is_dir() {
            let file = link.join(PROFILE_FILE);
            if file.is_file() {
                return Ok(file);
            }
        } else if let Ok(text) = fs::read_to_string(&link) {
            // A plain file holding the run directory's name or path.
            let name = text.trim();
            if !name.is_empty() {
                for candidate in [dir.join(name), PathBuf::from(name)] {
                    let file = candidate.join(PROFILE_FILE);
                    if file.is_file() {
                        return Ok(file);
                    }
                    if candidate.is_file() {
                        return Ok(candidate);
                    }
                }
            }
        }
    }
    newest_entry(dir, |path| {
        let file = path.join(PROFILE_FILE);
        file.is_file().then_some(file)
    })
}

/// The run directory started last under an output directory, finished or not: the directory
/// with the greatest name, `run_*` directories first (the order [`latest_in`] falls back to).
/// A running program has no `profile_data.json` yet and its `latest` link still names the run
/// before it, so this is the newest run for tools that watch a run while it goes on.
pub fn newest_run_dir(dir: &Path) -> Result<PathBuf, LoadError> {
    if !dir.is_dir() {
        return Err(LoadError::NoLatest {
            dir: dir.to_path_buf(),
        });
    }
    newest_entry(dir, |path| {
        let is_link = path.file_name().is_some_and(|n| n == "latest");
        (!is_link && path.is_dir()).then(|| path.to_path_buf())
    })
}

/// Of the entries of `dir` that `pick` maps to a path, the one of the newest run: directories
/// named run_* win over others; among them the greatest name is the newest.
fn newest_entry(dir: &Path, pick: impl Fn(&Path) -> Option<PathBuf>) -> Result<PathBuf, LoadError> {
    let entries = fs::read_dir(dir).map_err(|source| LoadError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut runs: Vec<(bool, String, PathBuf)> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            pick(&e.path()).map(|found| (name.starts_with("run_"), name, found))
        })
        .collect();
    runs.sort();
    runs.pop()
        .map(|(_, _, found)| found)
        .ok_or_else(|| LoadError::NoLatest {
            dir: dir.to_path_buf(),
        })
}

#[derive(Deserialize)]
struct VersionOnly {
    schema_version: Option<serde_json::Value>,
}

fn json_error(path: &Path, e: serde_json::Error) -> LoadError {
    use serde_json::error::Category;
    match e.classify() {
        Category::Eof => LoadError::Truncated {
            path: path.to_path_buf(),
        },
        Category::Syntax | Category::Io => LoadError::Corrupt {
            path: path.to_path_buf(),
            line: e.line(),
            column: e.column(),
            message: strip_position(&e.to_string()),
        },
        Category::Data => LoadError::Layout {
            path: path.to_path_buf(),
            message: e.to_string(),
        },
    }
}

/// serde_json appends " at line L column C"; the error says that itself.
fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

/// Parses a profile from bytes read from `path` (used in messages only).
pub fn parse_profile(path: &Path, bytes: &[u8]) -> Result<Profile, LoadError> {
    // A profile is a JSON object; anything else (an array, a number) is some other document.
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        None => {
            return Err(LoadError::Truncated {
                path: path.to_path_buf(),
            });
        }
        Some(b'{') => {}
        Some(_) if serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok() => {
            return Err(LoadError::NotAProfile {
                path: path.to_path_buf(),
            });
        }
        Some(_) => {}
    }
    // First only the version: any layout change of a later version must not surface as a serde
    // error about some field.
    let head: VersionOnly = match serde_json::from_slice(bytes) {
        Ok(h) => h,
        Err(e) if e.classify() == serde_json::error::Category::Data => {
            return Err(LoadError::NotAProfile {
                path: path.to_path_buf(),
            });
        }
        Err(e) => return Err(json_error(path, e)),
    };
    let found = match head.schema_version.as_ref().and_then(|v| v.as_u64()) {
        Some(v) => v,
        None => {
            return Err(LoadError::NotAProfile {
                path: path.to_path_buf(),
            });
        }
    };
    // Schema 2 only added the optional `lines`, so a version-1 file reads as one without them.
    if !(1..=u64::from(SCHEMA_VERSION)).contains(&found) {
        return Err(LoadError::SchemaVersion {
            path: path.to_path_buf(),
            found,
            expected: SCHEMA_VERSION,
        });
    }
    serde_json::from_slice(bytes).map_err(|e| json_error(path, e))
}

/// Reads a profile from the path of a `profile_data.json`.
pub fn load_file(path: &Path) -> Result<Profile, LoadError> {
    let bytes = fs::read(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            LoadError::NotFound {
                path: path.to_path_buf(),
            }
        } else {
            LoadError::Io {
                path: path.to_path_buf(),
                source,
            }
        }
    })?;
    parse_profile(path, &bytes)
}

/// Resolves a RUN argument and reads its profile; returns the file's path too.
pub fn load_run(arg: &str) -> Result<(PathBuf, Profile), LoadError> {
    let path = resolve_run(arg)?;
    let profile = load_file(&path)?;
    Ok((path, profile))
}

/// Checks that all profiles share one schema version, naming the first file that differs.
pub fn check_same_version(runs: &[(PathBuf, Profile)]) -> Result<(), LoadError> {
    let Some((first, p0)) = runs.first() else {
        return Ok(());
    };
    for (path, p) in &runs[1..] {
        if p.schema_version != p0.schema_version {
            return Err(LoadError::MixedVersions {
                first: first.clone(),
                first_version: p0.schema_version,
                other: path.clone(),
                other_version: p.schema_version,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmpdir(name: &str) -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("pipelinescope-load-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    fn good() -> String {
        serde_json::to_string(&Profile {
            schema_version: SCHEMA_VERSION,
            ..Default::default()
        })
        .unwrap()
    }

    #[test]
    fn classifies_bad_documents() {
        let p = Path::new("x.json");
        let g = good();
        assert!(parse_profile(p, g.as_bytes()).is_ok());
        let e = parse_profile(p, &g.as_bytes()[..g.len() / 2]).unwrap_err();
        assert!(matches!(e, LoadError::Truncated { .. }), "{e}");
        let e = parse_profile(p, b"{\"schema_version\": 1,, }").unwrap_err();
        assert!(matches!(e, LoadError::Corrupt { line: 1, .. }), "{e}");
        let e = parse_profile(p, b"[1,2]").unwrap_err();
        assert!(matches!(e, LoadError::NotAProfile { .. }), "{e}");
        let e = parse_profile(p, b"{\"a\": 1}").unwrap_err();
        assert!(matches!(e, LoadError::NotAProfile { .. }), "{e}");
        // A future layout: the version is reported, not the missing fields.
        let e =
            parse_profile(p, b"{\"schema_version\": 7, \"totally\": \"different\"}").unwrap_err();
        assert_eq!(
            e.to_string(),
            "x.json: written by schema version 7, this tool reads 1 to 2"
        );
        // Version 1, from before the line tables, still reads.
        let v1 = serde_json::to_string(&Profile {
            schema_version: 1,
            ..Default::default()
        })
        .unwrap();
        assert!(parse_profile(p, v1.as_bytes()).unwrap().lines.is_empty());
        let e = parse_profile(p, b"{\"schema_version\": 1, \"meta\": 3}").unwrap_err();
        assert!(matches!(e, LoadError::Layout { .. }), "{e}");
        for e in [
            parse_profile(p, b"{").unwrap_err(),
            parse_profile(p, b"nope").unwrap_err(),
        ] {
            assert!(!e.to_string().contains('\n'));
            assert!(e.to_string().starts_with("x.json: "));
        }
    }

    #[test]
    fn resolves_runs_and_latest() {
        let d = tmpdir("resolve");
        for name in ["run_20260101_000000", "run_20260102_000000", "zzz_other"] {
            fs::create_dir_all(d.join(name)).unwrap();
            fs::write(d.join(name).join(PROFILE_FILE), good()).unwrap();
        }
        fs::create_dir_all(d.join("run_20270101_empty")).unwrap();
        let latest = d.join("latest");
        let got = resolve_run(latest.to_str().unwrap()).unwrap();
        assert_eq!(got, d.join("run_20260102_000000").join(PROFILE_FILE));
        // A `latest` file naming a run wins.
        fs::write(&latest, "run_20260101_000000\n").unwrap();
        let got = resolve_run(latest.to_str().unwrap()).unwrap();
        assert_eq!(got, d.join("run_20260101_000000").join(PROFILE_FILE));
        let dir = d.join("run_20260101_000000");
        assert_eq!(
            resolve_run(dir.to_str().unwrap()).unwrap(),
            dir.join(PROFILE_FILE)
        );
        let e = resolve_run(d.join("run_20270101_empty").to_str().unwrap()).unwrap_err();
        assert!(matches!(e, LoadError::NoRun { .. }));
        let e = resolve_run(d.join("missing").to_str().unwrap()).unwrap_err();
        assert!(matches!(e, LoadError::NotFound { .. }));
        let empty = tmpdir("resolve-empty");
        let e = resolve_run(empty.join("latest").to_str().unwrap()).unwrap_err();
        assert!(matches!(e, LoadError::NoLatest { .. }));
        let _ = fs::remove_dir_all(d);
        let _ = fs::remove_dir_all(empty);
    }

    #[test]
    fn the_newest_run_dir_need_not_have_finished() {
        let d = tmpdir("newest");
        fs::create_dir_all(d.join("run_20260101_000000")).unwrap();
        fs::write(d.join("run_20260101_000000").join(PROFILE_FILE), good()).unwrap();
        // A running program's directory: no profile yet, and `latest` still names the run before.
        fs::create_dir_all(d.join("run_20260102_000000_42")).unwrap();
        fs::create_dir_all(d.join("zzz_not_a_run")).unwrap();
        fs::write(d.join("run_20260103_a_file"), "").unwrap();
        fs::write(d.join("latest"), "run_20260101_000000\n").unwrap();
        assert_eq!(
            newest_run_dir(&d).unwrap(),
            d.join("run_20260102_000000_42")
        );
        assert_eq!(
            latest_in(&d).unwrap(),
            d.join("run_20260101_000000").join(PROFILE_FILE)
        );
        let e = newest_run_dir(&d.join("missing")).unwrap_err();
        assert!(matches!(e, LoadError::NoLatest { .. }), "{e}");
        let _ = fs::remove_dir_all(d);
    }
}
