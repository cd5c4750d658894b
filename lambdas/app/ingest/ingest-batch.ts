/**
 * The ingest use case: one Kinesis batch (every record from one shard, in order) is validated, bad
 * records are quarantined with a reason, labels are joined with their predictions, and the batch is
 * merged into per-(model, bucket, shard) profiles exactly once. The partial-failure answer names the
 * first record not yet persisted, so the event source mapping retries from there and the sequence
 * watermarks make the retry skip what was already applied.
 *
 * Why not Powertools' `BatchProcessor`: it handles records one at a time, which would mean one statistics
 * write per event. Here the whole batch is aggregated first.
 */
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from "aws-lambda";
import type { ProfileSpec } from "../../../contracts/model";
import { profileSpecOf } from "../../../contracts/model";
import { DIAGNOSTIC_METRIC_NAMES, METRIC_NAMES, UNKNOWN_MODEL_ID } from "../../../contracts/telemetry";
import { HOUR_MS } from "../../../contracts/time";
import {
  accountBatch,
  type BatchAccounting,
  classifyBatch,
  groupBatch,
  type IncomingRecord,
  indexPredictions,
  labelLookups,
  predictionKey,
  predictionLookups,
  type ResolvedRecord,
  resolveBatch,
  type StoredLabel,
  type StoredPrediction,
  usesPredictionIndex,
} from "../../domain/ingest/batch";
import {
  compileModels,
  DEFAULT_VALIDATION_LIMITS,
  type IngestModel,
  type ValidationLimits,
} from "../../domain/ingest/event-validation";
import type { Mutable } from "../../domain/ingest/mutable";
import type {
  BucketStatsStore,
  LabelMarker,
  PredictionIndex,
  PredictionRecord,
  QuarantineRecord,
  QuarantineStore,
} from "../../ports/stats-repository";
import { type Log, NO_TELEMETRY, SILENT_LOG, type Telemetry } from "../../ports/telemetry";

/** Storage the ingest writes to; defaults to the DynamoDB adapters over `dynamodb` + `tableName`. */
export interface IngestStores {
  readonly stats: BucketStatsStore;
  readonly predictions: PredictionIndex;
  readonly quarantine: QuarantineStore;
}

export interface IngestDeps {
  /** Models the ingest accepts (the bundled model catalog's models). */
  readonly models: readonly IngestModel[];
  readonly stores: IngestStores;
  /** @default DEFAULT_VALIDATION_LIMITS */
  readonly limits?: ValidationLimits;
  /** Per-model counters (at-least-once). @default NO_TELEMETRY */
  readonly telemetry?: Telemetry;
  /** @default SILENT_LOG */
  readonly log?: Log;
  /**
   * Wall clock, only used to log how far behind the stream the batch is (validation uses the records'
   * arrival times, never the clock, so that redeliveries get the same verdicts). @default Date.now
   */
  readonly clock?: () => number;
}

/** What one invocation did; returned by `ingestBatch` for tests, benchmarks and logs. */
export interface IngestReport {
  readonly response: KinesisStreamBatchResponse;
  readonly accounting: BatchAccounting;
  readonly groups: number;
  readonly groupsApplied: number;
  readonly groupsSkipped: number;
  readonly groupsFailed: number;
  readonly labelsJoined: number;
  /** Sequence number reported as failed (Lambda retries from it), if any. */
  readonly failedFrom?: string;
  /** Per-model counts of the records persisted by this invocation (those before `failedFrom`). */
  readonly perModel: ReadonlyMap<string, PerModelCounts>;
}

/** Per-model counters of one invocation, as emitted in metrics. */
export interface PerModelCounts {
  received: number;
  predictions: number;
  labels: number;
  labelsJoined: number;
  quarantined: Record<string, number>;
}

/** The shard of a batch: every record of an ESM batch comes from the same shard. */
function shardOf(event: KinesisStreamEvent): string {
  const id = event.Records[0]?.eventID ?? "";
  const colon = id.indexOf(":");
  return colon > 0 ? id.slice(0, colon) : "shardId-unknown";
}

/**
 * The ingest use case over its ports: `ingest(event)` validates, resolves, persists, reports per-model
 * counters and a log line, and returns what it did (the handler answers the event source mapping with
 * `report.response`).
 */
