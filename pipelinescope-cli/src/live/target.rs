//! Turning the TARGET argument of `pipelinescope live` into the address of a live endpoint.
//!
//! A TARGET is an address (`127.0.0.1:9464`, `localhost:9464`, `http://host:port`), a run
//! directory (its `live.addr` file holds the address the program bound), or `latest` / `DIR/latest`
//! (the run directory started last under `./.pipelinescope_output` / `DIR`, finished or not: a
//! running program has not yet written its profile nor moved the `latest` link).

use std::fs;
use std::path::{Path, PathBuf};

use pipelinescope_report::load::{self, DEFAULT_OUTPUT_DIR, PROFILE_FILE};

/// File in a run directory holding the address the live endpoint bound, as `HOST:PORT\n`.
pub const ADDR_FILE: &str = "live.addr";

/// Where to fetch from, and the run directory it came from (if any).
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    /// `http://HOST:PORT`, without a trailing slash.
    pub base_url: String,
    /// The run directory whose `live.addr` named the address.
    pub run_dir: Option<PathBuf>,
}

impl Endpoint {
    /// The URL of the profile so far.
    pub fn profile_url(&self) -> String {
        format!("{}/profile.json", self.base_url)
    }

    /// How the run is named in messages: its directory if known, else the address.
    pub fn label(&self) -> String {
        match &self.run_dir {
            Some(d) => d.display().to_string(),
            None => self.base_url.clone(),
        }
    }
}

/// Resolves a TARGET (see the module docs); the error is one line for the user.
pub fn resolve(arg: &str) -> Result<Endpoint, String> {
    if let Some(rest) = arg.strip_prefix("https://") {
        return Err(format!(
            "https://{rest}: the live endpoint serves plain HTTP; use http:// (through an ssh tunnel for a remote host)"
        ));
    }
    if arg.starts_with("http://") {
        return Ok(Endpoint {
            base_url: base_of_url(arg),
            run_dir: None,
        });
    }
    let path = Path::new(arg);
    if arg == "latest" || path.file_name().is_some_and(|n| n == "latest") {
        // `DIR/latest` names the newest run under DIR even where DIR/latest exists: it is a link
        // to the last *finished* run.
        let dir = if arg == "latest" {
            Path::new(DEFAULT_OUTPUT_DIR)
        } else {
            path.parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."))
        };
        let run = load::newest_run_dir(dir).map_err(|_| {
            format!(
                "{}: no run found for `latest` (no run directory); start the program with PIPELINESCOPE_LIVE=127.0.0.1:0",
                dir.display()
            )
        })?;
        return from_run_dir(&run);
    }
    if path.is_dir() {
        return from_run_dir(path);
    }
    if path.file_name().is_some_and(|n| n == ADDR_FILE) && path.is_file() {
        let dir = path.parent().unwrap_or(Path::new("."));
        return from_run_dir(dir);
    }
    if looks_like_address(arg) {
        return Ok(Endpoint {
            base_url: format!("http://{}", arg.trim_end_matches('/')),
            run_dir: None,
        });
    }
    Err(format!(
        "{arg}: not an address (HOST:PORT or http://...) nor a run directory"
    ))
}

/// `http://host:port/anything` -> `http://host:port` (the endpoint's paths are fixed), keeping a
/// path prefix other than the endpoint's own file names (a reverse proxy may mount it there).
fn base_of_url(url: &str) -> String {
    let trimmed = url.trim_end_matches('/');
    for suffix in ["/profile.json", "/metrics"] {
        if let Some(base) = trimmed.strip_suffix(suffix) {
            return base.to_string();
        }
    }
    trimmed.to_string()
}

/// `HOST:PORT` with a numeric port, or `[v6]:PORT`.
fn looks_like_address(arg: &str) -> bool {
    let Some((host, port)) = arg.trim_end_matches('/').rsplit_once(':') else {
        return false;
    };
    !host.is_empty() && !host.contains('/') && port.parse::<u16>().is_ok()
}

