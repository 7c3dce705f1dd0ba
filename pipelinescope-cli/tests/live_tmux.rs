//! The interactive `pipelinescope live` in a real terminal: tmux runs the binary at 80x24 against
//! the test endpoint, the test types keys and reads the screen. Skipped, with a message, where
//! tmux is not installed, except under CI=true (CI installs it).

mod support {
    pub mod live_server;
}

use std::process::Command;
use std::time::{Duration, Instant};

use support::live_server::{Server, profiles};

/// A tmux server of this test's own (`-L`), so that no user session is touched.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn cmd(&self, args: &[&str]) -> std::process::Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux runs")
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.cmd(&["capture-pane", "-p", "-t", "live"]).stdout)
            .into_owned()
    }

    fn display(&self, format: &str) -> String {
        let out = self.cmd(&["display-message", "-p", "-t", "live", format]);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Waits (at most 20 s: builds run beside the tests) until the screen satisfies `ok`.
    fn wait_for(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let s = self.screen();
            if ok(&s) {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "live"];
        args.extend_from_slice(keys);
        assert!(self.cmd(&args).status.success());
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd(&["kill-server"]);
    }
}

fn tmux_available() -> bool {
    let found = Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found || std::env::var("CI").as_deref() != Ok("true"),
        "tmux is required under CI=true"
    );
    found
}

/// The row of a table line starting with `name`, if on the screen.
fn row_index(screen: &str, name: &str) -> Option<usize> {
    screen
        .lines()
        .position(|l| l.starts_with(&format!("│{name}")))
}

#[test]
fn shows_sorts_ends_and_quits_leaving_the_terminal_clean() {
    if !tmux_available() {
        println!("skipped: tmux is not installed");
        return;
    }
    // A run whose figures move between fetches: the two test snapshots, then the second one
    // going on, a second of its clock per fetch. Each second, parse makes 1000 calls with 10% of
    // self time, write_rows 1 call with 50%; transform has 70% of the stages' own time.
    let [a, b] = profiles();
    let mut answers = vec![(200, serde_json::to_string(&a).unwrap())];
    for i in 0..200u64 {
        let mut p = b.clone();
        p.meta.wall_ns += i * 1_000_000_000;
        for f in &mut p.functions {
            let (calls, self_ns) = match f.name.as_str() {
                "parse" => (1000, 100_000_000),
                "write_rows" => (1, 500_000_000),
                _ => (0, 0),
            };
            f.calls += i * calls;
            f.self_ns += i * self_ns;
        }
        for st in &mut p.stages {
            st.own_ns += i * if st.name == "transform" {
                700_000_000
            } else {
                150_000_000
            };
        }
        answers.push((200, serde_json::to_string(&p).unwrap()));
    }
    let mut server = Server::start(answers, 1000);
    let tmux = Tmux {
        socket: format!("pipelinescope-live-test-{}", std::process::id()),
    };
    let command = format!(
        "{} live {} --interval 0.2; echo EXIT=$?; sleep 60",
        env!("CARGO_BIN_EXE_pipelinescope"),
        server.addr
    );
    let started = tmux.cmd(&[
        "new-session",
        "-d",
        "-s",
        "live",
        "-x",
        "80",
        "-y",
        "24",
        &command,
    ]);
    assert!(started.status.success(), "{started:?}");

    // A frame: header, both tables, the key help.
    let s = tmux.wait_for("the first interval", |s| s.contains("last 1.0s"));
    assert!(
        s.lines()
            .next()
            .unwrap()
            .starts_with("etl_job  run_20260101T000000Z_7"),
        "{s}"
    );
    assert!(s.contains("running"), "{s}");
    assert!(s.contains("Functions by self %"), "{s}");
    assert!(s.contains("│transform ◀ bottleneck"), "{s}");
    assert!(s.contains("s sort Tab table p pause q quit"), "{s}");
    assert!(s.lines().count() <= 24);
    assert_eq!(tmux.display("#{alternate_on}"), "1");

    // By self time write_rows leads; `s`: by calls/s parse does.
    assert!(
        row_index(&s, "write_rows").unwrap() < row_index(&s, "parse").unwrap(),
        "{s}"
    );
    tmux.keys(&["s"]);
    let s = tmux.wait_for("the calls/s order", |s| s.contains("Functions by calls/s"));
    assert!(
        row_index(&s, "parse").unwrap() < row_index(&s, "write_rows").unwrap(),
        "{s}"
    );
    // Tab and `s`: the stages by own time, transform first.
    tmux.keys(&["Tab", "s"]);
    let s = tmux.wait_for("the stages by own time", |s| s.contains("Stages by own %"));
    assert!(
        row_index(&s, "transform").unwrap() < row_index(&s, "source").unwrap(),
        "{s}"
    );

    // The program ends: the last frame stays, marked.
    server.close();
    let s = tmux.wait_for("the end of the program", |s| s.contains("program ended"));
    assert!(row_index(&s, "parse").is_some(), "{s}");

    // `q`: back to the shell, the alternate screen left, the cursor shown, nothing of the view
    // left on the screen.
    tmux.keys(&["q"]);
    let s = tmux.wait_for("the exit", |s| s.contains("EXIT=0"));
    assert!(!s.contains('│') && !s.contains("Functions"), "{s}");
    assert_eq!(tmux.display("#{alternate_on}"), "0");
    assert_eq!(tmux.display("#{cursor_flag}"), "1");
    // Raw mode is off: the shell's echo went to the first column of a fresh line.
    assert!(s.lines().any(|l| l == "EXIT=0"), "{s}");
}

#[test]
fn ctrl_c_quits_and_restores_the_terminal() {
    if !tmux_available() {
        println!("skipped: tmux is not installed");
        return;
    }
    let [a, _] = profiles();
    let mut server = Server::start(vec![(200, serde_json::to_string(&a).unwrap())], 1000);
    let tmux = Tmux {
        socket: format!("pipelinescope-live-test-c-{}", std::process::id()),
    };
    let command = format!(
        "{} live {} --interval 0.2; echo EXIT=$?; sleep 60",
        env!("CARGO_BIN_EXE_pipelinescope"),
        server.addr
    );
    let started = tmux.cmd(&[
        "new-session",
        "-d",
        "-s",
        "live",
        "-x",
        "80",
        "-y",
        "24",
        &command,
    ]);
    assert!(started.status.success(), "{started:?}");
    tmux.wait_for("a frame", |s| s.contains("│parse"));
    tmux.keys(&["C-c"]);
    let s = tmux.wait_for("the exit", |s| s.contains("EXIT=0"));
    assert!(!s.contains('│'), "{s}");
    assert_eq!(tmux.display("#{alternate_on}"), "0");
    server.close();
}
