/**
 * Predictions awaiting labels: `pk = MODEL#<id>#PRED#<requestId>`, `sk = P`, with `ttl` = prediction time
 * + label horizon. Holds what a label needs (prediction, score, event time) and who wrote it (shard and
 * sequence number), which is how a redelivered prediction is told apart from a duplicate requestId.
 *
 * Duplicate detection design: one strongly consistent BatchGetItem (100 keys per request) for the batch's
 * predictions, then unconditional BatchWriteItem (25 per request) of the new ones. Per 1,000 predictions:
 * 10 reads (1 RCU each, items < 4 KB) + 40 writes (1 WCU each, items < 1 KB), i.e. ~1,000 WCU + ~1,000 RCU
 * in on-demand terms. The alternative, one conditional PutItem per prediction, costs the same write units
 * but 1,000 requests and cannot be batched (BatchWriteItem has no conditions; TransactWriteItems doubles
 * the write units). The check-then-write is not atomic across shards, but a requestId's records share a
 * partition key, hence a shard, and a shard is processed serially: the race cannot occur in practice.
 *
 * Label markers (`sk = L`, same partition as the prediction) record which record counted a requestId's
 * label, so a resent label is quarantined as a duplicate: the same check-then-write, one read and one
 * write unit per label.
 */
import type { AttributeValue, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { StoredLabel, StoredPrediction } from "../domain/ingest/batch";
import type { LabelMarker, PredictionIndex, PredictionRecord } from "../ports/stats-repository";
import { keys, TTL_ATTRIBUTE } from "./dynamodb-keys";
import { batchGet, batchPut, type Item, keyId } from "./dynamodb-stats-batching";

export interface DynamoDbPredictionIndexOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
}

const value = (v: number | string): AttributeValue => (typeof v === "number" ? { N: String(v) } : { S: v });

type RequestKey = (modelId: string, requestId: string) => { pk: string; sk: string };

/** What every index item holds: who wrote it, and when it expires. */
interface IndexRecord {
  readonly modelId: string;
  readonly requestId: string;
  readonly shardId: string;
  readonly seq: string;
  readonly expiresAtMs: number;
}

export class DynamoDbPredictionIndex implements PredictionIndex {
  constructor(private readonly options: DynamoDbPredictionIndexOptions) {}

  async find(wanted: ReadonlyArray<{ modelId: string; requestId: string }>): Promise<StoredPrediction[]> {
    const out: StoredPrediction[] = [];
    for (const item of await this.getAll(wanted, keys.prediction)) {
      const prediction = item.prediction?.N !== undefined ? Number(item.prediction.N) : item.prediction?.S;
      if (prediction === undefined) continue;
      out.push({
        modelId: item.modelId?.S ?? "",
        requestId: item.requestId?.S ?? "",
        prediction,
        ...(item.score?.N !== undefined ? { score: Number(item.score.N) } : {}),
        timestamp: Number(item.timestamp?.N),
        shardId: item.shardId?.S ?? "",
        seq: item.seq?.S ?? "",
      });
    }
    return out;
  }

  async findLabels(wanted: ReadonlyArray<{ modelId: string; requestId: string }>): Promise<StoredLabel[]> {
    const out: StoredLabel[] = [];
    for (const item of await this.getAll(wanted, keys.label)) {
      const modelId = item.modelId?.S;
      const requestId = item.requestId?.S;
      const seq = item.seq?.S;
      if (modelId === undefined || requestId === undefined || seq === undefined) continue;
      out.push({ modelId, requestId, shardId: item.shardId?.S ?? "", seq });
    }
    return out;
  }

  async save(predictions: readonly PredictionRecord[]): Promise<{ failed: PredictionRecord[] }> {
    return {
      failed: await this.putAll(predictions, keys.prediction, (p) => ({
        prediction: value(p.prediction),
        ...(p.score !== undefined ? { score: { N: String(p.score) } } : {}),
        timestamp: { N: String(p.timestamp) },
      })),
    };
  }

  async saveLabels(labels: readonly LabelMarker[]): Promise<{ failed: LabelMarker[] }> {
    return { failed: await this.putAll(labels, keys.label, () => ({})) };
  }

  /** The items `keyOf` names for `wanted`, read with one strongly consistent BatchGetItem per 100 keys. */
  private async getAll(
    wanted: ReadonlyArray<{ modelId: string; requestId: string }>,
    keyOf: RequestKey,
  ): Promise<Item[]> {
    if (wanted.length === 0) return [];
    const found = await batchGet(
      this.options.client,
      this.options.tableName,
      wanted.map((w) => {
        const k = keyOf(w.modelId, w.requestId);
        return { pk: { S: k.pk }, sk: { S: k.sk } };
      }),
      { consistentRead: true },
    );
    return [...found.values()];
  }

  /**
   * Writes `records` (BatchWriteItem, 25 per request): key from `keyOf`, the writer, the TTL and
   * `attributes(record)`; returns the records that could not be written.
   */
  private async putAll<T extends IndexRecord>(
    records: readonly T[],
    keyOf: RequestKey,
    attributes: (record: T) => Item,
  ): Promise<T[]> {
    if (records.length === 0) return [];
    const items: Item[] = records.map((r) => {
      const k = keyOf(r.modelId, r.requestId);
      return {
        pk: { S: k.pk },
        sk: { S: k.sk },
        modelId: { S: r.modelId },
        requestId: { S: r.requestId },
        ...attributes(r),
        shardId: { S: r.shardId },
        seq: { S: r.seq },
        [TTL_ATTRIBUTE]: { N: String(Math.ceil(r.expiresAtMs / 1000)) },
      };
    });
    const failed = await batchPut(this.options.client, this.options.tableName, items);
    return records.filter((r) => {
      const k = keyOf(r.modelId, r.requestId);
      return failed.has(keyId(k.pk, k.sk));
    });
  }
}
