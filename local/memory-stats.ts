/**
 * LOCAL STAND-IN for the ingest's DynamoDB items, in process: bucket statistics (`StatsRepository` and
 * `BucketStatsStore`), the prediction index and the quarantine, with the DynamoDB adapters' semantics, for
 * the fast path of `replay` (local/replay.ts). The ingest and evaluate use cases run on these unchanged.
 *
 * Same semantics as the adapters (lambdas/adapters/dynamodb-*.ts), and why each one holds:
 * - One bucket item per (model, bucket start, shard) with a sequence watermark: a group is merged exactly
 *   once (`groupContribution` above the stored watermark), as the conditional PutItem does.
 * - Profiles are kept as objects, not serialized: the profile codec's round trip is the identity (exact
 *   float64s, canonical sketches), so merging the objects gives what deserialize-merge-serialize gives.
 * - Window reads merge shard items in sort-key order (bucket start, then shard id), then buckets in time
 *   order, with `mergeProfileList` like the Query's adapter: the same merges give the same results bit for bit.
 * - Predictions and label markers are found by (model, requestId); expired entries are dropped by
 *   `prune`, which plays DynamoDB's TTL (the emulators keep them, which only matters for labels arriving
 *   after their prediction's label horizon).
 * - Quarantine saves are idempotent per (shard, sequence number).
 *
 * What differs, on purpose, so that memory follows the evaluation window and not the log:
 * - `pruneBuckets` drops buckets the evaluator can no longer read (their labelled outcomes are kept for as
 *   long as it counts labels); a later read of what was dropped fails loudly (`PrunedStatisticsError`)
 *   instead of returning less data than DynamoDB would.
 * - The quarantine keeps counts per reason and hands each new record to `onRecord`, instead of keeping
 *   every payload (a log that is half junk would otherwise fill the memory); `listDay` returns the records
 *   kept when constructed with `keepRecords`.
 */
import type { ProfileSpec } from "../contracts/model";
import type { OutcomeBucket } from "../lambdas/domain/decision/decision";
import {
  groupContribution,
  type IngestGroup,
  type StoredLabel,
  type StoredPrediction,
} from "../lambdas/domain/ingest/batch";
import type { Profile } from "../lambdas/domain/stats/profile";
import { mergePerformance, mergeProfileList, mergeProfiles } from "../lambdas/domain/stats/profile-merge";
import type {
  BucketStats,
  BucketStatsStore,
  GroupApplyResult,
  LabelMarker,
  PredictionIndex,
  PredictionRecord,
  QuarantineRecord,
  QuarantineStore,
  StatsRepository,
  WindowStats,
} from "../lambdas/ports/stats-repository";

/** A read asked for buckets that `pruneBuckets` dropped: the replay's retention is too short. */
export class PrunedStatisticsError extends Error {
  override readonly name = "PrunedStatisticsError";
}

/** One (model, bucket, shard) item. */
interface ShardItem {
  readonly shardId: string;
  profile: Profile;
  seq: string;
  received: number;
  quarantined: Record<string, number>;
}

/** Per model: shard items by bucket start, and what was dropped of older buckets. */
interface ModelBuckets {
  readonly buckets: Map<number, ShardItem[]>;
  /** Bucket starts whose statistics were dropped (sorted): a window read over them fails. */
  readonly dropped: number[];
  /** The labelled outcomes of dropped buckets still kept: outcome reads answer from them. */
  readonly outcomes: Map<number, OutcomeBucket>;
  /** Bucket starts whose outcomes were dropped too (sorted): an outcome read over them fails. */
  readonly outcomesDropped: number[];
}

function addCounts(into: Record<string, number>, from: Readonly<Record<string, number>>): void {
  for (const k in from) into[k] = (into[k] ?? 0) + from[k]!;
}

/** Totals of what the bucket items counted (exactly once: only applied contributions). */
export interface BucketTotals {
  /** Records counted in buckets: aggregated + attributed quarantined. */
  readonly received: number;
  /** Attributed quarantined records by reason. */
  readonly quarantined: Readonly<Record<string, number>>;
}

export class MemoryStatsRepository implements StatsRepository, BucketStatsStore {
  private readonly models = new Map<string, ModelBuckets>();
  private receivedTotal = 0;
  private readonly quarantinedTotal: Record<string, number> = {};

