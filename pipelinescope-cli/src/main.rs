//! The `pipelinescope` command: read, compare, combine and export PipelineScope runs.
//!
//! Exit codes: 0 success, 1 `diff --fail-on-regression` found a regression, 2 bad input (the
//! message on stderr names the file and the problem) or, for `scale`, a failed run.

mod comparison;
mod lines;
mod live;
mod scale;
mod scale_html;
mod summary;

use std::fs;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use pipelinescope_core::Profile;
use pipelinescope_report::console::{self, SortKey, TableOptions};
use pipelinescope_report::diff;
use pipelinescope_report::export::{self, Format};
use pipelinescope_report::load::{self, LoadError, PROFILE_FILE};
use pipelinescope_report::merge;

pub(crate) const RUN_HELP: &str = "A RUN is a run directory (holding profile_data.json), the path of a \
profile_data.json, or `latest`: the newest run under ./.pipelinescope_output (DIR/latest: the \
newest run under DIR).";

#[derive(Parser)]
#[command(
    name = "pipelinescope",
    version,
    about = "Read, compare, combine and export PipelineScope runs, or watch one live",
    after_help = "Examples:\n  pipelinescope top\n  pipelinescope top latest --sort self --limit 10\n  \
pipelinescope diff runs/base runs/current --fail-on-regression\n  \
pipelinescope merge host1/run_a host2/run_b -o merged\n  \
pipelinescope export latest --format collapsed -o stacks.folded\n  \
pipelinescope live 127.0.0.1:9464\n  \
pipelinescope scale --sizes 1000,10000,100000 --predict 1000000 -- ./my_program {n}\n\n\
Exit codes: 0 success, 1 regression found (diff --fail-on-regression), 2 bad input or a failed run (scale)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the functions table (pstats-like) or the stage table of a run.
    #[command(after_help = concat!(
        "Examples:\n  pipelinescope top\n  pipelinescope top .pipelinescope_output/run_20260101_120000 --sort p99 --limit 5\n  \
pipelinescope top latest --filter parse\n  pipelinescope top latest --stages\n\n",
        "A RUN is a run directory (holding profile_data.json), the path of a profile_data.json, or `latest`."
    ))]
    Top(TopArgs),
    /// Render summary.html again next to a run's profile_data.json.
    #[command(
        after_help = "Example:\n  pipelinescope report .pipelinescope_output/run_20260101_120000\n  pipelinescope report latest"
    )]
    Report {
        /// The run (directory, profile_data.json path or `latest`).
        run: String,
    },
    /// Compare two runs per function and stage; writes comparison.html in CURRENT's run directory.
    #[command(
        after_help = "Examples:\n  pipelinescope diff base_run current_run\n  \
pipelinescope diff base/profile_data.json latest --threshold 10 --fail-on-regression\n\n\
A change counts when Welch's t over the per-call means is at least 3 and the mean moved by at \
least --threshold percent (fewer than 2 calls on a side: at least the larger of --threshold and \
10%). Exit code 1 with --fail-on-regression when anything regressed."
    )]
    Diff(DiffArgs),
    /// Merge runs of many processes or machines into one profile.
    #[command(
        after_help = "Examples:\n  pipelinescope merge worker1/run_a worker2/run_b -o merged_run\n  \
pipelinescope merge run_* -o all.json\n\n\
OUT ending in .json is written as that file; any other OUT is a directory that receives \
profile_data.json and summary.html."
    )]
    Merge(MergeArgs),
    /// Export a run as folded stacks, Chrome trace JSON, CSV or Prometheus text.
    #[command(
        after_help = "Examples:\n  pipelinescope export latest --format collapsed | inferno-flamegraph > flame.svg\n  \
pipelinescope export latest --format chrome -o trace.json   # open in ui.perfetto.dev\n  \
pipelinescope export latest --format csv -o functions.csv\n  \
pipelinescope export latest --format prometheus -o run.prom"
    )]
    Export(ExportArgs),
    /// Watch a running program: functions, stages, CPU and memory, refreshed from its live
    /// endpoint.
    #[command(
        after_help = "Examples:\n  pipelinescope live\n  pipelinescope live 127.0.0.1:9464 --interval 2\n  \
pipelinescope live .pipelinescope_output/run_20260101T120000Z_4242\n  pipelinescope live latest --once\n\n\
Keys: s sort, Tab switch table, p pause, q / Esc / Ctrl-C quit.\n\
Start the program with PIPELINESCOPE_LIVE=127.0.0.1:0; the bound address goes to live.addr in its \
run directory. Exit code 2 when the endpoint cannot be reached."
    )]
    Live(live::LiveArgs),
    /// Fit how each function's and stage's time grows with the input size, over runs at
    /// several sizes; predict it at a larger size.
    #[command(after_help = "Examples:\n  \
