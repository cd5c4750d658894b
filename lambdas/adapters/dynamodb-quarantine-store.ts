/**
 * Quarantined records: `pk = QUARANTINE#<yyyy-mm-dd>` (arrival day), `sk = <shardId>#<sequenceNumber>`,
 * with the raw payload (base64), reason, detail, model, arrival time and a `ttl`. Keyed by the record's
 * own identity and arrival time, so a redelivery overwrites the same item instead of adding one.
 * Payloads larger than `maxPayloadChars` of base64 are truncated (`truncated` = original length), keeping
 * the item below DynamoDB's 400 KB; the untruncated record stays in the S3 archive (Firehose).
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { QueryCommand } from "@aws-sdk/client-dynamodb";
import { DAY_MS } from "../../contracts/time";
import type { QuarantineReason } from "../domain/ingest/event-validation";
import type { QuarantineRecord, QuarantineStore } from "../ports/stats-repository";
import { keys, TTL_ATTRIBUTE } from "./dynamodb-keys";
import { batchPut, type Item, keyId } from "./dynamodb-stats-batching";

export interface DynamoDbQuarantineStoreOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** How long quarantine items are kept. @default 14 */
  readonly retentionDays?: number;
  /** Longest stored payload, in base64 characters. @default 262144 */
  readonly maxPayloadChars?: number;
}

export class DynamoDbQuarantineStore implements QuarantineStore {
  constructor(private readonly options: DynamoDbQuarantineStoreOptions) {}

  async save(records: readonly QuarantineRecord[]): Promise<{ failed: QuarantineRecord[] }> {
    if (records.length === 0) return { failed: [] };
    const maxChars = this.options.maxPayloadChars ?? 262_144;
    const ttlMs = (this.options.retentionDays ?? 14) * DAY_MS;
    const items: Item[] = records.map((r) => {
      const k = keys.quarantine(r.arrivalMs, r.shardId, r.sequenceNumber);
      const truncated = r.data.length > maxChars;
      return {
        pk: { S: k.pk },
        sk: { S: k.sk },
        shardId: { S: r.shardId },
        sequenceNumber: { S: r.sequenceNumber },
        arrivalMs: { N: String(r.arrivalMs) },
        reason: { S: r.reason },
        detail: { S: r.detail.slice(0, 1000) },
        ...(r.modelId !== undefined ? { modelId: { S: r.modelId } } : {}),
        data: { S: truncated ? r.data.slice(0, maxChars) : r.data },
        ...(truncated ? { truncated: { N: String(r.data.length) } } : {}),
        [TTL_ATTRIBUTE]: { N: String(Math.ceil((r.arrivalMs + ttlMs) / 1000)) },
      };
    });
    const failed = await batchPut(this.options.client, this.options.tableName, items);
    return {
      failed: records.filter((r) => {
        const k = keys.quarantine(r.arrivalMs, r.shardId, r.sequenceNumber);
        return failed.has(keyId(k.pk, k.sk));
      }),
    };
  }

  async listDay(day: string): Promise<QuarantineRecord[]> {
    const out: QuarantineRecord[] = [];
    let startKey: Item | undefined;
    do {
      const page = await this.options.client.send(
        new QueryCommand({
          TableName: this.options.tableName,
          KeyConditionExpression: "pk = :pk",
          ExpressionAttributeValues: { ":pk": { S: `QUARANTINE#${day}` } },
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) {
        out.push({
          shardId: item.shardId?.S ?? "",
          sequenceNumber: item.sequenceNumber?.S ?? "",
          arrivalMs: Number(item.arrivalMs?.N),
          reason: (item.reason?.S ?? "") as QuarantineReason,
          detail: item.detail?.S ?? "",
          ...(item.modelId?.S !== undefined ? { modelId: item.modelId.S } : {}),
          data: item.data?.S ?? "",
        });
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return out;
  }
}
