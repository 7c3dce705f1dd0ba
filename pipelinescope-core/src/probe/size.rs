//! The probe of a function annotated `#[profile(size = EXPR)]`: the function's probe, every
//! call timed, and on exit the call's compensated inclusive time added to its size class
//! (`local::sizes`). Calls without a size never come here.

use crate::local::{Frame, ThreadData};
use crate::site::Site;
use crate::threads::local;

/// Closes a sized call's frame when dropped and records its size and time.
#[must_use = "the frame closes when the guard is dropped"]
pub struct SizedGuard {
    open: Option<(&'static ThreadData, Frame, u32, u64)>,
}

/// Opens a frame for `site` on the current thread for a call of size `size`. Every sized call
/// is timed: the size classes need each call's time, not a path's mean.
#[inline]
pub fn enter_sized(site: &'static Site, size: u64) -> SizedGuard {
    if !crate::control::enabled() {
        return SizedGuard { open: None };
    }
    let id = site.id();
    SizedGuard {
        open: local().map(|td| (td, td.enter_as(id, Some(true)), id, size)),
    }
}

impl Drop for SizedGuard {
    #[inline]
    fn drop(&mut self) {
        if let Some((td, frame, id, size)) = &self.open
            && let Some(time_fp) = td.exit_measured(frame)
        {
            td.sizes.functions.record(*id, *size, time_fp);
        }
    }
}

/// A size as the generated code hands it over: any integer, saturated into `u64` (a negative
/// size is 0, a `u128` past `u64::MAX` is `u64::MAX`).
#[diagnostic::on_unimplemented(
    message = "`#[profile(size = ...)]` takes a primitive integer, not `{Self}`",
    label = "not an integer",
    note = "write the size of the call, such as `input.len()` or `n`"
)]
pub trait IntoSize {
    /// The size as `u64`.
    fn into_size(self) -> u64;
}

macro_rules! unsigned {
    ($($t:ty),*) => {$(
        impl IntoSize for $t {
            #[inline(always)]
            fn into_size(self) -> u64 {
                u64::try_from(self).unwrap_or(u64::MAX)
            }
        }
    )*};
}

macro_rules! signed {
    ($($t:ty),*) => {$(
        impl IntoSize for $t {
            #[inline(always)]
            fn into_size(self) -> u64 {
                if self < 0 { 0 } else { u64::try_from(self).unwrap_or(u64::MAX) }
            }
        }
    )*};
}

unsigned!(u8, u16, u32, u64, u128, usize);
signed!(i8, i16, i32, i64, i128, isize);

macro_rules! by_reference {
    ($($t:ty),*) => {$(
        impl IntoSize for &$t {
            #[inline(always)]
            fn into_size(self) -> u64 {
                (*self).into_size()
            }
        }
    )*};
}

// One impl per type rather than one for every `&T`: a size of another type then gets one
// message, not a second one about `&T`.
by_reference!(
    u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize
);

/// `value` as a size: see [`IntoSize`]. A function rather than a method call in the generated
/// code, so that an integer literal of no fixed type (`size = 100`) infers as `i32` and an
/// expression's type is never guided by this call.
#[inline(always)]
pub fn size_of_call<T: IntoSize>(value: T) -> u64 {
    value.into_size()
}
