//! The resource timeline, bounded to [`MAX_POINTS`] however long the run.
//!
//! Samples are averaged into buckets of `stride` samples; when the timeline is full, adjacent
//! pairs of points are merged and the stride doubles, so memory stays bounded and every point
//! always stands for the same number of samples (except the last, partial one). Rates (CPU and
//! GPU utilisation) are averaged, levels (resident, virtual and GPU memory) keep their maximum so
//! that peaks survive downsampling.

use crate::profile::ResourceSample;

/// Most points a timeline holds.
pub const MAX_POINTS: usize = 2_000;

/// A downsampling timeline.
#[derive(Debug, Clone)]
pub struct Timeline {
    points: Vec<ResourceSample>,
    cap: usize,
    stride: u64,
    pending: Option<ResourceSample>,
    pending_n: u64,
    pending_util_n: u64,
}

fn max_opt(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

fn merge_pair(a: &ResourceSample, b: &ResourceSample) -> ResourceSample {
    ResourceSample {
        t_ms: (a.t_ms + b.t_ms) / 2.0,
        cpu_percent: (a.cpu_percent + b.cpu_percent) / 2.0,
        rss_bytes: a.rss_bytes.max(b.rss_bytes),
        virt_bytes: a.virt_bytes.max(b.virt_bytes),
        gpu_util_percent: match (a.gpu_util_percent, b.gpu_util_percent) {
            (Some(x), Some(y)) => Some((x + y) / 2.0),
            (x, None) => x,
            (None, y) => y,
        },
        gpu_mem_bytes: max_opt(a.gpu_mem_bytes, b.gpu_mem_bytes),
        process_gpu_mem_bytes: max_opt(a.process_gpu_mem_bytes, b.process_gpu_mem_bytes),
    }
}

impl Default for Timeline {
    fn default() -> Self {
        Timeline::with_capacity(MAX_POINTS)
    }
}

impl Timeline {
    /// A timeline of at most `cap` points (rounded up to an even number, at least 2).
    pub fn with_capacity(cap: usize) -> Self {
        let cap = cap.max(2).next_multiple_of(2);
        Timeline {
            points: Vec::with_capacity(cap),
            cap,
            stride: 1,
            pending: None,
            pending_n: 0,
            pending_util_n: 0,
        }
    }

    /// Samples each point stands for.
    pub fn stride(&self) -> u64 {
        self.stride
    }

    /// Adds one raw sample.
    pub fn push(&mut self, s: ResourceSample) {
        let n = self.pending_n;
        let has_util = s.gpu_util_percent.is_some() as u64;
        let acc = match self.pending.take() {
            None => s,
            Some(p) => {
                // Running means, weighted by the samples already in the bucket.
                let w = n as f64;
                let un = self.pending_util_n as f64;
                ResourceSample {
                    t_ms: (p.t_ms * w + s.t_ms) / (w + 1.0),
                    cpu_percent: (p.cpu_percent * w + s.cpu_percent) / (w + 1.0),
                    rss_bytes: p.rss_bytes.max(s.rss_bytes),
                    virt_bytes: p.virt_bytes.max(s.virt_bytes),
                    gpu_util_percent: match (p.gpu_util_percent, s.gpu_util_percent) {
                        (Some(x), Some(y)) => Some((x * un + y) / (un + 1.0)),
                        (x, None) => x,
                        (None, y) => y,
                    },
                    gpu_mem_bytes: max_opt(p.gpu_mem_bytes, s.gpu_mem_bytes),
                    process_gpu_mem_bytes: max_opt(
                        p.process_gpu_mem_bytes,
                        s.process_gpu_mem_bytes,
                    ),
                }
            }
        };
        self.pending_n = n + 1;
        self.pending_util_n += has_util;
        if self.pending_n >= self.stride {
            self.points.push(acc);
            self.pending_n = 0;
            self.pending_util_n = 0;
            if self.points.len() >= self.cap {
                self.halve();
            }
        } else {
            self.pending = Some(acc);
        }
    }

    fn halve(&mut self) {
        let merged: Vec<ResourceSample> = self
            .points
            .chunks(2)
            .map(|c| match c {
                [a, b] => merge_pair(a, b),
                [a] => a.clone(),
                _ => ResourceSample::default(),
            })
            .collect();
        self.points.clear();
        self.points.extend(merged);
        self.stride *= 2;
    }

    /// The points, with the last partial bucket included.
    pub fn finish(mut self) -> Vec<ResourceSample> {
        if let Some(p) = self.pending.take() {
            if self.points.len() >= self.cap {
                self.halve();
            }
            self.points.push(p);
        }
        self.points
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(i: u64) -> ResourceSample {
        ResourceSample {
            t_ms: i as f64 * 10.0,
            cpu_percent: (i % 7) as f64 * 10.0,
            rss_bytes: 1_000 + (i % 1_000),
            virt_bytes: 5_000,
            gpu_util_percent: Some(50.0),
            gpu_mem_bytes: Some(i),
            process_gpu_mem_bytes: None,
        }
    }

    #[test]
    fn ten_thousand_samples_fit_in_two_thousand_points() {
        let mut t = Timeline::default();
        let n = 10_000u64;
        let mut cpu_sum = 0.0;
        for i in 0..n {
            let s = sample(i);
            cpu_sum += s.cpu_percent;
            t.push(s);
            assert!(t.points.len() < MAX_POINTS);
        }
        assert_eq!(t.stride(), 8);
        let pts = t.finish();
        assert!(
            pts.len() <= MAX_POINTS && pts.len() >= MAX_POINTS / 2,
            "{}",
            pts.len()
        );
        // Evenly weighted points: 10,000 / 8 = 1,250 exactly.
        assert_eq!(pts.len(), 1_250);
        assert!(pts.windows(2).all(|w| w[0].t_ms < w[1].t_ms));
        // Time span and mean CPU are preserved, peaks survive.
        assert!(pts[0].t_ms <= 40.0);
        assert!(pts[pts.len() - 1].t_ms >= (n - 8) as f64 * 10.0);
        let mean: f64 = pts.iter().map(|p| p.cpu_percent).sum::<f64>() / pts.len() as f64;
        assert!((mean - cpu_sum / n as f64).abs() < 1e-9, "{mean}");
        assert_eq!(pts.iter().map(|p| p.rss_bytes).max(), Some(1_999));
        assert_eq!(
            pts.iter().filter_map(|p| p.gpu_mem_bytes).max(),
            Some(n - 1)
        );
        assert!(pts.iter().all(|p| p.gpu_util_percent == Some(50.0)));
        assert!(pts.iter().all(|p| p.process_gpu_mem_bytes.is_none()));
    }

    #[test]
    fn short_runs_keep_every_sample() {
        let mut t = Timeline::default();
        for i in 0..10 {
            t.push(sample(i));
        }
        let pts = t.finish();
        assert_eq!(pts.len(), 10);
        assert_eq!(pts[3], sample(3));
    }

    #[test]
    fn partial_last_bucket_is_kept() {
        let mut t = Timeline::with_capacity(4);
        for i in 0..9 {
            t.push(sample(i));
        }
        let pts = t.finish();
        assert!(pts.len() <= 4, "{}", pts.len());
        assert_eq!(pts.last().map(|p| p.t_ms), Some(80.0));
    }
}
