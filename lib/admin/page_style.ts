/**
 * The admin status page's stylesheet, inlined into its `<style>` element by `statusPage()`.
 *
 * @module
 */

/**
 * The CSS of the status page: a system font stack, light and dark colours that follow
 * `prefers-color-scheme`, and a layout that fits a phone (tables scroll sideways in their
 * wrapper). It uses no external asset, so the page needs only `style-src` for it.
 */
export const PAGE_STYLE: string = String.raw`
:root {
  color-scheme: light dark;
  --bg: #f4f6f8; --panel: #fff; --fg: #1c2128; --muted: #5f6b7a; --line: #dfe3e8;
  --head: #f8f9fb; --hover: #f3f6fa; --accent: #2563eb; --accent-fg: #fff;
  --chart-1: #2563eb; --chart-2: #0f9d76; --grid: #e5e8ec;
  --up: #1a7f37; --up-bg: #dcf3e3; --down: #c62828; --down-bg: #fde2e1;
  --ejected: #b45309; --ejected-bg: #fdebd3; --draining: #3f5f8f; --draining-bg: #e3e9f3;
  --error: #b42318; --error-bg: #fef0ef; --error-line: #f5c2be;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0e1116; --panel: #161b22; --fg: #e6edf3; --muted: #8d96a3; --line: #2a313c;
    --head: #1b212a; --hover: #1c232d; --accent: #4c8dff; --accent-fg: #0e1116;
    --chart-1: #5b9bff; --chart-2: #3ccf9d; --grid: #262d37;
    --up: #56d364; --up-bg: #12361d; --down: #ff7b72; --down-bg: #4a1616;
    --ejected: #f0a04b; --ejected-bg: #43290c; --draining: #9fb7dc; --draining-bg: #1f2c42;
    --error: #ffa198; --error-bg: #3a1414; --error-line: #6e2b27;
  }
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body {
  margin: 0; background: var(--bg); color: var(--fg); line-height: 1.45; font-size: 14px;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
[hidden] { display: none !important; }
h1, h2, h3 { margin: 0; line-height: 1.25; }
.top {
  display: flex; flex-wrap: wrap; align-items: center; justify-content: space-between;
  gap: 8px 24px; padding: 12px max(16px, calc((100% - 1200px) / 2));
  background: var(--panel); border-bottom: 1px solid var(--line);
}
.brand { display: flex; align-items: center; gap: 10px; flex-wrap: wrap; }
.brand h1 { font-size: 18px; font-weight: 650; letter-spacing: -0.01em; }
.logo { width: 22px; height: 22px; flex: none; }
.version { color: var(--muted); font-variant-numeric: tabular-nums; }
.meta { display: flex; flex-wrap: wrap; gap: 4px 20px; margin: 0; }
.meta div { display: flex; gap: 6px; align-items: baseline; }
.meta dt { color: var(--muted); font-size: 12px; }
.meta dd { margin: 0; font-weight: 600; font-variant-numeric: tabular-nums; }
main { max-width: 1232px; margin: 0 auto; padding: 16px; display: grid; gap: 16px; }
.banner {
  margin: 0; padding: 10px 14px; border-radius: 8px; border: 1px solid var(--error-line);
  background: var(--error-bg); color: var(--error); font-weight: 500;
  display: flex; gap: 12px; align-items: center; justify-content: space-between;
}
#error { position: sticky; top: 8px; z-index: 3; }
#notice {
  position: fixed; z-index: 3; left: 16px; right: 16px; bottom: 16px; max-width: 760px;
  margin: 0 auto; box-shadow: 0 6px 24px rgb(0 0 0 / 0.18);
}
.stale .tiles, .stale .charts, .stale .panel { opacity: 0.6; transition: opacity 0.3s; }
.badge {
  display: inline-flex; align-items: center; gap: 6px; padding: 1px 9px 1px 8px;
  border-radius: 999px; font-size: 12px; font-weight: 600; white-space: nowrap;
  background: var(--draining-bg); color: var(--draining);
}
.badge::before {
  content: ""; width: 7px; height: 7px; border-radius: 50%; background: currentColor;
}
.state-up { background: var(--up-bg); color: var(--up); }
.state-down { background: var(--down-bg); color: var(--down); }
.state-ejected { background: var(--ejected-bg); color: var(--ejected); }
.state-draining { background: var(--draining-bg); color: var(--draining); }
.badge-drain { background: var(--ejected-bg); color: var(--ejected); text-transform: uppercase; }
.tiles {
  display: grid; gap: 12px; grid-template-columns: repeat(auto-fit, minmax(170px, 1fr));
}
.tile, .panel {
  background: var(--panel); border: 1px solid var(--line); border-radius: 10px;
}
.tile { padding: 12px 14px; min-width: 0; }
.tile h2 { font-size: 12px; font-weight: 500; color: var(--muted); }
.tile-value {
  margin: 4px 0 2px; font-size: 24px; font-weight: 650; font-variant-numeric: tabular-nums;
  white-space: nowrap; overflow: hidden; text-overflow: ellipsis;
}
.tile-sub { margin: 0; font-size: 12px; color: var(--muted); }
.charts {
  display: grid; gap: 12px; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr));
}
.chart { padding: 12px 14px 10px; }
.chart-head { display: flex; justify-content: space-between; align-items: baseline; gap: 8px; }
.chart h2, .panel-head h2, .panel-head h3 { font-size: 14px; font-weight: 600; }
.legend { display: flex; gap: 12px; font-size: 12px; color: var(--muted); }
.key { display: inline-flex; align-items: center; gap: 5px; }
.key::before { content: ""; width: 10px; height: 3px; border-radius: 2px; }
.key-1::before { background: var(--chart-1); }
.key-2::before { background: var(--chart-2); }
.plot { position: relative; height: 150px; margin-top: 6px; }
.plot svg {
  position: absolute; left: 0; top: 16px; width: 100%; height: calc(100% - 34px);
  overflow: hidden; border-top: 1px dashed var(--grid); border-bottom: 1px solid var(--grid);
}
.grid { stroke: var(--grid); stroke-dasharray: 3 3; vector-effect: non-scaling-stroke; }
.line {
  fill: none; stroke-width: 1.75; stroke-linejoin: round; stroke-linecap: round;
  vector-effect: non-scaling-stroke;
}
.area { stroke: none; fill-opacity: 0.12; }
.line-1 { stroke: var(--chart-1); }
.line-2 { stroke: var(--chart-2); }
.area-1 { fill: var(--chart-1); }
.area-2 { fill: var(--chart-2); }
.axis {
  position: absolute; font-size: 11px; line-height: 12px; color: var(--muted);
  font-variant-numeric: tabular-nums; pointer-events: none;
}
.y-top { top: 1px; left: 2px; }
.y-mid { bottom: calc(50% + 4px); left: 2px; }
.x-start { bottom: 1px; left: 2px; }
.x-end { bottom: 1px; right: 2px; }
.section-title { font-size: 15px; font-weight: 600; margin: 4px 2px 0; }
.pools { display: grid; gap: 12px; }
.panel { overflow: hidden; }
.panel-head {
  display: flex; flex-wrap: wrap; align-items: baseline; gap: 4px 12px;
  padding: 10px 14px; border-bottom: 1px solid var(--line);
}
.panel-head h3 { overflow-wrap: anywhere; }
.muted { color: var(--muted); font-size: 12px; }
.table-wrap { overflow-x: auto; -webkit-overflow-scrolling: touch; }
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: 8px 14px; text-align: left; white-space: nowrap; vertical-align: middle; }
thead th {
  font-size: 11px; font-weight: 600; color: var(--muted); text-transform: uppercase;
  letter-spacing: 0.04em; background: var(--head); border-bottom: 1px solid var(--line);
}
tbody th { font-weight: 600; }
tbody tr + tr > * { border-top: 1px solid var(--line); }
tbody tr:hover > * { background: var(--hover); }
.num { text-align: right; }
thead th { overflow: hidden; text-overflow: ellipsis; }
/* Upstream tables share their column widths, so that pools line up. */
@media (min-width: 601px) {
  .pools table { table-layout: fixed; min-width: 900px; }
  .pools tbody th { white-space: normal; overflow-wrap: anywhere; }
  .pools thead th:nth-child(1) { width: 19%; }
  .pools thead th:nth-child(2) { width: 11%; }
  .pools thead th:nth-child(3), .pools thead th:nth-child(4) { width: 7%; }
  .pools thead th:nth-child(5) { width: 8%; }
  .pools thead th:nth-child(6) { width: 10%; }
  .pools thead th:nth-child(7) { width: 12%; }
  .pools thead th:nth-child(8), .pools thead th:nth-child(9) { width: 9%; }
  .pools thead th:nth-child(10) { width: 8%; }
}
.bad { color: var(--down); font-weight: 600; }
.empty { margin: 0; padding: 14px; color: var(--muted); }
button {
  font: inherit; font-size: 12px; font-weight: 600; line-height: 1; cursor: pointer;
  padding: 6px 12px; border-radius: 6px; border: 1px solid var(--line);
  background: var(--panel); color: var(--fg); min-width: 64px;
}
button:hover { border-color: var(--muted); }
button:focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; }
button:disabled { opacity: 0.55; cursor: progress; }
button[data-action="enable"] {
  background: var(--accent); border-color: var(--accent); color: var(--accent-fg);
}
.close { min-width: 0; padding: 4px 10px; background: transparent; color: inherit; }
footer { text-align: center; color: var(--muted); font-size: 12px; padding: 4px 16px 20px; }
@media (max-width: 600px) {
  body { font-size: 13px; }
  main { padding: 12px; gap: 12px; }
  .top { padding: 10px 12px; }
  .tiles { grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 8px; }
  .tile { padding: 10px 12px; }
  .tile-value { font-size: 20px; }
  th, td { padding: 7px 10px; }
  tbody th, thead th:first-child {
    position: sticky; left: 0; z-index: 1; background: var(--panel);
  }
  thead th:first-child { background: var(--head); }
  tbody th { box-shadow: inset -1px 0 0 var(--line); }
  .plot { height: 120px; }
}
`;
