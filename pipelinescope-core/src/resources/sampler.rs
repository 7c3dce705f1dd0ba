//! The background sampling thread.

use super::attribution::{Attributor, ThreadObs};
use super::gpu::{GpuBackend, NvmlBackend};
use super::rusage::{Statm, process_cpu_ns, run_summary, this_thread_cpu_ns, thread_cpu_ns};
use super::timeline::Timeline;
use crate::local::ThreadData;
use crate::profile::{GpuInfo, ResourceSample, Resources};
use crate::threads::all_threads;
use std::sync::OnceLock;
use std::sync::atomic::Ordering::{Acquire, Relaxed};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System};

/// What the sampler collects.
pub struct SamplerConfig {
    /// Sampling period in milliseconds (`sample_interval_ms`), clamped to 1 ms ..= 1 hour.
    pub interval_ms: u64,
    /// Sample process CPU and memory, and attribute them to functions and stages.
    pub cpu: bool,
    /// Sample the GPUs.
    pub gpu: bool,
    /// Where GPU figures come from; None loads NVML.
    pub gpu_backend: Option<Box<dyn GpuBackend>>,
}

impl Default for SamplerConfig {
    fn default() -> Self {
        SamplerConfig {
            interval_ms: 10,
            cpu: true,
            gpu: true,
            gpu_backend: None,
        }
    }
}

/// How the sampler learns which pipeline stage a thread is in.
#[derive(Clone, Copy)]
pub struct StageHook {
    /// Current stage id of a thread (0: none); read from the sampler thread, so it must only
    /// load atomics.
    pub current: fn(&ThreadData) -> u32,
    /// Display name of a stage id.
    pub name: fn(u32) -> Option<String>,
}

static STAGE_HOOK: OnceLock<StageHook> = OnceLock::new();

/// Replaces how the sampler learns which stage each thread is in (by default the stage
/// recorder's `ThreadData::current_stage`). Only the first call counts.
pub fn set_stage_hook(hook: StageHook) {
    let _ = STAGE_HOOK.set(hook);
}

/// What the sampler thread is asked.
enum Msg {
    /// One last sample, then finish.
    Stop,
    /// Send the figures so far (no sample is taken for it).
    Peek(mpsc::SyncSender<Resources>),
}

/// A running sampler; [`Sampler::stop`] ends it and returns what it measured.
pub struct Sampler {
    stop: Option<mpsc::Sender<Msg>>,
    handle: Option<JoinHandle<Resources>>,
    interval_ms: u64,
    spawn_error: Option<String>,
    /// Allocation figures when the sampler started: the run reports only what came after.
    #[cfg(feature = "alloc")]
    alloc_base: (
        Vec<crate::profile::AllocationStats>,
        Vec<crate::profile::AllocationStats>,
    ),
}

impl Sampler {
    /// Starts sampling on a background thread. Never fails: a sampler that could not start
    /// returns, from [`Sampler::stop`], the run summary and the reason.
    pub fn start(config: SamplerConfig) -> Sampler {
        super::rusage::mark_run_start();
        // The clock calibrates itself on first use, for some milliseconds of CPU. Done here,
        // before the first sample, it is not charged to the first instrumented function (whose
        // thread would otherwise read it in its first `enter`, with the function published).
        crate::clock::clock();
        // Bounded so that deadline arithmetic on `Instant` cannot overflow.
        let interval_ms = config.interval_ms.clamp(1, 3_600_000);
        let (tx, rx) = mpsc::channel();
        let state = State::new(config, interval_ms);
        #[cfg(feature = "alloc")]
        let alloc_base = (
            crate::snapshot::alloc::collect(),
            crate::snapshot::alloc::collect_stages(),
        );
        match std::thread::Builder::new()
            .name("pipelinescope-sampler".into())
            .spawn(move || state.run(rx))
        {
            Ok(h) => Sampler {
                stop: Some(tx),
                handle: Some(h),
                interval_ms,
                spawn_error: None,
                #[cfg(feature = "alloc")]
                alloc_base,
            },
            Err(e) => Sampler {
                stop: None,
                handle: None,
                interval_ms,
                spawn_error: Some(format!("could not start the sampler thread: {e}")),
                #[cfg(feature = "alloc")]
                alloc_base,
            },
        }
    }

    /// Stops the sampler (after one last sample) and returns its figures, with the run summary
    /// and, with the `alloc` feature, the allocation figures.
    pub fn stop(self) -> Resources {
        // The profiler's own allocations are not the program's.
        #[cfg(feature = "alloc")]
        return crate::util::quiet::untracked(move || self.stop_inner());
        #[cfg(not(feature = "alloc"))]
        self.stop_inner()
    }