export function createIngestBatch(deps: IngestDeps): (event: KinesisStreamEvent) => Promise<IngestReport> {
  const models = compileModels(deps.models);
  const specs = new Map<string, ProfileSpec>(deps.models.map((m) => [m.id, profileSpecOf(m)]));
  const limits = deps.limits ?? DEFAULT_VALIDATION_LIMITS;
  const stores = deps.stores;
  const log = deps.log ?? SILENT_LOG;

  const ingest = async (event: KinesisStreamEvent): Promise<IngestReport> => {
    const records = event.Records;
    const shardId = shardOf(event);
    const incoming: IncomingRecord[] = records.map((r) => ({
      sequenceNumber: r.kinesis.sequenceNumber,
      arrivalMs: Math.round(r.kinesis.approximateArrivalTimestamp * 1000),
      data: r.kinesis.data,
    }));
    const classified = classifyBatch(incoming, models, limits);
    let stored: StoredPrediction[];
    let storedLabels: StoredLabel[];
    try {
      [stored, storedLabels] = await Promise.all([
        stores.predictions.find(predictionLookups(classified, models)),
        stores.predictions.findLabels(labelLookups(classified, models)),
      ]);
    } catch (error) {
      log.warn("prediction lookup failed; retrying the whole batch", { error: error as Error });
      const first = records[0]?.kinesis.sequenceNumber;
      const resolved: ResolvedRecord[] = [];
      return {
        response: { batchItemFailures: first ? [{ itemIdentifier: first }] : [] },
        accounting: accountBatch(resolved),
        groups: 0,
        groupsApplied: 0,
        groupsSkipped: 0,
        groupsFailed: 0,
        labelsJoined: 0,
        perModel: new Map(),
        ...(first ? { failedFrom: first } : {}),
      };
    }
    const resolved = resolveBatch(
      classified,
      shardId,
      indexPredictions(stored),
      models,
      indexPredictions(storedLabels),
    );
    const groups = groupBatch(resolved, models);

    const newPredictions: PredictionRecord[] = [];
    const newLabels: LabelMarker[] = [];
    const quarantined: QuarantineRecord[] = [];
    let labelsJoined = 0;
    for (const r of resolved) {
      const d = r.disposition;
      if (d.kind === "prediction") {
        const model = models.get(d.event.modelId);
        if (d.indexed || !usesPredictionIndex(model)) continue;
        const e = d.event;
        const horizonMs = model!.spec.labelHorizonHours * HOUR_MS;
        // Built without a conditional spread: once per prediction on the hot path.
        const p: Mutable<PredictionRecord> = {
          modelId: e.modelId,
          requestId: e.requestId,
          prediction: e.prediction,
          timestamp: e.timestamp,
          shardId,
          seq: r.seq,
          expiresAtMs: e.timestamp + horizonMs,
        };
        if (e.score !== undefined) p.score = e.score;
        newPredictions.push(p);
      } else if (d.kind === "quarantine") {
        quarantined.push({
          shardId,
          sequenceNumber: r.sequenceNumber,
          arrivalMs: r.arrivalMs,
          reason: d.reason,
          detail: d.detail,
          ...(d.modelId !== undefined ? { modelId: d.modelId } : {}),
          data: r.data,
        });
      } else {
        if (d.joined) labelsJoined++;
        const model = models.get(d.event.modelId);
        if (d.marked || !usesPredictionIndex(model)) continue;
        newLabels.push({
          modelId: d.event.modelId,
          requestId: d.event.requestId,
          shardId,
          seq: r.seq,
          expiresAtMs: d.predictionTimestamp + model!.spec.labelHorizonHours * HOUR_MS,
        });
      }
    }

    const [predictionsSaved, labelsSaved, quarantineSaved, applied] = await Promise.all([
      stores.predictions.save(newPredictions),
      stores.predictions.saveLabels(newLabels),
      stores.quarantine.save(quarantined),
      stores.stats.applyGroups(shardId, groups, specs),
    ]);

    // The first record not yet persisted: everything at or after it is redelivered, and skipped where done.
    let failedSeq: string | undefined;
    const fail = (seq: string | undefined) => {
      if (seq !== undefined && (failedSeq === undefined || seq < failedSeq)) failedSeq = seq;
    };
    // Failures are rare: the lookups from a failed item back to its record's sequence number (keyed by
    // strings built per record) are built only when some item failed.
    // Index items (predictions, label markers) back to the record that wrote them.
    const failWritersOf = (
      failed: ReadonlyArray<{ modelId: string; requestId: string }>,
      kind: "prediction" | "outcome",
    ) => {
      if (failed.length === 0) return;
      const seqByKey = new Map<string, string>();
      for (const r of resolved) {
        const d = r.disposition;
        if (d.kind === kind) seqByKey.set(predictionKey(d.event.modelId, d.event.requestId), r.seq);
      }
      for (const f of failed) fail(seqByKey.get(predictionKey(f.modelId, f.requestId)));
    };
    failWritersOf(predictionsSaved.failed, "prediction");
    failWritersOf(labelsSaved.failed, "outcome");
    if (quarantineSaved.failed.length > 0) {
      const bySeq = new Map<string, ResolvedRecord>();
      for (const r of resolved) bySeq.set(r.sequenceNumber, r);
      for (const q of quarantineSaved.failed) fail(bySeq.get(q.sequenceNumber)?.seq);
    }
    let groupsApplied = 0;
    let groupsSkipped = 0;
    let groupsFailed = 0;
    for (const a of applied) {
      if (a.status === "applied") groupsApplied++;
      else if (a.status === "skipped") groupsSkipped++;
      else {
        groupsFailed++;
        log.warn("bucket merge failed", {
          modelId: a.group.modelId,
          bucketStart: a.group.bucketStart,
          error: a.error as Error,
        });
        fail(a.group.entries[0]?.seq);
      }
    }
    const failedRecord = failedSeq === undefined ? undefined : resolved.find((r) => r.seq === failedSeq);
    return {
      response: { batchItemFailures: failedRecord ? [{ itemIdentifier: failedRecord.sequenceNumber }] : [] },
      accounting: accountBatch(resolved),
      groups: groups.length,
      groupsApplied,
      groupsSkipped,
      groupsFailed,
      labelsJoined,
      perModel: countPerModel(resolved, failedSeq),
      ...(failedRecord ? { failedFrom: failedRecord.sequenceNumber } : {}),
    };
  };

  const telemetry = deps.telemetry ?? NO_TELEMETRY;
  const clock = deps.clock ?? Date.now;
  return async (event) => {
    const report = await ingest(event);
    telemetry.count(DIAGNOSTIC_METRIC_NAMES.batchRecords, report.accounting.records);
    emitPerModel(telemetry, report.perModel);
    const oldestArrival = event.Records.reduce(
      (min, r) => Math.min(min, r.kinesis.approximateArrivalTimestamp * 1000),
      Number.POSITIVE_INFINITY,
    );
    log.info("batch ingested", {
      records: report.accounting.records,
      lagMs: Number.isFinite(oldestArrival) ? Math.round(clock() - oldestArrival) : 0,
      quarantined: report.accounting.quarantined,
      groups: report.groups,
      groupsSkipped: report.groupsSkipped,
      groupsFailed: report.groupsFailed,
      failedFrom: report.failedFrom,
    });
    return report;
  };
}

