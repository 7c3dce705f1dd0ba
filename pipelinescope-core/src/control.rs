//! The runtime switch: `PIPELINESCOPE=off` (or `0`, `false`, `no`) turns every probe into one
//! relaxed atomic load, without rebuilding.

use std::sync::atomic::{AtomicU8, Ordering::Relaxed};

const UNKNOWN: u8 = 0;
const ON: u8 = 1;
const OFF: u8 = 2;

/// On a cache line of its own: every probe reads it, and a neighbour written by another thread
/// would make those reads miss.
#[repr(align(64))]
struct Switch(AtomicU8);

static STATE: Switch = Switch(AtomicU8::new(UNKNOWN));

/// Whether probes record. The first call reads the environment.
#[inline(always)]
pub fn enabled() -> bool {
    known().unwrap_or_else(init)
}

/// Whether probes record, without a first read of the environment: `Some` once [`enabled`] has
/// decided (or [`set_enabled`] has), `None` before. The probe's inlined part reads this one and
/// leaves the first call to its general path.
#[inline(always)]
pub(crate) fn known() -> Option<bool> {
    match STATE.0.load(Relaxed) {
        ON => Some(true),
        OFF => Some(false),
        _ => None,
    }
}

#[cold]
fn init() -> bool {
    let on = match std::env::var("PIPELINESCOPE") {
        Ok(v) => !matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "off" | "0" | "false" | "no" | "disable" | "disabled"
        ),
        Err(_) => true,
    };
    // Only the first reader decides; a concurrent `set_enabled` wins over the environment.
    let _ = STATE
        .0
        .compare_exchange(UNKNOWN, if on { ON } else { OFF }, Relaxed, Relaxed);
    STATE.0.load(Relaxed) == ON
}

/// Turns recording on or off for the whole process, overriding the environment.
pub fn set_enabled(on: bool) {
    STATE.0.store(if on { ON } else { OFF }, Relaxed);
}
