/**
 * `replay --report <file.html>`: a self-contained HTML report of a backtest, like local mode's
 * (local/report.ts, whose Chart.js bundle and embedding helpers it shares): the ingest counts, the table
 * per compared policy, and charts over the log's time: labelled accuracy per model with the change points,
 * each signal of the configuration's policy against its threshold, and every policy's decisions.
 */
import { writeFile } from "node:fs/promises";
import { type ChangeMark, formatPolicyTable } from "./backtest";
import { blocksOf } from "./change-points";
import type { ReplayResult } from "./replay";
import { chartJsBundle, ERROR_CAPTURE, escapeHtml, RENDER_STATUS, scriptJson, scriptSafe } from "./report";

/** Hours per point of the accuracy chart. */
const ACCURACY_BLOCK_HOURS = 6;

interface SignalSeries {
  readonly modelId: string;
  readonly signal: string;
  readonly points: ReadonlyArray<readonly [number, number | null, number | null]>;
}

/** What the page script draws. */
export interface ReplayReportData {
  readonly from: number;
  readonly to: number;
  readonly policies: readonly string[];
  readonly accuracy: ReadonlyArray<{ modelId: string; points: ReadonlyArray<readonly [number, number]> }>;
  readonly changePoints: readonly ChangeMark[];
  readonly signals: readonly SignalSeries[];
  readonly decisions: ReadonlyArray<{
    t: number;
    policy: string;
    modelId: string;
    action: string;
    reason: string;
  }>;
}

/** The data of the charts, from a replay's result. */
export function replayReportData(result: ReplayResult): ReplayReportData {
  const { summary, decisions } = result;
  const policies = summary.policies.map((p) => p.policy);
  const own = policies[0];
  const signals = new Map<
    string,
    { modelId: string; signal: string; points: Array<[number, number | null, number | null]> }
  >();
  for (const d of decisions) {
    if (d.policy !== own) continue;
    const list = (d.line.signals ?? []) as Array<{
      signal: string;
      value: number | null;
      threshold: number | null;
    }>;
    for (const s of list) {
      if (s.signal.includes(":")) continue;
      const key = `${d.modelId}\u0000${s.signal}`;
      let series = signals.get(key);
      if (!series) {
        series = { modelId: d.modelId, signal: s.signal, points: [] };
        signals.set(key, series);
      }
      series.points.push([d.evaluatedAt, s.value, s.threshold]);
    }
  }
  return {
    from: Date.parse(summary.from),
    // The last evaluation comes after the last event.
    to: decisions.reduce((t, d) => Math.max(t, d.evaluatedAt), Date.parse(summary.to)),
    policies,
    accuracy: [...result.accuracy.entries()].map(([modelId, points]) => ({
      modelId,
      points: blocksOf(points, ACCURACY_BLOCK_HOURS).map((b) => [b.t, b.correct / b.n] as const),
    })),
    changePoints: summary.changePoints,
    signals: [...signals.values()].filter((s) => s.points.some((p) => p[1] !== null)),
    decisions: decisions.map((d) => ({
      t: d.evaluatedAt,
      policy: d.policy,
      modelId: d.modelId,
      action: d.action,
      reason: d.reason,
    })),
  };
}

