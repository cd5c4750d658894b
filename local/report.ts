/**
 * The local run's outputs for people: a summary table printed to the terminal and a self-contained
 * HTML report with charts over simulated time (realized, estimated and true accuracy; drift scores of
 * the top features; decisions; deployments; scenario change points). Chart.js's UMD bundle is inlined
 * so the file opens offline (CI, air-gapped laptops, headless Chromium in the e2e test).
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { DAY_MS } from "../contracts/time";

/** A time series point: simulated time (epoch ms) and value. */
export type Point = readonly [t: number, value: number];

export interface Series {
  readonly name: string;
  readonly points: readonly Point[];
}

export type Action = "none" | "alert" | "retrain";

export interface DecisionMark {
  readonly t: number;
  readonly action: Action;
  /** One line of why (breached signals, suppressions). */
  readonly reason: string;
}

export interface EventMark {
  readonly t: number;
  readonly label: string;
}

/** The end-of-run figures, printed as a table and shown on top of the report. */
export interface RunSummary {
  readonly scenario: string;
  readonly simulatedDays: number;
  readonly events: number;
  readonly predictions: number;
  readonly labels: number;
  readonly malformedSent: number;
  readonly aggregated: number;
  readonly quarantined: number;
  readonly evaluations: number;
  readonly alerts: number;
  readonly retrains: number;
  readonly deploys: number;
  /** Retraining runs whose challenger the validation gate rejected (champion kept). */
  readonly rejectedWorkflows: number;
  /** Retraining runs that failed for any other reason. */
  readonly failedWorkflows: number;
  /** True accuracy of served predictions, before the first drift marker. */
  readonly accuracyBeforeDrift: number | undefined;
  /** From the first drift marker to the first deployment after it. */
  readonly accuracyAfterDrift: number | undefined;
  /** From that deployment to the next drift marker (or the end). */
  readonly accuracyAfterRetrain: number | undefined;
  readonly wallSeconds: number;
}

export interface ReportData {
  readonly title: string;
  readonly description: string;
  readonly start: number;
  readonly summary: RunSummary;
  /** Accuracy series: realized (labels), estimated (label-free), true served accuracy per day. */
  readonly accuracy: readonly Series[];
  /** Drift score series of the top features (same metric for all). */
  readonly drift: readonly Series[];
  readonly driftMetric: string;
  /** Per-day volumes: predictions, labels, quarantined. */
  readonly volume: readonly Series[];
  readonly decisions: readonly DecisionMark[];
  readonly deployments: readonly EventMark[];
  readonly markers: readonly EventMark[];
  /** Free-form notes (what was simulated, what is a stand-in). */
  readonly notes: readonly string[];
}

const pct = (x: number | undefined) => (x === undefined ? "n/a" : `${(100 * x).toFixed(1)}%`);

/** Rows of the summary table, shared by the terminal and the HTML. */
export function summaryRows(s: RunSummary): Array<[string, string]> {
  return [
    ["scenario", `${s.scenario} (${s.simulatedDays} simulated days)`],
    [
      "events sent",
      `${s.events} (${s.predictions} predictions, ${s.labels} labels, ${s.malformedSent} malformed)`,
    ],
    ["aggregated", String(s.aggregated)],
    ["quarantined", String(s.quarantined)],
    ["evaluations", String(s.evaluations)],
    ["alerts", String(s.alerts)],
    ["retrains started", String(s.retrains)],
    ["deploys", String(s.deploys)],
    ["challengers rejected", String(s.rejectedWorkflows)],
    ["failed workflows", String(s.failedWorkflows)],
    ["accuracy before drift", pct(s.accuracyBeforeDrift)],
    ["accuracy after drift", pct(s.accuracyAfterDrift)],
    ["accuracy after retrain", pct(s.accuracyAfterRetrain)],
    ["wall time", `${s.wallSeconds.toFixed(1)} s`],
  ];
}

/** Plain-text table for the terminal. */
export function formatSummaryTable(s: RunSummary): string {
  const rows = summaryRows(s);
  const w = Math.max(...rows.map(([k]) => k.length));
  const v = Math.max(...rows.map(([, x]) => x.length));
  const line = `+-${"-".repeat(w)}-+-${"-".repeat(v)}-+`;
  return [line, ...rows.map(([k, x]) => `| ${k.padEnd(w)} | ${x.padEnd(v)} |`), line].join("\n");
}

let chartJsSource: string | undefined;

/** Chart.js's UMD bundle, read once from node_modules. */
export function chartJsBundle(): string {
  if (chartJsSource === undefined) {
    const require = createRequire(import.meta.url);
    // The package's exports hide the UMD file; it sits next to the CommonJS entry in dist/.
    const entry = require.resolve("chart.js");
    chartJsSource = readFileSync(join(dirname(entry), "chart.umd.js"), "utf8");
  }
  return chartJsSource;
}

