/**
 * The HTML report of `replay --report` opens offline in headless Chromium without errors, and every chart
 * draws its data: labelled accuracy per model, each signal against its threshold, and the decisions of
 * every compared policy (one point per evaluation). Skipped, with the reason printed, where Chromium is
 * absent.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ReplayResult, runReplay } from "../../local/replay";
import { type ReplayReportData, writeReplayReport } from "../../local/replay-report";
import { sampleEventLog } from "../../local/sample-log";
import { scenarioConfig } from "../../local/scenario-config";
import { createScenario } from "../../local/scenarios";
import { CHROMIUM, HeadlessChromium } from "../support/chromium";

if (!CHROMIUM)
  console.log("replay-report-chromium: skipped, no Chromium at /usr/bin/chromium (apt-get install chromium)");

const READ_PAGE = `(() => {
  const canvases = [...document.querySelectorAll("canvas")];
  const status = document.getElementById("render-status");
  return {
    data: JSON.parse(document.getElementById("report-data").textContent),
    reportErrors: window.reportErrors,
    externalScripts: document.querySelectorAll("script[src]").length,
    status: Object.fromEntries(["data-charts", "data-drawn", "data-errors"].map((a) => [a, status.getAttribute(a)])),
    charts: canvases.map((canvas) => {
      const chart = Chart.getChart(canvas);
      const area = chart.chartArea;
      const inside = (el) => Number.isFinite(el.x) && Number.isFinite(el.y) &&
        el.x >= area.left - 1 && el.x <= area.right + 1 && el.y >= area.top - 1 && el.y <= area.bottom + 1;
      return { type: chart.config.type, datasets: chart.data.datasets.map((d, i) => ({
        label: d.label,
        finite: d.data.filter((p) => p !== null && Number.isFinite(p.x) && Number.isFinite(p.y)).length,
        laidOut: chart.getDatasetMeta(i).data.filter(inside).length,
      })) };
    }),
  };
})()`;

interface PageState {
  readonly data: ReplayReportData;
  readonly reportErrors: readonly string[];
  readonly externalScripts: number;
  readonly status: Record<string, string | null>;
  readonly charts: ReadonlyArray<{
    type: string;
    datasets: ReadonlyArray<{ label: string; finite: number; laidOut: number }>;
  }>;
}

describe.skipIf(!CHROMIUM)("HTML report of a replay in headless Chromium", () => {
  let dir = "";
  let result: ReplayResult;
  let report = "";

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "replay-report-"));
    const { lines } = sampleEventLog("drift", { days: 4, eventsPerDay: 150, seed: 9 });
    const events = join(dir, "events.jsonl");
    await writeFile(events, `${lines.join("\n")}\n`);
    const config = scenarioConfig(createScenario("drift"));
    result = await runReplay({
      eventsPath: events,
      config,
      sweep: { path: "stability.cooldownHours", values: [0] },
    });
    report = join(dir, "report.html");
    await writeReplayReport(report, result);
  }, 120_000);
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("draws every chart offline: accuracy, signals against thresholds, decisions per policy", async () => {
    const browser = await HeadlessChromium.launch(CHROMIUM!);
    let page: PageState;
    let problems: unknown[];
    try {
      await browser.open(pathToFileURL(report).href);
      page = await browser.evaluate<PageState>(READ_PAGE);
      problems = browser.problems;
    } finally {
      await browser.close();
    }
    expect(problems).toEqual([]);
    expect(page.reportErrors).toEqual([]);
    expect(page.externalScripts).toBe(0);
    const charts = 1 + page.data.signals.length + 1;
    expect(page.data.signals.length).toBeGreaterThan(2);
    expect(page.status).toEqual({
      "data-charts": String(charts),
      "data-drawn": String(charts),
      "data-errors": "0",
    });

    // Accuracy: every block laid out.
    const accuracy = page.charts[0]!;
    expect(accuracy.datasets[0]!.laidOut).toBe(page.data.accuracy[0]!.points.length);
    expect(accuracy.datasets[0]!.laidOut).toBeGreaterThan(8);
    // Each signal: its non-null values and its threshold drawn.
    page.data.signals.forEach((s, i) => {
      const [value, threshold] = page.charts[1 + i]!.datasets;
      const values = s.points.filter((p) => p[1] !== null).length;
      expect(value!.laidOut, s.signal).toBe(values);
      expect(threshold!.laidOut, s.signal).toBe(s.points.filter((p) => p[2] !== null).length);
    });
    // Decisions: one point per evaluation of each policy.
    const decisions = page.charts[page.charts.length - 1]!;
    expect(decisions.type).toBe("scatter");
    expect(decisions.datasets.reduce((n, d) => n + d.laidOut, 0)).toBe(result.decisions.length);
    expect(new Set(result.decisions.map((d) => d.policy))).toEqual(new Set(["config", "cooldownHours=0"]));
  }, 90_000);
});
