//! The live endpoint end to end, against a real program (`src/bin/live_child.rs`) that records
//! on 8 threads: every path answers during the run, the final counts stay exact, a thousand
//! requests change nothing in the program's output or exit status, a client that never finishes
//! its request does not hold up the next one, `/metrics` passes `promtool check metrics`, and a
//! real Prometheus server scrapes it.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const THREADS: u64 = 8;
const CALLS: u64 = 20_000;
const RECORDS: u64 = 5_000;

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ps_live_{name}_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn spawn(out: &Path, live: Option<&str>, code: u8) -> Child {
    let mut c = Command::new(env!("CARGO_BIN_EXE_live_child"));
    c.arg(out).arg(code.to_string());
    c.env_remove("PIPELINESCOPE_LIVE");
    if let Some(a) = live {
        c.env("PIPELINESCOPE_LIVE", a);
    }
    c.env("PIPELINESCOPE_CONSOLE", "false");
    c.stdout(Stdio::piped()).stderr(Stdio::piped());
    c.spawn().expect("start the live child")
}

/// The run directory once it exists, and the address in its `live.addr`.
fn wait_addr(out: &Path) -> SocketAddr {
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        let found = std::fs::read_dir(out).ok().and_then(|d| {
            d.flatten()
                .map(|e| e.path().join("live.addr"))
                .find(|p| p.is_file())
        });
        let text = found.and_then(|p| std::fs::read_to_string(p).ok());
        if let Some(Ok(a)) = text.map(|t| t.trim().parse()) {
            return a;
        }
        assert!(
            Instant::now() < until,
            "no live.addr under {}",
            out.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn release(out: &Path) {
    std::fs::write(out.join("release"), b"").unwrap();
}

/// One GET; the status code and the body.
fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).expect("read the answer");
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map_or(String::new(), |(_, b)| b.to_string());
    (status, body)
}

fn finish(child: Child) -> Output {
    child.wait_with_output().expect("the child ends")
}

fn final_profile(out: &Path) -> serde_json::Value {
    let run = std::fs::read_dir(out)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.join("profile_data.json").is_file())
        .expect("a run directory with profile_data.json");
    serde_json::from_str(&std::fs::read_to_string(run.join("profile_data.json")).unwrap()).unwrap()
}

fn calls_of(profile: &serde_json::Value, name: &str) -> u64 {
    profile["functions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["name"].as_str().is_some_and(|n| n.ends_with(name)))
        .map(|f| f["calls"].as_u64().unwrap())
        .sum()
}

fn stage<'a>(profile: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    profile["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("stage {name} in {profile}"))
}