  private modelOf(modelId: string): ModelBuckets {
    let m = this.models.get(modelId);
    if (!m) {
      m = { buckets: new Map(), dropped: [], outcomes: new Map(), outcomesDropped: [] };
      this.models.set(modelId, m);
    }
    return m;
  }

  async applyGroups(
    shardId: string,
    groups: readonly IngestGroup[],
    specs: ReadonlyMap<string, ProfileSpec>,
  ): Promise<GroupApplyResult[]> {
    return groups.map((group) => {
      const spec = specs.get(group.modelId);
      if (!spec)
        return {
          group,
          status: "failed" as const,
          error: new Error(`no profile spec for ${group.modelId}`),
          attempts: 0,
        };
      const buckets = this.modelOf(group.modelId).buckets;
      let items = buckets.get(group.bucketStart);
      let item = items?.find((i) => i.shardId === shardId);
      const c = groupContribution(group, spec, item?.seq);
      if (!c) return { group, status: "skipped" as const, attempts: 0 };
      if (item) {
        item.profile = mergeProfiles(item.profile, c.profile);
        item.seq = c.lastSeq;
        item.received += c.received;
        addCounts(item.quarantined, c.quarantined);
      } else {
        item = { shardId, profile: c.profile, seq: c.lastSeq, received: c.received, quarantined: {} };
        addCounts(item.quarantined, c.quarantined);
        if (!items) {
          items = [];
          buckets.set(group.bucketStart, items);
        }
        items.push(item);
        // Sort-key order within a bucket (the Query's order, hence the merge order).
        items.sort((a, b) => (a.shardId < b.shardId ? -1 : a.shardId > b.shardId ? 1 : 0));
      }
      this.receivedTotal += c.received;
      addCounts(this.quarantinedTotal, c.quarantined);
      return { group, status: "applied" as const, attempts: 1 };
    });
  }

  /** Shard items of the buckets starting in [fromMs, toMs), in time order; fails on pruned buckets. */
  private itemsIn(modelId: string, fromMs: number, toMs: number): Array<[number, ShardItem[]]> {
    const m = this.models.get(modelId);
    if (!m) return [];
    const d = firstAtOrAfter(m.dropped, fromMs);
    if (d !== undefined && d < toMs)
      throw new PrunedStatisticsError(
        `model ${modelId}: the bucket of ${new Date(d).toISOString()} was dropped from memory, but the evaluator read [${new Date(fromMs).toISOString()}, ${new Date(toMs).toISOString()})`,
      );
    const out: Array<[number, ShardItem[]]> = [];
    for (const entry of m.buckets) if (entry[0] >= fromMs && entry[0] < toMs) out.push(entry);
    return out.sort((x, y) => x[0] - y[0]);
  }

  async readWindow(modelId: string, fromMs: number, toMs: number): Promise<WindowStats> {
    const buckets: BucketStats[] = [];
    let received = 0;
    const quarantined: Record<string, number> = {};
    for (const [bucketStart, items] of this.itemsIn(modelId, fromMs, toMs)) {
      let r = 0;
      const q: Record<string, number> = {};
      for (const item of items) {
        r += item.received;
        addCounts(q, item.quarantined);
      }
      const p = items.length === 1 ? items[0]!.profile : mergeProfileList(items.map((i) => i.profile));
      buckets.push({ bucketStart, profile: p, received: r, quarantined: q, shards: items.length });
      received += r;
      addCounts(quarantined, q);
    }
    const profile = buckets.length > 0 ? mergeProfileList(buckets.map((b) => b.profile)) : undefined;
    return { modelId, fromMs, toMs, profile, received, quarantined, buckets };
  }

  async firstBucketStart(modelId: string, fromMs: number, toMs: number): Promise<number | undefined> {
    return this.itemsIn(modelId, fromMs, toMs)[0]?.[0];
  }

  async readOutcomes(modelId: string, fromMs: number, toMs: number): Promise<OutcomeBucket[]> {
    const m = this.models.get(modelId);
    if (!m) return [];
    const d = firstAtOrAfter(m.outcomesDropped, fromMs);
    if (d !== undefined && d < toMs)
      throw new PrunedStatisticsError(
        `model ${modelId}: the outcomes of the bucket of ${new Date(d).toISOString()} were dropped from memory, but the evaluator read [${new Date(fromMs).toISOString()}, ${new Date(toMs).toISOString()})`,
      );
    const out: OutcomeBucket[] = [];
    for (const [bucketStart, o] of m.outcomes) if (bucketStart >= fromMs && bucketStart < toMs) out.push(o);
    for (const [bucketStart, items] of m.buckets)
      if (bucketStart >= fromMs && bucketStart < toMs) out.push(outcomeOf(bucketStart, items));
    return out.sort((a, b) => a.bucketStart - b.bucketStart);
  }

