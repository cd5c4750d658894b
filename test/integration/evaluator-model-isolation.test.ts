/**
 * One model's failure does not stop the others. The evaluator handler (lambdas/handlers/evaluate.ts over
 * the schedule-slot use case) runs four models on dynalite with the real statistics and state
 * repositories: two healthy, one whose stored bucket profile is corrupt (it fails to deserialize), one
 * whose statistics reads are throttled past the SDK's retries. The healthy models are decided, recorded,
 * alerted on and their runs started; the failed ones are named in the error that fails the invocation, so
 * the scheduler retries the slot; the retried slot finishes the models that failed without deciding,
 * alerting or starting anything twice.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import {
  type DynamoDBClient,
  ProvisionedThroughputExceededException,
  PutItemCommand,
  type QueryCommandInput,
} from "@aws-sdk/client-dynamodb";
import type { Context } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parsePolicy } from "../../contracts/policy";
import { DAY_MS as DAY, HOUR_MS as HOUR } from "../../contracts/time";
import { keys } from "../../lambdas/adapters/dynamodb-keys";
import { DynamoDbModelStateRepository } from "../../lambdas/adapters/dynamodb-model-state-repository";
import { DynamoDbStatsRepository } from "../../lambdas/adapters/dynamodb-stats-repository";
import { evaluateSlot } from "../../lambdas/app/evaluate/evaluate-slot";
import type { EvaluatedModel, EvaluatorDeps } from "../../lambdas/app/evaluate/evaluator";
import { serializeProfile } from "../../lambdas/domain/stats/profile-codec";
import { createEvaluateHandler, EvaluationFailedError } from "../../lambdas/handlers/evaluate";
import { QueueingWorkflowStarter, RecordingNotifier } from "../../local/control-plane";
import { type Emulators, startEmulators } from "../../local/emulators";
import { SHARD_ID as SHARD } from "../support/events";
import { FEATURES, NORMAL_WORLD, Simulation, T0 } from "../support/simulation";

const shiftAt = T0 + 2 * DAY;
const SLOT = new Date(shiftAt + 3 * HOUR).toISOString();
const MODEL_IDS = ["alpha", "corrupt", "throttled", "beta"] as const;
const CORRUPT_BUCKET = shiftAt + 2 * HOUR;

const models: EvaluatedModel[] = MODEL_IDS.map((id) => ({
  id,
  task: "binary",
  classes: ["0", "1"],
  labelHorizonHours: 168,
  bucketMinutes: 60,
  features: FEATURES.map((f) => ({ ...f })),
  policy: parsePolicy({
    windowHours: 4,
    referenceWindowHours: 24,
    signals: { drift: { features: { season: { ignore: true } } } },
    stability: { persistence: { m: 1, n: 1 } },
  }),
}));

let emulators: Emulators;
let sim: Simulation;
/** The evaluator's client: statistics Queries of the `throttled` model fail while `throttling` is on. */
let client: DynamoDBClient;
let throttling = true;
let throttledQueries = 0;

beforeAll(async () => {
  emulators = await startEmulators({ createStream: false });
  sim = new Simulation({
    policy: {},
    world: (t) => (t >= shiftAt ? { ...NORMAL_WORLD, spread: 0.15 } : NORMAL_WORLD),
  });
  sim.generateUntil(shiftAt + 4 * HOUR);
  // The same hourly buckets for every model, stored as the ingest stores them (one shard).
  for (const id of MODEL_IDS) await storeBuckets(id);
  client = emulators.createDynamoDbClient();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = (args as { input: QueryCommandInput }).input;
      const pk = input.ExpressionAttributeValues?.[":pk"]?.S;
      if (throttling && context.commandName === "QueryCommand" && pk === keys.statsPartition("throttled")) {
        throttledQueries++;
        throw new ProvisionedThroughputExceededException({
          message: "Rate exceeded (injected)",
          $metadata: {},
        });
      }
      return next(args);
    },
    // Inside the SDK's retry loop: the SDK retries the throttled read, then gives up.
    { step: "finalizeRequest", name: "throttleOneModel", priority: "low" },
  );
});
afterAll(async () => {
  client?.destroy();
  await emulators?.stop();
});

