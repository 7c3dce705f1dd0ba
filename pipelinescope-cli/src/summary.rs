//! Writing a run's summary.html.

use std::path::Path;

use pipelinescope_core::Profile;
use pipelinescope_report::html::{self, HtmlOptions};

/// Writes summary.html for `profile` at `path` (atomically), with the page controls starting
/// from their defaults and the profile's own title.
pub fn write_summary(profile: &Profile, path: &Path) -> std::io::Result<()> {
    html::write(profile, &HtmlOptions::default(), path)
}
