//! comparison.html: the result of `pipelinescope diff` as a self-contained page (inline style,
//! no script, no network), every name escaped.

use std::fmt::Write as _;
use std::path::Path;

use pipelinescope_core::Profile;
use pipelinescope_report::diff::{Change, Diff, T_CRITICAL, fmt_relative};

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn describe(p: &Profile, path: &Path) -> String {
    let m = &p.meta;
    let name = if m.title.is_empty() {
        &m.run_id
    } else {
        &m.title
    };
    format!(
        "{} — {} ({} functions, {} stages, {} calls)",
        escape(name),
        escape(&path.display().to_string()),
        p.functions.len(),
        p.stages.len(),
        m.total_calls
    )
}

/// Renders the comparison page.
pub fn render(
    d: &Diff,
    base_path: &Path,
    base: &Profile,
    cur_path: &Path,
    cur: &Profile,
) -> String {
    let mut h = String::new();
    h.push_str(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>PipelineScope comparison</title><style>\
body{font-family:system-ui,sans-serif;margin:2em;color:#222}\
table{border-collapse:collapse;font-size:14px}\
th,td{padding:4px 8px;border-bottom:1px solid #ddd;text-align:right;white-space:nowrap}\
th{background:#f3f3f3}td.l,th.l{text-align:left}\
tr.regressed td.s{color:#b00020;font-weight:bold}tr.improved td.s{color:#1b7a1b;font-weight:bold}\
tr.new td.s{color:#1f5fbf}tr.removed td.s{color:#777}\
.tally span{margin-right:1.5em}</style></head><body>\n<h1>PipelineScope comparison</h1>\n",
    );
    let _ = writeln!(
        h,
        "<p>Base: {}<br>Current: {}</p>",
        describe(base, base_path),
        describe(cur, cur_path)
    );
    let _ = writeln!(
        h,
        "<p class=\"tally\"><span>{} regressed</span><span>{} improved</span><span>{} new</span>\
<span>{} removed</span><span>{} stable</span></p>",
        d.count(Change::Regressed),
        d.count(Change::Improved),
        d.count(Change::New),
        d.count(Change::Removed),
        d.count(Change::Stable)
    );
    let _ = writeln!(
        h,
        "<p>A change counts when Welch's t of the mean time per call is at least {T_CRITICAL} \
and the mean moved by at least {:.1}% (with fewer than 2 calls on a side: at least the larger of \
that and 10%).</p>",
        d.threshold * 100.0
    );
    h.push_str(
        "<table><thead><tr><th class=\"l\">status</th><th class=\"l\">kind</th>\
<th class=\"l\">name</th><th class=\"l\">module</th><th>mean/call Δ</th><th>Welch t</th>\
<th>calls</th><th>self</th><th>cumulative</th><th>p50</th><th>p99</th></tr></thead><tbody>\n",
    );
    for r in &d.rows {
        let [calls, slf, cum, p50, p99] = r.figure_cells().map(|c| escape(&c));
        let t = match r.welch_t {
            Some(t) if t.is_finite() => format!("{t:.1}"),
            Some(t) if t > 0.0 => "+∞".to_string(),
            Some(_) => "−∞".to_string(),
            None => "-".to_string(),
        };
        let _ = writeln!(
            h,
            "<tr class=\"{c}\"><td class=\"l s\">{c}</td><td class=\"l\">{k}</td><td class=\"l\">{n}</td>\
<td class=\"l\">{m}</td><td>{rel}</td><td>{t}</td><td>{calls}</td><td>{slf}</td><td>{cum}</td>\
<td>{p50}</td><td>{p99}</td></tr>",
            c = r.change.as_str(),
            k = r.subject.label(),
            n = escape(&r.name),
            m = escape(&r.module),
            rel = escape(&fmt_relative(r.relative)),
        );
    }
    h.push_str("</tbody></table>\n</body></html>\n");
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_everything() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
