/**
 * The admin status page, in the spirit of HAProxy's stats page: one self-contained HTML document
 * that polls `GET status` every second and drains or enables upstreams with
 * `POST upstreams/{pool}/{address}/{drain|enable}`, both relative to the page's own URL.
 *
 * @module
 */

import { PAGE_SCRIPT } from "./page_script.ts";
import { PAGE_STYLE } from "./page_style.ts";

/** A table column: its cells' `data-field`, its header, and whether it holds numbers. */
type Column = [field: string, header: string, numeric?: boolean];

const LISTENER_COLUMNS: Column[] = [
  ["address", "Address"],
  ["server", "Server"],
  ["active", "Active", true],
  ["accepted", "Accepted", true],
  ["rate", "Conn/s", true],
  ["upRate", "In", true],
  ["downRate", "Out", true],
];

const UPSTREAM_COLUMNS: Column[] = [
  ["address", "Address"],
  ["state", "State"],
  ["weight", "Weight", true],
  ["backup", "Backup"],
  ["active", "Active", true],
  ["connections", "Connections", true],
  ["connectErrors", "Connect errors", true],
  ["upRate", "In", true],
  ["downRate", "Out", true],
  ["action", "Action", true],
];

/** What the script fills in, for the cells that hold more than text. */
const CELL_CONTENT: Record<string, string> = {
  state: '<span class="badge"></span>',
  action: '<button type="button"></button>',
};

const ICON = '<rect width="16" height="16" rx="4" fill="#2563eb"/>' +
  '<path d="M4 11.5v-7l4 4 4-4v7" fill="none" stroke="#fff" stroke-width="1.8"/>';

function head(columns: Column[]): string {
  const ths = columns.map(([, header, numeric]) =>
    `<th scope="col"${numeric ? ' class="num"' : ""}>${header}</th>`
  );
  return `<thead><tr>${ths.join("")}</tr></thead>`;
}

/** An empty row: a row header for the first column, then data cells, each with `data-field`. */
function row(columns: Column[]): string {
  const cells = columns.map(([field, , numeric], i) => {
    const tag = i === 0 ? "th" : "td";
    const attrs = (i === 0 ? ' scope="row"' : "") + (numeric ? ' class="num"' : "");
    return `<${tag}${attrs} data-field="${field}">${CELL_CONTENT[field] ?? ""}</${tag}>`;
  });
  return `<tr>${cells.join("")}</tr>`;
}

function tile(label: string, field: string, sub: string): string {
  return `<div class="tile"><h2>${label}</h2>` +
    `<p class="tile-value" data-field="${field}" data-value="">–</p>` +
    `<p class="tile-sub"${field === "bytes" ? ' id="bytes-split"' : ""}>${sub}</p></div>`;
}

/** A chart's frame; the script sets its lines' points in the 600 x 100 viewBox. */
function chart(id: string, title: string, keys: string[]): string {
  const legend = keys.map((key, i) => `<span class="key key-${i + 1}">${key}</span>`);
  const areas = keys.map((_, i) => `<polygon class="area area-${i + 1}"/>`);
  const lines = keys.map((_, i) => `<polyline class="line line-${i + 1}"/>`);
  return `<section class="panel chart" aria-labelledby="${id}-title">` +
    `<div class="chart-head"><h2 id="${id}-title">${title}</h2>` +
    `<div class="legend">${legend.join("")}</div></div><div class="plot" id="${id}">` +
    `<svg viewBox="0 0 600 100" preserveAspectRatio="none" role="img" aria-label="${title}">` +
    `<line class="grid" x1="0" y1="50" x2="600" y2="50"/>${areas.join("")}${lines.join("")}` +
    `</svg><span class="axis y-top"></span><span class="axis y-mid"></span>` +
    `<span class="axis x-start">60 s ago</span><span class="axis x-end">now</span></div></section>`;
}

