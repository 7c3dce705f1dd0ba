//! Runs the built `pipelinescope` binary on synthetic profiles and bad input.

mod support {
    pub mod command;
}

use std::fs;
use std::path::{Path, PathBuf};

use support::command::{bin, run, scratch};

use pipelinescope_core::profile::{
    CallNode, CallTree, FunctionStats, Histogram, Percentiles, Profile, RunMeta, StageStats,
};

/// Deterministic per-call times around `mean` (spread ±20%).
fn samples(mean: u64, n: usize) -> Vec<u64> {
    (0..n)
        .map(|i| mean - mean / 5 + (mean * 2 / 5) * (i as u64 % 11) / 10)
        .collect()
}

fn function(id: u32, name: &str, values: &[u64]) -> FunctionStats {
    let mut h = Histogram {
        sigfig: 2,
        buckets: values.iter().map(|&v| (v, 1)).collect(),
    };
    h.buckets.sort();
    let hdr = h.to_hdr();
    let histogram = Histogram::from_hdr(&hdr);
    let total: u64 = values.iter().sum();
    FunctionStats {
        id,
        name: name.into(),
        module: "app".into(),
        file: "src/main.rs".into(),
        line: 10 + id,
        calls: values.len() as u64,
        cumulative_ns: total,
        self_ns: total,
        percentiles: Percentiles::from_hdr(
            &hdr,
            *values.iter().min().unwrap(),
            *values.iter().max().unwrap(),
            total as f64 / values.len() as f64,
        ),
        histogram,
        ..Default::default()
    }
}

/// A profile with the given functions as root calls of the call tree.
fn profile(functions: Vec<FunctionStats>) -> Profile {
    let mut nodes = vec![CallNode::default()];
    for (i, f) in functions.iter().enumerate() {
        let id = nodes.len() as u32;
        nodes.push(CallNode {
            id,
            parent: Some(0),
            function: Some(i as u32),
            calls: f.calls,
            cumulative_ns: f.cumulative_ns,
            self_ns: f.self_ns,
            ..Default::default()
        });
        nodes[0].children.push(id);
    }
    let total_calls = functions.iter().map(|f| f.calls).sum();
    let instrumented_ns = functions.iter().map(|f| f.cumulative_ns).sum::<u64>();
    Profile {
        schema_version: pipelinescope_core::SCHEMA_VERSION,
        meta: RunMeta {
            run_id: "run_test".into(),
            wall_ns: instrumented_ns * 2,
            instrumented_ns,
            total_calls,
            ..Default::default()
        },
        functions,
        call_tree: CallTree { nodes },
        ..Default::default()
    }
}

fn write_run(dir: &Path, p: &Profile) -> PathBuf {
    fs::create_dir_all(dir).unwrap();
    fs::write(
        dir.join("profile_data.json"),
        serde_json::to_vec(p).unwrap(),
    )
    .unwrap();
    dir.to_path_buf()
}

fn sample_profile() -> Profile {
    let mut p = profile(vec![
        function(0, "load", &samples(50_000, 100)),
        function(1, "parse \"fast\", really", &samples(2_000, 1000)),
        function(2, "emit", &samples(900, 300)),
    ]);
    p.stages.push(StageStats {
        name: "threshold".into(),
        records_in: 100,
        records_out: 40,
        selectivity: 0.4,
        own_ns: 1_000_000,
        own_histogram: p.functions[0].histogram.clone(),
        is_bottleneck: true,
        ..Default::default()
    });
    p
}

// ---------------------------------------------------------------- bad input

