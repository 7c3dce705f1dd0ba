//! The clock the probes read: the CPU's time-stamp counter where it is invariant, else the OS
//! monotonic clock, both through `quanta`, which calibrates the TSC against the OS clock once.
//!
//! The hot path keeps raw ticks; conversion to nanoseconds happens when a snapshot is taken.

use std::sync::OnceLock;

static CLOCK: OnceLock<quanta::Clock> = OnceLock::new();
static FIRST_USE: OnceLock<std::time::Instant> = OnceLock::new();

/// Marks the first instrumented call of the process (called when a site registers).
pub fn mark_first_use() {
    FIRST_USE.get_or_init(std::time::Instant::now);
}

/// Time since the process's first instrumented call (zero before it).
pub fn since_first_use() -> std::time::Duration {
    FIRST_USE
        .get()
        .map_or(std::time::Duration::ZERO, |t| t.elapsed())
}

/// The process-wide calibrated clock.
pub fn clock() -> &'static quanta::Clock {
    CLOCK.get_or_init(|| {
        let clock = quanta::Clock::new();
        if HAS_COUNTER {
            let _ = COUNTER_SCALE.set(CounterScale::measure(&clock));
        }
        clock
    })
}

/// Raw ticks now.
#[inline(always)]
pub fn raw() -> u64 {
    clock().raw()
}

/// Raw ticks now, the reading ordered after every instruction before it and before every
/// instruction after it: the time-stamp counter is read out of order otherwise, up to the
/// length of the out-of-order window early or late, so a short call's two readings could
/// leave part of its work outside its interval (measured: a 15 ns function read as 3 ns) or
/// take in part of its caller's. A fence waits for the work in flight, which costs a few
/// nanoseconds more per reading: the recorder reads this way for timed calls only, which are
/// a sample of the calls of short functions.
#[inline(always)]
pub fn raw_fenced() -> u64 {
    order();
    let t = raw();
    order();
    t
}

/// Waits until every earlier instruction has completed locally before any later one starts
/// (`lfence` on x86-64, `isb` on AArch64): what keeps a clock reading from being taken before
/// the work it ends.
#[inline(always)]
pub(crate) fn order() {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `lfence` has no preconditions on x86-64 (SSE2 is part of the base ISA).
    unsafe {
        std::arch::x86_64::_mm_lfence()
    };
    #[cfg(all(target_arch = "aarch64", not(target_os = "ios")))]
    // SAFETY: an instruction barrier has no preconditions.
    unsafe {
        std::arch::asm!("isb", options(nomem, nostack, preserves_flags))
    };
    #[cfg(not(any(
        target_arch = "x86_64",
        all(target_arch = "aarch64", not(target_os = "ios"))
    )))]
    std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
}

/// Whether [`counter`] reads a counter on this target.
const HAS_COUNTER: bool = cfg!(any(
    target_arch = "x86_64",
    all(target_arch = "aarch64", not(target_os = "ios"))
));

/// The CPU's own counter now, read in one instruction where there is one (the x86-64
/// time-stamp counter, the AArch64 virtual counter); 0 elsewhere.
#[inline(always)]
pub fn counter() -> u64 {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: `rdtsc` has no preconditions on x86-64.
        unsafe { std::arch::x86_64::_rdtsc() }
    }
    #[cfg(all(target_arch = "aarch64", not(target_os = "ios")))]
    {
        let v: u64;
        // SAFETY: reads the virtual counter, which EL0 may read on every AArch64 OS but iOS.
        unsafe {
            std::arch::asm!("mrs {}, cntvct_el0", out(reg) v, options(nomem, nostack, preserves_flags));
        }
        v
    }
    #[cfg(not(any(
        target_arch = "x86_64",
        all(target_arch = "aarch64", not(target_os = "ios"))
    )))]
    {
        0
    }
}

/// A clock reading taken as a timed call starts: raw ticks, and the CPU counter.
#[derive(Clone, Copy, Debug)]
pub struct Start {
    /// Raw ticks ([`raw`]).
    pub raw: u64,
    /// [`counter`].
    pub counter: u64,
}

impl Start {
    /// Now.
    #[inline(always)]
    pub fn now() -> Start {
        Start {
            raw: raw(),
            counter: counter(),
        }
    }

    /// Raw ticks now, read without a function call where the CPU has a counter: for the end of
    /// a timed call, which happens inside the user's loop, where a call would make the
    /// compiler keep the loop's values safe from it on every record (measured: about ten
    /// points more on the sensor pipeline's `next` path). Where `quanta` reads the counter itself,
    /// that is the reading; where it reads the OS clock (no invariant time-stamp counter), the
    /// counter's advance since `self` is scaled to raw ticks, at the rate measured once at
    /// start-up: over one call's span, the error is that span times the rate's error.
    #[inline(always)]
    pub fn raw_now(&self) -> u64 {
        if !HAS_COUNTER {
            return raw();
        }
        let c = counter();
        match COUNTER_SCALE.get() {
            Some(CounterScale::Direct) => c,
            Some(CounterScale::Scaled(mult)) => scaled(self, c, *mult),
            None => self.raw,
        }
    }
}