/**
 * Per-model counters (dimension `modelId`; quarantines also by `reason`). At-least-once: a redelivered
 * batch is counted again; the stored statistics are the exactly-once truth.
 */
function emitPerModel(telemetry: Telemetry, perModel: ReadonlyMap<string, PerModelCounts>): void {
  for (const [modelId, counts] of perModel) {
    const dims = { modelId };
    telemetry.count(METRIC_NAMES.recordsReceived, counts.received, dims);
    if (counts.predictions) telemetry.count(METRIC_NAMES.predictionsIngested, counts.predictions, dims);
    if (counts.labels) telemetry.count(METRIC_NAMES.labelsIngested, counts.labels, dims);
    if (counts.labelsJoined) telemetry.count(DIAGNOSTIC_METRIC_NAMES.labelsJoined, counts.labelsJoined, dims);
    for (const [reason, n] of Object.entries(counts.quarantined))
      telemetry.count(METRIC_NAMES.recordsQuarantined, n, dims, { modelId, reason });
  }
}

/** Per-model counts of the records before `failedFrom` (those are persisted; the rest will be retried). */
export function countPerModel(
  resolved: readonly ResolvedRecord[],
  failedSeq?: string,
): Map<string, PerModelCounts> {
  const out = new Map<string, PerModelCounts>();
  for (const r of resolved) {
    if (failedSeq !== undefined && r.seq >= failedSeq) break;
    const d = r.disposition;
    const modelId = d.kind === "quarantine" ? (d.modelId ?? UNKNOWN_MODEL_ID) : d.event.modelId;
    let c = out.get(modelId);
    if (!c) {
      c = { received: 0, predictions: 0, labels: 0, labelsJoined: 0, quarantined: {} };
      out.set(modelId, c);
    }
    c.received++;
    if (d.kind === "prediction") c.predictions++;
    else if (d.kind === "outcome") {
      c.labels++;
      if (d.joined) c.labelsJoined++;
    } else c.quarantined[d.reason] = (c.quarantined[d.reason] ?? 0) + 1;
  }
  return out;
}
