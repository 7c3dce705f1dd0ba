//! The self-contained `summary.html` page.
//!
//! The page is one file: CSS and JavaScript are inline, the run's figures are embedded as JSON in a
//! `<script type="application/json">` block, nothing is fetched from the network, so it opens from
//! `file://` anywhere. Static parts (header, summary cards, pipeline, resource tables) are rendered
//! by compiled Askama templates, which escape every string; the interactive parts (hotspots table,
//! call tree, flame graph, latency plots, charts, extrapolation) are drawn by vanilla JavaScript
//! from the embedded data, which inserts names only as escaped text.
//!
//! The flame graph is drawn by the page's own script from the call tree (no external crate): frames
//! thinner than half a pixel are skipped, so a 100,000-node tree stays responsive. Measured with the
//! synthetic profile of [`synthetic::profile`]`(10_000, 100_000)`: the page is about 7.5 MB and
//! headless Chromium finishes drawing it about 0.3 s after navigation starts (`tests/browser.rs`
//! prints the figures).

mod data;
mod format;
mod growth;
mod lines;
mod page;
pub mod synthetic;

use std::io::Write as _;
use std::path::Path;

use pipelinescope_core::profile::Profile;

/// Starting values of the page's controls (the user can change them on the page).
#[derive(Debug, Clone, PartialEq)]
pub struct HtmlOptions {
    /// Page title; when empty, the profile's own title (`dashboard_title`) is used.
    pub title: String,
    /// Rows shown in the hotspots table at first (0 shows all).
    pub top_n: usize,
    /// Functions whose cumulative time is below this many milliseconds are hidden at first.
    pub min_time_threshold_ms: f64,
    /// Functions below this percentage (0..=100) of the run's wall time are hidden at first.
    pub min_time_percentage: f64,
}

impl Default for HtmlOptions {
    fn default() -> Self {
        HtmlOptions {
            title: String::new(),
            top_n: 50,
            min_time_threshold_ms: 0.0,
            min_time_percentage: 0.0,
        }
    }
}

/// Renders `profile` as one self-contained HTML page. Never panics, whatever the data.
pub fn render(profile: &Profile, opts: &HtmlOptions) -> String {
    page::render(profile, opts)
}

/// Renders `profile` and writes it to `path` atomically: the page goes to a temporary file in the
/// same directory, which is then renamed over `path`, so readers never see half a page.
pub fn write(profile: &Profile, opts: &HtmlOptions, path: &Path) -> std::io::Result<()> {
    let html = render(profile, opts);
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path.file_name().ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("report path {} has no file name", path.display()),
        )
    })?;
    // Unique per process and per call, so concurrent writers never share a temporary file.
    static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".{}-{seq}.tmp", std::process::id()));
    let tmp = dir.join(tmp_name);
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(html.as_bytes())?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