pipelinescope scale --sizes 1000,10000,100000 --predict 1000000 -- target/release/my_app --records {n}\n  \
pipelinescope scale runs/small runs/medium runs/large --predict 10000000\n  \
pipelinescope scale --sizes 1000,10000,100000 runs/a runs/b runs/c\n\n\
With a program (after `--`), it runs once per size (--repeat: more), with `{n}` in its arguments \
replaced by the size and PIPELINESCOPE_SAMPLE_SIZE=<n> and PIPELINESCOPE_OUTPUT_DIR=DIR/runs/n<n> \
set. With RUNs, each run's size is the sample_size it recorded (or --sizes, in order). Writes \
DIR/scaling.json and DIR/scaling.html (DIR: -o, default .pipelinescope_output/scaling). At least \
3 runs spanning a factor of 10 are needed. Exit code 2 when a run failed (the others are still \
fitted) or nothing could be fitted.")]
    Scale(scale::ScaleArgs),
    /// Print the per-line figures of the functions annotated `#[profile(lines)]`, as
    /// `kernprof -l -v` prints line_profiler's.
    #[command(
        after_help = "Examples:\n  pipelinescope lines\n  pipelinescope lines latest calculate_z\n  \
pipelinescope lines .pipelinescope_output/run_20260101T120000Z_4242 parse\n\n\
Columns: Line #, Hits (times a statement starting on the line ran; a loop's line counts its entry \
and each iteration), Time (microseconds, inclusive of calls made on the line), Per Hit, % Time \
(of the function's), and with the allocation tracker Allocated, Freed, Increment and Allocs. \
The source shown is the one the program was compiled from."
    )]
    Lines(lines::LinesArgs),
}

#[derive(Args)]
struct TopArgs {
    /// The run (directory, profile_data.json path or `latest`).
    #[arg(default_value = "latest", long_help = RUN_HELP)]
    run: String,
    /// Column to sort by, descending.
    #[arg(long, value_enum, default_value_t = SortArg::Cumulative)]
    sort: SortArg,
    /// Rows to show at most (0: all).
    #[arg(long, default_value_t = 20)]
    limit: usize,
    /// Show only rows whose name, module or file contains TEXT (case-insensitive).
    #[arg(long, value_name = "TEXT")]
    filter: Option<String>,
    /// Show the pipeline stage table instead of the functions table.
    #[arg(long)]
    stages: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum SortArg {
    Cumulative,
    #[value(name = "self")]
    SelfTime,
    Calls,
    P99,
}

#[derive(Args)]
struct DiffArgs {
    /// The base run.
    base: String,
    /// The current run.
    current: String,
    /// Minimum relative change of the mean per call that counts, in percent.
    #[arg(long, default_value_t = 5.0, value_name = "PCT")]
    threshold: f64,
    /// Exit with code 1 when any function or stage regressed.
    #[arg(long)]
    fail_on_regression: bool,
}

#[derive(Args)]
struct MergeArgs {
    /// The runs to merge.
    #[arg(required = true, num_args = 1..)]
    runs: Vec<String>,
    /// Output: a directory, or a path ending in .json.
    #[arg(short = 'o', long = "output", value_name = "OUT")]
    out: PathBuf,
}

#[derive(Args)]
struct ExportArgs {
    /// The run (directory, profile_data.json path or `latest`).
    run: String,
    /// Output format.
    #[arg(long, value_enum)]
    format: FormatArg,
    /// Write to FILE instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    out: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum FormatArg {
    Collapsed,
    Chrome,
    Csv,
    Prometheus,
}

/// Why a command failed; printed as one line, exit code 2.
pub(crate) enum Failure {
    Load(LoadError),
    Write { path: PathBuf, err: std::io::Error },
    Usage(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Load(e) => write!(f, "{e}"),
            Failure::Write { path, err } => write!(f, "{}: cannot write: {err}", path.display()),
            Failure::Usage(s) => f.write_str(s),
        }
    }
}

impl From<LoadError> for Failure {
    fn from(e: LoadError) -> Self {
        Failure::Load(e)
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Top(a) => top(a),
        Command::Report { run } => report(&run),
        Command::Diff(a) => diff_cmd(a),
        Command::Merge(a) => merge_cmd(a),
        Command::Export(a) => export_cmd(a),
        Command::Live(a) => live::run(a).map_err(Failure::Usage),
        Command::Scale(a) => scale::scale_cmd(a).map_err(Failure::Usage),
        Command::Lines(a) => lines::lines_cmd(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            let line = e.to_string().replace('\n', " ");
            eprintln!("pipelinescope: {line}");
            ExitCode::from(2)
        }
    }
}

/// Prints to stdout; a closed pipe (`| head`) ends the output quietly instead of panicking.
pub(crate) fn print_out(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
}

fn use_color() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent).map_err(|err| Failure::Write {
            path: parent.to_path_buf(),
            err,
        })?;
    }
    fs::write(path, bytes).map_err(|err| Failure::Write {
        path: path.to_path_buf(),
        err,
    })
}