const PAGE_SCRIPT = `
(function () {
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var status = document.getElementById("render-status");
  var DAY = 86400000;
  var day = function (t) { return (t - data.from) / DAY; };
  var palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf"];
  var actionColor = { none: "#9e9e9e", alert: "#f0a30a", retrain: "#d62728" };
  var xAxis = { type: "linear", title: { display: true, text: "days since " + new Date(data.from).toISOString().slice(0, 16) + "Z" },
    min: 0, max: Math.max(day(data.to), 0.25) };
  var base = { animation: false, responsive: false, parsing: false, normalized: true, plugins: { legend: { position: "bottom" } } };
  var changes = function (modelId) {
    return { id: "changes", afterDatasetsDraw: function (chart) {
      var x = chart.scales.x, area = chart.chartArea, ctx = chart.ctx;
      data.changePoints.forEach(function (c) {
        if (modelId && c.modelId !== modelId) return;
        var px = x.getPixelForValue(day(c.at));
        if (px < area.left || px > area.right) return;
        ctx.save(); ctx.strokeStyle = "#555"; ctx.setLineDash([6, 4]); ctx.lineWidth = 1.5;
        ctx.beginPath(); ctx.moveTo(px, area.top); ctx.lineTo(px, area.bottom); ctx.stroke(); ctx.restore();
      });
    } };
  };
  var charts = [];
  var canvas = function (parent, height) {
    var c = document.createElement("canvas"); c.width = 1050; c.height = height;
    document.getElementById(parent).appendChild(c); return c;
  };
  data.accuracy.forEach(function (a) {
    var h = document.createElement("h3"); h.textContent = a.modelId; document.getElementById("accuracy").appendChild(h);
    charts.push(new Chart(canvas("accuracy", 260), { type: "line", plugins: [changes(a.modelId)],
      data: { datasets: [{ label: "labelled accuracy (" + ${ACCURACY_BLOCK_HOURS} + " h blocks, by event time)",
        data: a.points.map(function (p) { return { x: day(p[0]), y: p[1] }; }),
        borderColor: palette[0], backgroundColor: palette[0], pointRadius: 0, borderWidth: 2 }] },
      options: Object.assign({}, base, { scales: { x: xAxis, y: { min: 0, max: 1 } } }) }));
  });
  data.signals.forEach(function (s, i) {
    var h = document.createElement("h3"); h.textContent = s.modelId + ": " + s.signal; document.getElementById("signals").appendChild(h);
    charts.push(new Chart(canvas("signals", 200), { type: "line", plugins: [changes(s.modelId)],
      data: { datasets: [
        { label: "value", data: s.points.filter(function (p) { return p[1] !== null; }).map(function (p) { return { x: day(p[0]), y: p[1] }; }),
          borderColor: palette[i % palette.length], backgroundColor: palette[i % palette.length], pointRadius: 2, borderWidth: 2 },
        { label: "threshold", data: s.points.filter(function (p) { return p[2] !== null; }).map(function (p) { return { x: day(p[0]), y: p[2] }; }),
          borderColor: "#d62728", borderDash: [4, 3], pointRadius: 0, borderWidth: 1.5, spanGaps: true }
      ] },
      options: Object.assign({}, base, { scales: { x: xAxis } }) }));
  });
  var rows = data.policies;
  charts.push(new Chart(canvas("decisions", 80 + 40 * rows.length), { type: "scatter", plugins: [changes(null)],
    data: { datasets: ["none", "alert", "retrain"].map(function (a) {
      return { label: a, backgroundColor: actionColor[a], pointRadius: a === "none" ? 2 : 5,
        data: data.decisions.filter(function (d) { return d.action === a; })
          .map(function (d) { return { x: day(d.t), y: rows.indexOf(d.policy) }; }) };
    }) },
    options: Object.assign({}, base, { scales: { x: xAxis, y: { min: -0.5, max: rows.length - 0.5, reverse: true,
      ticks: { stepSize: 1, callback: function (v) { return rows[v] || ""; } } } } }) }));
${RENDER_STATUS}
})();
`;

