//! GPU figures behind a small trait: NVML on machines with an NVIDIA driver, a fake for tests.

use nvml_wrapper::Nvml;
use nvml_wrapper::enums::device::UsedGpuMemory;
use nvml_wrapper::error::NvmlError;

/// One reading of the GPUs, summed over devices.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct GpuReading {
    /// Mean utilisation over the devices, percent.
    pub util_percent: f64,
    /// Memory in use on the devices, all processes.
    pub mem_used_bytes: u64,
    /// Memory used by the process `pid` given to [`GpuBackend::read`] (compute and graphics).
    pub process_mem_bytes: u64,
}

/// Where GPU figures come from.
pub trait GpuBackend: Send {
    /// Names of the devices read.
    fn devices(&self) -> Vec<String>;
    /// Reads every device now; `pid` is this process. The error says why, in plain words.
    fn read(&mut self, pid: u32) -> Result<GpuReading, String>;
}

/// NVIDIA GPUs through NVML (`libnvidia-ml.so.1`, loaded at run time).
pub struct NvmlBackend {
    nvml: Nvml,
    count: u32,
    names: Vec<String>,
}

fn init_reason(e: &NvmlError) -> String {
    match e {
        NvmlError::LibloadingError(e) => format!("no NVIDIA driver library: {e}"),
        NvmlError::DriverNotLoaded => "the NVIDIA driver is not loaded".to_string(),
        NvmlError::NoPermission => "no permission to talk to the NVIDIA driver".to_string(),
        other => format!("NVML failed to initialise: {other}"),
    }
}

impl NvmlBackend {
    /// Loads NVML and lists the devices. Fails, with the reason, when there is no NVIDIA driver,
    /// no NVML library or no device.
    pub fn new() -> Result<NvmlBackend, String> {
        let nvml = Nvml::init().map_err(|e| init_reason(&e))?;
        let count = nvml
            .device_count()
            .map_err(|e| format!("NVML could not count devices: {e}"))?;
        if count == 0 {
            return Err("no NVIDIA GPU found".to_string());
        }
        let names = (0..count)
            .map(|i| {
                nvml.device_by_index(i)
                    .and_then(|d| d.name())
                    .unwrap_or_else(|e| format!("GPU {i} (name unavailable: {e})"))
            })
            .collect();
        Ok(NvmlBackend { nvml, count, names })
    }
}

fn used(m: &UsedGpuMemory) -> u64 {
    match m {
        UsedGpuMemory::Used(b) => *b,
        UsedGpuMemory::Unavailable => 0,
    }
}

impl GpuBackend for NvmlBackend {
    fn devices(&self) -> Vec<String> {
        self.names.clone()
    }

    fn read(&mut self, pid: u32) -> Result<GpuReading, String> {
        let mut r = GpuReading::default();
        let mut util_sum = 0.0;
        for i in 0..self.count {
            let d = self
                .nvml
                .device_by_index(i)
                .map_err(|e| format!("GPU {i}: {e}"))?;
            util_sum += d
                .utilization_rates()
                .map_err(|e| format!("GPU {i} utilisation: {e}"))?
                .gpu as f64;
            r.mem_used_bytes += d
                .memory_info()
                .map_err(|e| format!("GPU {i} memory: {e}"))?
                .used;
            // A process can hold a compute and a graphics context on the same device; their
            // memory is reported separately. Devices that cannot list processes count 0.
            let compute = d.running_compute_processes().unwrap_or_default();
            let graphics = d.running_graphics_processes().unwrap_or_default();
            r.process_mem_bytes += compute
                .iter()
                .chain(graphics.iter())
                .filter(|p| p.pid == pid)
                .map(|p| used(&p.used_gpu_memory))
                .sum::<u64>();
        }
        r.util_percent = util_sum / self.count.max(1) as f64;
        Ok(r)
    }
}

/// A GPU that reports fixed figures, for tests of everything downstream of the backend.
#[derive(Debug, Clone, Default)]
pub struct FakeGpuBackend {
    /// Device names to report.
    pub devices: Vec<String>,
    /// The reading every sample returns.
    pub reading: GpuReading,
}

impl GpuBackend for FakeGpuBackend {
    fn devices(&self) -> Vec<String> {
        self.devices.clone()
    }

    fn read(&mut self, _pid: u32) -> Result<GpuReading, String> {
        Ok(self.reading)
    }
}
