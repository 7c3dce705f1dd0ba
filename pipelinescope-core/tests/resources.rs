//! The resource sampler end to end: attribution of CPU and memory to functions, GPU figures
//! through the fake backend, the run summary.
//!
//! The sampler sees every thread of the process, so these tests take turns.

use pipelinescope_core::enter;
use pipelinescope_core::profile::{AttributedResources, Resources};
use pipelinescope_core::resources::{FakeGpuBackend, GpuReading, Sampler, SamplerConfig};
use pipelinescope_core::site::{Site, SiteKind};
use std::sync::Mutex;
use std::time::{Duration, Instant};

static TURN: Mutex<()> = Mutex::new(());

static BURN: Site = Site::new("burn", "t", "f", 1, SiteKind::Sync);
static SLEEPY: Site = Site::new("sleepy", "t", "f", 2, SiteKind::Sync);
static GROW: Site = Site::new("grow", "t", "f", 3, SiteKind::Sync);
static IDLE: Site = Site::new("idle", "t", "f", 4, SiteKind::Sync);

const MB: u64 = 1 << 20;

fn cpu_config() -> SamplerConfig {
    SamplerConfig {
        interval_ms: 10,
        cpu: true,
        gpu: false,
        gpu_backend: None,
    }
}

fn thread_cpu_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: valid pointer to a writable timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Spins until this thread has used `ns` of CPU, so the figure holds on a loaded machine.
fn burn_cpu(ns: u64) {
    let start = thread_cpu_ns();
    let mut x = 0u64;
    while thread_cpu_ns() - start < ns {
        for i in 0..1_000u64 {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
        }
    }
}

fn row<'a>(r: &'a Resources, name: &str) -> &'a AttributedResources {
    r.per_function
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no row for {name}: {:#?}", r.per_function))
}

#[test]
fn cpu_burn_is_charged_to_the_burning_function() {
    let _t = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let s = Sampler::start(cpu_config());
    std::thread::spawn(|| {
        let _g = enter(&BURN);
        burn_cpu(200_000_000);
    })
    .join()
    .unwrap();
    let r = s.stop();
    let burn = row(&r, "burn");
    eprintln!(
        "burn: {burn:?}; program CPU {} ns; sampler {} ns over {} samples",
        r.program_cpu_ns, r.sampler_cpu_ns, r.samples
    );
    assert!(
        burn.cpu_share > 0.7,
        "{burn:?}, program {}",
        r.program_cpu_ns
    );
    assert!(
        (140_000_000..=260_000_000).contains(&burn.cpu_ns),
        "{burn:?}"
    );
    assert!(burn.samples >= 3, "{burn:?}");
    assert!(r.samples >= burn.samples);
    assert!(r.mean_cpu_percent > 0.0);
    assert!(r.timeline.iter().any(|p| p.cpu_percent > 20.0));
    assert!(
        r.timeline
            .iter()
            .all(|p| p.rss_bytes > 0 && p.virt_bytes >= p.rss_bytes)
    );
    assert!(r.program_cpu_ns >= burn.cpu_ns);
    assert!(r.sampler_cpu_ns > 0);
    assert_eq!(r.gpu.reason.as_deref(), Some("disabled by configuration"));
    assert!(!r.gpu.available);
}

#[test]
fn a_sleeping_function_uses_almost_no_cpu() {
    let _t = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let s = Sampler::start(cpu_config());
    std::thread::spawn(|| {
        let _g = enter(&SLEEPY);
        std::thread::sleep(Duration::from_millis(200));
    })
    .join()
    .unwrap();
    let r = s.stop();
    let sleepy = row(&r, "sleepy");
    eprintln!("sleepy: {sleepy:?}");
    assert!(sleepy.samples >= 3, "{sleepy:?}");
    assert!(sleepy.cpu_ns < 5_000_000, "{sleepy:?}");
}

