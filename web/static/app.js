// Switchboard browser client: pick a scenario, take the call over a websocket, see the end.
// Plain JavaScript, no build step, no third-party code. Protocol: docs/protocol.md.
// Everything the trainee or the server sends is rendered with textContent, never as HTML.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const SB = window.SB;
  const el = SB.el;
  const STORE_KEY = "switchboard.call";
  const RECONNECT_MS = [250, 500, 1000, 2000, 4000, 8000];
  const HANGUP_CONFIRM_MS = 4000; // how long "Hang up anyway?" waits for the second press
  const SPEECH_WPM = 180; // words per minute of a speech voice at rate 1
  // EMOTION_VOICE varies the voice by a line's emotion tag (docs/tour.md): rate multiplies
  // the rate derived from the line's pace (kept within ±15% so voice and words stay close),
  // pitch multiplies the persona's pitch (1 when it has none).
  const EMOTION_VOICE = {
    neutral: { rate: 1, pitch: 1 },
    warm: { rate: 0.95, pitch: 1.05 },
    annoyed: { rate: 1.08, pitch: 0.95 },
    angry: { rate: 1.15, pitch: 0.85 },
    anxious: { rate: 1.12, pitch: 1.15 },
    relieved: { rate: 0.95, pitch: 1.1 },
    sad: { rate: 0.85, pitch: 0.85 },
  };
  const MAX_KEYED_CHOICES = 9; // number keys 1…9 pick suggested replies
  const MODE_LABELS = {
    never: ["Off", "you answer in your own words"],
    on_request: ["On request", "a “Need a hint?” button shows suggestions"],
    always: ["Always", "suggestions after every line (beginner)"],
  };

  let scenarios = [];
  // call: {id, token, ws, coach, scenario, title, brief, persona, wpm, voice, suggestions,
  //        trainee, lastSeq, outbox, quiet}
  let call = null;
  let lastStart = null; // the settings of the latest call, for "Try this call again"
  let socket = null;
  let attempt = 0;
  let line = null; // the customer's line being spoken: {li, wordsEl, text, shown}
  let pendingChoices = null; // choices that arrived while the customer was speaking
  let ended = false;
  let answered = false;
  let hungUp = false;
  let composing = false; // a typing message was sent for the text now in the reply box
  let hints = 0;
  let counter = 0;
  let clockBase = null; // performance.now() minus the call clock of the latest message
  let answerAt = null; // call clock of the answer
  let timer = null;
  let hangupArmed = null; // timeout of the "Hang up anyway?" confirmation
  const idPrefix = randomHex(6);

  function randomHex(n) {
    const b = new Uint8Array(n);
    crypto.getRandomValues(b);
    return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  }

  function show(section) {
    for (const id of ["pick", "callview", "endview"]) $(id).hidden = id !== section;
    document.body.dataset.view = section;
  }

  function setStatus(text, cls) {
    const s = $("status");
    s.textContent = text;
    s.className = "status " + (cls || "");
  }

  // setState shows who has the floor: ringing, speaking (the customer), turn (the
  // trainee's), waiting (after a reply), ended.
  function setState(state, text) {
    $("state").dataset.state = state;
    $("state-text").textContent = text;
    document.body.dataset.call = state;
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
    const last = lastResults();
    const list = $("scenario-list");
    list.replaceChildren();
    scenarios.forEach((s, i) => {
      const label = el("label", "scenario");
      const input = el("input");
      input.type = "radio";
      input.name = "scenario";
      input.value = s.id;
      input.checked = i === 0;
      input.addEventListener("change", modes);
      const head = el("span", "card-head");
      const persona = (s.persona && s.persona.name) || "Customer";
      head.append(el("span", "avatar small", SB.initials(persona)), el("span", "title", s.title));
      head.firstChild.setAttribute("aria-hidden", "true");
      label.append(input, head);
      const facts = el("span", "facts");
      if (s.difficulty) facts.append(el("span", "difficulty d-" + s.difficulty, SB.humanize(s.difficulty)));
      if (s.length_s) facts.append(el("span", "length", "about " + duration(s.length_s)));
      facts.append(el("span", "caller", "Caller: " + persona));
      label.append(facts);
      label.append(el("span", "brief", s.brief));
      if (s.lesson) label.append(el("span", "lesson", "Lesson: " + s.lesson));
      if (s.tags && s.tags.length) {
        const tags = el("span", "tags");
        tags.append(el("span", "sr-only", "Skills: "));
        for (const t of s.tags) tags.append(el("span", "tag", t));
        label.append(tags);
      }
      const r = last[s.id];
      label.append(el("span", "last " + (r ? (r.passed ? "passed" : "failed") : "none"),
        r ? "Your last try: " + (r.passed ? "✓ passed" : "✗ not passed") + (r.overall !== undefined ? ", " + Math.round(r.overall * 100) + "%" : "") : "Not tried yet"));
      list.append(label);
    });
    modes();
  }

  function duration(s) {
    if (s < 90) return Math.round(s) + " s";
    return Math.round(s / 60) + " min";
  }

  // lastResults maps scenario ids to the latest finished result in this browser.
  function lastResults() {
    const out = {};
    for (const c of SB.history()) if (c.result && c.scenario && !out[c.scenario]) out[c.scenario] = c.result;
    return out;
  }

  function picked() {
    const p = document.querySelector('input[name="scenario"]:checked');
    return p ? scenarios.find((x) => x.id === p.value) : null;
  }

  // modes offers the suggestion modes the picked scenario allows.
  function modes(_, want) {
    const s = picked();
    $("picked").textContent = s ? s.title : "";
    const list = $("mode-list");
    list.replaceChildren();
    const allowed = (s && s.suggestion_modes) || [];
    $("modes").hidden = allowed.length < 2;
    const def = want && allowed.includes(want) ? want : s && s.suggestions;
    for (const m of allowed) {
      const label = el("label", "mode");
      const input = el("input");
      input.type = "radio";
      input.name = "suggestions";
      input.value = m;
      input.checked = m === def;
      const [name, what] = MODE_LABELS[m] || [SB.humanize(m), ""];
      label.append(input, el("strong", "", name), document.createTextNode(what ? " — " + what : ""));
      list.append(label);
    }
  }

  function formSettings() {
    const s = picked();
    const mode = document.querySelector('input[name="suggestions"]:checked');
    return { scenario: s && s.id, trainee: $("trainee").value, coach: $("coach").checked,
      suggestions: $("modes").hidden ? undefined : mode && mode.value };
  }

  async function startCall(settings) {
    $("start-error").textContent = "";
    if (!settings.scenario) {
      $("start-error").textContent = "Choose a scenario first.";
      return;
    }
    SB.setName(settings.trainee || "");
    prepareSound();
    const req = { scenario: settings.scenario, trainee: settings.trainee || "", coach: !!settings.coach };
    if (settings.suggestions) req.suggestions = settings.suggestions;
    // A step of a track (from "My track", /account/track.html): the server links the call
    // to the signed-in trainee's step, and refuses a step that is still locked.
    if (settings.track && settings.step) { req.track = settings.track; req.step = settings.step; }
    let r, body;
    try {
      r = await fetch("/api/calls", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(req) });
      body = await r.json();
    } catch (e) {
      startError("Could not reach the server: " + e.message);
      return;
    }
    if (!r.ok) {
      startError((body && body.error && body.error.message) || "The call could not start.");
      return;
    }
    const s = scenarios.find((x) => x.id === settings.scenario) || {};
    const persona = s.persona || {};
    call = { id: body.id, token: body.token, ws: body.ws, coach: body.coach, scenario: settings.scenario,
      title: s.title || settings.scenario, brief: s.brief || "", persona: persona.name || "Customer",
      wpm: persona.wpm || 0, voice: persona.voice || null,
      suggestions: body.suggestions || req.suggestions || s.suggestions || "always",
      trainee: req.trainee, lastSeq: 0, outbox: [], quiet: [] };
    lastStart = { scenario: call.scenario, trainee: call.trainee, coach: call.coach, suggestions: call.suggestions,
      track: req.track, step: req.step };
    save();
    SB.remember({ id: call.id, token: call.token, title: call.title, scenario: call.scenario, suggestions: call.suggestions,
      coach: call.coach, trainee: call.trainee, started: new Date().toISOString() });
    openCall();
  }

  function startError(msg) {
    show("pick");
    $("start-error").textContent = msg;
  }

  function save() {
    if (call) sessionStorage.setItem(STORE_KEY, JSON.stringify(call));
    else sessionStorage.removeItem(STORE_KEY);
  }

  // --- The call ----------------------------------------------------------------------

  function openCall() {
    ended = false;
    answered = false;
    hungUp = false;
    composing = false;
    hints = 0;
    line = null;
    pendingChoices = null;
    answerAt = null;
    clockBase = null;
    disarmHangup();
    $("call-h").textContent = call.persona;
    $("avatar").textContent = SB.initials(call.persona);
    $("ring-initials").textContent = SB.initials(call.persona);
    $("caller-who").textContent = call.title;
    $("phone-text").textContent = call.persona + " · " + call.title;
    $("brief").textContent = call.brief;
    $("brief-box").hidden = !call.brief;
    $("transcript").replaceChildren();
    $("coachbox").replaceChildren();
    $("coachbox").hidden = true;
    clearChoices();
    $("mood").hidden = true;
    $("call-error").textContent = "";
    $("say").value = "";
    $("hint").hidden = true;
    $("hints-used").hidden = true;
    $("dock").hidden = true;
    $("phone").hidden = true;
    $("timer").textContent = "0:00";
    setState("connecting", "Connecting…");
    setInputEnabled(false);
    show("callview");
    call.lastSeq = 0; // a fresh page rebuilds the whole call from the server's record
    connect();
  }

  function connect() {
    const proto = location.protocol === "https:" ? "wss://" : "ws://";
    setStatus(attempt === 0 ? "" : "Reconnecting…", attempt === 0 ? "" : "reconnecting");
    const ws = new WebSocket(proto + location.host + call.ws + "&after=" + call.lastSeq);
    socket = ws;
    ws.onopen = () => {
      attempt = 0;
      setStatus("");
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

  // send queues a client message; typing and hint are "quiet": a server that does not
  // know them answers with an error the trainee need not see.
  function send(type, fields) {
    if (!call || ended) return;
    const m = Object.assign({ type, id: idPrefix + "-" + (++counter) }, fields || {});
    if (type === "typing" || type === "hint") call.quiet.push(m.id);
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
    if (!call) return;
    if (m.seq > 0) {
      if (m.seq <= call.lastSeq) { if (m.type === "trainee") acked(m.id); return; }
      call.lastSeq = m.seq;
      save();
    }
    if (typeof m.at === "number" && m.seq > 0) clockBase = performance.now() - m.at;
    switch (m.type) {
      case "ring": ringing(true); break;
      case "line_start":
        lineStart(m);
        // A customer who gave up waiting and moved on starts the composing time again:
        // a reply still being typed is typed for this line now.
        if (composing && answered && !ended && !hungUp && $("say").value.trim() !== "") send("typing");
        break;
      case "word": word(m); break;
      case "line_end": lineEnd(); break;
      case "cut": cut(m); break;
      case "trainee": trainee(m); break;
      case "choices": choices(m); break;
      case "mood": mood(m.mood); break;
      case "feedback": coach(m); break;
      case "whisper": whisper(m); break;
      case "end": end(m); break;
      case "error": error(m); break;
    }
  }

  function ringing(on) {
    $("phone").hidden = !on;
    if (on) {
      setState("ringing", "Ringing");
      $("brief-box").open = true; // read the brief while it rings; it folds away on answering
      setInputEnabled(false);
      $("dock").hidden = true;
      $("answer").focus();
      startRinger();
    } else {
      stopRinger();
    }
  }

  function callClock() {
    return clockBase === null ? 0 : performance.now() - clockBase;
  }

  function tick() {
    if (answerAt === null) return;
    $("timer").textContent = SB.clock(Math.floor((callClock() - answerAt) / 1000) * 1000);
  }

  function transcriptItem(cls, at) {
    const li = el("li", cls);
    if (typeof at === "number" && answerAt !== null) li.append(el("span", "at", SB.clock(Math.floor((at - answerAt) / 1000) * 1000)));
    $("transcript").append(li);
    keepInView(li);
    return li;
  }

  function lineStart(m) {
    lineEnd();
    if (hungUp) return;
    const li = transcriptItem("customer", m.at);
    li.append(el("span", "who", call.persona));
    const words = el("span", "words");
    li.append(words);
    line = { li, wordsEl: words, text: m.text, shown: 0 };
    li.setAttribute("aria-busy", "true");
    clearChoices();
    setState("speaking", call.persona + " is speaking…");
    speak(m);
  }

  function word(m) {
    if (!line) return;
    line.wordsEl.textContent += (line.shown > 0 ? " " : "") + m.text;
    line.shown++;
    keepInView(line.li);
  }

  // keepInView scrolls a growing bubble into view above the dock (its height is the
  // bubbles' scroll margin, --dock-h).
  function keepInView(li) {
    const dock = $("dock");
    const h = dock.hidden ? 0 : dock.offsetHeight;
    document.documentElement.style.setProperty("--dock-h", h + "px");
    const r = li.getBoundingClientRect();
    if (r.bottom > innerHeight - h || r.top < 0) li.scrollIntoView({ block: "nearest" });
  }

  function lineEnd() {
    if (!line) return;
    $("announce").textContent = call.persona + ": " + line.text;
    line.li.removeAttribute("aria-busy");
    line = null;
    yourTurn();
  }

  function yourTurn() {
    disarmHangup();
    if (ended || hungUp) return;
    if (answered) setState("turn", "Your turn");
    if (pendingChoices) { showChoices(pendingChoices); pendingChoices = null; }
  }

  function cut(m) {
    if (!line) return;
    line.li.classList.add("cut");
    line.li.removeAttribute("aria-busy");
    line.li.append(el("span", "cutmark", "cut off after " + m.spoken + " of " + m.words + " words"));
    $("announce").textContent = call.persona + " was cut off: " + line.wordsEl.textContent;
    line = null;
    stopSpeech();
    yourTurn();
  }

  function trainee(m) {
    acked(m.id);
    if (m.event === "typing") return; // the server noted that the trainee started a reply
    if (m.event === "hint") {
      hints++;
      transcriptItem("event hintmark", m.at).append(el("span", "", "Hint used"));
      $("hints-used").textContent = hints === 1 ? "1 hint used" : hints + " hints used";
      $("hints-used").hidden = false;
      return;
    }
    if (m.event === "answer") {
      answered = true;
      answerAt = m.at;
      ringing(false);
      $("brief-box").open = false;
      transcriptItem("event", m.at).append(el("span", "", "You answered the phone."));
      setState("turn", "Your turn");
      $("dock").hidden = false;
      $("hint").hidden = call.suggestions !== "on_request";
      setInputEnabled(true);
      $("say").focus();
      if (!timer) timer = setInterval(tick, 250);
      tick();
      return;
    }
    if (m.event === "hangup") {
      hungUp = true;
      if (line) { line.li.removeAttribute("aria-busy"); line = null; }
      stopSpeech();
      clearChoices();
      transcriptItem("event", m.at).append(el("span", "", "You hung up."));
      setInputEnabled(false);
      return;
    }
    const li = transcriptItem("trainee", m.at);
    li.append(el("span", "who", "You"), el("span", "text", m.text));
    for (const f of m.flags || []) li.append(el("span", "flag", FLAG_TEXT[f] || f));
    if (m.choice !== undefined && m.choice !== null) li.append(el("span", "flag", "suggested reply"));
    // An aside (a *typo fix, "mm" while the customer talks, "sorry?", a lead-in such as
    // "hi there") is no reply: the suggestions and the turn stay as they were.
    if ((m.flags || []).some((f) => ASIDES.includes(f))) return;
    clearChoices();
    pendingChoices = null;
    if (!line && !ended) setState("waiting", call.persona + " is listening");
  }

  function clearChoices() {
    $("choices").replaceChildren();
    $("suggest").hidden = true;
  }

  // choices arrive after the customer's line; a server that sends them earlier has
  // them held until the line ends, so suggestions never show over the customer.
  function choices(m) {
    if (hungUp || ended) return;
    if (line) { pendingChoices = m; return; }
    showChoices(m);
  }

  function showChoices(m) {
    const box = $("choices");
    box.replaceChildren();
    m.choices.forEach((c, i) => {
      const b = el("button", "choice");
      b.type = "button";
      if (i < MAX_KEYED_CHOICES) b.append(el("kbd", "", String(i + 1)));
      b.append(el("span", "", c.text));
      b.addEventListener("click", () => send("choose", { index: c.index }));
      box.append(b);
    });
    const n = Math.min(m.choices.length, MAX_KEYED_CHOICES);
    $("suggest-sum").querySelector(".hint").textContent = n > 1 ? "(keys 1–" + n + ")" : "(key 1)";
    $("suggest").hidden = m.choices.length === 0;
    $("suggest").open = true;
  }

  // The mood meter: five steps, named in words and drawn as filled segments, so colour
  // is never the only cue.
  const MOODS = [[-0.6, "furious"], [-0.2, "annoyed"], [0.2, "calm"], [0.6, "pleased"], [Infinity, "delighted"]];
  function mood(v) {
    const i = MOODS.findIndex(([limit]) => v < limit);
    $("mood").hidden = false;
    $("mood").dataset.level = i;
    $("mood-text").textContent = "Mood: " + MOODS[i][1];
    $("mood-meter").querySelectorAll("i").forEach((seg, k) => seg.classList.toggle("on", k <= i));
  }

  function coach(m) {
    if (!m.text) return;
    const box = $("coachbox");
    box.hidden = false;
    // Equal notes are merged ("×2"), and only the latest few stay on screen.
    for (const p of box.children) {
      if (p.dataset.text === m.text) {
        p.dataset.count = String(Number(p.dataset.count) + 1);
        p.querySelector(".count").textContent = " ×" + p.dataset.count;
        box.append(p);
        box.scrollTop = box.scrollHeight;
        return;
      }
    }
    const p = el("p", "note");
    p.dataset.text = m.text;
    p.dataset.count = "1";
    p.append(el("span", "", m.text), el("span", "count", ""));
    box.append(p);
    box.scrollTop = box.scrollHeight; // the newest note in view
  }

  // whisper shows a supervisor's hint in the dock, marked apart from the coach's notes
  // (issue 16). Only the trainee and the supervisors listening ever see it.
  function whisper(m) {
    const box = $("coachbox");
    box.hidden = false;
    const p = el("p", "note whisper");
    p.append(el("span", "", m.text));
    box.append(p);
  }

  function error(m) {
    acked(m.id);
    if (call && m.id && call.quiet.includes(m.id) && m.code === "unknown_type") return;
    $("call-error").textContent = m.message;
  }

  function end(m) {
    ended = true;
    stopRinger();
    stopSpeech();
    disarmHangup();
    if (timer) { clearInterval(timer); timer = null; }
    hangupSound();
    const done = call;
    call = null;
    save();
    if (socket) socket.close(1000);
    setState("ended", "Call ended");
    lastStart = lastStart && lastStart.scenario === done.scenario ? lastStart
      : { scenario: done.scenario, trainee: done.trainee, coach: done.coach, suggestions: done.suggestions };
    SB.result(done.id, m);

    const scores = m.scores || [];
    const noneAssessed = scores.length > 0 && scores.every((s) => !SB.assessed(s));
    SB.scoreRing($("ring"), m.overall, m.passed, noneAssessed);
    $("verdict").textContent = m.passed ? "✓ Passed" : "✗ Not passed";
    $("verdict").className = "verdict " + (m.passed ? "passed" : "failed");
    $("outcome").textContent = SB.endingTitle(m);
    const meta = [done.persona, done.title];
    if (answerAt !== null) meta.push("call time " + SB.clock(Math.max(0, m.at - answerAt)));
    if (m.hints !== undefined || hints) meta.push(hintText(m.hints !== undefined ? m.hints : hints));
    $("end-meta").textContent = meta.join(" · ");
    $("end-text").textContent = (m.note ? m.note + " " : "") + (m.text || ""); // note: why the call cannot pass
    $("last-line").hidden = !m.last_line;
    $("last-line").textContent = m.last_line ? done.persona + "’s last words: “" + m.last_line + "”" : "";

    const tk = $("takeaways");
    tk.replaceChildren();
    for (const f of SB.takeaways(m.feedback)) tk.append(el("li", "", f.text + SB.times(f.count)));
    $("takeaways-h").textContent = tk.children.length === 3 ? "Three takeaways" : "Takeaways";
    if (!tk.children.length) tk.append(el("li", "", m.passed ? "Nothing to remark on: keep doing what you did." : "The coach had no remarks on this call."));

    const tbody = document.querySelector("#scores tbody");
    tbody.replaceChildren();
    for (const s of scores) tbody.append(scoreRow(s));
    $("scores").querySelector("caption").textContent = noneAssessed ? "Scores — not assessed" : "Scores — overall " + Math.round(m.overall * 100) + "%";

    const fl = $("feedback-list");
    fl.replaceChildren();
    for (const f of SB.merge(m.feedback)) {
      const li = el("li");
      li.append(el("span", "at", SB.clock(answerAt !== null ? Math.max(0, f.at - answerAt) : f.at)), document.createTextNode(f.text + SB.times(f.count)));
      fl.append(li);
    }
    if (!fl.children.length) fl.append(el("li", "", "Nothing to remark on."));
    $("debrief-link").href = "/debrief.html#id=" + encodeURIComponent(done.id) + "&token=" + encodeURIComponent(done.token);
    show("endview");
    $("end-h").focus();
  }

  function hintText(n) {
    return n === 0 ? "no hints used" : n === 1 ? "1 hint used" : n + " hints used";
  }

  function scoreRow(s) {
    const tr = el("tr");
    const th = el("th", "", SB.humanize(s.axis));
    th.scope = "row";
    if (!SB.assessed(s)) {
      const td = el("td", "na", "not assessed");
      td.colSpan = 2;
      tr.append(th, td);
      return tr;
    }
    const pts = SB.points(s);
    const pct = s.max > 0 ? Math.round(pts / s.max * 100) : Math.round(s.normalized * 100);
    const cell = el("td");
    const bar = el("span", "bar");
    bar.setAttribute("aria-hidden", "true");
    const fill = el("span", "fill");
    fill.style.width = pct + "%";
    bar.append(fill);
    cell.append(bar, document.createTextNode(pct + "%"));
    tr.append(th, el("td", "", fmt(pts) + " / " + fmt(s.max)), cell);
    return tr;
  }

  function fmt(n) {
    return Number.isInteger(n) ? String(n) : n.toFixed(1);
  }

  function setInputEnabled(on) {
    $("say").disabled = !on;
    $("send").disabled = !on;
    $("hint").disabled = !on;
    $("hangup").disabled = !on;
  }

  // --- Hanging up ----------------------------------------------------------------------

  // hangup asks once while the customer is mid-sentence: the first press arms the button,
  // a second press within HANGUP_CONFIRM_MS hangs up.
  function hangup() {
    if (!call || ended) return;
    if (line && !hangupArmed) {
      $("hangup-text").textContent = "Hang up anyway?";
      $("hangup-note").textContent = call.persona + " is still talking. Press again to hang up.";
      hangupArmed = setTimeout(disarmHangup, HANGUP_CONFIRM_MS);
      return;
    }
    disarmHangup();
    send("hangup");
  }

  function disarmHangup() {
    if (hangupArmed) clearTimeout(hangupArmed);
    hangupArmed = null;
    $("hangup-text").textContent = "Hang up";
    $("hangup-note").textContent = "";
  }

  // --- Sound and voice ---------------------------------------------------------------

  let audio = null;
  let ringer = null;
  function prepareSound() {
    if (!$("sound").checked || audio) return;
    const AC = window.AudioContext || window.webkitAudioContext;
    if (AC) { try { audio = new AC(); } catch (_) { audio = null; } }
  }

  // tone plays frequencies together for a while, starting after a delay (seconds).
  function tone(freqs, delay, length, volume) {
    if (!audio || !$("sound").checked) return;
    const t = audio.currentTime + delay;
    const gain = audio.createGain();
    gain.gain.setValueAtTime(0, t);
    gain.gain.linearRampToValueAtTime(volume, t + 0.02);
    gain.gain.setValueAtTime(volume, t + length - 0.03);
    gain.gain.linearRampToValueAtTime(0, t + length);
    gain.connect(audio.destination);
    for (const f of freqs) {
      const o = audio.createOscillator();
      o.frequency.value = f;
      o.connect(gain);
      o.start(t);
      o.stop(t + length);
    }
  }

  function startRinger() {
    stopRinger();
    if (!audio || !$("sound").checked) return;
    const burst = () => { tone([440, 480], 0, 0.4, 0.07); tone([440, 480], 0.6, 0.4, 0.07); };
    burst();
    ringer = setInterval(burst, 3000);
  }

  function stopRinger() {
    if (ringer) clearInterval(ringer);
    ringer = null;
  }

  // hangupSound is three short busy-tone beeps.
  function hangupSound() {
    for (let i = 0; i < 3; i++) tone([480, 620], i * 0.5, 0.25, 0.06);
  }

  let speechTimer = 0; // the rest of a line waiting out a {pause}

  function stopSpeech() {
    clearTimeout(speechTimer);
    if (window.speechSynthesis) { try { speechSynthesis.cancel(); } catch (_) { /* no voice: nothing to stop */ } }
  }

  // speechRate maps the persona's words per minute onto speechSynthesis's rate, so the
  // spoken line lasts about as long as the streamed one.
  function speechRate(wpm) {
    if (!wpm) return 1;
    return Math.min(2, Math.max(0.5, Math.round(wpm / SPEECH_WPM * 100) / 100));
  }

  // pickVoice chooses a voice for the persona: the designer's hints (lang, gender) when
  // given, else the same voice for the same persona name, among English voices.
  function pickVoice(persona, hint) {
    const all = speechSynthesis.getVoices() || [];
    if (!all.length) return null;
    let pool = all.filter((v) => /^en\b/i.test(v.lang));
    if (hint && hint.lang) {
      const want = all.filter((v) => v.lang.toLowerCase().startsWith(String(hint.lang).toLowerCase()));
      if (want.length) pool = want;
    }
    if (hint && hint.gender) {
      const g = String(hint.gender).toLowerCase() === "female" ? /female|woman|zira|samantha|susan|karen|victoria|moira|tessa|fiona/i : /\bmale|man\b|david|daniel|alex|fred|george|mark/i;
      const want = pool.filter((v) => g.test(v.name));
      if (want.length) pool = want;
    }
    if (!pool.length) pool = all;
    let h = 0;
    for (const ch of persona) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
    return pool[h % pool.length];
  }

  // speechChunks splits a line at its pauses (line_start's pauses: after N words, ms):
  // each chunk is the text to say, its offset in the line and the silence before it.
  function speechChunks(text, pauses) {
    if (!pauses || !pauses.length) return [{ text, offset: 0, pause: 0 }];
    const words = text.split(/\s+/).filter(Boolean);
    const chunks = [];
    let from = 0, offset = 0, wait = 0;
    for (const p of pauses) {
      if (p.after > from) {
        const t = words.slice(from, p.after).join(" ");
        chunks.push({ text: t, offset, pause: wait });
        offset += t.length + 1;
        from = p.after;
        wait = 0;
      }
      wait += p.ms;
    }
    if (from < words.length) chunks.push({ text: words.slice(from).join(" "), offset, pause: wait });
    return chunks;
  }

  // speak reads the customer's line at its pace (ms_per_word, the persona's or the line's
  // own wpm), coloured by its emotion (EMOTION_VOICE), silent through its pauses. Boundary
  // events mark the word being spoken, so voice and text stay in step; where the browser
  // has no voice it is silent and everything else works.
  function speak(m) {
    if (!$("voice").checked || !window.speechSynthesis || !window.SpeechSynthesisUtterance) return;
    try {
      stopSpeech();
      const wpm = m.ms_per_word > 0 ? Math.round(60000 / m.ms_per_word) : call.wpm;
      const feel = EMOTION_VOICE[m.emotion] || EMOTION_VOICE.neutral;
      const rate = Math.min(2, Math.max(0.5, Math.round(speechRate(wpm) * feel.rate * 100) / 100));
      const hint = call.voice || {};
      const base = typeof hint.pitch === "number" ? hint.pitch : 1;
      const pitch = Math.min(2, Math.max(0, Math.round(base * feel.pitch * 100) / 100));
      const v = pickVoice(call.persona, hint);
      const current = line;
      const chunks = speechChunks(m.text, m.pauses);
      let k = 0;
      const say = () => {
        if (current !== line || k >= chunks.length) return;
        const c = chunks[k++];
        const u = new SpeechSynthesisUtterance(c.text);
        u.rate = rate;
        u.pitch = pitch;
        if (v) { u.voice = v; u.lang = v.lang; } else u.lang = document.documentElement.lang || "en";
        u.onboundary = (e) => {
          if (e.name && e.name !== "word") return;
          if (current && current === line) current.li.dataset.spoken = String(c.offset + e.charIndex);
        };
        if (k < chunks.length) u.onend = () => { speechTimer = setTimeout(say, chunks[k].pause); };
        speechSynthesis.speak(u);
      };
      if (chunks[0].pause) speechTimer = setTimeout(say, chunks[0].pause);
      else say();
    } catch (_) { /* speech is a nicety: the words still stream */ }
  }

  // --- Keys ----------------------------------------------------------------------------

  // Number keys pick suggested replies, unless the focus is in a text field.
  function onKey(e) {
    if ($("callview").hidden || $("suggest").hidden || e.ctrlKey || e.metaKey || e.altKey) return;
    const t = e.target;
    if (t && (t.tagName === "TEXTAREA" || (t.tagName === "INPUT" && t.type !== "radio" && t.type !== "checkbox"))) return;
    if (!/^[1-9]$/.test(e.key)) return;
    const b = $("choices").querySelectorAll("button")[Number(e.key) - 1];
    if (!b) return;
    e.preventDefault();
    b.click();
  }

  // onInput tells the server when a reply starts: at the first keystroke, and again
  // after the box was emptied and typing starts anew.
  function onInput() {
    const empty = $("say").value.trim() === ""; // spaces or a line break alone are not a reply
    if (empty) { composing = false; return; }
    if (!composing && answered && !ended && !hungUp) {
      composing = true;
      send("typing");
    }
  }

  // --- Wiring ------------------------------------------------------------------------

  $("start-form").addEventListener("submit", (e) => { e.preventDefault(); startCall(formSettings()); });
  $("answer").addEventListener("click", () => send("answer"));
  $("hangup").addEventListener("click", hangup);
  $("hint").addEventListener("click", () => send("hint"));
  $("say").addEventListener("input", onInput);
  // An empty reply box never starts with a line break (e.g. the Enter that just sent).
  $("say").addEventListener("beforeinput", (e) => {
    if ((e.inputType === "insertLineBreak" || e.inputType === "insertParagraph") && $("say").value.trim() === "") e.preventDefault();
  });
  $("say-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = $("say").value;
    if (!text.trim()) return;
    send("say", { text });
    $("say").value = "";
    composing = false;
  });
  $("say").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      $("say-form").requestSubmit();
    }
  });
  document.addEventListener("keydown", onKey);
  $("again").addEventListener("click", () => { show("pick"); loadScenarios(); $("start").focus(); });
  $("retry").addEventListener("click", () => { if (lastStart) startCall(lastStart); });

  $("trainee").value = SB.name();
  const ready = loadScenarios();
  const saved = sessionStorage.getItem(STORE_KEY);
  if (saved) {
    try { call = JSON.parse(saved); } catch (_) { call = null; }
    if (call && call.id && call.token) {
      call.quiet = call.quiet || [];
      lastStart = { scenario: call.scenario, trainee: call.trainee, coach: call.coach, suggestions: call.suggestions };
      openCall();
    } else { call = null; save(); }
  } else if (location.hash.startsWith("#again=")) {
    // "Try this call again" from the debrief: the same scenario and settings, at once.
    const p = new URLSearchParams(location.hash.slice(1));
    history.replaceState(null, "", "/");
    ready.then(() => {
      const input = document.querySelector('input[name="scenario"][value="' + CSS.escape(p.get("again")) + '"]');
      if (input) { input.checked = true; modes(null, p.get("suggestions")); }
      $("coach").checked = p.get("coach") === "1";
      startCall(Object.assign(formSettings(), { scenario: p.get("again"), suggestions: p.get("suggestions") || undefined,
        track: p.get("track") || undefined, step: p.get("step") || undefined }));
    });
  }
})();
