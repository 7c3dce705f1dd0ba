//! Charging sampled CPU time and memory growth to the functions and stages that were running.
//!
//! At every sample, for each thread that has run instrumented code: the thread's CPU time since
//! the previous sample (its kernel CPU clock, nanoseconds) is charged to the innermost function
//! the thread is in at the moment of the sample, as a sampling profiler charges a whole period to
//! the instruction it interrupts. The process's resident-memory change over the same interval is
//! split between the functions active on the threads, in proportion to the CPU each thread used
//! in that interval (equally when none used any), since only a running thread touches new pages.

use crate::profile::AttributedResources;
use std::collections::HashMap;

/// What one thread was doing at one sample.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ThreadObs {
    /// Stable key of the thread (its recorder index).
    pub key: u32,
    /// Innermost site id (0: outside instrumented code).
    pub site: u32,
    /// Current stage id (0: none).
    pub stage: u32,
    /// The thread's CPU clock now, when it can be read.
    pub cpu_ns: Option<u64>,
    /// The thread's CPU clock when it first ran instrumented code (0: unknown).
    pub cpu_start_ns: u64,
}

#[derive(Debug, Default, Clone, Copy)]
struct Acc {
    samples: u64,
    last_sample: u64,
    cpu_ns: u64,
    mem: i64,
}

/// Accumulated attribution over a run.
#[derive(Debug, Default)]
pub(crate) struct Attributor {
    prev: HashMap<u32, u64>,
    sites: HashMap<u32, Acc>,
    stages: HashMap<u32, Acc>,
    sample_no: u64,
    /// CPU of instrumented threads while outside any instrumented function.
    pub outside_cpu_ns: u64,
    /// Memory growth while no instrumented function was active on any thread.
    pub outside_mem_bytes: i64,
}

/// Splits `total` between `weights` proportionally (equally when all weights are 0); the shares
/// add up to `total` exactly.
fn split(total: i64, weights: &[u64]) -> Vec<i64> {
    if weights.is_empty() {
        return Vec::new();
    }
    let sum: u128 = weights.iter().map(|&w| w as u128).sum();
    let mut shares: Vec<i64> = if sum == 0 {
        vec![total / weights.len() as i64; weights.len()]
    } else {
        weights
            .iter()
            .map(|&w| (total as i128 * w as i128 / sum as i128) as i64)
            .collect()
    };
    let rest = total - shares.iter().sum::<i64>();
    if let Some(first) = shares.first_mut() {
        *first += rest;
    }
    shares
}

impl Attributor {
    /// Notes the threads' CPU clocks at the start, charging nothing.
    pub fn prime(&mut self, threads: &[ThreadObs]) {
        for t in threads {
            if let Some(now) = t.cpu_ns {
                self.prev.insert(t.key, now);
            }
        }
    }

    /// Records one sample: the threads' states and the resident-memory change since the last.
    /// `interval_ns` bounds the CPU charged for a thread seen for the first time.
    pub fn observe(&mut self, threads: &[ThreadObs], interval_ns: u64, rss_delta: i64) {
        self.sample_no += 1;
        let n = self.sample_no;
        let mut active: Vec<(u32, u32, u64)> = Vec::new();
        for t in threads {
            let delta = match t.cpu_ns {
                Some(now) => match self.prev.insert(t.key, now) {
                    Some(before) => now.saturating_sub(before),
                    // First sight: what it used since its first instrumented call, and at
                    // most one interval (it may have started long before this run).
                    None => now.saturating_sub(t.cpu_start_ns).min(interval_ns),
                },
                None => 0,
            };
            if t.site == 0 && t.stage == 0 {
                self.outside_cpu_ns += delta;
                continue;
            }
            if t.site == 0 {
                // In a stage but in no instrumented function: outside for the function view.
                self.outside_cpu_ns += delta;
            } else {
                let a = self.sites.entry(t.site).or_default();
                if a.last_sample != n {
                    a.samples += 1;
                    a.last_sample = n;
                }
                a.cpu_ns += delta;
            }
            if t.stage != 0 {
                let s = self.stages.entry(t.stage).or_default();
                if s.last_sample != n {
                    s.samples += 1;
                    s.last_sample = n;
                }
                s.cpu_ns += delta;
            }
            active.push((t.site, t.stage, delta));
        }
        // A thread missing from a sample has exited (the sampler lists every live one): its
        // clock is not read again, and keeping it would grow with every thread the run saw.
        if self.prev.len() > threads.len() {
            let seen: std::collections::HashSet<u32> = threads.iter().map(|t| t.key).collect();
            self.prev.retain(|k, _| seen.contains(k));
        }
        if active.is_empty() {
            self.outside_mem_bytes += rss_delta;
            return;
        }
        let weights: Vec<u64> = active.iter().map(|a| a.2).collect();
        for (share, &(site, stage, _)) in split(rss_delta, &weights).into_iter().zip(&active) {
            if let Some(a) = self.sites.get_mut(&site) {
                a.mem += share;
            }
            if stage != 0
                && let Some(s) = self.stages.get_mut(&stage)
            {
                s.mem += share;
            }
        }
    }

