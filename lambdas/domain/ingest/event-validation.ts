/**
 * Decoding and validation of one Kinesis record into a schema-v1 event, or a quarantine verdict with a
 * reason code. Pure: the model catalog, the limits and the reference time are arguments.
 *
 * The reference time for "too far in the future" and "older than retention" is the record's Kinesis
 * arrival time, not the wall clock: a record redelivered hours later must get the same verdict, or a
 * redelivery could change the stored statistics.
 */
import { isUtf8 } from "node:buffer";
import type { FeatureValue, LabelEvent, ModelEvent, PredictionEvent } from "../../../contracts/events";
import type { RuntimeModel, TaskType } from "../../../contracts/model";
import { DAY_MS, MINUTE_MS } from "../../../contracts/time";
import { type ColumnLayout, columnLayout, type FeatureColumns } from "../stats/feature-columns";
import type { Mutable } from "./mutable";

/**
 * Why a record was quarantined. One code per failure mode, stable: codes are metric dimension values, keys
 * of the per-bucket `quarantined` counters and the `reason` of quarantine items.
 */
export const QUARANTINE_REASONS = [
  "invalid-encoding",
  "invalid-json",
  "not-an-object",
  "invalid-type",
  "unsupported-schema-version",
  "unknown-model",
  "missing-request-id",
  "invalid-timestamp",
  "timestamp-in-future",
  "timestamp-too-old",
  "features-not-object",
  "feature-type-mismatch",
  "unknown-feature",
  "non-finite-number",
  "record-too-large",
  "invalid-prediction",
  "invalid-label",
  "duplicate-request-id",
  "label-without-prediction",
] as const;
export type QuarantineReason = (typeof QUARANTINE_REASONS)[number];

/** The part of a runtime model (contracts/model.ts) the ingest reads. */
export type IngestModel = Pick<
  RuntimeModel,
  "id" | "task" | "classes" | "features" | "labelHorizonHours" | "bucketMinutes" | "predictionIndex"
>;

/** Limits applied on validation (deployment configuration `ingest` section). */
export interface ValidationLimits {
  /** Largest accepted record payload in bytes (decoded). */
  readonly maxRecordBytes: number;
  /** How far an event time may lie after the record's arrival time (producer clock skew). */
  readonly maxFutureSkewMs: number;
  /** Events older than this, relative to arrival, are outside the statistics' retention. */
  readonly retentionMs: number;
}

/** Defaults for `ValidationLimits`: 64 KiB records, 5 minutes of clock skew, 30 days of retention. */
export const DEFAULT_VALIDATION_LIMITS: ValidationLimits = {
  maxRecordBytes: 64 * 1024,
  maxFutureSkewMs: 5 * MINUTE_MS,
  retentionMs: 30 * DAY_MS,
};

/** A model spec with its feature schema indexed for the hot path. */
export interface CompiledModel {
  readonly spec: IngestModel;
  /** Feature name -> column slot (numeric k >= 0, categorical ~j): also the schema lookup. */
  readonly layout: ColumnLayout;
}

/** Index the catalog once per Lambda container, not per record. */
export function compileModels(specs: readonly IngestModel[]): ReadonlyMap<string, CompiledModel> {
  const out = new Map<string, CompiledModel>();
  for (const spec of specs) out.set(spec.id, { spec, layout: columnLayout(spec.features) });
  return out;
}

export interface ValidatedRecord {
  readonly ok: true;
  readonly event: ModelEvent;
}

export interface QuarantineVerdict {
  readonly ok: false;
  readonly reason: QuarantineReason;
  /** Human-readable detail for logs and the quarantine item (which field, which value). */
  readonly detail: string;
  /** Known when the record named a catalogued model: the verdict is then counted in its statistics. */
  readonly modelId?: string;
  /** Event time when it was parseable, epoch ms: places the count in a bucket. */
  readonly timestamp?: number;
}

export type ValidationResult = ValidatedRecord | QuarantineVerdict;

/** A valid prediction whose feature values went into a batch's columns (`validateRecordInto`). */
export interface ColumnarPrediction extends Omit<PredictionEvent, "features"> {
  readonly columns: FeatureColumns;
  /** The prediction's row in `columns`. */
  readonly row: number;
}

export type ColumnarEvent = ColumnarPrediction | LabelEvent;

export type ColumnarResult = { readonly ok: true; readonly event: ColumnarEvent } | QuarantineVerdict;

/** Where `validateRecordInto` writes a model's feature values. */
export type ColumnsOf = (model: CompiledModel) => FeatureColumns;

