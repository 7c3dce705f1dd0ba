//! `pipelinescope scale`: fits over runs at several sizes, on synthetic profiles and on the
//! `scaling` example (a linear, an n log n and a quadratic function) run by the command itself.

mod support {
    pub mod command;
}

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

use support::command::{bin, run, scratch};

use pipelinescope_core::profile::{Extrapolation, FunctionStats, Profile, RunMeta};
use serde_json::Value;

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&fs::read(path).unwrap()).unwrap()
}

/// The entry of function `name` in scaling.json.
fn function<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["functions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == name)
        .unwrap_or_else(|| panic!("no function {name} in {report}"))
}

fn exponent(report: &Value, name: &str) -> f64 {
    function(report, name)["time"]["fit"]["exponent"]
        .as_f64()
        .unwrap()
}

/// A run directory holding a profile whose function `work` took `n^k` ns, recorded at size `n`.
fn synthetic_run(root: &Path, n: u64, k: u32, sample_size_source: &str) -> PathBuf {
    let mut p = Profile {
        schema_version: pipelinescope_core::profile::SCHEMA_VERSION,
        meta: RunMeta {
            run_id: format!("run_{n}"),
            ..RunMeta::default()
        },
        ..Profile::default()
    };
    p.functions.push(FunctionStats {
        name: "work".into(),
        module: "app".into(),
        calls: 1,
        cumulative_ns: n.pow(k),
        self_ns: n.pow(k),
        ..FunctionStats::default()
    });
    p.extrapolation = Some(Extrapolation {
        sample_size: n,
        expected_size: 1_000_000,
        sample_size_source: sample_size_source.into(),
        ..Extrapolation::default()
    });
    let dir = root.join(format!("run_{n}"));
    fs::create_dir_all(&dir).unwrap();
    fs::write(
        dir.join("profile_data.json"),
        serde_json::to_vec(&p).unwrap(),
    )
    .unwrap();
    dir
}

#[test]
fn existing_runs_are_fitted_at_their_recorded_sizes() {
    let d = scratch("runs");
    let runs: Vec<PathBuf> = [100, 1_000, 10_000]
        .iter()
        .map(|&n| synthetic_run(&d, n, 2, "set"))
        .collect();
    let out = d.join("out");
    let (code, stdout, stderr) = run(bin()
        .arg("scale")
        .args(&runs)
        .args(["--predict", "100000", "-o"])
        .arg(&out));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("O(n^2)"), "{stdout}");
    let r = read_json(&out.join("scaling.json"));
    assert_eq!(r["schema_version"], 1);
    assert_eq!(r["predict_size"], 100_000);
    let sizes: Vec<u64> = r["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["size"].as_u64().unwrap())
        .collect();
    assert_eq!(sizes, vec![100, 1_000, 10_000]);
    assert!((exponent(&r, "work") - 2.0).abs() < 1e-9);
    let w = function(&r, "work");
    assert_eq!(w["time"]["fit"]["best"], "quadratic");
    let pred = w["time"]["prediction"]["value"].as_f64().unwrap();
    assert!((pred / 1e10 - 1.0).abs() < 1e-6, "{pred}");
    let html = fs::read_to_string(out.join("scaling.html")).unwrap();
    assert_eq!(html.matches("<svg").count(), 1);
    assert!(!html.contains("<script"));

    // --sizes overrides the recorded sizes, one per run.
    let (code, _, stderr) = run(bin()
        .arg("scale")
        .args(&runs)
        .args(["--sizes", "10,100,1000", "--combine", "median", "-o"])
        .arg(&out));
    assert_eq!(code, 0, "{stderr}");
    let r = read_json(&out.join("scaling.json"));
    assert_eq!(r["repeats"], "median");
    // Times grow 100x per 10x of the sizes given: still k = 2, a 100x smaller coefficient.
    assert!((exponent(&r, "work") - 2.0).abs() < 1e-9);
    let (code, _, stderr) = run(bin()
        .arg("scale")
        .args(&runs)
        .args(["--sizes", "10,100", "-o"])
        .arg(&out));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("--sizes gives 2 sizes for 3 runs"),
        "{stderr}"
    );
}

