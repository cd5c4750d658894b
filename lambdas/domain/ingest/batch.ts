/**
 * The pure part of ingesting one Kinesis batch: classify records (validation + in-batch duplicates),
 * resolve what needs stored predictions (duplicates across batches, label joins), group by model and
 * event-time bucket, build each group's profile contribution, and account for every record.
 *
 * Exactly-once rests on two rules that make every decision here a function of the stream alone, whatever
 * the delivery pattern (whole batch, bisected halves, remainder after a partial failure):
 * 1. A group's contribution only includes records whose sequence number is above the watermark stored
 *    with the bucket item (`afterSeq`), so re-applied records are skipped.
 * 2. A record only "sees" predictions that precede it in the shard: a stored prediction written by a
 *    later record of the same shard (during an earlier, partly failed attempt) is ignored.
 */

import type { LabelEvent } from "../../../contracts/events";
import type { ProfileSpec } from "../../../contracts/model";
import { HOUR_MS, MINUTE_MS } from "../../../contracts/time";
import { FeatureColumns } from "../stats/feature-columns";
import { emptyProfile, type Profile } from "../stats/profile";
import { addOutcome, addPredictionRows } from "../stats/profile-update";
import {
  type ColumnarEvent,
  type ColumnarPrediction,
  type ColumnarResult,
  type CompiledModel,
  DEFAULT_VALIDATION_LIMITS,
  type QuarantineReason,
  type ValidationLimits,
  validateRecordInto,
} from "./event-validation";
import type { Mutable } from "./mutable";

/** One Kinesis record as the ingest sees it. */
export interface IncomingRecord {
  /** Kinesis sequence number (decimal string, up to 56 digits). */
  readonly sequenceNumber: string;
  /** Approximate arrival time, epoch ms: the reference time for validation (stable across redeliveries). */
  readonly arrivalMs: number;
  /** Base64 payload. */
  readonly data: string;
}

/** A record after validation, in batch order. */
export interface ClassifiedRecord {
  readonly index: number;
  readonly sequenceNumber: string;
  /** Zero-padded sequence number: string order equals stream order. */
  readonly seq: string;
  readonly arrivalMs: number;
  readonly data: string;
  /** Valid predictions keep their feature values as a row of their model's batch columns. */
  readonly result: ColumnarResult;
}

/** A prediction kept for label joins and duplicate detection. */
export interface StoredPrediction {
  readonly modelId: string;
  readonly requestId: string;
  readonly prediction: number | string;
  readonly score?: number;
  /** Event time of the prediction, epoch ms. */
  readonly timestamp: number;
  /** Shard and padded sequence number of the record that wrote it. */
  readonly shardId: string;
  readonly seq: string;
}

/** A label already counted (see `LabelMarker` in the ports): who counted it. */
export interface StoredLabel {
  readonly modelId: string;
  readonly requestId: string;
  /** Shard and padded sequence number of the record that counted it. */
  readonly shardId: string;
  readonly seq: string;
}

export type Disposition =
  | {
      readonly kind: "prediction";
      readonly event: ColumnarPrediction;
      /** The prediction index already holds this very record (a redelivery): no need to write it again. */
      readonly indexed?: boolean;
    }
  | {
      readonly kind: "outcome";
      readonly event: LabelEvent;
      readonly prediction: number | string;
      readonly score?: number;
      /** Event time of the prediction: decides the bucket. */
      readonly predictionTimestamp: number;
      /** Whether the prediction came from storage (a join) rather than the label itself or this batch. */
      readonly joined: boolean;
      /** The label markers already hold this very record (a redelivery): no need to write it again. */
      readonly marked?: boolean;
    }
  | {
      readonly kind: "quarantine";
      readonly reason: QuarantineReason;
      readonly detail: string;
      readonly modelId?: string;
      readonly timestamp?: number;
    };

export interface ResolvedRecord extends ClassifiedRecord {
  readonly disposition: Disposition;
}

export interface GroupEntry {
  readonly seq: string;
  readonly disposition: Disposition;
}

/** The records of one batch that fall into one (model, bucket). Entries are in stream order. */
export interface IngestGroup {
  readonly modelId: string;
  readonly bucketStart: number;
  readonly entries: readonly GroupEntry[];
}

/** What a group adds to its stored bucket item. */
export interface GroupContribution {
  readonly profile: Profile;
  /** Records counted in this bucket: aggregated + quarantined. */
  readonly received: number;
  readonly quarantined: Readonly<Record<string, number>>;
  /** Padded sequence number of the last record included: the new watermark. */
  readonly lastSeq: string;
  /** Entries included (seq above the watermark). */
  readonly applied: number;
}

