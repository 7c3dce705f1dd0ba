//! From successive snapshots of a running program to the rows the live view shows.
//!
//! The endpoint serves cumulative figures (everything since the run started), so what happened
//! in the last interval is the difference of two snapshots: `Profile::since`, the same
//! subtraction a run uses to leave out what the process did before it started, gives the
//! interval's counts, times and histograms. Rates divide by the difference of the two
//! snapshots' `meta.wall_ns` (the program's own clock), not by when this tool fetched them.

use std::collections::{HashMap, VecDeque};

use pipelinescope_core::Profile;
use pipelinescope_core::profile::{FunctionStats, Resources, StageStats};

/// Points kept for the CPU and memory sparklines: one per interval.
pub const HISTORY: usize = 240;

/// The title a run gets when none was configured: it says nothing about the program.
const DEFAULT_TITLE: &str = "PipelineScope report";

/// One function's figures: the last interval's, and totals since the run started.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionRow {
    /// Display name.
    pub name: String,
    /// Module path.
    pub module: String,
    /// Calls completed in the interval, per second of the interval.
    pub calls_per_s: f64,
    /// Self time in the interval over the interval's wall time: 1.0 is one thread busy in the
    /// function itself all the time (several threads can take it past 1.0).
    pub self_share: f64,
    /// 99th percentile of the per-call time of the calls completed in the interval (`None`
    /// when none completed).
    pub p99_ns: Option<u64>,
    /// Calls since the run started.
    pub calls_total: u64,
    /// Self time since the run started.
    pub self_total_ns: u64,
}

/// One pipeline stage's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct StageRow {
    /// Stage name.
    pub name: String,
    /// Position in the pipeline.
    pub order: u32,
    /// Records taken in during the interval, per second.
    pub in_per_s: f64,
    /// Records handed out during the interval, per second.
    pub out_per_s: f64,
    /// The stage's own time in the interval over all stages' own time in it, 0..=1.
    pub own_share: f64,
    /// Records handed out since the run started.
    pub out_total: u64,
    /// Whether it had the most own time in the interval.
    pub is_bottleneck: bool,
}

/// Everything one frame of the live view shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    /// The program: its configured title, else its executable's name, else the run id.
    pub program: String,
    /// The run's id.
    pub run_id: String,
    /// The program's process id.
    pub pid: u32,
    /// The run's wall time so far.
    pub uptime_ns: u64,
    /// Wall time between the two snapshots compared (the whole run when there was one).
    pub interval_ns: u64,
    /// True when the figures are over the whole run so far (the first snapshot of a run).
    pub since_start: bool,
    /// One row per function, in the profile's order (the view sorts).
    pub functions: Vec<FunctionRow>,
    /// One row per stage, in pipeline order.
    pub stages: Vec<StageRow>,
    /// The stage with the most own time in the interval.
    pub bottleneck: Option<String>,
    /// Calls since the run started, all functions.
    pub calls_total: u64,
    /// Calls per second in the interval, all functions.
    pub calls_per_s: f64,
    /// Process CPU per interval, percent of one core, oldest first (empty without samples).
    pub cpu_history: Vec<f64>,
    /// Resident memory per interval, bytes, oldest first.
    pub mem_history: Vec<u64>,
    /// Highest resident memory the program's sampler saw.
    pub peak_rss_bytes: Option<u64>,
    /// Why there are no CPU and memory figures, when there are none.
    pub resources_note: Option<String>,
}

/// Sort orders of the functions table, cycled by `s`; always descending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FunctionSort {
    /// Self time in the last interval.
    #[default]
    SelfShare,
    /// Calls per second in the last interval.
    CallsPerS,
    /// p99 of the last interval.
    P99,
    /// Self time since the start.
    SelfTotal,
}

impl FunctionSort {
    /// The next order in the cycle.
    pub fn next(self) -> Self {
        match self {
            FunctionSort::SelfShare => FunctionSort::CallsPerS,
            FunctionSort::CallsPerS => FunctionSort::P99,
            FunctionSort::P99 => FunctionSort::SelfTotal,
            FunctionSort::SelfTotal => FunctionSort::SelfShare,
        }
    }

    /// Column heading it sorts by.
    pub fn label(self) -> &'static str {
        match self {
            FunctionSort::SelfShare => "self %",
            FunctionSort::CallsPerS => "calls/s",
            FunctionSort::P99 => "p99",
            FunctionSort::SelfTotal => "self total",
        }
    }
}

/// Sort orders of the stages table, cycled by `s`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StageSort {
    /// Pipeline order (ascending).
    #[default]
    Pipeline,
    /// Own-time share in the last interval, descending.
    OwnShare,
    /// Records out per second, descending.
    OutPerS,
}

impl StageSort {
    /// The next order in the cycle.
    pub fn next(self) -> Self {
        match self {
            StageSort::Pipeline => StageSort::OwnShare,
            StageSort::OwnShare => StageSort::OutPerS,
            StageSort::OutPerS => StageSort::Pipeline,
        }
    }

