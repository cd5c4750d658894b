/**
 * Shared fixtures of the ingest integration tests: a seeded event stream (predictions, labels with and
 * without their prediction, resent labels, invalid records) and an independent in-memory oracle of the statistics the
 * ingest must store.
 */

import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { PutRecordsCommand } from "@aws-sdk/client-kinesis";
import type { Context, KinesisStreamBatchResponse, KinesisStreamEvent } from "aws-lambda";
import { profileSpecOf } from "../../contracts/model";
import { DAY_MS, HOUR_MS } from "../../contracts/time";
import { DynamoDbStatsRepository } from "../../lambdas/adapters/dynamodb-stats-repository";
import { bucketStartOf } from "../../lambdas/domain/ingest/batch";
import type { IngestModel } from "../../lambdas/domain/ingest/event-validation";
import { emptyProfile, type Profile } from "../../lambdas/domain/stats/profile";
import { deserializeProfile, serializeProfile } from "../../lambdas/domain/stats/profile-codec";
import { profileDifferences as domainProfileDifferences } from "../../lambdas/domain/stats/profile-equivalence";
import { addOutcome, addPrediction } from "../../lambdas/domain/stats/profile-update";
import { createIngestHandler, dynamoDbIngestStores } from "../../lambdas/handlers/ingest";
import { createStream, createTable, type Emulators, startEmulators } from "../../local/emulators";
import { EsmPoller } from "../../local/esm-poller";
import { mulberry32 } from "../../local/prng";
import { labelEvent, predictionEvent } from "./events";
import { ingestModel } from "./models";

export const MODELS: IngestModel[] = [
  ingestModel({
    features: [
      { name: "tenure", kind: "numeric" },
      { name: "spend", kind: "numeric" },
      { name: "plan", kind: "categorical" },
      { name: "active", kind: "categorical" },
    ],
    labelHorizonHours: 48,
  }),
  ingestModel({
    id: "price",
    task: "regression",
    features: [
      { name: "rooms", kind: "numeric" },
      { name: "city", kind: "categorical" },
    ],
    labelHorizonHours: 2,
    bucketMinutes: 30,
  }),
];

/** A stream of `n` payloads (JSON strings or raw junk), event times in the 5 hours before `nowMs`. */
export function generateStream(n: number, seed: number, nowMs: number): string[] {
  const rand = mulberry32(seed);
  const out: string[] = [];
  const predicted: Array<{ modelId: string; requestId: string; timestamp: number; prediction: number }> = [];
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
  const sentLabels: string[] = [];
  for (let i = 0; i < n; i++) {
    const u = rand();
    const timestamp = Math.round(nowMs - 5 * HOUR_MS + rand() * 4.5 * HOUR_MS);
    if (u < 0.62 || predicted.length === 0) {
      const churn = rand() < 0.7;
      const requestId = `r${i}`;
      const event = churn
        ? predictionEvent({
            requestId,
            timestamp: rand() < 0.5 ? timestamp : new Date(timestamp).toISOString(),
            features: {
              tenure: Math.floor(rand() * 60),
              spend: rand() < 0.1 ? null : Math.round(rand() * 20_000) / 100,
              plan: pick(["free", "pro", "team"]),
              active: rand() < 0.5,
            },
            prediction: rand() < 0.3 ? 1 : 0,
            score: Math.round(rand() * 1000) / 1000,
          })
        : predictionEvent({
            modelId: "price",
            requestId,
            timestamp,
            features: { rooms: 1 + Math.floor(rand() * 6), city: pick(["lyon", "oslo", "kyiv"]) },
            prediction: Math.round(rand() * 500_000),
          });
      predicted.push({ modelId: event.modelId, requestId, timestamp, prediction: event.prediction });
      out.push(JSON.stringify(event));
    } else if (u < 0.84 && sentLabels.length > 0 && rand() < 0.15) {
      out.push(pick(sentLabels)); // a producer retry: the same label payload again
    } else if (u < 0.84) {
      const p = pick(predicted);
      const labelTime = Math.min(nowMs, p.timestamp + rand() * 3 * HOUR_MS);
      const inline = rand() < 0.3;
      const label = p.modelId === "churn" ? (rand() < 0.4 ? 1 : 0) : p.prediction * (0.8 + rand() * 0.4);
      const payload = JSON.stringify(
        labelEvent({
          modelId: p.modelId,
          requestId: p.requestId,
          timestamp: Math.round(labelTime),
          label,
          ...(inline ? { prediction: p.prediction, predictionTimestamp: p.timestamp } : {}),
        }),
      );
      sentLabels.push(payload);
      out.push(payload);
    } else if (u < 0.88) {
      out.push(JSON.stringify(labelEvent({ requestId: `nope${i}`, timestamp })));
    } else if (u < 0.91) {
      const p = pick(predicted);
      out.push(JSON.stringify(predictionEvent({ modelId: p.modelId, requestId: p.requestId, timestamp })));
    } else {
      out.push(
        pick([
          "not json",
          "[1,2]",
          JSON.stringify({ schemaVersion: 2, type: "prediction" }),
          JSON.stringify({ schemaVersion: 1, type: "prediction", modelId: "ghost", requestId: "g" }),
          JSON.stringify(predictionEvent({ requestId: `bad${i}`, timestamp, features: { tenure: "old" } })),
        ]),
      );
    }
  }
  return out;
}

