// Switchboard browser client: pick a scenario, take the call over a websocket, see the end.
// Plain JavaScript, no build step, no third-party code. Protocol: docs/protocol.md.
// Everything the trainee or the server sends is rendered with textContent, never as HTML.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const STORE_KEY = "switchboard.call";
  const HISTORY_KEY = "switchboard.history"; // calls taken in this browser (records.js)
  const HISTORY_MAX = 200;
  const RECONNECT_MS = [250, 500, 1000, 2000, 4000, 8000];

  let scenarios = [];
  let call = null; // {id, token, ws, coach, title, brief, persona, lastSeq, outbox}
  let socket = null;
  let attempt = 0;
  let line = null; // {li, words, wordsEl}
  let ringer = null;
  let ended = false;
  let counter = 0;
  const idPrefix = randomHex(6);

  function randomHex(n) {
    const b = new Uint8Array(n);
    crypto.getRandomValues(b);
    return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function show(section) {
    for (const id of ["pick", "callview", "endview"]) $(id).hidden = id !== section;
  }

  function setStatus(text, cls) {
    const s = $("status");
    s.textContent = text;
    s.className = "status " + (cls || "");
  }

  // --- Scenario picker -------------------------------------------------------------

  async function loadScenarios() {
    try {
      const r = await fetch("/api/scenarios");
      if (!r.ok) throw new Error("the server answered " + r.status);
      scenarios = await r.json();
    } catch (e) {
      $("scenarios-loading").textContent = "Could not load the scenarios: " + e.message;
      return;
    }
    $("scenarios-loading").hidden = true;
    const list = $("scenario-list");
    list.replaceChildren();
    scenarios.forEach((s, i) => {
      const label = el("label", "scenario");
      const input = el("input");
      input.type = "radio";
      input.name = "scenario";
      input.value = s.id;
      input.checked = i === 0;
      const title = el("span", "title", s.title);
      const brief = el("p", "brief", s.brief);
      label.append(input, title, brief);
      if (s.lesson) label.append(el("p", "lesson", "Lesson: " + s.lesson));
      list.append(label);
    });
  }

  async function startCall(ev) {
    ev.preventDefault();
    $("start-error").textContent = "";
    const picked = document.querySelector('input[name="scenario"]:checked');
    if (!picked) {
      $("start-error").textContent = "Choose a scenario first.";
      return;
    }
    prepareSound();
    let r, body;
    try {
      r = await fetch("/api/calls", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ scenario: picked.value, trainee: $("trainee").value, coach: $("coach").checked }),
      });
      body = await r.json();
    } catch (e) {
      $("start-error").textContent = "Could not reach the server: " + e.message;
      return;
    }
    if (!r.ok) {
      $("start-error").textContent = (body && body.error && body.error.message) || "The call could not start.";
      return;
    }
    const s = scenarios.find((x) => x.id === picked.value) || {};
    call = { id: body.id, token: body.token, ws: body.ws, coach: body.coach, title: s.title || picked.value,
      brief: s.brief || "", persona: (s.persona && s.persona.name) || "Customer", lastSeq: 0, outbox: [] };
    save();
    remember(call, picked.value);
    openCall();
  }

  // remember adds a call to this browser's history, newest first.
  function remember(c, scenario) {
    let list;
    try { list = JSON.parse(localStorage.getItem(HISTORY_KEY)) || []; } catch (_) { list = []; }
    list = list.filter((x) => x.id !== c.id);
    list.unshift({ id: c.id, token: c.token, title: c.title, scenario, started: new Date().toISOString() });
    try { localStorage.setItem(HISTORY_KEY, JSON.stringify(list.slice(0, HISTORY_MAX))); } catch (_) { /* storage full: history is a convenience */ }
  }

  function save() {
    if (call) sessionStorage.setItem(STORE_KEY, JSON.stringify(call));
    else sessionStorage.removeItem(STORE_KEY);
  }

  // --- The call ----------------------------------------------------------------------

  function openCall() {
    ended = false;
    line = null;
    $("call-h").textContent = call.title;
    $("brief").textContent = call.brief;
    $("transcript").replaceChildren();
    $("coachbox").replaceChildren();
    $("choices").replaceChildren();
    $("mood").textContent = "";
    $("call-error").textContent = "";
    setInputEnabled(false);
    show("callview");
    call.lastSeq = 0; // a fresh page rebuilds the whole call from the server's record
    connect();
  }

  function connect() {
    const proto = location.protocol === "https:" ? "wss://" : "ws://";
    setStatus(attempt === 0 ? "Connecting…" : "Reconnecting…", attempt === 0 ? "" : "reconnecting");
    const ws = new WebSocket(proto + location.host + call.ws + "&after=" + call.lastSeq);
    socket = ws;
    ws.onopen = () => {
      attempt = 0;
      setStatus("Connected.");
      for (const m of call.outbox) ws.send(JSON.stringify(m)); // the server applies each id once
    };
    ws.onmessage = (e) => {
      // One websocket message holds one or more protocol messages, one per line.
      for (const text of String(e.data).split("\n")) {
        let m;
        try { m = JSON.parse(text); } catch (_) { continue; }
        handle(m);
      }
    };
    ws.onclose = (e) => {
      if (socket !== ws) return;
      socket = null;
      if (ended || e.code === 1000) return;
      if (e.code === 4000) { setStatus("This call was opened in another tab.", "reconnecting"); return; }
      if (e.code === 1007 || e.code === 1009) $("call-error").textContent = "The last message could not be sent.";
      const wait = RECONNECT_MS[Math.min(attempt, RECONNECT_MS.length - 1)];
      attempt++;
      setStatus("Reconnecting…", "reconnecting");
      setTimeout(() => { if (call && !ended && !socket) connect(); }, wait);
    };
  }

  function send(type, fields) {
    if (!call || ended) return;
    const m = Object.assign({ type, id: idPrefix + "-" + (++counter) }, fields || {});
    call.outbox.push(m);
    save();
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(m));
  }

  function acked(id) {
    if (!id) return;
    call.outbox = call.outbox.filter((m) => m.id !== id);
    save();
  }

  function handle(m) {
    if (m.seq > 0) {
      if (m.seq <= call.lastSeq) { if (m.type === "trainee") acked(m.id); return; }
      call.lastSeq = m.seq;
      save();
    }
    switch (m.type) {
      case "ring": ringing(true); break;
      case "line_start": lineStart(m); break;
      case "word": word(m); break;
      case "line_end": lineEnd(); break;
      case "cut": cut(m); break;
      case "trainee": trainee(m); break;
      case "choices": choices(m); break;
      case "mood": mood(m.mood); break;
      case "feedback": coach(m); break;
      case "end": end(m); break;
      case "error": error(m); break;
    }
  }

  function ringing(on) {
    $("phone").hidden = !on;
    if (on) {
      setStatus("The phone is ringing.");
      setInputEnabled(false);
      $("answer").focus();
      startRinger();
    } else {
      stopRinger();
    }
  }

  function transcriptItem(cls) {
    const li = el("li", cls);
    $("transcript").append(li);
    li.scrollIntoView({ block: "nearest" });
    return li;
  }

  function lineStart(m) {
    lineEnd();
    const li = transcriptItem("customer");
    li.append(el("span", "who", call.persona + ":"));
    const words = el("span", "words");
    li.append(words);
    line = { li, wordsEl: words, text: m.text, shown: 0 };
    $("choices").replaceChildren();
    speak(m.text);
  }

  function word(m) {
    if (!line) return;
    line.wordsEl.textContent += (line.shown > 0 ? " " : "") + m.text;
    line.shown++;
  }

  function lineEnd() {
    if (!line) return;
    $("announce").textContent = call.persona + ": " + line.text;
    line = null;
  }

  function cut(m) {
    if (!line) return;
    line.li.classList.add("cut");
    line.li.append(el("span", "cutmark", "(cut off after " + m.spoken + " of " + m.words + " words)"));
    $("announce").textContent = call.persona + " was cut off: " + line.wordsEl.textContent;
    line = null;
    if (window.speechSynthesis) speechSynthesis.cancel();
  }

  function trainee(m) {
    acked(m.id);
    if (m.event === "answer") {
      ringing(false);
      transcriptItem("event").textContent = "You answered the phone.";
      setStatus("On the call.");
      setInputEnabled(true);
      $("say").focus();
      return;
    }
    if (m.event === "hangup") {
      transcriptItem("event").textContent = "You hung up.";
      return;
    }
    const li = transcriptItem("trainee");
    li.append(el("span", "who", "You:"), el("span", "text", m.text));
    for (const f of m.flags || []) li.append(el("span", "flag", f === "interrupted" ? "(spoke over the customer)" : "(" + f + ")"));
    $("choices").replaceChildren();
  }

  function choices(m) {
    const box = $("choices");
    box.replaceChildren();
    m.choices.forEach((c, i) => {
      const b = el("button", "", (i + 1) + ". " + c.text);
      b.type = "button";
      b.addEventListener("click", () => send("choose", { index: c.index }));
      box.append(b);
    });
  }

  const MOODS = [[-0.6, "furious"], [-0.2, "annoyed"], [0.2, "neutral"], [0.6, "pleased"], [2, "delighted"]];
  function mood(v) {
    const name = MOODS.find(([limit]) => v < limit)[1];
    $("mood").textContent = "Customer mood: " + name;
  }

  function coach(m) {
    if (!m.text) return;
    $("coachbox").append(el("p", "", m.text));
  }

  function error(m) {
    acked(m.id);
    $("call-error").textContent = m.message;
  }

  function end(m) {
    ended = true;
    stopRinger();
    const done = call;
    call = null;
    save();
    if (socket) socket.close(1000);
    $("outcome").textContent = "Outcome: " + m.outcome + (m.ending && m.ending !== m.outcome ? " (" + m.ending + ")" : "");
    $("verdict").textContent = m.passed ? "Passed" : "Not passed";
    $("verdict").className = "verdict " + (m.passed ? "passed" : "failed");
    $("end-text").textContent = m.text || "";
    const tbody = document.querySelector("#scores tbody");
    tbody.replaceChildren();
    for (const s of m.scores) {
      const tr = el("tr");
      const pct = Math.round(s.normalized * 100);
      const bar = el("span", "bar");
      bar.style.width = Math.max(pct, 1) + "px";
      bar.setAttribute("aria-hidden", "true");
      const cell = el("td");
      cell.append(bar, document.createTextNode(pct + "%"));
      tr.append(el("th", "", s.axis), el("td", "", s.points + " / " + s.max), cell);
      tr.firstChild.scope = "row";
      tbody.append(tr);
    }
    const fl = $("feedback-list");
    fl.replaceChildren();
    for (const f of m.feedback) {
      if (!f.text) continue;
      const li = el("li");
      li.append(el("span", "at", clock(f.at)), document.createTextNode(f.text));
      fl.append(li);
    }
    if (!fl.children.length) fl.append(el("li", "", "Nothing to remark on."));
    $("debrief-link").href = "/debrief.html#id=" + encodeURIComponent(done.id) + "&token=" + encodeURIComponent(done.token);
    $("scores").querySelector("caption").textContent = "Scores — overall " + Math.round(m.overall * 100) + "%";
    show("endview");
    $("endview").focus();
  }

  function clock(ms) {
    const s = Math.floor(ms / 1000);
    return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  }

  function setInputEnabled(on) {
    $("say").disabled = !on;
    $("send").disabled = !on;
  }

  // --- Sound and voice ---------------------------------------------------------------

  let audio = null;
  function prepareSound() {
    if (!$("sound").checked || audio) return;
    const AC = window.AudioContext || window.webkitAudioContext;
    if (AC) { try { audio = new AC(); } catch (_) { audio = null; } }
  }

  function startRinger() {
    stopRinger();
    if (!audio || !$("sound").checked) return;
    const burst = () => {
      const t = audio.currentTime;
      const gain = audio.createGain();
      gain.gain.value = 0.08;
      gain.connect(audio.destination);
      for (const f of [440, 480]) {
        const o = audio.createOscillator();
        o.frequency.value = f;
        o.connect(gain);
        o.start(t);
        o.stop(t + 1.2);
      }
    };
    burst();
    ringer = setInterval(burst, 3000);
  }

  function stopRinger() {
    if (ringer) clearInterval(ringer);
    ringer = null;
  }

  function speak(text) {
    if (!$("voice").checked || !window.speechSynthesis) return;
    speechSynthesis.cancel();
    speechSynthesis.speak(new SpeechSynthesisUtterance(text));
  }

  // --- Wiring ------------------------------------------------------------------------

  $("start-form").addEventListener("submit", startCall);
  $("answer").addEventListener("click", () => send("answer"));
  $("hangup").addEventListener("click", () => send("hangup"));
  $("say-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = $("say").value;
    if (!text.trim()) return;
    send("say", { text });
    $("say").value = "";
  });
  $("say").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      $("say-form").requestSubmit();
    }
  });
  $("again").addEventListener("click", () => { show("pick"); $("start").focus(); });

  loadScenarios();
  const saved = sessionStorage.getItem(STORE_KEY);
  if (saved) {
    try { call = JSON.parse(saved); } catch (_) { call = null; }
    if (call && call.id && call.token) openCall();
    else { call = null; save(); }
  }
})();