fn assert_bad(args: &[&str], cwd: &Path, needle: &str) {
    let (code, out, err) = run(bin().args(args).current_dir(cwd));
    assert_eq!(code, 2, "args {args:?}: stdout {out} stderr {err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.contains(needle), "expected {needle:?} in {err}");
    assert!(
        !err.contains("panicked") && !err.contains("backtrace"),
        "{err}"
    );
}

#[test]
fn missing_file() {
    let d = scratch("missing");
    assert_bad(
        &["top", "nope/profile_data.json"],
        &d,
        "nope/profile_data.json: no such file",
    );
    assert_bad(
        &["export", "nope", "--format", "csv"],
        &d,
        "nope: no such file",
    );
}

#[test]
fn directory_without_a_run() {
    let d = scratch("norun");
    fs::create_dir_all(d.join("empty")).unwrap();
    assert_bad(&["top", "empty"], &d, "empty: directory holds no run");
    // `latest` with no output directory, and with an output directory holding no run.
    assert_bad(&["top"], &d, "no run found for `latest`");
    fs::create_dir_all(d.join(".pipelinescope_output/run_1")).unwrap();
    assert_bad(&["top", "latest"], &d, "no run found for `latest`");
}

#[test]
fn corrupt_and_truncated_json() {
    let d = scratch("corrupt");
    let json = serde_json::to_string(&sample_profile()).unwrap();
    fs::create_dir_all(d.join("trunc")).unwrap();
    fs::write(d.join("trunc/profile_data.json"), &json[..json.len() / 2]).unwrap();
    assert_bad(
        &["top", "trunc"],
        &d,
        "trunc/profile_data.json: truncated JSON",
    );
    fs::write(d.join("bad.json"), "{\"schema_version\": 1, oops}").unwrap();
    assert_bad(
        &["top", "bad.json"],
        &d,
        "bad.json: corrupt JSON at line 1, column",
    );
    fs::write(d.join("other.json"), "{\"hello\": \"world\"}").unwrap();
    assert_bad(
        &["report", "other.json"],
        &d,
        "other.json: not a PipelineScope profile",
    );
    fs::write(d.join("empty.json"), "").unwrap();
    assert_bad(&["top", "empty.json"], &d, "empty.json: truncated JSON");
}

#[test]
fn other_schema_version() {
    let d = scratch("schema");
    // A future layout: fields renamed, version first checked.
    fs::write(
        d.join("future.json"),
        "{\"schema_version\": 7, \"metadata\": {\"renamed\": true}}",
    )
    .unwrap();
    assert_bad(
        &["top", "future.json"],
        &d,
        "future.json: written by schema version 7, this tool reads 1 to 2",
    );
}

#[test]
fn merging_different_schema_versions() {
    let d = scratch("mixed");
    write_run(&d.join("a"), &sample_profile());
    fs::create_dir_all(d.join("b")).unwrap();
    fs::write(
        d.join("b/profile_data.json"),
        "{\"schema_version\": 3, \"meta\": {}}",
    )
    .unwrap();
    assert_bad(
        &["merge", "a", "b", "-o", "out"],
        &d,
        "b/profile_data.json: written by schema version 3, this tool reads 1 to 2",
    );
    assert!(!d.join("out").exists());
}

#[test]
fn bad_threshold_and_usage() {
    let d = scratch("usage");
    write_run(&d.join("a"), &sample_profile());
    assert_bad(&["diff", "a", "a", "--threshold=-3"], &d, "--threshold -3");
    let (code, _, _) = run(bin()
        .args(["export", "a", "--format", "xml"])
        .current_dir(&d));
    assert_eq!(code, 2);
}

#[test]
fn every_command_has_an_example() {
    for cmd in ["top", "report", "diff", "merge", "export"] {
        let (code, out, _) = run(bin().args([cmd, "--help"]));
        assert_eq!(code, 0);
        assert!(out.contains("Example"), "{cmd}: {out}");
        assert!(
            out.contains(&format!("pipelinescope {cmd}")),
            "{cmd}: {out}"
        );
    }
}

// ---------------------------------------------------------------- top and report

#[test]
fn top_sorts_limits_and_finds_latest() {
    let d = scratch("top");
    let out = d.join(".pipelinescope_output");
    write_run(
        &out.join("run_20260101_000000"),
        &profile(vec![function(0, "old", &[5])]),
    );
    write_run(&out.join("run_20260102_000000"), &sample_profile());
    let (code, text, err) = run(bin().args(["top"]).current_dir(&d));
    assert_eq!(code, 0, "{err}");
    assert!(text.contains("run_20260102_000000"), "{text}");
    assert!(!text.contains(" old "));
    let rows: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("calls "))
        .skip(1)
        .collect();
    // By cumulative: load (100 x ~50 µs) before parse (1000 x ~2 µs) before emit.
    assert!(rows[0].contains("load"), "{text}");
    assert!(rows[1].contains("parse"), "{text}");
    let (_, text, _) = run(bin()
        .args(["top", "latest", "--sort", "calls", "--limit", "1"])
        .current_dir(&d));
    let rows: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("calls "))
        .skip(1)
        .collect();
    assert!(
        rows[0].trim_start().starts_with("1000") && rows[0].contains("parse"),
        "{text}"
    );
    assert!(rows[1].contains("2 more functions not shown"), "{text}");
    // A `latest` symlink wins over the newest name.
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink("run_20260101_000000", out.join("latest")).unwrap();
        let (code, text, _) = run(bin().args(["top"]).current_dir(&d));
        assert_eq!(code, 0);
        assert!(text.contains(" old "), "{text}");
        fs::remove_file(out.join("latest")).unwrap();
    }
    let (_, text, _) = run(bin().args(["top", "--stages"]).current_dir(&d));
    assert!(
        text.contains("threshold") && text.contains("◀ bottleneck"),
        "{text}"
    );
    let (_, text, _) = run(bin().args(["top", "--filter", "EMIT"]).current_dir(&d));
    assert!(text.contains("emit") && !text.contains("load "), "{text}");
}

