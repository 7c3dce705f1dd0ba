//! Running the built `pipelinescope` binary from a test, and scratch directories for it: shared
//! by every test file of the command.

use std::fs;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

/// The command, built for this test run.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_pipelinescope"))
}

/// Runs `cmd` to its end: exit code (-1 when killed by a signal), stdout and stderr.
pub fn run(cmd: &mut Command) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().unwrap();
    (
        status.code().unwrap_or(-1),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

/// A fresh, empty directory of its own for each call, named after the test file's binary and
/// `name`.
pub fn scratch(name: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let exe = std::env::current_exe().ok();
    let file = exe
        .as_ref()
        .and_then(|e| e.file_stem())
        .and_then(|s| s.to_str())
        .and_then(|s| s.split('-').next())
        .unwrap_or("test");
    let d = std::env::temp_dir().join(format!(
        "pipelinescope-{file}-{name}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).unwrap();
    d
}
