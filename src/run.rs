//! Starting and finishing a profiling run: the run directory, its files, the console summary.
//!
//! Nothing here may disturb the profiled program: every failure becomes a message on stderr and
//! in the run's log, never a panic, an exit or a changed exit status.

use crate::config::{Config, Resolved, Settings};
use crate::output::{update_latest, write_atomic};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Instant, SystemTime};

static ACTIVE: AtomicBool = AtomicBool::new(false);

/// Why a run could not start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartError {
    /// Another run is still active in this process; finish (drop) it first.
    AlreadyRunning,
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::AlreadyRunning => f.write_str(
                "a PipelineScope run is already active in this process; drop its guard first",
            ),
        }
    }
}

impl std::error::Error for StartError {}

/// An active run. Dropping it (or calling [`Run::finish`]) ends the run and writes its outputs,
/// also while unwinding from a panic.
#[must_use = "the run finishes when this guard is dropped; bind it with `let _run = ...`"]
pub struct Run {
    info: Arc<RunInfo>,
    config_file: Option<PathBuf>,
    dir: Option<PathBuf>,
    dir_error: Option<String>,
    log: Vec<String>,
    finished: bool,
    #[cfg(feature = "enable")]
    sampler: Option<crate::resources_hook::SamplerHandle>,
    live: Option<crate::live::Server>,
}

/// What a run knows from its start: enough to build its profile at any time, from any thread
/// (the end of the run, and the live endpoint's requests).
pub(crate) struct RunInfo {
    settings: Settings,
    warnings: Vec<String>,
    run_id: String,
    started: SystemTime,
    started_at: Instant,
    probe_overhead_ns: f64,
    /// Everything recorded before the run started, subtracted from every profile of the run.
    baseline: Option<crate::Profile>,
    /// Asks the resource sampler for its figures so far.
    #[cfg(feature = "enable")]
    peeker: Option<pipelinescope_core::resources::Peeker>,
}

/// Starts a run with settings from `pipelinescope.toml` (searched from the working directory
/// upward) and `PIPELINESCOPE_*` environment variables.
///
/// ```no_run
/// let _run = pipelinescope::start();
/// // ... the pipeline ...
/// // the report is written when `_run` is dropped
/// ```
pub fn start() -> Result<Run, StartError> {
    start_with(Config::new())
}

/// Starts a run with settings given in code (they win over file and environment).
pub fn start_with(config: Config) -> Result<Run, StartError> {
    if ACTIVE.swap(true, Ordering::AcqRel) {
        return Err(StartError::AlreadyRunning);
    }
    let Resolved {
        settings,
        file,
        warnings,
    } = config.resolve();
    // Calibrate before the run's clock starts, so the calibration is not part of the run.
    crate::set_compensation(settings.compensate);
    crate::set_sampled_timing(settings.sampled_timing);
    let probe_overhead_ns = if crate::is_recording() {
        pipelinescope_core::measure_probe_overhead()
    } else {
        0.0
    };
    // What the process recorded before this run (a warm-up, an earlier run) is not this run's.
    let baseline = crate::is_recording().then(|| pipelinescope_core::snapshot::collect(0));
    let started = SystemTime::now();
    let started_at = Instant::now();
    let pid = std::process::id();
    let stamp = timestamp_for_dir(started);
    let base = format!("run_{stamp}_{pid}");
    let (dir, dir_error, run_id) = match create_run_dir(&settings.output_dir, &base) {
        Ok(d) => {
            let id = d
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or(base);
            (Some(d), None, id)
        }
        Err(e) => (None, Some(e), base),
    };
    #[cfg(feature = "enable")]
    let sampler = crate::resources_hook::start(&settings);
    let info = Arc::new(RunInfo {
        probe_overhead_ns,
        warnings,
        run_id,
        started,
        started_at,
        baseline,
        #[cfg(feature = "enable")]
        peeker: sampler.as_ref().map(crate::resources_hook::peeker),
        settings,
    });
    let mut run = Run {
        info,
        config_file: file,
        dir,
        dir_error,
        log: Vec::new(),
        finished: false,
        #[cfg(feature = "enable")]
        sampler,
        live: None,
    };
    run.log_line(format!(
        "run {} started (pid {pid}, PipelineScope {})",
        run.info.run_id,
        env!("CARGO_PKG_VERSION")
    ));
    run.log_line(match &run.config_file {
        Some(f) => format!("configuration: {}", f.display()),
        None => "configuration: defaults (no pipelinescope.toml found)".to_string(),
    });
    for w in run.info.warnings.clone() {
        run.log_line(format!("warning: {w}"));
        eprintln!("PipelineScope: warning: {w}");
    }
    if let Some(e) = run.dir_error.clone() {
        run.log_line(format!("error: {e}"));
        eprintln!("PipelineScope: {e}");
    }
    if !crate::is_recording() {
        run.log_line(
            "recording is off (build without the `enable` feature, or PIPELINESCOPE=off)"
                .to_string(),
        );
    }
    if crate::is_recording() {
        let c = crate::calibration();
        run.log_line(format!(
            "probe cost: {:.1} ns per timed call ({:.1} ns inside its interval, {:.1} ns in the \
             caller's), {:.1} ns per untimed call; {}; timing {}",
            c.timed_ns(),
            c.inside_ns,
            c.outside_ns,
            c.untimed_ns,
            if c.compensated {
                "taken off the figures"
            } else {
                "left in the figures (compensate = false)"
            },
            if c.sampled { "sampled" } else { "exact" }
        ));
    }
    if let Some(addr) = run.info.settings.live {
        run.start_live(addr);
    }
    Ok(run)
}

