/**
 * Evaluator benchmark (`npm run bench evaluator`):
 * - CPU of one evaluation of a 50-feature binary model over a 24-hour window of hourly buckets
 *   (merge the buckets, drift of every feature, CBPE, performance, rules, summary): median of runs,
 *   measured with process.cpuUsage around the pure domain call;
 * - DynamoDB read units of that evaluation end to end (state, decision check, baseline, 24 bucket
 *   items, decision history) as reported by in-process DynamoDB (dynalite) with
 *   ReturnConsumedCapacity=TOTAL on every request (dynalite computes units from item sizes like
 *   DynamoDB: 4 KB per strongly consistent read unit, half for eventually consistent);
 * - wall time of one invocation evaluating 100 such models (concurrency 8) against dynalite.
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { PutItemCommand } from "@aws-sdk/client-dynamodb";
import { marshall } from "@aws-sdk/util-dynamodb";
import type { FeatureSpec, ProfileSpec } from "../contracts/model";
import { parsePolicy } from "../contracts/policy";
import { HOUR_MS as HOUR } from "../contracts/time";
import { keys } from "../lambdas/adapters/dynamodb-keys";
import { DynamoDbModelStateRepository } from "../lambdas/adapters/dynamodb-model-state-repository";
import { DynamoDbStatsRepository } from "../lambdas/adapters/dynamodb-stats-repository";
import { evaluateSlot } from "../lambdas/app/evaluate/evaluate-slot";
import type { EvaluatedModel, EvaluatorDeps } from "../lambdas/app/evaluate/evaluator";
import { decide } from "../lambdas/domain/decision/decide";
import { emptyProfile, type Profile } from "../lambdas/domain/stats/profile";
import { deserializeProfile, serializeProfile } from "../lambdas/domain/stats/profile-codec";
import { mergeProfiles } from "../lambdas/domain/stats/profile-merge";
import { addOutcome, addPrediction } from "../lambdas/domain/stats/profile-update";
import { startEmulators } from "../local/emulators";
import { mulberry32 as rng } from "../local/prng";
import { cpuTimes, median } from "./timing";

const NOW = Date.parse("2026-11-02T12:00:00Z");
const FEATURE_COUNT = 50;
const EVENTS_PER_HOUR = 1000;

const features: FeatureSpec[] = Array.from({ length: FEATURE_COUNT }, (_, i) => ({
  name: `f${String(i).padStart(2, "0")}`,
  kind: i % 5 === 4 ? "categorical" : "numeric",
  importance: 1 + (i % 3),
}));
const spec: ProfileSpec = {
  task: "binary",
  classes: ["0", "1"],
  features: Object.fromEntries(features.map((f) => [f.name, f.kind])),
};

function bucketProfile(next: () => number, n: number, shift: number): Profile {
  const p = emptyProfile(spec);
  const cats = ["a", "b", "c", "d", "e", "f"];
  for (let i = 0; i < n; i++) {
    const values: Record<string, number | string> = {};
    let logit = 0;
    for (let j = 0; j < FEATURE_COUNT; j++) {
      const f = features[j]!;
      if (f.kind === "numeric") {
        const x = next() * 2 - 1 + shift;
        values[f.name] = x;
        if (j < 4) logit += 2 * x;
      } else values[f.name] = cats[Math.floor(next() * cats.length)]!;
    }
    const score = 1 / (1 + Math.exp(-logit));
    const prediction = score >= 0.5 ? 1 : 0;
    addPrediction(p, { features: values, prediction, score });
    if (next() < 0.3) addOutcome(p, { prediction, score, label: next() < score ? 1 : 0 });
  }
  return p;
}

function countReadUnits(client: DynamoDBClient): { read: number; write: number; requests: number } {
  const counter = { read: 0, write: 0, requests: 0 };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      const consumed = (result.output as { ConsumedCapacity?: unknown } | undefined)?.ConsumedCapacity;
      const list = Array.isArray(consumed) ? consumed : consumed ? [consumed] : [];
      counter.requests++;
      for (const c of list as {
        CapacityUnits?: number;
        ReadCapacityUnits?: number;
        WriteCapacityUnits?: number;
      }[]) {
        const units = c.CapacityUnits ?? 0;
        if (/Get|Query|Scan/.test(context.commandName ?? "")) counter.read += c.ReadCapacityUnits ?? units;
        else counter.write += c.WriteCapacityUnits ?? units;
      }
      return result;
    },
    { step: "initialize", name: "countCapacity" },
  );
  return counter;
}

export async function run(): Promise<Record<string, unknown>> {
  const next = rng(7);
  const baseline = bucketProfile(next, 20_000, 0);
  const buckets = Array.from({ length: 24 }, (_, h) => ({
    bucketStart: NOW - (24 - h) * HOUR,
    profile: bucketProfile(next, EVENTS_PER_HOUR, h >= 20 ? 0.3 : 0),
    received: EVENTS_PER_HOUR,
    quarantined: {},
  }));
  const policy = parsePolicy({});

  // 1. Pure evaluation CPU (decide is pure: the same input object serves every run).
  const input: Parameters<typeof decide>[1] = {
    modelId: "bench",
    spec,
    now: NOW,
    features,
    window: { buckets },
    labelHorizonHours: 168,
    bucketMinutes: 60,
    baseline: { version: "v1", profile: baseline },
    history: [],
    state: { retrainStarts: [], labelsSinceTraining: 0, runActive: false },
  };
  let decision = decide(policy, input);
  const cpu = cpuTimes(15, () => {
    decision = decide(policy, input);
  });

  // 1b. CPU of everything one model costs the Lambda except I/O: deserialize the 24 bucket items,
  // merge them (as the stats repository does), evaluate with the merged profile.
  const serialized = buckets.map((b) => serializeProfile(b.profile));
  const modelCpu = cpuTimes(9, () => {
    const read = serialized.map((text, h) => ({ ...buckets[h]!, profile: deserializeProfile(text) }));
    const merged = read.map((b) => b.profile).reduce((a, b) => mergeProfiles(a, b));
    decide(policy, {
      modelId: "bench",
      spec,
      now: NOW,
      features,
      window: { buckets: read, merged: { from: NOW - 24 * HOUR, to: NOW, profile: merged } },
      labelHorizonHours: 168,
      bucketMinutes: 60,
      baseline: { version: "v1", profile: deserializeProfile(serializeProfile(baseline)) },
      history: [],
      state: { retrainStarts: [], labelsSinceTraining: 0, runActive: false },
    });
  });

  // 2 + 3. End to end against dynalite.
  const emulators = await startEmulators({ createStream: false });
  try {
    const client = emulators.createDynamoDbClient();
    const counter = countReadUnits(client);
    const table = emulators.tableName;
    const serializedBuckets = buckets.map((b) => ({ ...b, serialized: serializeProfile(b.profile) }));
    const itemBytes = serializedBuckets.map((b) => b.serialized.length);
    const state = new DynamoDbModelStateRepository({ client, tableName: table });
    const modelIds = Array.from({ length: 100 }, (_, i) => `m${String(i).padStart(3, "0")}`);
    for (const id of modelIds) {
      for (const b of serializedBuckets)
        await emulators.dynamodb.send(
          new PutItemCommand({
            TableName: table,
            Item: marshall({
              ...keys.stats(id, b.bucketStart, "shardId-000000000000"),
              profile: b.serialized,
              seq: "0".repeat(64),
              received: b.received,
              quarantined: {},
              bucketStart: b.bucketStart,
            }),
          }),
        );
      await state.putBaseline(id, {
        version: "v1",
        profile: baseline,
        createdAt: NOW - 48 * HOUR,
        source: "training",
      });
      await state.setBaselineVersion(id, "v1");
    }
    const models: EvaluatedModel[] = modelIds.map((id) => ({
      id,
      task: "binary",
      classes: ["0", "1"],
      features,
      policy,
      labelHorizonHours: 168,
      bucketMinutes: 60,
    }));
    const published: string[] = [];
    const evaluatorFor = (ms: EvaluatedModel[]): EvaluatorDeps => ({
      models: ms,
      stats: new DynamoDbStatsRepository({ client, tableName: table }),
      state,
      notifier: {
        publish: async (n) => {
          published.push(n.modelId ?? "");
          return {};
        },
      },
      workflow: { start: async (r) => ({ executionArn: r.name, alreadyStarted: false }) },
    });

    // One model, one evaluation: read units and wall time.
    const before = { ...counter };
    const t0 = performance.now();
    await evaluateSlot(evaluatorFor(models.slice(0, 1)), { time: new Date(NOW).toISOString() });
    const oneModelMs = performance.now() - t0;
    const oneModel = {
      readUnits: counter.read - before.read,
      writeUnits: counter.write - before.write,
      requests: counter.requests - before.requests,
    };

    // 100 models, one invocation (another slot, so nothing is reused).
    const before100 = { ...counter };
    const t1 = performance.now();
    const cpu100 = process.cpuUsage();
    const report = await evaluateSlot(evaluatorFor(models), { time: new Date(NOW + HOUR).toISOString() });
    const used100 = process.cpuUsage(cpu100);
    const hundredMs = performance.now() - t1;

    return {
      features: FEATURE_COUNT,
      windowBuckets: buckets.length,
      eventsPerBucket: EVENTS_PER_HOUR,
      bucketItemBytesMedian: median(itemBytes),
      decisionAction: decision.action,
      evaluateCpuMsMedian: Number(median(cpu).toFixed(1)),
      evaluateCpuMsMin: Number(Math.min(...cpu).toFixed(1)),
      perModelCpuMsMedian: Number(median(modelCpu).toFixed(1)),
      perModelCpuNote:
        "deserialize 24 bucket items + baseline, merge, evaluate: the Lambda's CPU per model without I/O",
      oneModelEndToEnd: {
        wallMs: Number(oneModelMs.toFixed(0)),
        readUnits: Number(oneModel.readUnits.toFixed(1)),
        writeUnits: Number(oneModel.writeUnits.toFixed(1)),
        requests: oneModel.requests,
        readUnitsSource: "dynalite ReturnConsumedCapacity=TOTAL (computed from item sizes)",
      },
      hundredModels: {
        wallMs: Number(hundredMs.toFixed(0)),
        cpuMs: Number(((used100.user + used100.system) / 1000).toFixed(0)),
        readUnits: Number((counter.read - before100.read).toFixed(1)),
        writeUnits: Number((counter.write - before100.write).toFixed(1)),
        failed: report.models.filter((m) => m.error).length,
        concurrency: 8,
      },
      note: "dynalite runs in the same process: wall time includes the emulator's own CPU",
    };
  } finally {
    await emulators.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(JSON.stringify(await run(), null, 2));
