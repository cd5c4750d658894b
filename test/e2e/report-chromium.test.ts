/**
 * The HTML report of a real local run opens offline in a real browser, without console errors, and every
 * chart draws its data. A short run through the same code as `npm run local` (local/run-local.ts) writes
 * report.html; Debian's headless Chromium opens it (driven over the DevTools protocol,
 * test/support/chromium.ts) and the test reads Chart.js' own objects in the page: each chart's datasets,
 * their points, and the elements Chart.js laid out for them. A chart whose axes are drawn but whose
 * series are empty, all null, or placed outside the plot fails. Skipped, with the reason printed, where
 * Chromium is absent.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ReportData, renderReport } from "../../local/report";
import { type LocalRunResult, runLocal } from "../../local/run-local";
import { driftScenario } from "../../local/scenarios/drift";
import { CHROMIUM, HeadlessChromium } from "../support/chromium";

if (!CHROMIUM)
  console.log("report-chromium: skipped, no Chromium at /usr/bin/chromium (apt-get install chromium)");

/** What the page's charts hold, read through Chart.js (`Chart.getChart(canvas)`). */
interface ChartSummary {
  readonly id: string;
  readonly type: string;
  readonly datasets: ReadonlyArray<{
    readonly label: string;
    /** Points in the dataset. */
    readonly points: number;
    /** Points with a finite x and y (not null, not NaN). */
    readonly finite: number;
    /** Elements Chart.js laid out for the dataset inside the plot area. */
    readonly laidOut: number;
  }>;
}

interface PageState {
  readonly charts: readonly ChartSummary[];
  readonly canvases: number;
  readonly reportErrors: readonly string[];
  readonly status: Record<string, string | null>;
  readonly externalScripts: number;
  readonly data: ReportData;
}

const READ_PAGE = `(() => {
  const data = JSON.parse(document.getElementById("report-data").textContent);
  const canvases = [...document.querySelectorAll("canvas")];
  const charts = canvases.map((canvas) => {
    const chart = Chart.getChart(canvas);
    if (!chart) return { id: canvas.id, type: "none", datasets: [] };
    const area = chart.chartArea;
    const inside = (el) => Number.isFinite(el.x) && Number.isFinite(el.y) &&
      el.x >= area.left - 1 && el.x <= area.right + 1 && el.y >= area.top - 1 && el.y <= area.bottom + 1;
    return {
      id: canvas.id,
      type: chart.config.type,
      datasets: chart.data.datasets.map((d, i) => ({
        label: d.label,
        points: d.data.length,
        finite: d.data.filter((p) => p !== null && Number.isFinite(p.x) && Number.isFinite(p.y)).length,
        laidOut: chart.getDatasetMeta(i).data.filter(inside).length,
      })),
    };
  });
  const status = document.getElementById("render-status");
  return {
    charts,
    canvases: canvases.length,
    reportErrors: window.reportErrors,
    status: Object.fromEntries(["data-charts", "data-drawn", "data-errors"].map((a) => [a, status.getAttribute(a)])),
    externalScripts: document.querySelectorAll("script[src]").length,
    data,
  };
})()`;

/** Opens `file` in headless Chromium and reads the page's charts and problems. */
async function openReport(
  file: string,
): Promise<{ page: PageState; problems: HeadlessChromium["problems"] }> {
  const browser = await HeadlessChromium.launch(CHROMIUM!);
  try {
    await browser.open(pathToFileURL(file).href);
    return { page: await browser.evaluate<PageState>(READ_PAGE), problems: browser.problems };
  } finally {
    await browser.close();
  }
}

