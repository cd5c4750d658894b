/**
 * A short local run end to end (dynalite, kinesalite, real ingest/evaluate/workflow-task handlers, the
 * synthesized state machine on aws-local-stepfunctions, simulated SageMaker). Assertions are about
 * outcomes: after the abrupt concept change a retrain is decided, the new model is deployed on the
 * endpoint the inference service calls, and the accuracy of served predictions recovers.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DAY_MS as DAY } from "../../contracts/time";
import { runLocal } from "../../local/run-local";
import { driftScenario } from "../../local/scenarios/drift";

let dir = "";

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("local run (short drift scenario)", () => {
  it("retrains after the drift, deploys the new model and recovers accuracy", async () => {
    dir = await mkdtemp(join(tmpdir(), "local-run-"));
    // The 10-day layout (abrupt change on day 3, gradual change after day 8) cut to 7 days.
    const scenario = { ...driftScenario({ days: 10, eventsPerDay: 200, seed: 7 }), days: 7 };
    const drift = scenario.markers[0]!.at;
    const result = await runLocal({ scenario, outDir: dir, progress: false });

    const retrains = result.decisions.filter((d) => d.action === "retrain");
    expect(retrains.length).toBeGreaterThan(0);
    expect(retrains.every((d) => d.evaluatedAt > drift)).toBe(true);
    expect(result.decisions.filter((d) => d.evaluatedAt < drift && d.action === "retrain")).toEqual([]);

    expect(result.deployments.length).toBeGreaterThan(0);
    expect(result.deployments[0]!.at).toBeGreaterThan(drift);
    expect(result.summary.deploys).toBe(result.deployments.length);
    expect(result.summary.failedWorkflows).toBe(0);

    const day = (i: number) => result.dailyAccuracy[i]!.accuracy!;
    const driftDay = Math.floor((drift - scenario.start) / DAY);
    const before = day(driftDay - 1);
    const hit = day(driftDay);
    const last = day(scenario.days - 1);
    expect(before).toBeGreaterThan(0.9);
    expect(hit).toBeLessThan(before - 0.2);
    expect(last).toBeGreaterThan(hit + 0.2);
    expect(last).toBeGreaterThan(0.85);

    // Conservation: every record sent is aggregated or quarantined.
    expect(result.summary.aggregated + result.summary.quarantined).toBe(result.summary.events);
    const html = await readFile(result.reportPath, "utf8");
    expect(html).toContain('id="report-data"');
    expect(html).toContain("SIMULATED SageMaker");
  }, 180_000);
});
