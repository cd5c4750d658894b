/**
 * The ingest use case's ports (IngestStores) in memory, with the DynamoDB adapters' semantics: watermark
 * merge of bucket profiles, idempotent puts of predictions, label markers and quarantine records.
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

/** Stores with the DynamoDB adapters' semantics; `fails()` decides whether an operation fails. */
export function memoryIngestStores(memory: IngestMemory, fails: () => boolean): IngestStores {
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

export const emptyIngestMemory = (): IngestMemory => ({
  stats: new Map(),
  index: new Map(),
  labels: new Map(),
  quarantine: new Map(),
});
