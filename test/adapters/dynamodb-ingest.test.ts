import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  ProvisionedThroughputExceededException,
  PutItemCommand,
  QueryCommand,
} from "@aws-sdk/client-dynamodb";
import type { Context, KinesisStreamBatchResponse, KinesisStreamEvent } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { profileSpecOf } from "../../contracts/model";
import { DAY_MS, HOUR_MS } from "../../contracts/time";
import { keys, padSequence } from "../../lambdas/adapters/dynamodb-keys";
import { DynamoDbPredictionIndex } from "../../lambdas/adapters/dynamodb-prediction-index";
import { DynamoDbQuarantineStore } from "../../lambdas/adapters/dynamodb-quarantine-store";
import { DynamoDbStatsRepository } from "../../lambdas/adapters/dynamodb-stats-repository";
import {
  classifyBatch,
  groupBatch,
  type IngestGroup,
  indexPredictions,
  resolveBatch,
} from "../../lambdas/domain/ingest/batch";
import { compileModels } from "../../lambdas/domain/ingest/event-validation";
import { emptyProfile } from "../../lambdas/domain/stats/profile";
import { deserializeProfile, serializeProfile } from "../../lambdas/domain/stats/profile-codec";
import { addPrediction } from "../../lambdas/domain/stats/profile-update";
import { createIngestHandler, dynamoDbIngestStores } from "../../lambdas/handlers/ingest";
import { eventData, kinesisRecord, predictionEvent, SHARD_ID } from "../support/events";
import { ingestModel } from "../support/models";
import { T0 } from "../support/time";

const TABLE = "t";
const spec = ingestModel({ features: [{ name: "x", kind: "numeric" }] });
const models = compileModels([spec]);
const specs = new Map([["churn", profileSpecOf(spec)]]);
const ddb = mockClient(DynamoDBClient);
const client = new DynamoDBClient({
  region: "us-east-1",
  credentials: { accessKeyId: "a", secretAccessKey: "b" },
});
const throttled = () => new ProvisionedThroughputExceededException({ message: "slow down", $metadata: {} });

const prediction = (requestId: string, x: number, hour = 0) =>
  predictionEvent({ requestId, timestamp: T0 + hour * HOUR_MS, features: { x }, score: 0.5 });

/** Groups of a batch of predictions with sequence numbers 10, 11, ... (one group per hour). */
function groupsOf(hours: number[]): IngestGroup[] {
  const records = hours.map((h, i) => ({
    sequenceNumber: String(10 + i),
    arrivalMs: T0 + 5 * HOUR_MS,
    data: eventData(prediction(`r${i}`, i, h)),
  }));
  return groupBatch(
    resolveBatch(classifyBatch(records, models), SHARD_ID, indexPredictions([]), models),
    models,
  );
}

function storedItem(seq: string, xs: number[]) {
  const p = emptyProfile(profileSpecOf(spec));
  for (const x of xs) addPrediction(p, { features: { x }, prediction: 1, score: 0.5 });
  const k = keys.stats("churn", T0, SHARD_ID);
  return {
    pk: { S: k.pk },
    sk: { S: k.sk },
    bucketStart: { N: String(T0) },
    profile: { S: serializeProfile(p) },
    seq: { S: padSequence(seq) },
    received: { N: String(xs.length) },
    quarantined: { M: { "invalid-json": { N: "2" } } },
  };
}

const putItems = () => ddb.commandCalls(PutItemCommand).map((c) => c.args[0].input);

beforeEach(() => {
  ddb.reset();
});

