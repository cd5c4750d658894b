/**
 * BatchGetItem / BatchWriteItem with the chunking (100 keys / 25 writes) and the retry of unprocessed
 * items that the SDK does not do by itself. Throttling *exceptions* are retried by the SDK's own retry
 * strategy; what is still unprocessed after a few rounds is reported back to the caller, which turns it
 * into a partial batch failure instead of losing it.
 */
import {
  type AttributeValue,
  BatchGetItemCommand,
  BatchWriteItemCommand,
  type DynamoDBClient,
  type WriteRequest,
} from "@aws-sdk/client-dynamodb";
import { mapLimit } from "../app/map-limit";

export type Item = Record<string, AttributeValue>;
export type Key = { pk: AttributeValue; sk: AttributeValue };

export interface BatchOptions {
  /** Rounds of retrying unprocessed items or keys. @default 4 */
  readonly maxRounds?: number;
  /** First backoff between rounds; doubles each round. @default 25 */
  readonly backoffMs?: number;
  /** Chunks in flight at once. @default 8 */
  readonly concurrency?: number;
}

export const keyId = (pk: string, sk: string) => `${pk}\u0000${sk}`;
const itemKeyId = (item: Record<string, AttributeValue>) => keyId(item.pk?.S ?? "", item.sk?.S ?? "");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Get items by key (strongly consistent when asked). Returns found items by key id; throws if some keys
 * remain unprocessed after the retries or a request fails.
 */
export async function batchGet(
  client: DynamoDBClient,
  tableName: string,
  keys: readonly Key[],
  options: BatchOptions & { consistentRead?: boolean } = {},
): Promise<Map<string, Item>> {
  const found = new Map<string, Item>();
  const unique = [...new Map(keys.map((k) => [keyId(k.pk.S ?? "", k.sk.S ?? ""), k])).values()];
  await mapLimit(chunk(unique, 100), options.concurrency ?? 8, async (part) => {
    let pending: Key[] = part;
    for (let round = 0; pending.length > 0; round++) {
      if (round > (options.maxRounds ?? 4))
        throw new Error(`BatchGetItem: ${pending.length} keys unprocessed`);
      if (round > 0) await sleep((options.backoffMs ?? 25) * 2 ** (round - 1));
      const out = await client.send(
        new BatchGetItemCommand({
          RequestItems: { [tableName]: { Keys: pending, ConsistentRead: options.consistentRead ?? false } },
          ReturnConsumedCapacity: "TOTAL",
        }),
      );
      for (const item of out.Responses?.[tableName] ?? []) found.set(itemKeyId(item), item);
      pending = (out.UnprocessedKeys?.[tableName]?.Keys ?? []) as Key[];
    }
  });
  return found;
}

/**
 * Put items with BatchWriteItem (unconditional, so only for idempotent writes). Returns the key ids of the
 * items that could not be written.
 */
export async function batchPut(
  client: DynamoDBClient,
  tableName: string,
  items: readonly Item[],
  options: BatchOptions = {},
): Promise<Set<string>> {
  const failed = new Set<string>();
  const unique = [...new Map(items.map((i) => [itemKeyId(i), i])).values()];
  await mapLimit(chunk(unique, 25), options.concurrency ?? 8, async (part) => {
    let pending: WriteRequest[] = part.map((Item) => ({ PutRequest: { Item } }));
    try {
      for (let round = 0; pending.length > 0; round++) {
        if (round > (options.maxRounds ?? 4)) break;
        if (round > 0) await sleep((options.backoffMs ?? 25) * 2 ** (round - 1));
        const out = await client.send(
          new BatchWriteItemCommand({
            RequestItems: { [tableName]: pending },
            ReturnConsumedCapacity: "TOTAL",
          }),
        );
        pending = out.UnprocessedItems?.[tableName] ?? [];
      }
    } catch {
      // the whole chunk's outcome is unknown: report every pending item as failed (writes are idempotent)
    }
    for (const w of pending) if (w.PutRequest?.Item) failed.add(itemKeyId(w.PutRequest.Item));
  });
  return failed;
}
