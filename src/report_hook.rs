//! What the run asks of `pipelinescope-report`: the console summary, the HTML page, the
//! projection to production scale.

use crate::Profile;
use crate::config::Settings;
use std::path::Path;

/// Adds what the report derives from the measurements (the extrapolation).
pub fn finish_profile(profile: &mut Profile, settings: &Settings) {
    let _ = (profile, settings);
}

/// Writes `summary.html` into `dir`. Ok(false) when this build has no HTML report.
pub fn write_html(profile: &Profile, settings: &Settings, dir: &Path) -> std::io::Result<bool> {
    let _ = (profile, settings, dir);
    Ok(false)
}

/// The end-of-run console summary.
pub fn console_summary(profile: &Profile, settings: &Settings) -> String {
    let mut out = String::new();
    let mut rows = profile.by_cumulative();
    rows.truncate(settings.top_n);
    for f in rows {
        out.push_str(&format!(
            "{:>10} {:>14} {:>14}  {}\n",
            f.calls, f.self_ns, f.cumulative_ns, f.name
        ));
    }
    out
}
