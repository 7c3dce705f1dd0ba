//! `pipelinescope scale`: runs a program at several input sizes (or reads runs made at several
//! sizes), fits how each function's and stage's time grows with the size, and writes
//! `scaling.json`, `scaling.html` and a console table.

use std::collections::HashSet;
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use clap::{Args, ValueEnum};
use pipelinescope_core::Profile;
use pipelinescope_report::console::fmt_ns;
use pipelinescope_report::load::{self, PROFILE_FILE};
use pipelinescope_report::scaling::{self, Outcome, Repeats, RunEntry, Scaled, ScalingReport};

/// Default output directory of `scale`.
pub const DEFAULT_OUT: &str = ".pipelinescope_output/scaling";

/// What `{n}` in the command's arguments is replaced by.
const SIZE_PLACEHOLDER: &str = "{n}";

#[derive(Args)]
pub struct ScaleArgs {
    /// Input sizes: the program is run once per size; with RUNs instead of a program, the
    /// sizes of the RUNs in order (instead of the sample_size they recorded).
    #[arg(long, value_delimiter = ',', value_name = "N,N,...")]
    sizes: Vec<u64>,
    /// Also predict every function's and stage's time at this size, with its interval.
    #[arg(long, value_name = "N")]
    predict: Option<u64>,
    /// Runs per size: more runs, intervals that include the run-to-run scatter.
    #[arg(long, default_value_t = 1, value_name = "R")]
    repeat: u32,
    /// What is fitted of runs repeated at one size: every run, or the median or the fastest run
    /// of each size.
    #[arg(long, value_enum, default_value_t = CombineArg::All)]
    combine: CombineArg,
    /// Output directory: scaling.json, scaling.html and, with a program, its runs.
    #[arg(short = 'o', long = "output", value_name = "DIR", default_value = DEFAULT_OUT)]
    out: PathBuf,
    /// Runs already made at different sizes (instead of a program to run).
    runs: Vec<String>,
    /// The program and its arguments, after `--`; `{n}` in them becomes the size.
    #[arg(last = true, value_name = "CMD")]
    command: Vec<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum CombineArg {
    All,
    Median,
    Min,
}

/// One run that took part, or why it did not.
struct Collected {
    size: u64,
    result: Result<(PathBuf, Profile), String>,
}

/// Runs the command; `Err` is a usage problem (nothing fitted), exit code 2.
pub fn scale_cmd(a: ScaleArgs) -> Result<ExitCode, String> {
    if let Some(0) = a.predict {
        return Err("--predict 0: the size must be at least 1".into());
    }
    let collected = if a.command.is_empty() {
        if a.runs.is_empty() {
            return Err(
                "give a program after `--` (with --sizes), or the runs to fit; see --help".into(),
            );
        }
        read_runs(&a)?
    } else {
        if !a.runs.is_empty() {
            return Err(format!(
                "give either runs to fit or a program after `--`, not both (runs: {})",
                a.runs.join(" ")
            ));
        }
        check_sizes(&a.sizes, a.repeat)?;
        run_program(&a)?
    };

    let ok: Vec<(u64, String, &Profile)> = collected
        .iter()
        .filter_map(|c| match &c.result {
            Ok((path, p)) => Some((c.size, path.display().to_string(), p)),
            Err(_) => None,
        })
        .collect();
    let mut failed = 0;
    for c in &collected {
        if let Err(e) = &c.result {
            failed += 1;
            eprintln!("pipelinescope: size {}: {e}", c.size);
        }
    }
    if ok.is_empty() {
        return Err("no run at any size gave a profile; nothing to fit".into());
    }
    let combine = match a.combine {
        CombineArg::All => Repeats::All,
        CombineArg::Median => Repeats::Median,
        CombineArg::Min => Repeats::Min,
    };
    let mut report = scaling::build(&ok, a.predict, combine);
    report.project_largest(&ok);
    report.runs = collected
        .iter()
        .map(|c| match &c.result {
            Ok((path, _)) => RunEntry {
                size: c.size,
                profile: path.display().to_string(),
                error: None,
            },
            Err(e) => RunEntry {
                size: c.size,
                profile: String::new(),
                error: Some(e.clone()),
            },
        })
        .collect();

    fs::create_dir_all(&a.out).map_err(|e| format!("{}: cannot create: {e}", a.out.display()))?;
    let json = serde_json::to_vec_pretty(&report)
        .map_err(|e| format!("cannot serialize the scaling report: {e}"))?;
    let json_path = a.out.join("scaling.json");
    fs::write(&json_path, json)
        .map_err(|e| format!("{}: cannot write: {e}", json_path.display()))?;
    let html_path = a.out.join("scaling.html");
    fs::write(&html_path, crate::scale_html::render(&report))
        .map_err(|e| format!("{}: cannot write: {e}", html_path.display()))?;

    let mut text = table(&report);
    text.push_str(&format!(
        "wrote {} and {}\n",
        json_path.display(),
        html_path.display()
    ));
    crate::print_out(&text);
    let fitted_any = report
        .functions
        .iter()
        .chain(&report.stages)
        .any(|s| s.time.fit.is_some());
    if failed > 0 || !fitted_any {
        if !fitted_any {
            eprintln!("pipelinescope: nothing could be fitted (see the table)");
        }
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
}

/// At least 3 runs, spanning a decade: checked before anything is run.
fn check_sizes(sizes: &[u64], repeat: u32) -> Result<(), String> {
    if sizes.is_empty() {
        return Err("--sizes is needed to run a program, e.g. --sizes 1000,10000,100000".into());
    }
    if sizes.contains(&0) {
        return Err("--sizes: every size must be at least 1".into());
    }
    if repeat == 0 {
        return Err("--repeat 0: at least one run per size".into());
    }
    let distinct: HashSet<u64> = sizes.iter().copied().collect();
    if distinct.len() < 3 {
        return Err(format!(
            "--sizes: {} different sizes are not enough to fit (at least 3 are needed)",
            distinct.len()
        ));
    }
    let (lo, hi) = (sizes.iter().min(), sizes.iter().max());
    if let (Some(&lo), Some(&hi)) = (lo, hi)
        && (hi as f64) < 10.0 * lo as f64
    {
        return Err(format!(
            "--sizes: not enough range ({lo} to {hi}); the sizes must span at least a factor of 10"
        ));
    }
    Ok(())
}

/// Reads RUN arguments; each run's size is from --sizes or from what it recorded.
fn read_runs(a: &ScaleArgs) -> Result<Vec<Collected>, String> {
    if !a.sizes.is_empty() && a.sizes.len() != a.runs.len() {
        return Err(format!(
            "--sizes gives {} sizes for {} runs; give one per run, or none to use the sample_size \
             each run recorded",
            a.sizes.len(),
            a.runs.len()
        ));
    }
    Ok(a.runs
        .iter()
        .enumerate()
        .map(|(i, run)| match load::load_run(run) {
            Err(e) => Collected {
                size: a.sizes.get(i).copied().unwrap_or(0),
                result: Err(e.to_string()),
            },
            Ok((path, profile)) => {
                let recorded = profile.extrapolation.as_ref();
                let size = match (a.sizes.get(i), recorded) {
                    (Some(&n), _) => n,
                    (None, Some(e)) if e.sample_size > 0 => {
                        if e.sample_size_source == "default" {
                            eprintln!(
                                "pipelinescope: warning: {}: sample_size was not set and no \
                                 stage ran, so its size {} is the default, not the input's; set \
                                 PIPELINESCOPE_SAMPLE_SIZE or give --sizes",
                                path.display(),
                                e.sample_size
                            );
                        }
                        e.sample_size
                    }
                    _ => {
                        return Collected {
                            size: 0,
                            result: Err(format!(
                                "{}: records no sample size; give --sizes",
                                path.display()
                            )),
                        };
                    }
                };
                Collected {
                    size,
                    result: Ok((path, profile)),
                }
            }
        })
        .collect())
}

/// Runs the program once per size (and repeat), each into its own output directory.
fn run_program(a: &ScaleArgs) -> Result<Vec<Collected>, String> {
    let runs_dir = a.out.join("runs");
    let mut out = Vec::new();
    for &size in &a.sizes {
        for r in 0..a.repeat {
            let name = if a.repeat > 1 {
                format!("n{size}_{}", r + 1)
            } else {
                format!("n{size}")
            };
            let dir = runs_dir.join(name);
            fs::create_dir_all(&dir)
                .map_err(|e| format!("{}: cannot create: {e}", dir.display()))?;
            let started = Instant::now();
            let result = run_once(&a.command, size, &dir, a.predict)?;
            let secs = started.elapsed().as_secs_f64();
            match &result {
                Ok((path, _)) => eprintln!(
                    "pipelinescope: size {size}: {secs:.2} s, {}",
                    path.display()
                ),
                Err(_) => eprintln!("pipelinescope: size {size}: failed after {secs:.2} s"),
            }
            out.push(Collected { size, result });
        }
    }
    Ok(out)
}

/// One run of the program at `size`. The outer `Err` (the program cannot be started) stops
/// everything; the inner one is a failed run.
fn run_once(
    command: &[String],
    size: u64,
    dir: &Path,
    predict: Option<u64>,
) -> Result<Result<(PathBuf, Profile), String>, String> {
    let n = size.to_string();
    let args: Vec<String> = command
        .iter()
        .map(|a| a.replace(SIZE_PLACEHOLDER, &n))
        .collect();
    let before = entries(dir);
    let log_path = dir.join("output.log");
    let log = fs::File::create(&log_path)
        .map_err(|e| format!("{}: cannot create: {e}", log_path.display()))?;
    let log2 = log
        .try_clone()
        .map_err(|e| format!("{}: {e}", log_path.display()))?;
    // An absolute output directory: the program may change its working directory.
    let abs_dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    let mut cmd = Command::new(&args[0]);
    cmd.args(&args[1..])
        .env("PIPELINESCOPE_SAMPLE_SIZE", &n)
        .env("PIPELINESCOPE_OUTPUT_DIR", &abs_dir)
        .env("PIPELINESCOPE_CONSOLE", "off")
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log2);
    if let Some(p) = predict {
        cmd.env("PIPELINESCOPE_EXPECTED_SIZE", p.to_string());
    }
    let status = cmd
        .status()
        .map_err(|e| format!("cannot start `{}`: {e}", args[0]))?;
    if !status.success() {
        let tail = last_lines(&log_path, 5);
        return Ok(Err(format!(
            "the program failed ({status}){}",
            if tail.is_empty() {
                String::new()
            } else {
                format!("; the end of its output ({}):\n{tail}", log_path.display())
            }
        )));
    }
    let newest = entries(dir)
        .difference(&before)
        .filter(|name| dir.join(name).join(PROFILE_FILE).is_file())
        .max()
        .cloned();
    let Some(name) = newest else {
        return Ok(Err(format!(
            "the program exited successfully but wrote no profile into {} (is it built with \
             pipelinescope's `enable` feature, and does it call pipelinescope::start()?)",
            dir.display()
        )));
    };
    let path = dir.join(name).join(PROFILE_FILE);
    Ok(load::load_file(&path)
        .map(|p| (path, p))
        .map_err(|e| e.to_string()))
}

fn entries(dir: &Path) -> HashSet<OsString> {
    fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.file_name()).collect())
        .unwrap_or_default()
}