export interface ExpectedBucket {
  profile: Profile;
  received: number;
}

/**
 * The oracle: statistics computed directly from the stream (no batching, no storage), following the
 * documented semantics. Keys `modelId|bucketStart`.
 */
export function expectedStats(payloads: readonly string[]): Map<string, ExpectedBucket> {
  const models = new Map(MODELS.map((m) => [m.id, m]));
  const predictions = new Map<string, { prediction: number | string; score?: number; timestamp: number }>();
  const labelled = new Set<string>();
  const buckets = new Map<string, ExpectedBucket>();
  const bucket = (modelId: string, t: number) => {
    const m = models.get(modelId)!;
    const key = `${modelId}|${bucketStartOf(t, m.bucketMinutes)}`;
    let b = buckets.get(key);
    if (!b) {
      b = { profile: emptyProfile(profileSpecOf(m)), received: 0 };
      buckets.set(key, b);
    }
    return b;
  };
  for (const text of payloads) {
    let e: Record<string, unknown>;
    try {
      e = JSON.parse(text);
    } catch {
      continue;
    }
    if (typeof e !== "object" || e === null || Array.isArray(e) || e.schemaVersion !== 1) continue;
    const model = models.get(e.modelId as string);
    if (!model) continue;
    const t = typeof e.timestamp === "string" ? Date.parse(e.timestamp) : (e.timestamp as number);
    const key = `${model.id}\u0000${e.requestId}`;
    if (e.type === "prediction") {
      const features = e.features as Record<string, unknown>;
      const valid = Object.entries(features).every(([k, v]) => {
        const kind = model.features.find((f) => f.name === k)?.kind;
        return kind === "categorical" || (kind === "numeric" && (v === null || typeof v === "number"));
      });
      const b = bucket(model.id, t);
      b.received++;
      if (!valid || predictions.has(key)) continue;
      const p = {
        prediction: e.prediction as number,
        ...(typeof e.score === "number" ? { score: e.score } : {}),
        timestamp: t,
      };
      predictions.set(key, p);
      addPrediction(b.profile, { features: features as never, ...p });
    } else {
      const p =
        e.prediction !== undefined
          ? { prediction: e.prediction as number, timestamp: e.predictionTimestamp as number }
          : predictions.get(key);
      // No prediction, past the horizon, or a resent label (a requestId's label counts once): quarantined.
      if (!p || t - p.timestamp > model.labelHorizonHours * HOUR_MS || labelled.has(key)) {
        bucket(model.id, t).received++;
        continue;
      }
      labelled.add(key);
      const b = bucket(model.id, p.timestamp);
      b.received++;
      addOutcome(b.profile, {
        prediction: p.prediction,
        ...("score" in p && p.score !== undefined ? { score: p.score } : {}),
        label: e.label as number,
      });
    }
  }
  return buckets;
}

/**
 * Paths where two serialized profiles of the same events differ beyond what batch splits may change
 * (lambdas/domain/stats/profile-equivalence.ts, docs/statistics.md "Batch splits"): counts, categories and
 * extremes exactly; floating-point fields (means, M2, loss sums) within `relTol`, since merging is
 * associative only up to rounding and different delivery patterns merge in different trees; numeric
 * sketches' CDFs within the sum of their error bounds (their cells depend on the split).
 */
export function profileDifferences(a: string, b: string, relTol = 1e-9): string[] {
  return domainProfileDifferences(deserializeProfile(a), deserializeProfile(b), {
    relativeTolerance: relTol,
  });
}