    /// CPU charged so far, to functions or to nothing.
    pub fn charged_cpu_ns(&self) -> u64 {
        self.outside_cpu_ns + self.sites.values().map(|a| a.cpu_ns).sum::<u64>()
    }

    /// Final rows, by descending CPU. `total_cpu_ns` is the denominator of the shares.
    pub fn finish(
        &self,
        site_name: impl Fn(u32) -> Option<String>,
        stage_name: impl Fn(u32) -> Option<String>,
        total_cpu_ns: u64,
    ) -> (Vec<AttributedResources>, Vec<AttributedResources>) {
        let rows = |m: &HashMap<u32, Acc>, name: &dyn Fn(u32) -> Option<String>| {
            let mut v: Vec<AttributedResources> = m
                .iter()
                .map(|(&id, a)| AttributedResources {
                    name: name(id).unwrap_or_else(|| format!("<site {id}>")),
                    samples: a.samples,
                    cpu_ns: a.cpu_ns,
                    cpu_share: if total_cpu_ns == 0 {
                        0.0
                    } else {
                        a.cpu_ns as f64 / total_cpu_ns as f64
                    },
                    mem_growth_bytes: a.mem,
                })
                .collect();
            v.sort_by(|a, b| b.cpu_ns.cmp(&a.cpu_ns).then_with(|| a.name.cmp(&b.name)));
            v
        };
        (
            rows(&self.sites, &site_name),
            rows(&self.stages, &stage_name),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(key: u32, site: u32, cpu: u64) -> ThreadObs {
        ThreadObs {
            key,
            site,
            stage: 0,
            cpu_ns: Some(cpu),
            cpu_start_ns: 0,
        }
    }

    #[test]
    fn exited_threads_clocks_are_dropped() {
        let mut a = Attributor::default();
        for k in 0..1_000u32 {
            // A thread per sample, each gone by the next.
            a.observe(&[obs(0, 1, 10 * u64::from(k)), obs(k + 1, 1, 5)], 10_000, 0);
        }
        assert_eq!(a.prev.len(), 2);
        let (f, _) = a.finish(|id| Some(format!("f{id}")), |_| None, 1);
        assert_eq!(f[0].cpu_ns, 10 * 999 + 1_000 * 5);
    }

    #[test]
    fn cpu_deltas_go_to_the_site_seen_at_the_sample() {
        let mut a = Attributor::default();
        a.observe(&[obs(0, 1, 1_000), obs(1, 0, 500)], 10_000, 0);
        a.observe(&[obs(0, 1, 9_000), obs(1, 2, 2_500)], 10_000, 0);
        a.observe(&[obs(0, 2, 10_000), obs(1, 2, 2_500)], 10_000, 0);
        let (f, s) = a.finish(|id| Some(format!("f{id}")), |_| None, 12_500);
        assert!(s.is_empty());
        assert_eq!(f.len(), 2);
        assert_eq!(
            (f[0].name.as_str(), f[0].cpu_ns, f[0].samples),
            ("f1", 9_000, 2)
        );
        assert_eq!(
            (f[1].name.as_str(), f[1].cpu_ns, f[1].samples),
            ("f2", 3_000, 2)
        );
        assert_eq!(a.outside_cpu_ns, 500);
        assert!((f[0].cpu_share - 0.72).abs() < 1e-12);
    }

    #[test]
    fn first_sight_is_bounded_by_the_interval() {
        let mut a = Attributor::default();
        a.observe(&[obs(7, 3, 5_000_000)], 10_000, 0);
        let (f, _) = a.finish(|_| None, |_| None, 10_000);
        assert_eq!(f[0].cpu_ns, 10_000);
        assert_eq!(f[0].name, "<site 3>");
    }

    #[test]
    fn memory_growth_splits_by_cpu_and_adds_up() {
        let mut a = Attributor::default();
        a.observe(&[obs(0, 1, 0), obs(1, 2, 0), obs(2, 0, 0)], 10, 0);
        a.observe(
            &[obs(0, 1, 300), obs(1, 2, 100), obs(2, 0, 50)],
            10_000,
            1_001,
        );
        // Nobody used CPU: equal split.
        a.observe(&[obs(0, 1, 300), obs(1, 2, 100)], 10_000, 100);
        a.observe(&[obs(2, 0, 50)], 10_000, -40);
        let (f, _) = a.finish(|id| Some(format!("f{id}")), |_| None, 1);
        let m = |n: &str| f.iter().find(|r| r.name == n).unwrap().mem_growth_bytes;
        assert_eq!(m("f1"), 751 + 50);
        assert_eq!(m("f2"), 250 + 50);
        assert_eq!(a.outside_mem_bytes, -40);
    }

    #[test]
    fn stages_are_charged_alongside_functions() {
        let mut a = Attributor::default();
        let t = |cpu| ThreadObs {
            key: 0,
            site: 4,
            stage: 9,
            cpu_ns: Some(cpu),
            cpu_start_ns: 0,
        };
        a.observe(&[t(0)], 10, 0);
        a.observe(&[t(700)], 10_000, 64);
        let (f, s) = a.finish(|_| Some("f".into()), |id| Some(format!("s{id}")), 700);
        assert_eq!(f[0].cpu_ns, 700);
        assert_eq!(
            (s[0].name.as_str(), s[0].cpu_ns, s[0].mem_growth_bytes),
            ("s9", 700, 64)
        );
        assert_eq!(s[0].cpu_share, 1.0);
    }

    #[test]
    fn a_stage_outside_any_function_is_still_charged() {
        let mut a = Attributor::default();
        let t = |cpu| ThreadObs {
            key: 0,
            site: 0,
            stage: 5,
            cpu_ns: Some(cpu),
            cpu_start_ns: 0,
        };
        a.observe(&[t(0)], 10, 0);
        a.observe(&[t(400)], 10_000, 32);
        let (f, s) = a.finish(|_| None, |id| Some(format!("s{id}")), 400);
        assert!(f.is_empty(), "no function was running");
        assert_eq!(a.outside_cpu_ns, 400, "outside every function");
        assert_eq!(
            (s[0].name.as_str(), s[0].cpu_ns, s[0].mem_growth_bytes),
            ("s5", 400, 32)
        );
    }

    #[test]
    fn first_sight_starts_from_the_first_instrumented_call() {
        let mut a = Attributor::default();
        // A thread that used 4 ms of CPU before its first instrumented call and 100 us since.
        let t = ThreadObs {
            key: 3,
            site: 2,
            stage: 0,
            cpu_ns: Some(4_100_000),
            cpu_start_ns: 4_000_000,
        };
        a.observe(&[t], 10_000_000, 0);
        let (f, _) = a.finish(|id| Some(format!("f{id}")), |_| None, 100_000);
        assert_eq!(f[0].cpu_ns, 100_000);
    }
}
