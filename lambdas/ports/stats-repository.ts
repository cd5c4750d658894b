/**
 * Storage ports of the ingest side. `StatsRepository` is what readers (the evaluator, local mode, replay)
 * need: the merged statistics of a time window. The write-side ports are separate so that a reader's fake
 * does not have to implement the ingest's exactly-once machinery.
 */

import type { ProfileSpec } from "../../contracts/model";
import type { OutcomeBucket } from "../domain/decision/decision";
import type { IngestGroup, StoredLabel, StoredPrediction } from "../domain/ingest/batch";
import type { QuarantineReason } from "../domain/ingest/event-validation";
import type { Profile } from "../domain/stats/profile";

/** Statistics of one event-time bucket, merged over all shards that wrote it. */
export interface BucketStats {
  /** Bucket start, epoch ms. */
  readonly bucketStart: number;
  readonly profile: Profile;
  /** Records counted in the bucket: aggregated (predictions + labelled outcomes) + quarantined. */
  readonly received: number;
  /** Quarantined records attributed to the bucket, by reason code. */
  readonly quarantined: Readonly<Record<string, number>>;
  /** Shard items merged into this bucket. */
  readonly shards: number;
}

/** Statistics of the buckets starting in [fromMs, toMs). */
export interface WindowStats {
  readonly modelId: string;
  readonly fromMs: number;
  readonly toMs: number;
  /** All buckets merged; undefined when the window holds no data. */
  readonly profile: Profile | undefined;
  readonly received: number;
  readonly quarantined: Readonly<Record<string, number>>;
  /** Buckets in time order. */
  readonly buckets: readonly BucketStats[];
}

/** Read side of the bucket statistics. */
export interface StatsRepository {
  /** Merge every shard item of every bucket starting in [fromMs, toMs). */
  readWindow(modelId: string, fromMs: number, toMs: number): Promise<WindowStats>;
  /**
   * The labelled outcomes (label coverage and performance statistics, all shards merged) of every bucket
   * starting in [fromMs, toMs), in time order: what the realized-performance signal reads over the label
   * horizon, without the feature statistics.
   */
  readOutcomes(modelId: string, fromMs: number, toMs: number): Promise<OutcomeBucket[]>;
  /**
   * Start of the earliest bucket holding statistics in [fromMs, toMs), or undefined: whether a window is
   * covered, without reading and merging it.
   */
  firstBucketStart(modelId: string, fromMs: number, toMs: number): Promise<number | undefined>;
}

/** Outcome of merging one group into its bucket item. */
export interface GroupApplyResult {
  readonly group: IngestGroup;
  /** applied: stored; skipped: every record was already applied (a redelivery); failed: not stored. */
  readonly status: "applied" | "skipped" | "failed";
  readonly error?: unknown;
  /** Requests spent on this group after the shared read (puts and conditional-failure re-reads). */
  readonly attempts: number;
}

/** Write side of the bucket statistics: exactly-once merge of a batch's groups. */
export interface BucketStatsStore {
  /**
   * Merge each group into the (model, bucket, shard) item, skipping records at or below the item's stored
   * sequence number. Never throws for a group's failure: it is reported in the result.
   */
  applyGroups(
    shardId: string,
    groups: readonly IngestGroup[],
    specs: ReadonlyMap<string, ProfileSpec>,
  ): Promise<GroupApplyResult[]>;
}

/** A prediction kept until its label horizon, for label joins and duplicate detection. */
export interface PredictionRecord extends StoredPrediction {
  /** Expiry, epoch ms (prediction time + label horizon). */
  readonly expiresAtMs: number;
}

/**
 * A label already counted, kept until its prediction's label horizon so a resent label (same requestId)
 * is not counted twice. `shardId`/`seq` name the record that counted it (the redelivery rule, as for
 * predictions).
 */
export interface LabelMarker {
  readonly modelId: string;
  readonly requestId: string;
  readonly shardId: string;
  readonly seq: string;
  /** Expiry, epoch ms (prediction time + label horizon). */
  readonly expiresAtMs: number;
}

/** Predictions awaiting labels, and markers of labels already counted. */
export interface PredictionIndex {
  /** Stored predictions for these keys (absent keys are omitted). Throws if the lookup cannot complete. */
  find(keys: ReadonlyArray<{ modelId: string; requestId: string }>): Promise<StoredPrediction[]>;
  /** Store predictions; returns those that could not be written. */
  save(predictions: readonly PredictionRecord[]): Promise<{ failed: PredictionRecord[] }>;
  /** Label markers for these keys (absent keys are omitted). Throws if the lookup cannot complete. */
  findLabels(keys: ReadonlyArray<{ modelId: string; requestId: string }>): Promise<StoredLabel[]>;
  /** Store label markers; returns those that could not be written. */
  saveLabels(labels: readonly LabelMarker[]): Promise<{ failed: LabelMarker[] }>;
}

/** A rejected record, kept with enough context to replay it. */
export interface QuarantineRecord {
  readonly shardId: string;
  readonly sequenceNumber: string;
  /** Kinesis approximate arrival time, epoch ms (stable across redeliveries: part of the key). */
  readonly arrivalMs: number;
  readonly reason: QuarantineReason;
  readonly detail: string;
  readonly modelId?: string;
  /** The raw record payload, base64. */
  readonly data: string;
}

/** Quarantined records. */
export interface QuarantineStore {
  /** Store records (idempotent per shard and sequence number); returns those that could not be written. */
  save(records: readonly QuarantineRecord[]): Promise<{ failed: QuarantineRecord[] }>;
  /** Records quarantined on one UTC day (`yyyy-mm-dd`), e.g. for inspection or replay. */
  listDay(day: string): Promise<QuarantineRecord[]>;
}
