/**
 * The ingest use case's ports (IngestStores) in memory, with the DynamoDB adapters' semantics: watermark
 * merge of bucket profiles, idempotent puts of predictions, label markers and quarantine records. A
 * failed write either did not happen or happened with its answer lost (stored, but reported as failed).
 */
import { keys } from "../../lambdas/adapters/dynamodb-keys";
import type { IngestStores } from "../../lambdas/app/ingest/ingest-batch";
import {
  groupContribution,
  type StoredLabel,
  type StoredPrediction,
} from "../../lambdas/domain/ingest/batch";
import { deserializeProfile, serializeProfile } from "../../lambdas/domain/stats/profile-codec";
import { mergeProfiles } from "../../lambdas/domain/stats/profile-merge";
import type { QuarantineRecord } from "../../lambdas/ports/stats-repository";

/** What the stores hold, keyed as the DynamoDB adapters key their items. */
export interface IngestMemory {
  stats: Map<string, { profile: string; seq: string; received: number }>;
  index: Map<string, StoredPrediction>;
  labels: Map<string, StoredLabel>;
  quarantine: Map<string, QuarantineRecord>;
}

/**
 * How a storage operation ends: done; failed before anything was written; or written with its answer
 * lost (the caller sees a failure and retries a write that is already there).
 */
export type StoreOutcome = "ok" | "failed" | "lost";

/** Stores with the DynamoDB adapters' semantics; `outcome()` decides how each operation ends. */
export function memoryIngestStores(memory: IngestMemory, outcome: () => StoreOutcome): IngestStores {
  const fails = () => outcome() !== "ok";
  /** Writes `items` (unless the write failed before) and returns those reported as failed. */
  const put = <T>(items: readonly T[], write: (item: T) => void): { failed: T[] } => {
    const failed: T[] = [];
    for (const item of items) {
      const o = outcome();
      if (o !== "failed") write(item);
      if (o !== "ok") failed.push(item);
    }
    return { failed };
  };
  return {
    stats: {
      async applyGroups(shardId, groups, specs) {
        return groups.map((group) => {
          const o = outcome();
          if (o === "failed") return { group, status: "failed" as const, attempts: 1 };
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
          return { group, status: o === "lost" ? ("failed" as const) : ("applied" as const), attempts: 1 };
        });
      },
    },
    predictions: {
      async find(wanted) {
        if (fails()) throw new Error("throttled");
        return wanted.flatMap((w) => memory.index.get(`${w.modelId}|${w.requestId}`) ?? []);
      },
      async save(predictions) {
        return put(predictions, (p) => memory.index.set(`${p.modelId}|${p.requestId}`, p));
      },
      async findLabels(wanted) {
        if (fails()) throw new Error("throttled");
        return wanted.flatMap((w) => memory.labels.get(`${w.modelId}|${w.requestId}`) ?? []);
      },
      async saveLabels(labels) {
        return put(labels, (l) => memory.labels.set(`${l.modelId}|${l.requestId}`, l));
      },
    },
    quarantine: {
      async save(records) {
        return put(records, (q) => memory.quarantine.set(`${q.shardId}#${q.sequenceNumber}`, q));
      },
      async listDay() {
        return [];
      },
    },
  };
}

export const emptyIngestMemory = (): IngestMemory => ({
  stats: new Map(),
  index: new Map(),
  labels: new Map(),
  quarantine: new Map(),
});
