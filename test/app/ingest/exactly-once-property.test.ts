/**
 * Property: whatever the delivery pattern (batch sizes, retries from a reported failure, stale
 * redeliveries of earlier slices) and whatever storage operations fail, once the stream is checkpointed the
 * stored statistics, prediction index and quarantine equal those of one clean delivery. Runs the real
 * batch function (createIngestBatch) over in-memory stores with the adapters' semantics (watermark merge,
 * idempotent puts: test/support/memory-ingest-stores.ts); the DynamoDB adapters themselves are covered against dynalite in
 * test/integration/ingest-exactly-once.test.ts.
 */
import type { KinesisStreamEvent, KinesisStreamRecord } from "aws-lambda";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createIngestBatch } from "../../../lambdas/app/ingest/ingest-batch";
import { mulberry32 as prng } from "../../../local/prng";
import { kinesisRecord } from "../../support/events";
import { generateStream, MODELS, profileDifferences } from "../../support/ingest-fixtures";
import { emptyIngestMemory, type IngestMemory, memoryIngestStores } from "../../support/memory-ingest-stores";

const NOW = Date.UTC(2026, 10, 27, 12);

function kinesisRecords(payloads: readonly string[]): KinesisStreamRecord[] {
  return payloads.map((p, i) =>
    kinesisRecord(p, {
      sequenceNumber: String(4_950_000_000_000_000_000n + BigInt(i) * 7n),
      partitionKey: "p",
      arrivalMs: NOW,
    }),
  );
}

function differences(actual: IngestMemory, expected: IngestMemory): string[] {
  const out: string[] = [];
  for (const k of new Set([...actual.stats.keys(), ...expected.stats.keys()])) {
    const a = actual.stats.get(k);
    const e = expected.stats.get(k);
    if (!a || !e) out.push(`${k}: ${a ? "unexpected" : "missing"}`);
    else {
      if (a.received !== e.received) out.push(`${k}.received ${a.received} != ${e.received}`);
      out.push(...profileDifferences(a.profile, e.profile).map((d) => `${k} ${d}`));
    }
  }
  const sameKeys = (x: Map<string, unknown>, y: Map<string, unknown>) =>
    x.size === y.size && [...x.keys()].every((k) => y.has(k));
  if (!sameKeys(actual.index, expected.index)) out.push("prediction index differs");
  if (!sameKeys(actual.labels, expected.labels)) out.push("label markers differ");
  if (!sameKeys(actual.quarantine, expected.quarantine)) out.push("quarantine differs");
  for (const [k, q] of actual.quarantine) {
    if (expected.quarantine.get(k)?.reason !== q.reason) out.push(`quarantine ${k} reason ${q.reason}`);
  }
  return out;
}

describe("exactly-once under arbitrary delivery patterns and storage failures", () => {
  it("converges to the clean delivery's statistics", async () => {
    const payloads = generateStream(60, 11, NOW);
    const records = kinesisRecords(payloads);
    const clean = emptyIngestMemory();
    const once = await createIngestBatch({ models: MODELS, stores: memoryIngestStores(clean, () => false) })({
      Records: records,
    });
    expect(once.response.batchItemFailures).toEqual([]);
    expect(clean.stats.size).toBeGreaterThan(5);

    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 25 }), { minLength: 1, maxLength: 20 }),
        fc.integer(),
        fc.double({ min: 0, max: 0.15, noNaN: true }),
        async (sizes, seed, failureRate) => {
          const memory = emptyIngestMemory();
          const next = prng(seed);
          const ingest = createIngestBatch({
            models: MODELS,
            stores: memoryIngestStores(memory, () => next() < failureRate),
          });
          let checkpoint = 0;
          for (let step = 0; checkpoint < records.length; step++) {
            if (step > 500) throw new Error("no progress");
            const size = sizes[step % sizes.length]!;
            if (checkpoint > 0 && next() < 0.2) {
              const from = Math.floor(next() * checkpoint);
              await ingest({ Records: records.slice(from, Math.min(checkpoint, from + size)) });
            }
            const batch: KinesisStreamEvent = { Records: records.slice(checkpoint, checkpoint + size) };
            const report = await ingest(batch);
            const failed = report.response.batchItemFailures[0]?.itemIdentifier;
            checkpoint =
              failed === undefined
                ? checkpoint + batch.Records.length
                : records.findIndex((r) => r.kinesis.sequenceNumber === failed);
          }
          expect(differences(memory, clean)).toEqual([]);
        },
      ),
      { numRuns: 25, seed: 20261127 },
    );
  });
});