describe("DynamoDbStatsRepository.applyGroups", () => {
  const repo = () => new DynamoDbStatsRepository({ client, tableName: TABLE });

  it("creates a new bucket item guarded by attribute_not_exists, with the last sequence number", async () => {
    ddb.on(BatchGetItemCommand).resolves({ Responses: { [TABLE]: [] } });
    ddb.on(PutItemCommand).resolves({});
    const [result] = await repo().applyGroups(SHARD_ID, groupsOf([0, 0]), specs);
    expect(result?.status).toBe("applied");
    const [put] = putItems();
    expect(put?.ConditionExpression).toBe("attribute_not_exists(pk)");
    expect(put?.Item?.seq?.S).toBe(padSequence("11"));
    expect(deserializeProfile(put?.Item?.profile?.S ?? "").count).toBe(2);
  });

  it("merges into the stored item above its watermark, conditional on the stored sequence number", async () => {
    ddb.on(BatchGetItemCommand).resolves({ Responses: { [TABLE]: [storedItem("10", [100, 200])] } });
    ddb.on(PutItemCommand).resolves({});
    const [result] = await repo().applyGroups(SHARD_ID, groupsOf([0, 0, 0]), specs);
    expect(result?.status).toBe("applied");
    const [put] = putItems();
    expect(put?.ConditionExpression).toBe("seq = :prev");
    expect(put?.ExpressionAttributeValues?.[":prev"]?.S).toBe(padSequence("10"));
    expect(deserializeProfile(put?.Item?.profile?.S ?? "").count).toBe(4);
    expect(put?.Item?.received?.N).toBe("4");
    expect(put?.Item?.quarantined?.M?.["invalid-json"]?.N).toBe("2");
  });

  it("skips a redelivered group without writing", async () => {
    ddb.on(BatchGetItemCommand).resolves({ Responses: { [TABLE]: [storedItem("99", [1])] } });
    const [result] = await repo().applyGroups(SHARD_ID, groupsOf([0, 0]), specs);
    expect(result?.status).toBe("skipped");
    expect(putItems()).toHaveLength(0);
  });

  it("re-reads and re-merges after a concurrent update (conditional check failed)", async () => {
    ddb.on(BatchGetItemCommand).resolves({ Responses: { [TABLE]: [] } });
    ddb
      .on(PutItemCommand)
      .rejectsOnce(new ConditionalCheckFailedException({ message: "changed", $metadata: {} }))
      .resolves({});
    ddb.on(GetItemCommand).resolves({ Item: storedItem("10", [7]) });
    const [result] = await repo().applyGroups(SHARD_ID, groupsOf([0, 0]), specs);
    expect(result).toMatchObject({ status: "applied", attempts: 3 });
    const last = putItems()[1];
    expect(last?.ConditionExpression).toBe("seq = :prev");
    expect(deserializeProfile(last?.Item?.profile?.S ?? "").count).toBe(2);
  });

  it("reports a throttled group as failed and still applies the others", async () => {
    ddb.on(BatchGetItemCommand).resolves({ Responses: { [TABLE]: [] } });
    const hour1 = keys.stats("churn", T0 + HOUR_MS, SHARD_ID).sk;
    ddb.on(PutItemCommand).callsFake(async (input: { Item: { sk: { S: string } } }) => {
      if (input.Item.sk.S === hour1) throw throttled();
      return {};
    });
    const results = await repo().applyGroups(SHARD_ID, groupsOf([0, 1]), specs);
    expect(results.map((r) => r.status)).toEqual(["applied", "failed"]);
  });

  it("uses one BatchGetItem for all groups: requests bounded by groups, not events", async () => {
    ddb.on(BatchGetItemCommand).resolves({ Responses: { [TABLE]: [] } });
    ddb.on(PutItemCommand).resolves({});
    await repo().applyGroups(SHARD_ID, groupsOf([0, 0, 0, 1, 1, 2, 2, 2, 2]), specs);
    expect(ddb.commandCalls(BatchGetItemCommand)).toHaveLength(1);
    expect(putItems()).toHaveLength(3);
  });
});

