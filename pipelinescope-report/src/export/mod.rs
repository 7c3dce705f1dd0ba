//! Exports of a profile to formats other tools read: folded stacks (inferno, flamegraph.pl),
//! Chrome trace-event JSON (Perfetto, chrome://tracing), CSV and the Prometheus text exposition
//! format.

use std::fmt::Write as _;

use pipelinescope_core::profile::{CallNode, Profile};
use serde::Serialize;

use crate::console::{SortKey, TableOptions, sorted_functions};

mod prometheus;

pub use prometheus::{PROM_BOUNDS_NS, prom_label, prometheus};

/// An export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// `a;b;c <self ns>` lines, one per call path.
    Collapsed,
    /// Chrome trace-event JSON of the call tree.
    Chrome,
    /// The functions table as CSV.
    Csv,
    /// Prometheus text exposition.
    Prometheus,
}

/// Renders `profile` in `format`.
pub fn export(profile: &Profile, format: Format) -> String {
    match format {
        Format::Collapsed => collapsed(profile),
        Format::Chrome => chrome_trace(profile),
        Format::Csv => csv(profile),
        Format::Prometheus => prometheus(profile),
    }
}

fn function_name(profile: &Profile, node: &CallNode) -> String {
    node.function
        .and_then(|f| profile.functions.get(f as usize))
        .map_or_else(|| "?".to_string(), |f| f.name.clone())
}

/// Folded stacks: one `root;child;leaf <self ns>` line per call path with self time, in tree
/// order. `;` in names becomes `:` and line breaks become spaces, since both delimit the format.
pub fn collapsed(profile: &Profile) -> String {
    let nodes = &profile.call_tree.nodes;
    let mut out = String::new();
    // Path text of each node, built parent first (parents precede children).
    let mut paths: Vec<Option<String>> = vec![None; nodes.len()];
    for (i, n) in nodes.iter().enumerate() {
        if n.function.is_none() {
            continue;
        }
        let name: String = function_name(profile, n)
            .chars()
            .map(|c| match c {
                ';' => ':',
                '\n' | '\r' => ' ',
                c => c,
            })
            .collect();
        let path = match n
            .parent
            .and_then(|p| paths.get(p as usize))
            .and_then(|p| p.as_ref())
        {
            Some(parent) => format!("{parent};{name}"),
            None => name,
        };
        if n.self_ns > 0 {
            let _ = writeln!(out, "{path} {}", n.self_ns);
        }
        paths[i] = Some(path);
    }
    out
}

/// Chrome trace-event JSON: one complete (`"ph": "X"`) event per call-tree node, laid out on one
/// track as an icicle: a node starts at its parent's start plus the durations of its preceding
/// siblings and lasts its cumulative time. Times are microseconds, as the format wants. The
/// timeline is synthetic (aggregated paths, not individual calls).
pub fn chrome_trace(profile: &Profile) -> String {
    let nodes = &profile.call_tree.nodes;
    let title = if profile.meta.title.is_empty() {
        "pipelinescope"
    } else {
        profile.meta.title.as_str()
    };
    let mut events = vec![TraceEvent::Meta {
        name: "process_name",
        ph: "M",
        pid: 1,
        tid: 1,
        args: MetaArgs { name: title },
    }];
    let mut start_ns: Vec<u64> = vec![0; nodes.len()];
    // Depth-first from the root so that every parent's start is known before its children.
    let mut stack: Vec<u32> = vec![0];
    let mut seen = vec![false; nodes.len()];
    while let Some(id) = stack.pop() {
        let Some(n) = nodes.get(id as usize) else {
            continue;
        };
        if std::mem::replace(&mut seen[id as usize], true) {
            continue;
        }
        let mut t = start_ns[id as usize];
        for &c in &n.children {
            if let Some(child) = nodes.get(c as usize) {
                start_ns[c as usize] = t;
                t += child.cumulative_ns;
            }
        }
        if n.function.is_some() {
            let f = n.function.and_then(|f| profile.functions.get(f as usize));
            events.push(TraceEvent::Complete {
                name: function_name(profile, n),
                cat: "function",
                ph: "X",
                ts: start_ns[id as usize] as f64 / 1e3,
                dur: n.cumulative_ns as f64 / 1e3,
                pid: 1,
                tid: 1,
                args: CallArgs {
                    calls: n.calls,
                    self_ns: n.self_ns,
                    cumulative_ns: n.cumulative_ns,
                    module: f.map_or("", |f| f.module.as_str()),
                    location: f.map_or(String::new(), |f| format!("{}:{}", f.file, f.line)),
                },
            });
        }
        stack.extend(n.children.iter().rev());
    }
    let doc = TraceDoc {
        trace_events: events,
        display_time_unit: "ns",
        other_data: OtherData {
            run_id: &profile.meta.run_id,
            wall_ns: profile.meta.wall_ns,
        },
    };
    crate::json::to_string(&doc).unwrap_or_default()
}