const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/;
/** Python's json.dumps writes NaN/Infinity by default: recognize them to give the precise reason. */
const NON_FINITE_TOKEN = /([:[,]\s*)(?:NaN|-?Infinity)(?=\s*[,}\]])/g;

const reject = (
  reason: QuarantineReason,
  detail: string,
  modelId?: string,
  timestamp?: number,
): QuarantineVerdict => ({
  ok: false,
  reason,
  detail,
  ...(modelId !== undefined ? { modelId } : {}),
  ...(timestamp !== undefined ? { timestamp } : {}),
});

/** Reused decode buffer (grows to the largest record seen; the Lambda runtime is single-threaded). */
let scratch = Buffer.allocUnsafe(16 * 1024);

/**
 * Per column layout, the feature names in the order the last events listed them, with their slots: events
 * from one producer list their features in the same order, so the slot of the i-th key is found by comparing
 * it with the i-th remembered name (interned strings: a pointer comparison) instead of a hash lookup.
 */
interface SlotMemo {
  readonly names: string[];
  readonly slots: number[];
}
const slotMemos = new WeakMap<ColumnLayout, SlotMemo>();

function slotMemo(layout: ColumnLayout): SlotMemo {
  let memo = slotMemos.get(layout);
  if (memo === undefined) {
    memo = { names: [], slots: [] };
    slotMemos.set(layout, memo);
  }
  return memo;
}

/** Decoded size of a base64 string, without decoding it. */
function base64Bytes(s: string): number {
  const padding = s.endsWith("==") ? 2 : s.endsWith("=") ? 1 : 0;
  return (s.length / 4) * 3 - padding;
}

/** Epoch ms from an ISO-8601 string (with zone) or an epoch-ms number; undefined if neither. */
export function parseTimestamp(v: unknown): number | undefined {
  if (typeof v === "number") return Number.isFinite(v) && v >= 0 ? Math.trunc(v) : undefined;
  if (typeof v !== "string" || !ISO_8601.test(v)) return undefined;
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? undefined : ms;
}