/** Writes the simulation's buckets as `modelId`'s statistics items; `corrupt`: one profile cut short. */
async function storeBuckets(modelId: string, corrupt = modelId === "corrupt") {
  for (const b of sim.buckets.values()) {
    const k = keys.stats(modelId, b.bucketStart, SHARD);
    const serialized = serializeProfile(b.profile);
    const profile =
      corrupt && b.bucketStart === CORRUPT_BUCKET ? serialized.slice(0, serialized.length / 2) : serialized;
    await emulators.dynamodb.send(
      new PutItemCommand({
        TableName: emulators.tableName,
        Item: {
          pk: { S: k.pk },
          sk: { S: k.sk },
          modelId: { S: modelId },
          shardId: { S: SHARD },
          bucketStart: { N: String(b.bucketStart) },
          profile: { S: profile },
          seq: { S: "1".padStart(64, "0") },
          received: { N: String(b.received ?? 0) },
          quarantined: { M: {} },
        },
      }),
    );
  }
}

const notifier = new RecordingNotifier(Date.now);
/** Step Functions as local mode stands it in: a second start with the same name is answered, not repeated. */
const sfn = new QueueingWorkflowStarter();
const started = () => sfn.queue.map((s) => s.name);
const deps = (): Omit<EvaluatorDeps, "telemetry" | "log"> => ({
  models,
  stats: new DynamoDbStatsRepository({ client, tableName: emulators.tableName }),
  state: new DynamoDbModelStateRepository({ client, tableName: emulators.tableName }),
  notifier,
  workflow: sfn,
});
const tools = () => ({
  logger: new Logger({ serviceName: "evaluator", logLevel: "SILENT" }),
  metrics: new Metrics({ namespace: "RetrainTriggersTest", serviceName: "evaluator" }),
});
const repo = () =>
  new DynamoDbModelStateRepository({ client: emulators.dynamodb, tableName: emulators.tableName });
const decided = async () => {
  const out: Record<string, string | undefined> = {};
  for (const id of MODEL_IDS) out[id] = (await repo().getDecision(id, Date.parse(SLOT)))?.decision.action;
  return out;
};

describe("evaluator: one model's failure does not stop the others (dynalite)", () => {
  it("decides and records the healthy models, names the failed ones and fails the invocation", async () => {
    const handler = createEvaluateHandler({ ...deps(), tools: tools() });
    const error = await handler({ time: SLOT }, {} as Context).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(EvaluationFailedError);
    expect((error as Error).message).toMatch(
      /^2 of 4 models failed: corrupt: .+; throttled: .*Rate exceeded/,
    );
    expect(throttledQueries).toBeGreaterThan(1); // the SDK retried before giving up
    expect(await decided()).toEqual({
      alpha: "retrain",
      beta: "retrain",
      corrupt: undefined,
      throttled: undefined,
    });
    expect(started().sort()).toEqual(["alpha-retrain-20261007T030000Z", "beta-retrain-20261007T030000Z"]);
    expect(notifier.sent.map((n) => n.modelId).sort()).toEqual(["alpha", "beta"]);
  });

  it("the retried slot decides the model whose reads recovered, reuses the others' decisions, still reports the corrupt one", async () => {
    throttling = false;
    const report = await evaluateSlot({ ...deps(), log: tools().logger }, { time: SLOT });
    const byId = Object.fromEntries(report.models.map((m) => [m.modelId, m]));
    expect(byId.alpha).toMatchObject({
      action: "retrain",
      reused: true,
      alreadyStarted: true,
      notified: true,
    });
    expect(byId.beta).toMatchObject({
      action: "retrain",
      reused: true,
      alreadyStarted: true,
      notified: true,
    });
    expect(byId.throttled).toMatchObject({ action: "retrain", reused: false, alreadyStarted: false });
    expect(byId.throttled!.error).toBeUndefined();
    expect(byId.corrupt).toMatchObject({ action: "none", headline: "evaluation failed" });
    expect(byId.corrupt!.error).toEqual(expect.any(String));
    // Nothing twice: one run and one alert per decided model.
    expect(started()).toHaveLength(3);
    expect(notifier.sent.map((n) => n.modelId).sort()).toEqual(["alpha", "beta", "throttled"]);
    expect((await repo().getState("alpha")).retrainStarts).toEqual([Date.parse(SLOT)]);
  });

  it("once the profile is repaired, the slot completes and the invocation succeeds", async () => {
    await storeBuckets("corrupt", false);
    const handler = createEvaluateHandler({ ...deps(), tools: tools() });
    const report = await handler({ time: SLOT }, {} as Context);
    expect(report.models.every((m) => m.error === undefined)).toBe(true);
    expect(await decided()).toEqual({
      alpha: "retrain",
      beta: "retrain",
      corrupt: "retrain",
      throttled: "retrain",
    });
    expect(started()).toHaveLength(4);
    expect(notifier.sent).toHaveLength(4);
  });
});