export const escapeHtml = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** JSON safe to embed in a <script> element. */
export const scriptJson = (x: unknown) =>
  JSON.stringify(x)
    .replace(/</g, "\\u003c")
    .replace(/\u2028|\u2029/g, "");

/** Inlined script text must not close its element early. */
export const scriptSafe = (code: string) => code.replace(/<\/script/gi, "<\\/script");

/** Records page errors in the DOM so a headless check (and a curious reader) can see them. */
export const ERROR_CAPTURE = `
window.reportErrors = [];
window.addEventListener("error", function (e) { window.reportErrors.push(String(e.message)); });
(function () {
  var original = console.error;
  console.error = function () {
    window.reportErrors.push(Array.prototype.join.call(arguments, " "));
    return original.apply(console, arguments);
  };
})();
`;

/**
 * The page's self-check, shared by both reports' page scripts (which define `charts` and `status`): a
 * chart counts as drawn when Chart.js laid out data points inside its plot area.
 */
export const RENDER_STATUS = `  var inside = function (area, el) {
    return isFinite(el.x) && isFinite(el.y) && el.x >= area.left - 1 && el.x <= area.right + 1 &&
      el.y >= area.top - 1 && el.y <= area.bottom + 1;
  };
  var drawn = charts.filter(function (c) {
    return c.data.datasets.some(function (d, i) {
      return c.getDatasetMeta(i).data.some(function (el) { return inside(c.chartArea, el); });
    });
  }).length;
  status.setAttribute("data-charts", String(charts.length));
  status.setAttribute("data-drawn", String(drawn));
  status.setAttribute("data-errors", String(window.reportErrors.length));
  status.textContent = drawn + " of " + charts.length + " charts rendered";`;

const PAGE_SCRIPT = `
(function () {
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var status = document.getElementById("render-status");
  var DAY = 86400000;
  var day = function (t) { return (t - data.start) / DAY; };
  var palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf"];
  var actionColor = { none: "#9e9e9e", alert: "#f0a30a", retrain: "#d62728" };

  // Vertical lines for scenario change points (grey dashed), deployments (green) and retrain decisions (red).
  var markersPlugin = {
    id: "markers",
    afterDatasetsDraw: function (chart) {
      var x = chart.scales.x, area = chart.chartArea, ctx = chart.ctx;
      var draw = function (t, color, dash, label, bottom) {
        var px = x.getPixelForValue(day(t));
        if (px < area.left || px > area.right) return;
        ctx.save();
        ctx.strokeStyle = color; ctx.setLineDash(dash); ctx.lineWidth = 1.5;
        ctx.beginPath(); ctx.moveTo(px, area.top); ctx.lineTo(px, area.bottom); ctx.stroke();
        if (label) { ctx.fillStyle = color; ctx.font = "11px sans-serif"; ctx.fillText(label, px + 3, bottom ? area.bottom - 6 : area.top + 12); }
        ctx.restore();
      };
      data.markers.forEach(function (m) { draw(m.t, "#555", [6, 4], m.label); });
      data.decisions.forEach(function (d) { if (d.action === "retrain") draw(d.t, actionColor.retrain, [2, 3], ""); });
      data.deployments.forEach(function (d) { draw(d.t, "#2ca02c", [], d.label, true); });
    }
  };

  var xAxis = { type: "linear", title: { display: true, text: "simulated day" }, min: 0, max: data.summary.simulatedDays };
  var lines = function (series) {
    return series.map(function (s, i) {
      return {
        label: s.name,
        data: s.points.map(function (p) { return { x: day(p[0]), y: p[1] }; }),
        borderColor: palette[i % palette.length], backgroundColor: palette[i % palette.length],
        pointRadius: 0, borderWidth: 2, spanGaps: true, tension: 0
      };
    });
  };
  var base = { animation: false, responsive: false, parsing: false, normalized: true,
    plugins: { legend: { position: "bottom" } } };
  var charts = [];
  var make = function (id, config) {
    var canvas = document.getElementById(id);
    if (!canvas) return;
    charts.push(new Chart(canvas, config));
  };

  make("chart-accuracy", { type: "line", data: { datasets: lines(data.accuracy) }, plugins: [markersPlugin],
    options: Object.assign({}, base, { scales: { x: xAxis, y: { min: 0, max: 1, title: { display: true, text: "accuracy" } } } }) });
  make("chart-drift", { type: "line", data: { datasets: lines(data.drift) }, plugins: [markersPlugin],
    options: Object.assign({}, base, { scales: { x: xAxis, y: { min: 0, title: { display: true, text: data.driftMetric } } } }) });
  var levels = { none: 0, alert: 1, retrain: 2 };
  make("chart-decisions", { type: "scatter", plugins: [markersPlugin],
    data: { datasets: ["none", "alert", "retrain"].map(function (a) {
      return { label: a, backgroundColor: actionColor[a], pointRadius: a === "none" ? 2 : 5,
        data: data.decisions.filter(function (d) { return d.action === a; }).map(function (d) { return { x: day(d.t), y: levels[a] }; }) };
    }) },
    options: Object.assign({}, base, { scales: { x: xAxis, y: { min: -0.5, max: 2.5,
      ticks: { stepSize: 1, callback: function (v) { return ["none", "alert", "retrain"][v] || ""; } } } } }) });
  make("chart-volume", { type: "line", data: { datasets: lines(data.volume) }, plugins: [markersPlugin],
    options: Object.assign({}, base, { scales: { x: xAxis, y: { min: 0, title: { display: true, text: "records per day" } } } }) });

  // Self-check (on the page for a reader; test/e2e/report-chromium.test.ts checks every series itself): a
  // chart counts as drawn when Chart.js laid out data points inside its plot area. Painted pixels prove
  // nothing: the axes alone paint some.
${RENDER_STATUS}
})();
`;

