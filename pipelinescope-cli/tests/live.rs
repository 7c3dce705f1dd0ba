//! `pipelinescope live --once` against a small HTTP server started by the test, standing in for a
//! running program's live endpoint.
//!
//! What the command expects of the endpoint (the program side must keep to it):
//!
//! - `GET /profile.json` over HTTP/1.1 answers `200` with the profile of the run so far: exactly
//!   the `profile_data.json` document (`pipelinescope_core::Profile`, `schema_version` 2), with a
//!   `Content-Length` or the connection closed after the body.
//! - Figures are cumulative since the run started; `meta.run_id` and `meta.pid` stay the same
//!   for the whole run and `meta.wall_ns` grows. Rates are differences of two snapshots over the
//!   difference of their `meta.wall_ns` (a different run id or pid, or a smaller `wall_ns`, reads
//!   as a new run: figures since its start).
//! - `resources` may be absent (the view says "resource sampler off"); when present, its
//!   `timeline` samples (`t_ms` since the run's start) give the CPU and memory sparklines.
//! - The run directory holds `live.addr`: one line `HOST:PORT` (a trailing newline is fine).
//! - When the program ends, connecting is refused: the view says "program ended" and keeps the
//!   last frame; `--once` prints the last frame it has, marked so.
//!
//! The command fails with exit code 2 and one line on stderr when the first fetch gets nothing:
//! refused, not a profile, HTTP status other than 200.
//!
//! Against a real program: run it with `PIPELINESCOPE_LIVE=127.0.0.1:0`, then
//! `pipelinescope live RUN_DIR --once --interval 0.5` prints one frame (exit code 0) while it
//! runs, and exit code 2 with "cannot connect" once it has ended.

mod support {
    pub mod command;
    pub mod live_server;
}

use std::fs;

use support::command::{bin, run, scratch};
use support::live_server::{Server, closed_port, snapshots};

fn row<'a>(out: &'a str, start: &str) -> &'a str {
    out.lines()
        .find(|l| l.starts_with(&format!("│{start}")))
        .unwrap_or_else(|| panic!("no row {start:?} in:\n{out}"))
}

fn cells(line: &str) -> Vec<&str> {
    line.trim_matches('│')
        .split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect()
}

