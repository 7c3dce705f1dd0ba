//! CPU clocks and `getrusage`: the run summary and the precise CPU figures the sampler uses.
//!
//! CPU time comes from the kernel's scheduler clocks (`clock_gettime` on
//! `CLOCK_PROCESS_CPUTIME_ID` and on each thread's CPU clock), which count nanoseconds of CPU
//! actually run. `/proc/<pid>/task/<tid>/stat` only counts in clock ticks (10 ms at the usual
//! `USER_HZ` of 100), as coarse as the sampling period itself, and sysinfo's process CPU
//! percentage needs two refreshes 200 ms apart; neither resolves a 10 ms interval.

use crate::profile::RunSummary;
#[cfg(test)]
use crate::util::cpu_clock::{current_tid, thread_clock_id};
pub(crate) use crate::util::cpu_clock::{process_cpu_ns, this_thread_cpu_ns, thread_cpu_ns};
use std::sync::OnceLock;
use std::time::Instant;

static RUN_START: OnceLock<Instant> = OnceLock::new();

/// Marks the start of the run for [`run_summary`]'s wall time. Only the first call counts;
/// [`Sampler::start`](super::Sampler::start) calls it too.
pub fn mark_run_start() {
    RUN_START.get_or_init(Instant::now);
}

/// Wall time since [`mark_run_start`] (which this marks now if it was never called).
pub(crate) fn wall_since_start_ns() -> u64 {
    RUN_START.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

fn timeval_ns(t: libc::timeval) -> u64 {
    (t.tv_sec.max(0) as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add((t.tv_usec.max(0) as u64).saturating_mul(1_000))
}

/// Whole-process figures now, like `/usr/bin/time -v`: CPU, peak memory, page faults and
/// context switches from `getrusage(RUSAGE_SELF)`, wall time since the run started (see
/// [`mark_run_start`]). Figures the kernel does not report stay 0.
pub fn run_summary() -> RunSummary {
    let wall_ns = wall_since_start_ns();
    // SAFETY: `getrusage` only writes the struct it is given; all-zero is a valid `rusage`.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: valid pointer to a properly sized, writable `rusage`.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    if rc != 0 {
        return RunSummary {
            wall_ns,
            ..RunSummary::default()
        };
    }
    // Linux reports `ru_maxrss` in KiB, macOS in bytes.
    let rss_unit = if cfg!(target_os = "macos") { 1 } else { 1024 };
    RunSummary {
        wall_ns,
        user_ns: timeval_ns(ru.ru_utime),
        sys_ns: timeval_ns(ru.ru_stime),
        max_rss_bytes: (ru.ru_maxrss.max(0) as u64).saturating_mul(rss_unit),
        minor_faults: ru.ru_minflt.max(0) as u64,
        major_faults: ru.ru_majflt.max(0) as u64,
        voluntary_context_switches: ru.ru_nvcsw.max(0) as u64,
        involuntary_context_switches: ru.ru_nivcsw.max(0) as u64,
    }
}

/// Resident and virtual memory of this process from `/proc/self/statm`, kept open and re-read
/// with `pread`: about 8 µs a reading on the development machine, against about 90 µs for
/// sysinfo's single-process refresh (which reads and parses several files), so a 10 ms sampler
/// stays under 0.5% of a core. Elsewhere the sampler falls back to sysinfo.
pub(crate) struct Statm {
    file: std::fs::File,
    page: u64,
}

impl Statm {
    /// None where there is no `/proc/self/statm`.
    pub(crate) fn open() -> Option<Statm> {
        let file = std::fs::File::open("/proc/self/statm").ok()?;
        // SAFETY: `sysconf` has no preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        let page = if page > 0 { page as u64 } else { 4096 };
        let s = Statm { file, page };
        s.read().map(|_| s)
    }

    /// `(resident, virtual)` bytes now.
    pub(crate) fn read(&self) -> Option<(u64, u64)> {
        use std::os::unix::fs::FileExt;
        let mut buf = [0u8; 128];
        let n = self.file.read_at(&mut buf, 0).ok()?;
        let text = std::str::from_utf8(buf.get(..n)?).ok()?;
        let mut fields = text.split_ascii_whitespace().map(|f| f.parse::<u64>().ok());
        let size = fields.next()??;
        let resident = fields.next()??;
        Some((resident * self.page, size * self.page))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn thread_clock_id_matches_pthread() {
        let mut id: libc::clockid_t = 0;
        // SAFETY: valid out-pointer; `pthread_self` is always valid for the calling thread.
        let rc = unsafe { libc::pthread_getcpuclockid(libc::pthread_self(), &mut id) };
        assert_eq!(rc, 0);
        assert_eq!(id, thread_clock_id(current_tid()));
    }

    /// Spins until this thread has run `ns` of CPU (by its own clock), at most 20 s of wall.
    fn burn(ns: u64) -> bool {
        let a = this_thread_cpu_ns().unwrap();
        let t = Instant::now();
        while this_thread_cpu_ns().unwrap() - a < ns {
            if t.elapsed().as_secs() > 20 {
                return false;
            }
        }
        true
    }

    #[test]
    fn thread_cpu_advances_while_spinning() {
        let tid = current_tid();
        let p0 = process_cpu_ns().unwrap();
        let a = thread_cpu_ns(tid).unwrap();
        assert!(burn(10_000_000));
        let b = thread_cpu_ns(tid).unwrap();
        assert!(b - a >= 10_000_000, "{a} -> {b}");
        assert!(process_cpu_ns().unwrap() - p0 >= b - a);
    }

    #[test]
    fn other_thread_cpu_is_readable() {
        let (tx, rx) = std::sync::mpsc::channel();
        let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
        let h = std::thread::spawn(move || {
            assert!(burn(10_000_000));
            tx.send(current_tid()).unwrap();
            let _ = done_rx.recv();
        });
        let tid = rx.recv().unwrap();
        let cpu = thread_cpu_ns(tid).unwrap();
        assert!(cpu >= 10_000_000, "{cpu}");
        done_tx.send(()).unwrap();
        h.join().unwrap();
        // A gone thread reads as None, unless a new thread of this process (another test's)
        // was given its id in the meantime, as happens on a busy machine.
        let reused = std::path::Path::new(&format!("/proc/self/task/{tid}")).exists();
        if !reused {
            assert_eq!(thread_cpu_ns(tid), None);
        }
    }

    #[test]
    fn statm_sees_touched_pages() {
        let m = Statm::open().unwrap();
        let (rss0, virt0) = m.read().unwrap();
        assert!(rss0 > 0 && virt0 >= rss0);
        let v = vec![1u8; 32 << 20];
        let (rss1, _) = m.read().unwrap();
        assert!(rss1 >= rss0 + (30 << 20), "{rss0} -> {rss1}");
        drop(v);
    }

    #[test]
    fn run_summary_is_sane() {
        mark_run_start();
        assert!(burn(20_000_000));
        let r = run_summary();
        assert!(r.user_ns + r.sys_ns >= 20_000_000, "{r:?}");
        assert!(r.max_rss_bytes > 1 << 20, "{r:?}");
        assert!(r.minor_faults > 0, "{r:?}");
        assert!(r.wall_ns > 0);
    }
}
