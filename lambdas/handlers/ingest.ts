/**
 * Ingest Lambda (Kinesis event source mapping with `ReportBatchItemFailures`): validates each record,
 * quarantines bad ones, joins labels with their predictions, and merges the batch into per-(model, bucket,
 * shard) profiles exactly once. Composition root: builds the DynamoDB adapters and Powertools utilities
 * and calls the pure domain (event-validation.ts, ingest-batch.ts).
 *
 * Why not Powertools' `BatchProcessor`: it handles records one at a time, which would mean one statistics
 * write per event. Here the whole batch is aggregated first and the partial-failure response is computed
 * from which groups and items could not be persisted: the first record not yet persisted is reported, so
 * Lambda retries from there and the watermarks make the retry skip what was already applied.
 *
 * Environment: `TABLE_NAME`, optional
 * `MAX_RECORD_BYTES`, `MAX_FUTURE_SKEW_SECONDS`, `STATS_RETENTION_DAYS`, `QUARANTINE_RETENTION_DAYS`.
 */

import { Logger } from "@aws-lambda-powertools/logger";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import { Tracer } from "@aws-lambda-powertools/tracer";
import { captureLambdaHandler } from "@aws-lambda-powertools/tracer/middleware";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import middy from "@middy/core";
import type { Context, KinesisStreamBatchResponse, KinesisStreamEvent } from "aws-lambda";
import type { ProfileSpec } from "../../contracts/model";
import { profileSpecOf } from "../../contracts/model";
import {
  DIAGNOSTIC_METRIC_NAMES,
  METRIC_NAMES,
  METRICS_NAMESPACE,
  SERVICE_NAMES,
  UNKNOWN_MODEL_ID,
} from "../../contracts/telemetry";
import { DynamoDbPredictionIndex } from "../adapters/dynamodb-prediction-index";
import { DynamoDbQuarantineStore } from "../adapters/dynamodb-quarantine-store";
import { DynamoDbStatsRepository } from "../adapters/dynamodb-stats-repository";
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
} from "../domain/ingest/batch";
import {
  compileModels,
  DEFAULT_VALIDATION_LIMITS,
  type IngestModel,
  type ValidationLimits,
} from "../domain/ingest/event-validation";
import type { Mutable } from "../domain/ingest/mutable";
import type {
  BucketStatsStore,
  LabelMarker,
  PredictionIndex,
  PredictionRecord,
  QuarantineRecord,
  QuarantineStore,
} from "../ports/stats-repository";
import { loadModelCatalog } from "./model-catalog";

/** Storage the ingest writes to; defaults to the DynamoDB adapters over `dynamodb` + `tableName`. */
export interface IngestStores {
  readonly stats: BucketStatsStore;
  readonly predictions: PredictionIndex;
  readonly quarantine: QuarantineStore;
}