impl Run {
    /// The run directory, when it could be created.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// The run's id (the run directory's name).
    pub fn id(&self) -> &str {
        &self.info.run_id
    }

    /// The settings in force.
    pub fn settings(&self) -> &Settings {
        &self.info.settings
    }

    /// Configuration problems found at start.
    pub fn warnings(&self) -> &[String] {
        &self.info.warnings
    }

    /// The address the live endpoint serves on, when one was asked for and could be bound.
    pub fn live_addr(&self) -> Option<std::net::SocketAddr> {
        self.live.as_ref().map(crate::live::Server::addr)
    }

    /// Starts the live endpoint; a failure is one warning, and the run goes on without it.
    fn start_live(&mut self, addr: std::net::SocketAddr) {
        match crate::live::Server::start(addr, self.info.clone()) {
            Ok(server) => {
                let bound = server.addr();
                self.live = Some(server);
                self.log_line(format!(
                    "live endpoint on http://{bound}/ (/profile.json, /metrics, /)"
                ));
                let written = self.dir.as_ref().map(|dir| {
                    write_atomic(&dir.join("live.addr"), format!("{bound}\n").as_bytes())
                });
                if let Some(Err(e)) = written {
                    self.log_line(format!("warning: cannot write live.addr: {e}"));
                }
                if self.info.settings.console {
                    eprintln!("PipelineScope: live at http://{bound}/");
                }
            }
            Err(e) => {
                self.log_line(format!("warning: {e}; the run goes on without it"));
                eprintln!("PipelineScope: warning: {e}; the run goes on without it");
            }
        }
    }

    /// Ends the run now, writes its outputs and returns the run directory (None when it could
    /// not be written).
    pub fn finish(mut self) -> Option<PathBuf> {
        self.finish_inner();
        self.dir.clone()
    }

    fn log_line(&mut self, line: String) {
        log::info!("{line}");
        let t = self.info.started_at.elapsed().as_secs_f64();
        self.log.push(format!("[{t:10.6}s] {line}"));
    }

    fn finish_inner(&mut self) {
        if self.finished {
            return;
        }
        self.finished = true;
        if let Some(live) = self.live.take() {
            live.stop();
        }
        let panicking = std::thread::panicking();
        // Never let a bug of ours turn into a second panic (an abort) or change the program's
        // outcome: contain it and say so.
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.write_outputs(panicking)
        }));
        if r.is_err() {
            eprintln!(
                "PipelineScope: internal error while writing the report; the program is unaffected"
            );
        }
        ACTIVE.store(false, Ordering::Release);
    }

    /// Builds the final profile of this run.
    fn build_profile(&mut self, panicking: bool) -> crate::Profile {
        #[cfg(feature = "enable")]
        let sampler = self.sampler.take();
        self.info.profile(
            || {
                #[cfg(feature = "enable")]
                if let Some(sampler) = sampler {
                    return Some(crate::resources_hook::stop(sampler));
                }
                None
            },
            panicking,
        )
    }

    fn write_outputs(&mut self, panicking: bool) {
        let profile = self.build_profile(panicking);
        if panicking {
            self.log_line("run ended while a panic was unwinding".to_string());
        }
        self.log_line(format!(
            "{} functions, {} calls, wall {:.3} ms",
            profile.functions.len(),
            profile.meta.total_calls,
            profile.meta.wall_ns as f64 / 1e6
        ));
        let mut written = Vec::new();
        let mut failed = Vec::new();
        if let Some(dir) = self.dir.clone() {
            match pipelinescope_report::json::to_string(&profile) {
                Ok(json) => match write_atomic(&dir.join("profile_data.json"), json.as_bytes()) {
                    Ok(()) => written.push("profile_data.json"),
                    Err(e) => failed.push(format!("profile_data.json: {e}")),
                },
                Err(e) => failed.push(format!("profile_data.json: {e}")),
            }
            if self.info.settings.enable_dashboard {
                match crate::report_hook::write_html(&profile, &self.info.settings, &dir) {
                    Ok(true) => written.push("summary.html"),
                    Ok(false) => {}
                    Err(e) => failed.push(format!("summary.html: {e}")),
                }
            }
            for f in &failed {
                self.log_line(format!("error: cannot write {f}"));
            }
            self.log_line(format!("wrote {}", written.join(", ")));
            let log = self.log.join("\n") + "\n";
            if let Err(e) = write_atomic(&dir.join("pipelinescope.log"), log.as_bytes()) {
                failed.push(format!("pipelinescope.log: {e}"));
            }
            if let Err(e) = update_latest(&self.info.settings.output_dir, &self.info.run_id) {
                log::warn!("cannot update the `latest` pointer: {e}");
            }
        }
        if self.info.settings.console {
            let text = crate::report_hook::console_summary(&profile, &self.info.settings);
            eprint!("{text}");
        }
        match (&self.dir, &self.dir_error) {
            (Some(dir), _) if failed.is_empty() => {
                eprintln!("PipelineScope: run written to {}", dir.display());
            }
            (Some(dir), _) => {
                for f in &failed {
                    eprintln!("PipelineScope: cannot write {f}");
                }
                eprintln!("PipelineScope: run partly written to {}", dir.display());
            }
            (None, Some(e)) => {
                eprintln!("PipelineScope: no run directory ({e}); only this summary was produced");
            }
            (None, None) => {}
        }
    }
}