    fn stop_inner(mut self) -> Resources {
        let mut r = self.finish().unwrap_or_else(|why| Resources {
            sample_interval_ms: self.interval_ms,
            gpu: GpuInfo {
                reason: Some(why.clone()),
                ..GpuInfo::default()
            },
            sampler_error: Some(why),
            ..Resources::default()
        });
        r.run_summary = Some(run_summary());
        #[cfg(feature = "alloc")]
        {
            r.allocations =
                allocations_since(crate::snapshot::alloc::collect(), &self.alloc_base.0);
            r.stage_allocations =
                allocations_since(crate::snapshot::alloc::collect_stages(), &self.alloc_base.1);
        }
        r
    }

    /// A handle that asks the running sampler for its figures so far, from any thread.
    pub fn peeker(&self) -> Peeker {
        Peeker(self.stop.clone())
    }

    fn finish(&mut self) -> Result<Resources, String> {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(Msg::Stop);
        }
        if let Some(e) = self.spawn_error.take() {
            return Err(e);
        }
        match self.handle.take() {
            Some(h) => h
                .join()
                .map_err(|_| "the sampler thread panicked".to_string()),
            None => Err("the sampler was already stopped".to_string()),
        }
    }
}

/// Asks a running [`Sampler`] for the figures so far (for a live view of a run).
#[derive(Clone)]
pub struct Peeker(Option<mpsc::Sender<Msg>>);

impl Peeker {
    /// The sampler's figures so far: the timeline, CPU and memory, GPU, and the attribution to
    /// functions and stages (not the allocation figures or the run summary, which are read at
    /// the end). `None` when the sampler has stopped or does not answer within `timeout`.
    pub fn peek(&self, timeout: Duration) -> Option<Resources> {
        let tx = self.0.as_ref()?;
        let (reply, answer) = mpsc::sync_channel(1);
        tx.send(Msg::Peek(reply)).ok()?;
        answer.recv_timeout(timeout).ok()
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        let _ = self.finish();
    }
}

/// The sampler thread's state.
struct State {
    interval_ms: u64,
    cpu: bool,
    gpu_wanted: bool,
    gpu_backend: Option<Box<dyn GpuBackend>>,
    start: Instant,
    pid: u32,
}

/// Per-core CPU through sysinfo, which only updates at most every
/// `sysinfo::MINIMUM_CPU_UPDATE_INTERVAL` (200 ms on Linux): usage is integrated over those
/// longer intervals.
struct Cores {
    last: Instant,
    primed: bool,
    busy: Vec<f64>,
    secs: f64,
}

/// The sampler thread's running totals, borrowed to summarise them.
struct Totals<'a> {
    gpu: &'a GpuInfo,
    attr: &'a Attributor,
    cores: &'a Cores,
    samples: u64,
    peak_rss: u64,
    last_t: Instant,
    cpu0: u64,
    last_cpu: u64,
    self_cpu0: u64,
    last_self_cpu: u64,
    excluded_self_cpu: u64,
    util_sum: f64,
    util_n: u64,
    gpu_peak: Option<u64>,
}

impl State {
    fn new(config: SamplerConfig, interval_ms: u64) -> State {
        State {
            interval_ms,
            cpu: config.cpu,
            gpu_wanted: config.gpu,
            gpu_backend: config.gpu_backend,
            start: Instant::now(),
            pid: std::process::id(),
        }
    }

