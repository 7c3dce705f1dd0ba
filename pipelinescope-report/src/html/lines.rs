//! The report's source view of the functions annotated `#[profile(lines)]`: each function's
//! source as it was compiled, every line with its hits, time, time per hit and share of the
//! function's time as a heat bar (and, with the allocation tracker, its allocations), opened
//! from the function's row in the hotspots table.

use super::format;
use pipelinescope_core::profile::{FunctionLines, Profile};

/// One function's source view.
pub(super) struct LinesView {
    /// Element id, `lines-N`: the hotspots table links to it.
    pub anchor: String,
    pub function: String,
    pub file: String,
    pub line: u32,
    pub total: String,
    pub has_alloc: bool,
    pub rows: Vec<LineRow>,
}

/// One source line; figures empty on a line no statement starts on.
pub(super) struct LineRow {
    pub n: u32,
    pub hits: String,
    pub time: String,
    pub per_hit: String,
    pub pct: String,
    /// Width of the heat bar, percent of the function's time.
    pub heat: String,
    /// The hottest lines are marked.
    pub hot: bool,
    pub text: String,
    /// Allocated, freed, increment, allocations.
    pub alloc: Option<[String; 4]>,
}

/// A view per line table, the slowest function first.
pub(super) fn views(profile: &Profile) -> Vec<LinesView> {
    let mut tables: Vec<&FunctionLines> = profile.lines.iter().collect();
    tables.sort_by_key(|t| std::cmp::Reverse(t.total_ns));
    tables
        .into_iter()
        .enumerate()
        .map(|(i, t)| view(i, t))
        .collect()
}

fn view(i: usize, t: &FunctionLines) -> LinesView {
    let has_alloc = t.lines.iter().any(|l| l.alloc.is_some());
    let count = t.source.lines().count() as u32;
    let (first, last) = if count > 0 {
        (t.first_line, t.first_line + count - 1)
    } else {
        (
            t.lines.first().map_or(t.line, |l| l.line),
            t.lines.last().map_or(t.line, |l| l.line),
        )
    };
    let rows = (first..=last)
        .map(|n| {
            let text = t.source_line(n).unwrap_or("").to_owned();
            match t.lines.iter().find(|l| l.line == n) {
                Some(l) => {
                    let share = t.share(l);
                    LineRow {
                        n,
                        hits: format::count(l.hits),
                        time: format::ns(l.time_ns as f64),
                        per_hit: if l.hits > 0 {
                            format::ns(l.time_ns as f64 / l.hits as f64)
                        } else {
                            String::new()
                        },
                        pct: format::pct(share),
                        heat: format!("{:.1}", (share * 100.0).clamp(0.0, 100.0)),
                        hot: share >= 0.1,
                        text,
                        alloc: l.alloc.map(|a| {
                            [
                                format::bytes(a.bytes_allocated as f64),
                                format::bytes(a.bytes_freed as f64),
                                format::bytes(a.increment as f64),
                                format::count(a.allocations),
                            ]
                        }),
                    }
                }
                None => LineRow {
                    n,
                    hits: String::new(),
                    time: String::new(),
                    per_hit: String::new(),
                    pct: String::new(),
                    heat: "0".into(),
                    hot: false,
                    text,
                    alloc: None,
                },
            }
        })
        .collect();
    LinesView {
        anchor: format!("lines-{i}"),
        function: t.function.clone(),
        file: t.file.clone(),
        line: t.line,
        total: format::ns(t.total_ns as f64),
        has_alloc,
        rows,
    }
}

#[cfg(test)]
mod tests {
    use super::super::{HtmlOptions, render};
    use pipelinescope_core::profile::{FunctionLines, FunctionStats, LineStats, Profile};

    #[test]
    fn source_view_with_heat_bars_linked_from_hotspots() {
        let p = Profile {
            functions: vec![FunctionStats {
                name: "work<T>".into(),
                calls: 1,
                cumulative_ns: 4_000,
                ..FunctionStats::default()
            }],
            lines: vec![FunctionLines {
                function: "work<T>".into(),
                file: "src/main.rs".into(),
                line: 3,
                total_ns: 4_000,
                source: "fn work() {\n    // note\n    if a < b { slow() }\n}".into(),
                first_line: 3,
                lines: vec![
                    LineStats {
                        line: 3,
                        hits: 1,
                        time_ns: 1_000,
                        ..LineStats::default()
                    },
                    LineStats {
                        line: 5,
                        hits: 2,
                        time_ns: 3_000,
                        ..LineStats::default()
                    },
                ],
                ..FunctionLines::default()
            }],
            ..Profile::default()
        };
        let html = render(&p, &HtmlOptions::default());
        assert!(html.contains("id=\"lines-0\""), "anchor");
        assert!(
            html.contains("data-lines-fn=\"work&#60;T&#62;\""),
            "function, escaped"
        );
        // The source is escaped, every line shown, the hot one with its bar.
        assert!(html.contains("if a &#60; b { slow() }"));
        assert!(html.contains("// note"));
        assert!(html.contains("style=\"width:75.0%\""));
        assert!(html.contains("href=\"#lines\""), "a tab for the view");
    }
}
