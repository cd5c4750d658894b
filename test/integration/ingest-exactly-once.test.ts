import { ScanCommand } from "@aws-sdk/client-dynamodb";
import type { KinesisStreamEvent } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EsmPoller } from "../../local/esm-poller";
import { IngestTestBed, statsDifferences } from "../support/ingest-fixtures";

const N = 320;
const BATCH = 80;
let bed: IngestTestBed;
let batches: KinesisStreamEvent[];

beforeAll(async () => {
  bed = await IngestTestBed.start(N, BATCH);
  batches = bed.batches;
});
afterAll(async () => {
  await bed.stop();
});

const half = (e: KinesisStreamEvent, first: boolean): KinesisStreamEvent => {
  const mid = Math.ceil(e.Records.length / 2);
  return { Records: first ? e.Records.slice(0, mid) : e.Records.slice(mid) };
};

describe("ingest against kinesalite + dynalite", () => {
  it("stores exactly the statistics of an in-memory computation over the same events (ESM poller)", async () => {
    const table = await bed.freshTable();
    const poller = new EsmPoller({
      kinesis: bed.emu.kinesis,
      streamName: "events",
      batchSize: BATCH,
      handler: bed.handlerFor(table),
    });
    expect(await poller.drain()).toBe(N);
    expect(poller.stats.partialFailures).toBe(0);
    const stored = await bed.storedStats(table);
    expect(stored.size).toBeGreaterThan(8);
    expect(statsDifferences(stored, bed.expected())).toEqual([]);
  });

  it("keeps every record: quarantine items + aggregated = records in", async () => {
    const table = await bed.freshTable();
    const handle = bed.handlerFor(table);
    for (const b of batches) expect((await handle(b)).batchItemFailures).toEqual([]);
    const items = (await bed.emu.dynamodb.send(new ScanCommand({ TableName: table }))).Items ?? [];
    const quarantineItems = items.filter((i) => i.pk?.S?.startsWith("QUARANTINE#"));
    const stats = await bed.storedStats(table);
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
    const table = await bed.freshTable();
    const handle = bed.handlerFor(table);
    for (const b of batches)
      for (const d of pattern(b)) expect((await handle(d)).batchItemFailures).toEqual([]);
    expect(statsDifferences(await bed.storedStats(table), bed.expected())).toEqual([]);
  });
});
