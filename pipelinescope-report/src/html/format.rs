//! Human-readable figures for the static parts of the page (the script has its own copies).

/// `1.23 ms`, `45.6 µs`, `2.00 s`, `812 ns`.
pub fn ns(v: f64) -> String {
    if !v.is_finite() {
        return "–".to_owned();
    }
    let a = v.abs();
    if a < 100.0 && v.fract() != 0.0 {
        format!("{v:.1} ns")
    } else if a < 1e3 {
        format!("{v:.0} ns")
    } else if a < 1e6 {
        format!("{} µs", sig3(v / 1e3))
    } else if a < 1e9 {
        format!("{} ms", sig3(v / 1e6))
    } else if a < 60e9 {
        format!("{} s", sig3(v / 1e9))
    } else {
        let s = v / 1e9;
        let m = (s / 60.0).floor();
        format!("{m:.0} min {:.0} s", s - m * 60.0)
    }
}

/// Three significant digits.
fn sig3(v: f64) -> String {
    let a = v.abs();
    if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// `1.5 GiB`, `300 KiB`, `12 B`.
pub fn bytes(v: f64) -> String {
    if !v.is_finite() {
        return "–".to_owned();
    }
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut x = v;
    let mut i = 0;
    while x.abs() >= 1024.0 && i + 1 < units.len() {
        x /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{x:.0} B")
    } else {
        format!("{} {}", sig3(x), units[i])
    }
}

/// `1,234,567`.
pub fn count(v: u64) -> String {
    let s = v.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `12.3 M`, `4.56 k`, `999`.
pub fn rate(v: f64) -> String {
    if !v.is_finite() {
        return "–".to_owned();
    }
    if v >= 1e9 {
        format!("{} G", sig3(v / 1e9))
    } else if v >= 1e6 {
        format!("{} M", sig3(v / 1e6))
    } else if v >= 1e3 {
        format!("{} k", sig3(v / 1e3))
    } else if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        sig3(v)
    }
}

/// A share 0..=1 as `12.3%`.
pub fn pct(share: f64) -> String {
    if !share.is_finite() {
        return "–".to_owned();
    }
    format!("{:.1}%", share * 100.0)
}

/// A speedup factor `1.25×` (or `∞` when the share is the whole run).
pub fn speedup(v: f64) -> String {
    if !v.is_finite() || v <= 0.0 {
        "∞".to_owned()
    } else {
        format!("{v:.2}×")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures() {
        assert_eq!(ns(812.0), "812 ns");
        assert_eq!(ns(45_600.0), "45.6 µs");
        assert_eq!(ns(1_234_000.0), "1.23 ms");
        assert_eq!(ns(2e9), "2.00 s");
        assert_eq!(ns(125e9), "2 min 5 s");
        assert_eq!(bytes(1536.0), "1.50 KiB");
        assert_eq!(bytes(12.0), "12 B");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(count(12), "12");
        assert_eq!(rate(12_300_000.0), "12.3 M");
        assert_eq!(rate(0.0), "0");
        assert_eq!(rate(2.5), "2.50");
        assert_eq!(pct(0.1234), "12.3%");
        assert_eq!(speedup(1.25), "1.25×");
        assert_eq!(speedup(f64::INFINITY), "∞");
    }
}