/// Reads `live.addr` of a run directory.
fn from_run_dir(dir: &Path) -> Result<Endpoint, String> {
    let file = dir.join(ADDR_FILE);
    let text = match fs::read_to_string(&file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let ended = if dir.join(PROFILE_FILE).is_file() {
                format!(
                    " (it has ended; read it with `pipelinescope top {}`)",
                    dir.display()
                )
            } else {
                String::new()
            };
            return Err(format!(
                "run {} has no live endpoint{ended}: start the program with PIPELINESCOPE_LIVE=127.0.0.1:0",
                dir.display()
            ));
        }
        Err(e) => return Err(format!("{}: cannot read: {e}", file.display())),
    };
    let addr = text.trim();
    if addr.is_empty() {
        return Err(format!(
            "{}: empty (the program may still be starting; try again)",
            file.display()
        ));
    }
    let base_url = if addr.starts_with("http://") {
        base_of_url(addr)
    } else if looks_like_address(addr) {
        format!("http://{addr}")
    } else {
        return Err(format!(
            "{}: `{addr}` is not an address (expected HOST:PORT)",
            file.display()
        ));
    };
    Ok(Endpoint {
        base_url,
        run_dir: Some(dir.to_path_buf()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmpdir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "pipelinescope-live-target-{name}-{}",
            std::process::id()
        ));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn addresses() {
        let e = resolve("127.0.0.1:9464").unwrap();
        assert_eq!(e.base_url, "http://127.0.0.1:9464");
        assert_eq!(e.profile_url(), "http://127.0.0.1:9464/profile.json");
        assert_eq!(
            resolve("localhost:80").unwrap().base_url,
            "http://localhost:80"
        );
        assert_eq!(resolve("[::1]:9464").unwrap().base_url, "http://[::1]:9464");
        assert_eq!(
            resolve("http://10.0.0.1:9464/profile.json")
                .unwrap()
                .base_url,
            "http://10.0.0.1:9464"
        );
        assert_eq!(
            resolve("http://h:1/scope/").unwrap().base_url,
            "http://h:1/scope"
        );
        assert!(resolve("https://h:1").unwrap_err().contains("plain HTTP"));
        assert!(resolve("nowhere").unwrap_err().contains("not an address"));
        assert!(resolve("host:notaport").is_err());
    }

    #[test]
    fn run_directories_and_latest() {
        let out = tmpdir("latest");
        let old = out.join("run_20260101T000000Z_1");
        let new = out.join("run_20260102T000000Z_2");
        fs::create_dir_all(&old).unwrap();
        fs::create_dir_all(&new).unwrap();
        fs::write(old.join(PROFILE_FILE), "{}").unwrap();
        fs::write(new.join(ADDR_FILE), "127.0.0.1:40001\n").unwrap();
        // `latest` names the finished run; the live view wants the one running now.
        #[cfg(unix)]
        std::os::unix::fs::symlink("run_20260101T000000Z_1", out.join("latest")).unwrap();
        #[cfg(not(unix))]
        fs::write(out.join("latest"), "run_20260101T000000Z_1").unwrap();
        let e = resolve(out.join("latest").to_str().unwrap()).unwrap();
        assert_eq!(e.base_url, "http://127.0.0.1:40001");
        assert_eq!(e.run_dir.as_deref(), Some(new.as_path()));
        let e = resolve(new.to_str().unwrap()).unwrap();
        assert_eq!(e.base_url, "http://127.0.0.1:40001");
        let e = resolve(new.join(ADDR_FILE).to_str().unwrap()).unwrap();
        assert_eq!(e.base_url, "http://127.0.0.1:40001");

        let msg = resolve(old.to_str().unwrap()).unwrap_err();
        assert_eq!(
            msg,
            format!(
                "run {} has no live endpoint (it has ended; read it with `pipelinescope top {}`): start the program with PIPELINESCOPE_LIVE=127.0.0.1:0",
                old.display(),
                old.display()
            )
        );
        fs::write(new.join(ADDR_FILE), "  \n").unwrap();
        assert!(
            resolve(new.to_str().unwrap())
                .unwrap_err()
                .contains("empty")
        );
        fs::write(new.join(ADDR_FILE), "garbage\n").unwrap();
        assert!(
            resolve(new.to_str().unwrap())
                .unwrap_err()
                .contains("not an address")
        );
        let empty = tmpdir("latest-empty");
        let msg = resolve(empty.join("latest").to_str().unwrap()).unwrap_err();
        assert!(msg.contains("no run found for `latest`"), "{msg}");
        let _ = fs::remove_dir_all(out);
        let _ = fs::remove_dir_all(empty);
    }
}
