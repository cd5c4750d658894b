/**
 * Exactly once when a write succeeds but its answer is lost (kinesalite + dynalite, the real handler and
 * adapters). A middleware lets BatchWriteItem (prediction index, label markers, quarantine) and PutItem
 * (statistics) requests commit, then throws a connection reset; the batch is retried as the event source
 * mapping retries it (or the SDK retries the request itself). Afterwards the table must hold exactly what
 * a clean delivery stores: the statistics (records counted once), the prediction index and the label
 * markers (each item written by the same record, with the same values) and the quarantine.
 */
import { type AttributeValue, type DynamoDBClient, ScanCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EsmPoller } from "../../local/esm-poller";
import { mulberry32 } from "../../local/prng";
import { IngestTestBed, profileDifferences, statsDifferences } from "../support/ingest-fixtures";
import { loseAnswers } from "../support/lost-answers";

const N = 400;
const BATCH = 100;
const WRITES = ["BatchWriteItemCommand", "PutItemCommand"];
let bed: IngestTestBed;
let clean: Map<string, Record<string, AttributeValue>>;

beforeAll(async () => {
  bed = await IngestTestBed.start(N, BATCH, 13);
  const table = await bed.freshTable();
  const poller = new EsmPoller({
    kinesis: bed.emu.kinesis,
    streamName: "events",
    batchSize: BATCH,
    handler: bed.handlerFor(table),
  });
  expect(await poller.drain()).toBe(N);
  expect(poller.stats.partialFailures).toBe(0);
  clean = await items(table);
});
afterAll(async () => {
  await bed.stop();
});

/** Every item of a table by `pk|sk`. */
async function items(table: string): Promise<Map<string, Record<string, AttributeValue>>> {
  const out = new Map<string, Record<string, AttributeValue>>();
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await bed.emu.dynamodb.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start }));
    for (const item of page.Items ?? []) out.set(`${item.pk?.S}|${item.sk?.S}`, item);
    start = page.LastEvaluatedKey;
  } while (start);
  return out;
}

/**
 * Where two tables differ. Statistics items: the same watermark, counts and profile (floating-point sums
 * to 1e-9: merge order differs between delivery patterns); every other item (prediction index, label
 * markers, quarantine): equal attribute by attribute.
 */
function tableDifferences(
  actual: Map<string, Record<string, AttributeValue>>,
  expected: Map<string, Record<string, AttributeValue>>,
): string[] {
  const out: string[] = [];
  for (const key of new Set([...actual.keys(), ...expected.keys()])) {
    const a = actual.get(key);
    const e = expected.get(key);
    if (!a || !e) {
      out.push(`${key}: ${a ? "unexpected" : "missing"}`);
      continue;
    }
    if (key.includes("#STATS|")) {
      // The profile and its labelled outcomes hold float sums, whose last bits depend on the order a
      // retried batch added them in: compared to a relative 1e-9.
      const { profile: pa, outcomes: oa, ...ra } = a;
      const { profile: pe, outcomes: oe, ...re } = e;
      if (JSON.stringify(ra) !== JSON.stringify(re))
        out.push(`${key}: ${JSON.stringify(ra)} != ${JSON.stringify(re)}`);
      out.push(...profileDifferences(pa?.S ?? "", pe?.S ?? "").map((d) => `${key} ${d}`));
      if ((oa === undefined) !== (oe === undefined)) out.push(`${key}: outcomes only on one side`);
      else if (oa !== undefined && oe !== undefined)
        out.push(
          ...jsonDifferences(JSON.parse(oa.S ?? "null"), JSON.parse(oe.S ?? "null"), `${key} outcomes`),
        );
    } else if (JSON.stringify(sorted(a)) !== JSON.stringify(sorted(e))) {
      out.push(`${key}: ${JSON.stringify(sorted(a))} != ${JSON.stringify(sorted(e))}`);
    }
  }
  return out;
}