#[test]
fn once_prints_the_interval_between_two_snapshots() {
    let [a, b] = snapshots();
    let mut server = Server::start(vec![(200, a), (200, b)], 2);
    let (code, out, err) = run(bin().args(["live", &server.addr, "--once", "--interval", "0.2"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(server.paths(), ["/profile.json", "/profile.json"]);
    assert!(!out.contains('\x1b'), "control codes in --once output");
    assert!(out.lines().all(|l| l.chars().count() <= 100));
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].starts_with("etl_job  run_20260101T000000Z_7  pid 7  up 3.0s  running"),
        "{out}"
    );
    assert!(lines[1].starts_with("last 2.0s: "), "{out}");
    assert!(lines[1].contains("bottleneck now: transform"), "{out}");
    // function, self %, calls/s, p99, calls, self total
    assert_eq!(
        cells(row(&out, "parse")),
        ["parse", "40.0%", "2.00k", "200 ns", "5.00k", "1.00 s"]
    );
    assert_eq!(
        cells(row(&out, "late_starter")),
        ["late_starter", "15.0%", "15", "150 ns", "30", "300.00 ms"]
    );
    assert_eq!(
        cells(row(&out, "write_rows")),
        ["write_rows", "0.0%", "0", "-", "10", "50.00 ms"]
    );
    // stage, in/s, out/s, own %, out total
    assert_eq!(
        cells(row(&out, "source")),
        ["source", "0", "1.00k", "20.0%", "3.00k"]
    );
    assert_eq!(
        cells(row(&out, "transform")),
        ["transform ◀ bottleneck", "1.00k", "500", "70.0%", "2.00k"]
    );
    assert_eq!(cells(row(&out, "sink")), ["sink", "500", "0", "10.0%", "0"]);
    // CPU over the interval: the mean of the samples at 2 s and 3 s.
    assert!(out.contains("CPU 200% (max 200%)"), "{out}");
    assert!(out.contains("RSS 130.0 MiB (peak 130.0 MiB)"), "{out}");
    assert!(!out.contains("q quit"));
}

#[test]
fn once_with_interval_zero_fetches_once_and_reads_the_whole_run() {
    let [a, _] = snapshots();
    let mut server = Server::start(vec![(200, a)], 1);
    let url = format!("http://{}/profile.json", server.addr);
    let (code, out, err) = run(bin().args(["live", &url, "--once", "--interval", "0"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(server.paths(), ["/profile.json"]);
    assert!(
        out.lines()
            .nth(1)
            .unwrap()
            .starts_with("since start (1.0s): "),
        "{out}"
    );
    assert_eq!(
        cells(row(&out, "parse")),
        ["parse", "20.0%", "1.00k", "100 ns", "1.00k", "200.00 ms"]
    );
    assert!(out.contains("bottleneck now: sink"), "{out}");
}

#[test]
fn a_run_directory_and_latest_name_the_endpoint_through_live_addr() {
    let [a, _] = snapshots();
    let mut server = Server::start(vec![(200, a)], 2);
    let out_dir = scratch("addr");
    let old = out_dir.join("run_20251231T000000Z_1");
    // Named as the served run: a run directory's name is its run id.
    let run_dir = out_dir.join("run_20260101T000000Z_7");
    fs::create_dir_all(&old).unwrap();
    fs::create_dir_all(&run_dir).unwrap();
    fs::write(old.join("profile_data.json"), "{}").unwrap();
    fs::write(run_dir.join("live.addr"), format!("{}\n", server.addr)).unwrap();
    fs::write(out_dir.join("latest"), "run_20251231T000000Z_1").unwrap();
    for target in [run_dir.clone(), out_dir.join("latest")] {
        let (code, out, err) = run(bin().args([
            "live",
            target.to_str().unwrap(),
            "--once",
            "--interval",
            "0",
        ]));
        assert_eq!(code, 0, "{}: {err}", target.display());
        assert!(out.starts_with("etl_job  run_20260101T000000Z_7"), "{out}");
    }
    assert_eq!(server.paths().len(), 2);
    // `latest` relative to the working directory: ./.pipelinescope_output.
    let cwd = scratch("cwd");
    let (code, _, err) = run(bin()
        .args(["live", "--once", "--interval", "0"])
        .current_dir(&cwd));
    assert_eq!(code, 2);
    assert!(
        err.contains(".pipelinescope_output: no run found for `latest`"),
        "{err}"
    );
    // A run without an endpoint.
    let (code, out, err) = run(bin().args(["live", old.to_str().unwrap(), "--once"]));
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert_eq!(
        err.trim_end(),
        format!(
            "pipelinescope: run {} has no live endpoint (it has ended; read it with `pipelinescope top {}`): start the program with PIPELINESCOPE_LIVE=127.0.0.1:0",
            old.display(),
            old.display()
        )
    );
    let _ = fs::remove_dir_all(out_dir);
    let _ = fs::remove_dir_all(cwd);
}

#[test]
fn nothing_listening_is_exit_code_2() {
    let addr = closed_port();
    let (code, out, err) = run(bin().args(["live", &addr, "--once"]));
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(&format!(
            "pipelinescope: http://{addr}/profile.json: cannot connect: "
        )),
        "{err}"
    );
    assert!(err.contains("is the program running"), "{err}");
    // Through a run directory, the message names the run.
    let d = scratch("refused");
    fs::write(d.join("live.addr"), &addr).unwrap();
    let (code, _, err) = run(bin().args(["live", d.to_str().unwrap(), "--once"]));
    assert_eq!(code, 2);
    assert!(
        err.contains(&format!(
            "(the program of run {} is not serving: it has stopped, or has not started yet)",
            d.display()
        )),
        "{err}"
    );
    // A run that has written its profile has ended: its live.addr is left over.
    fs::write(d.join("profile_data.json"), "{}").unwrap();
    let (code, _, err) = run(bin().args(["live", d.to_str().unwrap(), "--once"]));
    assert_eq!(code, 2);
    assert_eq!(
        err.trim_end(),
        format!(
            "pipelinescope: run {} has ended (nothing answers at http://{addr} any more): read it with `pipelinescope top {}`",
            d.display(),
            d.display()
        )
    );
    let _ = fs::remove_dir_all(d);
}

#[test]
fn a_left_over_live_addr_does_not_show_another_run() {
    let [a, _] = snapshots();
    let mut server = Server::start(vec![(200, a)], 1);
    // The server runs run_20260101T000000Z_7; this directory's run is another one.
    let d = scratch("other").join("run_20251231T000000Z_3");
    fs::create_dir_all(&d).unwrap();
    fs::write(d.join("live.addr"), &server.addr).unwrap();
    let (code, out, err) = run(bin().args(["live", d.to_str().unwrap(), "--once"]));
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert_eq!(
        err.trim_end(),
        format!(
            "pipelinescope: run {} has ended; http://{a} now serves run run_20260101T000000Z_7 (watch it with `pipelinescope live http://{a}`)",
            d.display(),
            a = server.addr
        )
    );
    assert_eq!(server.paths().len(), 1);
    let _ = fs::remove_dir_all(d.parent().unwrap());
}

#[test]
fn answers_that_are_not_profiles_are_exit_code_2() {
    let cases = [
        (
            (200, "{\"schema_version\": 1,".to_string()),
            "truncated JSON",
        ),
        (
            (200, "<html>hello</html>".to_string()),
            "corrupt JSON at line 1, column 1",
        ),
        (
            (200, "{\"a\": 1}".to_string()),
            "not a PipelineScope profile",
        ),
        (
            (200, "{\"schema_version\": 9}".to_string()),
            "written by schema version 9",
        ),
        (
            (500, "oops".to_string()),
            "HTTP 500 (is this a PipelineScope live endpoint?)",
        ),
    ];
    for (answer, expected) in cases {
        let mut server = Server::start(vec![answer], 1);
        let (code, out, err) = run(bin().args(["live", &server.addr, "--once"]));
        assert_eq!(code, 2, "{expected}: {out}");
        assert!(out.is_empty());
        assert_eq!(err.lines().count(), 1, "{err}");
        let url = format!("http://{}/profile.json", server.addr);
        assert!(err.starts_with(&format!("pipelinescope: {url}: ")), "{err}");
        assert!(err.contains(expected), "{expected}: {err}");
        assert_eq!(server.paths(), ["/profile.json"]);
    }
}

#[test]
fn a_program_that_ends_between_the_fetches_shows_its_last_frame() {
    let [a, _] = snapshots();
    // One answer, then the server closes: the second fetch is refused.
    let mut server = Server::start(vec![(200, a)], 1);
    let (code, out, err) = run(bin().args(["live", &server.addr, "--once", "--interval", "0.3"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(server.paths(), ["/profile.json"]);
    assert!(
        out.lines().next().unwrap().ends_with("program ended"),
        "{out}"
    );
    assert!(out.contains("since start (1.0s)"), "{out}");
    assert!(row(&out, "parse").contains("20.0%"), "{out}");
}

#[test]
fn usage_errors() {
    let addr = closed_port();
    for (args, expected) in [
        (
            vec!["--interval", "0"],
            "--interval 0: must be a number of seconds above 0 (0 only with --once)",
        ),
        (vec!["--interval=-1", "--once"], "--interval -1: must be"),
        (
            vec!["--interval", "NaN", "--once"],
            "--interval NaN: must be",
        ),
    ] {
        let (code, _, err) = run(bin().arg("live").arg(&addr).args(&args));
        assert_eq!(code, 2, "{args:?}");
        assert!(
            err.starts_with(&format!("pipelinescope: {expected}")),
            "{err}"
        );
    }
    let (code, _, err) = run(bin().args(["live", "https://127.0.0.1:1", "--once"]));
    assert_eq!(code, 2);
    assert!(err.contains("plain HTTP"), "{err}");
    let (code, _, err) = run(bin().args(["live", "no/such/dir", "--once"]));
    assert_eq!(code, 2);
    assert!(
        err.contains("not an address (HOST:PORT or http://...) nor a run directory"),
        "{err}"
    );
}

#[test]
fn without_once_standard_output_must_be_a_terminal() {
    // Checked before anything is fetched: nothing listens there, and that is not the error.
    let (code, out, err) = run(bin().args(["live", &closed_port()]));
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert_eq!(
        err.trim_end(),
        "pipelinescope: standard output is not a terminal: use --once for plain text"
    );
}