function isFiniteNumber(v: unknown): v is number {
  return typeof v === "number" && v - v === 0;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Check a prediction value (and score) against the task. */
function checkPrediction(task: TaskType, prediction: unknown, score: unknown): string | undefined {
  if (task === "regression") {
    if (!isFiniteNumber(prediction)) return "prediction must be a finite number for regression";
  } else if (
    !(typeof prediction === "string" || isFiniteNumber(prediction) || typeof prediction === "boolean")
  ) {
    return "prediction must be a class (string, number or boolean)";
  }
  if (score !== undefined && score !== null && !(isFiniteNumber(score) && score >= 0 && score <= 1)) {
    return "score must be a number in [0, 1]";
  }
  return undefined;
}

/**
 * Decode and validate one record's `data` (base64) against schema v1 and the model's feature schema.
 * `arrivalMs` (the record's approximate arrival time) is the reference for the timestamp checks.
 */
export function validateRecord(
  data: string,
  arrivalMs: number,
  models: ReadonlyMap<string, CompiledModel>,
  limits: ValidationLimits = DEFAULT_VALIDATION_LIMITS,
): ValidationResult {
  return decodeAndValidate(data, arrivalMs, models, limits, undefined) as ValidationResult;
}

/**
 * `validateRecord` for the ingest's hot path: a valid prediction's feature values are written to
 * `columnsOf(model)` (see feature-columns.ts) and the event keeps only its row, so the parsed JSON object is
 * not kept alive. Same verdicts, reasons and details as `validateRecord`.
 */
export function validateRecordInto(
  data: string,
  arrivalMs: number,
  models: ReadonlyMap<string, CompiledModel>,
  columnsOf: ColumnsOf,
  limits: ValidationLimits = DEFAULT_VALIDATION_LIMITS,
): ColumnarResult {
  return decodeAndValidate(data, arrivalMs, models, limits, columnsOf) as ColumnarResult;
}

function decodeAndValidate(
  data: string,
  arrivalMs: number,
  models: ReadonlyMap<string, CompiledModel>,
  limits: ValidationLimits,
  columnsOf: ColumnsOf | undefined,
): ValidationResult | ColumnarResult {
  if (data.length % 4 !== 0) return reject("invalid-encoding", "data is not base64");
  const size = base64Bytes(data);
  if (size > limits.maxRecordBytes) {
    return reject("record-too-large", `${size} bytes > limit ${limits.maxRecordBytes}`);
  }
  // Decoded into a reused scratch buffer: no Buffer allocated per record. The decoder never writes more than
  // `size` bytes (3 per 4 characters, less the padding), so this is what `Buffer.from(data, "base64")` gives.
  if (scratch.length < size) scratch = Buffer.allocUnsafe(Math.max(size, scratch.length * 2));
  const written = scratch.write(data, "base64");
  // Node's decoder skips characters outside the alphabet: a short result means the input was not base64.
  // (Cheaper than a regular expression over every payload; the hot path of the ingest.)
  if (written !== size) return reject("invalid-encoding", "data is not base64");
  const text = scratch.toString("utf8", 0, size);
  // Invalid UTF-8 decodes to U+FFFD: only then pay for the exact check (U+FFFD may also be legitimate).
  if (text.includes("\uFFFD") && !isUtf8(scratch.subarray(0, size))) {
    return reject("invalid-encoding", "payload is not UTF-8");
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    NON_FINITE_TOKEN.lastIndex = 0;
    if (NON_FINITE_TOKEN.test(text)) {
      try {
        JSON.parse(text.replace(NON_FINITE_TOKEN, "$1null"));
        return reject("non-finite-number", "NaN or Infinity literal in JSON");
      } catch {
        // falls through: not JSON for another reason as well
      }
    }
    return reject("invalid-json", "payload is not JSON");
  }
  return validateValue(value, arrivalMs, models, limits, columnsOf);
}

/** Validate a parsed JSON value (the rest of `decodeAndValidate`). */
function validateValue(
  value: unknown,
  arrivalMs: number,
  models: ReadonlyMap<string, CompiledModel>,
  limits: ValidationLimits,
  columnsOf: ColumnsOf | undefined,
): ValidationResult | ColumnarResult {
  if (!isObject(value))
    return reject("not-an-object", `JSON ${Array.isArray(value) ? "array" : typeof value}`);
  const type = value.type;
  if (type !== "prediction" && type !== "label")
    return reject("invalid-type", `type ${JSON.stringify(type)}`);
  if (value.schemaVersion !== 1) {
    return reject("unsupported-schema-version", `schemaVersion ${JSON.stringify(value.schemaVersion)}`);
  }
  const modelId = value.modelId;
  const model = typeof modelId === "string" ? models.get(modelId) : undefined;
  if (model === undefined) return reject("unknown-model", `modelId ${JSON.stringify(modelId)}`);
  const id = model.spec.id;
  const requestId = value.requestId;
  if (typeof requestId !== "string" || requestId.length === 0) {
    return reject("missing-request-id", "requestId must be a non-empty string", id);
  }
  if (isFiniteNumber(value.timestamp) === false && typeof value.timestamp === "number") {
    return reject("non-finite-number", "timestamp is not finite", id);
  }
  const timestamp = parseTimestamp(value.timestamp);
  if (timestamp === undefined) {
    return reject("invalid-timestamp", `timestamp ${JSON.stringify(value.timestamp)}`, id);
  }
  if (timestamp > arrivalMs + limits.maxFutureSkewMs) {
    return reject("timestamp-in-future", `${timestamp - arrivalMs} ms after arrival`, id, arrivalMs);
  }
  if (timestamp < arrivalMs - limits.retentionMs) {
    return reject("timestamp-too-old", `${arrivalMs - timestamp} ms before arrival`, id, arrivalMs);
  }
  return type === "prediction"
    ? validatePrediction(value, model, id, requestId, timestamp, columnsOf?.(model))
    : validateLabel(value, model, id, requestId, timestamp, arrivalMs, limits);
}

function validatePrediction(
  value: Record<string, unknown>,
  model: CompiledModel,
  modelId: string,
  requestId: string,
  timestamp: number,
  columns: FeatureColumns | undefined,
): ValidationResult | ColumnarResult {
  const features = value.features;
  if (!isObject(features))
    return reject("features-not-object", "features must be an object", modelId, timestamp);
  const layout = model.layout;
  const slots = layout.slots;
  const memo = slotMemo(layout);
  const memoNames = memo.names;
  const memoSlots = memo.slots;
  columns?.beginRow();
  let i = 0;
  for (const name in features) {
    let slot: number | undefined;
    if (memoNames[i] === name) slot = memoSlots[i];
    else {
      slot = slots.get(name);
      if (slot !== undefined) {
        memoNames[i] = name;
        memoSlots[i] = slot;
      }
    }
    i++;
    if (slot === undefined)
      return reject("unknown-feature", `feature ${JSON.stringify(name)}`, modelId, timestamp);
    const v = features[name];
    if (v === null) {
      if (columns !== undefined) {
        if (slot >= 0) columns.setNumeric(slot, Number.NaN);
        else columns.setMissingCategory(~slot);
      }
      continue;
    }
    const t = typeof v;
    if (t === "number") {
      if ((v as number) - (v as number) !== 0) {
        return reject("non-finite-number", `feature ${JSON.stringify(name)}`, modelId, timestamp);
      }
      if (columns !== undefined) {
        if (slot >= 0) columns.setNumeric(slot, v as number);
        else columns.setCategory(~slot, String(v));
      }
      continue;
    }
    if (slot < 0 && (t === "string" || t === "boolean")) {
      columns?.setCategory(~slot, t === "string" ? (v as string) : String(v));
      continue;
    }
    return reject(
      "feature-type-mismatch",
      `feature ${JSON.stringify(name)}: ${t} for ${slot >= 0 ? "numeric" : "categorical"}`,
      modelId,
      timestamp,
    );
  }
  // Every listed feature is in the schema (no key twice): fewer keys means some features are absent.
  if (columns !== undefined && i < slots.size) columns.fillMissing(features);
  const { prediction, score } = value;
  if (
    (typeof prediction === "number" && !isFiniteNumber(prediction)) ||
    (typeof score === "number" && !isFiniteNumber(score))
  ) {
    return reject("non-finite-number", "prediction or score", modelId, timestamp);
  }
  const problem = checkPrediction(model.spec.task, prediction, score);
  if (problem) return reject("invalid-prediction", problem, modelId, timestamp);
  // Built field by field (no spreads): this runs once per record on the hot path.
  const predicted = typeof prediction === "boolean" ? String(prediction) : (prediction as number | string);
  const event: Mutable<ColumnarPrediction> | Mutable<PredictionEvent> =
    columns !== undefined
      ? {
          schemaVersion: 1,
          type: "prediction",
          modelId,
          requestId,
          timestamp,
          prediction: predicted,
          columns,
          row: columns.commitRow(),
        }
      : {
          schemaVersion: 1,
          type: "prediction",
          modelId,
          requestId,
          timestamp,
          prediction: predicted,
          features: features as Record<string, FeatureValue>,
        };
  if (typeof value.modelVersion === "string") event.modelVersion = value.modelVersion;
  if (typeof score === "number") event.score = score;
  return { ok: true, event } as ValidationResult | ColumnarResult;
}

function validateLabel(
  value: Record<string, unknown>,
  model: CompiledModel,
  modelId: string,
  requestId: string,
  timestamp: number,
  arrivalMs: number,
  limits: ValidationLimits,
): ValidationResult {
  const { label, prediction, score } = value;
  if ([label, prediction, score].some((v) => typeof v === "number" && !isFiniteNumber(v))) {
    return reject("non-finite-number", "label, prediction or score", modelId, timestamp);
  }
  const task = model.spec.task;
  if (
    task === "regression"
      ? !isFiniteNumber(label)
      : !(typeof label === "string" || isFiniteNumber(label) || typeof label === "boolean")
  ) {
    return reject("invalid-label", `label ${JSON.stringify(label)}`, modelId, timestamp);
  }
  if (prediction !== undefined || score !== undefined) {
    const problem = checkPrediction(task, prediction, score);
    if (problem) return reject("invalid-prediction", problem, modelId, timestamp);
  }
  let predictionTimestamp: number | undefined;
  if (value.predictionTimestamp !== undefined) {
    predictionTimestamp = parseTimestamp(value.predictionTimestamp);
    if (predictionTimestamp === undefined) {
      return reject(
        "invalid-timestamp",
        `predictionTimestamp ${JSON.stringify(value.predictionTimestamp)}`,
        modelId,
        timestamp,
      );
    }
    if (predictionTimestamp > arrivalMs + limits.maxFutureSkewMs) {
      return reject("timestamp-in-future", "predictionTimestamp after arrival", modelId, timestamp);
    }
    if (predictionTimestamp < arrivalMs - limits.retentionMs) {
      return reject("timestamp-too-old", "predictionTimestamp before retention", modelId, timestamp);
    }
  }
  const event: LabelEvent = {
    schemaVersion: 1,
    type: "label",
    modelId,
    requestId,
    timestamp,
    label: typeof label === "boolean" ? String(label) : (label as number | string),
    ...(prediction !== undefined && prediction !== null
      ? { prediction: typeof prediction === "boolean" ? String(prediction) : (prediction as number | string) }
      : {}),
    ...(typeof score === "number" ? { score } : {}),
    ...(predictionTimestamp !== undefined ? { predictionTimestamp } : {}),
  };
  return { ok: true, event };
}
