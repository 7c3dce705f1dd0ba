//! What the run asks of `pipelinescope-report`: the console summary, the HTML page, the
//! projection to production scale.

use crate::Profile;
use crate::config::Settings;
use std::path::Path;

/// Adds what the report derives from the measurements: the projection from `sample_size` to
/// `expected_size`.
pub fn finish_profile(profile: &mut Profile, settings: &Settings) {
    profile.extrapolation = Some(pipelinescope_report::extrapolate(
        profile,
        settings.sample_size,
        settings.expected_size,
    ));
}

/// The HTML report as text.
pub fn render_html(profile: &Profile, settings: &Settings) -> String {
    pipelinescope_report::html::render(profile, &html_options(settings))
}

fn html_options(settings: &Settings) -> pipelinescope_report::html::HtmlOptions {
    pipelinescope_report::html::HtmlOptions {
        title: settings.dashboard_title.clone(),
        top_n: settings.top_n,
        min_time_threshold_ms: settings.min_time_threshold_ms,
        min_time_percentage: settings.min_time_percentage,
    }
}

/// Writes `summary.html` into `dir`.
pub fn write_html(profile: &Profile, settings: &Settings, dir: &Path) -> std::io::Result<bool> {
    pipelinescope_report::html::write(profile, &html_options(settings), &dir.join("summary.html"))?;
    Ok(true)
}

/// The end-of-run console summary: run figures, the top functions, and the stage table.
pub fn console_summary(profile: &Profile, settings: &Settings) -> String {
    use crate::config::SortBy;
    use pipelinescope_report::console::{self, SortKey, TableOptions};
    use std::io::IsTerminal;
    let opts = TableOptions {
        sort_by: match settings.sort_by {
            SortBy::Cumulative => SortKey::Cumulative,
            SortBy::SelfTime => SortKey::SelfTime,
            SortBy::Calls => SortKey::Calls,
            SortBy::P99 => SortKey::P99,
        },
        limit: settings.top_n,
        filter: None,
        color: std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        min_cumulative_ns: (settings.min_time_threshold_ms * 1e6) as u64,
        min_percentage: settings.min_time_percentage,
    };
    let mut out = format!("\nPipelineScope: {}\n", profile.meta.title);
    out.push_str(&console::run_summary_lines(profile));
    out.push('\n');
    out.push_str(&console::functions_table(profile, &opts));
    if !profile.stages.is_empty() {
        out.push('\n');
        out.push_str(&console::stages_table(profile, &opts));
    }
    out
}
