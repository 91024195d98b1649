// Switchboard floor board for supervisors (issue 16): live calls with alerts, listening
// to a call and whispering to its trainee, and the review of recorded calls with notes.
// Plain JavaScript, no build step, no third-party code; everything from the server is
// rendered with textContent. Access is the studio's secret (a cookie set at sign-in).
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const SB = window.SB;
  const el = SB.el, clock = SB.clock;
  const WATCH_KEY = "switchboard.floor.watch";
  const LISTEN_RETRIES = 5; // reconnections of a dropped listening connection before giving up

  // --- The board -------------------------------------------------------------------

  let floor = null;

  function connectFloor() {
    if (floor) floor.close();
    const watch = localStorage.getItem(WATCH_KEY) || "";
    floor = new EventSource("/api/supervise/floor?watch=" + encodeURIComponent(watch));
    floor.addEventListener("floor", (e) => render(JSON.parse(e.data)));
    floor.onerror = () => { $("board-status").textContent = "Reconnecting to the floor…"; };
  }

  function alertText(a, c) {
    if (a.startsWith("rule:")) return "rule " + a.slice(5) + " fired";
    if (a === "silence") return "silent " + clock(c.silence_ms);
    if (a === "timer") return "timer in " + clock(c.timer_in_ms);
    if (a === "mood") return "mood " + c.mood.toFixed(1);
    return a;
  }

  // Rows are updated in place, keyed by the call's id, and a row's Listen button is kept:
  // the board comes once a second, and replacing the table each time took the keyboard
  // focus off a Listen button and lost a click that straddled an update.
  function render(ev) {
    const body = $("calls-body");
    const old = new Map();
    for (const tr of body.children) old.set(tr.dataset.id, tr);
    const live = ev.calls.filter((c) => !c.ended).length;
    let status = live + (live === 1 ? " live call" : " live calls") + " · updated " + new Date(ev.now).toLocaleTimeString();
    // Several instances (PostgreSQL): say how many, and which did not answer this time.
    const insts = ev.instances || [];
    if (insts.length > 1) {
      status += " · " + insts.length + " instances";
      const silent = insts.filter((i) => i.error).map((i) => i.name + " (" + i.error + ")");
      if (silent.length) status += " · not shown: " + silent.join(", ");
    }
    $("board-status").textContent = status;
    $("no-calls").hidden = ev.calls.length > 0;
    let i = 0;
    for (const c of ev.calls) {
      let tr = old.get(c.id);
      old.delete(c.id);
      if (!tr) {
        tr = el("tr");
        tr.dataset.id = c.id;
      }
      tr.classList.toggle("alert", c.alerts.length > 0);
      tr.classList.toggle("ended", !!c.ended);
      tr.classList.toggle("debug", !!c.debug);
      const who = el("td", "", c.trainee || "(no name)");
      if (c.debug) who.append(" ", el("span", "badge", "studio debug"));
      if (c.instance && insts.length > 1) who.append(" ", el("span", "badge instance", "on " + c.instance));
      const al = el("td", "alerts");
      for (const a of c.alerts) al.append(el("span", "", alertText(a, c)));
      // The last cell, with the Listen button, stays; the others are made anew.
      let act = tr.querySelector("td.act");
      if (!act) act = el("td", "act");
      let b = act.querySelector("button.listen");
      if (c.ended) {
        if (b) b.remove();
      } else {
        if (!b) {
          b = el("button", "listen", "Listen");
          b.type = "button";
          act.append(b);
        }
        b.setAttribute("aria-label", "Listen to " + (c.trainee || "this call"));
        b.onclick = () => listen(c);
      }
      for (const td of [...tr.children]) if (td !== act) td.remove();
      if (act.parentNode !== tr) tr.append(act);
      act.before(who, el("td", "", c.title), el("td", "", c.node),
        el("td", "", clock(c.elapsed_ms) + (c.ended ? " (ended: " + c.outcome + ")" : "")),
        el("td", "", c.mood.toFixed(1)), el("td", "", c.fired.join(", ")), al);
      if (body.children[i] !== tr) body.insertBefore(tr, body.children[i] || null);
      i++;
    }
    for (const tr of old.values()) tr.remove();
  }

  // --- Listening and whispering ----------------------------------------------------

  let sock = null, lastSeq = 0, line = null, counter = 0;

  function listen(c) {
    stopListening();
    $("listen").hidden = false;
    $("listen-title").textContent = "Listening to " + (c.trainee || "a trainee") + " — " + c.title;
    $("listen-log").replaceChildren();
    $("whisper-error").textContent = "";
    lastSeq = 0;
    connectListen(c, 0);
    $("whisper-text").focus();
  }

  // connectListen opens the supervisor's websocket; a dropped connection (not the call's
  // end, 1000) reconnects after a pause and resumes after the last seq seen, a few times.
  function connectListen(c, tries) {
    const proto = location.protocol === "https:" ? "wss://" : "ws://";
    const s = new WebSocket(proto + location.host + "/ws/supervise/" + encodeURIComponent(c.id) + (lastSeq ? "?after=" + lastSeq : ""));
    sock = s;
    s.onopen = () => { tries = 0; $("listen-state").textContent = "Connected: you hear the call as it happens; the trainee is not disturbed."; };
    s.onmessage = (e) => { for (const l of String(e.data).split("\n")) if (l) handle(JSON.parse(l)); };
    s.onclose = (e) => {
      if (sock !== s) return;
      if (e.code !== 1000 && tries < LISTEN_RETRIES) {
        $("listen-state").textContent = "Connection lost; reconnecting…";
        setTimeout(() => { if (sock === s) connectListen(c, tries + 1); }, 1000 * (tries + 1));
        return;
      }
      $("listen-state").textContent = "Not listening (" + (e.reason || "connection closed") + ").";
    };
  }

  function stopListening() {
    if (sock) { sock.onclose = null; sock.close(); sock = null; }
    $("listen").hidden = true;
  }

  function log(cls, text, who) {
    const li = el("li", cls);
    if (who) li.append(el("span", "who", who));
    li.append(el("span", "text", text));
    $("listen-log").append(li);
    li.scrollIntoView({ block: "nearest" });
    return li;
  }

  function handle(m) {
    if (m.seq > 0) { if (m.seq <= lastSeq) return; lastSeq = m.seq; }
    const at = clock(m.at) + " ";
    switch (m.type) {
      case "ring": log("meta", at + "The phone rings."); break;
      case "line_start": line = log("customer", "", "Customer"); break;
      case "word": if (line) line.querySelector(".text").textContent += (m.index ? " " : "") + m.text; break;
      case "cut": log("meta", at + "cut off after " + m.spoken + " of " + m.words + " words"); break;
      case "trainee":
        if (m.text) log("trainee", m.text + (m.flags.length ? " [" + m.flags.join(", ") + "]" : ""), "Trainee");
        else log("meta", at + "trainee: " + m.event);
        break;
      case "feedback": log("rule", at + "rule " + (m.rule || "(transition)") + (m.text ? ": " + m.text : "")); break;
      case "score": log("meta", at + "score " + m.deltas.map((d) => d.axis + " " + (d.delta > 0 ? "+" : "") + d.delta).join(", ")); break;
      case "mood": log("meta", at + "mood " + m.mood.toFixed(2)); break;
      case "whisper": log("whisper", at + "whispered: " + m.text); break;
      case "end": log("meta", at + "The call ended: " + (m.title || m.ending) + " (" + m.outcome + ", " + (m.passed ? "passed" : "not passed") + ")"); break;
      case "error": $("whisper-error").textContent = m.message; break;
    }
  }

  function whisper(ev) {
    ev.preventDefault();
    const text = $("whisper-text").value.trim();
    if (!text || !sock || sock.readyState !== WebSocket.OPEN) return;
    const id = "w-" + Date.now().toString(36) + "-" + (++counter) + "-" + Math.random().toString(36).slice(2, 8);
    sock.send(JSON.stringify({ type: "whisper", id, text }));
    $("whisper-text").value = "";
    $("whisper-error").textContent = "";
  }

  // --- Review ----------------------------------------------------------------------

  async function review(ev) {
    if (ev) ev.preventDefault();
    const q = new URLSearchParams();
    for (const [k, v] of new FormData($("review-form"))) if (v) q.set(k, v);
    $("review-status").textContent = "Searching…";
    let list;
    try {
      const r = await fetch("/api/supervise/calls?" + q);
      list = await r.json();
      if (!r.ok) throw new Error(list.error ? list.error.message : "the server answered " + r.status);
    } catch (e) { $("review-status").textContent = "Could not search: " + e.message; return; }
    $("review-status").textContent = list.length + (list.length === 1 ? " call" : " calls");
    const body = $("review-body");
    body.replaceChildren();
    for (const c of list) {
      const tr = el("tr");
      tr.append(el("td", "", SB.when(c.created)), el("td", "", c.trainee), el("td", "", c.title),
        el("td", "", c.open ? "open" : (c.end_title || c.ending) + " (" + c.outcome + ")"),
        el("td", "", c.open ? "" : (c.passed ? "passed" : "not passed") + ", " + Math.round(c.overall * 100) + "%"));
      const a = el("a", "", "Debrief");
      a.href = "/debrief.html#id=" + encodeURIComponent(c.id);
      const td = el("td");
      td.append(a);
      tr.append(td, noteCell(c));
      body.append(tr);
    }
  }

  function noteCell(c) {
    const td = el("td");
    const f = el("form", "note-form");
    const at = el("input");
    at.name = "at"; at.placeholder = "m:ss"; at.size = 5; at.setAttribute("aria-label", "Time in the call (m:ss)");
    const text = el("input");
    text.type = "text"; text.name = "text"; text.required = true; text.maxLength = 2000; text.setAttribute("aria-label", "Note");
    const b = el("button", "", "Add note");
    b.type = "submit";
    const st = el("span", "hint");
    st.setAttribute("role", "status");
    f.append(at, text, b, st);
    f.addEventListener("submit", async (e) => {
      e.preventDefault();
      const mm = /^(\d+):([0-5]\d)$/.exec(at.value.trim());
      const ms = mm ? (Number(mm[1]) * 60 + Number(mm[2])) * 1000 : 0;
      const r = await fetch("/api/supervise/calls/" + encodeURIComponent(c.id) + "/notes", {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ at_ms: ms, text: text.value }) });
      const body = await r.json().catch(() => null);
      st.textContent = r.ok ? "Saved." : "Not saved: " + ((body && body.error && body.error.message) || r.status);
      if (r.ok) text.value = "";
    });
    td.append(f);
    return td;
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("watch").value = localStorage.getItem(WATCH_KEY) || "";
    $("watch-form").addEventListener("submit", (e) => {
      e.preventDefault();
      localStorage.setItem(WATCH_KEY, $("watch").value);
      connectFloor();
    });
    $("whisper-form").addEventListener("submit", whisper);
    $("listen-close").addEventListener("click", stopListening);
    $("review-form").addEventListener("submit", review);
    connectFloor();
    review();
  });
})();
