//! The real NVML path. On a machine without an NVIDIA driver the backend must refuse with a
//! reason a person can act on, and a run must go on without GPU figures. On a machine with one
//! (`PIPELINESCOPE_EXPECT_GPU=1` says so, so that a broken driver path fails instead of passing
//! as "no GPU"), the readings must be real: named devices, memory read, utilisation within
//! 0..=100, and, when `PIPELINESCOPE_GPU_LOAD_PID` names a process that holds GPU memory and
//! keeps the GPU busy, that process's memory and a non-zero utilisation.

use pipelinescope_core::resources::{GpuBackend, NvmlBackend, Sampler, SamplerConfig};
use std::time::Duration;

fn expect_gpu() -> bool {
    std::env::var("PIPELINESCOPE_EXPECT_GPU").is_ok_and(|v| v == "1")
}

fn load_pid() -> Option<u32> {
    std::env::var("PIPELINESCOPE_GPU_LOAD_PID")
        .ok()
        .and_then(|v| v.parse().ok())
}

#[test]
fn nvml_reads_the_gpus_or_says_why_not() {
    let mut backend = match NvmlBackend::new() {
        Ok(b) => b,
        Err(reason) => {
            assert!(!expect_gpu(), "a GPU was expected, NVML said: {reason}");
            assert!(
                reason.contains("NVIDIA") || reason.contains("NVML"),
                "the reason names what is missing: {reason}"
            );
            return;
        }
    };
    let devices = backend.devices();
    println!("devices: {devices:?}");
    assert!(!devices.is_empty());
    assert!(devices.iter().all(|d| !d.is_empty()));
    let me = std::process::id();
    let mut busy = 0.0f64;
    for _ in 0..20 {
        let r = backend.read(me).expect("a device that initialised reads");
        assert!((0.0..=100.0).contains(&r.util_percent), "{r:?}");
        // This test holds no GPU context.
        assert_eq!(r.process_mem_bytes, 0, "{r:?}");
        if let Some(pid) = load_pid() {
            let theirs = backend.read(pid).expect("reads");
            println!(
                "load pid {pid}: util {:.0}%, its memory {} MiB, all {} MiB",
                theirs.util_percent,
                theirs.process_mem_bytes >> 20,
                theirs.mem_used_bytes >> 20
            );
            assert!(theirs.process_mem_bytes > 0, "{theirs:?}");
            assert!(
                theirs.process_mem_bytes <= theirs.mem_used_bytes,
                "{theirs:?}"
            );
            busy = busy.max(theirs.util_percent);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    if load_pid().is_some() {
        assert!(busy > 0.0, "the GPU was kept busy; NVML read 0% throughout");
    }
}

#[test]
fn a_sampled_run_carries_the_gpu_figures_or_the_reason() {
    let s = Sampler::start(SamplerConfig {
        interval_ms: 10,
        cpu: true,
        gpu: true,
        gpu_backend: None,
    });
    std::thread::sleep(Duration::from_millis(300));
    let r = s.stop();
    println!("{:?}", r.gpu);
    if expect_gpu() {
        assert!(r.gpu.available, "{:?}", r.gpu.reason);
    }
    if r.gpu.available {
        assert!(!r.gpu.devices.is_empty());
        assert_eq!(r.gpu.reason, None);
        let util = r.gpu.mean_util_percent.expect("utilisation sampled");
        assert!((0.0..=100.0).contains(&util));
        // This process holds no GPU context.
        assert!(
            matches!(r.gpu.peak_process_mem_bytes, None | Some(0)),
            "{:?}",
            r.gpu
        );
        // Every sample read the devices' memory (0 on an idle device is a real reading).
        assert!(r.timeline.iter().all(|p| p.gpu_mem_bytes.is_some()));
        if load_pid().is_some() {
            assert!(util > 0.0, "the GPU was busy during the run");
        }
    } else {
        let reason = r
            .gpu
            .reason
            .expect("a reason when the GPU is not available");
        assert!(!reason.is_empty());
        assert!(r.gpu.devices.is_empty());
    }
}
