//! A profiling run end to end: directory, files, metadata, errors.

use pipelinescope::__private::{Site, SiteKind, enter};
use pipelinescope::{Config, StartError};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

/// Runs are process-wide: tests that start one take turns.
static SERIAL: Mutex<()> = Mutex::new(());

static STEP: Site = Site::new(
    "lifecycle_step",
    module_path!(),
    file!(),
    line!(),
    SiteKind::Sync,
);

fn step() {
    let _g = enter(&STEP);
    std::hint::black_box((0..1000u64).sum::<u64>());
}

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "pipelinescope-lifecycle-{tag}-{}-{:?}",
        std::process::id(),
        std::time::SystemTime::now()
    ));
    let d = PathBuf::from(d.to_string_lossy().replace([' ', '{', '}', ':', ','], ""));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn read_json(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("profile_data.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The function row named `name` in a `profile_data.json`.
fn function_row<'a>(j: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    j["functions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == name)
        .expect("function row")
}

#[test]
fn a_run_writes_its_directory() {
    let _s = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let out = temp_dir("basic");
    // Calls before the run (a warm-up) are not the run's.
    for _ in 0..10 {
        step();
    }
    let run = pipelinescope::start_with(
        Config::new()
            .defaults_only()
            .output_dir(&out)
            .console(false)
            .dashboard_title("Lifecycle"),
    )
    .expect("no other run is active");
    assert_eq!(
        pipelinescope::start().err(),
        Some(StartError::AlreadyRunning),
        "a second concurrent run is refused with an error value"
    );
    for _ in 0..25 {
        step();
    }
    let id = run.id().to_string();
    assert!(id.starts_with("run_") && id.ends_with(&format!("_{}", std::process::id())));
    let dir = run.finish().expect("run directory");
    assert_eq!(dir, out.join(&id));
    for f in ["profile_data.json", "pipelinescope.log"] {
        assert!(dir.join(f).is_file(), "{f} missing");
    }
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left behind");
    let latest = std::fs::canonicalize(out.join("latest")).unwrap();
    assert_eq!(latest, std::fs::canonicalize(&dir).unwrap());

    let j = read_json(&dir);
    assert_eq!(j["schema_version"], 2);
    let m = &j["meta"];
    assert_eq!(m["run_id"], id.as_str());
    assert_eq!(m["title"], "Lifecycle");
    assert_eq!(m["pid"], std::process::id());
    assert!(m["wall_ns"].as_u64().unwrap() > 0);
    assert!(m["start_time"].as_str().unwrap().ends_with('Z'));
    assert!(m["end_time"].as_str().unwrap() >= m["start_time"].as_str().unwrap());
    assert!(!m["host"].as_str().unwrap().is_empty());
    assert!(!m["command_line"].as_array().unwrap().is_empty());
    assert!(m["probe_overhead_ns"].as_f64().unwrap() > 0.0);
    assert_eq!(m["ended_by_panic"], false);
    let f = function_row(&j, "lifecycle_step");
    assert_eq!(f["calls"], 25, "exactly the calls made during the run");
    let counted: u64 = f["histogram"]["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b[1].as_u64().unwrap())
        .sum();
    assert_eq!(counted, 25);
    for key in [
        "self_ns",
        "cumulative_ns",
        "panics",
        "module",
        "file",
        "line",
    ] {
        assert!(!f[key].is_null(), "{key}");
    }
    for key in [
        "min_ns", "mean_ns", "p50_ns", "p90_ns", "p99_ns", "p999_ns", "max_ns",
    ] {
        assert!(!f["percentiles"][key].is_null(), "{key}");
    }
    assert!(j["call_tree"]["nodes"].as_array().unwrap().len() >= 2);
    let log = std::fs::read_to_string(dir.join("pipelinescope.log")).unwrap();
    assert!(log.contains(&format!("run {id} started")), "{log}");
    assert!(log.contains("wrote profile_data.json"), "{log}");
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn runs_in_the_same_second_get_distinct_directories() {
    let _s = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let out = temp_dir("same-second");
    let mut dirs = std::collections::HashSet::new();
    for _ in 0..3 {
        let run = pipelinescope::start_with(
            Config::new()
                .defaults_only()
                .output_dir(&out)
                .console(false),
        )
        .unwrap();
        step();
        let dir = run.finish().unwrap();
        let j = read_json(&dir);
        let f = function_row(&j, "lifecycle_step");
        assert_eq!(f["calls"], 1, "each run counts its own call only");
        assert!(dirs.insert(dir));
    }
    assert_eq!(dirs.len(), 3);
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn ignore_patterns_leave_functions_out() {
    let _s = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let out = temp_dir("ignore");
    let run = pipelinescope::start_with(
        Config::new()
            .defaults_only()
            .output_dir(&out)
            .console(false)
            .ignore(["lifecycle_*"]),
    )
    .unwrap();
    step();
    let dir = run.finish().unwrap();
    let j = read_json(&dir);
    assert!(
        j["functions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| !f["name"].as_str().unwrap().starts_with("lifecycle_"))
    );
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn bad_config_warns_and_the_run_goes_on() {
    let _s = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let out = temp_dir("badcfg");
    let cfg = out.join("pipelinescope.toml");
    std::fs::write(
        &cfg,
        format!(
            "output_dir = {:?}\nconsole = \"off\"\ntop_nn = 3\nmin_time_percentage = 120\n",
            out.to_string_lossy()
        ),
    )
    .unwrap();
    let run = pipelinescope::start_with(Config::new().config_file(&cfg)).unwrap();
    assert_eq!(run.warnings().len(), 2, "{:?}", run.warnings());
    step();
    let dir = run.finish().unwrap();
    let j = read_json(&dir);
    let warnings = j["meta"]["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 2);
    assert!(
        warnings[0]
            .as_str()
            .unwrap()
            .contains("did you mean `top_n`?")
    );
    assert!(warnings[1].as_str().unwrap().contains("between 0 and 100"));
    let log = std::fs::read_to_string(dir.join("pipelinescope.log")).unwrap();
    assert!(log.contains("did you mean `top_n`?"));
    std::fs::remove_dir_all(&out).unwrap();
}

fn child(mode: &str, out: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_lifecycle_child"))
        .args([mode, &out.to_string_lossy()])
        .env("PIPELINESCOPE_CONSOLE", "on")
        .output()
        .unwrap()
}

#[test]
fn exit_status_and_output_are_unchanged() {
    let out = temp_dir("child");
    let ok = child("ok", &out);
    assert_eq!(ok.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&ok.stderr);
    assert!(stderr.contains("child_work"), "console summary: {stderr}");
    assert!(stderr.contains("PipelineScope: run written to"), "{stderr}");
    let e3 = child("exit3", &out);
    assert_eq!(e3.status.code(), Some(3));
    assert_eq!(ok.stdout, e3.stdout, "program output untouched");
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn unwritable_output_dir_is_reported_and_changes_nothing() {
    let base = temp_dir("unwritable");
    // A regular file where the output directory should be: creating it must fail, as root too.
    let blocker = base.join("not-a-dir");
    std::fs::write(&blocker, "x").unwrap();
    let out = blocker.join("out");
    let r = child("exit3", &out);
    assert_eq!(r.status.code(), Some(3), "exit status unchanged");
    let stderr = String::from_utf8_lossy(&r.stderr);
    assert!(
        stderr.contains("cannot create output directory"),
        "{stderr}"
    );
    assert!(
        stderr.contains("child_work"),
        "the summary still prints: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    std::fs::remove_dir_all(&base).unwrap();
}

#[test]
fn a_panicking_program_still_gets_its_report() {
    let out = temp_dir("panic");
    let r = child("panic", &out);
    assert_eq!(
        r.status.code(),
        Some(101),
        "the panic's exit status is kept"
    );
    let stderr = String::from_utf8_lossy(&r.stderr);
    assert!(stderr.contains("deliberate failure"), "{stderr}");
    let latest = out.join("latest");
    let j = read_json(&latest);
    assert_eq!(j["meta"]["ended_by_panic"], true);
    assert!(
        j["functions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["name"] == "child_work" && f["calls"] == 100)
    );
    std::fs::remove_dir_all(&out).unwrap();
}