    fn run(mut self, rx: mpsc::Receiver<Msg>) -> Resources {
        let self_cpu0 = this_thread_cpu_ns().unwrap_or(0);
        let mut gpu = GpuInfo::default();
        let mut backend: Option<Box<dyn GpuBackend>> = None;
        if !self.gpu_wanted {
            gpu.reason = Some("disabled by configuration".into());
        } else {
            match self.gpu_backend.take().map_or_else(
                || NvmlBackend::new().map(|b| Box::new(b) as Box<dyn GpuBackend>),
                Ok,
            ) {
                Ok(b) => {
                    gpu.devices = b.devices();
                    backend = Some(b);
                }
                Err(why) => gpu.reason = Some(why),
            }
        }
        let mut sys = if self.cpu { System::new().ok() } else { None };
        let statm = if self.cpu { Statm::open() } else { None };
        let pid = Pid::from_u32(self.pid);
        let mut cores = Cores {
            last: Instant::now(),
            primed: false,
            busy: Vec::new(),
            secs: 0.0,
        };
        if let Some(s) = sys.as_mut() {
            s.refresh_cpu_usage();
            cores.primed = true;
        }
        // The stage recorder's own slot unless a test installed another hook.
        let hook = Some(STAGE_HOOK.get().copied().unwrap_or(StageHook {
            current: |t| t.current_stage.load(std::sync::atomic::Ordering::Relaxed),
            name: |id| crate::site::stage_name(id).map(str::to_string),
        }));
        let mut attr = Attributor::default();
        let mut timeline = Timeline::default();
        let mut samples = 0u64;
        let mut peak_rss = 0u64;
        let mut last_rss: Option<u64> = None;
        let mut last_t = self.start;
        let cpu0 = process_cpu_ns().unwrap_or(0);
        let mut last_cpu = cpu0;
        let mut last_self_cpu = self_cpu0;
        let mut excluded_self_cpu = 0u64;
        let mut util_sum = 0.0;
        let mut util_n = 0u64;
        let mut gpu_peak: Option<u64> = None;
        let mut obs: Vec<ThreadObs> = Vec::new();
        let period = Duration::from_millis(self.interval_ms);
        let mut next = self.start + period;
        // Threads seen before the first sample start from their CPU clock at start.
        if self.cpu {
            self.observe(&mut obs, hook);
            attr.prime(&obs);
        }

        // The running totals as `summary` reads them, at a peek and at the end.
        macro_rules! totals {
            () => {
                Totals {
                    gpu: &gpu,
                    attr: &attr,
                    cores: &cores,
                    samples,
                    peak_rss,
                    last_t,
                    cpu0,
                    last_cpu,
                    self_cpu0,
                    last_self_cpu,
                    excluded_self_cpu,
                    util_sum,
                    util_n,
                    gpu_peak,
                }
            };
        }

        loop {
            let now = Instant::now();
            let stopping = match rx.recv_timeout(next.saturating_duration_since(now)) {
                Err(RecvTimeoutError::Timeout) => false,
                Ok(Msg::Peek(reply)) => {
                    let _ =
                        reply.try_send(self.summary(totals!(), hook, timeline.clone().finish()));
                    continue;
                }
                // Stop asked (or the handle dropped): one last sample, then finish.
                Ok(Msg::Stop) | Err(RecvTimeoutError::Disconnected) => true,
            };
            let now = Instant::now();
            while next <= now {
                next += period;
            }
            let interval_ns = now.duration_since(last_t).as_nanos() as u64;
            let mut s = ResourceSample {
                t_ms: now.duration_since(self.start).as_secs_f64() * 1e3,
                ..ResourceSample::default()
            };
            if self.cpu {
                let cpu = process_cpu_ns().unwrap_or(last_cpu);
                let self_cpu = this_thread_cpu_ns().unwrap_or(last_self_cpu);
                excluded_self_cpu += self_cpu.saturating_sub(last_self_cpu);
                last_self_cpu = self_cpu;
                if interval_ns > 0 {
                    s.cpu_percent =
                        cpu.saturating_sub(last_cpu) as f64 / interval_ns as f64 * 100.0;
                }
                last_cpu = cpu;
                let mut rss_delta = 0i64;
                let mem = match (&statm, sys.as_mut()) {
                    (Some(m), _) => m.read(),
                    (None, Some(sy)) => {
                        sy.refresh_processes_specifics(
                            ProcessesToUpdate::Some(&[pid]),
                            false,
                            ProcessRefreshKind::nothing().with_memory(),
                        );
                        sy.process(pid).map(|p| (p.memory(), p.virtual_memory()))
                    }
                    (None, None) => None,
                };
                if let Some((rss, virt)) = mem {
                    s.rss_bytes = rss;
                    s.virt_bytes = virt;
                    peak_rss = peak_rss.max(rss);
                    if let Some(l) = last_rss {
                        rss_delta = rss as i64 - l as i64;
                    }
                    last_rss = Some(rss);
                }
                if let Some(sy) = sys.as_mut() {
                    cores.update(sy);
                }
                self.observe(&mut obs, hook);
                attr.observe(&obs, interval_ns, rss_delta);
            }
            if let Some(b) = backend.as_mut() {
                match b.read(self.pid) {
                    Ok(g) => {
                        gpu.available = true;
                        s.gpu_util_percent = Some(g.util_percent);
                        s.gpu_mem_bytes = Some(g.mem_used_bytes);
                        s.process_gpu_mem_bytes = Some(g.process_mem_bytes);
                        util_sum += g.util_percent;
                        util_n += 1;
                        gpu_peak = Some(gpu_peak.unwrap_or(0).max(g.process_mem_bytes));
                    }
                    Err(why) => {
                        gpu.reason = Some(format!("GPU sampling stopped: {why}"));
                        backend = None;
                    }
                }
            }
            last_t = now;
            samples += 1;
            timeline.push(s);
            if stopping {
                break;
            }
        }

        self.summary(totals!(), hook, timeline.finish())
    }