export interface BatchAccounting {
  readonly records: number;
  readonly predictions: number;
  readonly outcomes: number;
  readonly quarantined: number;
  readonly byReason: Readonly<Partial<Record<QuarantineReason, number>>>;
  /** Quarantined records that name no catalogued model: kept as quarantine items, in no bucket. */
  readonly unattributed: number;
}

const SEQUENCE_WIDTH = 64;
const ZEROS = "0".repeat(SEQUENCE_WIDTH);
/**
 * `s.padStart(64, "0")`, built with `join` so the result is a flat string: a padded concatenation is a rope
 * that V8 flattens (through the runtime) on its first comparison, and every `seq` is compared.
 */
const pad = (s: string) => (s.length >= SEQUENCE_WIDTH ? s : [ZEROS.slice(s.length), s].join(""));
/** Key of a (model, requestId) pair in the batch's lookup maps. */
export const predictionKey = (modelId: string, requestId: string) => `${modelId}\u0000${requestId}`;

/** Start of the event-time bucket containing `timestampMs`. */
export function bucketStartOf(timestampMs: number, bucketMinutes: number): number {
  const width = bucketMinutes * MINUTE_MS;
  return Math.floor(timestampMs / width) * width;
}

/**
 * Validate every record of a batch (in batch order). The feature values of valid predictions go into one
 * `FeatureColumns` per model for the batch (see feature-columns.ts for why).
 */
export function classifyBatch(
  records: readonly IncomingRecord[],
  models: ReadonlyMap<string, CompiledModel>,
  limits: ValidationLimits = DEFAULT_VALIDATION_LIMITS,
): ClassifiedRecord[] {
  const columns = new Map<CompiledModel, FeatureColumns>();
  const initialRows = Math.ceil(records.length / Math.max(1, models.size));
  const columnsOf = (model: CompiledModel): FeatureColumns => {
    let c = columns.get(model);
    if (c === undefined) {
      c = new FeatureColumns(model.layout, initialRows);
      columns.set(model, c);
    }
    return c;
  };
  return records.map((r, index) => ({
    index,
    sequenceNumber: r.sequenceNumber,
    seq: pad(r.sequenceNumber),
    arrivalMs: r.arrivalMs,
    data: r.data,
    result: validateRecordInto(r.data, r.arrivalMs, models, columnsOf, limits),
  }));
}

/** Whether a model keeps the prediction index (and label markers); on unless configured off. */
export function usesPredictionIndex(model: CompiledModel | undefined): boolean {
  return model?.spec.predictionIndex !== false;
}

/**
 * Keys of the stored predictions the batch must look up: every valid prediction (duplicate check) and
 * every label that does not carry both its prediction and its prediction time. Models without a prediction
 * index are not looked up.
 */
export function predictionLookups(
  classified: readonly ClassifiedRecord[],
  models?: ReadonlyMap<string, CompiledModel>,
): Array<{ modelId: string; requestId: string }> {
  return lookupKeys(
    classified,
    models,
    (e) => !(e.type === "label" && e.prediction !== undefined && e.predictionTimestamp !== undefined),
  );
}

/** Keys of the label markers the batch must look up: every valid label of a model with the index. */
export function labelLookups(
  classified: readonly ClassifiedRecord[],
  models?: ReadonlyMap<string, CompiledModel>,
): Array<{ modelId: string; requestId: string }> {
  return lookupKeys(classified, models, (e) => e.type === "label");
}

/** The distinct (model, requestId) keys of the valid events `needed` selects, for models with the index. */
function lookupKeys(
  classified: readonly ClassifiedRecord[],
  models: ReadonlyMap<string, CompiledModel> | undefined,
  needed: (e: ColumnarEvent) => boolean,
): Array<{ modelId: string; requestId: string }> {
  const seen = new Set<string>();
  const out: Array<{ modelId: string; requestId: string }> = [];
  for (const c of classified) {
    if (!c.result.ok) continue;
    const e = c.result.event;
    if (!needed(e)) continue;
    if (models && !usesPredictionIndex(models.get(e.modelId))) continue;
    const key = predictionKey(e.modelId, e.requestId);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ modelId: e.modelId, requestId: e.requestId });
  }
  return out;
}

/** Index stored predictions (or label markers) for `resolveBatch`. */
export function indexPredictions<T extends { modelId: string; requestId: string }>(
  stored: Iterable<T>,
): Map<string, T> {
  const out = new Map<string, T>();
  for (const p of stored) out.set(predictionKey(p.modelId, p.requestId), p);
  return out;
}

/**
 * Decide each record's fate given the stored predictions found by `predictionLookups` (see the two rules
 * in the module comment). Duplicate predictions and labels with no usable prediction become quarantine
 * dispositions.
 */
