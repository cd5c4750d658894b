/**
 * A lasting data-quality breach does not block retraining forever. On dynalite, with the default
 * policy: a feature the model uses turns null for good. The evaluator alerts and gates retraining,
 * then, once the breach has lasted `dataQuality.maxGateHours`, escalates (the baseline may be outdated)
 * with the command to re-baseline, and stops gating. The operator runs that command (`rebaseline`,
 * bin/commands/rebaseline.ts over the state table); the next evaluation judges against the new
 * baseline and finds no breach.
 */

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PutItemCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeRebaseline, runRebaseline } from "../../bin/commands/rebaseline";
import { DEFAULT_TRIGGER_POLICY } from "../../contracts/policy";
import { DAY_MS as DAY, HOUR_MS as HOUR } from "../../contracts/time";
import { keys } from "../../lambdas/adapters/dynamodb-keys";
import { DynamoDbModelStateRepository } from "../../lambdas/adapters/dynamodb-model-state-repository";
import { DynamoDbStatsRepository } from "../../lambdas/adapters/dynamodb-stats-repository";
import { evaluateSlot } from "../../lambdas/app/evaluate/evaluate-slot";
import type { EvaluatedModel, EvaluatorDeps } from "../../lambdas/app/evaluate/evaluator";
import { RebaselineError } from "../../lambdas/app/evaluate/rebaseline";
import type { Decision } from "../../lambdas/domain/decision/decision";
import { serializeProfile } from "../../lambdas/domain/stats/profile-codec";
import { QueueingWorkflowStarter, RecordingNotifier } from "../../local/control-plane";
import { type Emulators, startEmulators } from "../../local/emulators";
import { SHARD_ID as SHARD } from "../support/events";
import { baselineProfile, FEATURES, NORMAL_WORLD, Rng, Simulation, T0 } from "../support/simulation";

const MODEL = "churn";
/** x3 (importance 1) is emitted as null from here on, for good. */
const brokenAt = T0 + 2 * DAY;
const maxGateHours = DEFAULT_TRIGGER_POLICY.signals.dataQuality.maxGateHours;

const model: EvaluatedModel = {
  id: MODEL,
  task: "binary",
  classes: ["0", "1"],
  labelHorizonHours: 168,
  bucketMinutes: 60,
  features: FEATURES.map((f) => ({ ...f })),
  policy: DEFAULT_TRIGGER_POLICY,
};

let emulators: Emulators;
let deps: EvaluatorDeps;
let configPath: string;

async function storeBuckets(sim: Simulation): Promise<void> {
  for (const b of sim.buckets.values()) {
    const k = keys.stats(MODEL, b.bucketStart, SHARD);
    await emulators.dynamodb.send(
      new PutItemCommand({
        TableName: emulators.tableName,
        Item: {
          pk: { S: k.pk },
          sk: { S: k.sk },
          modelId: { S: MODEL },
          shardId: { S: SHARD },
          bucketStart: { N: String(b.bucketStart) },
          profile: { S: serializeProfile(b.profile) },
          seq: { S: "1".padStart(64, "0") },
          received: { N: String(b.received ?? 0) },
          quarantined: { M: {} },
        },
      }),
    );
  }
}

const evaluate = async (at: number): Promise<Decision> => {
  const report = await evaluateSlot(deps, { time: new Date(at).toISOString() });
  expect(report.models[0]?.error).toBeUndefined();
  const stored = await deps.state.getDecision(MODEL, at);
  if (stored === undefined) throw new Error(`no decision recorded at ${new Date(at).toISOString()}`);
  return stored.decision;
};
const dataQuality = (d: Decision) => d.signals.find((s) => s.signal === "dataQuality");

