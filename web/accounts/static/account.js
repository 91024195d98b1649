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
      sec.append(el("h2", "", t.title + (t.assigned ? " — your team's track" : "")));
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
      box.append(sec);
    }
    if (!tracks.length) box.append(el("p", "", "No tracks are offered yet."));
    const calls = await api("GET", "/api/me/calls");
    const list = $("calls");
    list.textContent = "";
    for (const c of calls.slice().reverse()) {
      const li = el("li");
      const a = el("a", "", c.title);
      a.href = "/debrief.html#id=" + encodeURIComponent(c.id) + "&mine=1";
      li.append(a, el("span", "hint", " · " + new Date(c.created).toLocaleString() + " · " +
        (c.open ? "not finished" : pct(c.overall) + (c.passed ? " ✓" : " ✗")) + (c.step ? " · step " + c.step : "")));
      list.append(li);
    }
    if (!calls.length) list.append(el("li", "hint", "No calls yet."));
  }

  // --- /account/team.html : teams, invites, the matrix ------------------------------
  async function team() {
    const acc = await me();
    if (!acc || acc.role !== "supervisor") { $("need").hidden = false; $("main-team").hidden = true; return; }
    const [teams, tracks] = await Promise.all([api("GET", "/api/teams"), api("GET", "/api/tracks")]);
    const sel = $("team"), tsel = $("new-team-track");
    for (const t of tracks) { const o = el("option", "", t.title); o.value = t.id; tsel.append(o); }
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
        tr.append(el("th", "", row.name));
        row.progress.steps.forEach((sp) => {
          const td = el("td", "cell-" + sp.state, STATE[sp.state] + (sp.attempts ? " · best " + pct(sp.best) + " · " + sp.attempts + "×" : ""));
          td.dataset.state = sp.state;
          tr.append(td);
        });
        table.append(tr);
      }
      box.append(el("p", "hint", m.track.title), table);
      if (!m.rows.length) box.append(el("p", "", "No trainees in this team yet: make an invite."));
    }
    sel.addEventListener("change", matrix);
    $("refresh").addEventListener("click", matrix);
    matrix();
  }

  const page = document.body.dataset.page;
  const run = { index, invite, track: myTrack, team }[page];
  if (run) run().catch((e) => { const m = $("error"); if (m) m.textContent = "Something went wrong: " + e.message; });
})();