export function resolveBatch(
  classified: readonly ClassifiedRecord[],
  shardId: string,
  stored: ReadonlyMap<string, StoredPrediction>,
  models: ReadonlyMap<string, CompiledModel>,
  storedLabels: ReadonlyMap<string, StoredLabel> = new Map(),
): ResolvedRecord[] {
  const inBatch = new Map<string, ColumnarPrediction>();
  // Padded sequence numbers of the batch's first prediction and counted label per key: a duplicate's
  // detail names the record it duplicates, wherever that was found (in this batch, or in storage after
  // a retry), so a redelivery rewrites its quarantine item with the same detail.
  const predictedAt = new Map<string, string>();
  const labelledInBatch = new Map<string, string>();
  const precedes = (s: { shardId: string; seq: string }, seq: string) =>
    !(s.shardId === shardId && s.seq >= seq);
  const record = (shard: string, seq: string) => `${shard}/${seq.replace(/^0+/, "")}`;
  const out: ResolvedRecord[] = [];
  for (const c of classified) {
    const r = c.result;
    if (!r.ok) {
      out.push(withDisposition(c, { kind: "quarantine", ...verdictFields(r) }));
      continue;
    }
    const e = r.event;
    const key = predictionKey(e.modelId, e.requestId);
    const s = stored.get(key);
    const usable = s !== undefined && precedes(s, c.seq) ? s : undefined;
    if (e.type === "prediction") {
      const first = predictedAt.get(key);
      if (first !== undefined || usable) {
        const by = usable ? record(usable.shardId, usable.seq) : record(shardId, first!);
        out.push(
          withDisposition(c, quarantine("duplicate-request-id", `requestId already predicted by ${by}`, e)),
        );
        continue;
      }
      inBatch.set(key, e);
      predictedAt.set(key, c.seq);
      const indexed = s !== undefined && s.shardId === shardId && s.seq === c.seq;
      out.push(
        withDisposition(
          c,
          indexed ? { kind: "prediction", event: e, indexed } : { kind: "prediction", event: e },
        ),
      );
      continue;
    }
    const model = models.get(e.modelId)!;
    const found = inBatch.get(key) ?? usable;
    let prediction: number | string;
    let score: number | undefined;
    let predictionTimestamp: number;
    let joined = false;
    if (e.prediction !== undefined) {
      prediction = e.prediction;
      score = e.score;
      predictionTimestamp = e.predictionTimestamp ?? found?.timestamp ?? e.timestamp;
    } else if (found) {
      prediction = found.prediction;
      score = found.score;
      predictionTimestamp = found.timestamp;
      joined = !inBatch.has(key);
    } else {
      const detail = usesPredictionIndex(model)
        ? "no earlier prediction found"
        : "no earlier prediction in this batch (the prediction index is off for this model)";
      out.push(withDisposition(c, quarantine("label-without-prediction", detail, e)));
      continue;
    }
    const horizonMs = model.spec.labelHorizonHours * HOUR_MS;
    if (e.timestamp - predictionTimestamp > horizonMs) {
      const detail = `label ${e.timestamp - predictionTimestamp} ms after its prediction, horizon ${horizonMs} ms`;
      out.push(withDisposition(c, quarantine("label-without-prediction", detail, e)));
      continue;
    }
    // A requestId's label counts once: a resent label is a duplicate (same rules as predictions).
    const marker = storedLabels.get(key);
    const labelledAt = labelledInBatch.get(key);
    if (labelledAt !== undefined || (marker !== undefined && precedes(marker, c.seq))) {
      const by =
        labelledAt !== undefined ? record(shardId, labelledAt) : record(marker!.shardId, marker!.seq);
      out.push(withDisposition(c, quarantine("duplicate-request-id", `label already counted by ${by}`, e)));
      continue;
    }
    labelledInBatch.set(key, c.seq);
    const outcome: Mutable<Extract<Disposition, { kind: "outcome" }>> = {
      kind: "outcome",
      event: e,
      prediction,
      predictionTimestamp,
      joined,
    };
    if (score !== undefined) outcome.score = score;
    if (marker !== undefined && marker.shardId === shardId && marker.seq === c.seq) outcome.marked = true;
    out.push(withDisposition(c, outcome));
  }
  return out;
}

function withDisposition(c: ClassifiedRecord, disposition: Disposition): ResolvedRecord {
  return {
    index: c.index,
    sequenceNumber: c.sequenceNumber,
    seq: c.seq,
    arrivalMs: c.arrivalMs,
    data: c.data,
    result: c.result,
    disposition,
  };
}

