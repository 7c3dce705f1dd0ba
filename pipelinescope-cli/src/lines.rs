//! `pipelinescope lines [RUN] [FUNCTION]`: the line tables of the functions annotated
//! `#[profile(lines)]`, as `kernprof -l -v` prints line_profiler's, from the source text the
//! macro captured when the program compiled.

use crate::{Failure, print_out};
use clap::Args;
use pipelinescope_core::profile::FunctionLines;
use pipelinescope_report::console::lines_listing;
use pipelinescope_report::load;

#[derive(Args)]
pub struct LinesArgs {
    /// The run (directory, profile_data.json path or `latest`).
    #[arg(default_value = "latest", long_help = crate::RUN_HELP)]
    run: String,
    /// Show only the functions whose name contains TEXT (case-insensitive); all when absent.
    function: Option<String>,
}

/// Prints the line tables of the run, the slowest function first.
pub fn lines_cmd(a: LinesArgs) -> Result<std::process::ExitCode, Failure> {
    let (_, profile) = load::load_run(&a.run)?;
    let needle = a.function.as_deref().map(str::to_lowercase);
    let mut tables: Vec<&FunctionLines> = profile
        .lines
        .iter()
        .filter(|f| {
            needle
                .as_deref()
                .is_none_or(|n| f.function.to_lowercase().contains(n))
        })
        .collect();
    if tables.is_empty() {
        let what = match &a.function {
            Some(n) => format!("no function matching {n:?} has line figures"),
            None => "no function has line figures: annotate one with #[profile(lines)]".into(),
        };
        return Err(Failure::Usage(what));
    }
    tables.sort_by_key(|t| std::cmp::Reverse(t.total_ns));
    let text: Vec<String> = tables.into_iter().map(lines_listing).collect();
    print_out(&text.join("\n"));
    Ok(std::process::ExitCode::SUCCESS)
}