/// The Chrome trace-event document.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TraceDoc<'a> {
    trace_events: Vec<TraceEvent<'a>>,
    display_time_unit: &'static str,
    other_data: OtherData<'a>,
}

/// One trace event: the process-name metadata event, or a complete event per call path.
#[derive(Serialize)]
#[serde(untagged)]
enum TraceEvent<'a> {
    Meta {
        name: &'static str,
        ph: &'static str,
        pid: u32,
        tid: u32,
        args: MetaArgs<'a>,
    },
    Complete {
        name: String,
        cat: &'static str,
        ph: &'static str,
        ts: f64,
        dur: f64,
        pid: u32,
        tid: u32,
        args: CallArgs<'a>,
    },
}

#[derive(Serialize)]
struct MetaArgs<'a> {
    name: &'a str,
}

#[derive(Serialize)]
struct CallArgs<'a> {
    calls: u64,
    self_ns: u64,
    cumulative_ns: u64,
    module: &'a str,
    location: String,
}

#[derive(Serialize)]
struct OtherData<'a> {
    run_id: &'a str,
    wall_ns: u64,
}

/// Quotes a CSV field when it holds a comma, a quote or a line break (RFC 4180).
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The functions table as CSV, sorted by cumulative time, times in nanoseconds.
pub fn csv(profile: &Profile) -> String {
    let mut out = String::from(
        "name,module,file,line,kind,calls,panics,self_ns,cumulative_ns,per_call_ns,\
         min_ns,mean_ns,p50_ns,p90_ns,p99_ns,p999_ns,max_ns,share_of_wall\n",
    );
    let opts = TableOptions {
        sort_by: SortKey::Cumulative,
        limit: 0,
        filter: None,
        color: false,
        ..TableOptions::default()
    };
    let wall = profile.meta.wall_ns;
    for f in sorted_functions(profile, &opts) {
        let p = &f.percentiles;
        let per_call = if f.calls == 0 {
            0.0
        } else {
            f.cumulative_ns as f64 / f.calls as f64
        };
        let share = if wall == 0 {
            0.0
        } else {
            f.cumulative_ns as f64 / wall as f64
        };
        let kind = match f.kind {
            pipelinescope_core::profile::FunctionKind::Sync => "sync",
            pipelinescope_core::profile::FunctionKind::Async => "async",
        };
        let _ = writeln!(
            out,
            "{},{},{},{},{kind},{},{},{},{},{per_call:.1},{},{:.1},{},{},{},{},{},{share:.6}",
            csv_field(&f.name),
            csv_field(&f.module),
            csv_field(&f.file),
            f.line,
            f.calls,
            f.panics,
            f.self_ns,
            f.cumulative_ns,
            p.min_ns,
            p.mean_ns,
            p.p50_ns,
            p.p90_ns,
            p.p99_ns,
            p.p999_ns,
            p.max_ns,
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::prometheus::prom_histogram;
    use super::*;
    use pipelinescope_core::profile::CallTree;
    use pipelinescope_core::profile::{FunctionStats, Histogram};

    fn profile() -> Profile {
        let f = |name: &str| FunctionStats {
            name: name.into(),
            module: "m".into(),
            calls: 1,
            ..Default::default()
        };
        let node =
            |id: u32, parent: u32, func: u32, cum: u64, slf: u64, children: Vec<u32>| CallNode {
                id,
                parent: Some(parent),
                function: Some(func),
                children,
                calls: 1,
                cumulative_ns: cum,
                self_ns: slf,
                panics: 0,
            };
        Profile {
            schema_version: 1,
            functions: vec![f("main"), f("load;x"), f("parse")],
            call_tree: CallTree {
                nodes: vec![
                    CallNode {
                        children: vec![1],
                        ..Default::default()
                    },
                    node(1, 0, 0, 10_000, 1_000, vec![2, 3]),
                    node(2, 1, 1, 4_000, 4_000, vec![]),
                    node(3, 1, 2, 5_000, 3_000, vec![4]),
                    node(4, 3, 1, 2_000, 2_000, vec![]),
                ],
            },
            ..Default::default()
        }
    }

    #[test]
    fn folded_stacks() {
        assert_eq!(
            collapsed(&profile()),
            "main 1000\nmain;load:x 4000\nmain;parse 3000\nmain;parse;load:x 2000\n"
        );
    }

    #[test]
    fn chrome_layout() {
        let v: serde_json::Value = serde_json::from_str(&chrome_trace(&profile())).unwrap();
        let ev = v["traceEvents"].as_array().unwrap();
        let x: Vec<_> = ev.iter().filter(|e| e["ph"] == "X").collect();
        assert_eq!(x.len(), 4);
        let at = |name: &str, ts: f64| {
            x.iter()
                .any(|e| e["name"] == name && e["ts"].as_f64() == Some(ts))
        };
        assert!(at("main", 0.0));
        assert!(at("load;x", 0.0));
        // parse starts after its preceding sibling (4 µs); its child at parse's start.
        assert!(at("parse", 4.0));
        assert!(at("load;x", 4.0));
        assert_eq!(x.len(), 4);
    }

    #[test]
    fn csv_quotes() {
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("plain"), "plain");
    }

    #[test]
    fn prometheus_buckets_are_fixed_and_cumulative() {
        assert_eq!(PROM_BOUNDS_NS[0], 10);
        assert_eq!(PROM_BOUNDS_NS[1], 25);
        assert_eq!(PROM_BOUNDS_NS[30], 100_000_000_000);
        assert!(PROM_BOUNDS_NS.windows(2).all(|w| w[0] < w[1]));
        let h = Histogram {
            sigfig: 2,
            buckets: vec![(7, 2), (10, 1), (30, 4), (2_000_000_000_000, 1)],
        };
        let mut out = String::new();
        prom_histogram(&mut out, "m", "name=\"f\"", &h, 100.0);
        let count = |le: &str| -> u64 {
            let key = format!("m_bucket{{name=\"f\",le=\"{le}\"}} ");
            let line = out.lines().find(|l| l.starts_with(&key)).unwrap();
            line[key.len()..].parse().unwrap()
        };
        assert_eq!(count("0.00000001"), 3);
        assert_eq!(count("0.000000025"), 3);
        assert_eq!(count("0.00000005"), 7);
        assert_eq!(count("100"), 7);
        assert_eq!(count("+Inf"), 8);
        assert!(out.contains("m_count{name=\"f\"} 8"));
        assert_eq!(
            out.lines().filter(|l| l.starts_with("m_bucket")).count(),
            32
        );
    }

    #[test]
    fn prometheus_escapes() {
        assert_eq!(prom_label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
