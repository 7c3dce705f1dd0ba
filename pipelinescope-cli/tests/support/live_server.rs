//! A stand-in for a running program's live endpoint, and the snapshots it serves: shared by the
//! `pipelinescope live` tests (see `live.rs` for what the command expects of the endpoint).

#![allow(dead_code)] // each test file uses its own part of it

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use pipelinescope_core::profile::{
    FunctionStats, Histogram, Percentiles, Profile, ResourceSample, Resources, RunMeta, StageStats,
};

/// A function whose calls took the given `(ns, count)` times.
pub fn function(name: &str, self_ns: u64, times: &[(u64, u64)]) -> FunctionStats {
    let mut h = hdrhistogram::Histogram::<u64>::new(2).unwrap();
    for &(v, n) in times {
        h.record_n(v, n).unwrap();
    }
    let calls: u64 = times.iter().map(|t| t.1).sum();
    let cumulative: u64 = times.iter().map(|t| t.0 * t.1).sum();
    FunctionStats {
        name: name.into(),
        module: "etl".into(),
        file: "src/main.rs".into(),
        line: 1,
        calls,
        timed_calls: calls,
        cumulative_ns: cumulative,
        self_ns,
        percentiles: Percentiles::from_hdr(&h, h.min(), h.max(), (cumulative / calls) as f64),
        histogram: Histogram::from_hdr(&h),
        ..Default::default()
    }
}

pub fn stage(name: &str, order: u32, rin: u64, rout: u64, own_ns: u64) -> StageStats {
    StageStats {
        name: name.into(),
        order,
        invocations: 1,
        records_in: rin,
        records_out: rout,
        own_ns,
        ..Default::default()
    }
}

/// Snapshots of one run at 1 s and 3 s (as in the model's unit tests).
pub fn snapshots() -> [String; 2] {
    let [a, b] = profiles();
    [
        serde_json::to_string(&a).unwrap(),
        serde_json::to_string(&b).unwrap(),
    ]
}

/// The two snapshots as profiles.
pub fn profiles() -> [Profile; 2] {
    let meta = |wall_ns| RunMeta {
        run_id: "run_20260101T000000Z_7".into(),
        command_line: vec!["/opt/bin/etl_job".into()],
        pid: 7,
        wall_ns,
        ..Default::default()
    };
    let res = |samples: &[(f64, f64, u64)]| Resources {
        timeline: samples
            .iter()
            .map(|&(t_ms, cpu_percent, rss_bytes)| ResourceSample {
                t_ms,
                cpu_percent,
                rss_bytes,
                ..Default::default()
            })
            .collect(),
        peak_rss_bytes: samples.iter().map(|s| s.2).max().unwrap(),
        ..Default::default()
    };
    let a = Profile {
        schema_version: pipelinescope_core::SCHEMA_VERSION,
        meta: meta(1_000_000_000),
        functions: vec![
            function("parse", 200_000_000, &[(100, 1000)]),
            function("write_rows", 50_000_000, &[(240, 10)]),
        ],
        stages: vec![
            stage("source", 0, 0, 1000, 100_000_000),
            stage("transform", 1, 1000, 1000, 200_000_000),
            stage("sink", 2, 1000, 0, 1_500_000_000),
        ],
        resources: Some(res(&[(1000.0, 50.0, 100 << 20)])),
        ..Default::default()
    };
    let b = Profile {
        schema_version: pipelinescope_core::SCHEMA_VERSION,
        meta: meta(3_000_000_000),
        functions: vec![
            function("parse", 1_000_000_000, &[(100, 1000), (200, 4000)]),
            function("write_rows", 50_000_000, &[(240, 10)]),
            function("late_starter", 300_000_000, &[(150, 30)]),
        ],
        stages: vec![
            stage("source", 0, 0, 3000, 300_000_000),
            stage("transform", 1, 3000, 2000, 900_000_000),
            stage("sink", 2, 2000, 0, 1_600_000_000),
        ],
        resources: Some(res(&[
            (1000.0, 50.0, 100 << 20),
            (2000.0, 150.0, 120 << 20),
            (3000.0, 250.0, 130 << 20),
        ])),
        ..Default::default()
    };
    [a, b]
}

/// One canned answer: status and body.
pub type Answer = (u16, String);

/// A server on 127.0.0.1 that answers `/profile.json` with `answers` in turn (the last one
/// again once they run out) and anything else with 404, for at most `max_requests` requests;
/// then it closes, so that connecting is refused, as after a program's end.
pub struct Server {
    /// `127.0.0.1:PORT`.
    pub addr: String,
    paths: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    pub fn start(answers: Vec<Answer>, max_requests: usize) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let paths = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&paths);
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let mut next = 0;
            // Bounded in count and in time: the test never waits on a server that hangs.
            let deadline = Instant::now() + Duration::from_secs(60);
            listener.set_nonblocking(true).unwrap();
            while seen.lock().unwrap().len() < max_requests
                && Instant::now() < deadline
                && !stopped.load(Ordering::Relaxed)
            {
                let stream = match listener.accept() {
                    Ok((s, _)) => s,
                    Err(_) => {
                        std::thread::sleep(Duration::from_millis(5));
                        continue;
                    }
                };
                let path = answer(stream, &answers, &mut next);
                seen.lock().unwrap().push(path);
            }
        });
        Server {
            addr,
            paths,
            stop,
            thread: Some(thread),
        }
    }

    /// Closes the server now (connecting is refused from then on, as after the program's end).
    pub fn close(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    /// The paths asked for, once the server has ended by itself (after `max_requests` or its
    /// deadline).
    pub fn paths(&mut self) -> Vec<String> {
        if let Some(t) = self.thread.take() {
            // The server ends by itself after max_requests or its deadline.
            let _ = t.join();
        }
        self.paths.lock().unwrap().clone()
    }
}

/// Reads one request head and writes the answer; returns the path asked for.
pub fn answer(mut stream: TcpStream, answers: &[Answer], next: &mut usize) -> String {
    stream.set_nonblocking(false).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 64 * 1024 {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => break,
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let path = head.split_whitespace().nth(1).unwrap_or("").to_string();
    let (status, body) = if path == "/profile.json" {
        let a = answers[(*next).min(answers.len() - 1)].clone();
        *next += 1;
        a
    } else {
        (404, "not found".to_string())
    };
    let reason = if status == 200 { "OK" } else { "Error" };
    let _ = write!(
        stream,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.flush();
    path
}

/// A port nothing listens on.
pub fn closed_port() -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().to_string()
}
