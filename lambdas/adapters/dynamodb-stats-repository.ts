/**
 * Bucket statistics in DynamoDB, one item per (model, event-time bucket, shard):
 * `pk = MODEL#<id>#STATS`, `sk = <bucketStartIso>#<shardId>`, attributes `profile` (serialized),
 * `seq` (zero-padded sequence number of the last record applied), `received`, `quarantined` (map reason ->
 * count), `bucketStart` (ms), `modelId`, `shardId`.
 *
 * Exactly-once merge of a batch (see ingest-batch.ts): one consistent BatchGetItem for all the batch's
 * groups, then per group one conditional PutItem guarded by the sequence number read (optimistic
 * concurrency: a concurrent writer, e.g. a Lambda retry overlapping a slow invocation, makes the condition
 * fail; the group is then re-read and re-merged). Per-shard items mean a shard's records are only ever
 * merged by that shard's (serial) invocations, so conflicts are rare and the watermark is meaningful.
 * Requests per batch: ceil(groups / 100) reads + groups writes, independent of the number of events.
 */
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
} from "@aws-sdk/client-dynamodb";
import type { ProfileSpec } from "../../contracts/model";
import { mapLimit } from "../app/map-limit";
import type { OutcomeBucket } from "../domain/decision/decision";
import { groupContribution, type IngestGroup } from "../domain/ingest/batch";
import type { Profile } from "../domain/stats/profile";
import {
  deserializeOutcomes,
  deserializeProfile,
  type ProfileOutcomes,
  serializeOutcomes,
  serializeProfile,
} from "../domain/stats/profile-codec";
import { mergePerformance, mergeProfileList, mergeProfiles } from "../domain/stats/profile-merge";
import type {
  BucketStats,
  BucketStatsStore,
  GroupApplyResult,
  StatsRepository,
  WindowStats,
} from "../ports/stats-repository";
import { keys } from "./dynamodb-keys";
import { batchGet, type Item, keyId } from "./dynamodb-stats-batching";

export interface DynamoDbStatsRepositoryOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** Conditional-put retries per group after a concurrent update. @default 5 */
  readonly maxConflictRetries?: number;
  /** Groups written in parallel. @default 16 */
  readonly concurrency?: number;
}

interface StoredBucket {
  readonly item: Item;
  readonly seq: string;
}

function addCounts(into: Record<string, number>, from: Readonly<Record<string, number>>): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

function readCounts(attr: AttributeValue | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(attr?.M ?? {})) out[k] = Number(v.N ?? 0);
  return out;
}

export class DynamoDbStatsRepository implements StatsRepository, BucketStatsStore {
  constructor(private readonly options: DynamoDbStatsRepositoryOptions) {}

  async applyGroups(
    shardId: string,
    groups: readonly IngestGroup[],
    specs: ReadonlyMap<string, ProfileSpec>,
  ): Promise<GroupApplyResult[]> {
    if (groups.length === 0) return [];
    const { client, tableName } = this.options;
    const groupKeys = groups.map((g) => keys.stats(g.modelId, g.bucketStart, shardId));
    let stored: Map<string, Item>;
    try {
      stored = await batchGet(
        client,
        tableName,
        groupKeys.map((k) => ({ pk: { S: k.pk }, sk: { S: k.sk } })),
        { consistentRead: true },
      );
    } catch (error) {
      return groups.map((group) => ({ group, status: "failed" as const, error, attempts: 0 }));
    }
    return mapLimit(
      groups.map((group, i) => ({ group, key: groupKeys[i]! })),
      this.options.concurrency ?? 16,
      async ({ group, key }) => {
        const item = stored.get(keyId(key.pk, key.sk));
        return this.applyGroup(shardId, group, key, specs.get(group.modelId), item);
      },
    );
  }

  private async applyGroup(
    shardId: string,
    group: IngestGroup,
    key: { pk: string; sk: string },
    spec: ProfileSpec | undefined,
    initial: Item | undefined,
  ): Promise<GroupApplyResult> {
    if (!spec)
      return {
        group,
        status: "failed",
        error: new Error(`no profile spec for ${group.modelId}`),
        attempts: 0,
      };
    const { client, tableName } = this.options;
    let current: StoredBucket | undefined = initial
      ? { item: initial, seq: initial.seq?.S ?? "" }
      : undefined;
    let attempts = 0;
    for (;;) {
      const contribution = groupContribution(group, spec, current?.seq);
      if (!contribution) return { group, status: "skipped", attempts };
      try {
        const previous = current ? deserializeProfile(current.item.profile?.S ?? "") : undefined;
        const profile = previous ? mergeProfiles(previous, contribution.profile) : contribution.profile;
        const quarantined = current ? readCounts(current.item.quarantined) : {};
        addCounts(quarantined, contribution.quarantined);
        const received = Number(current?.item.received?.N ?? 0) + contribution.received;
        attempts++;
        await client.send(
          new PutItemCommand({
            TableName: tableName,
            Item: {
              pk: { S: key.pk },
              sk: { S: key.sk },
              modelId: { S: group.modelId },
              shardId: { S: shardId },
              bucketStart: { N: String(group.bucketStart) },
              profile: { S: serializeProfile(profile) },
              outcomes: { S: serializeOutcomes(profile) },
              seq: { S: contribution.lastSeq },
              received: { N: String(received) },
              quarantined: {
                M: Object.fromEntries(Object.entries(quarantined).map(([k, v]) => [k, { N: String(v) }])),
              },
            },
            ...(current
              ? {
                  ConditionExpression: "seq = :prev",
                  ExpressionAttributeValues: { ":prev": { S: current.seq } },
                }
              : { ConditionExpression: "attribute_not_exists(pk)" }),
            ReturnConsumedCapacity: "TOTAL",
          }),
        );
        return { group, status: "applied", attempts };
      } catch (error) {
        if (
          !(error instanceof ConditionalCheckFailedException) ||
          attempts > (this.options.maxConflictRetries ?? 5)
        ) {
          return { group, status: "failed", error, attempts };
        }
      }
      try {
        attempts++;
        const out = await client.send(
          new GetItemCommand({
            TableName: tableName,
            Key: { pk: { S: key.pk }, sk: { S: key.sk } },
            ConsistentRead: true,
            ReturnConsumedCapacity: "TOTAL",
          }),
        );
        current = out.Item ? { item: out.Item, seq: out.Item.seq?.S ?? "" } : undefined;
      } catch (error) {
        return { group, status: "failed", error, attempts };
      }
    }
  }