#[test]
fn too_little_range_or_default_sizes_are_reported() {
    let d = scratch("range");
    let runs: Vec<PathBuf> = [100, 200, 400]
        .iter()
        .map(|&n| synthetic_run(&d, n, 1, "default"))
        .collect();
    let out = d.join("out");
    let (code, stdout, stderr) = run(bin().arg("scale").args(&runs).arg("-o").arg(&out));
    assert_eq!(code, 2);
    assert!(stdout.contains("not enough range"), "{stdout}");
    assert!(stderr.contains("nothing could be fitted"), "{stderr}");
    assert_eq!(stderr.matches("is the default, not the input's").count(), 3);

    // Checked before running anything.
    let (code, _, stderr) = run(bin().args(["scale", "--sizes", "1000,2000,5000", "--", "true"]));
    assert_eq!(code, 2);
    assert!(stderr.contains("not enough range"), "{stderr}");
    let (code, _, stderr) = run(bin().args(["scale", "--sizes", "10,1000", "--", "true"]));
    assert_eq!(code, 2);
    assert!(stderr.contains("not enough to fit"), "{stderr}");
    let (code, _, stderr) = run(bin().arg("scale"));
    assert_eq!(code, 2);
    assert!(stderr.contains("give a program after `--`"), "{stderr}");
}

#[test]
fn a_program_without_a_profile_fails_every_size() {
    let d = scratch("noprofile");
    let (code, _, stderr) = run(bin()
        .args(["scale", "--sizes", "1,10,100", "-o"])
        .arg(d.join("out"))
        .args(["--", "true", "{n}"]));
    assert_eq!(code, 2);
    for n in [1, 10, 100] {
        assert!(
            stderr.contains(&format!(
                "size {n}: the program exited successfully but wrote no profile"
            )),
            "{stderr}"
        );
    }
    assert!(stderr.contains("nothing to fit"), "{stderr}");
    let (code, _, stderr) = run(bin()
        .args(["scale", "--sizes", "1,10,100", "-o"])
        .arg(d.join("out2"))
        .args(["--", "/nonexistent/program"]));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("cannot start `/nonexistent/program`"),
        "{stderr}"
    );
}

/// The `scaling` example, built in release mode once for this test binary.
fn example() -> &'static Path {
    static EXE: OnceLock<PathBuf> = OnceLock::new();
    EXE.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let out = Command::new(cargo)
            .current_dir(root)
            .args([
                "build",
                "--release",
                "-p",
                "pipelinescope-examples",
                "--bin",
                "scaling",
                "--message-format=json",
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find_map(|m| {
                (m["reason"] == "compiler-artifact" && m["target"]["name"] == "scaling")
                    .then(|| m["executable"].as_str().map(PathBuf::from))
                    .flatten()
            })
            .expect("cargo names the scaling executable")
    })
}

/// Runs of the example compete for the processor with each other: one at a time.
static TIMING: Mutex<()> = Mutex::new(());

