/**
 * The admin status page's script, inlined into its `<script>` element by `statusPage()`.
 *
 * @module
 */

/**
 * The status page's JavaScript, a module of plain ES2020. It polls `status` one request at a time,
 * plots the last 60 seconds in SVG, and fills rows cloned from the page's `<template>`s with
 * `textContent`, never HTML, as pool names and addresses are data.
 */
export const PAGE_SCRIPT: string = String.raw`
const PERIOD = 1000, TIMEOUT = 5000, WINDOW = 60;
const $ = (id) => document.getElementById(id);
const samples = [], pending = new Set(), pools = new Map(), listeners = new Map();
let prev = null, dt = 0, timer = 0, busy = false, again = false;

const num = (v) => (typeof v === "number" && Number.isFinite(v) ? v : 0);
const int = (v) => String(Math.round(num(v)));
function size(n, suffix) {
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let i = 0;
  for (; n >= 1024 && i < units.length - 1; i++) n /= 1024;
  return n.toFixed(i === 0 || n >= 100 ? 0 : n >= 10 ? 1 : 2) + " " + units[i] + (suffix || "");
}
// Per second since the last snapshot; null if unknown, or if the counter went back (a restart).
const rate = (cur, old) =>
  old === undefined || dt <= 0 || num(cur) < num(old) ? null : (num(cur) - num(old)) / dt;
const bps = (n) => (n === null ? "–" : size(n, "/s"));
const perSec = (n) => (n === null ? "–" : n > 0 && n < 10 ? n.toFixed(1) : int(n));
function duration(s) {
  s = Math.floor(num(s));
  const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  return d ? d + "d " + h + "h " + m + "m" : h ? h + "h " + m + "m" : m + "m " + (s % 60) + "s";
}
// Sets a node's text (and its data-value), touching the DOM only when they change.
function set(node, text, value) {
  if (node.textContent !== text) node.textContent = text;
  if (value !== undefined) node.dataset.value = value === null ? "" : String(value);
}
function banner(id, text) {
  $(id).hidden = !text;
  $(id === "error" ? "error" : "notice-text").textContent = text;
  if (id === "error") document.body.classList.toggle("stale", !!text);
}
// Clones a <template>, returning its element and its [data-field] descendants by field.
function clone(id, data) {
  const node = $(id).content.firstElementChild.cloneNode(true), cells = {};
  Object.assign(node.dataset, data);
  for (const c of node.querySelectorAll("[data-field]")) cells[c.dataset.field] = c;
  return { node, cells };
}
// Puts the children in the snapshot's order and drops those no longer in it.
function reorder(parent, map, keys) {
  keys.forEach((key, i) => {
    const node = map.get(key).node;
    if (parent.children[i] !== node) parent.insertBefore(node, parent.children[i] || null);
  });
  for (const [key, r] of map) {
    if (!keys.includes(key)) r.node.remove(), map.delete(key);
  }
}
// Fills the cells listener and upstream rows share, and returns the row's previous snapshot.
function fill(r, x) {
  const c = r.cells, o = r.last || {};
  r.last = x;
  set(c.address, x.address);
  set(c.active, int(x.active));
  set(c.upRate, bps(rate(x.bytesUp, o.bytesUp)));
  set(c.downRate, bps(rate(x.bytesDown, o.bytesDown)));
  return o;
}

function renderListeners(list) {
  for (const l of list) {
    const r = listeners.get(l.address) || clone("listener-row", { listener: l.address });
    listeners.set(l.address, r);
    const c = r.cells, o = fill(r, l);
    set(c.server, String(l.server));
    set(c.accepted, int(l.accepted));
    set(c.rate, perSec(rate(l.accepted, o.accepted)));
  }
  reorder($("listeners"), listeners, list.map((l) => l.address));
  $("listeners-empty").hidden = list.length > 0;
}

function renderPool(p) {
  const view = pools.get(p.name) || Object.assign(clone("pool-panel", {}), { rows: new Map() });
  const ups = p.upstreams || [];
  pools.set(p.name, view);
  set(view.node.querySelector("h3"), p.name);
  const up = ups.filter((u) => u.state === "up").length;
  set(view.node.querySelector(".muted"),
    "server " + p.server + " · " + p.balance + " · " + up + " of " + ups.length + " up");
  for (const u of ups) {
    if (!view.rows.has(u.address)) {
      const r = clone("upstream-row", { pool: p.name, upstream: u.address });
      r.button = r.node.querySelector("button");
      r.button.addEventListener("click", () => act(r, p.name, u.address));
      view.rows.set(u.address, r);
    }
    const r = view.rows.get(u.address), c = r.cells, badge = c.state.firstElementChild;
    const action = u.state === "draining" ? "enable" : "drain";
    fill(r, u);
    set(badge, String(u.state));
    badge.className = "badge state-" + u.state;
    c.state.title = u.healthy === false ? "Health checks failing" : "Health checks passing";
    set(c.weight, int(u.weight));
    set(c.backup, u.backup ? "yes" : "no");
    set(c.connections, int(u.connections));
    set(c.connectErrors, int(u.connectErrors));
    c.connectErrors.classList.toggle("bad", num(u.connectErrors) > 0);
    r.button.dataset.action = action;
    set(r.button, action === "drain" ? "Drain" : "Enable");
    r.button.title = (action === "drain" ? "Stop" : "Resume") + " new connections to it";
    r.button.disabled = pending.has(r);
  }
  reorder(view.node.querySelector("tbody"), view.rows, ups.map((u) => u.address));
}

function render(s, t) {
  if (prev && num(s.uptimeSeconds) < num(prev.s.uptimeSeconds)) prev = null;
  if (!prev) samples.length = 0;
  const p = prev ? prev.s : {}, config = s.config || {};
  dt = prev ? (t - prev.t) / 1000 : 0;
  set($("version"), "v" + s.version);
  set($("uptime"), duration(s.uptimeSeconds));
  $("uptime").title = "Started " + s.startedAt;
  set($("config-version"), "v" + config.version +
    (config.failedReloads ? " (" + config.failedReloads + " failed reloads)" : ""));
  $("config-version").title = (config.file || "command-line flags") + ", " + config.loadedAt;
  set($("workers"), int(s.workers));
  $("draining").hidden = !s.draining;
  document.title = (s.draining ? "Draining · " : "") + int(s.active) + " active · minginx";

  const sample = { t: t / 1000, active: num(s.active), up: rate(s.bytesUp, p.bytesUp),
    down: rate(s.bytesDown, p.bytesDown), rate: rate(s.accepted, p.accepted) };
  const total = num(s.bytesUp) + num(s.bytesDown);
  const tiles = { active: [int(s.active), Math.round(num(s.active))],
    accepted: [int(s.accepted), Math.round(num(s.accepted))],
    rate: [perSec(sample.rate), sample.rate], upRate: [bps(sample.up), sample.up],
    downRate: [bps(sample.down), sample.down], bytes: [size(total), total] };
  for (const [field, [text, value]] of Object.entries(tiles)) {
    set($("summary").querySelector('[data-field="' + field + '"]'), text, value);
  }
  set($("bytes-split"), "in " + size(num(s.bytesUp)) + " · out " + size(num(s.bytesDown)));

  renderListeners(s.listeners || []);
  for (const pool of s.pools || []) renderPool(pool);
  reorder($("pools"), pools, (s.pools || []).map((pool) => pool.name));
  $("pools-empty").hidden = (s.pools || []).length > 0;
  samples.push(sample);
  while (samples.length > 2 && sample.t - samples[1].t > WINDOW) samples.shift();
  prev = { s, t };
  draw();
}

// Rounds a chart's top up to 1, 2 or 5 times a power of ten (of a 1024-unit for bytes).
function nice(max, bytes) {
  const unit = bytes ? 1024 ** Math.max(0, Math.floor(Math.log(max) / Math.log(1024))) : 1;
  const v = Math.max(max / unit, 1e-9), pow = 10 ** Math.floor(Math.log10(v));
  return Math.max([1, 2, 5, 10].find((k) => k * pow >= v) * pow * unit, bytes ? 1024 : 1);
}
// Plots the samples in a 600 x 100 SVG viewBox: 10 units a second, the newest at the right.
function chart(id, keys, bytes, label) {
  const box = $(id), last = samples[samples.length - 1] || { t: 0 };
  const max = Math.max(0, ...samples.flatMap((s) => keys.map((k) => num(s[k]))));
  const top = nice(max, bytes), trim = (s) => s.replace(/(\.\d*?)0+ /, "$1 ").replace(". ", " ");
  const fmt = (v) => (bytes ? trim(size(v, "/s")) : String(+v.toFixed(1)));
  set(box.querySelector(".y-top"), fmt(top));
  set(box.querySelector(".y-mid"), fmt(top / 2));
  const x = (t) => 600 - (last.t - t) * 10, y = (v) => 100 - (num(v) / top) * 100;
  keys.forEach((k, i) => {
    const pts = samples.filter((s) => s[k] !== null).map((s) => [x(s.t), y(s[k])]);
    const line = pts.map(([x, y]) => x.toFixed(1) + "," + y.toFixed(1)).join(" ");
    const area = pts.length ? pts[0][0].toFixed(1) + ",100 " + line + " 600,100" : "";
    box.querySelector(".line-" + (i + 1)).setAttribute("points", line);
    box.querySelector(".area-" + (i + 1)).setAttribute("points", area);
  });
  const now = keys.map((k) => (last[k] == null ? "–" : fmt(last[k])) + " " + k);
  box.firstElementChild.setAttribute("aria-label", label + ", last 60 s; now " + now.join(", "));
}
function draw() {
  chart("chart-active", ["active"], false, "Active connections");
  chart("chart-bytes", ["up", "down"], true, "Throughput, in (up) and out (down)");
}

// "HTTP 409 Conflict: <the body's error>", for a response that is not 2xx.
async function failure(res) {
  let detail = "";
  try {
    detail = await res.text();
    detail = JSON.parse(detail).error || detail;
  } catch { /* no body, or not JSON */ }
  return "HTTP " + res.status + (res.statusText ? " " + res.statusText : "") +
    (detail ? ": " + String(detail).trim().slice(0, 300) : "");
}

async function refresh() {
  const ctrl = new AbortController(), kill = setTimeout(() => ctrl.abort(), TIMEOUT);
  try {
    const res = await fetch("status", { credentials: "same-origin", cache: "no-store",
      signal: ctrl.signal, headers: { accept: "application/json" } });
    if (!res.ok) throw new Error(await failure(res));
    render(await res.json(), performance.now());
    banner("error", "");
    const d = new Date();
    set($("updated"), d.toLocaleTimeString([], { hour12: false }), d.toISOString());
  } catch (e) {
    const why = ctrl.signal.aborted ? "no answer in " + TIMEOUT / 1000 + " s" : e.message || e;
    banner("error", "Cannot load status: " + why + ". Retrying every second…");
  } finally {
    clearTimeout(kill);
  }
}

// One request at a time: the next starts a second after the last ends, or at once if asked.
async function poll() {
  if (busy) return void (again = true);
  clearTimeout(timer);
  busy = true;
  await refresh(); // never throws: it shows its errors
  timer = setTimeout(poll, again ? 0 : PERIOD);
  busy = again = false;
}

async function act(r, pool, address) {
  const action = r.button.dataset.action;
  const url = "upstreams/" + encodeURIComponent(pool) + "/" + encodeURIComponent(address) +
    "/" + action;
  pending.add(r);
  r.button.disabled = true;
  try {
    const res = await fetch(url, { method: "POST", credentials: "same-origin" });
    if (!res.ok) throw new Error(await failure(res));
    banner("notice", "");
  } catch (e) {
    banner("notice", "Could not " + action + " " + address + " in pool " + pool + ": " +
      (e.message || e));
  } finally {
    pending.delete(r);
    r.button.disabled = false;
    poll();
  }
}

$("notice-close").addEventListener("click", () => banner("notice", ""));
poll();
`;
