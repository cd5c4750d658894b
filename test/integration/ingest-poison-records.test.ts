/**
 * Poison records and lost labels, end to end through the real ingest handler and the DynamoDB adapters on
 * dynalite:
 * - a requestId past DynamoDB's key limit is quarantined with its own reason instead of failing the
 *   batch's BatchGetItem (which reported the whole batch as failed, so the shard stalled);
 * - a label that names no class of the model is quarantined and never takes its requestId's label slot:
 *   the real label that follows (in the same batch or a later one) is counted, not quarantined as a
 *   duplicate.
 */
import { GetItemCommand, QueryCommand } from "@aws-sdk/client-dynamodb";
import type { Context, KinesisStreamBatchResponse, KinesisStreamEvent } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DAY_MS, HOUR_MS, MINUTE_MS } from "../../contracts/time";
import { keys } from "../../lambdas/adapters/dynamodb-keys";
import { DynamoDbStatsRepository } from "../../lambdas/adapters/dynamodb-stats-repository";
import type { Profile } from "../../lambdas/domain/stats/profile";
import { createIngestHandler, dynamoDbIngestStores } from "../../lambdas/handlers/ingest";
import { createTable, type Emulators, startEmulators } from "../../local/emulators";
import { kinesisRecord, labelEvent, predictionEvent } from "../support/events";
import { MODELS, quietPowertools } from "../support/ingest-fixtures";

const NOW = Date.now();
const T = NOW - HOUR_MS;

let emulators: Emulators;
let tables = 0;
let sequence = 1_000n;

beforeAll(async () => {
  emulators = await startEmulators({ createTable: false, createStream: false });
});
afterAll(async () => {
  await emulators?.stop();
});

const prediction = (requestId: string, over: Record<string, unknown> = {}) =>
  predictionEvent({
    requestId,
    timestamp: T,
    features: { tenure: 12, spend: 40, plan: "pro", active: true },
    score: 0.8,
    ...over,
  });
const label = (requestId: string, value: unknown) =>
  labelEvent({ requestId, timestamp: T + MINUTE_MS, label: value });

/** One Lambda batch of `events`, with sequence numbers increasing across batches (one shard). */
function batch(...events: object[]): KinesisStreamEvent {
  return {
    Records: events.map((e) => {
      sequence += 10n;
      return kinesisRecord(e, { sequenceNumber: String(sequence), arrivalMs: NOW });
    }),
  };
}

async function bed() {
  const tableName = `poison-${tables++}`;
  await createTable(emulators.dynamodb, tableName);
  const handler = createIngestHandler({
    models: MODELS,
    stores: dynamoDbIngestStores(emulators.dynamodb, tableName),
    tools: quietPowertools(),
  });
  const ingest = async (e: KinesisStreamEvent) =>
    (await handler(e, {} as Context)) as KinesisStreamBatchResponse;
  const stats = async () => {
    const w = await new DynamoDbStatsRepository({ client: emulators.dynamodb, tableName }).readWindow(
      "churn",
      0,
      NOW + DAY_MS,
    );
    return { profile: w.profile as Profile, received: w.received, quarantined: w.quarantined };
  };
  const quarantineReasons = async () => {
    const day = new Date(NOW).toISOString().slice(0, 10);
    const out = await emulators.dynamodb.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: "pk = :pk",
        ExpressionAttributeValues: { ":pk": { S: `QUARANTINE#${day}` } },
      }),
    );
    return (out.Items ?? []).map((i) => i.reason?.S).sort();
  };
  const labelMarkerSeq = async (requestId: string) => {
    const k = keys.label("churn", requestId);
    const out = await emulators.dynamodb.send(
      new GetItemCommand({ TableName: tableName, Key: { pk: { S: k.pk }, sk: { S: k.sk } } }),
    );
    return out.Item?.seq?.S?.replace(/^0+/, "");
  };
  return { ingest, stats, quarantineReasons, labelMarkerSeq };
}

const performance = (p: Profile) =>
  p.performance as { n: number; tp: number; fp: number; fn: number; tn: number };

describe("poison records (ingest handler on dynalite)", () => {
  it("a 3 KB requestId is quarantined with its own reason; the rest of the batch is stored", async () => {
    const { ingest, stats, quarantineReasons } = await bed();
    const response = await ingest(
      batch(
        prediction("ok-1"),
        prediction("r".repeat(3000)),
        label("r".repeat(3000), 1),
        prediction("ok-2", { prediction: 0 }),
        label("ok-1", 1),
      ),
    );
    expect(response.batchItemFailures).toEqual([]);
    const s = await stats();
    expect(s.received).toBe(5);
    expect(s.profile.count).toBe(2);
    expect(performance(s.profile).n).toBe(1);
    expect(s.quarantined).toEqual({ "invalid-request-id": 2 });
    expect(await quarantineReasons()).toEqual(["invalid-request-id", "invalid-request-id"]);
  });

  it("junk labels never take the label slot: the real label that follows counts, in the same batch or a later one", async () => {
    const { ingest, stats, quarantineReasons, labelMarkerSeq } = await bed();
    const first = batch(prediction("a"), label("a", "yes"), label("a", "banana"), label("a", 1));
    expect((await ingest(first)).batchItemFailures).toEqual([]);
    const realA = first.Records[3]!.kinesis.sequenceNumber;

    expect((await ingest(batch(prediction("b", { prediction: 0, score: 0.2 })))).batchItemFailures).toEqual(
      [],
    );
    expect((await ingest(batch(label("b", 2), label("b", "maybe")))).batchItemFailures).toEqual([]);
    const later = batch(label("b", 0));
    expect((await ingest(later)).batchItemFailures).toEqual([]);

    // Each requestId's real label is counted once, in its prediction's bucket; the junk is quarantined.
    const s = await stats();
    expect(performance(s.profile)).toMatchObject({ n: 2, tp: 1, tn: 1, fp: 0, fn: 0 });
    expect(s.profile.labelled).toBe(2);
    expect(s.quarantined).toEqual({ "label-not-a-class": 4 });
    expect(await quarantineReasons()).toEqual(Array(4).fill("label-not-a-class"));
    // The label markers were written by the real labels, not the junk before them.
    expect(await labelMarkerSeq("a")).toBe(realA);
    expect(await labelMarkerSeq("b")).toBe(later.Records[0]!.kinesis.sequenceNumber);

    // A resent real label is still a duplicate.
    expect((await ingest(batch(label("a", 1)))).batchItemFailures).toEqual([]);
    expect((await stats()).quarantined).toEqual({ "label-not-a-class": 4, "duplicate-request-id": 1 });
  });

  it("junk predictions never take the prediction slot: the real prediction that follows is profiled", async () => {
    const { ingest, stats } = await bed();
    const response = await ingest(
      batch(prediction("c", { prediction: "yes" }), prediction("c", { prediction: 2 }), prediction("c")),
    );
    expect(response.batchItemFailures).toEqual([]);
    expect((await ingest(batch(label("c", 1)))).batchItemFailures).toEqual([]);
    const s = await stats();
    expect(s.profile.count).toBe(1);
    expect(performance(s.profile)).toMatchObject({ n: 1, tp: 1 });
    expect(s.quarantined).toEqual({ "prediction-not-a-class": 2 });
  });
});