  /** The outcomes of every bucket held for `modelId` (pruned ones excluded), in time order. */
  heldOutcomes(modelId: string): OutcomeBucket[] {
    const m = this.models.get(modelId);
    if (!m) return [];
    return [...m.buckets.entries()].sort((a, b) => a[0] - b[0]).map(([t, items]) => outcomeOf(t, items));
  }

  /**
   * Drops the statistics of the buckets of `modelId` starting before `beforeMs`, except those `keep` names
   * (e.g. a reference-window baseline whose outcomes the evaluator still reads). Their labelled outcomes
   * (a few numbers and the score histograms) are kept while they start at or after `outcomesBeforeMs`
   * (the training window the evaluator counts labels over), and dropped before it. Returns how many
   * buckets' statistics were dropped.
   */
  pruneBuckets(
    modelId: string,
    beforeMs: number,
    keep: (bucketStart: number) => boolean = () => false,
    onDrop?: (outcome: OutcomeBucket) => void,
    outcomesBeforeMs: number = beforeMs,
  ): number {
    const m = this.models.get(modelId);
    if (!m) return 0;
    let dropped = 0;
    let outcomesDropped = 0;
    for (const [bucketStart, items] of m.buckets) {
      if (bucketStart >= beforeMs || keep(bucketStart)) continue;
      const outcome = outcomeOf(bucketStart, items);
      onDrop?.(outcome);
      m.buckets.delete(bucketStart);
      m.dropped.push(bucketStart);
      dropped++;
      if (bucketStart >= outcomesBeforeMs) m.outcomes.set(bucketStart, outcome);
      else {
        m.outcomesDropped.push(bucketStart);
        outcomesDropped++;
      }
    }
    for (const bucketStart of m.outcomes.keys())
      if (bucketStart < outcomesBeforeMs) {
        m.outcomes.delete(bucketStart);
        m.outcomesDropped.push(bucketStart);
        outcomesDropped++;
      }
    if (dropped > 0) m.dropped.sort((a, b) => a - b);
    if (outcomesDropped > 0) m.outcomesDropped.sort((a, b) => a - b);
    return dropped;
  }

  /** Bucket items held (all models and shards): the memory the statistics take, in items. */
  get itemCount(): number {
    let n = 0;
    for (const m of this.models.values()) for (const items of m.buckets.values()) n += items.length;
    return n;
  }

  /** Every bucket item, for a digest of the stored statistics (sorted like a table scan by key). */
  *items(): Generator<{
    modelId: string;
    bucketStart: number;
    shardId: string;
    received: number;
    quarantined: Readonly<Record<string, number>>;
    profile: Profile;
  }> {
    for (const modelId of [...this.models.keys()].sort()) {
      const m = this.models.get(modelId)!;
      for (const bucketStart of [...m.buckets.keys()].sort((a, b) => a - b))
        for (const item of m.buckets.get(bucketStart)!)
          yield {
            modelId,
            bucketStart,
            shardId: item.shardId,
            received: item.received,
            quarantined: item.quarantined,
            profile: item.profile,
          };
    }
  }

  /** What the bucket items counted since the start, including pruned buckets. */
  totals(): BucketTotals {
    return { received: this.receivedTotal, quarantined: { ...this.quarantinedTotal } };
  }
}

/** The labelled outcomes of one bucket, its shard items merged in sort-key order. */
function outcomeOf(bucketStart: number, items: readonly ShardItem[]): OutcomeBucket {
  let predictions = 0;
  let labelled = 0;
  let performance = items[0]!.profile.performance;
  items.forEach((item, i) => {
    predictions += item.profile.count;
    labelled += item.profile.labelled;
    if (i > 0) performance = mergePerformance(performance, item.profile.performance);
  });
  return { bucketStart, predictions, labelled, performance };
}

/** The first element of a sorted array at or after `t`. */
function firstAtOrAfter(sorted: readonly number[], t: number): number | undefined {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return sorted[lo];
}

/** Entries of one model by requestId, in insertion order (close to expiry order). */
type ByRequest<T> = Map<string, Map<string, T>>;

