/* PipelineScope report: draws the interactive parts from the embedded JSON.
   Names from the profiled program only ever reach the page through esc() or textContent. */
(function () {
  "use strict";
  var D;
  try {
    D = JSON.parse(document.getElementById("ps-data").textContent);
  } catch (e) {
    D = null;
  }
  if (!D || typeof D !== "object") { showError("the embedded data could not be read"); return; }
  var FNS = D.fns || [];
  var WALL = D.wall_ns || 0;

  function $(id) { return document.getElementById(id); }
  function showError(msg) {
    var el = document.getElementById("ps-error");
    if (el) { el.hidden = false; el.textContent = "Part of this report could not be drawn: " + msg; }
  }
  function esc(s) {
    return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
  }
  function sig3(v) { var a = Math.abs(v); return a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : v.toFixed(2); }
  function fmtNs(v) {
    if (v == null || !isFinite(v)) return "–";
    var a = Math.abs(v);
    if (a < 1e3) return v.toFixed(0) + " ns";
    if (a < 1e6) return sig3(v / 1e3) + " µs";
    if (a < 1e9) return sig3(v / 1e6) + " ms";
    if (a < 60e9) return sig3(v / 1e9) + " s";
    var s = v / 1e9, m = Math.floor(s / 60);
    return m + " min " + (s - m * 60).toFixed(0) + " s";
  }
  function fmtBytes(v) {
    if (v == null || !isFinite(v)) return "–";
    var u = ["B", "KiB", "MiB", "GiB", "TiB"], i = 0;
    while (Math.abs(v) >= 1024 && i < u.length - 1) { v /= 1024; i++; }
    return i === 0 ? v.toFixed(0) + " B" : sig3(v) + " " + u[i];
  }
  function fmtCount(v) {
    if (v == null || !isFinite(v)) return "–";
    return Math.round(v).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  }
  function fmtPct(share) { return isFinite(share) ? (share * 100).toFixed(share < 0.001 && share > 0 ? 3 : 1) + "%" : "–"; }
  function fmtX(v) { return isFinite(v) && v > 0 ? v.toFixed(2) + "×" : "∞"; }
  function amdahl(p, f) { p = Math.min(Math.max(p, 0), 1); var d = 1 - p / f; return d <= 0 ? Infinity : 1 / d; }
  function hue(name) {
    var h = 0; for (var i = 0; i < name.length; i++) { h = (h * 31 + name.charCodeAt(i)) | 0; }
    return h >>> 0;
  }
  function fnName(fi) { var f = FNS[fi]; return f ? f.n : "(unknown)"; }

  var tip = $("tip");
  function showTip(ev, html) {
    tip.innerHTML = html; tip.hidden = false;
    var x = ev.clientX + 14, y = ev.clientY + 14, w = tip.offsetWidth, h = tip.offsetHeight;
    if (x + w > window.innerWidth - 8) x = ev.clientX - w - 14;
    if (y + h > window.innerHeight - 8) y = ev.clientY - h - 14;
    tip.style.left = Math.max(4, x) + "px"; tip.style.top = Math.max(4, y) + "px";
  }
  function hideTip() { tip.hidden = true; }

  function guarded(name, f) {
    try { f(); } catch (e) { showError(name + " (" + e.message + ")"); if (window.console) console.error(e); }
  }

  /* ---------- hotspots ---------- */
  /* A self time that may read low for its sampled callees' probes (see the README's Accuracy). */
  function lowMark(lo) {
    if (!(lo > 0)) return "";
    return "<span class=\"lowmark\" title=\"may read up to " + fmtNs(lo) + " low: its sampled callees' probes " +
      "are taken off at what they cost in a tight loop, and around this function's own work they cost less\">+" +
      fmtNs(lo) + "?</span>";
  }
  var ROWS = FNS.map(function (f, i) {
    var sh = f.sh || (WALL > 0 ? f.t / WALL : 0);
    return { i: i, name: f.n, lname: (f.n + " " + f.m).toLowerCase(), c: f.c, s: f.s, lo: f.lo || 0, t: f.t, mu: f.mu,
      p50: f.p50, p90: f.p90, p99: f.p99, mx: f.mx, sh: sh, af: amdahl(sh, 1), a2: amdahl(sh, 2), x: f.x };
  });
  var HS = { key: "t", desc: true, filter: "", top: (D.opts && D.opts.top_n) || 0,
    minMs: (D.opts && D.opts.min_ms) || 0, minPct: (D.opts && D.opts.min_pct) || 0, sel: -1 };

  function hotspotsInit() {
    var sel = $("hs-top"), opts = [10, 25, 50, 100, 250, 1000];
    if (HS.top > 0 && opts.indexOf(HS.top) < 0) { opts.push(HS.top); opts.sort(function (a, b) { return a - b; }); }
    var html = "";
    opts.forEach(function (n) { html += "<option value=\"" + n + "\">top " + n + "</option>"; });
    html += "<option value=\"0\">all</option>";
    sel.innerHTML = html;
    sel.value = String(HS.top);
    $("hs-minms").value = HS.minMs;
    $("hs-minpct").value = HS.minPct;
    sel.addEventListener("change", function () { HS.top = +sel.value || 0; hotspotsRender(); });
    $("hs-filter").addEventListener("input", function (e) { HS.filter = e.target.value.trim().toLowerCase(); hotspotsRender(); });
    $("hs-minms").addEventListener("input", function (e) { HS.minMs = +e.target.value || 0; hotspotsRender(); });
    $("hs-minpct").addEventListener("input", function (e) { HS.minPct = +e.target.value || 0; hotspotsRender(); });
    var ths = document.querySelectorAll("#hotspots-table th");
    Array.prototype.forEach.call(ths, function (th) {
      th.addEventListener("click", function () {
        var k = th.getAttribute("data-k");
        if (HS.key === k) HS.desc = !HS.desc; else { HS.key = k; HS.desc = k !== "name"; }
        hotspotsRender();
      });
    });
    document.querySelector("#hotspots-table tbody").addEventListener("click", function (e) {
      var tr = e.target.closest("tr[data-i]");
      if (tr) { HS.sel = +tr.getAttribute("data-i"); hotspotsRender(); latencyShow(HS.sel); }
    });
  }
  /* Functions with a source view (#[profile(lines)]): name -> element id. */
  var LINES = {};
  Array.prototype.forEach.call(document.querySelectorAll("[data-lines-fn]"), function (d) {
    LINES[d.getAttribute("data-lines-fn")] = d.id;
  });
  function srcLink(name) {
    var id = LINES[name];
    return id ? "<a class=\"srclink\" href=\"#" + id + "\" data-open=\"" + id + "\">lines</a>" : "";
  }
  document.addEventListener("click", function (e) {
    var a = e.target.closest && e.target.closest("a[data-open]");
    if (a) { var d = document.getElementById(a.getAttribute("data-open")); if (d) d.open = true; }
  });
  function hotspotsRender() {
    var minNs = HS.minMs * 1e6, minSh = HS.minPct / 100, f = HS.filter;
    var rows = ROWS.filter(function (r) {
      return r.t >= minNs && r.sh >= minSh && (!f || r.lname.indexOf(f) >= 0);
    });
    var k = HS.key, dir = HS.desc ? -1 : 1;
    rows.sort(function (a, b) {
      var x = a[k], y = b[k];
      if (k === "name") { x = a.name.toLowerCase(); y = b.name.toLowerCase(); }
      return x < y ? -dir : x > y ? dir : (b.t - a.t) || (a.i - b.i);
    });
    var total = rows.length;
    if (HS.top > 0) rows = rows.slice(0, HS.top);
    var out = [];
    for (var j = 0; j < rows.length; j++) {
      var r = rows[j], fn = FNS[r.i];
      out.push("<tr data-i=\"" + r.i + "\"" + (r.i === HS.sel ? " class=\"sel\"" : "") + "><td class=\"fn\" title=\"" +
        esc(fn.m + " · " + fn.file + ":" + fn.line) + "\"><span class=\"nm\">" + esc(fn.n) + "</span>" +
        (fn.a ? "<span class=\"tag\">async</span>" : "") + "<span class=\"mod\">" + esc(fn.m) + "</span>" + srcLink(fn.n) + "</td>" +
        "<td class=\"num\">" + fmtCount(r.c) + "</td><td class=\"num\">" + fmtNs(r.s) + lowMark(r.lo) + "</td><td class=\"num\">" + fmtNs(r.t) +
        "</td><td class=\"num\">" + fmtNs(r.mu) + "</td><td class=\"num\">" + fmtNs(r.p50) + "</td><td class=\"num\">" + fmtNs(r.p90) +
        "</td><td class=\"num\">" + fmtNs(r.p99) + "</td><td class=\"num\">" + fmtNs(r.mx) +
        "</td><td class=\"num share\"><div class=\"sbar\" style=\"width:" + Math.min(100, r.sh * 100).toFixed(1) + "%\"></div><span>" + fmtPct(r.sh) +
        "</span></td><td class=\"num\">" + fmtX(r.af) + "</td><td class=\"num\">" + fmtX(r.a2) + "</td><td class=\"num" + (r.x ? " panic" : "") + "\">" + fmtCount(r.x) + "</td></tr>");
    }
    document.querySelector("#hotspots-table tbody").innerHTML = out.join("");
    Array.prototype.forEach.call(document.querySelectorAll("#hotspots-table th"), function (th) {
      th.classList.remove("asc", "desc");
      if (th.getAttribute("data-k") === HS.key) th.classList.add(HS.desc ? "desc" : "asc");
    });
    $("hs-count").textContent = "showing " + fmtCount(rows.length) + " of " + fmtCount(total) + " matching (" + fmtCount(ROWS.length) + " functions)";
  }

  /* ---------- latency ---------- */
  function niceMax(v) {
    if (!(v > 0)) return 1;
    var p = Math.pow(10, Math.floor(Math.log10(v))), m = v / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
  }
  function latencyShow(fi) {
    var f = FNS[fi], plot = $("lat-plot"), table = $("lat-table");
    if (!f) { $("lat-name").textContent = ""; plot.innerHTML = "<p class=\"nodata\">No data, because no function was measured.</p>"; table.innerHTML = ""; return; }
    $("lat-name").textContent = f.n;
    var rows = [["calls", fmtCount(f.c)], ["mean", fmtNs(f.mu)], ["std dev", fmtNs(f.sd)], ["p50", fmtNs(f.p50)], ["p90", fmtNs(f.p90)],
      ["p99", fmtNs(f.p99)], ["max", fmtNs(f.mx)]];
    table.innerHTML = "<tbody>" + rows.map(function (r) { return "<tr><th>" + r[0] + "</th><td class=\"num\">" + r[1] + "</td></tr>"; }).join("") + "</tbody>";
    var q = f.q || [], Q = D.quantiles || [];
    if (q.length < 2 || q.length !== Q.length) { plot.innerHTML = "<p class=\"nodata\">No data, because this function has no recorded latency histogram.</p>"; return; }
    // x: percentile on a log scale of 1/(1-q), so the tail gets room; q = 1 sits at the end.
    var xmax = 4; // 99.99%
    function xq(p) { return p >= 1 ? xmax + 0.35 : Math.min(xmax, -Math.log10(1 - p)); }
    var W = 760, H = 260, L = 64, R = 16, T = 14, B = 34, ymax = niceMax(q[q.length - 1]);
    function X(p) { return L + (W - L - R) * xq(p) / (xmax + 0.35); }
    function Y(v) { return T + (H - T - B) * (1 - v / ymax); }
    var s = "<svg viewBox=\"0 0 " + W + " " + H + "\" role=\"img\" aria-label=\"latency percentiles\">";
    for (var g = 0; g <= 4; g++) {
      var yv = ymax * g / 4;
      s += "<line class=\"gridl\" x1=\"" + L + "\" x2=\"" + (W - R) + "\" y1=\"" + Y(yv) + "\" y2=\"" + Y(yv) + "\"/><text x=\"" + (L - 6) + "\" y=\"" + (Y(yv) + 4) + "\" text-anchor=\"end\">" + fmtNs(yv) + "</text>";
    }
    [[0, "0%"], [0.9, "90%"], [0.99, "99%"], [0.999, "99.9%"], [0.9999, "99.99%"], [1, "max"]].forEach(function (t) {
      s += "<line class=\"gridl\" x1=\"" + X(t[0]) + "\" x2=\"" + X(t[0]) + "\" y1=\"" + T + "\" y2=\"" + (H - B) + "\"/><text x=\"" + X(t[0]) + "\" y=\"" + (H - B + 16) + "\" text-anchor=\"middle\">" + t[1] + "</text>";
    });
    var pts = Q.map(function (p, i) { return X(p).toFixed(1) + "," + Y(q[i]).toFixed(1); });
    s += "<path class=\"area\" d=\"M" + X(0) + "," + Y(0) + " L" + pts.join(" L") + " L" + X(1) + "," + Y(0) + " Z\"/>";
    s += "<path class=\"line\" d=\"M" + pts.join(" L") + "\"/>";
    [[0.5, f.p50, "p50"], [0.9, f.p90, "p90"], [0.99, f.p99, "p99"]].forEach(function (m) {
      s += "<circle class=\"mark\" r=\"3.5\" cx=\"" + X(m[0]) + "\" cy=\"" + Y(m[1]) + "\"/><text class=\"marktxt\" x=\"" + (X(m[0]) + 6) + "\" y=\"" + (Y(m[1]) - 6) + "\">" + m[2] + " " + fmtNs(m[1]) + "</text>";
    });
    s += "<text x=\"" + ((L + W - R) / 2) + "\" y=\"" + (H - 2) + "\" text-anchor=\"middle\">percentile of calls</text></svg>";
    plot.innerHTML = s;
  }

  /* ---------- call tree model ---------- */
  var T = D.tree || {}, TP = T.p || [], TF = T.f || [], TC = T.c || [], TT = T.t || [], TS = T.s || [], TX = T.x || [];
  var NN = TP.length, KIDS = new Array(NN), ROOTS = [];
  for (var i = 0; i < NN; i++) {
    var p = TP[i];
    if (p >= 0 && p < i) { (KIDS[p] || (KIDS[p] = [])).push(i); } else { ROOTS.push(i); }
  }
  function cum(i) {
    if (TF[i] >= 0 || !KIDS[i]) return TT[i] || 0;
    if (TT[i]) return TT[i];
    var s = 0; KIDS[i].forEach(function (k) { s += TT[k] || 0; }); return s;
  }
  var sortedCache = {};
  function kids(i) {
    var k = sortedCache[i];
    if (!k) { k = (KIDS[i] || []).slice().sort(function (a, b) { return cum(b) - cum(a); }); sortedCache[i] = k; }
    return k;
  }
  function label(i) { return TF[i] >= 0 ? fnName(TF[i]) : "all root calls"; }
  var TOTAL = 0; ROOTS.forEach(function (r) { TOTAL += cum(r); });
  function hotPath() {
    var path = [], cur = ROOTS.slice().sort(function (a, b) { return cum(b) - cum(a); })[0];
    var guard = 0;
    while (cur != null && guard++ < 10000) { path.push(cur); var k = kids(cur); cur = k.length ? k[0] : null; }
    return path;
  }

  /* ---------- call tree view ---------- */
  var CT_PAGE = 200, HOT = {};
  function ctRow(i, depth) {
    var leaf = !KIDS[i], share = TOTAL > 0 ? cum(i) / TOTAL : 0, f = FNS[TF[i]];
    return "<div class=\"tnode\" data-n=\"" + i + "\" data-d=\"" + depth + "\"><div class=\"trow" + (HOT[i] ? " hotpath" : "") + "\" role=\"treeitem\">" +
      "<div class=\"tname\" style=\"padding-left:" + Math.min(depth, 60) * 14 + "px\"><button type=\"button\" class=\"tg" + (leaf ? " leaf" : "") +
      "\" aria-label=\"expand\">▶</button><span class=\"nm\" title=\"" + esc(f ? f.m : "") + "\">" + esc(label(i)) + "</span>" +
      ((TX[i] || 0) > 0 ? " <span class=\"panic\">&nbsp;" + fmtCount(TX[i]) + " panic(s)</span>" : "") + "</div>" +
      "<span class=\"num\">" + fmtCount(TC[i]) + "</span><span class=\"num\">" + fmtNs(TS[i]) + "</span><span class=\"num\">" + fmtNs(cum(i)) +
      "</span><div class=\"pctcell\"><div class=\"meter\"><div style=\"width:" + Math.min(100, share * 100).toFixed(1) + "%\"></div></div><span>" + fmtPct(share) + "</span></div></div></div>";
  }
  function ctChildren(list, depth, from) {
    var html = "", end = Math.min(list.length, from + CT_PAGE);
    for (var j = from; j < end; j++) html += ctRow(list[j], depth);
    if (end < list.length) html += "<div class=\"more-row\" data-from=\"" + end + "\">show " + fmtCount(Math.min(CT_PAGE, list.length - end)) + " more of " + fmtCount(list.length - end) + " remaining</div>";
    return html;
  }
  function ctToggle(node, open) {
    var i = +node.getAttribute("data-n"), d = +node.getAttribute("data-d"), btn = node.querySelector(".tg");
    if (!KIDS[i]) return;
    var box = node.querySelector(":scope > .tkids");
    if (open === undefined) open = !box;
    if (open && !box) {
      box = document.createElement("div"); box.className = "tkids";
      box.innerHTML = ctChildren(kids(i), d + 1, 0);
      node.appendChild(box);
    } else if (!open && box) { node.removeChild(box); }
    btn.textContent = open ? "▼" : "▶";
    btn.setAttribute("aria-label", open ? "collapse" : "expand");
    return box;
  }
  function ctInit() {
    var ct = $("ct");
    if (!NN) { ct.innerHTML = "<p class=\"nodata\">No data, because no instrumented call completed.</p>"; return; }
    var top = ROOTS.length === 1 && TF[ROOTS[0]] < 0 ? kids(ROOTS[0]) : ROOTS.slice().sort(function (a, b) { return cum(b) - cum(a); });
    var depth0 = 0;
    function reset() { ct.innerHTML = ctChildren(top, depth0, 0); }
    function expandHot() {
      reset();
      var path = hotPath();
      HOT = {}; path.forEach(function (n) { HOT[n] = true; });
      reset();
      for (var j = 0; j < path.length; j++) {
        var el = ct.querySelector(".tnode[data-n=\"" + path[j] + "\"]");
        if (el) ctToggle(el, true);
      }
    }
    ct.addEventListener("click", function (e) {
      var more = e.target.closest(".more-row");
      if (more) {
        var parent = more.parentNode.closest(".tnode"), list = parent ? kids(+parent.getAttribute("data-n")) : top;
        var d = parent ? +parent.getAttribute("data-d") + 1 : depth0, tmp = document.createElement("div");
        tmp.innerHTML = ctChildren(list, d, +more.getAttribute("data-from"));
        while (tmp.firstChild) more.parentNode.insertBefore(tmp.firstChild, more);
        more.parentNode.removeChild(more);
        return;
      }
      var row = e.target.closest(".trow");
      if (row) ctToggle(row.parentNode);
    });
    $("ct-hot").addEventListener("click", expandHot);
    $("ct-collapse").addEventListener("click", function () { HOT = {}; reset(); });
    expandHot();
  }

  /* ---------- flame graph ---------- */
  var FG = { zoom: -1 };
  function fgRender() {
    var box = $("fg");
    if (!NN || TOTAL <= 0) { box.innerHTML = "<p class=\"nodata\" style=\"padding:8px\">No data, because no instrumented call took measurable time.</p>"; return; }
    var W = Math.max(box.clientWidth || 1200, 300), RH = 18, minW = 0.5;
    var z = FG.zoom, anc = [], base, baseW;
    if (z >= 0) { for (var a = TP[z]; a >= 0 && a < NN; a = TP[a]) { if (TF[a] >= 0) anc.unshift(a); } }
    var parts = [], maxDepth = 0;
    function frame(i, x, w, d, cls) {
      var f = FNS[TF[i]], name = label(i), h = hue(f ? f.n : name);
      var col = cls ? "hsl(220,10%," + (60 + (h % 15)) + "%)" : "hsl(" + (8 + (h % 42)) + "," + (70 + (h >> 8) % 25) + "%," + (56 + (h >> 4) % 14) + "%)";
      var s = "<g data-n=\"" + i + "\"" + (cls ? " class=\"" + cls + "\"" : "") + "><rect x=\"" + x.toFixed(2) + "\" y=\"" + d * RH + "\" width=\"" + Math.max(w - 0.5, 0.5).toFixed(2) + "\" height=\"" + (RH - 1) + "\" fill=\"" + col + "\"/>";
      if (w > 36) { var n = Math.floor((w - 8) / 6.6); s += "<text x=\"" + (x + 4).toFixed(1) + "\" y=\"" + (d * RH + 13) + "\">" + esc(name.length > n ? name.slice(0, Math.max(n - 1, 1)) + "…" : name) + "</text>"; }
      parts.push(s + "</g>");
      if (d > maxDepth) maxDepth = d;
    }
    anc.forEach(function (a, j) { frame(a, 0, W, j, "anc"); });
    var d0 = anc.length, roots, total;
    if (z >= 0) { roots = [z]; total = cum(z) || 1; } else {
      roots = ROOTS.length === 1 && TF[ROOTS[0]] < 0 ? kids(ROOTS[0]) : ROOTS.slice(); total = TOTAL;
    }
    var stack = [], x0 = 0;
    roots.forEach(function (r) { var w = W * cum(r) / total; if (w >= minW) stack.push([r, x0, w, d0]); x0 += w; });
    var count = 0;
    while (stack.length && count < 20000) {
      var it = stack.pop(), i = it[0], x = it[1], w = it[2], d = it[3];
      frame(i, x, w, d, ""); count++;
      var ks = kids(i), cx = x, c = cum(i) || 1;
      for (var j = 0; j < ks.length; j++) {
        var cw = w * cum(ks[j]) / c;
        if (cw < minW) break; // sorted by size: the rest are thinner still
        stack.push([ks[j], cx, cw, d + 1]); cx += cw;
      }
    }
    var H = (maxDepth + 1) * RH;
    box.innerHTML = "<svg width=\"" + W + "\" height=\"" + H + "\" viewBox=\"0 0 " + W + " " + H + "\">" + parts.join("") + "</svg>";
    $("fg-crumb").textContent = z >= 0 ? "zoomed to " + label(z) + " (" + fmtPct(cum(z) / TOTAL) + " of instrumented time)" : "whole run";
    box.setAttribute("data-zoom", String(z));
  }
  function fgInit() {
    var box = $("fg");
    box.addEventListener("click", function (e) {
      var g = e.target.closest("g[data-n]"); if (!g) return;
      var i = +g.getAttribute("data-n");
      FG.zoom = FG.zoom === i ? -1 : i; hideTip(); fgRender();
    });
    box.addEventListener("mousemove", function (e) {
      var g = e.target.closest("g[data-n]"); if (!g) { hideTip(); return; }
      var i = +g.getAttribute("data-n"), f = FNS[TF[i]], pc = TP[i] >= 0 ? cum(TP[i]) : 0;
      showTip(e, "<b>" + esc(label(i)) + "</b>" + (f ? "<span class=\"mod\">" + esc(f.m) + "</span>" : "") +
        "calls " + fmtCount(TC[i]) + "<br>cumulative " + fmtNs(cum(i)) + " (" + fmtPct(TOTAL ? cum(i) / TOTAL : 0) + " of total" +
        (pc ? ", " + fmtPct(cum(i) / pc) + " of caller" : "") + ")<br>self " + fmtNs(TS[i]));
    });
    box.addEventListener("mouseleave", hideTip);
    $("fg-reset").addEventListener("click", function () { FG.zoom = -1; fgRender(); });
    var last = box.clientWidth;
    window.addEventListener("resize", function () { if (box.clientWidth !== last) { last = box.clientWidth; fgRender(); } });
    fgRender();
  }

  /* ---------- resources ---------- */
  function lineChart(el, xs, ys, fmt) {
    if (!el) return;
    var W = 560, H = 200, L = 64, R = 12, T = 10, B = 28, n = xs.length;
    var xmax = n ? xs[n - 1] : 1, xmin = n ? xs[0] : 0, ymaxv = 0;
    ys.forEach(function (v) { if (v != null && v > ymaxv) ymaxv = v; });
    var ymax = niceMax(ymaxv);
    function X(v) { return L + (W - L - R) * (xmax > xmin ? (v - xmin) / (xmax - xmin) : 0.5); }
    function Y(v) { return T + (H - T - B) * (1 - v / ymax); }
    var s = "<svg viewBox=\"0 0 " + W + " " + H + "\">";
    for (var g = 0; g <= 4; g++) {
      var yv = ymax * g / 4;
      s += "<line class=\"gridl\" x1=\"" + L + "\" x2=\"" + (W - R) + "\" y1=\"" + Y(yv) + "\" y2=\"" + Y(yv) + "\"/><text x=\"" + (L - 6) + "\" y=\"" + (Y(yv) + 4) + "\" text-anchor=\"end\">" + fmt(yv) + "</text>";
    }
    for (var t = 0; t <= 4; t++) {
      var xv = xmin + (xmax - xmin) * t / 4;
      s += "<text x=\"" + X(xv) + "\" y=\"" + (H - 8) + "\" text-anchor=\"middle\">" + (xv === 0 ? "0 s" : fmtNs(xv * 1e6)) + "</text>";
    }
    var pts = [];
    for (var k = 0; k < n; k++) if (ys[k] != null) pts.push(X(xs[k]).toFixed(1) + "," + Y(ys[k]).toFixed(1));
    if (pts.length) {
      s += "<path class=\"area\" d=\"M" + pts[0].split(",")[0] + "," + Y(0) + " L" + pts.join(" L") + " L" + pts[pts.length - 1].split(",")[0] + "," + Y(0) + " Z\"/>";
      s += "<path class=\"line\" d=\"M" + pts.join(" L") + "\"/>";
    }
    el.innerHTML = s + "</svg>";
  }
  function resourcesInit() {
    var r = D.res; if (!r) return;
    lineChart($("res-cpu"), r.t, r.cpu, function (v) { return v.toFixed(0) + "%"; });
    lineChart($("res-rss"), r.t, r.rss, fmtBytes);
    if ((r.gpu || []).some(function (v) { return v != null; })) {
      $("res-gpu-box").hidden = false;
      lineChart($("res-gpu"), r.t, r.gpu, function (v) { return v.toFixed(0) + "%"; });
    }
  }

  /* ---------- extrapolation (same formula as the Rust side) ---------- */
  function project(name, n, t, sd, k, stage, g) {
    if (g && k > 0) {
      /* Fitted within the run: each call's size grows by k, the calls stay. */
      var e = t * Math.pow(k, g.e), lk = Math.log(k), hw = Math.sqrt(g.h0 + lk * lk * g.h1);
      return { name: name + " · " + g.m, n: n, N: n, t: t, est: e, lo: e * Math.exp(-hw), hi: e * Math.exp(hw), stage: stage };
    }
    var N = n * k, est = t * k, v = (n > 0 && isFinite(sd)) ? sd * sd * n * (k + k * k) : 0;
    var half = v > 0 ? E.z * Math.sqrt(v) : 0;
    return { name: name, n: n, N: N, t: t, est: est, lo: Math.max(0, est - half), hi: est + half, stage: stage };
  }
  var E = D.ext || { sample: 1, expected: 1, z: 1.96, confidence: 0.95, root_calls: 0, root_s2n: 0 };
  function extRender() {
    var sample = +$("ex-sample").value, expected = +$("ex-expected").value;
    var k = sample > 0 && expected >= 0 ? expected / sample : 0;
    $("ex-factor").textContent = sample > 0 ? "factor k = " + (k >= 100 ? k.toFixed(0) : k.toPrecision(3)) + "×, " + Math.round(E.confidence * 100) + "% confidence" : "enter a sample size above zero";
    var tot = { est: D.instrumented_ns * k, lo: 0, hi: 0 }, h = E.root_s2n > 0 ? E.z * Math.sqrt(E.root_s2n * (k + k * k)) : 0, h2 = h * h;
    /* Root call paths whose function has a fit within the run follow it rather than k. */
    (E.root_fits || []).forEach(function (r) {
      var p = project("", 1, r.t, 0, k, false, r.g);
      tot.est += p.est - r.t * k; h2 += Math.pow((p.hi - p.lo) / 2, 2);
    });
    h = Math.sqrt(h2); tot.est = Math.max(0, tot.est);
    tot.lo = Math.max(0, tot.est - h); tot.hi = tot.est + h;
    $("ex-total").innerHTML = "<div class=\"card\"><div class=\"label\">Projected instrumented time</div><div class=\"value\">" + fmtNs(tot.est) +
      "</div><div class=\"note\">" + fmtNs(tot.lo) + " – " + fmtNs(tot.hi) + "</div></div><div class=\"card\"><div class=\"label\">Projected wall time</div><div class=\"value\">" +
      fmtNs(D.instrumented_ns > 0 ? WALL * tot.est / D.instrumented_ns : WALL * k) + "</div><div class=\"note\">wall grown as the instrumented time, if the run scales like its instrumented part</div></div><div class=\"card\"><div class=\"label\">Measured</div><div class=\"value\">" +
      fmtNs(D.instrumented_ns) + "</div><div class=\"note\">instrumented, " + fmtCount(E.root_calls) + " root calls</div></div>";
    var rows = (D.stages || []).map(function (s) { return project(s.n, s.c, s.t, s.sd, k, true, s.g); });
    var fr = FNS.map(function (f) { return project(f.n, f.c, f.t, f.sd, k, false, f.g); });
    fr.sort(function (a, b) { return b.est - a.est; });
    var top = +$("ex-top").value || 0;
    rows = rows.concat(top > 0 ? fr.slice(0, top) : fr);
    var maxHi = 0; rows.forEach(function (r) { if (r.hi > maxHi) maxHi = r.hi; });
    $("ex-table").querySelector("tbody").innerHTML = rows.map(function (r) {
      var l = maxHi ? r.lo / maxHi * 100 : 0, hgt = maxHi ? r.hi / maxHi * 100 : 0, m = maxHi ? r.est / maxHi * 100 : 0;
      return "<tr" + (r.stage ? " class=\"stage-row\"" : "") + "><td>" + esc(r.name) + "</td><td class=\"num\">" + fmtCount(r.n) + "</td><td class=\"num\">" + fmtCount(r.N) +
        "</td><td class=\"num\">" + fmtNs(r.t) + "</td><td class=\"num\"><b>" + fmtNs(r.est) + "</b></td><td class=\"num\">" + fmtNs(r.lo) + " – " + fmtNs(r.hi) +
        "</td><td><div class=\"range\"><div style=\"left:" + l.toFixed(1) + "%;width:" + Math.max(hgt - l, 0.5).toFixed(1) + "%\"></div><i style=\"left:" + m.toFixed(1) + "%\"></i></div></td></tr>";
    }).join("");
  }
  function extInit() {
    $("ex-sample").value = E.sample; $("ex-expected").value = E.expected;
    var linear = " Functions and stages whose calls recorded their sizes and allow a fit follow it (named after the row: each call's size grows by k, the calls stay); every other one is assumed to grow linearly with the records; `pipelinescope scale` measures how each one grows over runs.";
    $("ex-note").textContent = (!E.configured ?
      "No sample_size / expected_size was configured for this run: the sizes below are placeholders (the first stage's input, and ten times that); edit them to recompute." :
      E.source === "observed" ? "Sample size: the records the first stage took in (sample_size was not set); expected size from the configuration; edit them to recompute." :
      E.source === "default" ? "sample_size was not set and no stage ran: the sample size is the default 100, not this run's; edit the sizes to recompute." :
      "Sizes from the run's configuration; edit them to recompute.") + linear;
    $("ex-sample").addEventListener("input", extRender);
    $("ex-expected").addEventListener("input", extRender);
    $("ex-top").addEventListener("change", extRender);
    extRender();
  }

  guarded("hotspots", function () { hotspotsInit(); hotspotsRender(); });
  guarded("latency", function () {
    var best = -1; ROWS.forEach(function (r) { if (best < 0 || r.t > ROWS[best].t) best = r.i; });
    HS.sel = best; latencyShow(best); hotspotsRender();
  });
  guarded("call tree", ctInit);
  guarded("flame graph", fgInit);
  guarded("resources", resourcesInit);
  guarded("extrapolation", extInit);
  window.__ready = performance.now();
})();
