//! The probe line of the console summary and the report header: what one instrumented call
//! costs, how that cost was split and taken off the figures, and how many calls were timed;
//! and how far below its cost a function's self time may read for the probes of its untimed
//! callees (`callee_probe_margin_ns`), which the tables say where it matters.

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

/// How much each function's self time may read below what it costs (nanoseconds, by function
/// index): the probes of its untimed callees are taken off at what an untimed probe costs in
/// a tight loop (`meta.probe_untimed_ns`), and around a function's own latency-bound work the
/// core runs them alongside that work for less, down to nearly nothing. So a function of some
/// tens of nanoseconds that calls short sampled functions reads low by up to one untimed probe
/// per such call (the accuracy benchmark's 20 ns middle function with two 5 ns callees reads
/// 6 to 9 ns; README, "Accuracy"). Zero when nothing was taken off. A callee's untimed calls
/// on a path are its calls there times the share of its calls that were untimed.
pub fn callee_probe_margin_ns(profile: &Profile) -> Vec<f64> {
    let m = &profile.meta;
    let mut margin = vec![0.0; profile.functions.len()];
    if !m.compensated || m.probe_untimed_ns <= 0.0 {
        return margin;
    }
    let untimed_share: Vec<f64> = profile
        .functions
        .iter()
        .map(|f| {
            if f.calls == 0 {
                0.0
            } else {
                1.0 - f.timed_calls.min(f.calls) as f64 / f.calls as f64
            }
        })
        .collect();
    let nodes = &profile.call_tree.nodes;
    for n in nodes {
        let Some(caller) = n.function else { continue };
        let Some(slot) = margin.get_mut(caller as usize) else {
            continue;
        };
        for callee in n.children.iter().filter_map(|&c| nodes.get(c as usize)) {
            let share = callee
                .function
                .and_then(|f| untimed_share.get(f as usize))
                .copied()
                .unwrap_or(0.0);
            *slot += callee.calls as f64 * share * m.probe_untimed_ns;
        }
    }
    margin
}

/// [`callee_probe_margin_ns`] where the tables show it, else 0: where the margin is at least a
/// quarter of the function's self time and a thousandth of the run's wall time (below that, no
/// row of the table moves).
pub fn shown_margins_ns(profile: &Profile) -> Vec<f64> {
    let wall = profile.meta.wall_ns as f64;
    let mut margins = callee_probe_margin_ns(profile);
    for (m, f) in margins.iter_mut().zip(&profile.functions) {
        if !(*m >= f.self_ns as f64 / 4.0 && *m >= wall / 1_000.0 && *m >= 1.0) {
            *m = 0.0;
        }
    }
    margins
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A parent (function 0) calling a child (function 1) 1,000 times on one path, 10 of the
    /// child's calls timed.
    fn parent_and_child(untimed_ns: f64, compensated: bool) -> Profile {
        use pipelinescope_core::profile::{CallNode, FunctionStats};
        let mut p = Profile::default();
        p.meta.probe_untimed_ns = untimed_ns;
        p.meta.compensated = compensated;
        p.functions = vec![
            FunctionStats {
                id: 0,
                calls: 1,
                timed_calls: 1,
                self_ns: 2_000,
                ..Default::default()
            },
            FunctionStats {
                id: 1,
                calls: 1_000,
                timed_calls: 10,
                self_ns: 5_000,
                ..Default::default()
            },
        ];
        p.call_tree.nodes = vec![
            CallNode {
                id: 0,
                children: vec![1],
                ..Default::default()
            },
            CallNode {
                id: 1,
                parent: Some(0),
                function: Some(0),
                children: vec![2],
                calls: 1,
                ..Default::default()
            },
            CallNode {
                id: 2,
                parent: Some(1),
                function: Some(1),
                calls: 1_000,
                ..Default::default()
            },
        ];
        p
    }

    #[test]
    fn the_margin_is_one_untimed_probe_per_untimed_callee_call() {
        let m = callee_probe_margin_ns(&parent_and_child(6.0, true));
        // 990 untimed calls of the child at 6 ns; the child calls nothing.
        assert!((m[0] - 5_940.0).abs() < 1e-6, "{m:?}");
        assert_eq!(m[1], 0.0);
        // Nothing taken off, nothing to be wrong by.
        assert_eq!(
            callee_probe_margin_ns(&parent_and_child(6.0, false)),
            vec![0.0; 2]
        );
        let mut p = parent_and_child(6.0, true);
        p.meta.wall_ns = 1_000_000;
        assert_eq!(shown_margins_ns(&p), vec![5_940.0, 0.0]);
        // A margin under a quarter of the self time, or under a thousandth of the run: not shown.
        p.functions[0].self_ns = 24_000;
        assert_eq!(shown_margins_ns(&p), vec![0.0; 2]);
        p.functions[0].self_ns = 0;
        p.meta.wall_ns = 10_000_000_000;
        assert_eq!(shown_margins_ns(&p), vec![0.0; 2]);
    }

    #[test]
    fn the_tables_say_which_self_times_may_read_low() {
        let mut p = parent_and_child(6.0, true);
        p.meta.wall_ns = 1_000_000;
        p.functions[0].name = "parent".into();
        p.functions[1].name = "child".into();
        let opts = crate::console::TableOptions::default();
        let t = crate::console::functions_table(&p, &opts);
        assert!(
            t.contains("self time may read low by up to: parent +5.94 µs"),
            "{t}"
        );
        assert!(!t.contains("child +"), "{t}");
        let page = crate::html::render(&p, &crate::html::HtmlOptions::default());
        assert!(page.contains("\"lo\":5940"), "{page}");
        // Compensation off: the figures carry the probe, and nothing is said.
        p.meta.compensated = false;
        let t = crate::console::functions_table(&p, &opts);
        assert!(!t.contains("may read low"), "{t}");
    }

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