#[test]
fn memory_growth_is_charged_to_the_growing_function() {
    let _t = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let s = Sampler::start(cpu_config());
    let kept = std::thread::spawn(|| {
        let _g = enter(&GROW);
        let len = 100 * MB as usize;
        let mut v: Vec<u8> = Vec::with_capacity(len);
        // Touch every page, over several sampling periods.
        for chunk in 0..50 {
            let (a, b) = (chunk * len / 50, (chunk + 1) * len / 50);
            for i in (a..b).step_by(4096) {
                // SAFETY: within capacity; the bytes are written before `set_len` covers them.
                unsafe { v.as_mut_ptr().add(i).write(1) };
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        // SAFETY: every page was written above; the rest of the bytes are zero pages.
        unsafe { v.set_len(len) };
        // Let a sample see the grown process while the function is still active.
        std::thread::sleep(Duration::from_millis(50));
        v
    })
    .join()
    .unwrap();
    let r = s.stop();
    let grow = row(&r, "grow");
    eprintln!("grow: {grow:?}");
    assert!(
        (80 * MB as i64..=120 * MB as i64).contains(&grow.mem_growth_bytes),
        "{} MB",
        grow.mem_growth_bytes as f64 / MB as f64
    );
    assert!(r.peak_rss_bytes >= 100 * MB, "{}", r.peak_rss_bytes);
    drop(kept);
}

#[test]
fn fake_gpu_figures_reach_the_json() {
    let _t = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let fake = FakeGpuBackend {
        devices: vec!["Fake GPU 80GB".into()],
        reading: GpuReading {
            util_percent: 42.5,
            mem_used_bytes: 3 << 30,
            process_mem_bytes: 1 << 30,
        },
    };
    let s = Sampler::start(SamplerConfig {
        interval_ms: 5,
        cpu: true,
        gpu: true,
        gpu_backend: Some(Box::new(fake)),
    });
    {
        let _g = enter(&IDLE);
        std::thread::sleep(Duration::from_millis(60));
    }
    let r = s.stop();
    assert!(r.gpu.available);
    assert_eq!(r.gpu.devices, vec!["Fake GPU 80GB".to_string()]);
    assert_eq!(r.gpu.reason, None);
    assert_eq!(r.gpu.mean_util_percent, Some(42.5));
    assert_eq!(r.gpu.peak_process_mem_bytes, Some(1 << 30));
    assert!(r.timeline.len() >= 3);
    assert!(r.timeline.iter().all(|p| p.gpu_util_percent == Some(42.5)
        && p.gpu_mem_bytes == Some(3 << 30)
        && p.process_gpu_mem_bytes == Some(1 << 30)));
    let json = serde_json::to_string(&r).unwrap();
    assert!(json.contains("\"gpu_util_percent\":42.5"), "{json}");
    assert!(
        json.contains("\"peak_process_mem_bytes\":1073741824"),
        "{json}"
    );
    assert!(json.contains("Fake GPU 80GB"));
    let back: Resources = serde_json::from_str(&json).unwrap();
    assert_eq!(back.gpu, r.gpu);
    assert_eq!(back.timeline.len(), r.timeline.len());
    assert!(
        back.timeline
            .iter()
            .all(|p| p.gpu_util_percent == Some(42.5))
    );
}

#[test]
fn without_nvidia_the_reason_is_given() {
    let _t = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let s = Sampler::start(SamplerConfig {
        interval_ms: 10,
        cpu: false,
        gpu: true,
        gpu_backend: None,
    });
    std::thread::sleep(Duration::from_millis(30));
    let r = s.stop();
    if r.gpu.available {
        // A machine with an NVIDIA driver: real figures.
        assert!(!r.gpu.devices.is_empty());
        assert!(r.gpu.mean_util_percent.is_some());
    } else {
        let why = r.gpu.reason.clone().unwrap_or_default();
        assert!(why.contains("NVML") || why.contains("NVIDIA"), "{why}");
        assert!(r.timeline.iter().all(|p| p.gpu_util_percent.is_none()));
    }
    assert!(r.per_function.is_empty());
}

#[test]
fn run_summary_figures_are_sane() {
    let _t = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let s = Sampler::start(cpu_config());
    let t = Instant::now();
    burn_cpu(30_000_000);
    let elapsed = t.elapsed().as_nanos() as u64;
    let r = s.stop();
    let rs = r.run_summary.expect("stop fills the run summary");
    assert!(rs.user_ns + rs.sys_ns >= 30_000_000, "{rs:?}");
    assert!(rs.max_rss_bytes > MB, "{rs:?}");
    assert!(rs.minor_faults > 0, "{rs:?}");
    assert!(rs.voluntary_context_switches + rs.involuntary_context_switches > 0);
    // Wall time runs from the first run start in this process.
    assert!(rs.wall_ns >= elapsed, "{rs:?}");
    assert!(r.sample_interval_ms == 10 && r.samples >= 1);
}

#[test]
fn a_peek_gives_the_figures_so_far_and_the_run_goes_on() {
    let _t = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let fake = FakeGpuBackend {
        devices: vec!["Fake GPU".into()],
        reading: GpuReading {
            util_percent: 10.0,
            mem_used_bytes: 1 << 20,
            process_mem_bytes: 0,
        },
    };
    let s = Sampler::start(SamplerConfig {
        interval_ms: 5,
        cpu: true,
        gpu: true,
        gpu_backend: Some(Box::new(fake)),
    });
    let peeker = s.peeker();
    {
        let _g = enter(&BURN);
        let t = Instant::now();
        while t.elapsed() < Duration::from_millis(60) {
            std::hint::black_box(0u64);
        }
    }
    let early = peeker
        .peek(Duration::from_secs(1))
        .expect("the sampler answers");
    assert!(early.samples >= 3, "{}", early.samples);
    assert_eq!(early.timeline.len() as u64, early.samples);
    assert!(early.gpu.available);
    assert_eq!(early.gpu.mean_util_percent, Some(10.0));
    assert!(early.per_function.iter().any(|f| f.name == "burn"));
    std::thread::sleep(Duration::from_millis(40));
    let r = s.stop();
    // The peek took no sample of its own and stopped nothing: the run kept sampling.
    assert!(
        r.samples > early.samples,
        "{} > {}",
        r.samples,
        early.samples
    );
    assert!(r.run_summary.is_some());
    // A stopped sampler answers no more.
    assert!(peeker.peek(Duration::from_millis(100)).is_none());
}