describe("DynamoDbStatsRepository.readWindow", () => {
  it("merges the shards of each bucket over all pages", async () => {
    const shard1 = { ...storedItem("5", [1, 2]), sk: { S: keys.stats("churn", T0, "shardId-1").sk } };
    ddb
      .on(QueryCommand)
      .resolvesOnce({ Items: [storedItem("10", [3])], LastEvaluatedKey: { pk: { S: "x" }, sk: { S: "y" } } })
      .resolvesOnce({ Items: [shard1] });
    const w = await new DynamoDbStatsRepository({ client, tableName: TABLE }).readWindow(
      "churn",
      T0,
      T0 + HOUR_MS,
    );
    expect(w.buckets).toHaveLength(1);
    expect(w.buckets[0]).toMatchObject({
      bucketStart: T0,
      received: 3,
      shards: 2,
      quarantined: { "invalid-json": 4 },
    });
    expect(w.profile?.count).toBe(3);
  });

  it("returns no profile for an empty window", async () => {
    ddb.on(QueryCommand).resolves({ Items: [] });
    const w = await new DynamoDbStatsRepository({ client, tableName: TABLE }).readWindow("churn", 0, 1);
    expect(w).toMatchObject({ profile: undefined, received: 0, buckets: [] });
  });
});

describe("DynamoDbStatsRepository.firstBucketStart", () => {
  it.each([
    ["the first item's bucket", [{ bucketStart: { N: String(T0) } }], T0],
    ["undefined for an empty range", [], undefined],
  ])("returns %s, from one item of the window's key range", async (_name, items, expected) => {
    ddb.on(QueryCommand).resolves({ Items: items });
    const repo = new DynamoDbStatsRepository({ client, tableName: TABLE });
    expect(await repo.firstBucketStart("churn", T0, T0 + DAY_MS)).toBe(expected);
    const input = ddb.commandCalls(QueryCommand)[0]!.args[0].input;
    expect(input).toMatchObject({
      TableName: TABLE,
      Limit: 1,
      ProjectionExpression: "bucketStart",
      ExpressionAttributeValues: {
        ":pk": { S: keys.statsPartition("churn") },
        ":from": { S: keys.statsRange(T0, T0 + DAY_MS).from },
        ":to": { S: keys.statsRange(T0, T0 + DAY_MS).to },
      },
    });
  });
});

describe("DynamoDbPredictionIndex", () => {
  const record = (requestId: string) => ({
    modelId: "churn",
    requestId,
    prediction: 1,
    timestamp: T0,
    shardId: SHARD_ID,
    seq: padSequence("1"),
    expiresAtMs: T0 + DAY_MS,
  });

  it("writes in chunks of 25 and retries unprocessed items", async () => {
    let calls = 0;
    ddb.on(BatchWriteItemCommand).callsFake(async (input: { RequestItems: Record<string, unknown[]> }) => {
      calls++;
      const items = input.RequestItems[TABLE]!;
      return calls === 1 ? { UnprocessedItems: { [TABLE]: items.slice(0, 3) } } : {};
    });
    const { failed } = await new DynamoDbPredictionIndex({ client, tableName: TABLE }).save(
      Array.from({ length: 60 }, (_, i) => record(`r${i}`)),
    );
    expect(failed).toEqual([]);
    const sizes = ddb
      .commandCalls(BatchWriteItemCommand)
      .map((c) => c.args[0].input.RequestItems?.[TABLE]?.length);
    expect(sizes.sort()).toEqual([10, 25, 25, 3].sort());
  });

  it("reports items that stay unprocessed or throttled as failed", async () => {
    ddb.on(BatchWriteItemCommand).rejects(throttled());
    const { failed } = await new DynamoDbPredictionIndex({ client, tableName: TABLE }).save([
      record("a"),
      record("b"),
    ]);
    expect(failed.map((f) => f.requestId)).toEqual(["a", "b"]);
  });
});