#[test]
fn every_path_answers_during_the_run_and_the_final_counts_are_exact() {
    let out = temp_dir("paths");
    let child = spawn(&out, Some("127.0.0.1:0"), 0);
    let addr = wait_addr(&out);
    let until = Instant::now() + Duration::from_secs(30);
    let live = loop {
        let (status, body) = get(addr, "/profile.json");
        assert_eq!(status, 200, "{body}");
        let p: serde_json::Value = serde_json::from_str(&body).expect("profile JSON");
        // The threads are done once `step` has all its calls and the stage all its records.
        let done = calls_of(&p, "step") == THREADS * CALLS
            && p["stages"].as_array().is_some_and(|v| {
                v.iter()
                    .any(|s| s["name"] == "evens" && s["records_out"] == THREADS * RECORDS / 2)
            });
        if done || Instant::now() > until {
            break p;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(live["schema_version"], 2);
    assert_eq!(calls_of(&live, "step"), THREADS * CALLS);
    assert_eq!(
        stage(&live, "evens")["records_in"],
        THREADS * RECORDS,
        "{}",
        stage(&live, "evens")
    );
    assert!(live["meta"]["wall_ns"].as_u64().unwrap() > 0);

    let (status, metrics) = get(addr, "/metrics");
    assert_eq!(status, 200);
    assert!(metrics.contains("# TYPE pipelinescope_function_calls_total counter"));
    let step_line = metrics
        .lines()
        .find(|l| l.starts_with("pipelinescope_function_calls_total{") && l.contains("step\""))
        .expect("a calls line for step");
    assert!(
        step_line.ends_with(&format!(" {}", THREADS * CALLS)),
        "{step_line}"
    );
    assert!(metrics.contains("pipelinescope_stage_records_out_total{name=\"evens\""));
    assert!(metrics.contains("pipelinescope_process_resident_memory_bytes "));

    let (status, html) = get(addr, "/");
    assert_eq!(status, 200);
    assert!(html.contains("http-equiv=\"refresh\""));
    assert!(html.contains("step"));
    let (status, _) = get(addr, "/nothing");
    assert_eq!(status, 404);

    release(&out);
    let o = finish(child);
    assert!(o.status.success(), "{o:?}");
    let done = final_profile(&out);
    assert_eq!(calls_of(&done, "step"), THREADS * CALLS);
    assert_eq!(stage(&done, "evens")["records_in"], THREADS * RECORDS);
    assert_eq!(stage(&done, "evens")["records_out"], THREADS * RECORDS / 2);
    // The endpoint closed with the run.
    assert!(TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_err());
}

#[test]
fn a_thousand_requests_change_neither_output_nor_exit_status() {
    let quiet_out = temp_dir("quiet");
    let quiet = spawn(&quiet_out, None, 3);
    release(&quiet_out);
    let quiet = finish(quiet);

    let out = temp_dir("busy");
    let child = spawn(&out, Some("127.0.0.1:0"), 3);
    let addr = wait_addr(&out);
    let paths = ["/metrics", "/profile.json", "/", "/missing"];
    let mut ok = 0;
    for i in 0..1_000 {
        let (status, _) = get(addr, paths[i % paths.len()]);
        assert!(matches!(status, 200 | 404 | 503), "{status}");
        ok += usize::from(status != 503);
    }
    assert!(ok >= 900, "{ok} of 1000 answered");
    release(&out);
    let busy = finish(child);
    assert_eq!(busy.status.code(), Some(3));
    assert_eq!(quiet.status.code(), Some(3));
    assert_eq!(busy.stdout, quiet.stdout);
    assert!(!busy.stdout.is_empty());
    assert_eq!(calls_of(&final_profile(&out), "step"), THREADS * CALLS);
}

#[test]
fn a_request_that_never_ends_does_not_block_the_next_one() {
    let out = temp_dir("slow");
    let child = spawn(&out, Some("127.0.0.1:0"), 0);
    let addr = wait_addr(&out);
    // Headers trickled forever, one byte at a time, on several connections.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let trickers: Vec<_> = (0..2)
        .map(|_| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut s = TcpStream::connect(addr).unwrap();
                let _ = s.write_all(b"GET /metrics HTTP/1.1\r\n");
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    if s.write_all(b"X").is_err() {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    let t = Instant::now();
    let (status, _) = get(addr, "/metrics");
    assert_eq!(status, 200);
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for t in trickers {
        t.join().unwrap();
    }
    release(&out);
    assert!(finish(child).status.success());
}

#[test]
fn an_address_that_cannot_be_bound_is_one_warning() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = temp_dir("taken");
    let child = spawn(&out, Some(&addr), 0);
    release(&out);
    let o = finish(child);
    assert!(o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.matches("cannot serve live").count(), 1, "{err}");
    assert_eq!(calls_of(&final_profile(&out), "step"), THREADS * CALLS);
}

#[test]
fn a_public_address_from_the_environment_is_refused() {
    let out = temp_dir("public");
    let child = spawn(&out, Some("0.0.0.0:0"), 0);
    release(&out);
    let o = finish(child);
    assert!(o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("may only name a loopback address"), "{err}");
    assert!(!err.contains("live at"), "{err}");
}

/// `promtool`, where installed (Debian's `prometheus` package); required under CI=true.
fn tool(name: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var("CI").is_err(),
            "{name} is required under CI (apt-get install prometheus)"
        );
        eprintln!("skipped: {name} not installed (apt-get install prometheus)");
    }
    found
}

#[test]
fn metrics_pass_promtool_and_a_real_prometheus_scrapes_them() {
    let (Some(promtool), Some(prometheus)) = (tool("promtool"), tool("prometheus")) else {
        return;
    };
    let out = temp_dir("prom");
    let child = spawn(&out, Some("127.0.0.1:0"), 0);
    let addr = wait_addr(&out);
    let (_, metrics) = get(addr, "/metrics");
    let mut check = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    check
        .stdin
        .take()
        .unwrap()
        .write_all(metrics.as_bytes())
        .unwrap();
    let checked = check.wait_with_output().unwrap();
    assert!(
        checked.status.success(),
        "promtool: {}{}\n{metrics}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );

    // A Prometheus server on a free loopback port, scraping the program every 200 ms.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = out.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 200ms\n  evaluation_interval: 1s\nscrape_configs:\n  \
             - job_name: pipeline\n    static_configs:\n      - targets: ['{addr}']\n"
        ),
    )
    .unwrap();
    let mut server = Command::new(prometheus)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            out.join("tsdb").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let prom: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    // Records per second through the stage that keeps moving while the program waits (10
    // records every ~5 ms), and the exact total of the one that finished.
    let rate = "/api/v1/query?query=rate(pipelinescope_stage_records_out_total%7Bname%3D%22ticks%22%7D%5B2s%5D)";
    let total = "/api/v1/query?query=pipelinescope_stage_records_out_total%7Bname%3D%22evens%22%7D";
    let rate = query(&prom, rate, |x| x > 0.0, &mut server);
    // 10 records per tick, a tick at most every 5 ms: at most 2,000 records/s.
    assert!(rate > 10.0 && rate <= 2_000.0, "{rate} records/s");
    let evens = query(&prom, total, |_| true, &mut server);
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(evens, (THREADS * RECORDS / 2) as f64);
    release(&out);
    assert!(finish(child).status.success());
}