/// Raw ticks at counter reading `c`, `mult` raw ticks per counter tick (32.32) after `start`.
#[inline(always)]
fn scaled(start: &Start, c: u64, mult: u64) -> u64 {
    let d = u128::from(c.wrapping_sub(start.counter)) * u128::from(mult);
    start.raw.wrapping_add((d >> 32) as u64)
}

/// How a [`counter`] reading becomes raw ticks.
#[derive(Debug)]
enum CounterScale {
    /// Raw ticks are counter readings.
    Direct,
    /// Raw ticks per counter tick, as a 32.32 fixed-point number.
    Scaled(u64),
}

static COUNTER_SCALE: OnceLock<CounterScale> = OnceLock::new();

impl CounterScale {
    /// Whether `clock`'s raw readings are the counter's: each of a few readings falls between
    /// two counter readings taken just before and after it. (`quanta` does not say which
    /// source it chose; its OS-clock fallback counts nanoseconds, which never land between two
    /// counter readings taken nanoseconds apart.) If not, the rate of raw ticks to counter
    /// ticks over two milliseconds.
    fn measure(clock: &quanta::Clock) -> CounterScale {
        let direct = (0..3).all(|_| {
            let a = counter();
            let b = clock.raw();
            let c = counter();
            a <= b && b <= c
        });
        if direct {
            return CounterScale::Direct;
        }
        let (r0, c0) = (clock.raw(), counter());
        let until = std::time::Instant::now() + std::time::Duration::from_millis(2);
        while std::time::Instant::now() < until {
            std::hint::spin_loop();
        }
        let (r1, c1) = (clock.raw(), counter());
        let dc = c1.wrapping_sub(c0);
        if dc == 0 {
            return CounterScale::Scaled(0);
        }
        let mult = (u128::from(r1.wrapping_sub(r0)) << 32) / u128::from(dc);
        CounterScale::Scaled(u64::try_from(mult).unwrap_or(u64::MAX))
    }
}

/// Converts a tick count (a difference of two raw readings) to nanoseconds.
pub fn ticks_to_ns(ticks: u64) -> u64 {
    if ticks == 0 {
        0
    } else {
        clock().delta_as_nanos(0, ticks)
    }
}

/// Nanoseconds per tick, for converting many values at once.
pub fn ns_per_tick() -> f64 {
    const PROBE: u64 = 1 << 40;
    ticks_to_ns(PROBE) as f64 / PROBE as f64
}

/// Name of the clock source in use, for the run metadata.
pub fn source_name() -> &'static str {
    // quanta falls back to the OS's monotonic clock when the counter is not invariant; whether
    // it reads the counter is what the clock found out when it was made. (The scale alone
    // cannot tell: a counter may tick at exactly 1 GHz.)
    clock();
    match COUNTER_SCALE.get() {
        Some(CounterScale::Direct) if cfg!(target_arch = "aarch64") => "cntvct",
        Some(CounterScale::Direct) => "tsc",
        _ => "monotonic",
    }
}

/// How finely the clock measures here, in nanoseconds: the typical (median) step between a
/// reading and the first different one after it (measured once). Some virtual machines advance
/// the TSC in steps of several nanoseconds; durations are then multiples of that step.
pub fn resolution_ns() -> f64 {
    static RESOLUTION: OnceLock<f64> = OnceLock::new();
    *RESOLUTION.get_or_init(|| {
        let mut steps = Vec::with_capacity(1_001);
        for _ in 0..1_001 {
            let a = raw();
            let mut b = raw();
            // Spin until the clock moves, bounded so a stuck clock cannot hang the program.
            for _ in 0..1_000 {
                if b != a {
                    break;
                }
                b = raw();
            }
            if b > a {
                steps.push(b - a);
            }
        }
        if steps.is_empty() {
            return 0.0;
        }
        steps.sort_unstable();
        steps[steps.len() / 2] as f64 * ns_per_tick()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_inline_reading_falls_between_two_clock_readings() {
        for _ in 0..100 {
            let start = Start::now();
            let a = raw();
            let now = start.raw_now();
            let b = raw();
            // A scaled reading may be off by the rate's error over the span: a small margin.
            let margin = (b - start.raw) / 100 + 2;
            assert!(
                a <= now + margin && now <= b + margin,
                "{a} <= {now} <= {b} (+/- {margin})"
            );
        }
    }

    #[test]
    fn a_scaled_reading_adds_the_counters_advance_at_the_rate() {
        let start = Start {
            raw: 1_000,
            counter: u64::MAX - 9,
        };
        // 2.5 raw ticks per counter tick; the counter wrapped, 20 ticks after the start.
        let mult = 5 << 31;
        assert_eq!(scaled(&start, 10, mult), 1_000 + 50);
        assert_eq!(scaled(&start, u64::MAX - 9, mult), 1_000);
    }
}
