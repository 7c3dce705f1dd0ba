//! Writing a run's summary.html.

use std::path::Path;

use pipelinescope_core::Profile;
use pipelinescope_report::console::{self, TableOptions};

use crate::comparison::escape;

/// Writes summary.html for `profile` at `path`.
///
/// The dashboard belongs to the report crate's HTML renderer; once
/// `pipelinescope_report::html` is available this body becomes
/// `pipelinescope_report::html::write(profile, &pipelinescope_report::html::HtmlOptions::default(), path)`.
/// Until then it writes a minimal self-contained page holding the console tables, so that
/// `report` and `merge` already leave a readable summary.html.
pub fn write_summary(profile: &Profile, path: &Path) -> std::io::Result<()> {
    std::fs::write(path, placeholder_page(profile))
}

fn placeholder_page(profile: &Profile) -> String {
    let opts = TableOptions {
        limit: 0,
        ..TableOptions::default()
    };
    let title = if profile.meta.title.is_empty() {
        format!("PipelineScope run {}", profile.meta.run_id)
    } else {
        profile.meta.title.clone()
    };
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title>\
<style>body{{font-family:sans-serif;margin:2em}}pre{{background:#f6f6f6;padding:1em;overflow:auto}}</style>\
</head><body><h1>{t}</h1><h2>Run</h2><pre>{s}</pre><h2>Functions</h2><pre>{f}</pre>\
<h2>Stages</h2><pre>{st}</pre></body></html>\n",
        t = escape(&title),
        s = escape(&console::run_summary_lines(profile)),
        f = escape(&console::functions_table(profile, &opts)),
        st = escape(&console::stages_table(profile, &opts)),
    )
}
