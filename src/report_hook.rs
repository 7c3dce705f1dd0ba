//! What the run asks of `pipelinescope-report`: the console summary, the HTML page, the
//! projection to production scale.

use crate::Profile;
use crate::config::Settings;
use std::path::Path;

/// Adds what the report derives from the measurements: how each sized function's and stage's
/// time grows with its calls' size (`scaling`), and the projection from `sample_size` to
/// `expected_size`.
///
/// An unset `sample_size` is taken from what the run saw (its first stage's records) rather
/// than the default 100, which would make every projection wrong by the ratio; the profile
/// records which it was (`sample_size_source`).
pub fn finish_profile(profile: &mut Profile, settings: &Settings) {
    pipelinescope_report::scaling::within::annotate(profile);
    let observed = pipelinescope_report::extrapolate::observed_sample_size(profile);
    let (sample, source) = match (settings.sample_size_set, observed) {
        (true, _) => (settings.sample_size, "set"),
        (false, Some(n)) => (n, "observed"),
        (false, None) => (settings.sample_size, "default"),
    };
    let mut e = pipelinescope_report::extrapolate(profile, sample, settings.expected_size);
    e.sample_size_source = source.to_owned();
    profile.extrapolation = Some(e);
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

#[cfg(test)]
mod tests {
    use super::*;
    use pipelinescope_core::profile::StageStats;

    fn with_stage(records_in: u64, records_out: u64) -> Profile {
        let mut p = Profile::default();
        p.stages.push(StageStats {
            name: "parse".into(),
            records_in,
            records_out,
            ..StageStats::default()
        });
        p
    }

    #[test]
    fn unset_sample_size_is_what_the_first_stage_saw() {
        let mut p = with_stage(2_500, 2_000);
        finish_profile(&mut p, &Settings::default());
        let e = p.extrapolation.unwrap();
        assert_eq!(
            (e.sample_size, e.sample_size_source.as_str()),
            (2_500, "observed")
        );
        assert_eq!(e.factor, 1_000_000.0 / 2_500.0);

        // A source stage takes nothing in: its output counts.
        let mut p = with_stage(0, 40);
        finish_profile(&mut p, &Settings::default());
        assert_eq!(p.extrapolation.unwrap().sample_size, 40);

        // No stage: the default stands in, and says so.
        let mut p = Profile::default();
        finish_profile(&mut p, &Settings::default());
        let e = p.extrapolation.unwrap();
        assert_eq!(
            (e.sample_size, e.sample_size_source.as_str()),
            (100, "default")
        );
    }

    #[test]
    fn a_set_sample_size_wins_even_when_it_equals_the_default() {
        let settings = Settings {
            sample_size: 100,
            sample_size_set: true,
            ..Settings::default()
        };
        let mut p = with_stage(2_500, 2_000);
        finish_profile(&mut p, &settings);
        let e = p.extrapolation.unwrap();
        assert_eq!((e.sample_size, e.sample_size_source.as_str()), (100, "set"));
    }
}
