//! The probe line of the console summary and the report header: what one instrumented call
//! costs, how that cost was split and taken off the figures, and how many calls were timed.

use crate::console::{fmt_ns, fmt_pct};
use pipelinescope_core::Profile;

/// One line, e.g. `34.1 ns per timed call (9.8 ns inside its interval, 24.3 ns in the
/// caller's), 13.6 ns per untimed call, 0.4% of wall; taken off the figures; 2955 of 200001
/// calls timed`.
pub fn probe_line(profile: &Profile) -> String {
    let m = &profile.meta;
    let mut line = format!("{} per timed call", fmt_ns(m.probe_overhead_ns));
    if m.probe_inside_ns > 0.0 || m.probe_outside_ns > 0.0 {
        line += &format!(
            " ({} inside its interval, {} in the caller's), {} per untimed call",
            fmt_ns(m.probe_inside_ns),
            fmt_ns(m.probe_outside_ns),
            fmt_ns(m.probe_untimed_ns)
        );
    }
    line += &format!(", {} of wall", fmt_pct(m.probe_overhead_share));
    line += if m.compensated {
        "; taken off the figures"
    } else if m.timing.is_empty() {
        // A profile from a version that did not compensate.
        "; included in the figures"
    } else {
        "; left in the figures (compensate = false)"
    };
    let timed: u64 = profile.functions.iter().map(|f| f.timed_calls).sum();
    if timed > 0 && timed < m.total_calls {
        line += &format!("; {timed} of {} calls timed", m.total_calls);
    } else if m.timing == "exact" || (timed > 0 && timed == m.total_calls) {
        line += "; every call timed";
    }
    let sp = &m.stage_probe.next;
    if sp.call_inside_ns > 0.0 {
        line += &format!(
            "; stages: {} per timed call, {} per timed pull, taken off",
            fmt_ns(sp.call_inside_ns),
            fmt_ns(sp.pull_in_call_ns + sp.pull_inside_ns)
        );
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn says_the_split_what_was_done_and_how_many_were_timed() {
        let mut p = Profile::default();
        p.meta.probe_overhead_ns = 34.0;
        p.meta.probe_inside_ns = 10.0;
        p.meta.probe_outside_ns = 24.0;
        p.meta.probe_untimed_ns = 13.5;
        p.meta.compensated = true;
        p.meta.timing = "sampled".into();
        p.meta.total_calls = 1_000;
        p.functions
            .push(pipelinescope_core::profile::FunctionStats {
                calls: 1_000,
                timed_calls: 40,
                ..Default::default()
            });
        let l = probe_line(&p);
        assert!(l.contains("34 ns per timed call"), "{l}");
        assert!(
            l.contains("10 ns inside its interval, 24 ns in the caller's"),
            "{l}"
        );
        assert!(l.contains("13.5 ns per untimed call"), "{l}");
        assert!(
            l.contains("taken off the figures; 40 of 1000 calls timed"),
            "{l}"
        );
        p.meta.compensated = false;
        p.meta.timing = "exact".into();
        let l = probe_line(&p);
        assert!(
            l.contains("left in the figures (compensate = false)"),
            "{l}"
        );
        assert!(l.contains("40 of 1000 calls timed"), "{l}");
        p.functions[0].timed_calls = 1_000;
        assert!(probe_line(&p).contains("every call timed"));
        assert!(!probe_line(&p).contains("stages:"));
        p.meta.stage_probe.next.call_inside_ns = 34.0;
        p.meta.stage_probe.next.pull_in_call_ns = 20.0;
        p.meta.stage_probe.next.pull_inside_ns = 35.0;
        let l = probe_line(&p);
        assert!(
            l.contains("stages: 34 ns per timed call, 55 ns per timed pull"),
            "{l}"
        );
    }
}