fn last_lines(path: &Path, n: usize) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..]
        .iter()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `2.00 [1.98, 2.02]`, or `-` without a fit.
pub fn fmt_exponent(o: &Outcome) -> String {
    match &o.fit {
        Some(f) => format!(
            "{:.2} [{:.2}, {:.2}]",
            f.exponent, f.exponent_low, f.exponent_high
        ),
        None => "-".into(),
    }
}

/// The chosen model (or why there is none) and its R².
pub fn fmt_model(o: &Outcome) -> (String, String) {
    match (&o.fit, &o.error) {
        (Some(f), _) => (f.describe(), format!("{:.4}", f.best_fit().r_squared)),
        (None, Some(e)) => (e.clone(), "-".into()),
        (None, None) => ("-".into(), "-".into()),
    }
}

/// `1.23 s [1.10 s, 1.40 s]`, or `-`.
pub fn fmt_prediction(o: &Outcome) -> (String, String) {
    match &o.prediction {
        Some(p) => (
            fmt_ns(p.value),
            format!("[{}, {}]", fmt_ns(p.low), fmt_ns(p.high)),
        ),
        None => ("-".into(), "-".into()),
    }
}

/// The console table: the runs, then one row per function and stage.
pub fn table(r: &ScalingReport) -> String {
    let mut out = String::from("runs:\n");
    for run in &r.runs {
        match &run.error {
            None => out.push_str(&format!("  {:>12}  {}\n", run.size, run.profile)),
            Some(e) => out.push_str(&format!(
                "  {:>12}  FAILED: {}\n",
                run.size,
                e.lines().next().unwrap_or("")
            )),
        }
    }
    out.push('\n');
    let at = r
        .predict_size
        .map_or_else(|| "predicted".to_string(), |n| format!("at {n}"));
    let mut rows: Vec<[String; 9]> = vec![[
        "kind".into(),
        "name".into(),
        "k (time)".into(),
        "model".into(),
        "R²".into(),
        "k (self)".into(),
        at,
        "95% interval".into(),
        "points".into(),
    ]];
    let mut push = |kind: &str, s: &Scaled| {
        let (model, r2) = fmt_model(&s.time);
        let (pred, interval) = fmt_prediction(&s.time);
        rows.push([
            kind.into(),
            s.name.clone(),
            fmt_exponent(&s.time),
            model,
            r2,
            s.self_time
                .as_ref()
                .map_or_else(|| "-".into(), fmt_exponent),
            pred,
            interval,
            s.time.points.len().to_string(),
        ]);
    };
    for s in &r.functions {
        push("fn", s);
    }
    for s in &r.stages {
        push("stage", s);
    }
    let widths: Vec<usize> = (0..9)
        .map(|c| {
            rows.iter()
                .map(|row| row[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in &rows {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            let pad = widths[c] - cell.chars().count();
            // Names and models left-aligned, figures right-aligned.
            if matches!(c, 0 | 1 | 3) {
                line.push_str(cell);
                line.push_str(&" ".repeat(pad));
            } else {
                line.push_str(&" ".repeat(pad));
                line.push_str(cell);
            }
            line.push_str("  ");
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    if let Some(e) = &r.extrapolation {
        let t = &e.total;
        out.push_str(&format!(
            "\nwhole run at {}: {} [{}, {}] (instrumented time of the run at {} projected; {})\n",
            e.expected_size,
            fmt_ns(t.projected_ns),
            fmt_ns(t.low_ns),
            fmt_ns(t.high_ns),
            e.sample_size,
            t.model
        ));
    }
    out.push_str(
        "\nk: exponent of t = a·n^k with its 95% interval (time: cumulative for functions, own \
         for stages); model: the simplest of O(1), O(n), O(n log n), O(n^2) that fits as well as \
         the best (all such when the points cannot tell them apart), else the power law; R²: of \
         that model, in log space. Predictions use that model, or the power law where several \
         shapes fit, with the 95% interval of one new run.\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_checked_before_running() {
        assert!(check_sizes(&[1000, 10000, 100000], 1).is_ok());
        assert!(check_sizes(&[1000, 10000, 100000], 3).is_ok());
        assert!(check_sizes(&[1000, 10000, 10000], 2).is_err());
        assert!(
            check_sizes(&[], 1)
                .unwrap_err()
                .contains("--sizes is needed")
        );
        assert!(
            check_sizes(&[1000, 10000], 1)
                .unwrap_err()
                .contains("not enough to fit")
        );
        assert!(
            check_sizes(&[1000, 2000, 5000], 1)
                .unwrap_err()
                .contains("not enough range")
        );
        assert!(
            check_sizes(&[0, 10, 100], 1)
                .unwrap_err()
                .contains("at least 1")
        );
        assert!(check_sizes(&[1, 10, 100], 0).is_err());
    }
}