/// Asks Prometheus's HTTP API for an instant query until its first value satisfies `done`
/// (at most 40 s).
fn query(prom: &SocketAddr, query: &str, done: impl Fn(f64) -> bool, server: &mut Child) -> f64 {
    let until = Instant::now() + Duration::from_secs(40);
    let mut answer = String::new();
    loop {
        if let Ok(mut s) = TcpStream::connect_timeout(prom, Duration::from_millis(500)) {
            drop(s.set_read_timeout(Some(Duration::from_secs(5))));
            if write!(
                s,
                "GET {query} HTTP/1.1\r\nHost: {prom}\r\nConnection: close\r\n\r\n"
            )
            .is_ok()
            {
                let mut buf = Vec::new();
                let _ = s.read_to_end(&mut buf);
                answer = String::from_utf8_lossy(&buf).into_owned();
                let body = answer.split_once("\r\n\r\n").map_or("", |(_, b)| b);
                let v: Option<serde_json::Value> = serde_json::from_str(body).ok();
                let found = v.as_ref().and_then(|v| {
                    v["data"]["result"][0]["value"][1]
                        .as_str()
                        .and_then(|x| x.parse::<f64>().ok())
                });
                if let Some(x) = found.filter(|&x| done(x)) {
                    return x;
                }
            }
        }
        if Instant::now() > until {
            let _ = server.kill();
            panic!("Prometheus never answered the query: {answer}");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The `pipelinescope` command of this workspace, built now (a no-op when it is up to date) so
/// that an older build in the target directory is never the one tested.
fn cli() -> PathBuf {
    let dir = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent()?.parent().map(Path::to_path_buf))
        .expect("the test binary's target directory");
    let bin = dir.join(format!("pipelinescope{}", std::env::consts::EXE_SUFFIX));
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut build = Command::new(cargo);
    build.args([
        "build",
        "-q",
        "-p",
        "pipelinescope-cli",
        "--bin",
        "pipelinescope",
    ]);
    if !cfg!(debug_assertions) {
        build.arg("--release");
    }
    let ok = build.status().is_ok_and(|s| s.success());
    assert!(ok && bin.is_file(), "cannot build {}", bin.display());
    bin
}

#[test]
fn pipelinescope_live_once_shows_the_running_program() {
    // Built first: the program waits for the test for 30 s at most.
    let bin = cli();
    let out = temp_dir("cli");
    let child = spawn(&out, Some("127.0.0.1:0"), 0);
    let addr = wait_addr(&out);
    // By address, and by run directory (its live.addr), one interval apart.
    let run_dir = std::fs::read_dir(&out)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.join("live.addr").is_file())
        .unwrap();
    for target in [addr.to_string(), run_dir.display().to_string()] {
        let o = Command::new(&bin)
            .args(["live", &target, "--once", "--interval", "0.3"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(o.status.success(), "{target}: {o:?}");
        assert!(text.contains("step"), "{text}");
        assert!(text.contains("idle_tick"), "{text}");
        assert!(text.contains("evens"), "{text}");
        assert!(text.contains("ticks"), "{text}");
        assert!(!text.contains('\x1b'), "plain text: {text}");
    }
    release(&out);
    assert!(finish(child).status.success());
}
