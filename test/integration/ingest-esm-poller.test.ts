import { DescribeStreamSummaryCommand, PutRecordsCommand, SplitShardCommand } from "@aws-sdk/client-kinesis";
import type { KinesisStreamEvent } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createStream, type Emulators, startEmulators } from "../../local/emulators";
import { EsmPoller, type FailedBatch } from "../../local/esm-poller";

let emu: Emulators;
let stream = 0;

beforeAll(async () => {
  emu = await startEmulators({ createTable: false, createStream: false });
});
afterAll(async () => {
  await emu.stop();
});

/** A fresh one-shard stream holding records "0".."n-1". */
async function streamWith(n: number): Promise<string> {
  const name = `poller-${stream++}`;
  await createStream(emu.kinesis, name);
  await emu.kinesis.send(
    new PutRecordsCommand({
      StreamName: name,
      Records: Array.from({ length: n }, (_, i) => ({ Data: Buffer.from(String(i)), PartitionKey: "k" })),
    }),
  );
  return name;
}

const payloads = (e: KinesisStreamEvent) =>
  e.Records.map((r) => Buffer.from(r.kinesis.data, "base64").toString());

describe("EsmPoller", () => {
  it("delivers Lambda-shaped events in batches and in order", async () => {
    const streamName = await streamWith(7);
    const seen: string[][] = [];
    const poller = new EsmPoller({
      kinesis: emu.kinesis,
      streamName,
      batchSize: 3,
      handler: async (e) => {
        seen.push(payloads(e));
        const r = e.Records[0]!;
        expect(r.eventSource).toBe("aws:kinesis");
        expect(r.eventID).toBe(`shardId-000000000000:${r.kinesis.sequenceNumber}`);
        expect(r.kinesis.approximateArrivalTimestamp).toBeGreaterThan(1e9);
      },
    });
    expect(await poller.drain()).toBe(7);
    expect(seen).toEqual([["0", "1", "2"], ["3", "4", "5"], ["6"]]);
  });

  it("retries from the lowest reported failure, re-reading up to a full batch", async () => {
    const streamName = await streamWith(6);
    const seen: string[][] = [];
    let failed = false;
    const poller = new EsmPoller({
      kinesis: emu.kinesis,
      streamName,
      batchSize: 4,
      handler: async (e) => {
        seen.push(payloads(e));
        if (failed) return { batchItemFailures: [] };
        failed = true;
        return {
          batchItemFailures: [
            { itemIdentifier: e.Records[3]!.kinesis.sequenceNumber },
            { itemIdentifier: e.Records[2]!.kinesis.sequenceNumber },
          ],
        };
      },
    });
    expect(await poller.drain()).toBe(6);
    expect(seen).toEqual([
      ["0", "1", "2", "3"],
      ["2", "3", "4", "5"],
    ]);
    expect(poller.stats.partialFailures).toBe(1);
  });

  it("bisects a failing batch and sends a poison record to on-failure after the retries", async () => {
    const streamName = await streamWith(4);
    const seen: string[][] = [];
    const failures: FailedBatch[] = [];
    const poller = new EsmPoller({
      kinesis: emu.kinesis,
      streamName,
      batchSize: 4,
      maximumRetryAttempts: 2,
      onFailure: (b) => {
        failures.push(b);
      },
      handler: async (e) => {
        const p = payloads(e);
        seen.push(p);
        if (p.includes("3")) throw new Error("poison");
      },
    });
    expect(await poller.drain()).toBe(4);
    expect(seen).toEqual([["0", "1", "2", "3"], ["0", "1"], ["2", "3"], ["2"], ["3"], ["3"], ["3"]]);
    expect(failures.map((f) => payloads({ Records: [...f.records] }))).toEqual([["3"]]);
    expect(failures[0]!.attempts).toBe(3);
    expect(poller.stats.bisections).toBe(2);
  });

  it("drains a parent shard before its children after a split", async () => {
    const streamName = await streamWith(3);
    await emu.kinesis.send(
      new SplitShardCommand({
        StreamName: streamName,
        ShardToSplit: "shardId-000000000000",
        NewStartingHashKey: (2n ** 127n).toString(),
      }),
    );
    for (;;) {
      const s = await emu.kinesis.send(new DescribeStreamSummaryCommand({ StreamName: streamName }));
      if (s.StreamDescriptionSummary?.StreamStatus === "ACTIVE") break;
      await new Promise((r) => setTimeout(r, 10));
    }
    await emu.kinesis.send(
      new PutRecordsCommand({
        StreamName: streamName,
        Records: ["a", "b", "c", "d"].map((p, i) => ({ Data: Buffer.from(p), PartitionKey: `key-${i}` })),
      }),
    );
    const seen: Array<{ shard: string; data: string[] }> = [];
    const poller = new EsmPoller({
      kinesis: emu.kinesis,
      streamName,
      batchSize: 10,
      handler: async (e) => {
        seen.push({ shard: e.Records[0]!.eventID.split(":")[0]!, data: payloads(e) });
      },
    });
    expect(await poller.drain()).toBe(7);
    expect(seen[0]).toEqual({ shard: "shardId-000000000000", data: ["0", "1", "2"] });
    expect(seen.slice(1).every((b) => b.shard !== "shardId-000000000000")).toBe(true);
    expect(
      seen
        .slice(1)
        .flatMap((b) => b.data)
        .sort(),
    ).toEqual(["a", "b", "c", "d"]);
  });
});