#[test]
fn report_writes_summary_next_to_the_profile() {
    let d = scratch("report");
    let run_dir = write_run(&d.join("run_x"), &sample_profile());
    let (code, _, err) = run(bin().args(["report", run_dir.to_str().unwrap()]));
    assert_eq!(code, 0, "{err}");
    let html = fs::read_to_string(run_dir.join("summary.html")).unwrap();
    // The full report: names travel in the page's embedded JSON, escaped.
    assert!(html.contains(r#"parse \"fast\", really"#), "name missing");
    assert!(html.contains("id=\"hotspots\""), "not the full report");
    for remote in ["src=\"http", "href=\"http", "url(http", "@import"] {
        assert!(!html.contains(remote), "network reference {remote}");
    }
}

// ---------------------------------------------------------------- diff

#[test]
fn diff_classifies_and_gates() {
    let d = scratch("diff");
    let base = profile(vec![
        function(0, "slow_down", &samples(10_000, 500)),
        function(1, "same", &samples(3_000, 500)),
        function(2, "gone", &samples(100, 10)),
        function(3, "faster", &samples(8_000, 500)),
    ]);
    let current = profile(vec![
        function(0, "slow_down", &samples(20_000, 500)),
        function(1, "same", &samples(3_000, 500)),
        function(2, "fresh <b>", &samples(100, 10)),
        function(3, "faster", &samples(4_000, 500)),
    ]);
    // A stage whose own time per record went up 3x.
    let stage = |per_record: u64| {
        let f = function(0, "x", &samples(per_record, 400));
        StageStats {
            name: "normalize".into(),
            records_in: 400,
            records_out: 400,
            own_ns: f.cumulative_ns,
            own_per_record: f.percentiles,
            own_histogram: f.histogram,
            ..Default::default()
        }
    };
    let mut base = base;
    let mut current = current;
    base.stages.push(stage(1_000));
    current.stages.push(stage(3_000));
    let b = write_run(&d.join("base"), &base);
    let c = write_run(&d.join("current"), &current);
    let (code, text, err) = run(bin().args(["diff", b.to_str().unwrap(), c.to_str().unwrap()]));
    assert_eq!(code, 0, "{err}");
    let status = |name: &str| status_in(&text, name);
    assert_eq!(status("slow_down"), "regressed", "{text}");
    assert_eq!(status("same"), "stable", "{text}");
    assert_eq!(status("fresh"), "new", "{text}");
    assert_eq!(status("gone"), "removed", "{text}");
    assert_eq!(status("faster"), "improved", "{text}");
    assert_eq!(status("normalize"), "regressed", "{text}");
    assert!(
        text.contains("2 regressed, 1 improved, 1 new, 1 removed, 1 stable"),
        "{text}"
    );
    let html = fs::read_to_string(c.join("comparison.html")).unwrap();
    assert!(html.contains("fresh &lt;b&gt;") && !html.contains("fresh <b>"));
    assert!(html.contains("<tr class=\"regressed\">"));
    assert!(!html.contains("http") && !html.contains("<script"));
    // Gate: regression -> 1; identical runs -> 0.
    let (code, _, _) = run(bin().args([
        "diff",
        b.to_str().unwrap(),
        c.to_str().unwrap(),
        "--fail-on-regression",
    ]));
    assert_eq!(code, 1);
    let (code, text, _) = run(bin().args([
        "diff",
        b.to_str().unwrap(),
        b.to_str().unwrap(),
        "--fail-on-regression",
    ]));
    assert_eq!(code, 0, "{text}");
    // A threshold above the 2x change makes the function stable; the 3x stage still regressed.
    let (code, text, _) = run(bin().args([
        "diff",
        b.to_str().unwrap(),
        c.to_str().unwrap(),
        "--threshold",
        "150",
        "--fail-on-regression",
    ]));
    assert_eq!(code, 1, "{text}");
    assert_eq!(status_in(&text, "slow_down"), "stable", "{text}");
    assert_eq!(status_in(&text, "normalize"), "regressed", "{text}");
    let (code, text, _) = run(bin().args([
        "diff",
        b.to_str().unwrap(),
        c.to_str().unwrap(),
        "--threshold",
        "250",
        "--fail-on-regression",
    ]));
    assert_eq!(code, 0, "{text}");
}

/// The status word of the diff table row naming `name`.
fn status_in(text: &str, name: &str) -> String {
    text.lines()
        .find(|l| l.contains(name))
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or("")
        .to_string()
}

// ---------------------------------------------------------------- merge

#[test]
fn merge_sums_exactly() {
    let d = scratch("merge");
    let a = profile(vec![
        function(0, "f", &samples(1_000, 300)),
        function(1, "g", &samples(50_000, 7)),
    ]);
    let b = profile(vec![
        function(0, "g", &samples(60_000, 5)),
        function(1, "f", &samples(1_200, 200)),
        function(2, "h", &[42]),
    ]);
    let ra = write_run(&d.join("a"), &a);
    let rb = write_run(&d.join("b"), &b);
    let (code, text, err) = run(bin()
        .args(["merge", "a", "b", "-o", "merged"])
        .current_dir(&d));
    assert_eq!(code, 0, "{err}");
    assert!(text.contains("merged 2 runs"), "{text}");
    assert!(d.join("merged/summary.html").is_file());
    let m: Profile =
        serde_json::from_slice(&fs::read(d.join("merged/profile_data.json")).unwrap()).unwrap();
    let f = m.function("f").unwrap();
    assert_eq!(f.calls, 500);
    assert_eq!(f.histogram.count(), 500);
    assert_eq!(
        f.cumulative_ns,
        a.function("f").unwrap().cumulative_ns + b.function("f").unwrap().cumulative_ns
    );
    // Exact: the merged buckets are those of all the calls pooled.
    let mut pooled = samples(1_000, 300);
    pooled.extend(samples(1_200, 200));
    assert_eq!(f.histogram, function(0, "f", &pooled).histogram);
    assert_eq!(m.function("g").unwrap().calls, 12);
    assert_eq!(m.function("h").unwrap().calls, 1);
    assert_eq!(m.meta.total_calls, a.meta.total_calls + b.meta.total_calls);
    assert_eq!(m.sources.len(), 2);
    assert!(m.sources[0].path.ends_with("a/profile_data.json"));
    // Merging to a .json path, and the result reads back through `top`.
    let (code, _, err) = run(bin().args([
        "merge",
        ra.to_str().unwrap(),
        rb.to_str().unwrap(),
        "-o",
        d.join("all.json").to_str().unwrap(),
    ]));
    assert_eq!(code, 0, "{err}");
    let (code, text, _) = run(bin().args(["top", d.join("all.json").to_str().unwrap()]));
    assert_eq!(code, 0);
    assert!(text.contains(" f "), "{text}");
}

// ---------------------------------------------------------------- export

fn export(run_dir: &Path, format: &str) -> String {
    let (code, text, err) =
        run(bin().args(["export", run_dir.to_str().unwrap(), "--format", format]));
    assert_eq!(code, 0, "{err}");
    text
}

#[test]
fn export_formats_have_their_shape() {
    let d = scratch("export");
    let p = sample_profile();
    let r = write_run(&d.join("run"), &p);

    let folded = export(&r, "collapsed");
    assert_eq!(folded.lines().count(), 3);
    for l in folded.lines() {
        let (_, n) = l.rsplit_once(' ').unwrap();
        assert!(n.parse::<u64>().unwrap() > 0, "{l}");
    }
    assert!(folded.contains(&format!("load {}", p.functions[0].self_ns)));

    let chrome: serde_json::Value = serde_json::from_str(&export(&r, "chrome")).unwrap();
    let events: Vec<&serde_json::Value> = chrome["traceEvents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["ph"] == "X")
        .collect();
    assert_eq!(events.len(), 3);
    // Root calls one after another: each starts where the previous ended.
    let mut t = 0.0;
    for e in &events {
        assert!((e["ts"].as_f64().unwrap() - t).abs() < 1e-6, "{e}");
        t += e["dur"].as_f64().unwrap();
    }

    let csv = export(&r, "csv");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 1 + p.functions.len());
    assert!(lines[0].starts_with("name,module,file,line,"));
    assert!(
        csv.contains("\"parse \"\"fast\"\", really\",app,"),
        "quoted: {csv}"
    );
    // A quoted field keeps the column count: 18 columns in every row.
    assert!(lines.iter().all(|l| split_csv(l).len() == 18), "{csv}");

    let prom = export(&r, "prometheus");
    assert!(prom.contains("# TYPE pipelinescope_function_duration_seconds histogram"));
    assert!(prom.contains(
        "pipelinescope_function_calls_total{name=\"parse \\\"fast\\\", really\",module=\"app\"} 1000"
    ));
    // Buckets: cumulative counts never decrease, `le` increases, +Inf equals _count.
    for f in &p.functions {
        let label = format!(
            "pipelinescope_function_duration_seconds_bucket{{name=\"{}\"",
            f.name.replace('"', "\\\"")
        );
        let mut last_le = -1.0;
        let mut last_count = 0u64;
        let mut inf = None;
        for l in prom.lines().filter(|l| l.starts_with(&label)) {
            let le = l.split(",le=\"").nth(1).unwrap().split('"').next().unwrap();
            let count: u64 = l.rsplit_once(' ').unwrap().1.parse().unwrap();
            assert!(count >= last_count, "{l}");
            last_count = count;
            if le == "+Inf" {
                inf = Some(count);
            } else {
                let v: f64 = le.parse().unwrap_or_else(|e| panic!("{l}: {le}: {e}"));
                assert!(v > last_le, "{l}");
                last_le = v;
            }
        }
        assert_eq!(inf, Some(f.calls), "{}", f.name);
    }
    assert!(
        prom.contains("pipelinescope_stage_records_out_total{name=\"threshold\",module=\"\"} 40")
    );

    // -o writes the file instead.
    let out = d.join("x/stacks.folded");
    let (code, text, _) = run(bin().args([
        "export",
        r.to_str().unwrap(),
        "--format",
        "collapsed",
        "-o",
        out.to_str().unwrap(),
    ]));
    assert_eq!((code, text.as_str()), (0, ""));
    assert_eq!(fs::read_to_string(out).unwrap(), folded);
}

/// Splits one CSV line (RFC 4180 quoting, no embedded line breaks).
fn split_csv(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                fields.last_mut().unwrap().push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(String::new()),
            (c, _) => fields.last_mut().unwrap().push(c),
        }
    }
    fields
}