  async firstBucketStart(modelId: string, fromMs: number, toMs: number): Promise<number | undefined> {
    // Sort keys start with the bucket's ISO time: the first item of the range is the earliest bucket.
    const page = await this.options.client.send(
      new QueryCommand({
        ...statsQuery(this.options.tableName, modelId, fromMs, toMs),
        ProjectionExpression: "bucketStart",
        Limit: 1,
      }),
    );
    const first = page.Items?.[0]?.bucketStart?.N;
    return first === undefined ? undefined : Number(first);
  }

  async readWindow(modelId: string, fromMs: number, toMs: number): Promise<WindowStats> {
    const { client, tableName } = this.options;
    const byBucket = new Map<
      number,
      { profiles: Profile[]; received: number; quarantined: Record<string, number> }
    >();
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const page = await client.send(
        new QueryCommand({ ...statsQuery(tableName, modelId, fromMs, toMs), ExclusiveStartKey: startKey }),
      );
      for (const item of page.Items ?? []) {
        const bucketStart = Number(item.bucketStart?.N);
        const profile = deserializeProfile(item.profile?.S ?? "");
        const quarantined = readCounts(item.quarantined);
        const received = Number(item.received?.N ?? 0);
        const b = byBucket.get(bucketStart);
        if (!b) {
          byBucket.set(bucketStart, { profiles: [profile], received, quarantined });
        } else {
          b.profiles.push(profile);
          b.received += received;
          addCounts(b.quarantined, quarantined);
        }
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    // Shard items in sort-key order, buckets in time order, each list merged at once (mergeProfileList).
    const buckets: BucketStats[] = [...byBucket.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([bucketStart, { profiles, received, quarantined }]) => ({
        bucketStart,
        profile: profiles.length === 1 ? profiles[0]! : mergeProfileList(profiles),
        received,
        quarantined,
        shards: profiles.length,
      }));
    let received = 0;
    const quarantined: Record<string, number> = {};
    for (const b of buckets) {
      received += b.received;
      addCounts(quarantined, b.quarantined);
    }
    const profile = buckets.length > 0 ? mergeProfileList(buckets.map((b) => b.profile)) : undefined;
    return { modelId, fromMs, toMs, profile, received, quarantined, buckets };
  }

  async readOutcomes(modelId: string, fromMs: number, toMs: number): Promise<OutcomeBucket[]> {
    const { client, tableName } = this.options;
    const byBucket = new Map<number, OutcomeBucket>();
    const add = (bucketStart: number, outcomes: ProfileOutcomes) => {
      const known = byBucket.get(bucketStart);
      byBucket.set(
        bucketStart,
        known === undefined
          ? {
              bucketStart,
              predictions: outcomes.count,
              labelled: outcomes.labelled,
              performance: outcomes.performance,
            }
          : {
              bucketStart,
              predictions: known.predictions + outcomes.count,
              labelled: known.labelled + outcomes.labelled,
              performance: mergePerformance(known.performance, outcomes.performance),
            },
      );
    };
    // Items written before the outcomes attribute existed: their profile is read instead.
    const withoutOutcomes: Array<{ pk: AttributeValue; sk: AttributeValue }> = [];
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const page = await client.send(
        new QueryCommand({
          ...statsQuery(tableName, modelId, fromMs, toMs),
          ProjectionExpression: "pk, sk, bucketStart, outcomes",
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) {
        if (item.outcomes?.S === undefined) {
          withoutOutcomes.push({ pk: item.pk!, sk: item.sk! });
          continue;
        }
        add(Number(item.bucketStart?.N), deserializeOutcomes(item.outcomes.S));
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    if (withoutOutcomes.length > 0) {
      const items = await batchGet(client, tableName, withoutOutcomes, { consistentRead: false });
      for (const item of items.values()) {
        const profile = deserializeProfile(item.profile?.S ?? "");
        add(Number(item.bucketStart?.N), profile);
      }
    }
    return [...byBucket.values()].sort((a, b) => a.bucketStart - b.bucketStart);
  }
}

/** The Query of a model's bucket items starting in [fromMs, toMs), in sort-key (bucket start) order. */
function statsQuery(tableName: string, modelId: string, fromMs: number, toMs: number) {
  const range = keys.statsRange(fromMs, toMs);
  return {
    TableName: tableName,
    KeyConditionExpression: "pk = :pk AND sk BETWEEN :from AND :to",
    ExpressionAttributeValues: {
      ":pk": { S: keys.statsPartition(modelId) },
      ":from": { S: range.from },
      ":to": { S: range.to },
    },
    ReturnConsumedCapacity: "TOTAL" as const,
  };
}