    /// Column heading it sorts by.
    pub fn label(self) -> &'static str {
        match self {
            StageSort::Pipeline => "pipeline order",
            StageSort::OwnShare => "own %",
            StageSort::OutPerS => "out/s",
        }
    }
}

/// Functions in the given order, ties by name.
pub fn sort_functions(rows: &mut [FunctionRow], by: FunctionSort) {
    let key = |r: &FunctionRow| -> f64 {
        match by {
            FunctionSort::SelfShare => r.self_share,
            FunctionSort::CallsPerS => r.calls_per_s,
            FunctionSort::P99 => r.p99_ns.map_or(-1.0, |v| v as f64),
            FunctionSort::SelfTotal => r.self_total_ns as f64,
        }
    };
    rows.sort_by(|a, b| key(b).total_cmp(&key(a)).then_with(|| a.name.cmp(&b.name)));
}

/// Stages in the given order, ties by pipeline order.
pub fn sort_stages(rows: &mut [StageRow], by: StageSort) {
    let key = |r: &StageRow| -> f64 {
        match by {
            StageSort::Pipeline => 0.0,
            StageSort::OwnShare => r.own_share,
            StageSort::OutPerS => r.out_per_s,
        }
    };
    rows.sort_by(|a, b| key(b).total_cmp(&key(a)).then(a.order.cmp(&b.order)));
}

type FnKey<'a> = (&'a str, &'a str, &'a str, u32);

fn fn_key(f: &FunctionStats) -> FnKey<'_> {
    (&f.name, &f.module, &f.file, f.line)
}

fn per_s(count: u64, interval_ns: u64) -> f64 {
    if interval_ns == 0 {
        0.0
    } else {
        count as f64 * 1e9 / interval_ns as f64
    }
}

fn program_name(p: &Profile) -> String {
    let m = &p.meta;
    if !m.title.is_empty() && m.title != DEFAULT_TITLE {
        return m.title.clone();
    }
    let exe = m
        .command_line
        .first()
        .and_then(|c| std::path::Path::new(c).file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|n| !n.is_empty());
    exe.unwrap_or_else(|| m.run_id.clone())
}

/// Whether `cur` continues the run `prev` was taken of (not a new run at the same address).
pub fn same_run(prev: &Profile, cur: &Profile) -> bool {
    prev.meta.run_id == cur.meta.run_id
        && prev.meta.pid == cur.meta.pid
        && cur.meta.wall_ns >= prev.meta.wall_ns
}