/** Self-contained HTML (no network): data as JSON, Chart.js inlined, one small page script. */
export function renderReport(data: ReportData): string {
  const rows = summaryRows(data.summary)
    .map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`)
    .join("");
  const notable = data.decisions.filter((d) => d.action !== "none");
  const decisionRows = notable
    .map(
      (d) =>
        `<tr><td>${escapeHtml(new Date(d.t).toISOString().slice(0, 16).replace("T", " "))}</td><td>day ${((d.t - data.start) / DAY_MS).toFixed(2)}</td><td class="${d.action}">${d.action}</td><td>${escapeHtml(d.reason)}</td></tr>`,
    )
    .join("");
  const deployRows = data.deployments
    .map(
      (d) =>
        `<tr><td>${escapeHtml(new Date(d.t).toISOString().slice(0, 16).replace("T", " "))}</td><td>day ${((d.t - data.start) / DAY_MS).toFixed(2)}</td><td>${escapeHtml(d.label)}</td></tr>`,
    )
    .join("");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<script>${ERROR_CAPTURE}</script>
<title>${escapeHtml(data.title)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; max-width: 1100px; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; }
th, td { border: 1px solid #ddd; padding: 0.25rem 0.6rem; text-align: left; font-size: 0.9rem; }
th { background: #f5f5f5; }
td.retrain { color: #d62728; font-weight: bold; } td.alert { color: #b07800; font-weight: bold; }
canvas { border: 1px solid #eee; margin-bottom: 0.5rem; }
.note { color: #666; font-size: 0.85rem; }
</style>
</head>
<body>
<h1>${escapeHtml(data.title)}</h1>
<p>${escapeHtml(data.description)}</p>
<p id="render-status" data-charts="0" data-drawn="0" data-errors="unknown">charts not rendered</p>
<h2>Summary</h2>
<table id="summary">${rows}</table>
<h2>Accuracy over time</h2>
<p class="note">Realized accuracy comes from labelled events in the evaluator's window (labels arrive late);
estimated accuracy is the evaluator's label-free (confidence-based) estimate; true accuracy is what the
simulation knows per day. Dashed grey: scenario change points; dotted red: retrain decisions; green: deployments.</p>
<canvas id="chart-accuracy" width="1050" height="320"></canvas>
<h2>Drift of the top features (${escapeHtml(data.driftMetric)})</h2>
<canvas id="chart-drift" width="1050" height="280"></canvas>
<h2>Decisions</h2>
<canvas id="chart-decisions" width="1050" height="180"></canvas>
<h2>Volume</h2>
<canvas id="chart-volume" width="1050" height="220"></canvas>
<h2>Alerts and retrains</h2>
<table id="decisions"><tr><th>time (UTC)</th><th>simulated</th><th>action</th><th>why</th></tr>${decisionRows}</table>
<h2>Deployments</h2>
<table id="deployments"><tr><th>time (UTC)</th><th>simulated</th><th>model</th></tr>${deployRows}</table>
<h2>Notes</h2>
<ul>${data.notes.map((n) => `<li class="note">${escapeHtml(n)}</li>`).join("")}</ul>
<script id="report-data" type="application/json">${scriptJson(data)}</script>
<script>${scriptSafe(chartJsBundle())}</script>
<script>${scriptSafe(PAGE_SCRIPT)}</script>
</body>
</html>
`;
}