    /// The figures of the run so far, from the sampler's running totals.
    fn summary(
        &self,
        t: Totals<'_>,
        hook: Option<StageHook>,
        timeline: Vec<ResourceSample>,
    ) -> Resources {
        let mut gpu = t.gpu.clone();
        let wall_ns = t.last_t.duration_since(self.start).as_nanos() as u64;
        let process_cpu = t.last_cpu.saturating_sub(t.cpu0);
        // The sampler's own CPU is left out of the shares: they describe the program.
        let program_cpu = process_cpu.saturating_sub(t.excluded_self_cpu);
        // The process clock and the thread clocks are read a few microseconds apart, so the
        // charged total can exceed the process figure by a hair: shares never exceed 1.
        let program_cpu = program_cpu.max(t.attr.charged_cpu_ns());
        let (per_function, per_stage) = {
            let sites = crate::site::registry();
            t.attr.finish(
                |id| sites.get(id as usize).map(|s| s.name.to_string()),
                |id| hook.and_then(|h| (h.name)(id)),
                program_cpu,
            )
        };
        if t.util_n > 0 {
            gpu.mean_util_percent = Some(t.util_sum / t.util_n as f64);
            gpu.peak_process_mem_bytes = t.gpu_peak;
        }
        let attributed: u64 = per_function.iter().map(|f| f.cpu_ns).sum();
        Resources {
            sample_interval_ms: self.interval_ms,
            samples: t.samples,
            timeline,
            mean_cpu_percent: if wall_ns > 0 && self.cpu {
                process_cpu as f64 / wall_ns as f64 * 100.0
            } else {
                0.0
            },
            peak_rss_bytes: t.peak_rss,
            cpu_per_core_percent: t.cores.means(),
            gpu,
            per_function,
            per_stage,
            run_summary: None,
            allocations: Vec::new(),
            stage_allocations: Vec::new(),
            program_cpu_ns: program_cpu,
            unattributed_cpu_ns: program_cpu.saturating_sub(attributed),
            unattributed_mem_growth_bytes: t.attr.outside_mem_bytes,
            sampler_cpu_ns: this_thread_cpu_ns()
                .unwrap_or(t.last_self_cpu)
                .saturating_sub(t.self_cpu0),
            sampler_error: None,
        }
    }

    /// Reads every live instrumented thread's current site, stage and CPU clock.
    fn observe(&self, obs: &mut Vec<ThreadObs>, hook: Option<StageHook>) {
        obs.clear();
        for td in all_threads() {
            if td.finished.load(Acquire) {
                continue;
            }
            obs.push(ThreadObs {
                key: td.index,
                site: td.current_site.load(Relaxed),
                stage: hook.map_or(0, |h| (h.current)(&td)),
                cpu_ns: thread_cpu_ns(td.tid),
                cpu_start_ns: td.cpu_at_start_ns,
            });
        }
    }
}

impl Cores {
    fn update(&mut self, sys: &mut System) {
        let dt = self.last.elapsed();
        // Before the minimum interval sysinfo keeps the previous figure: wait for a new one.
        if !self.primed || dt < sysinfo::MINIMUM_CPU_UPDATE_INTERVAL {
            return;
        }
        sys.refresh_cpu_usage();
        let secs = dt.as_secs_f64();
        let cpus = sys.cpus();
        if self.busy.len() != cpus.len() {
            self.busy = vec![0.0; cpus.len()];
        }
        for (b, c) in self.busy.iter_mut().zip(cpus) {
            *b += c.usage() as f64 * secs;
        }
        self.secs += secs;
        self.last = Instant::now();
    }

    fn means(&self) -> Vec<f64> {
        if self.secs <= 0.0 {
            return Vec::new();
        }
        self.busy.iter().map(|b| b / self.secs).collect()
    }
}

/// Allocation figures accumulated since `base` was read. Counts and bytes subtract exactly; the
/// peak of live bytes cannot be split in time and stays the highest seen in the process.
#[cfg(feature = "alloc")]
fn allocations_since(
    now: Vec<crate::profile::AllocationStats>,
    base: &[crate::profile::AllocationStats],
) -> Vec<crate::profile::AllocationStats> {
    let before: std::collections::HashMap<&str, &crate::profile::AllocationStats> =
        base.iter().map(|a| (a.name.as_str(), a)).collect();
    now.into_iter()
        .map(|mut a| {
            if let Some(b) = before.get(a.name.as_str()) {
                a.allocations = a.allocations.saturating_sub(b.allocations);
                a.bytes_allocated = a.bytes_allocated.saturating_sub(b.bytes_allocated);
                a.bytes_freed = a.bytes_freed.saturating_sub(b.bytes_freed);
                a.net_retained_bytes = a.bytes_allocated as i64 - a.bytes_freed as i64;
            }
            a
        })
        .filter(|a| a.allocations > 0 || a.bytes_freed > 0)
        .collect()
}