function lookup<T>(index: ByRequest<T>, keys: ReadonlyArray<{ modelId: string; requestId: string }>): T[] {
  const out: T[] = [];
  for (const k of keys) {
    const v = index.get(k.modelId)?.get(k.requestId);
    if (v !== undefined) out.push(v);
  }
  return out;
}

function store<T extends { modelId: string; requestId: string }>(
  index: ByRequest<T>,
  items: readonly T[],
): void {
  for (const item of items) {
    let m = index.get(item.modelId);
    if (!m) {
      m = new Map();
      index.set(item.modelId, m);
    }
    // An overwrite (a redelivery) keeps the entry's place and its expiry.
    m.set(item.requestId, item);
  }
}

/** Drops leading entries that expired at or before `nowMs` (entries come roughly in expiry order). */
function dropExpired<T extends { expiresAtMs: number }>(index: ByRequest<T>, nowMs: number): number {
  let n = 0;
  for (const m of index.values()) {
    for (const [k, v] of m) {
      if (v.expiresAtMs > nowMs) break;
      m.delete(k);
      n++;
    }
  }
  return n;
}

/** Predictions awaiting labels and label markers, keyed by (model, requestId), with TTL by `prune`. */
export class MemoryPredictionIndex implements PredictionIndex {
  private readonly predictions: ByRequest<PredictionRecord> = new Map();
  private readonly labels: ByRequest<LabelMarker> = new Map();

  async find(keys: ReadonlyArray<{ modelId: string; requestId: string }>): Promise<StoredPrediction[]> {
    return lookup(this.predictions, keys);
  }

  async save(predictions: readonly PredictionRecord[]): Promise<{ failed: PredictionRecord[] }> {
    store(this.predictions, predictions);
    return { failed: [] };
  }

  async findLabels(keys: ReadonlyArray<{ modelId: string; requestId: string }>): Promise<StoredLabel[]> {
    return lookup(this.labels, keys);
  }

  async saveLabels(labels: readonly LabelMarker[]): Promise<{ failed: LabelMarker[] }> {
    store(this.labels, labels);
    return { failed: [] };
  }

  /** DynamoDB's TTL: drops predictions and markers that expired at or before `nowMs`. */
  prune(nowMs: number): number {
    return dropExpired(this.predictions, nowMs) + dropExpired(this.labels, nowMs);
  }

  /** Entries held. */
  get size(): { predictions: number; labels: number } {
    let predictions = 0;
    let labels = 0;
    for (const m of this.predictions.values()) predictions += m.size;
    for (const m of this.labels.values()) labels += m.size;
    return { predictions, labels };
  }
}

export interface MemoryQuarantineStoreOptions {
  /** Receives each record the first time it is saved. */
  readonly onRecord?: (record: QuarantineRecord) => void;
  /** Keep the records (payload included) for `listDay`. @default false */
  readonly keepRecords?: boolean;
}

/** Quarantined records: counted by reason, idempotent per (shard, sequence number). */
export class MemoryQuarantineStore implements QuarantineStore {
  private readonly seen = new Map<string, number>();
  private readonly kept: QuarantineRecord[] = [];
  private total = 0;
  private readonly reasons: Record<string, number> = {};

  constructor(private readonly options: MemoryQuarantineStoreOptions = {}) {}

  async save(records: readonly QuarantineRecord[]): Promise<{ failed: QuarantineRecord[] }> {
    for (const r of records) {
      const key = `${r.shardId}#${r.sequenceNumber}`;
      if (this.seen.has(key)) continue;
      this.seen.set(key, r.arrivalMs);
      this.total++;
      this.reasons[r.reason] = (this.reasons[r.reason] ?? 0) + 1;
      if (this.options.keepRecords) this.kept.push(r);
      this.options.onRecord?.(r);
    }
    return { failed: [] };
  }

  async listDay(day: string): Promise<QuarantineRecord[]> {
    return this.kept.filter((r) => new Date(r.arrivalMs).toISOString().slice(0, 10) === day);
  }

  /**
   * Forgets the identities of records that arrived before `beforeMs`: a record can only be redelivered
   * while it is on the stream (its retention), so older identities cannot recur.
   */
  prune(beforeMs: number): void {
    for (const [k, arrival] of this.seen) {
      if (arrival >= beforeMs) break;
      this.seen.delete(k);
    }
  }

  /** Quarantined records (each once) and their reasons. */
  totals(): { quarantined: number; byReason: Readonly<Record<string, number>> } {
    return { quarantined: this.total, byReason: { ...this.reasons } };
  }
}