function verdictFields(r: Extract<ColumnarResult, { ok: false }>) {
  return {
    reason: r.reason,
    detail: r.detail,
    ...(r.modelId !== undefined ? { modelId: r.modelId } : {}),
    ...(r.timestamp !== undefined ? { timestamp: r.timestamp } : {}),
  };
}

function quarantine(
  reason: QuarantineReason,
  detail: string,
  e: { modelId: string; timestamp: number },
): Disposition {
  return { kind: "quarantine", reason, detail, modelId: e.modelId, timestamp: e.timestamp };
}

/**
 * Group resolved records by (model, event-time bucket). Predictions go to the bucket of their event time,
 * outcomes to the bucket of their prediction's event time, attributed quarantine verdicts to the bucket of
 * the event time (or the arrival time when the event time is unusable). Unattributed verdicts (no known
 * model) are in no group.
 */
export function groupBatch(
  resolved: readonly ResolvedRecord[],
  models: ReadonlyMap<string, CompiledModel>,
): IngestGroup[] {
  type Group = { modelId: string; bucketStart: number; entries: GroupEntry[] };
  // Groups in order of first appearance; found by model, then bucket start (no key string per record).
  const ordered: Group[] = [];
  const byModel = new Map<string, Map<number, Group>>();
  let last: Group | undefined;
  for (const r of resolved) {
    const d = r.disposition;
    let modelId: string;
    let time: number;
    if (d.kind === "prediction") {
      modelId = d.event.modelId;
      time = d.event.timestamp;
    } else if (d.kind === "outcome") {
      modelId = d.event.modelId;
      time = d.predictionTimestamp;
    } else {
      if (d.modelId === undefined) continue;
      modelId = d.modelId;
      time = d.timestamp ?? r.arrivalMs;
    }
    const model = models.get(modelId);
    if (!model) continue;
    const bucketStart = bucketStartOf(time, model.spec.bucketMinutes);
    let g = last;
    if (g === undefined || g.bucketStart !== bucketStart || g.modelId !== modelId) {
      let buckets = byModel.get(modelId);
      if (!buckets) {
        buckets = new Map();
        byModel.set(modelId, buckets);
      }
      g = buckets.get(bucketStart);
      if (!g) {
        g = { modelId, bucketStart, entries: [] };
        buckets.set(bucketStart, g);
        ordered.push(g);
      }
      last = g;
    }
    g.entries.push({ seq: r.seq, disposition: d });
  }
  return ordered;
}

/**
 * The contribution of a group's records above the stored watermark `afterSeq` (undefined: nothing stored
 * yet). Undefined when every record was applied before (a redelivery).
 */
export function groupContribution(
  group: IngestGroup,
  spec: ProfileSpec,
  afterSeq?: string,
): GroupContribution | undefined {
  let profile: Profile | undefined;
  const quarantined: Record<string, number> = {};
  let received = 0;
  let lastSeq = "";
  // Runs of predictions sharing their batch columns (one run unless groups of several batches are mixed).
  let predictions: ColumnarPrediction[] = [];
  const flush = () => {
    if (predictions.length > 0) addPredictionRows(profile!, predictions[0]!.columns, predictions);
    predictions = [];
  };
  for (const entry of group.entries) {
    if (afterSeq !== undefined && entry.seq <= afterSeq) continue;
    profile ??= emptyProfile(spec);
    received++;
    if (entry.seq > lastSeq) lastSeq = entry.seq;
    const d = entry.disposition;
    if (d.kind === "prediction") {
      if (predictions.length > 0 && predictions[0]!.columns !== d.event.columns) flush();
      predictions.push(d.event);
    } else if (d.kind === "outcome") {
      addOutcome(profile, {
        prediction: d.prediction,
        ...(d.score !== undefined ? { score: d.score } : {}),
        label: d.event.label,
      });
    } else {
      quarantined[d.reason] = (quarantined[d.reason] ?? 0) + 1;
    }
  }
  if (!profile) return undefined;
  flush();
  return { profile, received, quarantined, lastSeq, applied: received };
}

/** Count every record of the batch exactly once: records = predictions + outcomes + quarantined. */
export function accountBatch(resolved: readonly ResolvedRecord[]): BatchAccounting {
  let predictions = 0;
  let outcomes = 0;
  let quarantined = 0;
  let unattributed = 0;
  const byReason: Partial<Record<QuarantineReason, number>> = {};
  for (const r of resolved) {
    const d = r.disposition;
    if (d.kind === "prediction") predictions++;
    else if (d.kind === "outcome") outcomes++;
    else {
      quarantined++;
      byReason[d.reason] = (byReason[d.reason] ?? 0) + 1;
      if (d.modelId === undefined) unattributed++;
    }
  }
  return { records: resolved.length, predictions, outcomes, quarantined, byReason, unattributed };
}
