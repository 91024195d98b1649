// Switchboard debrief and history pages. Plain JavaScript, no build step, no third-party
// code; everything from the server is rendered with textContent. The calls a browser took
// are kept in localStorage (see common.js) with their tokens, which the records API needs.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const SB = window.SB;
  const el = SB.el, svg = SB.svg, clock = SB.clock;

  async function fetchRecord(id, token, own) {
    // Without a token, the studio's API serves designers and supervisors (signed in by cookie);
    // own (#mine=1, from /account/track.html) is a signed-in trainee's own call, on any device.
    const url = token ? "/api/calls/" + encodeURIComponent(id) + "/debrief?token=" + encodeURIComponent(token)
      : own ? "/api/me/calls/" + encodeURIComponent(id) + "/debrief"
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
    try { rec = await fetchRecord(id, token, p.get("mine") === "1"); } catch (e) { fail("Could not load the debrief: " + e.message); return; }
    $("loading").hidden = true;
    document.title = "Switchboard — debrief: " + rec.title;
    $("d-title").textContent = "Debrief: " + rec.title;
    $("d-lesson").textContent = rec.lesson ? "Lesson: " + rec.lesson : "";
    const end = rec.end;
    const scores = (end && end.scores) || [];
    const noneAssessed = scores.length > 0 && scores.every((s) => !SB.assessed(s));
    const hintsUsed = end && end.hints !== undefined ? end.hints : rec.transcript.filter((it) => it.who === "call" && /hint/i.test(it.text)).length;
    if (end) {
      SB.scoreRing($("d-ring"), end.overall, end.passed, noneAssessed);
      $("d-outcome").textContent = SB.endingTitle(end);
      $("d-verdict").textContent = (end.passed ? "✓ Passed" : "✗ Not passed") + (noneAssessed ? " — not assessed" : " — overall " + Math.round(end.overall * 100) + "%");
      $("d-verdict").className = "verdict " + (end.passed ? "passed" : "failed");
      $("d-end-text").textContent = (end.note ? end.note + " " : "") + (end.text || "");
      $("d-last-line").hidden = !end.last_line;
      $("d-last-line").textContent = end.last_line ? rec.customer + "’s last words: “" + end.last_line + "”" : "";
    } else {
      $("d-ring").hidden = true;
      $("d-outcome").textContent = "This call is still open.";
    }
    const meta = $("d-meta");
    for (const [k, v] of [["Trainee", rec.trainee || "—"], ["Customer", rec.customer], ["Started", SB.when(rec.started)],
      ["Length", clock(rec.elapsed_ms)], ["Hints used", String(hintsUsed)]]) {
      meta.append(el("dt", "", k), el("dd", "", v));
    }
    // Try this call again: the same scenario with the settings this browser used.
    const mine = SB.history().find((c) => c.id === rec.id) || {};
    $("d-retry").href = SB.againURL({ scenario: rec.scenario_id, suggestions: mine.suggestions, coach: mine.coach });

    const tk = $("d-takeaways");
    for (const f of SB.takeaways(rec.fired)) tk.append(el("li", "", f.text + SB.times(f.count)));
    if (!tk.children.length) tk.append(el("li", "", "The coach had no remarks on this call."));
    $("d-takeaways-h").textContent = tk.children.length === 3 ? "Three takeaways" : "Takeaways";

    chart(scores);
    timeline(rec);
    const fired = $("fired");
    for (const f of SB.merge(rec.fired)) {
      const li = el("li");
      li.append(el("span", "at", clock(f.at)), document.createTextNode(f.text + SB.times(f.count)));
      if (f.rule) li.append(el("span", "hint", " (" + f.rule + ")"));
      fired.append(li);
    }
    if (!fired.children.length) fired.append(el("li", "", "No rule fired."));
    // The good moves never made first, each with what it is for; the habits avoided (often
    // the same packs' rules on every call) in one item, their details folded, so they do
    // not drown the lesson.
    const quiet = $("quiet");
    const quietItem = (q) => {
      const li = el("li");
      li.append(el("strong", "", q.id), document.createTextNode(q.feedback ? " — " + q.feedback : ""));
      if (q.kind === "avoided") li.append(el("span", "hint", " (a habit you avoided)"));
      if (q.kind === "missed") li.append(el("span", "hint", " (a good move you never made)"));
      return li;
    };
    for (const kind of ["missed", ""]) {
      for (const q of rec.quiet) if ((q.kind || "") === kind) quiet.append(quietItem(q));
    }
    const avoided = rec.quiet.filter((q) => q.kind === "avoided");
    if (avoided.length) {
      const li = el("li", "avoided");
      li.append(el("strong", "", "Habits you avoided"), document.createTextNode(": " + avoided.map((q) => q.id).join(", ")));
      const det = el("details");
      det.append(el("summary", "", "What each one watches for"));
      const ul = el("ul");
      for (const q of avoided) ul.append(quietItem(q));
      det.append(ul);
      li.append(det);
      quiet.append(li);
    }
    if (!rec.quiet.length) quiet.append(el("li", "", "Every rule fired."));
    const tr = $("d-transcript");
    for (const it of rec.transcript) {
      const li = el("li", it.who === "customer" ? "customer" : it.who === "trainee" ? "trainee" : it.who === "supervisor" ? "event coached" : "event");
      li.append(el("span", "at", clock(it.at)));
      if (it.who === "supervisor") { // a supervisor's whisper: "coached at 0:42: …" (as the Go debrief words it)
        const s = Math.floor((it.at || 0) / 1000);
        li.append(el("span", "text", "coached at " + Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0") + ": " + it.text));
        tr.append(li);
        continue;
      }
      if (it.who === "customer") li.append(el("span", "who", rec.customer + (it.emotion ? " (" + it.emotion + ")" : "")));
      if (it.who === "trainee") li.append(el("span", "who", "You"));
      li.append(el("span", "text", it.text));
      if (it.cut) {
        li.classList.add("cut");
        li.append(el("span", "cutmark", "cut off after " + (it.spoken || 0) + " of " + it.words + " words"));
        li.append(el("span", "full", "Full line: " + it.full));
      }
      for (const f of it.flags || []) li.append(el("span", "flag", FLAG_TEXT[f] || f));
      if (it.choice !== undefined && it.choice !== null) li.append(el("span", "flag", "suggested reply"));
      const lost = lostText(it.lost);
      if (lost) li.append(el("span", "lost", "Lost " + lost));
      const missed = lostText(it.missed);
      if (missed) li.append(el("span", "missed", "Not earned here: " + missed));
      if (it.model) li.append(el("span", "model", it.model));
      if (it.understood && it.understood.length) {
        li.append(el("span", "understood", "understood as " + it.understood.map((u) => u.intent + ": '" + u.words + "'").join("; ")));
      }
      tr.append(li);
    }
    if (rec.notes && rec.notes.length) { // supervisors' notes, written after the call (issue 16)
      const sec = el("section", "notes");
      sec.id = "d-notes";
      sec.append(el("h2", "", "Notes from your supervisor"));
      const ul = el("ul", "feedback");
      for (const n of rec.notes) {
        const li = el("li");
        li.append(el("span", "at", clock(n.at)), document.createTextNode(n.text));
        ul.append(li);
      }
      sec.append(ul);
      $("debrief").append(sec);
    }
    $("print").addEventListener("click", () => window.print());
    $("debrief").hidden = false;
  }

  // lostText reads the per-axis points lost at a turn ({"honesty": 1} or a list).
  function lostText(lost) {
    if (!lost) return "";
    const parts = [];
    const n = (v) => fmt(Math.abs(v));
    if (Array.isArray(lost)) for (const l of lost) parts.push(n(l.delta !== undefined ? l.delta : l.points) + " " + SB.humanize(l.axis).toLowerCase());
    else for (const [axis, v] of Object.entries(lost)) parts.push(n(v) + " " + SB.humanize(axis).toLowerCase());
    return parts.length ? parts.join(", ") + (parts.length === 1 && /^1 /.test(parts[0]) ? " point" : " points") : "";
  }

  function fail(msg) {
    $("loading").hidden = true;
    $("load-error").textContent = msg;
  }

  // chart lists the per-axis scores as bars, with points 0…max; text is real page text,
  // so it stays readable (and scales with the reader's font size) on a phone.
  function chart(scores) {
    const fig = $("chart");
    if (!scores.length) { fig.append(el("p", "", "No scores.")); return; }
    const list = el("ul", "chart");
    for (const sc of scores) {
      const li = el("li");
      const label = el("span", "label", SB.humanize(sc.axis));
      const track = el("span", "track");
      track.setAttribute("aria-hidden", "true");
      if (!SB.assessed(sc)) {
        li.classList.add("na");
        li.append(label, track, el("span", "value", "not assessed"));
      } else {
        const pts = SB.points(sc);
        const pct = sc.max > 0 ? Math.round(pts / sc.max * 100) : Math.round(sc.normalized * 100);
        const fill = el("span", "fill");
        fill.style.width = pct + "%";
        track.append(fill);
        li.append(label, track, el("span", "value", fmt(pts) + " / " + fmt(sc.max)));
      }
      list.append(li);
    }
    fig.append(list);
  }

  function fmt(n) {
    return Number.isInteger(n) ? String(n) : n.toFixed(1);
  }

  // timeline marks the rules that fired (dots) and the trainee's messages (ticks). The
  // drawing has no text; the times are page text under it and in the list below.
  function timeline(rec) {
    const fig = $("timeline");
    const total = Math.max(rec.elapsed_ms, 1), w = 640, left = 8, right = 8, h = 40, y = 20;
    const x = (at) => left + (w - left - right) * at / total;
    const s = svg("svg", { viewBox: "0 0 " + w + " " + h, preserveAspectRatio: "none", role: "img", class: "timeline" });
    s.append(svg("title", {}, "Timeline of the call, " + clock(rec.elapsed_ms) + " long"));
    s.append(svg("line", { x1: left, y1: y, x2: w - right, y2: y, class: "axis" }));
    for (const it of rec.transcript) {
      if (it.who === "trainee") s.append(svg("line", { x1: x(it.at), y1: y - 10, x2: x(it.at), y2: y + 10, class: "msg" }));
    }
    for (const f of rec.fired) {
      const g = svg("g", { class: "fired" });
      g.append(svg("circle", { cx: x(f.at), cy: y, r: 6 }));
      g.append(svg("title", {}, clock(f.at) + " " + (f.text || f.rule || "transition")));
      s.append(g);
    }
    fig.append(s);
    const scale = el("div", "timeline-scale");
    scale.setAttribute("aria-hidden", "true");
    scale.append(el("span", "", "0:00"), el("span", "", clock(rec.elapsed_ms)));
    fig.append(scale);
    fig.append(el("figcaption", "sr-only", rec.fired.map((f) => clock(f.at) + " " + (f.text || f.rule || "transition")).join("; ") || "No rule fired."));
  }

  // --- History ---------------------------------------------------------------------

  async function historyPage() {
    const calls = SB.history();
    if (!calls.length) { $("empty").hidden = false; return; }
    const list = $("history");
    list.hidden = false;
    for (const c of calls) {
      const li = el("li", "call-row");
      const title = el("span", "c-title", c.title || c.scenario || "");
      const whenEl = el("span", "c-when", SB.when(c.started));
      const outcome = el("span", "c-result", "…"), score = el("span", "c-score", "");
      const links = el("span", "c-links");
      const link = el("a", "", "Debrief");
      link.href = "/debrief.html#id=" + encodeURIComponent(c.id) + "&token=" + encodeURIComponent(c.token);
      link.setAttribute("aria-label", "Debrief: " + (c.title || c.scenario || "call") + ", " + SB.when(c.started));
      const again = el("a", "", "Try again");
      again.href = SB.againURL({ scenario: c.scenario, suggestions: c.suggestions, coach: c.coach });
      again.setAttribute("aria-label", "Try again: " + (c.title || c.scenario || "call"));
      links.append(link, again);
      li.append(title, score, whenEl, outcome, links);
      list.append(li);
      fetchRecord(c.id, c.token).then((rec) => {
        if (!rec.end) { outcome.textContent = "not finished"; return; }
        const na = (rec.end.scores || []).length > 0 && rec.end.scores.every((s) => !SB.assessed(s));
        outcome.textContent = (rec.end.passed ? "✓ passed" : "✗ not passed") + " — " + SB.endingTitle(rec.end);
        score.textContent = na ? "—" : Math.round(rec.end.overall * 100) + "%";
        SB.result(c.id, rec.end);
      }).catch((e) => { outcome.textContent = "unavailable (" + e.message + ")"; });
    }
  }

  if ($("debrief")) debrief();
  else if ($("history")) historyPage();
})();
