//! A chain of four stages: parse log lines, keep the errors, extract their service, count per
//! service. The first three are lazy (iterators), the last is eager (a map).
//!
//! `cargo run --release -p pipelinescope-examples --bin simple_linear`

use pipelinescope::stage;
use std::collections::BTreeMap;

const LINES: usize = 200_000;
const SERVICES: [&str; 4] = ["auth", "billing", "search", "storage"];

struct Entry {
    level: &'static str,
    service: &'static str,
    latency_ms: u32,
}

/// Synthetic log lines: every 7th is an error, services in turn.
fn log_lines(n: usize) -> impl Iterator<Item = String> {
    (0..n).map(|i| {
        let level = if i % 7 == 0 { "ERROR" } else { "INFO" };
        format!(
            "{level} service={} latency_ms={}",
            SERVICES[i % SERVICES.len()],
            (i * 37) % 500
        )
    })
}

#[stage("parse")]
fn parse(lines: impl Iterator<Item = String>) -> impl Iterator<Item = Entry> {
    lines.filter_map(|line| {
        let mut parts = line.split_whitespace();
        let level = match parts.next()? {
            "ERROR" => "ERROR",
            "INFO" => "INFO",
            _ => return None,
        };
        let service = parts.next()?.strip_prefix("service=")?;
        let service = SERVICES.iter().find(|s| **s == service)?;
        let latency_ms = parts.next()?.strip_prefix("latency_ms=")?.parse().ok()?;
        Some(Entry {
            level,
            service,
            latency_ms,
        })
    })
}

#[stage("keep_errors")]
fn keep_errors(entries: impl Iterator<Item = Entry>) -> impl Iterator<Item = Entry> {
    entries.filter(|e| e.level == "ERROR")
}

#[stage("slow_only")]
fn slow_only(entries: impl Iterator<Item = Entry>, min_ms: u32) -> impl Iterator<Item = Entry> {
    entries.filter(move |e| e.latency_ms >= min_ms)
}

#[stage("count_by_service")]
fn count_by_service(entries: Vec<Entry>) -> BTreeMap<&'static str, usize> {
    let mut counts = BTreeMap::new();
    for e in entries {
        *counts.entry(e.service).or_insert(0) += 1;
    }
    counts
}

fn main() {
    let _run = pipelinescope::start();
    let slow_errors: Vec<Entry> = slow_only(keep_errors(parse(log_lines(LINES))), 250).collect();
    let n = slow_errors.len();
    let counts = count_by_service(slow_errors);
    println!("simple_linear: {LINES} lines -> {n} slow errors");
    for (service, count) in &counts {
        println!("  {service:<8} {count}");
    }
}
