/**
 * `replay --train local` end to end on the sample drift log (an abrupt concept change, then a gradual one):
 * the same log replayed with and without counterfactual retraining, on the default policy. A deployed
 * retrain must buy accuracy after it (the labelled accuracy of the stored statistics, which the new model's
 * re-scored predictions feed), and every line is still accounted for.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AccuracyPoint } from "../../local/change-points";
import { runReplay } from "../../local/replay";
import { renderReplayReport } from "../../local/replay-report";
import { sampleEventLog } from "../../local/sample-log";
import { scenarioConfig } from "../../local/scenario-config";
import { createScenario } from "../../local/scenarios";

let dir = "";
let events = "";
const config = scenarioConfig(createScenario("drift"));

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "replay-cf-"));
  const { lines } = sampleEventLog("drift", { days: 14, eventsPerDay: 2000, seed: 3 });
  events = join(dir, "events.jsonl");
  await writeFile(events, `${lines.join("\n")}\n`);
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const accuracyFrom = (points: readonly AccuracyPoint[], from: number): number => {
  const after = points.filter((p) => p.t >= from);
  return after.reduce((s, p) => s + p.correct, 0) / after.reduce((s, p) => s + p.n, 0);
};

describe("replay --train local", () => {
  it("a deployed retrain buys accuracy after it; lines and quarantine are unchanged", async () => {
    const plain = await runReplay({ eventsPath: events, config });
    const trained = await runReplay({ eventsPath: events, config, train: "local" });
    expect(plain.summary.counterfactual).toBeUndefined();
    const cf = trained.summary.counterfactual!;
    expect(cf.unsupported).toEqual([]);
    const deployed = cf.retrains.filter((r) => r.outcome === "deployed");
    expect(deployed.length).toBeGreaterThanOrEqual(1);
    expect(trained.summary.actions.retrain).toBe(cf.retrains.length);

    const first = Date.parse(deployed[0]!.at);
    const modelId = deployed[0]!.modelId;
    const before = accuracyFrom(plain.accuracy.get(modelId)!, first);
    const after = accuracyFrom(trained.accuracy.get(modelId)!, first);
    expect(after).toBeGreaterThan(before + 0.1);
    // The served versions' own tallies agree: the first local model beats the logged one.
    const served = new Map(cf.served.map((v) => [v.version, v.accuracy ?? 0]));
    expect(served.get(deployed[0]!.version)!).toBeGreaterThan(served.get("logged")!);

    for (const r of [plain, trained]) expect(r.summary.conserved).toBe(true);
    expect(trained.summary.ingest.quarantinedByReason).toEqual(plain.summary.ingest.quarantinedByReason);
    expect(trained.summary.lines).toBe(plain.summary.lines);

    // The report lists the retrains and the served versions; a plain replay's has no such section.
    const html = renderReplayReport(trained);
    expect(html).toContain('id="counterfactual"');
    expect(html).toContain(`<td>${deployed[0]!.version}</td>`);
    expect(renderReplayReport(plain)).not.toContain('id="counterfactual"');
  });

  it("compared policies each serve their own models, as if each were replayed alone", async () => {
    // The configuration's policy, and one whose rule only retrains on the model's age (never due in a
    // 14-day log): the first buys accuracy with its retrains, the second keeps serving the logged model.
    const sweep = { path: "rule", values: ["modelAge"] };
    const both = await runReplay({ eventsPath: events, config, train: "local", sweep });
    const alone = await runReplay({ eventsPath: events, config, train: "local" });
    const cf = both.summary.counterfactual!;
    const names = both.summary.policies.map((p) => p.policy);
    expect(names).toEqual(["config", 'rule="modelAge"']);
    expect(both.summary.conserved).toBe(true);

    // The configuration's lane is the single-policy replay, retrain for retrain and decision for decision.
    const strip = <T extends { policy: string }>(xs: readonly T[], policy: string) =>
      xs.filter((x) => x.policy === policy).map(({ policy: _, ...rest }) => rest);
    expect(cf.retrains.filter((r) => r.policy === "config")).toEqual(alone.summary.counterfactual!.retrains);
    expect(cf.served.filter((v) => v.policy === "config")).toEqual(alone.summary.counterfactual!.served);
    expect(both.decisions.filter((d) => d.policy === "config").map((d) => d.line)).toEqual(
      alone.decisions.map((d) => d.line),
    );

    // The other lane never retrained: the logged model served all its labels.
    expect(strip(cf.retrains, 'rule="modelAge"')).toEqual([]);
    const loggedOnly = strip(cf.served, 'rule="modelAge"');
    expect(loggedOnly.map((v) => v.version)).toEqual(["logged"]);
    const configDeployed = strip(cf.served, "config").filter((v) => v.version !== "logged");
    expect(configDeployed.length).toBeGreaterThanOrEqual(1);
    expect(configDeployed[0]!.accuracy!).toBeGreaterThan(loggedOnly[0]!.accuracy!);

    const html = renderReplayReport(both);
    expect(html).toContain("<td>rule=&quot;modelAge&quot;</td>");
  });

  it("refuses to combine with the emulators", async () => {
    await expect(
      runReplay({ eventsPath: events, config, train: "local", engine: "emulators" }),
    ).rejects.toThrow(/--train local runs on the default in-memory path/);
  });
});