/** Differences between two sets of bucket statistics (`key` -> serialized profile + received). */
export function statsDifferences(
  actual: ReadonlyMap<string, { profile: string; received: number }>,
  expected: ReadonlyMap<string, { profile: string; received: number }>,
): string[] {
  const out: string[] = [];
  for (const key of new Set([...actual.keys(), ...expected.keys()])) {
    const a = actual.get(key);
    const e = expected.get(key);
    if (!a || !e) {
      out.push(`${key}: ${a ? "unexpected" : "missing"} bucket`);
      continue;
    }
    if (a.received !== e.received) out.push(`${key}.received: ${a.received} != ${e.received}`);
    out.push(...profileDifferences(a.profile, e.profile).map((d) => `${key} ${d}`));
  }
  return out;
}

/** Put payloads on the stream (PutRecords, 500 per call), in order, partition key = modelId. */
export async function putPayloads(
  emu: Emulators,
  streamName: string,
  payloads: readonly string[],
): Promise<void> {
  for (let i = 0; i < payloads.length; i += 500) {
    const part = payloads.slice(i, i + 500);
    const out = await emu.kinesis.send(
      new PutRecordsCommand({
        StreamName: streamName,
        Records: part.map((p) => ({ Data: Buffer.from(p), PartitionKey: "p" })),
      }),
    );
    if (out.FailedRecordCount) throw new Error(`PutRecords: ${out.FailedRecordCount} failed`);
  }
}

/** Read the whole stream into Lambda-shaped batches of `batchSize` (the ESM poller, capturing). */
export async function readBatches(
  emu: Emulators,
  streamName: string,
  batchSize: number,
): Promise<KinesisStreamEvent[]> {
  const batches: KinesisStreamEvent[] = [];
  const poller = new EsmPoller({
    kinesis: emu.kinesis,
    streamName,
    batchSize,
    handler: async (e) => {
      batches.push(e);
    },
  });
  await poller.drain();
  return batches;
}

/** Quiet Powertools utilities for tests (metrics disabled, errors-only logs). */
export function quietPowertools(): { logger: Logger; metrics: Metrics } {
  process.env.POWERTOOLS_METRICS_DISABLED = "true";
  return {
    logger: new Logger({ serviceName: "ingest", logLevel: "ERROR" }),
    metrics: new Metrics({ namespace: "RetrainTriggers", serviceName: "ingest" }),
  };
}

export type StoredStats = Map<string, { profile: string; received: number }>;

/**
 * Emulators holding one generated stream ("events"), its Lambda-shaped batches, and helpers to run the
 * real handler against fresh tables and compare what they store with the oracle.
 */
export class IngestTestBed {
  private tables = 0;

  private constructor(
    readonly emu: Emulators,
    readonly payloads: string[],
    readonly batches: KinesisStreamEvent[],
  ) {}

  static async start(n: number, batchSize: number, seed = 42): Promise<IngestTestBed> {
    const emu = await startEmulators({ createTable: false, createStream: false });
    const payloads = generateStream(n, seed, Date.now());
    await createStream(emu.kinesis, "events");
    await putPayloads(emu, "events", payloads);
    return new IngestTestBed(emu, payloads, await readBatches(emu, "events", batchSize));
  }

  async stop(): Promise<void> {
    await this.emu.stop();
  }

  async freshTable(): Promise<string> {
    const name = `ingest-${this.tables++}`;
    await createTable(this.emu.dynamodb, name);
    return name;
  }

  handlerFor(tableName: string, dynamodb: DynamoDBClient = this.emu.dynamodb) {
    const h = createIngestHandler({
      models: MODELS,
      stores: dynamoDbIngestStores(dynamodb, tableName),
      tools: quietPowertools(),
    });
    return async (e: KinesisStreamEvent) => (await h(e, {} as Context)) as KinesisStreamBatchResponse;
  }

  /** Stored statistics of every model over all time: `modelId|bucketStart` -> serialized profile + received. */
  async storedStats(tableName: string): Promise<StoredStats> {
    const repo = new DynamoDbStatsRepository({ client: this.emu.dynamodb, tableName });
    const out: StoredStats = new Map();
    for (const m of MODELS) {
      const w = await repo.readWindow(m.id, 0, Date.now() + DAY_MS);
      for (const b of w.buckets) {
        out.set(`${m.id}|${b.bucketStart}`, { profile: serializeProfile(b.profile), received: b.received });
      }
    }
    return out;
  }

  /** The oracle's statistics for the generated stream. */
  expected(): StoredStats {
    const out: StoredStats = new Map();
    for (const [k, b] of expectedStats(this.payloads)) {
      out.set(k, { profile: serializeProfile(b.profile), received: b.received });
    }
    return out;
  }
}