impl RunInfo {
    /// The settings in force.
    pub(crate) fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The profile of the run so far, for the live endpoint: the resource figures are the
    /// sampler's so far.
    pub(crate) fn profile_so_far(&self) -> crate::Profile {
        self.profile(
            || {
                #[cfg(feature = "enable")]
                if let Some(p) = &self.peeker {
                    return p.peek(std::time::Duration::from_secs(1));
                }
                None
            },
            false,
        )
    }

    /// The run's profile now: the snapshot less the baseline, the run's metadata, the resource
    /// figures `resources` gives, and what the report derives.
    fn profile(
        &self,
        resources: impl FnOnce() -> Option<crate::Resources>,
        panicking: bool,
    ) -> crate::Profile {
        let wall_ns = self.started_at.elapsed().as_nanos() as u64;
        #[allow(unused_mut)]
        let mut profile = if crate::is_recording() {
            let now = pipelinescope_core::snapshot::collect(wall_ns);
            match &self.baseline {
                Some(base) => now.since(base),
                None => now,
            }
        } else {
            crate::snapshot()
        };
        let s = &self.settings;
        if !s.ignore.is_empty() {
            let mut b = globset::GlobSetBuilder::new();
            for p in &s.ignore {
                if let Ok(g) = globset::Glob::new(p) {
                    b.add(g);
                }
            }
            if let Ok(set) = b.build() {
                profile.remove_functions(|f| set.is_match(&f.name));
            }
        }
        profile.meta.probe_overhead_ns = self.probe_overhead_ns;
        let cost = profile.probe_cost_ns();
        let m = &mut profile.meta;
        m.run_id = self.run_id.clone();
        m.title = s.dashboard_title.clone();
        m.start_time = humantime::format_rfc3339_millis(self.started).to_string();
        m.end_time = humantime::format_rfc3339_millis(SystemTime::now()).to_string();
        m.wall_ns = wall_ns;
        m.host = gethostname::gethostname().to_string_lossy().into_owned();
        m.pid = std::process::id();
        m.command_line = std::env::args_os()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        m.pipelinescope_version = env!("CARGO_PKG_VERSION").to_string();
        m.probe_overhead_share = if wall_ns > 0 {
            (cost / wall_ns as f64).min(1.0)
        } else {
            0.0
        };
        m.ended_by_panic = panicking;
        m.warnings = self.warnings.clone();
        m.instrumented_ns = profile.threads.iter().map(|t| t.root_ns).sum();
        for f in &mut profile.functions {
            f.share_of_wall = if wall_ns > 0 {
                f.cumulative_ns as f64 / wall_ns as f64
            } else {
                0.0
            };
        }
        if let Some(r) = resources() {
            profile.resources = Some(r);
        }
        crate::report_hook::finish_profile(&mut profile, s);
        profile
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        self.finish_inner();
    }
}

/// `20261121T051234Z`: sortable, no characters that need quoting in a shell or on Windows.
fn timestamp_for_dir(t: SystemTime) -> String {
    let s = humantime::format_rfc3339_seconds(t).to_string(); // 2026-11-21T05:12:34Z
    s.replace(['-', ':'], "")
}

/// Creates `<output_dir>/<base>`, or `<base>_2`, `<base>_3`, ... if a run of this process
/// already took the name in the same second.
fn create_run_dir(output_dir: &Path, base: &str) -> Result<PathBuf, String> {
    std::fs::create_dir_all(output_dir).map_err(|e| {
        format!(
            "cannot create output directory {}: {e}",
            output_dir.display()
        )
    })?;
    for n in 1..1000u32 {
        let name = if n == 1 {
            base.to_string()
        } else {
            format!("{base}_{n}")
        };
        let dir = output_dir.join(name);
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(format!(
                    "cannot create run directory {}: {e}",
                    dir.display()
                ));
            }
        }
    }
    Err(format!(
        "cannot create a run directory in {}: too many runs named {base}",
        output_dir.display()
    ))
}
