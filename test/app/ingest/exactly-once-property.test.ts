/**
 * Property: whatever the delivery pattern (batch sizes, retries from a reported failure, stale
 * redeliveries of earlier slices) and whatever storage operations fail, once the stream is checkpointed the
 * stored statistics, prediction index and quarantine equal those of one clean delivery. Runs the real
 * batch function (createIngestBatch) over in-memory stores with the adapters' semantics (watermark merge,
 * idempotent puts); the DynamoDB adapters themselves are covered against dynalite in
 * test/integration/ingest-exactly-once.test.ts.
 */
import type { KinesisStreamEvent, KinesisStreamRecord } from "aws-lambda";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { keys } from "../../../lambdas/adapters/dynamodb-keys";
import { createIngestBatch, type IngestStores } from "../../../lambdas/app/ingest/ingest-batch";
import {
  groupContribution,
  type StoredLabel,
  type StoredPrediction,
} from "../../../lambdas/domain/ingest/batch";
import { deserializeProfile, serializeProfile } from "../../../lambdas/domain/stats/profile-codec";
import { mergeProfiles } from "../../../lambdas/domain/stats/profile-merge";
import type { QuarantineRecord } from "../../../lambdas/ports/stats-repository";
import { lambdaKinesisRecord } from "../../../local/kinesis-record";
import { mulberry32 as prng } from "../../../local/prng";
import { generateStream, MODELS, profileDifferences } from "../../support/ingest-fixtures";

const NOW = Date.UTC(2026, 10, 27, 12);
const SHARD = "shardId-000000000000";

interface Memory {
  stats: Map<string, { profile: string; seq: string; received: number }>;
  index: Map<string, StoredPrediction>;
  labels: Map<string, StoredLabel>;
  quarantine: Map<string, QuarantineRecord>;
}

/** Stores with the DynamoDB adapters' semantics; `fails()` decides whether an operation fails. */
function memoryStores(memory: Memory, fails: () => boolean): IngestStores {
  return {
    stats: {
      async applyGroups(shardId, groups, specs) {
        return groups.map((group) => {
          if (fails()) return { group, status: "failed" as const, attempts: 1 };
          const k = keys.stats(group.modelId, group.bucketStart, shardId);
          const id = `${k.pk}|${k.sk}`;
          const item = memory.stats.get(id);
          const c = groupContribution(group, specs.get(group.modelId)!, item?.seq);
          if (!c) return { group, status: "skipped" as const, attempts: 0 };
          const profile = item ? mergeProfiles(deserializeProfile(item.profile), c.profile) : c.profile;
          memory.stats.set(id, {
            profile: serializeProfile(profile),
            seq: c.lastSeq,
            received: (item?.received ?? 0) + c.received,
          });
          return { group, status: "applied" as const, attempts: 1 };
        });
      },
    },
    predictions: {
      async find(wanted) {
        if (fails()) throw new Error("throttled");
        return wanted.flatMap((w) => memory.index.get(`${w.modelId}|${w.requestId}`) ?? []);
      },
      async save(predictions) {
        const failed = predictions.filter(() => fails());
        for (const p of predictions)
          if (!failed.includes(p)) memory.index.set(`${p.modelId}|${p.requestId}`, p);
        return { failed };
      },
      async findLabels(wanted) {
        if (fails()) throw new Error("throttled");
        return wanted.flatMap((w) => memory.labels.get(`${w.modelId}|${w.requestId}`) ?? []);
      },
      async saveLabels(labels) {
        const failed = labels.filter(() => fails());
        for (const l of labels) if (!failed.includes(l)) memory.labels.set(`${l.modelId}|${l.requestId}`, l);
        return { failed };
      },
    },
    quarantine: {
      async save(records) {
        const failed = records.filter(() => fails());
        for (const q of records)
          if (!failed.includes(q)) memory.quarantine.set(`${q.shardId}#${q.sequenceNumber}`, q);
        return { failed };
      },
      async listDay() {
        return [];
      },
    },
  };
}

function kinesisRecords(payloads: readonly string[]): KinesisStreamRecord[] {
  return payloads.map((p, i) =>
    lambdaKinesisRecord({
      shardId: SHARD,
      sequenceNumber: String(4_950_000_000_000_000_000n + BigInt(i) * 7n),
      partitionKey: "p",
      data: Buffer.from(p).toString("base64"),
      arrivalMs: NOW,
    }),
  );
}

const emptyMemory = (): Memory => ({
  stats: new Map(),
  index: new Map(),
  labels: new Map(),
  quarantine: new Map(),
});

function differences(actual: Memory, expected: Memory): string[] {
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
    const clean = emptyMemory();
    const once = await createIngestBatch({ models: MODELS, stores: memoryStores(clean, () => false) })({
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
          const memory = emptyMemory();
          const next = prng(seed);
          const ingest = createIngestBatch({
            models: MODELS,
            stores: memoryStores(memory, () => next() < failureRate),
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