/** Each line chart draws every series of its data: all points, none null, all laid out in the plot. */
function expectSeriesDrawn(chart: ChartSummary | undefined, series: ReportData["accuracy"]): void {
  expect(chart, "chart").toBeDefined();
  expect(chart!.type).toBe("line");
  expect(chart!.datasets.map((d) => d.label)).toEqual(series.map((s) => s.name));
  for (const [i, d] of chart!.datasets.entries()) {
    const expected = series[i]!.points.length;
    expect(expected, `${chart!.id} / ${d.label}: points in the report data`).toBeGreaterThan(0);
    expect(d, `${chart!.id} / ${d.label}`).toEqual({
      label: d.label,
      points: expected,
      finite: expected,
      laidOut: expected,
    });
  }
}

describe.skipIf(!CHROMIUM)("HTML report of a local run in headless Chromium", () => {
  let dir = "";
  let run: LocalRunResult;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "report-e2e-"));
    // A short real run: the abrupt change on day 3 of the 10-day layout, cut to 5 days.
    const scenario = { ...driftScenario({ days: 10, eventsPerDay: 150, seed: 7 }), days: 5 };
    run = await runLocal({ scenario, outDir: dir, progress: false });
  }, 180_000);
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("loads offline without console errors, and every chart draws the run's data", async () => {
    const { page, problems } = await openReport(run.reportPath);
    expect(problems).toEqual([]);
    expect(page.reportErrors).toEqual([]);
    expect(page.externalScripts).toBe(0);
    expect(page.canvases).toBe(4);
    expect(page.status).toEqual({ "data-charts": "4", "data-drawn": "4", "data-errors": "0" });
    const chart = (id: string) => page.charts.find((c) => c.id === id);

    // Accuracy: true accuracy per simulated day, and the realized and estimated accuracy of evaluations.
    expectSeriesDrawn(chart("chart-accuracy"), page.data.accuracy);
    expect(page.data.accuracy).toHaveLength(3);
    expect(page.data.accuracy[0]!.points).toHaveLength(run.scenario.days);
    // Drift scores of the top features, per evaluation.
    expect(page.data.drift.length).toBeGreaterThan(0);
    expectSeriesDrawn(chart("chart-drift"), page.data.drift);
    // Volume per day: predictions, labels, malformed records sent.
    expectSeriesDrawn(chart("chart-volume"), page.data.volume);
    expect(page.data.volume.map((s) => s.points.length)).toEqual([5, 5, 5]);

    // Decisions: one point per evaluation of the run, in the dataset of its action.
    const decisions = chart("chart-decisions")!;
    expect(decisions.type).toBe("scatter");
    expect(decisions.datasets.map((d) => d.label)).toEqual(["none", "alert", "retrain"]);
    const byAction = (a: string) => run.decisions.filter((d) => d.action === a).length;
    for (const d of decisions.datasets)
      expect(d, `decisions / ${d.label}`).toEqual({
        label: d.label,
        points: byAction(d.label),
        finite: byAction(d.label),
        laidOut: byAction(d.label),
      });
    expect(decisions.datasets.reduce((n, d) => n + d.laidOut, 0)).toBe(run.decisions.length);
    expect(run.decisions.length).toBeGreaterThan(0);
  }, 90_000);

  it("escapes text from the run's inputs and still draws", async () => {
    // The run's report, re-rendered with a description that tries to close the data script.
    const html = await readFile(run.reportPath, "utf8");
    const data = JSON.parse(
      /<script id="report-data" type="application\/json">([\s\S]*?)<\/script>/.exec(html)![1]!,
    ) as ReportData;
    const file = join(dir, "escaped.html");
    await writeFile(file, renderReport({ ...data, description: "drift </script><b>escaped</b>" }));
    const { page, problems } = await openReport(file);
    expect(problems).toEqual([]);
    expect(page.data.description).toBe("drift </script><b>escaped</b>");
    expect(page.status).toEqual({ "data-charts": "4", "data-drawn": "4", "data-errors": "0" });
    expectSeriesDrawn(
      page.charts.find((c) => c.id === "chart-accuracy"),
      data.accuracy,
    );
  }, 90_000);
});
