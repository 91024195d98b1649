// Switchboard: helpers shared by the call page (app.js) and the records pages (records.js).
// Plain JavaScript, no build step, no third-party code. Everything from the server is
// rendered with textContent, never as HTML.
"use strict";
// How a trainee message's flags read (docs/protocol.md).
const FLAG_TEXT = {interrupted: "spoke over the customer", correction: "correction, not judged", backchannel: "listening, not judged", repeat: "asked to repeat, not judged", "lead-in": "lead-in, read with your next message", "read-in": "correction, read into your previous message"};
// The flags of an aside: a message the call records but does not judge as a reply.
const ASIDES = ["correction", "backchannel", "repeat", "lead-in"];

(function () {
  const HISTORY_KEY = "switchboard.history"; // calls taken in this browser, newest first
  const NAME_KEY = "switchboard.trainee"; // the trainee's name, remembered for the start form
  const HISTORY_MAX = 200;
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

  // clock formats milliseconds as m:ss, rounded to the nearest second ("0:57").
  function clock(ms) {
    const s = Math.max(0, Math.round((ms || 0) / 1000));
    return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  }

  // when formats a date in the browser's locale.
  function when(iso) {
    const d = new Date(iso);
    if (isNaN(d)) return "";
    return new Intl.DateTimeFormat(navigator.languages, { dateStyle: "medium", timeStyle: "short" }).format(d);
  }

  function initials(name) {
    const words = String(name || "?").replace(/^(mr|mrs|ms|dr|miss)\.?\s+/i, "").split(/\s+/).filter(Boolean);
    const first = words.length ? words[0][0] : "?";
    const last = words.length > 1 ? words[words.length - 1][0] : "";
    return (first + last).toUpperCase();
  }

  // humanize turns an id like "hung_up_ringing" into "Hung up ringing".
  function humanize(id) {
    const s = String(id || "").replace(/[_-]+/g, " ").trim();
    return s ? s[0].toUpperCase() + s.slice(1) : "";
  }

  // endingTitle is the designer's ending title, or a readable stand-in for older records.
  function endingTitle(end) {
    if (!end) return "";
    if (end.title) return end.title;
    if (end.ending === "hangup") return "You hung up";
    return humanize(end.ending || end.outcome);
  }

  // points clamps an axis's points into 0…max (older servers could send negatives).
  function points(s) {
    return Math.max(0, Math.min(s.max, s.points));
  }

  function assessed(s) {
    return s.assessed !== false;
  }

  // merge folds equal coach lines into one with a count, in order of first appearance.
  function merge(items) {
    const out = [];
    const byText = new Map();
    for (const f of items || []) {
      if (!f.text) continue;
      const seen = byText.get(f.text);
      if (seen) { seen.count++; continue; }
      const m = Object.assign({ count: 1 }, f);
      byText.set(f.text, m);
      out.push(m);
    }
    return out;
  }

  // takeaways picks the (at most) three most useful coach lines: those repeated most,
  // then the earliest.
  function takeaways(items) {
    return merge(items).map((m, i) => ({ m, i })).sort((a, b) => b.m.count - a.m.count || a.i - b.i).slice(0, 3).map((x) => x.m);
  }

  function times(n) {
    return n > 1 ? " ×" + n : "";
  }

  // scoreRing draws the overall score as a ring with the percentage in its middle.
  function scoreRing(box, overall, passed, notAssessed) {
    box.replaceChildren();
    const pct = Math.round(Math.max(0, Math.min(1, overall || 0)) * 100);
    const r = 42, c = 2 * Math.PI * r;
    const s = svg("svg", { viewBox: "0 0 100 100", width: "112", height: "112", "aria-hidden": "true", class: "ring " + (passed ? "passed" : "failed") });
    s.append(svg("circle", { cx: 50, cy: 50, r, class: "track" }));
    if (pct > 0) s.append(svg("circle", { cx: 50, cy: 50, r, class: "value", "stroke-dasharray": (c * pct / 100) + " " + c, transform: "rotate(-90 50 50)" }));
    box.append(s);
    const label = el("p", "ring-label");
    label.append(el("span", "pct", notAssessed ? "—" : pct + "%"), el("span", "sub", "overall"));
    box.append(label);
    box.setAttribute("role", "img");
    box.setAttribute("aria-label", notAssessed ? "Overall score: not assessed" : "Overall score " + pct + " percent");
  }

  function history() {
    try { return JSON.parse(localStorage.getItem(HISTORY_KEY)) || []; } catch (_) { return []; }
  }

  function saveHistory(list) {
    try { localStorage.setItem(HISTORY_KEY, JSON.stringify(list.slice(0, HISTORY_MAX))); } catch (_) { /* storage full: history is a convenience */ }
  }

  // remember adds or updates a call in this browser's history, newest first.
  function remember(entry) {
    let list = history();
    const old = list.find((x) => x.id === entry.id);
    list = list.filter((x) => x.id !== entry.id);
    list.unshift(Object.assign({}, old || {}, entry));
    saveHistory(list);
  }

  // result stores a finished call's result on its history entry (for the picker's
  // "last result" and the history page).
  function result(id, end) {
    const list = history();
    const e = list.find((x) => x.id === id);
    if (!e || !end) return;
    e.result = { passed: !!end.passed, overall: end.overall, title: endingTitle(end), outcome: end.outcome };
    saveHistory(list);
  }

  function name() {
    try { return localStorage.getItem(NAME_KEY) || ""; } catch (_) { return ""; }
  }

  function setName(v) {
    try { localStorage.setItem(NAME_KEY, v); } catch (_) { /* not essential */ }
  }

  // againURL is the link that starts a new call of the same scenario with the same
  // settings (the call page reads it, see app.js).
  function againURL(opts) {
    const p = new URLSearchParams();
    p.set("again", opts.scenario);
    if (opts.suggestions) p.set("suggestions", opts.suggestions);
    if (opts.coach) p.set("coach", "1");
    return "/#" + p.toString();
  }

  window.SB = { el, svg, clock, when, initials, humanize, endingTitle, points, assessed, merge, takeaways, times,
    scoreRing, history, remember, result, name, setName, againURL };
})();