export interface IngestHandlerDeps {
  /** Models the ingest accepts (the bundled model catalog's models). */
  readonly models: readonly IngestModel[];
  readonly dynamodb?: DynamoDBClient;
  readonly tableName?: string;
  /** Overrides the DynamoDB adapters (benchmarks, tests). */
  readonly stores?: IngestStores;
  /** @default DEFAULT_VALIDATION_LIMITS */
  readonly limits?: ValidationLimits;
  /** @default 14 */
  readonly quarantineRetentionDays?: number;
  /**
   * Wall clock, only used to log how far behind the stream the batch is (validation uses the records'
   * arrival times, never the clock, so that redeliveries get the same verdicts). @default Date.now
   */
  readonly clock?: () => number;
  readonly logger?: Logger;
  readonly metrics?: Metrics;
  readonly tracer?: Tracer;
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

/** Validation limits from the environment, defaults for what is unset. */
export function limitsFromEnv(env: Readonly<Record<string, string | undefined>>): ValidationLimits {
  const num = (name: string) => (env[name] ? Number(env[name]) : undefined);
  return {
    maxRecordBytes: num("MAX_RECORD_BYTES") ?? DEFAULT_VALIDATION_LIMITS.maxRecordBytes,
    maxFutureSkewMs:
      (num("MAX_FUTURE_SKEW_SECONDS") ?? DEFAULT_VALIDATION_LIMITS.maxFutureSkewMs / 1000) * 1000,
    retentionMs:
      (num("STATS_RETENTION_DAYS") ?? DEFAULT_VALIDATION_LIMITS.retentionMs / 86_400_000) * 86_400_000,
  };
}

/** The shard of a batch: every record of an ESM batch comes from the same shard. */
function shardOf(event: KinesisStreamEvent): string {
  const id = event.Records[0]?.eventID ?? "";
  const colon = id.indexOf(":");
  return colon > 0 ? id.slice(0, colon) : "shardId-unknown";
}

/**
 * Build the batch function (no middy, no Powertools): `ingest(event)` validates, resolves, persists and
 * returns the report. Exposed for benchmarks and local tools that want the figures.
 */
export function createIngestBatch(
  deps: IngestHandlerDeps,
): (event: KinesisStreamEvent) => Promise<IngestReport> {
  const models = compileModels(deps.models);
  const specs = new Map<string, ProfileSpec>(deps.models.map((m) => [m.id, profileSpecOf(m)]));
  const limits = deps.limits ?? DEFAULT_VALIDATION_LIMITS;
  const stores = deps.stores ?? defaultStores(deps);

  return async (event) => {
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
      deps.logger?.warn("prediction lookup failed; retrying the whole batch", { error: error as Error });
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
        const horizonMs = model!.spec.labelHorizonHours * 3_600_000;
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
          expiresAtMs: d.predictionTimestamp + model!.spec.labelHorizonHours * 3_600_000,
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
        deps.logger?.warn("bucket merge failed", {
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
}

function defaultStores(deps: IngestHandlerDeps): IngestStores {
  if (!deps.dynamodb || !deps.tableName)
    throw new Error("ingest: dynamodb and tableName (or stores) are required");
  const base = { client: deps.dynamodb, tableName: deps.tableName };
  return {
    stats: new DynamoDbStatsRepository(base),
    predictions: new DynamoDbPredictionIndex(base),
    quarantine: new DynamoDbQuarantineStore({
      ...base,
      ...(deps.quarantineRetentionDays !== undefined ? { retentionDays: deps.quarantineRetentionDays } : {}),
    }),
  };
}

/**
 * Emit the per-model counters (dimension `modelId`; quarantines also by `modelId` + `reason`). Metrics are
 * at-least-once (a redelivered batch is counted again); the stored statistics are the exactly-once truth.
 */
function emitMetrics(metrics: Metrics, perModel: ReadonlyMap<string, PerModelCounts>): void {
  // A single metric publishes (and clears its dimensions) on each addMetric: one instance per value.
  const emit = (name: string, value: number, modelId: string, reason?: string) => {
    const m = metrics.singleMetric();
    m.addDimension("modelId", modelId);
    if (reason !== undefined) m.addDimensions({ modelId, reason });
    m.addMetric(name, MetricUnit.Count, value);
  };
  for (const [modelId, c] of perModel) {
    emit(METRIC_NAMES.recordsReceived, c.received, modelId);
    if (c.predictions) emit(METRIC_NAMES.predictionsIngested, c.predictions, modelId);
    if (c.labels) emit(METRIC_NAMES.labelsIngested, c.labels, modelId);
    if (c.labelsJoined) emit(DIAGNOSTIC_METRIC_NAMES.labelsJoined, c.labelsJoined, modelId);
    for (const [reason, n] of Object.entries(c.quarantined) as Array<[string, number]>) {
      emit(METRIC_NAMES.recordsQuarantined, n, modelId, reason);
    }
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

/**
 * The middy-wrapped Lambda handler with injected dependencies (tests and local mode pass emulator clients,
 * a catalog and a clock). Middleware order as in Powertools' examples: tracer, logger, metrics.
 */
export function createIngestHandler(deps: IngestHandlerDeps) {
  const logger = deps.logger ?? new Logger({ serviceName: SERVICE_NAMES.ingest });
  const metrics =
    deps.metrics ?? new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAMES.ingest });
  const tracer = deps.tracer ?? new Tracer({ serviceName: SERVICE_NAMES.ingest });
  const ingest = createIngestBatch({ ...deps, logger });
  const clock = deps.clock ?? Date.now;
  const base = async (event: KinesisStreamEvent, _context: Context): Promise<KinesisStreamBatchResponse> => {
    const report = await ingest(event);
    metrics.addMetric(DIAGNOSTIC_METRIC_NAMES.batchRecords, MetricUnit.Count, report.accounting.records);
    emitMetrics(metrics, report.perModel);
    const oldestArrival = event.Records.reduce(
      (min, r) => Math.min(min, r.kinesis.approximateArrivalTimestamp * 1000),
      Number.POSITIVE_INFINITY,
    );
    logger.info("batch ingested", {
      records: report.accounting.records,
      lagMs: Number.isFinite(oldestArrival) ? Math.round(clock() - oldestArrival) : 0,
      quarantined: report.accounting.quarantined,
      groups: report.groups,
      groupsSkipped: report.groupsSkipped,
      groupsFailed: report.groupsFailed,
      failedFrom: report.failedFrom,
    });
    return report.response;
  };
  return middy(base)
    .use(captureLambdaHandler(tracer))
    .use(injectLambdaContext(logger))
    .use(logMetrics(metrics, { captureColdStartMetric: true }));
}

let singleton: ReturnType<typeof createIngestHandler> | undefined;

/** The deployed handler: dependencies from the environment, built once per container on first use. */
export const handler = (event: KinesisStreamEvent, context: Context): Promise<KinesisStreamBatchResponse> => {
  if (!singleton) {
    const tracer = new Tracer({ serviceName: SERVICE_NAMES.ingest });
    const dynamodb = tracer.captureAWSv3Client(new DynamoDBClient({}));
    const env = process.env;
    if (!env.TABLE_NAME) throw new Error("ingest: TABLE_NAME must be set");
    singleton = createIngestHandler({
      models: loadModelCatalog(env).models,
      dynamodb,
      tableName: env.TABLE_NAME,
      limits: limitsFromEnv(env),
      ...(env.QUARANTINE_RETENTION_DAYS
        ? { quarantineRetentionDays: Number(env.QUARANTINE_RETENTION_DAYS) }
        : {}),
      tracer,
    });
  }
  return singleton(event, context);
};