/// The run directory of a loaded profile: the folder holding its profile_data.json.
fn run_dir(profile_path: &Path) -> PathBuf {
    match profile_path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn top(a: TopArgs) -> Result<ExitCode, Failure> {
    let (path, profile) = load::load_run(&a.run)?;
    let opts = TableOptions {
        sort_by: match a.sort {
            SortArg::Cumulative => SortKey::Cumulative,
            SortArg::SelfTime => SortKey::SelfTime,
            SortArg::Calls => SortKey::Calls,
            SortArg::P99 => SortKey::P99,
        },
        limit: a.limit,
        filter: a.filter,
        color: use_color(),
        ..TableOptions::default()
    };
    let mut text = format!("{}\n", heading(&profile, &path));
    text.push_str(&console::run_summary_lines(&profile));
    text.push('\n');
    if a.stages {
        text.push_str(&console::stages_table(&profile, &opts));
    } else {
        text.push_str(&console::functions_table(&profile, &opts));
    }
    print_out(&text);
    Ok(ExitCode::SUCCESS)
}

fn heading(profile: &Profile, path: &Path) -> String {
    let m = &profile.meta;
    let name = if m.title.is_empty() {
        m.run_id.as_str()
    } else {
        m.title.as_str()
    };
    if m.start_time.is_empty() {
        format!("{name} ({})", path.display())
    } else {
        format!("{name}, {} ({})", m.start_time, path.display())
    }
}

fn report(run: &str) -> Result<ExitCode, Failure> {
    let (path, profile) = load::load_run(run)?;
    let out = run_dir(&path).join("summary.html");
    summary::write_summary(&profile, &out).map_err(|err| Failure::Write {
        path: out.clone(),
        err,
    })?;
    print_out(&format!("wrote {}\n", out.display()));
    Ok(ExitCode::SUCCESS)
}

fn diff_cmd(a: DiffArgs) -> Result<ExitCode, Failure> {
    if !a.threshold.is_finite() || a.threshold < 0.0 {
        return Err(Failure::Usage(format!(
            "--threshold {}: must be a percentage of 0 or more",
            a.threshold
        )));
    }
    let (base_path, base) = load::load_run(&a.base)?;
    let (cur_path, current) = load::load_run(&a.current)?;
    let d = diff::diff(&base, &current, a.threshold / 100.0);
    let html = comparison::render(&d, &base_path, &base, &cur_path, &current);
    let out = run_dir(&cur_path).join("comparison.html");
    write_file(&out, html.as_bytes())?;
    let mut text = format!(
        "base:    {}\ncurrent: {}\n\n",
        heading(&base, &base_path),
        heading(&current, &cur_path)
    );
    text.push_str(&diff::diff_table(&d, use_color()));
    text.push_str(&format!("wrote {}\n", out.display()));
    print_out(&text);
    if a.fail_on_regression && d.has_regression() {
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

fn merge_cmd(a: MergeArgs) -> Result<ExitCode, Failure> {
    let mut loaded: Vec<(PathBuf, Profile)> = Vec::with_capacity(a.runs.len());
    for run in &a.runs {
        loaded.push(load::load_run(run)?);
    }
    load::check_same_version(&loaded)?;
    let inputs: Vec<(String, Profile)> = loaded
        .into_iter()
        .map(|(p, prof)| (p.display().to_string(), prof))
        .collect();
    let merged = merge::merge(&inputs);
    let json = serde_json::to_vec(&merged)
        .map_err(|e| Failure::Usage(format!("cannot serialize the merged profile: {e}")))?;
    let is_json_file = a
        .out
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let written = if is_json_file {
        write_file(&a.out, &json)?;
        a.out.clone()
    } else {
        let file = a.out.join(PROFILE_FILE);
        write_file(&file, &json)?;
        let html = a.out.join("summary.html");
        summary::write_summary(&merged, &html).map_err(|err| Failure::Write {
            path: html.clone(),
            err,
        })?;
        file
    };
    print_out(&format!(
        "merged {} runs ({} functions, {} calls) into {}\n",
        inputs.len(),
        merged.functions.len(),
        merged.meta.total_calls,
        written.display()
    ));
    Ok(ExitCode::SUCCESS)
}

fn export_cmd(a: ExportArgs) -> Result<ExitCode, Failure> {
    let (_, profile) = load::load_run(&a.run)?;
    let format = match a.format {
        FormatArg::Collapsed => Format::Collapsed,
        FormatArg::Chrome => Format::Chrome,
        FormatArg::Csv => Format::Csv,
        FormatArg::Prometheus => Format::Prometheus,
    };
    let text = export::export(&profile, format);
    match a.out {
        Some(path) => write_file(&path, text.as_bytes())?,
        None => print_out(&text),
    }
    Ok(ExitCode::SUCCESS)
}