describe("DynamoDbPredictionIndex label markers", () => {
  const marker = (requestId: string) => ({
    modelId: "churn",
    requestId,
    shardId: SHARD_ID,
    seq: padSequence("7"),
    expiresAtMs: T0 + DAY_MS + 1,
  });

  /** The stored marker of `marker("a")`, without its TTL. */
  const markerItem = {
    pk: { S: "MODEL#churn#PRED#a" },
    sk: { S: "L" },
    modelId: { S: "churn" },
    requestId: { S: "a" },
    shardId: { S: SHARD_ID },
    seq: { S: padSequence("7") },
  };

  it("writes a marker next to its prediction (sort key L) with the TTL of the label horizon", async () => {
    ddb.on(BatchWriteItemCommand).resolves({});
    const { failed } = await new DynamoDbPredictionIndex({ client, tableName: TABLE }).saveLabels([
      marker("a"),
    ]);
    expect(failed).toEqual([]);
    const put = ddb.commandCalls(BatchWriteItemCommand)[0]!.args[0].input.RequestItems?.[TABLE]?.[0];
    expect(put?.PutRequest?.Item).toEqual({
      ...markerItem,
      ttl: { N: String(Math.ceil((T0 + DAY_MS + 1) / 1000)) },
    });
  });

  it("reads markers with a strongly consistent BatchGetItem and reports failed writes", async () => {
    ddb.on(BatchGetItemCommand).resolves({
      Responses: {
        [TABLE]: [markerItem],
      },
    });
    const index = new DynamoDbPredictionIndex({ client, tableName: TABLE });
    expect(
      await index.findLabels([
        { modelId: "churn", requestId: "a" },
        { modelId: "churn", requestId: "b" },
      ]),
    ).toEqual([{ modelId: "churn", requestId: "a", shardId: SHARD_ID, seq: padSequence("7") }]);
    const get = ddb.commandCalls(BatchGetItemCommand)[0]!.args[0].input.RequestItems?.[TABLE];
    expect(get?.ConsistentRead).toBe(true);
    expect(get?.Keys).toEqual([
      { pk: { S: "MODEL#churn#PRED#a" }, sk: { S: "L" } },
      { pk: { S: "MODEL#churn#PRED#b" }, sk: { S: "L" } },
    ]);
    ddb.on(BatchWriteItemCommand).rejects(throttled());
    expect((await index.saveLabels([marker("a")])).failed.map((m) => m.requestId)).toEqual(["a"]);
  });
});

describe("DynamoDbQuarantineStore", () => {
  const rejected = (sequenceNumber: string, data: string) => ({
    shardId: SHARD_ID,
    sequenceNumber,
    arrivalMs: Date.UTC(2026, 10, 27, 23, 59),
    reason: "invalid-json" as const,
    detail: "payload is not JSON",
    data,
  });

  it("keys items by arrival day, shard and sequence number, with a TTL, truncating huge payloads", async () => {
    ddb.on(BatchWriteItemCommand).resolves({});
    const store = new DynamoDbQuarantineStore({
      client,
      tableName: TABLE,
      retentionDays: 2,
      maxPayloadChars: 8,
    });
    const { failed } = await store.save([rejected("7", "QUJD"), rejected("8", "QUJDREVGR0hJSktM")]);
    expect(failed).toEqual([]);
    const items = ddb
      .commandCalls(BatchWriteItemCommand)
      .flatMap((c) => c.args[0].input.RequestItems?.[TABLE] ?? [])
      .map((w) => w.PutRequest?.Item);
    expect(items.map((i) => [i?.pk?.S, i?.sk?.S])).toEqual([
      ["QUARANTINE#2026-11-27", `${SHARD_ID}#7`],
      ["QUARANTINE#2026-11-27", `${SHARD_ID}#8`],
    ]);
    expect(items[0]?.ttl?.N).toBe(String(Math.ceil((Date.UTC(2026, 10, 27, 23, 59) + 2 * DAY_MS) / 1000)));
    expect(items[0]?.truncated).toBeUndefined();
    expect(items[1]?.data?.S).toBe("QUJDREVG");
    expect(items[1]?.truncated?.N).toBe("16");
  });

  it("lists a day back as quarantine records", async () => {
    ddb.on(QueryCommand).resolves({
      Items: [
        {
          pk: { S: "QUARANTINE#2026-11-27" },
          sk: { S: `${SHARD_ID}#7` },
          shardId: { S: SHARD_ID },
          sequenceNumber: { S: "7" },
          arrivalMs: { N: "5" },
          reason: { S: "invalid-json" },
          detail: { S: "d" },
          data: { S: "QUJD" },
        },
      ],
    });
    const records = await new DynamoDbQuarantineStore({ client, tableName: TABLE }).listDay("2026-11-27");
    expect(records).toEqual([
      {
        shardId: SHARD_ID,
        sequenceNumber: "7",
        arrivalMs: 5,
        reason: "invalid-json",
        detail: "d",
        data: "QUJD",
      },
    ]);
  });
});