const HEADER = `<header class="top">
<div class="brand"><svg class="logo" viewBox="0 0 16 16" aria-hidden="true">${ICON}</svg>
<h1>minginx</h1><span class="version" id="version"></span>
<span class="badge badge-drain" id="draining" hidden>Draining</span></div>
<dl class="meta">
<div><dt>Uptime</dt><dd id="uptime">–</dd></div>
<div><dt>Config</dt><dd id="config-version">–</dd></div>
<div><dt>Workers</dt><dd id="workers">–</dd></div>
<div><dt>Updated</dt><dd><span id="updated">–</span></dd></div>
</dl>
</header>`;

const MAIN = `<main>
<div id="error" class="banner" role="alert" hidden></div>
<div id="notice" class="banner" role="alert" hidden><span id="notice-text"></span>
<button type="button" class="close" id="notice-close">Dismiss</button></div>
<section id="summary" class="tiles" aria-label="Summary">
${tile("Active connections", "active", "open now")}
${tile("New connections", "rate", "per second")}
${tile("Accepted", "accepted", "since start")}
${tile("Throughput in", "upRate", "clients → upstreams")}
${tile("Throughput out", "downRate", "upstreams → clients")}
${tile("Transferred", "bytes", "in and out, since start")}
</section>
<div class="charts">
${chart("chart-active", "Active connections", ["Active"])}
${chart("chart-bytes", "Throughput", ["In", "Out"])}
</div>
<section class="panel" aria-labelledby="listeners-title">
<div class="panel-head"><h2 id="listeners-title">Listeners</h2></div>
<div class="table-wrap"><table>${head(LISTENER_COLUMNS)}<tbody id="listeners"></tbody></table></div>
<p class="empty" id="listeners-empty" hidden>No listeners.</p>
</section>
<h2 class="section-title">Pools</h2>
<div class="pools" id="pools"></div>
<p class="empty" id="pools-empty" hidden>No pools.</p>
</main>`;

const TEMPLATES = `<template id="listener-row">${row(LISTENER_COLUMNS)}</template>
<template id="upstream-row">${row(UPSTREAM_COLUMNS)}</template>
<template id="pool-panel"><section class="panel"><div class="panel-head"><h3></h3>` +
  `<span class="muted"></span></div><div class="table-wrap"><table>${head(UPSTREAM_COLUMNS)}` +
  `<tbody></tbody></table></div></section></template>`;

/**
 * Renders the admin status page: a complete HTML document with its CSS and script inline and
 * no external asset. It is the same string on every call, so it can be built once and served
 * as is, with a Content-Security-Policy that allows its `<script>` and `<style>` by hash (see
 * {@linkcode statusPageCsp}).
 *
 * The page fetches `status` and posts to `upstreams/…` relative to its own URL, so serve it at
 * the admin API's root (`/`), or at a path ending in `/` below which the API lives.
 *
 * @returns The page, starting with `<!doctype html>`.
 */
export function statusPage(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>minginx status</title>
<link rel="icon" href="data:image/svg+xml,${
    encodeURIComponent(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16">${ICON}</svg>`)
  }">
<style>${PAGE_STYLE}</style>
</head>
<body>
${HEADER}
${MAIN}
<footer>Refreshes every second. Rates are averages between two refreshes.</footer>
${TEMPLATES}
<script type="module">${PAGE_SCRIPT}</script>
</body>
</html>
`;
}

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return `'sha256-${btoa(String.fromCharCode(...new Uint8Array(digest)))}'`;
}

/**
 * Builds a strict Content-Security-Policy for {@linkcode statusPage}: nothing may load or run
 * but the page's own inline `<script>` and `<style>` (allowed by their SHA-256 hashes), `fetch`
 * to its own origin, and its inline `data:` icon.
 *
 * @returns The value for a `Content-Security-Policy` response header.
 */
export async function statusPageCsp(): Promise<string> {
  return [
    "default-src 'none'",
    `script-src ${await sha256(PAGE_SCRIPT)}`,
    `style-src ${await sha256(PAGE_STYLE)}`,
    "connect-src 'self'",
    "img-src data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}
