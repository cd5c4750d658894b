import {
  type DynamoDBClient,
  ProvisionedThroughputExceededException,
  PutItemCommand,
  ScanCommand,
} from "@aws-sdk/client-dynamodb";
import type { Context, KinesisStreamBatchResponse, KinesisStreamEvent } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoDbStatsRepository } from "../../lambdas/adapters/dynamodb-stats-repository";
import { serializeProfile } from "../../lambdas/domain/profile";
import { createIngestHandler } from "../../lambdas/handlers/ingest";
import { createStream, createTable, type Emulators, startEmulators } from "../../local/emulators";
import { EsmPoller } from "../../local/esm-poller";
import {
  expectedStats,
  generateStream,
  MODELS,
  putPayloads,
  quietPowertools,
  readBatches,
  statsDifferences,
} from "./ingest-fixtures";

const N = 400;
const BATCH = 100;
let emu: Emulators;
let payloads: string[];
let batches: KinesisStreamEvent[];
let tables = 0;
const context = {} as Context;

beforeAll(async () => {
  emu = await startEmulators({ createTable: false, createStream: false });
  const nowMs = Date.now();
  payloads = generateStream(N, 42, nowMs);
  await createStream(emu.kinesis, "events");
  await putPayloads(emu, "events", payloads);
  batches = await readBatches(emu, "events", BATCH);
});
afterAll(async () => {
  await emu.stop();
});

async function freshTable(): Promise<string> {
  const name = `ingest-${tables++}`;
  await createTable(emu.dynamodb, name);
  return name;
}

function handlerFor(tableName: string, dynamodb: DynamoDBClient = emu.dynamodb) {
  const h = createIngestHandler({ models: MODELS, dynamodb, tableName, ...quietPowertools() });
  return async (e: KinesisStreamEvent) => (await h(e, context)) as KinesisStreamBatchResponse;
}

/** Stored statistics of every model over all time: `modelId|bucketStart` -> serialized profile + received. */
async function storedStats(tableName: string): Promise<Map<string, { profile: string; received: number }>> {
  const repo = new DynamoDbStatsRepository({ client: emu.dynamodb, tableName });
  const out = new Map<string, { profile: string; received: number }>();
  for (const m of MODELS) {
    const w = await repo.readWindow(m.id, 0, Date.now() + 86_400_000);
    for (const b of w.buckets) {
      out.set(`${m.id}|${b.bucketStart}`, {
        profile: serializeProfile(b.profile),
        received: b.received,
      });
    }
  }
  return out;
}

function expected(): Map<string, { profile: string; received: number }> {
  const out = new Map<string, { profile: string; received: number }>();
  for (const [k, b] of expectedStats(payloads)) {
    out.set(k, { profile: serializeProfile(b.profile), received: b.received });
  }
  return out;
}

const half = (e: KinesisStreamEvent, first: boolean): KinesisStreamEvent => {
  const mid = Math.ceil(e.Records.length / 2);
  return { Records: first ? e.Records.slice(0, mid) : e.Records.slice(mid) };
};

describe("ingest against kinesalite + dynalite", () => {
  it("stores exactly the statistics of an in-memory computation over the same events (ESM poller)", async () => {
    const table = await freshTable();
    const poller = new EsmPoller({
      kinesis: emu.kinesis,
      streamName: "events",
      batchSize: BATCH,
      handler: handlerFor(table),
    });
    expect(await poller.drain()).toBe(N);
    expect(poller.stats.partialFailures).toBe(0);
    const stored = await storedStats(table);
    expect(stored.size).toBeGreaterThan(8);
    expect(statsDifferences(stored, expected())).toEqual([]);
  });

  it("keeps every record: quarantine items + aggregated = records in", async () => {
    const table = await freshTable();
    const handle = handlerFor(table);
    for (const b of batches) expect((await handle(b)).batchItemFailures).toEqual([]);
    const items = (await emu.dynamodb.send(new ScanCommand({ TableName: table }))).Items ?? [];
    const quarantineItems = items.filter((i) => i.pk?.S?.startsWith("QUARANTINE#"));
    const stats = await storedStats(table);
    const received = [...stats.values()].reduce((n, s) => n + s.received, 0);
    const unattributed = quarantineItems.filter((i) => i.modelId === undefined).length;
    expect(received + unattributed).toBe(N);
    const aggregated = [...stats.values()].reduce((n, s) => {
      const p = JSON.parse(s.profile) as { n: number; l: number };
      return n + p.n + p.l;
    }, 0);
    expect(aggregated + quarantineItems.length).toBe(N);
    expect(new Set(quarantineItems.map((i) => i.reason?.S))).toEqual(
      new Set([
        "invalid-json",
        "not-an-object",
        "unsupported-schema-version",
        "unknown-model",
        "feature-type-mismatch",
        "duplicate-request-id",
        "label-without-prediction",
      ]),
    );
  });

  it.each([
    ["every batch delivered twice", (b: KinesisStreamEvent) => [b, b]],
    ["bisected: whole batch, then each half", (b: KinesisStreamEvent) => [b, half(b, true), half(b, false)]],
    [
      "bisected: first half, then whole batch, then second half",
      (b: KinesisStreamEvent) => [half(b, true), b, half(b, false)],
    ],
    [
      "remainder redelivered after each half",
      (b: KinesisStreamEvent) => [half(b, true), half(b, false), half(b, false)],
    ],
  ])("redelivery leaves identical statistics: %s", async (_what, pattern) => {
    const table = await freshTable();
    const handle = handlerFor(table);
    for (const b of batches)
      for (const d of pattern(b)) expect((await handle(d)).batchItemFailures).toEqual([]);
    expect(statsDifferences(await storedStats(table), expected())).toEqual([]);
  });

  it("throttling mid-batch: reports the first record not persisted; the ESM retry converges to the clean result", async () => {
    const table = await freshTable();
    let puts = 0;
    const flaky = Object.create(emu.dynamodb) as DynamoDBClient;
    flaky.send = (async (command: unknown) => {
      if (command instanceof PutItemCommand && ++puts % 3 === 0) {
        throw new ProvisionedThroughputExceededException({ message: "throttled", $metadata: {} });
      }
      return emu.dynamodb.send(command as never);
    }) as DynamoDBClient["send"];
    const poller = new EsmPoller({
      kinesis: emu.kinesis,
      streamName: "events",
      batchSize: BATCH,
      maximumRetryAttempts: 50,
      handler: handlerFor(table, flaky),
    });
    expect(await poller.drain()).toBe(N);
    expect(poller.stats.partialFailures).toBeGreaterThan(3);
    expect(poller.stats.recordsSentToOnFailure).toBe(0);
    expect(statsDifferences(await storedStats(table), expected())).toEqual([]);
  });
});