/// The frame for `cur`, with the interval since `prev` (`None`, or a snapshot of another run:
/// the whole run so far). The sparklines are left empty: [`Model`] keeps them.
pub fn diff(prev: Option<&Profile>, cur: &Profile) -> Frame {
    let empty = Profile::default();
    let base = prev.filter(|p| same_run(p, cur));
    let since_start = base.is_none();
    let base = base.unwrap_or(&empty);
    let interval_ns = cur.meta.wall_ns - base.meta.wall_ns;
    let delta = cur.since(base);

    let by_key: HashMap<FnKey<'_>, &FunctionStats> =
        delta.functions.iter().map(|f| (fn_key(f), f)).collect();
    let functions = cur
        .functions
        .iter()
        .map(|f| {
            let d = by_key.get(&fn_key(f)).filter(|d| d.calls > 0);
            // Without a histogram entry in the interval there is no percentile to tell.
            let p99_ns = d
                .filter(|d| d.histogram.count() > 0)
                .map(|d| d.percentiles.p99_ns);
            let (calls, self_ns) = d.map_or((0, 0), |d| (d.calls, d.self_ns));
            FunctionRow {
                name: f.name.clone(),
                module: f.module.clone(),
                calls_per_s: per_s(calls, interval_ns),
                self_share: if interval_ns == 0 {
                    0.0
                } else {
                    self_ns as f64 / interval_ns as f64
                },
                p99_ns,
                calls_total: f.calls,
                self_total_ns: f.self_ns,
            }
        })
        .collect();

    // Stages come from `delta`, whose own times are held to the time the stages were active
    // between the snapshots. It leaves out stages that took in and handed out nothing, though a
    // stage busy on a slow record still has own time: those are subtracted here.
    let held: HashMap<&str, &StageStats> =
        delta.stages.iter().map(|s| (s.name.as_str(), s)).collect();
    let stages_before: HashMap<&str, &StageStats> =
        base.stages.iter().map(|s| (s.name.as_str(), s)).collect();
    let stage_delta: HashMap<&str, (u64, u64, u64)> = cur
        .stages
        .iter()
        .map(|s| {
            let name = s.name.as_str();
            let d = match (held.get(name), stages_before.get(name)) {
                (Some(d), _) => (d.records_in, d.records_out, d.own_ns),
                (None, Some(b)) => (
                    s.records_in.saturating_sub(b.records_in),
                    s.records_out.saturating_sub(b.records_out),
                    s.own_ns.saturating_sub(b.own_ns),
                ),
                (None, None) => (s.records_in, s.records_out, s.own_ns),
            };
            (name, d)
        })
        .collect();
    let total_own: u64 = stage_delta.values().map(|v| v.2).sum();
    let mut stages: Vec<StageRow> = cur
        .stages
        .iter()
        .map(|s| {
            let (rin, rout, own) = stage_delta
                .get(s.name.as_str())
                .copied()
                .unwrap_or_default();
            StageRow {
                name: s.name.clone(),
                order: s.order,
                in_per_s: per_s(rin, interval_ns),
                out_per_s: per_s(rout, interval_ns),
                own_share: if total_own == 0 {
                    0.0
                } else {
                    own as f64 / total_own as f64
                },
                out_total: s.records_out,
                is_bottleneck: false,
            }
        })
        .collect();
    stages.sort_by_key(|s| s.order);
    // The stage with the most own time now; ties go to the earlier stage.
    let bottleneck = cur
        .stages
        .iter()
        .filter_map(|s| {
            let own = stage_delta.get(s.name.as_str())?.2;
            (own > 0).then_some((own, std::cmp::Reverse(s.order), s.name.as_str()))
        })
        .max()
        .map(|(_, _, name)| name.to_string());
    for s in &mut stages {
        s.is_bottleneck = bottleneck.as_deref() == Some(s.name.as_str());
    }

    let calls_total: u64 = cur.functions.iter().map(|f| f.calls).sum();
    let calls_interval: u64 = delta.functions.iter().map(|f| f.calls).sum();
    let (peak_rss_bytes, resources_note) = match &cur.resources {
        None => (None, Some("resource sampler off".to_string())),
        Some(r) => match &r.sampler_error {
            Some(e) => (None, Some(format!("resource sampler: {e}"))),
            None if r.timeline.is_empty() => (None, Some("no resource samples yet".to_string())),
            None => (Some(r.peak_rss_bytes), None),
        },
    };
    Frame {
        program: program_name(cur),
        run_id: cur.meta.run_id.clone(),
        pid: cur.meta.pid,
        uptime_ns: cur.meta.wall_ns,
        interval_ns,
        since_start,
        functions,
        stages,
        bottleneck,
        calls_total,
        calls_per_s: per_s(calls_interval, interval_ns),
        cpu_history: Vec::new(),
        mem_history: Vec::new(),
        peak_rss_bytes,
        resources_note,
    }
}

/// CPU (mean of the samples taken in the interval, percent of one core) and resident memory
/// (the last sample) between two points of the run's clock; the last sample before it when the
/// sampler took none in the interval.
pub fn interval_resources(r: &Resources, from_ns: u64, to_ns: u64) -> Option<(f64, u64)> {
    let (from_ms, to_ms) = (from_ns as f64 / 1e6, to_ns as f64 / 1e6);
    let inside: Vec<_> = r
        .timeline
        .iter()
        .filter(|s| s.t_ms > from_ms && s.t_ms <= to_ms)
        .collect();
    match inside.last() {
        Some(last) => {
            let cpu = inside.iter().map(|s| s.cpu_percent).sum::<f64>() / inside.len() as f64;
            Some((cpu, last.rss_bytes))
        }
        None => r
            .timeline
            .iter()
            .rfind(|s| s.t_ms <= to_ms)
            .map(|s| (s.cpu_percent, s.rss_bytes)),
    }
}

/// The snapshots seen so far, reduced to what the next frame needs: the last snapshot and the
/// sparklines' history.
#[derive(Debug, Default)]
pub struct Model {
    last: Option<Profile>,
    cpu: VecDeque<f64>,
    mem: VecDeque<u64>,
}

impl Model {
    /// Takes a new snapshot and returns its frame.
    pub fn push(&mut self, cur: Profile) -> Frame {
        let prev = self.last.take().filter(|p| same_run(p, &cur));
        if prev.is_none() {
            self.cpu.clear();
            self.mem.clear();
        }
        let mut frame = diff(prev.as_ref(), &cur);
        let from = prev.as_ref().map_or(0, |p| p.meta.wall_ns);
        if let Some((cpu, rss)) = cur
            .resources
            .as_ref()
            .and_then(|r| interval_resources(r, from, cur.meta.wall_ns))
        {
            if self.cpu.len() == HISTORY {
                self.cpu.pop_front();
                self.mem.pop_front();
            }
            self.cpu.push_back(cpu);
            self.mem.push_back(rss);
        }
        frame.cpu_history = self.cpu.iter().copied().collect();
        frame.mem_history = self.mem.iter().copied().collect();
        self.last = Some(cur);
        frame
    }
}

#[cfg(test)]
#[path = "model_tests.rs"]
mod tests;