#[test]
fn the_example_grows_linearly_n_log_n_and_quadratically() {
    let exe = example();
    let _one = TIMING.lock().unwrap_or_else(|e| e.into_inner());
    let d = scratch("example");
    let out = d.join("out");
    // 3 runs per size: the intervals then include the run-to-run scatter of a busy machine.
    let (code, stdout, stderr) = run(bin()
        .args(["scale", "--sizes", "2000,20000,200000", "--repeat", "3"])
        .args(["--predict", "2000000", "-o"])
        .arg(&out)
        .arg("--")
        .arg(exe)
        .arg("{n}"));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let r = read_json(&out.join("scaling.json"));
    // Generous bounds: timing on a shared machine is noisy. The ideal exponents are 1, about
    // 1.08 (n log n over these sizes) and 2.
    let bounds = [
        ("checksum", 0.8, 1.25),
        ("sort", 0.85, 1.5),
        ("similar_pairs", 1.7, 2.3),
    ];
    for (name, lo, hi) in bounds {
        let k = exponent(&r, name);
        assert!(lo <= k && k <= hi, "{name}: k = {k}\n{stdout}");
        let f = function(&r, name);
        // Every run is a point (--combine all, the default).
        assert_eq!(f["time"]["points"].as_array().unwrap().len(), 9);
        assert_eq!(
            f["count"]["fit"]["best"], "constant",
            "{name}: one call per run"
        );
        let p = &f["time"]["prediction"];
        let (v, l, h) = (p["value"].as_f64(), p["low"].as_f64(), p["high"].as_f64());
        assert!(l < v && v < h, "{name}: {p}");
    }
    assert_eq!(r["runs"].as_array().unwrap().len(), 9);
    // The largest run projected to 2000000, every root function following its fit.
    let e = &r["extrapolation"];
    assert_eq!(
        (e["sample_size"].as_u64(), e["expected_size"].as_u64()),
        (Some(200_000), Some(2_000_000))
    );
    assert_eq!(e["total"]["model"], "all root functions fitted");
    assert!(stdout.contains("whole run at 2000000"), "{stdout}");
    assert!(stdout.contains("similar_pairs") && stdout.contains("at 2000000"));
    let html = fs::read_to_string(out.join("scaling.html")).unwrap();
    assert_eq!(html.matches("<svg").count(), 3);

    // The same runs read back: each records its size (PIPELINESCOPE_SAMPLE_SIZE), and the fit
    // is the same.
    let profiles: Vec<String> = r["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["profile"].as_str().unwrap().to_owned())
        .collect();
    let again = d.join("again");
    let (code, _, stderr) = run(bin().arg("scale").args(&profiles).arg("-o").arg(&again));
    assert_eq!(code, 0, "{stderr}");
    let r2 = read_json(&again.join("scaling.json"));
    for (name, _, _) in bounds {
        assert_eq!(exponent(&r, name), exponent(&r2, name), "{name}");
    }
}

#[cfg(unix)]
#[test]
fn a_failing_size_is_reported_and_the_others_are_fitted() {
    let exe = example();
    let _one = TIMING.lock().unwrap_or_else(|e| e.into_inner());
    let d = scratch("failing");
    let out = d.join("out");
    // A wrapper that fails at one size and runs the example at the others.
    let script =
        "if [ \"$2\" = 5000 ]; then echo 'boom at 5000' >&2; exit 3; fi; exec \"$1\" \"$2\"";
    let (code, stdout, stderr) = run(bin()
        .args(["scale", "--sizes", "1000,5000,20000,50000", "-o"])
        .arg(&out)
        .args(["--", "sh", "-c", script, "sh"])
        .arg(exe)
        .arg("{n}"));
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    assert!(
        stderr.contains("size 5000: the program failed (exit status: 3)"),
        "{stderr}"
    );
    assert!(stderr.contains("boom at 5000"), "{stderr}");
    assert!(stdout.contains("FAILED"), "{stdout}");
    let r = read_json(&out.join("scaling.json"));
    let runs = r["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 4);
    let failed: Vec<u64> = runs
        .iter()
        .filter(|e| !e["error"].is_null())
        .map(|e| e["size"].as_u64().unwrap())
        .collect();
    assert_eq!(failed, vec![5000]);
    for name in ["checksum", "sort", "similar_pairs"] {
        let f = function(&r, name);
        let sizes: Vec<f64> = f["time"]["points"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["size"].as_f64().unwrap())
            .collect();
        assert_eq!(sizes, vec![1000.0, 20000.0, 50000.0], "{name}");
        assert!(f["time"]["fit"].is_object(), "{name}");
    }
}
