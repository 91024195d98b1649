// Switchboard debrief and history pages. Plain JavaScript, no build step, no third-party
// code; everything from the server is rendered with textContent. The calls a browser took
// are kept in localStorage (HISTORY_KEY) with their tokens, which the records API needs.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const HISTORY_KEY = "switchboard.history";
  const SVG = "http://www.w3.org/2000/svg";

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function svg(tag, attrs, text) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function clock(ms) {
    const s = Math.floor(ms / 1000);
    return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0") + "." + String(ms % 1000).padStart(3, "0");
  }
  function history() {
    try { return JSON.parse(localStorage.getItem(HISTORY_KEY)) || []; } catch (_) { return []; }
  }
  async function fetchRecord(id, token) {
    // Without a token, the studio's API serves designers and supervisors (signed in by cookie).
    const url = token ? "/api/calls/" + encodeURIComponent(id) + "/debrief?token=" + encodeURIComponent(token)
      : "/api/studio/calls/" + encodeURIComponent(id) + "/debrief";
    const r = await fetch(url);
    const body = await r.json().catch(() => null);
    if (!r.ok) throw new Error((body && body.error && body.error.message) || "the server answered " + r.status);
    return body;
  }

  // --- Debrief ---------------------------------------------------------------------

  async function debrief() {
    const p = new URLSearchParams(location.hash.slice(1));
    const id = p.get("id"), token = p.get("token");
    if (!id) { fail("This link is missing the call id."); return; }
    let rec;
    try { rec = await fetchRecord(id, token); } catch (e) { fail("Could not load the debrief: " + e.message); return; }
    $("loading").hidden = true;
    document.title = "Switchboard — debrief: " + rec.title;
    $("d-title").textContent = "Debrief: " + rec.title;
    $("d-lesson").textContent = rec.lesson ? "Lesson: " + rec.lesson : "";
    const end = rec.end;
    if (end) {
      $("d-outcome").textContent = "Outcome: " + end.outcome + " (" + end.ending + ")";
      $("d-verdict").textContent = (end.passed ? "Passed" : "Not passed") + " — overall " + Math.round(end.overall * 100) + "%";
      $("d-verdict").className = "verdict " + (end.passed ? "passed" : "failed");
      $("d-end-text").textContent = end.text || "";
    } else {
      $("d-outcome").textContent = "This call is still open.";
    }
    const meta = $("d-meta");
    for (const [k, v] of [["Trainee", rec.trainee || "—"], ["Customer", rec.customer], ["Started", new Date(rec.started).toLocaleString()], ["Length", clock(rec.elapsed_ms)]]) {
      meta.append(el("dt", "", k), el("dd", "", v));
    }
    chart(end ? end.scores : []);
    timeline(rec);
    const fired = $("fired");
    for (const f of rec.fired) {
      const li = el("li");
      li.append(el("span", "at", clock(f.at)), el("strong", "", f.rule || "transition"), document.createTextNode(" " + (f.text || "")));
      fired.append(li);
    }
    if (!rec.fired.length) fired.append(el("li", "", "No rule fired."));
    const quiet = $("quiet");
    for (const q of rec.quiet) {
      const li = el("li");
      li.append(el("strong", "", q.id), document.createTextNode(q.feedback ? " — " + q.feedback : ""));
      quiet.append(li);
    }
    if (!rec.quiet.length) quiet.append(el("li", "", "Every rule fired."));
    const tr = $("d-transcript");
    for (const it of rec.transcript) {
      const li = el("li", it.who === "customer" ? "customer" : it.who === "trainee" ? "trainee" : "event");
      li.append(el("span", "at", clock(it.at)));
      if (it.who === "customer") li.append(el("span", "who", rec.customer + ":"));
      if (it.who === "trainee") li.append(el("span", "who", "You:"));
      li.append(el("span", "text", it.text));
      if (it.cut) {
        li.classList.add("cut");
        li.append(el("span", "cutmark", "(cut off after " + it.spoken + " of " + it.words + " words)"));
        li.append(el("span", "full", "Full line: " + it.full));
      }
      for (const f of it.flags || []) li.append(el("span", "flag", f === "interrupted" ? "(spoke over the customer)" : "(" + f + ")"));
      if (it.choice !== undefined && it.choice !== null) li.append(el("span", "flag", "(suggested reply " + (it.choice + 1) + ")"));
      tr.append(li);
    }
    $("print").addEventListener("click", () => window.print());
    $("debrief").hidden = false;
  }

  function fail(msg) {
    $("loading").hidden = true;
    $("load-error").textContent = msg;
  }

  // chart draws the per-axis scores as horizontal bars.
  function chart(scores) {
    const fig = $("chart");
    if (!scores.length) { fig.append(el("p", "", "No scores.")); return; }
    const rowH = 28, labelW = 140, barW = 320, w = labelW + barW + 60, h = scores.length * rowH + 24;
    const s = svg("svg", { viewBox: "0 0 " + w + " " + h, width: "100%", role: "img", class: "chart" });
    s.append(svg("title", {}, "Scores by axis, from 0 to 100 percent"));
    scores.forEach((sc, i) => {
      const y = i * rowH + 4, pct = Math.round(Math.max(0, Math.min(1, sc.normalized)) * 100);
      s.append(svg("text", { x: labelW - 8, y: y + 16, "text-anchor": "end", class: "label" }, sc.axis));
      s.append(svg("rect", { x: labelW, y: y + 2, width: barW, height: 18, class: "track" }));
      s.append(svg("rect", { x: labelW, y: y + 2, width: Math.max(1, barW * pct / 100), height: 18, class: "bar" }, ""));
      s.append(svg("text", { x: labelW + barW + 8, y: y + 16, class: "value" }, pct + "%"));
    });
    const axisY = scores.length * rowH + 8;
    for (const p of [0, 50, 100]) s.append(svg("text", { x: labelW + barW * p / 100, y: axisY + 12, "text-anchor": "middle", class: "tick" }, p + "%"));
    fig.append(s);
    const cap = el("figcaption", "sr-only", scores.map((sc) => sc.axis + " " + Math.round(sc.normalized * 100) + "%").join(", "));
    fig.append(cap);
  }

  // timeline marks the rules that fired (dots) and the trainee's messages (ticks).
  function timeline(rec) {
    const fig = $("timeline");
    const total = Math.max(rec.elapsed_ms, 1), w = 640, left = 10, right = 10, h = 70, y = 30;
    const x = (at) => left + (w - left - right) * at / total;
    const s = svg("svg", { viewBox: "0 0 " + w + " " + h, width: "100%", role: "img", class: "timeline" });
    s.append(svg("title", {}, "Timeline of the call, " + clock(rec.elapsed_ms) + " long"));
    s.append(svg("line", { x1: left, y1: y, x2: w - right, y2: y, class: "axis" }));
    for (const it of rec.transcript) {
      if (it.who === "trainee") s.append(svg("line", { x1: x(it.at), y1: y - 8, x2: x(it.at), y2: y + 8, class: "msg" }));
    }
    rec.fired.forEach((f, i) => {
      const g = svg("g", { class: "fired" });
      g.append(svg("circle", { cx: x(f.at), cy: y, r: 6 }));
      g.append(svg("title", {}, clock(f.at) + " " + (f.rule || "transition") + (f.text ? ": " + f.text : "")));
      const fx = x(f.at), anchor = fx > w * 0.85 ? "end" : fx < w * 0.15 ? "start" : "middle";
      g.append(svg("text", { x: fx, y: i % 2 ? y + 24 : y - 12, "text-anchor": anchor }, f.rule || "•"));
      s.append(g);
    });
    s.append(svg("text", { x: left, y: h - 2, class: "tick" }, "0:00"));
    s.append(svg("text", { x: w - right, y: h - 2, "text-anchor": "end", class: "tick" }, clock(rec.elapsed_ms)));
    fig.append(s);
    fig.append(el("figcaption", "sr-only", rec.fired.map((f) => clock(f.at) + " " + (f.rule || "transition")).join("; ") || "No rule fired."));
  }

  // --- History ---------------------------------------------------------------------

  async function historyPage() {
    const calls = history();
    if (!calls.length) { $("empty").hidden = false; return; }
    const tbody = document.querySelector("#history tbody");
    $("history").hidden = false;
    for (const c of calls) {
      const tr = el("tr");
      const when = el("td", "", new Date(c.started).toLocaleString());
      const title = el("td", "", c.title || c.scenario || "");
      const outcome = el("td", "", "…"), score = el("td", "", "");
      const link = el("a", "", "Debrief");
      link.href = "/debrief.html#id=" + encodeURIComponent(c.id) + "&token=" + encodeURIComponent(c.token);
      const lt = el("td");
      lt.append(link);
      tr.append(when, title, outcome, score, lt);
      tbody.append(tr);
      fetchRecord(c.id, c.token).then((rec) => {
        if (!rec.end) { outcome.textContent = "not finished"; return; }
        outcome.textContent = rec.end.outcome + (rec.end.passed ? ", passed" : ", not passed");
        score.textContent = Math.round(rec.end.overall * 100) + "%";
      }).catch((e) => { outcome.textContent = "unavailable (" + e.message + ")"; });
    }
  }

  if ($("debrief")) debrief();
  else if ($("history")) historyPage();
})();