#[test]
fn lines_prints_each_line_of_the_source() {
    use pipelinescope_core::profile::{FunctionLines, LineStats};
    let d = scratch("lines");
    let mut p = sample_profile();
    p.lines.push(FunctionLines {
        function: "load".into(),
        file: "src/load.rs".into(),
        line: 7,
        total_ns: 2_000_000,
        source: "fn load() {\n    // read\n    let rows = read();\n}".into(),
        first_line: 7,
        lines: vec![
            LineStats {
                line: 7,
                hits: 2,
                time_ns: 500_000,
                ..LineStats::default()
            },
            LineStats {
                line: 9,
                hits: 40,
                time_ns: 1_500_000,
                ..LineStats::default()
            },
        ],
        ..FunctionLines::default()
    });
    write_run(&d.join("run"), &p);
    let (code, out, err) = run(bin().args(["lines", "run", "LOA"]).current_dir(&d));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Function: load at line 7"), "{out}");
    assert!(out.contains("Line #") && out.contains("% Time"), "{out}");
    let row = out.lines().find(|l| l.contains("let rows")).unwrap();
    let cols: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(&cols[..5], ["9", "40", "1500.0", "37.500", "75.0"], "{row}");
    assert!(
        out.lines()
            .any(|l| l.trim_start().starts_with("8 ") && l.contains("// read"))
    );
    // No match, and no line tables at all: one line on stderr.
    assert_bad(&["lines", "run", "nothing"], &d, "no function matching");
    write_run(&d.join("bare"), &sample_profile());
    assert_bad(&["lines", "bare"], &d, "#[profile(lines)]");
}