/** Self-contained HTML (no network): data as JSON, Chart.js inlined, one small page script. */
export function renderReplayReport(result: ReplayResult): string {
  const s = result.summary;
  const data = replayReportData(result);
  const summaryRows: Array<[string, string]> = [
    ["events", s.events.join(", ")],
    ["engine", s.engine],
    ["range", `${s.from} to ${s.to} (${s.strayLines} stray lines outside it)`],
    ["lines", String(s.lines)],
    ["aggregated", String(s.ingest.aggregated)],
    [
      "quarantined",
      `${s.ingest.quarantined} (${Object.entries(s.ingest.quarantinedByReason)
        .map(([k, v]) => `${k}: ${v}`)
        .join(", ")})`,
    ],
    ["lines = aggregated + quarantined", s.conserved ? "yes" : "NO"],
    ["evaluations", String(s.evaluations)],
    ["wall time", `${s.wallSeconds} s`],
  ];
  const table = (rows: Array<[string, string]>) =>
    rows.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join("");
  const changes = s.changePoints
    .map(
      (c) =>
        `<tr><td>${escapeHtml(c.modelId)}</td><td>${new Date(c.at).toISOString().slice(0, 16)}Z</td><td>${c.source}</td><td>${c.before ?? ""}</td><td>${c.after ?? ""}</td></tr>`,
    )
    .join("");
  const cf = s.counterfactual;
  const counterfactual =
    cf === undefined
      ? ""
      : `<h2>Counterfactual retraining (--train local, simulated)</h2>
<table id="counterfactual"><tr><th>policy</th><th>model</th><th>at</th><th>outcome</th><th>training rows</th><th>holdout rows</th><th>why</th></tr>${cf.retrains
          .map(
            (r) =>
              `<tr><td>${escapeHtml(r.policy)}</td><td>${escapeHtml(r.modelId)}</td><td>${escapeHtml(r.at.slice(0, 16))}Z</td><td>${r.outcome}</td><td>${r.trainingRows}</td><td>${r.holdoutRows}</td><td>${escapeHtml(r.detail)}</td></tr>`,
          )
          .join("")}</table>
<table id="served"><tr><th>policy</th><th>model</th><th>version</th><th>serving from</th><th>labels</th><th>accuracy</th></tr>${cf.served
          .map(
            (v) =>
              `<tr><td>${escapeHtml(v.policy)}</td><td>${escapeHtml(v.modelId)}</td><td>${escapeHtml(v.version)}</td><td>${escapeHtml(v.from.slice(0, 16))}Z</td><td>${v.labelled}</td><td>${v.accuracy ?? ""}</td></tr>`,
          )
          .join("")}</table>`;
  const notable = result.decisions
    .filter((d) => d.action !== "none")
    .map(
      (d) =>
        `<tr><td>${escapeHtml(d.policy)}</td><td>${new Date(d.evaluatedAt).toISOString().slice(0, 16)}Z</td><td>${escapeHtml(d.modelId)}</td><td class="${d.action}">${d.action}</td><td>${escapeHtml(d.reason)}</td></tr>`,
    )
    .join("");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<script>${ERROR_CAPTURE}</script>
<title>Replay backtest</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; max-width: 1100px; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; }
th, td { border: 1px solid #ddd; padding: 0.25rem 0.6rem; text-align: left; font-size: 0.9rem; }
th { background: #f5f5f5; }
td.retrain { color: #d62728; font-weight: bold; } td.alert { color: #b07800; font-weight: bold; }
canvas { border: 1px solid #eee; margin-bottom: 0.5rem; }
pre { font-size: 0.8rem; }
.note { color: #666; font-size: 0.85rem; }
</style>
</head>
<body>
<h1>Replay backtest</h1>
<p class="note">The production ingest and evaluate use cases replayed on the recorded log; nothing was trained
(a retrain decision is recorded and its lease released). Dashed grey lines: change points.</p>
<p id="render-status" data-charts="0" data-drawn="0" data-errors="unknown">charts not rendered</p>
<h2>Summary</h2>
<table id="summary">${table(summaryRows)}</table>
<h2>Policies</h2>
<pre id="policies">${escapeHtml(formatPolicyTable(s.policies, s.changePoints))}</pre>
<h2>Change points</h2>
<table id="changes"><tr><th>model</th><th>at</th><th>source</th><th>accuracy before</th><th>after</th></tr>${changes}</table>
${counterfactual}
<h2>Labelled accuracy</h2>
<div id="accuracy"></div>
<h2>Signals against thresholds (policy ${escapeHtml(data.policies[0] ?? "")})</h2>
<div id="signals"></div>
<h2>Decisions over time</h2>
<div id="decisions"></div>
<h2>Alerts and retrains</h2>
<table><tr><th>policy</th><th>time</th><th>model</th><th>action</th><th>why</th></tr>${notable}</table>
<script id="report-data" type="application/json">${scriptJson(data)}</script>
<script>${scriptSafe(chartJsBundle())}</script>
<script>${scriptSafe(PAGE_SCRIPT)}</script>
</body>
</html>
`;
}

export async function writeReplayReport(path: string, result: ReplayResult): Promise<void> {
  await writeFile(path, renderReplayReport(result));
}
