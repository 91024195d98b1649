// Switchboard account pages: sign in, accept an invite, my track, the team matrix.
// Plain JavaScript, no build step, no third-party code; everything from the server is
// rendered with textContent.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  async function api(method, url, body) {
    const opt = { method, headers: {} };
    if (body !== undefined) { opt.headers["Content-Type"] = "application/json"; opt.body = JSON.stringify(body); }
    const r = await fetch(url, opt);
    const b = await r.json().catch(() => null);
    if (!r.ok) {
      const err = new Error((b && b.error && b.error.message) || "the server answered " + r.status);
      err.status = r.status;
      throw err;
    }
    return b;
  }
  const pct = (x) => Math.round(x * 100) + "%";
  const mins = (ms) => Math.max(1, Math.round(ms / 60000)) + " min";
  const STATE = { passed: "✓ passed", done: "done (not passed)", failed: "✗ not passed yet", open: "open", locked: "🔒 locked" };

  async function me() {
    try { return await api("GET", "/api/account/me"); } catch (e) { if (e.status === 401) return null; throw e; }
  }

  // --- /account/ : sign in, or who I am --------------------------------------------
  async function index() {
    const acc = await me();
    $("signed-in").hidden = !acc;
    $("sign-in").hidden = !!acc;
    if (acc) {
      $("who").textContent = acc.name + " (" + acc.login + ", " + acc.role + (acc.team_name ? ", team " + acc.team_name : "") + ")";
      $("team-link").hidden = acc.role !== "supervisor";
      $("sign-out").addEventListener("click", async () => { await api("POST", "/api/account/sign-out"); location.reload(); });
      $("sign-out-all").addEventListener("click", async () => { await api("POST", "/api/account/revoke"); location.reload(); });
      return;
    }
    $("sign-in-form").addEventListener("submit", async (e) => {
      e.preventDefault();
      $("sign-in-error").textContent = "";
      try {
        const a = await api("POST", "/api/account/sign-in", { login: $("login").value, password: $("password").value });
        location.href = a.role === "supervisor" ? "/account/team.html" : "/account/track.html";
      } catch (err) { $("sign-in-error").textContent = err.message; }
    });
  }

  // --- /account/invite.html#TOKEN : sign up ------------------------------------------
  async function invite() {
    const token = location.hash.slice(1);
    let inv;
    try { inv = await api("GET", "/api/invites/" + encodeURIComponent(token)); } catch (e) {
      $("invite-about").textContent = "This invite cannot be used: " + e.message;
      $("invite-form").hidden = true;
      return;
    }
    $("invite-about").textContent = "You are invited as a " + inv.role + (inv.team_name ? " in the team " + inv.team_name : "") +
      ". The invite can be used until " + new Date(inv.expires).toLocaleString() + ".";
    $("invite-form").addEventListener("submit", async (e) => {
      e.preventDefault();
      $("invite-error").textContent = "";
      try {
        const a = await api("POST", "/api/invites/" + encodeURIComponent(token) + "/accept",
          { login: $("login").value, name: $("name").value, password: $("password").value });
        location.href = a.role === "supervisor" ? "/account/team.html" : "/account/track.html";
      } catch (err) { $("invite-error").textContent = err.message; }
    });
  }

  // --- /account/track.html : my tracks and calls ------------------------------------
  async function myTrack() {
    const acc = await me();
    if (!acc) { location.href = "/account/"; return; }
    $("who").textContent = acc.name;
    const tracks = await api("GET", "/api/me/tracks");
    const box = $("tracks");
    box.textContent = "";
    for (const t of tracks) {
      const sec = el("section", "track");
      sec.dataset.track = t.id;
      sec.append(el("h2", "", t.title + (t.assigned ? " — assigned to you" : "")));
      if (t.description) sec.append(el("p", "tagline", t.description));
      const p = t.progress;
      sec.append(el("p", "hint", p.passed + " of " + t.steps.length + " steps passed · about " + mins(t.length_ms) +
        (p.complete ? " · ✓ track complete" : "")));
      const ol = el("ol", "steps");
      t.steps.forEach((s, i) => {
        const sp = p.steps[i];
        const li = el("li", "step step-" + sp.state);
        li.dataset.step = s.id;
        li.dataset.state = sp.state;
        li.append(el("strong", "", s.title), el("span", "state", STATE[sp.state]));
        const facts = [];
        if (sp.attempts) facts.push("best " + pct(sp.best) + " of " + pct(s.pass) + " needed, " + sp.attempts + (sp.attempts === 1 ? " call" : " calls"));
        else facts.push(pct(s.pass) + " to pass");
        if (s.repeat === "until-passed") facts.push("repeat until passed");
        if (sp.state === "locked") facts.push("waits for " + sp.waiting_for.join(" and "));
        li.append(el("div", "hint", facts.join(" · ")));
        if (sp.state !== "locked") {
          const a = el("a", "button" + (i === p.next ? " primary" : ""), i === p.next ? "Take this call next" : (sp.attempts ? "Take it again" : "Take this call"));
          a.href = "/#again=" + encodeURIComponent(s.scenario) + "&track=" + encodeURIComponent(t.id) + "&step=" + encodeURIComponent(s.id);
          li.append(a);
        }
        ol.append(li);
      });
      sec.append(ol);
      if (p.complete) {
        const a = el("a", "button", "Print my completion page");
        a.href = "/account/completion.html#track=" + encodeURIComponent(t.id);
        sec.append(a);
      }
      box.append(sec);
    }
    if (!tracks.length) box.append(el("p", "", "No tracks are offered yet."));
    const prog = await api("GET", "/api/me/progress");
    $("chart").textContent = "";
    $("chart").append(...chart(prog));
    const weak = $("weakest");
    weak.textContent = "";
    for (const w of prog.weakest) {
      const li = el("li");
      li.dataset.axis = w.axis;
      li.append(el("strong", "", w.axis), el("span", "hint", " · average " + pct(w.average) + " over " + w.calls + (w.calls === 1 ? " call" : " calls")));
      if (w.practice) {
        li.append(document.createTextNode(" · practise it with "));
        const a = el("a", "", w.practice.title);
        a.href = "/#again=" + encodeURIComponent(w.practice.scenario);
        li.append(a);
      }
      weak.append(li);
    }
    if (!prog.weakest.length) weak.append(el("li", "hint", "Finish a call to see which skills to work on."));
    const calls = await api("GET", "/api/me/calls");
    const list = $("calls");
    list.textContent = "";
    for (const c of calls.slice().reverse()) {
      const li = el("li");
      const a = el("a", "", c.title);
      a.href = "/debrief.html#id=" + encodeURIComponent(c.id) + "&mine=1";
      li.append(a, el("span", "hint", " · " + new Date(c.created).toLocaleString() + " · " +
        (c.open ? "not finished" : pct(c.overall) + (c.passed ? " ✓" : " ✗")) +
        // A step has its own pass mark: say how the call stands against it.
        (c.step ? " · step " + c.step + (c.step_passed === undefined ? "" : c.step_passed ? " passed" : " not passed") : "")));
      list.append(li);
    }
    if (!calls.length) list.append(el("li", "hint", "No calls yet."));
  }

  // chart draws the scores per axis over time as an inline SVG (one line and mark shape
  // per axis, a <title> on every point), followed by the same numbers as a table.
  const SVGNS = "http://www.w3.org/2000/svg";
  const COLORS = ["#0b5cad", "#b42318", "#1a7f37", "#7a4d00", "#6e40c9", "#0a7f8c", "#57606a", "#bf3989"];
  const DASHES = ["", "6 3", "2 3", "8 3 2 3"];
  function svg(tag, attrs, text) {
    const e = document.createElementNS(SVGNS, tag);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function chart(prog) {
    if (!prog.points.length) return [el("p", "hint", "No finished calls yet.")];
    const W = 640, H = 240, L = 40, R = 10, T = 10, B = 30, n = prog.points.length;
    const x = (i) => L + (n === 1 ? (W - L - R) / 2 : i * (W - L - R) / (n - 1));
    const y = (v) => T + (1 - v) * (H - T - B);
    const root = svg("svg", { viewBox: "0 0 " + W + " " + H, role: "img", "aria-labelledby": "chart-title chart-desc", class: "chart" });
    root.append(svg("title", { id: "chart-title" }, "My scores per skill over " + n + (n === 1 ? " call" : " calls")),
      svg("desc", { id: "chart-desc" }, "One line per skill, from 0% to 100%, oldest call on the left. The table below has the same numbers."));
    for (const v of [0, 0.5, 1]) {
      root.append(svg("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), class: "grid" }), svg("text", { x: L - 6, y: y(v) + 4, "text-anchor": "end", class: "tick" }, pct(v)));
    }
    prog.axes.forEach((axis, k) => {
      const color = COLORS[k % COLORS.length];
      const g = svg("g", { "data-axis": axis });
      const pts = [];
      prog.points.forEach((pt, i) => { if (axis in pt.scores) pts.push([i, pt.scores[axis], pt]); });
      g.append(svg("polyline", { points: pts.map(([i, v]) => x(i) + "," + y(v)).join(" "), fill: "none", stroke: color, "stroke-width": 2, "stroke-dasharray": DASHES[k % DASHES.length] }));
      for (const [i, v, pt] of pts) {
        const c = svg("circle", { cx: x(i), cy: y(v), r: 4, fill: color });
        c.append(svg("title", {}, axis + ": " + pct(v) + " · " + pt.title + ", " + new Date(pt.created).toLocaleDateString()));
        g.append(c);
      }
      root.append(g);
    });
    const legend = el("ul", "legend");
    prog.axes.forEach((axis, k) => {
      const li = el("li");
      const sw = el("span", "swatch");
      sw.style.borderTop = "3px " + (DASHES[k % DASHES.length] ? "dashed " : "solid ") + COLORS[k % COLORS.length];
      li.append(sw, document.createTextNode(axis));
      legend.append(li);
    });
    const det = el("details");
    det.append(el("summary", "", "The scores as a table"));
    const table = el("table", "matrix scores");
    const head = el("tr");
    head.append(el("th", "", "Call"));
    for (const a of prog.axes) head.append(el("th", "", a));
    head.append(el("th", "", "overall"));
    table.append(head);
    for (const pt of prog.points) {
      const tr = el("tr");
      tr.append(el("th", "", pt.title + ", " + new Date(pt.created).toLocaleDateString()));
      for (const a of prog.axes) tr.append(el("td", "", a in pt.scores ? pct(pt.scores[a]) : "—"));
      tr.append(el("td", "", pct(pt.overall)));
      table.append(tr);
    }
    det.append(table);
    return [root, legend, det];
  }

  // --- /account/completion.html : a printable page for a completed track ------------
  async function completion() {
    const acc = await me();
    if (!acc) { location.href = "/account/"; return; }
    const id = new URLSearchParams(location.hash.slice(1)).get("track");
    const t = (await api("GET", "/api/me/tracks")).find((x) => x.id === id);
    if (!t) { $("cert").textContent = "No such track."; return; }
    if (!t.progress.complete) { $("cert").textContent = "This track is not complete yet: see My track."; return; }
    $("cert-name").textContent = acc.name;
    $("cert-track").textContent = t.title;
    $("cert-date").textContent = new Date().toLocaleDateString(undefined, { year: "numeric", month: "long", day: "numeric" });
    const tb = $("cert-steps");
    t.steps.forEach((s, i) => {
      const sp = t.progress.steps[i];
      const tr = el("tr");
      tr.append(el("td", "", s.title), el("td", "", STATE[sp.state]), el("td", "", pct(sp.best)), el("td", "", String(sp.attempts)));
      tb.append(tr);
    });
    $("cert").hidden = false;
    $("print").addEventListener("click", () => window.print());
  }

  // --- /account/team.html : teams, invites, the matrix ------------------------------
  async function team() {
    const acc = await me();
    if (!acc || acc.role !== "supervisor") { $("need").hidden = false; $("main-team").hidden = true; return; }
    const [teams, tracks] = await Promise.all([api("GET", "/api/teams"), api("GET", "/api/tracks")]);
    const sel = $("team"), tsel = $("new-team-track");
    for (const t of tracks) {
      const o = el("option", "", t.title); o.value = t.id; tsel.append(o);
      const o2 = el("option", "", t.title); o2.value = t.id; $("assign-track").append(o2);
    }
    $("assign").addEventListener("submit", async (e) => {
      e.preventDefault();
      $("assign-done").textContent = "";
      try {
        await api("PUT", "/api/accounts/" + encodeURIComponent($("assign-trainee").value) + "/track", { track: $("assign-track").value });
        $("assign-done").textContent = "Assigned.";
        matrix();
      } catch (err) { $("team-error").textContent = err.message; }
    });
    for (const t of teams) { const o = el("option", "", t.name); o.value = t.id; sel.append(o); }
    $("new-team").addEventListener("submit", async (e) => {
      e.preventDefault();
      try { await api("POST", "/api/teams", { name: $("new-team-name").value, track: tsel.value }); location.reload(); } catch (err) { $("team-error").textContent = err.message; }
    });
    $("make-invite").addEventListener("click", async () => {
      try {
        const inv = await api("POST", "/api/invites", { role: $("invite-role").value, team: sel.value });
        $("invite-link").value = inv.link;
        $("invite-expires").textContent = "Valid until " + new Date(inv.expires).toLocaleString() + ", for one person.";
      } catch (err) { $("team-error").textContent = err.message; }
    });
    async function matrix() {
      const box = $("matrix");
      box.textContent = "";
      if (!sel.value) return;
      let m;
      try { m = await api("GET", "/api/teams/" + encodeURIComponent(sel.value) + "/matrix"); } catch (err) { box.append(el("p", "", err.message)); return; }
      $("csv").href = "/api/teams/" + encodeURIComponent(sel.value) + "/matrix?format=csv";
      $("csv").hidden = false;
      const table = el("table", "matrix");
      const head = el("tr");
      head.append(el("th", "", "Trainee"));
      for (const s of m.track.steps) head.append(el("th", "", s.title));
      table.append(head);
      for (const row of m.rows) {
        const tr = el("tr");
        tr.dataset.account = row.login;
        const th = el("th", "", row.name);
        if (row.track) th.append(el("div", "hint", "own track: " + ((tracks.find((t) => t.id === row.track) || {}).title || row.track)));
        tr.append(th);
        row.progress.steps.forEach((sp) => {
          const td = el("td", "cell-" + sp.state, STATE[sp.state] + (sp.attempts ? " · best " + pct(sp.best) + " · " + sp.attempts + "×" : ""));
          td.dataset.state = sp.state;
          tr.append(td);
        });
        table.append(tr);
      }
      box.append(el("p", "hint", m.track.title), table);
      const who = $("assign-trainee"), keep = who.value;
      who.textContent = "";
      for (const row of m.rows) { const o = el("option", "", row.name + " (" + row.login + ")"); o.value = row.account; who.append(o); }
      if (keep) who.value = keep;
      $("assign").hidden = !m.rows.length;
      if (!m.rows.length) box.append(el("p", "", "No trainees in this team yet: make an invite."));
    }
    async function progress() {
      const box = $("team-progress");
      box.textContent = "";
      if (!sel.value) return;
      const url = "/api/teams/" + encodeURIComponent(sel.value) + "/progress";
      let p;
      try { p = await api("GET", url); } catch (err) { box.append(el("p", "", err.message)); return; }
      $("progress-csv").href = url + "?format=csv";
      $("progress-csv").hidden = false;
      box.append(el("h3", "", "Weakest skills"));
      const wl = el("ul", "weakest");
      for (const w of p.weakest) {
        const li = el("li");
        li.dataset.axis = w.axis;
        li.append(el("strong", "", w.axis), el("span", "hint", " · average " + pct(w.average) + " over " + w.calls + " calls" + (w.practice ? " · practised most in " + w.practice.title : "")));
        wl.append(li);
      }
      if (!p.weakest.length) wl.append(el("li", "hint", "No finished calls yet."));
      box.append(wl, el("h3", "", "Rules that fire most, per trainee"));
      const rt = el("table", "matrix rules");
      const rh = el("tr");
      rh.append(el("th", "", "Trainee"), el("th", "", "Rules (times fired)"));
      rt.append(rh);
      for (const r of p.rules) {
        const tr = el("tr");
        tr.dataset.account = r.login;
        tr.append(el("th", "", r.name), el("td", "", r.rules.length ? r.rules.map((x) => x.rule + " ×" + x.count).join(", ") : "—"));
        rt.append(tr);
      }
      box.append(rt, el("h3", "", "Average score per week"));
      const wt = el("table", "matrix weeks");
      const wh = el("tr");
      wh.append(el("th", "", "Week"), el("th", "", "Average"), el("th", "", "Calls"), el("th", "", "Trend"));
      wt.append(wh);
      for (const wk of p.weeks) {
        const tr = el("tr");
        const bar = el("span", "bar");
        bar.style.width = Math.round(wk.average * 100) + "%";
        bar.setAttribute("aria-hidden", "true");
        const td = el("td", "bar-cell");
        td.append(bar);
        tr.append(el("th", "", wk.week), el("td", "", pct(wk.average)), el("td", "", String(wk.calls)), td);
        wt.append(tr);
      }
      box.append(wt);
      if (!p.weeks.length) box.append(el("p", "hint", "No finished calls yet."));
    }
    const both = () => { matrix(); progress(); };
    sel.addEventListener("change", both);
    $("refresh").addEventListener("click", both);
    both();
  }

  const page = document.body.dataset.page;
  const run = { index, invite, track: myTrack, team, completion }[page];
  if (run) run().catch((e) => { const m = $("error"); if (m) m.textContent = "Something went wrong: " + e.message; });
})();
