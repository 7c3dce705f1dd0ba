//! The line table of one function (`#[profile(lines)]`), laid out as `kernprof -l -v` lays out
//! line_profiler's: a header (time, file, function), then every line of the function's source
//! with its hits, time, time per hit and share of the function's time, and, when allocations
//! were tracked, memory_profiler's columns.

use super::fmt_bytes;
use pipelinescope_core::profile::FunctionLines;
use std::fmt::Write;

/// The listing of `f`.
pub fn lines_listing(f: &FunctionLines) -> String {
    let mut out = String::new();
    let alloc = f.lines.iter().any(|l| l.alloc.is_some());
    let _ = writeln!(out, "Timer unit: 1e-06 s\n");
    let _ = writeln!(out, "Total time: {:.6} s", f.total_ns as f64 / 1e9);
    let _ = writeln!(out, "File: {}", f.file);
    let _ = writeln!(out, "Function: {} at line {}", f.function, f.line);
    if f.probe_ns > 0.0 {
        let _ = writeln!(
            out,
            "Probe cost taken off: {:.1} ns per hit, and the function probes run on a line",
            f.probe_ns
        );
    }
    out.push('\n');
    let mut head = format!(
        "{:>6} {:>10} {:>13} {:>9} {:>8}",
        "Line #", "Hits", "Time", "Per Hit", "% Time"
    );
    if alloc {
        let _ = write!(
            head,
            " {:>11} {:>11} {:>11} {:>9}",
            "Allocated", "Freed", "Increment", "Allocs"
        );
    }
    head.push_str("  Line Contents");
    let _ = writeln!(out, "{head}");
    let _ = writeln!(out, "{}", "=".repeat(head.chars().count()));
    let source: Vec<&str> = f.source.lines().collect();
    let (first, last) = if source.is_empty() {
        (
            f.lines.first().map_or(f.line, |l| l.line),
            f.lines.last().map_or(f.line, |l| l.line),
        )
    } else {
        (f.first_line, f.first_line + source.len() as u32 - 1)
    };
    for n in first..=last {
        let text = f.source_line(n).unwrap_or("");
        let row = f.lines.iter().find(|l| l.line == n);
        let _ = match row {
            Some(l) => {
                let us = l.time_ns as f64 / 1e3;
                let per = if l.hits > 0 { us / l.hits as f64 } else { 0.0 };
                let mut cols = format!(
                    "{:>6} {:>10} {:>13.1} {:>9.3} {:>8.1}",
                    n,
                    l.hits,
                    us,
                    per,
                    f.share(l) * 100.0
                );
                if alloc {
                    let a = l.alloc.unwrap_or_default();
                    let _ = write!(
                        cols,
                        " {:>11} {:>11} {:>11} {:>9}",
                        fmt_bytes(a.bytes_allocated as f64),
                        fmt_bytes(a.bytes_freed as f64),
                        fmt_bytes(a.increment as f64),
                        a.allocations
                    );
                }
                writeln!(out, "{cols}  {text}")
            }
            None => {
                let width = if alloc { 43 + 46 } else { 43 };
                writeln!(out, "{n:>6} {:width$}  {text}", "")
            }
        };
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use pipelinescope_core::profile::{LineAlloc, LineStats};

    #[test]
    fn every_source_line_with_its_figures() {
        let f = FunctionLines {
            function: "work".into(),
            file: "src/main.rs".into(),
            line: 10,
            total_ns: 4_000_000,
            source: "fn work() {\n    // setup\n    let v = make();\n}".into(),
            first_line: 10,
            lines: vec![
                LineStats {
                    line: 10,
                    hits: 1,
                    time_ns: 1_000_000,
                    ..LineStats::default()
                },
                LineStats {
                    line: 12,
                    hits: 4,
                    time_ns: 3_000_000,
                    alloc: Some(LineAlloc {
                        allocations: 2,
                        bytes_allocated: 2048,
                        bytes_freed: 1024,
                        increment: 1024,
                    }),
                    ..LineStats::default()
                },
            ],
            ..FunctionLines::default()
        };
        let text = lines_listing(&f);
        assert!(text.contains("Total time: 0.004000 s"), "{text}");
        assert!(text.contains("Function: work at line 10"));
        let row = text.lines().find(|l| l.contains("let v = make()")).unwrap();
        let cols: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(
            &cols[..5],
            ["12", "4", "3000.0", "750.000", "75.0"],
            "{row}"
        );
        assert!(row.contains("2.0 KiB") && row.contains("1.0 KiB"), "{row}");
        let blank = text.lines().find(|l| l.contains("// setup")).unwrap();
        assert!(blank.trim_start().starts_with("11 "), "{blank}");
        // The source column lines up.
        assert_eq!(blank.find("// setup"), row.find("let v"), "{text}");
        // One line per source line, after the eight of the header.
        assert_eq!(text.lines().count(), 8 + 4, "{text}");
    }
}