/** Differences between two parsed JSON documents; numbers equal to a relative 1e-9 (float sums). */
function jsonDifferences(a: unknown, e: unknown, path: string): string[] {
  if (typeof a === "number" && typeof e === "number") {
    const close = a === e || Math.abs(a - e) <= 1e-9 * Math.max(Math.abs(a), Math.abs(e));
    return close ? [] : [`${path}: ${a} != ${e}`];
  }
  if (a !== null && e !== null && typeof a === "object" && typeof e === "object") {
    const ao = a as Record<string, unknown>;
    const eo = e as Record<string, unknown>;
    if (Array.isArray(a) !== Array.isArray(e)) return [`${path}: array on one side only`];
    const keys = new Set([...Object.keys(ao), ...Object.keys(eo)]);
    return [...keys].flatMap((k) => jsonDifferences(ao[k], eo[k], `${path}.${k}`));
  }
  return a === e ? [] : [`${path}: ${JSON.stringify(a)} != ${JSON.stringify(e)}`];
}

const sorted = (item: Record<string, AttributeValue>) =>
  Object.fromEntries(Object.entries(item).sort(([x], [y]) => x.localeCompare(y)));

/** The item kinds of a table, to show that each kind was exercised. */
function kinds(table: Map<string, Record<string, AttributeValue>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const key of table.keys()) {
    const kind = key.includes("#STATS|")
      ? "statistics"
      : key.startsWith("QUARANTINE#")
        ? "quarantine"
        : key.endsWith("|P")
          ? "prediction index"
          : key.endsWith("|L")
            ? "label markers"
            : "other";
    out[kind] = (out[kind] ?? 0) + 1;
  }
  return out;
}

async function lossyRun(placement: "caller" | "sdk", seed: number) {
  const table = await bed.freshTable();
  const client: DynamoDBClient = bed.emu.createDynamoDbClient();
  const random = mulberry32(seed);
  // SDK placement: every loss is retried by the SDK; losing the retry too would only reach the caller.
  let previousLost = false;
  const log = loseAnswers(client, {
    commands: WRITES,
    placement,
    lose: () => {
      const lost = placement === "sdk" && previousLost ? false : random() < 0.3;
      previousLost = lost;
      return lost;
    },
  });
  const poller = new EsmPoller({
    kinesis: bed.emu.kinesis,
    streamName: "events",
    batchSize: BATCH,
    maximumRetryAttempts: 100,
    handler: bed.handlerFor(table, client),
  });
  expect(await poller.drain()).toBe(N);
  client.destroy();
  return { table, log, poller };
}

describe("ingest when a write commits but its answer is lost (kinesalite + dynalite)", () => {
  it("the clean delivery exercises every kind of item", () => {
    expect(kinds(clean)).toMatchObject({
      statistics: expect.any(Number),
      quarantine: expect.any(Number),
      "prediction index": expect.any(Number),
      "label markers": expect.any(Number),
    });
    expect(kinds(clean).other).toBeUndefined();
  });

  it("the adapter sees the error and the ESM retries the batch: every item as the clean delivery stores it", async () => {
    const { table, log, poller } = await lossyRun("caller", 11);
    expect(new Set(log.lost)).toEqual(new Set(WRITES));
    expect(log.lost.length).toBeGreaterThan(10);
    expect(poller.stats.partialFailures).toBeGreaterThan(3);
    expect(poller.stats.recordsSentToOnFailure).toBe(0);
    expect(tableDifferences(await items(table), clean)).toEqual([]);
    expect(statsDifferences(await bed.storedStats(table), bed.expected())).toEqual([]);
  });

  it("the SDK retries the committed request itself: every item as the clean delivery stores it", async () => {
    const { table, log, poller } = await lossyRun("sdk", 12);
    expect(new Set(log.lost)).toEqual(new Set(WRITES));
    // A repeated conditional PutItem fails its condition; the adapter re-reads and finds its own write.
    expect(poller.stats.recordsSentToOnFailure).toBe(0);
    expect(tableDifferences(await items(table), clean)).toEqual([]);
    expect(statsDifferences(await bed.storedStats(table), bed.expected())).toEqual([]);
  });
});
