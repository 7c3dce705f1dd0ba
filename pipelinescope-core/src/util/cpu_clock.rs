//! The OS's per-thread facts the per-thread state records at its start: the thread's id and its
//! CPU clock (`clock_gettime`), the process's CPU clock, and the CPU a thread runs on (which
//! the calibration keeps its thread to). No state of the profiler.

pub(crate) fn clock_ns(clock: libc::clockid_t) -> Option<u64> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: valid pointer to a writable `timespec`.
    let rc = unsafe { libc::clock_gettime(clock, &mut ts) };
    (rc == 0).then(|| ts.tv_sec.max(0) as u64 * 1_000_000_000 + ts.tv_nsec.max(0) as u64)
}

/// CPU time of the whole process (all threads), nanoseconds.
pub(crate) fn process_cpu_ns() -> Option<u64> {
    clock_ns(libc::CLOCK_PROCESS_CPUTIME_ID)
}

/// CPU time of the calling thread, nanoseconds.
pub(crate) fn this_thread_cpu_ns() -> Option<u64> {
    clock_ns(libc::CLOCK_THREAD_CPUTIME_ID)
}

/// The OS id of the calling thread (0 where there is none to read).
pub(crate) fn current_tid() -> i32 {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: `gettid` has no preconditions and cannot fail.
        unsafe { libc::gettid() }
    }
    #[cfg(not(target_os = "linux"))]
    {
        0
    }
}

/// The CPU clock of thread `tid` of this process: Linux encodes it as
/// `MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED)`, exactly what `pthread_getcpuclockid` returns,
/// and the kernel lets any thread of the same process read it. Unlike `pthread_getcpuclockid`,
/// this needs only the tid, which other threads can hold without the `pthread_t` staying valid.
#[cfg(target_os = "linux")]
pub(crate) fn thread_clock_id(tid: i32) -> libc::clockid_t {
    const CPUCLOCK_SCHED: u32 = 2;
    const CPUCLOCK_PERTHREAD_MASK: u32 = 4;
    ((!(tid as u32) << 3) | CPUCLOCK_SCHED | CPUCLOCK_PERTHREAD_MASK) as libc::clockid_t
}

/// CPU time of thread `tid` of this process, nanoseconds; None once the thread is gone (or off
/// Linux).
pub(crate) fn thread_cpu_ns(tid: i32) -> Option<u64> {
    #[cfg(target_os = "linux")]
    {
        if tid <= 0 {
            return None;
        }
        clock_ns(thread_clock_id(tid))
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = tid;
        None
    }
}

/// The CPU the calling thread runs on now (None where that cannot be read).
pub(crate) fn current_cpu() -> Option<usize> {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: `sched_getcpu` has no preconditions.
        let c = unsafe { libc::sched_getcpu() };
        usize::try_from(c).ok()
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

/// Keeps the calling thread on `cpu` from now on; false where that cannot be done.
pub(crate) fn stay_on(cpu: usize) -> bool {
    #[cfg(target_os = "linux")]
    {
        if cpu >= libc::CPU_SETSIZE as usize {
            return false;
        }
        // SAFETY: a zeroed `cpu_set_t` is the empty set; `CPU_SET` writes within it (checked
        // above); `sched_setaffinity` reads `size_of::<cpu_set_t>()` bytes of it.
        unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            libc::CPU_SET(cpu, &mut set);
            libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) == 0
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = cpu;
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_kept_on_its_cpu_stays_there() {
        std::thread::spawn(|| {
            let Some(c) = current_cpu() else {
                return;
            };
            assert!(stay_on(c));
            for _ in 0..1_000 {
                std::thread::yield_now();
                assert_eq!(current_cpu(), Some(c));
            }
            assert!(!stay_on(usize::MAX));
        })
        .join()
        .unwrap();
    }
}