beforeAll(async () => {
  emulators = await startEmulators({ createStream: false });
  const sim = new Simulation({
    policy: {},
    eventsPerHour: 200,
    world: (t) => (t >= brokenAt ? { ...NORMAL_WORLD, nullFeatures: ["x3"] } : NORMAL_WORLD),
  });
  sim.generateUntil(brokenAt + (maxGateHours + 8) * HOUR);
  await storeBuckets(sim);
  const tableName = emulators.tableName;
  const state = new DynamoDbModelStateRepository({ client: emulators.dynamodb, tableName });
  // The champion's training data as its baseline.
  await state.putBaseline(MODEL, {
    version: "v1",
    profile: baselineProfile(new Rng(7), 20_000),
    createdAt: T0,
    source: "training",
  });
  await state.setBaselineVersion(MODEL, "v1");
  deps = {
    models: [model],
    stats: new DynamoDbStatsRepository({ client: emulators.dynamodb, tableName }),
    state,
    notifier: new RecordingNotifier(Date.now),
    workflow: new QueueingWorkflowStarter(),
  };
  const dir = mkdtempSync(join(tmpdir(), "rebaseline-"));
  configPath = join(dir, "config.json");
  writeFileSync(
    configPath,
    JSON.stringify({
      models: [
        {
          id: MODEL,
          task: "binary",
          features: FEATURES,
          training: { imageUri: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/train:1" },
        },
      ],
    }),
  );
});
afterAll(async () => {
  await emulators?.stop();
});

describe("a lasting data-quality breach escalates and is resolved by re-baselining", () => {
  it("gates, escalates after maxGateHours, and judges against the new baseline after rebaseline", async () => {
    // Before the break: no data-quality breach.
    expect(dataQuality(await evaluate(brokenAt))?.breached).toBe(false);
    // Every 12 h from 2 h after the break: breached and gating until the breach has lasted maxGateHours.
    const slots = Array.from({ length: maxGateHours / 12 + 1 }, (_, i) => brokenAt + (2 + 12 * i) * HOUR);
    const decisions: Decision[] = [];
    for (const at of slots) decisions.push(await evaluate(at));
    for (const d of decisions) {
      expect(dataQuality(d)?.breached).toBe(true);
      expect(dataQuality(d)?.message).toMatch(/x3 missing-rate increase/);
    }
    // Every evaluation counts the breach (the span it has lasted comes from these values); only the
    // last, maxGateHours after the first, escalates.
    expect(decisions.every((d) => (d.values.dataQualityGating ?? 0) > 0)).toBe(true);
    expect(decisions.map((d) => dataQuality(d)?.evidence.escalated === true)).toEqual([
      ...Array(slots.length - 1).fill(false),
      true,
    ]);
    const escalated = dataQuality(decisions.at(-1)!)!;
    expect(escalated.evidence).toMatchObject({ escalated: true, sustainedHours: maxGateHours });
    expect(escalated.message).toContain("No longer blocking retraining");
    expect(escalated.message).toContain(
      `npm run cli -- rebaseline --config <configuration> --model ${MODEL} --table <StateTableName>`,
    );
    expect(decisions.at(-1)!.summary).toContain("rebaseline");

    // The operator re-baselines on the last 24 h (all with x3 null).
    const now = slots.at(-1)! + 30 * 60_000;
    const options = { config: configPath, model: MODEL, table: emulators.tableName, hours: 24 };
    const dry = await runRebaseline(emulators.dynamodb, { ...options, dryRun: true }, now);
    expect(dry).toMatchObject({ stored: false, previousVersion: "v1" });
    expect((await deps.state.getState(MODEL)).baselineVersion).toBe("v1");
    const done = await runRebaseline(emulators.dynamodb, options, now);
    expect(done).toMatchObject({
      stored: true,
      previousVersion: "v1",
      version: `rebase-${new Date(now - 24 * HOUR).toISOString()}`,
    });
    expect(done.predictions).toBeGreaterThan(24 * 100);
    expect(describeRebaseline(done)).toMatch(/baseline rebase-.* \(was v1\)/);
    expect((await deps.state.getState(MODEL)).baselineVersion).toBe(done.version);

    // The next evaluation compares with the new baseline: x3's missing rate is its normal now.
    const after = await evaluate(slots.at(-1)! + 6 * HOUR);
    expect(after.baselineVersion).toBe(done.version);
    expect(dataQuality(after)?.breached).toBe(false);
    expect(after.values.dataQualityGating).toBe(0);
  });

  it.each([
    [{ model: "nope" }, /no model "nope" in .*config\.json \(models: churn\)/],
    [{ end: "yesterday" }, /--end must be an ISO time/],
    [{ end: new Date(brokenAt + 400 * DAY).toISOString() }, /is after now/],
    [
      { end: new Date(T0 - 30 * DAY).toISOString() },
      /0 predictions in .* fewer than policy\.signals\.drift\.minSamples/,
    ],
  ])("refuses %j with a clear error", async (override, message) => {
    const options = { config: configPath, model: MODEL, table: emulators.tableName, ...override };
    await expect(runRebaseline(emulators.dynamodb, options, brokenAt + 60 * HOUR)).rejects.toThrow(
      RebaselineError,
    );
    await expect(runRebaseline(emulators.dynamodb, options, brokenAt + 60 * HOUR)).rejects.toThrow(message);
  });
});
