/**
 * The HTML report must open offline in a real browser without console errors and with every chart
 * drawn. Uses Debian's headless Chromium; skipped, with the reason printed, where it is absent.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { DAY_MS as DAY } from "../../contracts/time";
import { type ReportData, renderReport } from "../../local/report";

const run = promisify(execFile);
const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));
if (!CHROMIUM)
  console.log("report-chromium: skipped, no Chromium at /usr/bin/chromium (apt-get install chromium)");

const start = Date.UTC(2026, 0, 5);

function sampleReport(): ReportData {
  const days = Array.from({ length: 31 }, (_, d) => start + d * DAY);
  const accuracy = (d: number) => (d < 10 ? 0.95 : d < 13 ? 0.62 : 0.93);
  return {
    title: "retrain-triggers local run: drift",
    description: "sample report </script><b>escaped</b>",
    start,
    summary: {
      scenario: "drift",
      simulatedDays: 30,
      events: 24_000,
      predictions: 12_000,
      labels: 9_600,
      malformedSent: 24,
      aggregated: 23_976,
      quarantined: 24,
      evaluations: 120,
      alerts: 3,
      retrains: 1,
      deploys: 1,
      rejectedWorkflows: 1,
      failedWorkflows: 0,
      accuracyBeforeDrift: 0.95,
      accuracyAfterDrift: 0.62,
      accuracyAfterRetrain: 0.93,
      wallSeconds: 12.3,
    },
    accuracy: [
      { name: "true accuracy (simulation)", points: days.map((t, d) => [t, accuracy(d)]) },
      { name: "realized accuracy", points: days.slice(1).map((t, d) => [t, accuracy(d)]) },
    ],
    drift: [{ name: "x1", points: days.map((t, d) => [t, d > 20 ? 0.3 : 0.02]) }],
    driftMetric: "Jensen-Shannon distance",
    volume: [{ name: "predictions", points: days.map((t) => [t, 400]) }],
    decisions: [
      { t: start + 11 * DAY, action: "retrain", reason: "realized accuracy 0.62 < 0.85" },
      { t: start + 5 * DAY, action: "none", reason: "" },
    ],
    deployments: [{ t: start + 11.2 * DAY, label: "v2" }],
    markers: [{ t: start + 10 * DAY, label: "abrupt concept change" }],
    notes: ["SIMULATED SageMaker"],
  };
}

describe.skipIf(!CHROMIUM)("HTML report in headless Chromium", () => {
  let dir = "";
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("loads offline without console errors and renders every chart", async () => {
    dir = await mkdtemp(join(tmpdir(), "report-e2e-"));
    const file = join(dir, "report.html");
    await writeFile(file, renderReport(sampleReport()));
    const { stdout, stderr } = await run(
      CHROMIUM!,
      [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        `--user-data-dir=${join(dir, "profile")}`,
        "--enable-logging=stderr",
        "--v=0",
        "--virtual-time-budget=5000",
        "--dump-dom",
        `file://${file}`,
      ],
      { timeout: 45_000, maxBuffer: 64 * 1024 * 1024 },
    );
    const status = /<p id="render-status"([^>]*)>([^<]*)</.exec(stdout);
    expect(status, "render status element in the dumped DOM").not.toBeNull();
    const attr = (name: string) => new RegExp(`${name}="([^"]*)"`).exec(status![1]!)?.[1];
    expect(attr("data-errors")).toBe("0");
    expect(attr("data-charts")).toBe("4");
    expect(attr("data-drawn")).toBe("4");
    // The page logs nothing when healthy: any console line from the report is a failure.
    const consoleLines = stderr.split("\n").filter((l) => l.includes("CONSOLE") && l.includes(file));
    expect(consoleLines).toEqual([]);
    expect(stdout).toContain("&lt;/script&gt;&lt;b&gt;escaped&lt;/b&gt;");
    expect(stdout).not.toMatch(/<script[^>]+src=/);
  }, 60_000);
});