describe("ingest handler with a throttled table", () => {
  const event = (n: number, hourOf: (i: number) => number): KinesisStreamEvent => ({
    Records: Array.from({ length: n }, (_, i) =>
      kinesisRecord(prediction(`q${i}`, i, hourOf(i)), {
        sequenceNumber: String(1000 + i),
        arrivalMs: T0 + 5 * HOUR_MS,
      }),
    ),
  });
  process.env.POWERTOOLS_METRICS_DISABLED = "true";
  const handler = createIngestHandler({
    models: [spec],
    stores: dynamoDbIngestStores(client, TABLE),
    tools: {
      logger: new Logger({ logLevel: "ERROR" }),
      metrics: new Metrics({ namespace: "RetrainTriggers" }),
    },
  });
  const invoke = async (e: KinesisStreamEvent) =>
    (await handler(e, {} as Context)) as KinesisStreamBatchResponse;

  it("reports the first record of the throttled bucket as the failure point", async () => {
    ddb.on(BatchGetItemCommand).resolves({ Responses: { [TABLE]: [] } });
    ddb.on(BatchWriteItemCommand).resolves({});
    const hour1 = keys.stats("churn", T0 + HOUR_MS, SHARD_ID).sk;
    ddb.on(PutItemCommand).callsFake(async (input: { Item: { sk: { S: string } } }) => {
      if (input.Item.sk.S === hour1) throw throttled();
      return {};
    });
    // records 0-3 in hour 0, 4-7 in hour 1, 8-9 in hour 0: the first record not persisted is #4
    const response = await invoke(event(10, (i) => (i >= 4 && i < 8 ? 1 : 0)));
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: "1004" }] });
  });

  it("fails from the first record when the prediction lookup is throttled", async () => {
    ddb.on(BatchGetItemCommand).rejects(throttled());
    const response = await invoke(event(3, () => 0));
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: "1000" }] });
  });

  it("reports the record whose prediction could not be stored", async () => {
    ddb.on(BatchGetItemCommand).resolves({ Responses: { [TABLE]: [] } });
    ddb.on(PutItemCommand).resolves({});
    ddb
      .on(BatchWriteItemCommand)
      .callsFake(
        async (input: {
          RequestItems: Record<string, Array<{ PutRequest: { Item: { requestId?: { S: string } } } }>>;
        }) => {
          const left = input.RequestItems[TABLE]!.filter((w) => w.PutRequest.Item.requestId?.S === "q2");
          return { UnprocessedItems: left.length ? { [TABLE]: left } : {} };
        },
      );
    const response = await invoke(event(4, () => 0));
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: "1002" }] });
  });

  it("succeeds with an empty failure list when everything is stored", async () => {
    ddb.on(BatchGetItemCommand).resolves({ Responses: { [TABLE]: [] } });
    ddb.on(PutItemCommand).resolves({});
    ddb.on(BatchWriteItemCommand).resolves({});
    expect(await invoke(event(5, () => 0))).toEqual({ batchItemFailures: [] });
  });
});
