// Switchboard studio: library, editor, graph, tests, play with the lid open, revisions,
// paths taken. Plain JavaScript; CodeMirror 5 and dagre are vendored (see vendor/README.md).
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const el = (tag, attrs, ...kids) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v;
      else if (k === "text") e.textContent = v;
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v);
    }
    for (const k of kids) if (k != null) e.append(k);
    return e;
  };
  const SVG = "http://www.w3.org/2000/svg";
  const svg = (tag, attrs) => {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    return e;
  };
  const CHECK_DELAY = 300; // ms after the last keystroke before the text is checked

  async function api(method, path, body) {
    const opts = { method, headers: {} };
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    const r = await fetch(path, opts);
    if (r.status === 401) { location.href = "/studio/sign-in"; throw new Error("signed out"); }
    const data = await r.json().catch(() => null);
    if (!r.ok) {
      const err = new Error((data && data.error && data.error.message) || "the server answered " + r.status);
      err.status = r.status; err.data = data;
      throw err;
    }
    return data;
  }
  const enc = (p) => p.split("/").map(encodeURIComponent).join("/");

  let role = "none";
  const params = new URLSearchParams(location.search);

  async function init() {
    try {
      const me = await api("GET", "/api/studio/me");
      role = me.role;
      $("role").textContent = role;
      $("folder").textContent = me.folder || "the server's scenario folder";
      document.body.classList.add("role-" + role);
      if (role !== "designer") for (const e of document.querySelectorAll(".designer-only")) e.hidden = true;
    } catch (e) { $("fatal").textContent = "The studio could not start: " + e.message; return; }
    const path = params.get("edit");
    if (path) await openEditor(path); else await showLibrary();
    watchChanges();
  }

  // --- Live reload -------------------------------------------------------------------
  let onChange = () => {};
  function watchChanges() {
    const es = new EventSource("/api/studio/events");
    es.addEventListener("change", () => { $("live").classList.remove("off"); onChange(); });
    es.onerror = () => { $("live").classList.add("off"); };
  }

  // --- Library -----------------------------------------------------------------------
  async function showLibrary() {
    $("library-view").hidden = false;
    document.title = "Library · Switchboard studio";
    onChange = loadLibrary;
    await loadLibrary();
    $("new-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      $("new-error").textContent = "";
      try {
        const r = await api("POST", "/api/studio/scenarios", { id: $("new-id").value.trim(), title: $("new-title").value.trim() });
        location.href = "/studio/?edit=" + encodeURIComponent(r.path);
      } catch (e) { $("new-error").textContent = e.message; }
    });
  }

  async function loadLibrary() {
    let data;
    try { data = await api("GET", "/api/studio/scenarios"); } catch (e) { $("fatal").textContent = e.message; return; }
    const rows = $("lib-rows");
    rows.replaceChildren();
    for (const s of data.scenarios) {
      const lint = el("td");
      if (s.errors) lint.append(el("span", { class: "badge err", text: s.errors + (s.errors === 1 ? " error" : " errors") }));
      if (s.warnings) lint.append(el("span", { class: "badge warn", text: s.warnings + (s.warnings === 1 ? " warning" : " warnings") }));
      if (!s.errors && !s.warnings) lint.append(el("span", { class: "badge ok", text: "clean" }));
      const t = s.tests;
      let tests;
      if (!t.file) tests = el("span", { class: "badge none", text: "no tests" });
      else if (!t.ran) tests = el("span", { class: "badge none", text: "not run", title: "the scenario or its test file has errors" });
      else if (t.passed === t.cases) tests = el("span", { class: "badge ok", text: t.passed + "/" + t.cases + " pass" });
      else tests = el("span", { class: "badge err", text: (t.cases - t.passed) + " of " + t.cases + " fail", title: t.failed.join(", ") });
      const pub = s.draft
        ? el("span", { class: "badge " + (s.live ? "warn" : "err"), text: s.live ? "draft — the last passing version" : "draft — nothing yet" })
        : el("span", { class: "badge ok", text: "this version" });
      rows.append(el("tr", { "data-path": s.path },
        el("td", {}, el("a", { href: "/studio/?edit=" + encodeURIComponent(s.path), text: s.title || s.id || s.path }),
          el("div", { class: "path", text: s.path })),
        lint, el("td", {}, tests), el("td", {}, pub)));
    }
    if (!data.scenarios.length) rows.append(el("tr", {}, el("td", { colspan: "4", text: "No scenarios yet: create one below." })));
    await loadTracks();
  }

  const lintBadges = (t) => {
    const td = el("td");
    if (t.errors) td.append(el("span", { class: "badge err", text: t.errors + (t.errors === 1 ? " error" : " errors") }));
    if (t.warnings) td.append(el("span", { class: "badge warn", text: t.warnings + (t.warnings === 1 ? " warning" : " warnings") }));
    if (!t.errors && !t.warnings) td.append(el("span", { class: "badge ok", text: "clean" }));
    return td;
  };

  async function loadTracks() {
    let data;
    try { data = await api("GET", "/api/studio/tracks"); } catch (e) { $("fatal").textContent = e.message; return; }
    const rows = $("track-rows");
    rows.replaceChildren();
    for (const t of data.tracks) {
      rows.append(el("tr", { "data-path": t.path },
        el("td", {}, el("a", { href: "/studio/?edit=" + encodeURIComponent(t.path), text: t.title || t.id || t.path }),
          el("div", { class: "path", text: t.path })),
        el("td", { text: String(t.steps) }), lintBadges(t)));
    }
    if (!data.tracks.length) rows.append(el("tr", {}, el("td", { colspan: "3", text: "No tracks yet: save a file tracks/NAME.yaml (see docs/tracks.md)." })));
  }

  // --- Editor ------------------------------------------------------------------------
  // CodeMirror's YAML mode takes any quote for the start of a string, so the rest of
  // "say: I can't find it" turned red. In YAML a quote starts a quoted value only at the
  // start of one (after "key: ", "- ", "{", "[" or ","); elsewhere it is plain text.
  const quoteStartsValue = (before) => {
    const t = before.replace(/\s+$/, "");
    if (t === "") return true;
    const last = t[t.length - 1];
    if ("{[,".includes(last)) return true;
    return ":-".includes(last) && t.length < before.length;
  };
  CodeMirror.defineMode("switchboard-yaml", (config) => {
    const yaml = CodeMirror.getMode(config, "yaml");
    return Object.assign({}, yaml, {
      token(stream, state) {
        const ch = stream.peek();
        if ((ch === "'" || ch === '"') && !quoteStartsValue(stream.string.slice(0, stream.pos))) {
          stream.next();
          state.pairStart = false;
          return null;
        }
        return yaml.token(stream, state);
      },
    });
  });

  const files = {}; // "scenario" | "tests" → {path, doc, base, clean, exists}
  let cm, current = "scenario", sketch = null, diags = [], paths = null;
  // A track (tracks/NAME.yaml) opens alone, in files.scenario: no test file, no graph;
  // the check endpoint lints it with the track loader.
  const isTrackPath = (p) => /^tracks\/[^/]+\.ya?ml$/.test(p);
  let isTrack = false, fileKeys = ["scenario", "tests"];
  // coverage: what the last test run exercised (engine.Coverage) and the scenario text it ran on.
  let coverage = null;

  async function openEditor(scenarioPath) {
    $("editor-view").hidden = false;
    isTrack = isTrackPath(scenarioPath);
    if (isTrack) { fileKeys = ["scenario"]; document.body.classList.add("track-mode"); }
    const testPath = scenarioPath.replace(/\.ya?ml$/, (m) => ".test" + m);
    cm = CodeMirror($("editor"), {
      mode: "switchboard-yaml", lineNumbers: true, indentUnit: 2, tabSize: 2, indentWithTabs: false, styleActiveLine: true,
      matchBrackets: true, gutters: ["CodeMirror-lint-markers", "CodeMirror-linenumbers"], readOnly: role !== "designer",
      lint: { getAnnotations: lintText, async: true, delay: CHECK_DELAY },
      extraKeys: {
        "Ctrl-S": save, "Cmd-S": save,
        "Ctrl-/": "toggleComment", "Cmd-/": "toggleComment",
        "Tab": (c) => c.somethingSelected() ? c.indentSelection("add") : c.replaceSelection("  "),
        "Shift-Tab": (c) => c.indentSelection("subtract"),
        "F8": nextDiagnostic, "Ctrl-Enter": runTests, "Cmd-Enter": runTests,
        "Shift-Ctrl-F": "replace", "Shift-Cmd-F": "replace",
      },
    });
    cm.getWrapperElement().setAttribute("aria-label", isTrack ? "Track source" : "Scenario source");
    cm.getInputField().setAttribute("aria-label", "Source of the file shown");
    // Its scroller is focusable, and focusing it (Shift+Tab from below) puts the cursor in
    // the text: a scrollable region keyboard users can reach.
    cm.getScrollerElement().setAttribute("tabindex", "0");
    cm.getScrollerElement().addEventListener("focus", () => cm.focus());
    for (const [key, p] of [["scenario", scenarioPath], ["tests", testPath]].filter(([k]) => fileKeys.includes(k))) {
      let f = { exists: false, source: "", hash: "" };
      try { f = await api("GET", "/api/studio/files/" + enc(p)); } catch (e) { $("fatal").textContent = e.message; }
      const doc = CodeMirror.Doc(f.source, "switchboard-yaml");
      files[key] = { path: p, doc, base: f.hash, exists: f.exists, clean: doc.changeGeneration() };
    }
    $("tab-scenario").textContent = scenarioPath;
    if (isTrack) $("tab-tests").hidden = true;
    else $("tab-tests").textContent = testPath + (files.tests.exists ? "" : " (new)");
    $("tab-scenario").addEventListener("click", () => switchFile("scenario"));
    $("tab-tests").addEventListener("click", () => switchFile("tests"));
    document.title = scenarioPath + " · Switchboard studio";
    $("edit-h").textContent = "Editing " + scenarioPath;
    cm.swapDoc(files.scenario.doc);
    cm.performLint();
    cm.on("changes", updateState);
    $("save").addEventListener("click", save);
    $("keys-btn").addEventListener("click", () => {
      const k = $("keys"); k.hidden = !k.hidden; $("keys-btn").setAttribute("aria-expanded", String(!k.hidden));
    });
    $("disk-theirs").addEventListener("click", () => loadFromDisk(true));
    $("disk-mine").addEventListener("click", () => { files[current].base = files[current].diskHash; $("disk-banner").hidden = true; updateState(); });
    for (const b of document.querySelectorAll("[data-panel]")) b.addEventListener("click", () => showPanel(b.dataset.panel));
    setupGraphView();
    $("run-tests").addEventListener("click", runTests);
    $("graph-stale-go").addEventListener("click", () => { if (staleError) jump(staleError.path, staleError.line, staleError.col); });
    $("cov-hide").addEventListener("click", () => { coverage = null; showCoverage(); drawGraph(); });
    $("try-form").addEventListener("submit", tryReply);
    setupPlay();
    setupRevisions();
    setupPaths();
    $("run-impact").addEventListener("click", runImpact);
    if (isTrack) { // of the panels only the revisions apply to a track
      for (const b of document.querySelectorAll("[data-panel]")) b.hidden = b.dataset.panel !== "revisions";
      showPanel("revisions");
    }
    window.addEventListener("beforeunload", (ev) => { if (fileKeys.some(dirty)) { ev.preventDefault(); ev.returnValue = ""; } });
    onChange = () => { loadFromDisk(false); if (!$("panel-revisions").hidden) loadRevisions(); };
    updateState();
    cm.focus();
  }

  const dirty = (key) => !files[key].doc.isClean(files[key].clean);

  function switchFile(key) {
    current = key;
    cm.swapDoc(files[key].doc);
    $("tab-scenario").setAttribute("aria-selected", String(key === "scenario"));
    $("tab-tests").setAttribute("aria-selected", String(key === "tests"));
    $("disk-banner").hidden = !files[key].diskHash || files[key].diskHash === files[key].base;
    cm.performLint();
    updateState();
    cm.focus();
  }

  function updateState() {
    const s = $("file-state");
    const f = files[current];
    const errs = diags.filter((d) => d.severity === "error").length;
    s.className = "state";
    if (dirty(current)) { s.textContent = "unsaved changes"; s.classList.add("dirty"); }
    else if (!f.exists) { s.textContent = "new file, not saved yet"; s.classList.add("dirty"); }
    else if (errs && isTrack) { s.textContent = "saved with errors: the server leaves this track out until they are fixed"; s.classList.add("draft"); }
    else if (errs && current === "scenario") { s.textContent = "saved as a draft: trainees keep the last version that passed"; s.classList.add("draft"); }
    else s.textContent = "saved";
    for (const key of fileKeys) {
      const tab = $("tab-" + key);
      tab.textContent = files[key].path + (dirty(key) ? " •" : "") + (files[key].exists ? "" : " (new)");
    }
  }

  // lintText is CodeMirror's async lint source: it checks the text on the server and
  // turns the diagnostics into marks; the graph and the problems list update from it too.
  async function lintText(text, done, _opts, editor) {
    const key = current;
    const body = { path: files[key].path, source: text };
    if (key === "tests") body.scenario = files.scenario.doc.getValue();
    let res;
    try { res = await api("POST", "/api/studio/check", body); } catch (e) { done([]); return; }
    if (key !== current || text !== files[key].doc.getValue()) return; // switched or typed meanwhile: a newer check follows
    diags = res.diagnostics || [];
    if (res.sketch) showSketch(res.sketch);
    if (key === "scenario") updateCoverageStale();
    showDiagnostics();
    updateState();
    const marks = diags.filter((d) => d.path === files[key].path).map((d) => {
      const line = Math.max(d.line - 1, 0), ch = Math.max(d.col - 1, 0);
      const len = editor.getLine(line) ? editor.getLine(line).length : 0;
      return { from: CodeMirror.Pos(line, ch), to: CodeMirror.Pos(line, Math.min(Math.max(ch + 1, wordEnd(editor, line, ch)), Math.max(len, ch + 1))),
        message: d.message, severity: d.severity };
    });
    done(marks);
  }

  // showSketch draws a checked text's graph. When the text cannot be read as a scenario at
  // all (a YAML error the repairs cannot get round leaves no nodes), the last graph that
  // could be drawn stays, under a banner naming the error, instead of an empty box.
  let staleError = null;
  function showSketch(next) {
    const errs = (next.diagnostics || []).filter((d) => d.severity === "error" && d.path === files.scenario.path);
    if (!next.nodes.length && errs.length && sketch && sketch.nodes.length) {
      staleError = errs[0];
      $("graph-stale-text").textContent = "The graph shows the last version that could be drawn: the text cannot be read as a scenario (" +
        staleError.path + ":" + staleError.line + ":" + staleError.col + ": " + staleError.message + ").";
      $("graph-stale").hidden = false;
      $("graph").classList.add("stale");
      return;
    }
    staleError = null;
    $("graph-stale").hidden = true;
    $("graph").classList.remove("stale");
    sketch = next;
    drawGraph();
    fillNodes();
  }

  function wordEnd(editor, line, ch) {
    const text = editor.getLine(line) || "";
    let i = ch;
    while (i < text.length && /[^\s,:{}\[\]]/.test(text[i])) i++;
    return i;
  }

  function showDiagnostics() {
    const ul = $("diags");
    ul.replaceChildren();
    const errs = diags.filter((d) => d.severity === "error").length;
    $("diag-count").textContent = diags.length ? "(" + errs + " errors, " + (diags.length - errs) + " warnings)" : "(none)";
    for (const d of diags) {
      const b = el("button", { type: "button", onclick: () => jump(d.path, d.line, d.col) },
        el("span", { class: "pos", text: d.path + ":" + d.line + ":" + d.col }),
        el("span", { class: "sev", text: d.severity + ": " }), d.message);
      ul.append(el("li", { class: d.severity }, b));
    }
  }

  function jump(path, line, col) {
    if (files.tests && files.tests.path === path && current !== "tests") switchFile("tests");
    else if (files.scenario.path === path && current !== "scenario") switchFile("scenario");
    const pos = CodeMirror.Pos(Math.max(line - 1, 0), Math.max(col - 1, 0));
    cm.setCursor(pos);
    cm.scrollIntoView(pos, 100);
    cm.focus();
  }

  function nextDiagnostic() {
    const mine = diags.filter((d) => d.path === files[current].path);
    if (!mine.length) return;
    const cur = cm.getCursor();
    const next = mine.find((d) => d.line - 1 > cur.line || (d.line - 1 === cur.line && d.col - 1 > cur.ch)) || mine[0];
    jump(next.path, next.line, next.col);
  }

  async function save() {
    if (role !== "designer") return;
    const key = current, f = files[key];
    const text = f.doc.getValue(), gen = f.doc.changeGeneration();
    $("file-state").textContent = "saving…";
    try {
      const r = await api("PUT", "/api/studio/files/" + enc(f.path), { source: text, base: f.base || "" });
      f.base = r.hash; f.diskHash = r.hash; f.exists = true; f.clean = gen;
      $("disk-banner").hidden = true;
      updateState();
    } catch (e) {
      $("file-state").textContent = "not saved: " + e.message;
      $("file-state").className = "state draft";
      if (e.status === 409) { f.diskHash = "?"; $("disk-banner").hidden = false; }
    }
  }

  // loadFromDisk brings in the file as it is on disk after a change there: silently when
  // the editor has nothing unsaved, else (unless forced) the banner asks.
  async function loadFromDisk(force) {
    for (const key of fileKeys) {
      const f = files[key];
      let d;
      try { d = await api("GET", "/api/studio/files/" + enc(f.path)); } catch (_) { continue; }
      f.diskHash = d.hash;
      if (d.hash === f.base && !force) continue;
      if (key !== current && force) continue;
      if (!dirty(key) || force) {
        const cursor = key === current ? cm.getCursor() : null;
        f.doc.setValue(d.source);
        f.base = d.hash; f.exists = d.exists; f.clean = f.doc.changeGeneration();
        updateState();
        if (cursor) cm.setCursor(cursor);
        if (key === current) { $("disk-banner").hidden = true; cm.performLint(); }
      } else if (key === current) {
        $("disk-banner").hidden = false;
      }
    }
    updateState();
  }

  function showPanel(name) {
    for (const b of document.querySelectorAll("[data-panel]")) b.setAttribute("aria-selected", String(b.dataset.panel === name));
    for (const p of ["graph", "tests", "try", "play", "revisions", "paths", "impact"]) $("panel-" + p).hidden = p !== name;
    if (name === "try") $("try-text").focus();
    if (name === "revisions") loadRevisions();
    if (name === "paths" || name === "play" || name === "tests") { $("panel-graph").hidden = false; } // the graph stays in view
    if (name === "graph") $("panel-graph").hidden = false;
  }

  // --- Graph -------------------------------------------------------------------------
  const clip = (s, n) => (s.length > n ? s.slice(0, n - 1) + "…" : s);
  let currentNode = "";

  // --- Graph view: zoom, pan, fit ------------------------------------------------------
  // The layout is drawn once in graph units inside <g class="view">; the view maps it to the
  // screen: screen = graph × k + (x, y). Below FAR_ZOOM edge labels and the second line of
  // each node are hidden and node ids grow so they stay at least MIN_ID_PX on screen, up to
  // ID_MAX_UNITS (what fits the node's box: from zoom MIN_ID_PX/ID_MAX_UNITS ≈ 0.31 down, an
  // id fills its box and shrinks with it). An id too long for its box at that size is
  // shortened with "…" (the full id shows on hover and focus, and in the find box).
  // FIND_ZOOM is the least zoom a found node is shown at.
  const RULES_BADGE = "\u0000rules", FIT_ABOVE_NODES = 12, FAR_ZOOM = 0.6, MIN_ID_PX = 10, ID_MAX_UNITS = 32,
    MIN_ZOOM = 0.01, MAX_ZOOM = 3, PAN_STEP = 60, DRAG_SLOP = 4, FIND_ZOOM = 1;
  let view = null, fittedFor = "", graphSize = { w: 100, h: 100 }, rankdir = "LR";
  const ROTATE_GAIN = 1.15, LARGE_MIN_W = 100, WIDE_MIN_W = 220;
  let minW = 0;

  function applyView() {
    const box = $("graph"), layer = box.querySelector("g.view");
    if (!layer || !view) return;
    hideTip(); // it would no longer be over its node
    layer.setAttribute("transform", "translate(" + view.x + "," + view.y + ") scale(" + view.k + ")");
    const far = view.k < FAR_ZOOM;
    layer.ownerSVGElement.classList.toggle("far", far);
    const fs = far ? Math.min(MIN_ID_PX / view.k, ID_MAX_UNITS) : 13;
    for (const t of layer.querySelectorAll("text.id")) {
      const w = Number(t.dataset.w) - 12, full = t.dataset.full;
      t.style.fontSize = far ? fs + "px" : "";
      t.setAttribute("y", far ? String(21 + fs * 0.35) : "17");
      t.setAttribute("x", far ? "6" : "10");
      // Shorten a long id to what fits its box, keeping its start and its end around a
      // "…" (ids often differ only at the end: ask_1, ask_2), rather than squeeze or spill it.
      t.textContent = full;
      if (far && t.getComputedTextLength() > w) {
        let lo = 1, hi = full.length - 1;
        while (lo < hi) {
          const mid = Math.ceil((lo + hi) / 2);
          t.textContent = shorten(full, mid);
          if (t.getComputedTextLength() <= w) lo = mid; else hi = mid - 1;
        }
        t.textContent = shorten(full, lo);
      }
      // The accessible name holds the full id; a shortened one is said first, so the name
      // contains what is shown (WCAG 2.5.3, label in name: voice users say what they see).
      const g = t.parentNode, name = g.dataset.name;
      if (name) g.setAttribute("aria-label", (t.textContent !== full ? t.textContent + ": " : "") + name);
    }
    // ✓/✗ coverage marks grow with the ids when zoomed out, so they stay visible.
    const ms = far ? Math.min(Math.max(MIN_ID_PX / view.k / 13, 1), 2.5) : 1;
    for (const m of layer.querySelectorAll("g.covmark")) m.setAttribute("transform", "translate(" + m.parentNode.querySelector("rect").getAttribute("width") + ",0) scale(" + ms + ")");
    box.dataset.zoom = view.k.toFixed(3);
  }

  // shorten keeps n characters of s: its start and its end around a "…".
  const shorten = (s, n) => s.slice(0, Math.ceil(n / 2)) + "…" + s.slice(s.length - Math.floor(n / 2));

  function fitView() {
    const r = $("graph").getBoundingClientRect(), pad = 12;
    const bw = Math.max(r.width, 50), bh = Math.max(r.height, 50);
    const k = Math.max(MIN_ZOOM, Math.min((bw - 2 * pad) / graphSize.w, (bh - 2 * pad) / graphSize.h, 1));
    view = { k, x: (bw - graphSize.w * k) / 2, y: (bh - graphSize.h * k) / 2 };
    applyView();
  }

  function zoomAt(f, cx, cy) {
    if (!view) return;
    const r = $("graph").getBoundingClientRect();
    if (cx === undefined) { cx = r.width / 2; cy = r.height / 2; }
    const k = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, view.k * f));
    view = { k, x: cx - (cx - view.x) * k / view.k, y: cy - (cy - view.y) * k / view.k };
    applyView();
  }

  function panBy(dx, dy) { if (!view) return; view.x += dx; view.y += dy; applyView(); }

  // --- Large graphs: the full label on hover and focus, and find a node -------------
  // showTip shows a node's full id and line over it (ids are shortened when zoomed out,
  // and the second line hidden); the node's accessible name already says the same.
  function showTip(grp) {
    const tip = $("graph-tip"), data = grp.__data;
    if (!data || (drag && drag.moved)) return;
    const status = [];
    if (data.unreachable) status.push("unreachable");
    if (data.dead_end) status.push("dead end");
    if (grp.classList.contains("cov-yes")) status.push("✓ covered by the tests");
    if (grp.classList.contains("cov-no")) status.push("✗ not covered by any test");
    tip.replaceChildren(el("b", { text: data.id }), " ", el("span", { class: "kind", text: data.outcome || data.kind }),
      ...[data.say ? el("div", { text: data.say }) : null, status.length ? el("div", { class: "status", text: status.join(" · ") }) : null].filter(Boolean));
    tip.hidden = false;
    const r = grp.querySelector("rect").getBoundingClientRect(), t = tip.getBoundingClientRect();
    let x = r.left + r.width / 2 - t.width / 2, y = r.top - t.height - 6;
    if (y < 4) y = r.bottom + 6;
    x = Math.max(4, Math.min(x, innerWidth - t.width - 4));
    tip.style.left = x + "px";
    tip.style.top = y + "px";
  }
  const hideTip = () => { $("graph-tip").hidden = true; };

  // findNode centres the node whose id is (or, failing that, contains) the text, at a
  // readable zoom (at least FIND_ZOOM), marks it "found" and focuses it.
  function findNode(text) {
    const q = text.trim().toLowerCase();
    $("find-msg").textContent = "";
    if (!q || !sketch) return;
    const ids = sketch.nodes.map((n) => n.id);
    const id = ids.find((x) => x.toLowerCase() === q) || ids.find((x) => x.toLowerCase().includes(q));
    if (!id) { $("find-msg").textContent = "No node matches “" + text.trim() + "”."; return; }
    const grp = $("graph").querySelector('.node[data-node="' + CSS.escape(id) + '"]');
    if (!grp) return;
    found = id;
    for (const g of $("graph").querySelectorAll(".node.found")) g.classList.remove("found");
    grp.classList.add("found");
    const b = $("graph").getBoundingClientRect(), rect = grp.querySelector("rect");
    const k = Math.min(MAX_ZOOM, Math.max(view.k, FIND_ZOOM));
    const m = /translate\(([-\d.e]+),([-\d.e]+)\)/.exec(grp.getAttribute("transform"));
    const cx = Number(m[1]) + Number(rect.getAttribute("width")) / 2, cy = Number(m[2]) + Number(rect.getAttribute("height")) / 2;
    view = { k, x: b.width / 2 - cx * k, y: b.height / 2 - cy * k };
    applyView();
    grp.focus({ preventScroll: true });
  }
  let found = "", drag = null, dragged = false;

  function setupGraphView() {
    const box = $("graph");
    $("find-form").addEventListener("submit", (ev) => { ev.preventDefault(); findNode($("node-find").value); });
    box.addEventListener("pointerover", (ev) => { const g = ev.target.closest && ev.target.closest(".node"); if (g) showTip(g); });
    box.addEventListener("pointerout", (ev) => { const g = ev.target.closest && ev.target.closest(".node"); if (g && !g.contains(ev.relatedTarget)) hideTip(); });
    box.addEventListener("focusin", (ev) => { const g = ev.target.closest && ev.target.closest(".node"); if (g) showTip(g); else hideTip(); });
    box.addEventListener("focusout", hideTip);
    box.addEventListener("wheel", hideTip, { passive: true });
    $("zoom-in").addEventListener("click", () => zoomAt(1.25));
    $("zoom-out").addEventListener("click", () => zoomAt(1 / 1.25));
    $("zoom-fit").addEventListener("click", fitView);
    // Drag anywhere (a node too) to pan; a drag is not a click.
    dragged = false;
    box.addEventListener("pointerdown", (ev) => {
      if (ev.button !== 0) return;
      drag = { id: ev.pointerId, x: ev.clientX, y: ev.clientY, moved: false };
      dragged = false;
    });
    box.addEventListener("pointermove", (ev) => {
      if (!drag || ev.pointerId !== drag.id) return;
      const dx = ev.clientX - drag.x, dy = ev.clientY - drag.y;
      if (!drag.moved && Math.hypot(dx, dy) < DRAG_SLOP) return;
      if (!drag.moved) { drag.moved = true; box.setPointerCapture(ev.pointerId); box.classList.add("dragging"); hideTip(); }
      drag.x = ev.clientX; drag.y = ev.clientY;
      panBy(dx, dy);
    });
    const end = (ev) => {
      if (!drag || ev.pointerId !== drag.id) return;
      dragged = drag.moved; drag = null; box.classList.remove("dragging");
    };
    box.addEventListener("pointerup", end);
    box.addEventListener("pointercancel", end);
    box.addEventListener("click", (ev) => { if (dragged) { ev.stopPropagation(); ev.preventDefault(); dragged = false; } }, true);
    box.addEventListener("wheel", (ev) => {
      if (!view) return;
      ev.preventDefault();
      const r = box.getBoundingClientRect();
      zoomAt(Math.exp(-ev.deltaY * 0.0015), ev.clientX - r.left, ev.clientY - r.top);
    }, { passive: false });
    box.addEventListener("keydown", (ev) => {
      const moves = { ArrowLeft: [PAN_STEP, 0], ArrowRight: [-PAN_STEP, 0], ArrowUp: [0, PAN_STEP], ArrowDown: [0, -PAN_STEP] };
      if (moves[ev.key]) { ev.preventDefault(); panBy(...moves[ev.key]); }
      else if (ev.key === "+" || ev.key === "=") { ev.preventDefault(); zoomAt(1.25); }
      else if (ev.key === "-") { ev.preventDefault(); zoomAt(1 / 1.25); }
      else if (ev.key === "0") { ev.preventDefault(); fitView(); }
    });
  }

  // layoutGraph lays the sketch out with dagre, ranks from left to right ("LR") or top to
  // bottom ("TB").
  function layoutGraph(rankdir, minW) {
    const g = new dagre.graphlib.Graph({ multigraph: true });
    g.setGraph({ rankdir, nodesep: 22, ranksep: 70, edgesep: 12, marginx: 12, marginy: 12 });
    g.setDefaultEdgeLabel(() => ({}));
    for (const n of sketch.nodes) {
      const sub = n.kind === "ending" ? n.outcome : n.kind === "ring" ? "☎ rings" : n.kind === "router" ? "router" : clip(n.say || "", 26);
      // In a large graph every node is at least LARGE_MIN_W wide, so a short id (end_1)
      // still reads when the graph is fitted and zoomed out.
      const w = Math.max(n.id.length * 7.6, sub.length * 6.3, minW) + 22;
      g.setNode(n.id, { width: w, height: 42, data: n, sub });
    }
    sketch.edges.forEach((e, i) => {
      const label = clip(e.label, 30);
      g.setEdge(e.from, e.to, { label, width: label.length * 6.6 + 6, height: 14, labelpos: "c", data: e }, "e" + i);
    });
    // Global rules that move the call: dashed edges from one "global rules" badge, which
    // stands for "from any node" (a rule fires wherever the call is).
    const moving = sketch.rules.filter((r) => r.to && g.hasNode(r.to));
    if (moving.length) {
      g.setNode(RULES_BADGE, { width: 118, height: 42, data: { kind: "rules" }, sub: moving.length + (moving.length === 1 ? " rule moves" : " rules move") });
      moving.forEach((r, i) => {
        const label = clip("rule " + r.id, 30);
        g.setEdge(RULES_BADGE, r.to, { label, width: label.length * 6.6 + 6, height: 14, labelpos: "c",
          data: { from: "global rules", to: r.to, rule: true, id: r.id, label: "rule " + r.id + ": " + r.when + " (fires from any node)" } }, "r" + i);
      });
    }
    dagre.layout(g);
    return { g, moving };
  }

  // fitZoom is the zoom at which a laid-out graph fits the graph box.
  function fitZoom(g) {
    const r = $("graph").getBoundingClientRect(), pad = 12;
    const bw = Math.max(r.width, 50), bh = Math.max(r.height, 50);
    return Math.min((bw - 2 * pad) / (g.graph().width || 100), (bh - 2 * pad) / (g.graph().height || 100), 1);
  }

  function drawGraph() {
    const box = $("graph");
    if (!sketch) return;
    // A large graph is laid out in the direction in which, fitted to the box, it is drawn
    // largest (so its ids read best): left to right, or top to bottom when that fits more
    // than ROTATE_GAIN times larger. Top to bottom, nodes are then made as wide as the box
    // allows (up to WIDE_MIN_W) without shrinking the fit, so long ids keep more of their
    // letters. Chosen when a scenario is first drawn and kept while editing, so the picture
    // does not flip under the designer.
    const key = sketch.id + "\u0000" + files.scenario.path;
    const large = sketch.nodes.length > FIT_ABOVE_NODES;
    if (fittedFor !== key) { rankdir = "LR"; minW = large ? LARGE_MIN_W : 0; }
    let { g, moving } = layoutGraph(rankdir, minW);
    if (fittedFor !== key && large) {
      const tb = layoutGraph("TB", minW), klr = fitZoom(g), ktb = fitZoom(tb.g);
      box.dataset.fits = "LR " + klr.toFixed(3) + ", TB " + ktb.toFixed(3);
      if (ktb > ROTATE_GAIN * klr) {
        rankdir = "TB"; g = tb.g; moving = tb.moving;
        for (const w of [WIDE_MIN_W, (WIDE_MIN_W + LARGE_MIN_W) / 2]) {
          const wide = layoutGraph("TB", w);
          if (fitZoom(wide.g) >= 0.97 * ktb) { minW = w; g = wide.g; moving = wide.moving; break; }
        }
      }
    }
    box.dataset.rankdir = rankdir;
    const gw = g.graph().width || 100, gh = g.graph().height || 100;
    graphSize = { w: gw, h: gh };
    // role group, not img: its nodes are buttons, which an image could not hold.
    const root = svg("svg", { width: "100%", height: "100%", role: "group",
      "aria-label": "Graph of " + sketch.nodes.length + " nodes and " + sketch.edges.length + " transitions" + (moving.length ? " and " + moving.length + " global rules that move the call" : "") });
    const defs = svg("defs");
    const marker = svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: "9", refY: "5", markerWidth: "7", markerHeight: "7", orient: "auto-start-reverse" });
    marker.append(svg("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#57606a" }));
    const rmarker = svg("marker", { id: "arrow-rule", viewBox: "0 0 10 10", refX: "9", refY: "5", markerWidth: "7", markerHeight: "7", orient: "auto-start-reverse" });
    rmarker.append(svg("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#8250df" }));
    const hatch = svg("pattern", { id: "hatch", width: "8", height: "8", patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)" });
    hatch.append(svg("rect", { width: "3", height: "8", fill: "#6e7781", "fill-opacity": ".28" }));
    defs.append(marker, rmarker, hatch);
    root.append(defs);
    const layer = svg("g", { class: "view" });
    root.append(layer);
    const edgeCount = {};
    if (paths) for (const e of paths.edges) edgeCount[e.from + "\u0000" + e.to] = e.calls;
    const maxCalls = paths ? Math.max(1, ...Object.values(paths.nodes)) : 1;
    const cov = coverageMaps();
    root.classList.toggle("coverage", !!cov);
    for (const ed of g.edges()) {
      const e = g.edge(ed);
      const cls = ["edge"];
      if (e.data.timer) cls.push("timer");
      if (e.data.broken) cls.push("broken");
      if (e.data.rule) cls.push("rule");
      // Coverage: an edge is covered when a test moved the call along it (a global rule's
      // edge when the rule fired). Marked by ✓/✗ in its label and title, not only by colour.
      let covered;
      if (cov) {
        covered = e.data.rule ? cov.rule[e.data.id] : cov.edge[e.data.from + " → " + e.data.to];
        if (covered !== undefined) cls.push(covered ? "cov-yes" : "cov-no");
      }
      const grp = svg("g", { class: cls.join(" "), "data-from": e.data.from, "data-to": e.data.to });
      const pts = e.points;
      let d = "M" + pts[0].x + "," + pts[0].y;
      for (let i = 1; i < pts.length; i++) d += " L" + pts[i].x + "," + pts[i].y;
      const p = svg("path", { d, "marker-end": e.data.rule ? "url(#arrow-rule)" : "url(#arrow)" });
      const c = edgeCount[e.data.from + "\u0000" + e.data.to];
      if (paths) p.setAttribute("stroke-width", String(1 + 6 * (c || 0) / maxCalls));
      const title = svg("title");
      title.textContent = e.data.label + (e.data.broken ? " (does not compile)" : "") + (c ? " — taken by " + c + " calls" : "") +
        (covered === true ? " — covered by the tests" : covered === false ? " — not covered by any test" : "");
      grp.append(title, p);
      if (e.label) {
        const t = svg("text", { x: e.x, y: e.y + 4, "text-anchor": "middle" });
        t.textContent = (covered === true ? "✓ " : covered === false ? "✗ " : "") + e.label + (paths ? "  ×" + (c || 0) : "");
        grp.append(t);
      }
      layer.append(grp);
    }
    for (const id of g.nodes()) {
      const n = g.node(id);
      const data = n.data;
      if (data.kind === "rules") {
        const badge = svg("g", { class: "badge", transform: "translate(" + (n.x - n.width / 2) + "," + (n.y - n.height / 2) + ")",
          tabindex: "0", role: "button", "aria-label": "⚙ global rules " + n.sub + ": they can fire from any node; go to their list" });
        const title = svg("title"); title.textContent = "Global rules fire from any node; the dashed arrows are the ones that move the call";
        const t1 = svg("text", { x: 10, y: 17, class: "id", "data-w": n.width, "data-full": "⚙ global rules" }); t1.textContent = "⚙ global rules";
        // (a leading space, not drawn, so the badge reads "⚙ global rules 1 rule moves", as its name does)
        const t2 = svg("text", { x: 10, y: 33, class: "sub" }); t2.textContent = " " + n.sub;
        badge.append(title, svg("rect", { width: n.width, height: n.height, rx: 14 }), t1, t2);
        const go = () => $("rules").scrollIntoView({ block: "nearest" });
        badge.addEventListener("click", go);
        badge.addEventListener("keydown", (ev) => { if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); go(); } });
        badge.dataset.name = "⚙ global rules " + n.sub + ": they can fire from any node; go to their list";
        layer.append(badge);
        continue;
      }
      const cls = ["node", data.kind];
      if (data.outcome) cls.push(data.outcome);
      if (data.start) cls.push("start");
      if (data.unreachable) cls.push("unreachable");
      if (data.dead_end) cls.push("deadend");
      if (id === currentNode) cls.push("current");
      if (id === found) cls.push("found");
      if (paths && !paths.nodes[id]) cls.push("unused");
      const covered = cov ? cov.node[id] : undefined;
      if (covered !== undefined) cls.push(covered ? "cov-yes" : "cov-no");
      const covText = covered === true ? ", covered by the tests" : covered === false ? ", not covered by any test" : "";
      const grp = svg("g", { class: cls.join(" "), transform: "translate(" + (n.x - n.width / 2) + "," + (n.y - n.height / 2) + ")",
        tabindex: "0", role: "button", "data-node": id,
        "aria-label": "Node " + id + ", " + (data.outcome || data.kind) + (data.unreachable ? ", unreachable" : "") + (data.dead_end ? ", dead end" : "") + covText + ": go to its source" });
      // what the node shows, in its name too (label in name): its second line
      {
        const kind = data.outcome || data.kind, shown = data.unreachable ? "unreachable" : data.dead_end ? "dead end" : n.sub;
        // id then second line, as shown, then what kind of node: the name contains the text
        grp.dataset.name = "Node " + id + (shown ? " " + shown : "") + " (" + kind + covText + "): go to its source";
      }
      const title = svg("title");
      title.textContent = id + (data.unreachable ? " — never reached from the start" : "") + (data.dead_end ? " — not an ending and no way out" : "") +
        (covText ? " —" + covText.slice(1) : "") + (data.say ? "\n" + data.say : "");
      grp.append(title, svg("rect", { width: n.width, height: n.height, rx: data.kind === "ending" ? 12 : 5 }));
      if (covered === false) grp.append(svg("rect", { class: "hatch", width: n.width, height: n.height, rx: data.kind === "ending" ? 12 : 5 }));
      const t1 = svg("text", { x: 10, y: 17, class: "id", "data-w": n.width, "data-full": id }); t1.textContent = id;
      const t2 = svg("text", { x: 10, y: 33, class: "sub" });
      // (a leading space, not drawn, so the node's text reads "id line" to assistive tools)
      t2.textContent = " " + (data.unreachable ? "unreachable" : data.dead_end ? "dead end" : n.sub);
      grp.append(t1, t2);
      if (covered !== undefined) {
        // A ✓ or ✗ mark on the node's corner: coverage reads without colour too.
        const mark = svg("g", { class: "covmark", transform: "translate(" + n.width + ",0)" });
        const glyph = svg("text", { "text-anchor": "middle", y: "4.5" });
        glyph.textContent = covered ? "✓" : "✗";
        mark.append(svg("circle", { r: "9" }), glyph);
        grp.append(mark);
      }
      if (paths) {
        const cnt = svg("text", { x: n.width - 6, y: -4, "text-anchor": "end", class: "count" });
        cnt.textContent = (paths.nodes[id] || 0) + " calls" + (paths.endings[id] ? "" : "");
        grp.append(cnt);
      }
      grp.__data = data;
      const go = () => { jump(files.scenario.path, data.line, data.col); if (paths) listCalls(id); };
      grp.addEventListener("click", go);
      grp.addEventListener("keydown", (ev) => { if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); go(); } });
      layer.append(grp);
    }
    hideTip();
    box.replaceChildren(root);
    $("node-ids").replaceChildren(...sketch.nodes.map((n) => el("option", { value: n.id })));
    // The view (zoom and pan) survives redraws while editing; a new scenario's first
    // large graph is fitted to the box.
    if (!view || fittedFor !== key) {
      fittedFor = key;
      if (sketch.nodes.length > FIT_ABOVE_NODES) fitView(); else { view = { k: 1, x: 0, y: 0 }; applyView(); }
    } else applyView();
    const rules = $("rules");
    rules.replaceChildren();
    for (const r of sketch.rules) {
      const rc = cov ? cov.rule[r.id] : undefined;
      const li = el("li", {}, el("strong", { text: r.id }), ": ", el("code", { text: r.when }),
        r.to ? " → " + r.to : "", el("span", { class: "hint", text: " (" + r.path + ":" + r.line + ")" }),
        rc === undefined ? null : el("span", { class: "rulecov " + (rc ? "cov-yes" : "cov-no"), text: rc ? " ✓ fired in the tests" : " ✗ never fired in the tests" }));
      if (r.path === files.scenario.path) { li.style.cursor = "pointer"; li.addEventListener("click", () => jump(r.path, r.line, r.col)); }
      rules.append(li);
    }
    if (!sketch.rules.length) rules.append(el("li", { text: "none" }));
  }

  // --- Tests -------------------------------------------------------------------------
  // Try a reply: what the scenario in the editor understands of one sentence, and why.
  async function tryReply(ev) {
    ev.preventDefault();
    const text = $("try-text").value;
    $("try-error").textContent = "";
    if (!text.trim()) { $("try-error").textContent = "Type a reply to try."; return; }
    let res;
    try {
      res = await api("POST", "/api/studio/understand", { path: files.scenario.path, source: files.scenario.doc.getValue(), text });
    } catch (e) {
      $("try-error").textContent = e.message;
      $("try-summary").textContent = "";
      $("try-results").replaceChildren();
      return;
    }
    $("try-summary").textContent = res.matched.length
      ? "Understood as " + res.matched.join(", ") + "."
      : "Not understood as any intent.";
    const items = [];
    for (const im of res.intents) {
      for (const h of im.hits || []) {
        items.push(el("li", { class: "hit" },
          el("span", { class: "mark", text: "✓" }), el("b", { text: im.intent }),
          el("span", { text: ": '" + h.words + "'" }), el("span", { class: "phrase", text: "phrase “" + h.phrase + "”" })));
      }
    }
    for (const im of res.intents) {
      for (const b of im.blocked || []) {
        items.push(el("li", { class: "blocked" },
          el("span", { class: "mark", text: "✗" }), el("b", { text: im.intent }),
          el("span", { text: ": '" + b.words + "'" }), el("span", { class: "phrase", text: "phrase “" + b.phrase + "”" }),
          el("span", { class: "why", text: b.reason })));
      }
    }
    for (const n of res.near || []) {
      items.push(el("li", { class: "near" },
        el("span", { class: "mark", text: "~" }), el("b", { text: n.intent }),
        el("span", { text: ": '" + n.between.join(" ") + "' stands between the words of" }),
        el("span", { class: "phrase", text: "phrase “" + n.phrase + "”" })));
    }
    if (res.reading) {
      items.unshift(el("li", { class: "reading" },
        el("span", { text: "Read as: " + res.reading + (res.typos && res.typos.length ? " (typos: " + res.typos.join(", ") + ")" : "") })));
    }
    $("try-results").replaceChildren(...items);
  }

  async function runTests() {
    if (role !== "designer" || isTrack) return;
    showPanel("tests");
    $("tests-summary").textContent = "Running…";
    const list = $("tests-results");
    list.replaceChildren();
    let res;
    try {
      res = await api("POST", "/api/studio/tests", { path: files.scenario.path, source: files.scenario.doc.getValue(), tests: files.tests.doc.getValue() });
    } catch (e) {
      $("tests-summary").textContent = "The tests could not run: " + e.message;
      coverage = null; showCoverage(); drawGraph();
      if (e.data && e.data.diagnostics) for (const d of e.data.diagnostics) list.append(el("li", { class: "fail" }, d.path + ":" + d.line + ":" + d.col + ": " + d.message));
      return;
    }
    $("tests-summary").textContent = res.passed + " passed, " + res.failed + " failed";
    coverage = res.coverage ? Object.assign({ text: files.scenario.doc.getValue() }, res.coverage) : null;
    showCoverage();
    drawGraph();
    for (const t of res.results) {
      const li = el("li", { class: t.passed ? "pass" : "fail" },
        el("span", { class: "verdict", text: t.passed ? "✓ pass" : "✗ FAIL" }), " ",
        el("a", { href: "#", text: t.name, onclick: (ev) => { ev.preventDefault(); jump(files.tests.path, t.line, 1); } }));
      if (!t.passed) {
        const ul = el("ul");
        for (const f of t.failures) ul.append(el("li", { text: f }));
        li.append(ul);
      }
      const det = el("details", {}, el("summary", { text: "Transcript and rule trace" }), el("pre", { text: t.transcript.join("\n") }));
      if (!t.passed) det.open = true;
      li.append(det);
      list.append(li);
    }
  }

  // --- Coverage ----------------------------------------------------------------------
  // The kinds a coverage report counts, in the order the summary names them.
  const COVER_KINDS = [["nodes", "nodes", "node", "never entered"], ["edges", "transitions", "transition", "never taken"],
    ["endings", "endings", "ending", "never reached"], ["rules", "rules", "rule", "never fired"]];

  function coverageSummary(c) {
    return COVER_KINDS.map(([k, plural]) => c[k].filter((i) => i.covered).length + "/" + c[k].length + " " + plural).join(", ");
  }

  // showCoverage fills the Tests panel's coverage section (summary, then each item no test
  // exercised, linked to its line) and the bar above the graph.
  function showCoverage() {
    const on = !!coverage;
    $("coverage").hidden = !on;
    $("cov-bar").hidden = !on;
    $("cov-legend").hidden = !on;
    if (!on) return;
    const sum = coverageSummary(coverage);
    $("cov-summary").textContent = "The tests exercise " + sum + ".";
    $("cov-bar-text").textContent = "Coverage: " + sum;
    const ul = $("cov-missed");
    ul.replaceChildren();
    for (const [k, , one, never] of COVER_KINDS) {
      for (const it of coverage[k]) {
        if (it.covered) continue;
        const what = el("span", {}, el("span", { class: "kind", text: one + " " }), el("code", { text: it.name }), " — " + never + " ");
        const pos = el("span", { class: "pos", text: it.path + ":" + it.line });
        const local = it.path === files.scenario.path;
        ul.append(el("li", { "data-kind": k, "data-name": it.name }, local
          ? el("button", { type: "button", title: "Go to line " + it.line, onclick: () => jump(it.path, it.line, 1) }, what, pos)
          : el("span", {}, what, pos)));
      }
    }
    $("cov-missed-h").hidden = !ul.children.length;
    if (!ul.children.length) ul.append(el("li", { class: "all", text: "Everything is covered." }));
    updateCoverageStale();
  }

  function updateCoverageStale() {
    if (coverage) $("cov-stale").hidden = coverage.text === files.scenario.doc.getValue();
  }

  // coverageMaps indexes the coverage report for the graph: node and ending ids, "from → to"
  // edges, rule ids → covered.
  function coverageMaps() {
    if (!coverage) return null;
    const m = { node: {}, edge: {}, rule: {} };
    for (const it of coverage.nodes.concat(coverage.endings)) m.node[it.name] = it.covered;
    for (const it of coverage.edges) m.edge[it.name] = it.covered;
    for (const it of coverage.rules) m.rule[it.name] = it.covered;
    return m;
  }

  // --- Play with the lid open --------------------------------------------------------
  let ws = null, call = null, msgID = 0, lastCustomer = null;

  function fillNodes() {
    const sel = $("play-node");
    const keep = sel.value;
    sel.replaceChildren(el("option", { value: "", text: "the start (" + (sketch.start || "?") + ")" }));
    for (const n of sketch.nodes) if (n.kind !== "ending") sel.append(el("option", { value: n.id, text: n.id }));
    sel.value = [...sel.options].some((o) => o.value === keep) ? keep : "";
    fillVars();
  }

  function fillVars() {
    const fromNode = $("play-node").value !== "";
    $("play-vars").hidden = !fromNode || !sketch.vars.length;
    const list = $("play-vars-list");
    const old = {};
    for (const i of list.querySelectorAll("[data-var]")) old[i.dataset.var] = i.type === "checkbox" ? i.checked : i.value;
    list.replaceChildren();
    for (const v of sketch.vars) {
      let input;
      if (v.kind === "bool") {
        input = el("input", { type: "checkbox", "data-var": v.name, "data-kind": v.kind });
        input.checked = v.name in old ? old[v.name] : !!v.init;
      } else {
        input = el("input", { type: v.kind === "number" ? "number" : "text", step: "any", "data-var": v.name, "data-kind": v.kind });
        input.value = v.name in old ? old[v.name] : String(v.init);
      }
      list.append(el("label", {}, v.name + " (" + v.kind + ")", input));
    }
  }

  function setupPlay() {
    $("play-node").addEventListener("change", fillVars);
    $("play-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      $("play-error").textContent = "";
      const node = $("play-node").value;
      const body = { path: files.scenario.path, source: files.scenario.doc.getValue() };
      if (node) {
        body.node = node;
        body.vars = {};
        for (const i of $("play-vars-list").querySelectorAll("[data-var]")) {
          body.vars[i.dataset.var] = i.dataset.kind === "bool" ? i.checked : i.dataset.kind === "number" ? Number(i.value) : i.value;
        }
      }
      try { call = await api("POST", "/api/studio/play", body); } catch (e) { $("play-error").textContent = e.message; return; }
      call.fromNode = node;
      startCall();
    });
    $("answer").addEventListener("click", () => send({ type: "answer" }));
    $("hangup").addEventListener("click", () => send({ type: "hangup" }));
    $("say-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      const t = $("say").value.trim();
      if (!t) return;
      send({ type: "say", text: t });
      $("say").value = "";
    });
    $("record-form").addEventListener("submit", recordTest);
  }

  // setCallOpen enables the reply box and hang-up while a call is on, and disables them
  // once it has ended (nothing can be sent to an ended call).
  function setCallOpen(open) {
    for (const id of ["say", "hangup"]) $(id).disabled = !open;
    $("say-form").querySelector("button[type=submit]").disabled = !open;
    $("say").placeholder = open ? "Type your reply and press Enter" : "The call has ended";
  }

  function send(m) {
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    m.id = "s" + (++msgID);
    ws.send(JSON.stringify(m));
  }

  function startCall() {
    if (ws) ws.close();
    $("call").hidden = false;
    $("transcript").replaceChildren();
    $("choices").replaceChildren();
    $("dbg-trace").replaceChildren();
    $("record-form").hidden = true;
    $("record-msg").textContent = "";
    setCallOpen(true);
    $("call-status").textContent = "connecting…";
    lastCustomer = null;
    const proto = location.protocol === "https:" ? "wss://" : "ws://";
    ws = new WebSocket(proto + location.host + call.ws);
    ws.onopen = () => { $("call-status").textContent = "connected"; };
    ws.onmessage = (ev) => { for (const line of ev.data.split("\n")) if (line) handle(JSON.parse(line)); };
    ws.onclose = () => { if ($("call-status").textContent === "connected") $("call-status").textContent = "disconnected"; };
  }

  const say = (cls, text) => {
    const li = el("li", { class: cls, text });
    $("transcript").append(li);
    li.scrollIntoView({ block: "nearest" });
    return li;
  };

  function handle(m) {
    switch (m.type) {
      case "ring": $("call-status").textContent = "☎ ringing"; $("answer").hidden = false; break;
      case "line_start": lastCustomer = say("customer", ""); lastCustomer.dataset.node = m.node; break;
      case "word": if (lastCustomer) lastCustomer.textContent += (lastCustomer.textContent ? " " : "") + m.text; break;
      case "cut": if (lastCustomer) lastCustomer.textContent += " — (cut off)"; break;
      case "trainee":
        if (m.event === "answer") { $("answer").hidden = true; $("call-status").textContent = "on the call"; say("note", "you answered"); }
        else if (m.event === "hangup") say("note", "you hung up");
        else say("trainee", m.text + (m.flags && m.flags.length ? "  [" + m.flags.join(", ") + "]" : ""));
        break;
      case "choices":
        $("choices").replaceChildren(...m.choices.map((c) => el("button", { type: "button", text: c.text, onclick: () => send({ type: "choose", index: c.index }) })));
        break;
      case "feedback": say("note", "feedback" + (m.rule ? " (" + m.rule + ")" : "") + ": " + m.text); break;
      case "end":
        $("call-status").textContent = "ended: " + m.ending + " (" + m.outcome + "), score " + Math.round(m.overall * 100) + "%" + (m.passed ? ", passed" : ", not passed");
        $("choices").replaceChildren();
        $("answer").hidden = true;
        setCallOpen(false);
        say("note", "The call ended at " + m.ending + ": " + (m.text || m.outcome));
        $("record-form").hidden = false;
        if (call.fromNode) $("record-msg").textContent = "A call started from a node cannot become a test (tests start at the start).";
        break;
      case "error": say("note", "⚠ " + m.message); break;
      case "debug": showDebug(m); break;
    }
  }

  function showDebug(m) {
    $("dbg-node").textContent = m.node;
    $("dbg-mood").textContent = m.mood.toFixed(2);
    const kv = (tbody, obj) => {
      tbody.replaceChildren(...Object.keys(obj).sort().map((k) => el("tr", {}, el("td", { text: k }), el("td", { text: JSON.stringify(obj[k]) }))));
    };
    kv($("dbg-vars"), m.vars);
    kv($("dbg-scores"), m.scores);
    currentNode = m.node;
    drawGraph();
    if (!m.trace.length && !m.entered.length && !m.errors.length && !m.said) return;
    const li = el("li", {}, el("div", { class: "step", text: "at " + (m.at / 1000).toFixed(1) + "s" + (m.entered.length ? " → entered " + m.entered.join(" → ") : "") }));
    const ul = el("ul");
    if (m.said) {
      const us = m.understood || [];
      ul.append(el("li", { class: "understood", text: us.length
        ? "understood as " + us.map((u) => u.intent + ": '" + u.words + "'").join("; ")
        : "understood as no intent" }));
    }
    for (const t of m.trace) {
      ul.append(el("li", { class: "g " + (t.holds ? "t" : "f") },
        (t.holds ? "✓ " : "✗ ") + (t.rule ? "rule " + t.rule + ": " : t.node + ": ") + t.when + (t.to ? "  → " + t.to : "") + "  = " + t.holds));
    }
    for (const e of m.errors) ul.append(el("li", { class: "err", text: e }));
    li.append(ul);
    $("dbg-trace").append(li);
    li.scrollIntoView({ block: "nearest" });
  }

  async function recordTest(ev) {
    ev.preventDefault();
    try {
      const r = await api("POST", "/api/studio/record", { id: call.id, token: call.token, name: $("record-name").value });
      const doc = files.tests.doc;
      let text = doc.getValue();
      if (text && !text.endsWith("\n")) text += "\n";
      const start = text.split("\n").length - 1;
      doc.replaceRange((text ? "\n" : "") + r.test, CodeMirror.Pos(doc.lastLine()));
      $("record-msg").textContent = "Added to " + files.tests.path + " (not saved yet).";
      switchFile("tests");
      cm.setCursor(CodeMirror.Pos(start + 1, 0));
      cm.scrollIntoView(null, 100);
    } catch (e) { $("record-msg").textContent = e.message; }
  }

  // --- Revisions ---------------------------------------------------------------------
  // Each version is marked "passed lint" or "N lint errors" (what lint said while it was the
  // current file) and "live" (the bytes trainees get now); opening one shows a line diff
  // from the server (POST /api/studio/diff): to the editor's text, or from the revision
  // before it; or its text.
  let viewing = null, revMode = "editor", revSaved = {};
  // revName names a side of a diff for people: "revision ID" becomes the version's date.
  const revName = (side) => side.replace(/^revision (\d+)$/, (m, id) => revSaved[id] ? "the version replaced " + new Date(revSaved[id]).toLocaleString() : m);
  function setupRevisions() {
    $("rev-close").addEventListener("click", () => { $("rev-view").hidden = true; viewing = null; });
    for (const b of document.querySelectorAll("[data-rev-mode]")) b.addEventListener("click", () => { revMode = b.dataset.revMode; showRevision(); });
    $("rev-restore").addEventListener("click", async () => {
      if (!viewing) return;
      const f = files[current];
      if (dirty(current) && !confirm("Restoring replaces your unsaved changes. Go on?")) return;
      try {
        const r = await api("POST", "/api/studio/restore", { path: f.path, id: viewing.id, base: f.base || "" });
        f.doc.setValue(r.source); f.base = r.hash; f.exists = true; f.clean = f.doc.changeGeneration();
        $("rev-view").hidden = true;
        loadRevisions();
        updateState();
      } catch (e) { $("rev-title").textContent = "Not restored: " + e.message; }
    });
  }

  // revMarks are a version's marks, in words (not only colour).
  function revMarks(v) {
    const out = [];
    if (v.lint === "passed") out.push(el("span", { class: "badge ok rev-lint", text: "✓ passed lint" }));
    else if (v.lint === "errors") out.push(el("span", { class: "badge err rev-lint", text: "✗ " + v.errors + (v.errors === 1 ? " lint error" : " lint errors") }));
    if (v.live) out.push(el("span", { class: "badge live rev-live", title: "Trainees get this version now", text: "● live" }));
    return out;
  }

  async function loadRevisions() {
    const f = files[current];
    const ul = $("revisions");
    let r;
    try { r = await api("GET", "/api/studio/revisions/" + enc(f.path)); } catch (e) { ul.replaceChildren(el("li", { text: e.message })); return; }
    ul.replaceChildren();
    revSaved = {};
    for (const v of r.revisions) revSaved[v.id] = v.saved;
    if (r.current) ul.append(el("li", { class: "rev-current" }, el("span", { text: "The saved file " }), ...revMarks(r.current)));
    if (!r.revisions.length) ul.append(el("li", { text: "No earlier versions of " + f.path + " yet." }));
    for (const v of r.revisions) {
      ul.append(el("li", { "data-rev": v.id }, el("a", { href: "#", text: new Date(v.saved).toLocaleString(), onclick: (ev) => {
        ev.preventDefault();
        viewing = v;
        showRevision();
      } }), " ", ...revMarks(v), el("span", { class: "hint", text: " " + v.size + " bytes" })));
    }
  }

  async function showRevision() {
    if (!viewing) return;
    const f = files[current], v = viewing;
    for (const b of document.querySelectorAll("[data-rev-mode]")) b.setAttribute("aria-pressed", String(b.dataset.revMode === revMode));
    $("rev-title").textContent = f.path + " as it was until " + new Date(v.saved).toLocaleString();
    $("rev-view").hidden = false;
    const table = $("rev-diff"), pre = $("rev-source"), sum = $("rev-diff-summary");
    if (revMode === "source") {
      const d = await api("GET", "/api/studio/revisions/" + enc(f.path) + "?id=" + encodeURIComponent(v.id));
      table.hidden = true; pre.hidden = false; sum.textContent = "";
      pre.textContent = d.source;
      return;
    }
    const body = { path: f.path, id: v.id, against: revMode };
    if (revMode === "editor") body.source = f.doc.getValue();
    let d;
    try { d = await api("POST", "/api/studio/diff", body); } catch (e) { sum.textContent = e.message; table.hidden = true; pre.hidden = true; return; }
    if (viewing !== v) return;
    pre.hidden = true;
    sum.textContent = "From " + revName(d.old) + " to " + revName(d.new) + ": " + (d.hunks.length
      ? "+" + d.added + " line" + (d.added === 1 ? "" : "s") + ", −" + d.removed + " line" + (d.removed === 1 ? "" : "s") + "." : "no changes.") +
      (d.exact ? "" : " More lines differ than the diff compares one by one: the middle is shown as replaced.");
    const tb = table.querySelector("tbody");
    tb.replaceChildren();
    for (const h of d.hunks) {
      tb.append(el("tr", { class: "hunk" }, el("td", { colspan: "4", text: "@@ −" + h.old_start + "," + h.old_lines + " +" + h.new_start + "," + h.new_lines + " @@" })));
      for (const l of h.lines) {
        const cls = l.op === "+" ? "add" : l.op === "-" ? "del" : "same";
        tb.append(el("tr", { class: cls }, el("td", { class: "n", text: l.old ? String(l.old) : "" }), el("td", { class: "n", text: l.new ? String(l.new) : "" }),
          el("td", { class: "op", text: l.op === "-" ? "−" : l.op }), el("td", { class: "t", text: l.text })));
      }
    }
    table.hidden = !d.hunks.length;
  }

  // --- Paths taken -------------------------------------------------------------------
  function setupPaths() {
    $("load-paths").addEventListener("click", async () => {
      const id = sketch && sketch.id;
      if (!id) { $("paths-summary").textContent = "The scenario needs an id first."; return; }
      try { paths = await api("GET", "/api/studio/paths/" + encodeURIComponent(id)); } catch (e) { $("paths-summary").textContent = e.message; return; }
      const ends = Object.entries(paths.endings).map(([k, v]) => k + ": " + v).join(", ");
      $("paths-summary").textContent = paths.calls.length + " recorded calls" + (ends ? " — ended at " + ends : "") +
        (paths.skipped ? " (" + paths.skipped + " could not be replayed)" : "") + ". Click a node to list its calls.";
      $("clear-paths").hidden = false;
      drawGraph();
    });
    $("clear-paths").addEventListener("click", () => {
      paths = null; $("clear-paths").hidden = true; $("paths-summary").textContent = "";
      $("paths-calls").replaceChildren(); $("paths-node-h").hidden = true; drawGraph();
    });
  }

  function listCalls(node) {
    const idx = (paths && paths.by_node[node]) || [];
    $("paths-node-h").hidden = false;
    $("paths-node-h").textContent = idx.length + " calls went through " + node;
    $("paths-calls").replaceChildren(...idx.map((i) => {
      const c = paths.calls[i];
      return el("li", {}, el("a", { href: "/debrief.html#id=" + encodeURIComponent(c.id), target: "_blank", text: (c.trainee || "trainee") + " — " + new Date(c.created).toLocaleString() }),
        " ended at " + c.ending + " (" + c.outcome + ", " + Math.round(c.overall * 100) + "%)");
    }));
    showPanel("paths");
  }

  // --- Impact of a change ------------------------------------------------------------
  async function runImpact() {
    showPanel("impact");
    const list = $("impact-calls");
    list.replaceChildren();
    $("impact-summary").textContent = "Replaying…";
    let res;
    try {
      res = await api("POST", "/api/studio/impact", { path: files.scenario.path, source: files.scenario.doc.getValue() });
    } catch (e) {
      $("impact-summary").textContent = "The calls could not be replayed: " + e.message;
      if (e.data && e.data.diagnostics) for (const d of e.data.diagnostics) list.append(el("li", { class: "fail", text: d.path + ":" + d.line + ":" + d.col + ": " + d.message }));
      return;
    }
    $("impact-summary").textContent = res.replayed + " calls replayed: " + res.changed + " would change" +
      (res.skipped ? " (" + res.skipped + " could not be replayed)" : "") +
      (res.replayed + res.skipped >= res.limit ? " — only the newest " + res.limit + " calls are checked" : "") + ".";
    for (const c of res.calls) {
      if (!c.changes.length) continue;
      const ul = el("ul");
      for (const ch of c.changes) ul.append(el("li", { text: ch }));
      list.append(el("li", { class: "changed" },
        el("a", { href: "/debrief.html#id=" + encodeURIComponent(c.id), target: "_blank", text: (c.trainee || "trainee") + " — " + new Date(c.created).toLocaleString() }), ul));
    }
  }

  init();
})();
