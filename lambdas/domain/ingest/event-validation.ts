/**
 * Decoding and validation of one Kinesis record into a schema-v1 event, or a quarantine verdict with a
 * reason code. Pure: the model catalog, the limits and the reference time are arguments.
 *
 * The reference time for "too far in the future" and "older than retention" is the record's Kinesis
 * arrival time, not the wall clock: a record redelivered hours later must get the same verdict, or a
 * redelivery could change the stored statistics.
 */
import { isUtf8 } from "node:buffer";
import {
  type FeatureValue,
  type LabelEvent,
  MAX_CATEGORY_LENGTH,
  MAX_REQUEST_ID_LENGTH,
  MODEL_ID_PATTERN,
  type ModelEvent,
  type PredictionEvent,
  REQUEST_ID_PATTERN,
} from "../../../contracts/events";
import type { RuntimeModel } from "../../../contracts/model";
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
  "invalid-model-id",
  "unknown-model",
  "missing-request-id",
  "invalid-request-id",
  "invalid-timestamp",
  "timestamp-in-future",
  "timestamp-too-old",
  "features-not-object",
  "feature-type-mismatch",
  "unknown-feature",
  "non-finite-number",
  "record-too-large",
  "invalid-prediction",
  "prediction-not-a-class",
  "invalid-label",
  "label-not-a-class",
  "duplicate-request-id",
  "label-without-prediction",
  "category-too-long",
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

/**
 * How a classification model's label and prediction values are read (see `PredictionEvent.prediction`
 * in contracts/events.ts): its declared class names, whether integers are class indexes, and whether
 * booleans name the two classes of a binary model. Undefined for regression, and for a multiclass model
 * without declared classes (the configuration requires them; without them no value can be checked).
 */
export interface ClassReader {
  /** Declared class names; undefined for a binary model without declared classes (0/1). */
  readonly names?: ReadonlySet<string>;
  readonly classes?: readonly string[];
  /** Integers are class indexes: no declared class name is written as an integer. */
  readonly indexes: boolean;
  /** Booleans name classes[0]/classes[1] (binary models). */
  readonly booleans: boolean;
}

/** A model spec with its feature schema indexed for the hot path. */
export interface CompiledModel {
  readonly spec: IngestModel;
  /** Feature name -> column slot (numeric k >= 0, categorical ~j): also the schema lookup. */
  readonly layout: ColumnLayout;
  /** How label and prediction values name classes; undefined when they are not checked against classes. */
  readonly classes?: ClassReader;
}

const INTEGER_TEXT = /^-?\d+$/;

function classReaderOf(spec: IngestModel): ClassReader | undefined {
  if (spec.task === "regression") return undefined;
  const classes = spec.classes;
  if (classes === undefined) return spec.task === "binary" ? { indexes: false, booleans: true } : undefined;
  return {
    names: new Set(classes),
    classes,
    indexes: !classes.some((c) => INTEGER_TEXT.test(c)),
    booleans: spec.task === "binary" && classes.length === 2,
  };
}

/** Index the catalog once per Lambda container, not per record. */
export function compileModels(specs: readonly IngestModel[]): ReadonlyMap<string, CompiledModel> {
  const out = new Map<string, CompiledModel>();
  for (const spec of specs) {
    const classes = classReaderOf(spec);
    out.set(spec.id, { spec, layout: columnLayout(spec.features), ...(classes ? { classes } : {}) });
  }
  return out;
}

/**
 * The class a label or prediction value names, as stored (a class name, or the value itself when it is
 * already one of the accepted forms), or undefined when it names none. Without declared classes a binary
 * model reads 0/1, "0"/"1" and booleans: the values its performance statistics read unambiguously as
 * negative/positive (profile-update.ts `addOutcome`: `String(v) === "1"` or `"true"`), and what JSON
 * producers write for a 0/1 or boolean target; "yes", "2" or 0.5 would be a guess, and a wrong guess
 * corrupts the confusion counts silently.
 */
export function classValue(reader: ClassReader, v: unknown): number | string | undefined {
  const names = reader.names;
  if (names === undefined) {
    if (v === 0) return 0; // also -0
    if (v === 1 || v === "0" || v === "1") return v;
    return typeof v === "boolean" ? (v ? "true" : "false") : undefined;
  }
  if (typeof v === "string") return names.has(v) ? v : undefined;
  if (typeof v === "number") {
    if (names.has(String(v))) return v;
    return reader.indexes && Number.isInteger(v) && v >= 0 ? reader.classes![v] : undefined;
  }
  if (typeof v === "boolean" && reader.booleans) return reader.classes![v ? 1 : 0];
  return undefined;
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

/** A value for a quarantine detail: JSON, cut to a readable length (details are logged and stored). */
function preview(v: unknown): string {
  const text = JSON.stringify(v) ?? String(v);
  return text.length <= 64 ? text : `${text.slice(0, 60)}...(${text.length} characters)`;
}

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
  if (typeof v !== "string") return undefined;
  const fast = utcMillisFast(v);
  if (fast !== undefined) return fast;
  if (!ISO_8601.test(v)) return undefined;
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? undefined : ms;
}

/** The day of the last `YYYY-MM-DD` parsed by `utcMillisFast`, and its epoch ms (NaN: not a date). */
let cachedDay = "";
let cachedDayMs = Number.NaN;
/** Days seen (start in epoch ms, NaN for a malformed day), for input that is not in day order. */
const dayStarts = new Map<string, number>();
const MAX_DAYS_CACHED = 4096;

/**
 * The common form `YYYY-MM-DDTHH:MM:SS.sssZ` without a regular expression or a full `Date.parse`: the day
 * through `Date.parse` once (cached: the last day, as events come in runs of one day, and up to 4,096
 * days seen, for input out of order), the time of day from its digits.
 * The same result as `Date.parse`; undefined for anything else (hour 24, other forms), which takes the
 * general path.
 */
function utcMillisFast(s: string): number | undefined {
  if (s.length !== 24 || s.charCodeAt(10) !== 84 || s.charCodeAt(23) !== 90) return undefined;
  if (s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58 || s.charCodeAt(19) !== 46) return undefined;
  const hour = twoDigits(s, 11);
  const minute = twoDigits(s, 14);
  const second = twoDigits(s, 17);
  const milli = twoDigits(s, 20) * 10 + digit(s, 22);
  // NaN (a non-digit) fails every comparison.
  if (!(hour <= 23 && minute <= 59 && second <= 59 && milli >= 0)) return undefined;
  const day = s.slice(0, 10);
  if (day !== cachedDay) {
    let ms = dayStarts.get(day);
    if (ms === undefined) {
      ms = /^\d{4}-\d{2}-\d{2}$/.test(day) ? Date.parse(`${day}T00:00:00.000Z`) : Number.NaN;
      if (dayStarts.size >= MAX_DAYS_CACHED) dayStarts.clear();
      dayStarts.set(day, ms);
    }
    cachedDayMs = ms;
    cachedDay = day;
  }
  if (Number.isNaN(cachedDayMs)) return undefined;
  return cachedDayMs + ((hour * 60 + minute) * 60 + second) * 1000 + milli;
}

function digit(s: string, i: number): number {
  const d = s.charCodeAt(i) - 48;
  return d >= 0 && d <= 9 ? d : Number.NaN;
}

function twoDigits(s: string, i: number): number {
  return digit(s, i) * 10 + digit(s, i + 1);
}

function isFiniteNumber(v: unknown): v is number {
  return typeof v === "number" && v - v === 0;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A verdict on a label or prediction value: the value as stored, or why it is rejected. */
type ValueCheck =
  | { readonly ok: true; readonly value: number | string }
  | { readonly ok: false; readonly notAClass: boolean; readonly detail: string };

/** What a model accepts as a class (for details). */
function classesText(model: CompiledModel): string {
  const names = model.classes?.classes;
  return names === undefined ? "0, 1, false or true" : `one of ${preview(names)}`;
}

/**
 * Check a label or prediction value against the model: a finite number for regression, a class of the
 * model for classification (`notAClass` when it is a scalar that names none: its own reason codes).
 */
function checkValue(model: CompiledModel, what: "label" | "prediction", v: unknown): ValueCheck {
  if (model.spec.task === "regression") {
    return isFiniteNumber(v)
      ? { ok: true, value: v }
      : { ok: false, notAClass: false, detail: `${what} must be a finite number for regression` };
  }
  if (!(typeof v === "string" || isFiniteNumber(v) || typeof v === "boolean"))
    return { ok: false, notAClass: false, detail: `${what} must be a class (string, number or boolean)` };
  const reader = model.classes;
  // A multiclass model without declared classes (the configuration forbids it) cannot be checked.
  if (reader === undefined) return { ok: true, value: typeof v === "boolean" ? String(v) : v };
  const value = classValue(reader, v);
  return value !== undefined
    ? { ok: true, value }
    : {
        ok: false,
        notAClass: true,
        detail: `${what} ${preview(v)} is not a class of the model (${classesText(model)})`,
      };
}

function checkScore(score: unknown): string | undefined {
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
  if (type !== "prediction" && type !== "label") return reject("invalid-type", `type ${preview(type)}`);
  if (value.schemaVersion !== 1) {
    return reject("unsupported-schema-version", `schemaVersion ${preview(value.schemaVersion)}`);
  }
  const modelId = value.modelId;
  const model = typeof modelId === "string" ? models.get(modelId) : undefined;
  if (model === undefined) {
    // A string that cannot be a model id (configured ids match the same pattern) is a producer bug of its
    // own kind, told apart from a well-formed id that is not configured (a deployment mismatch).
    if (typeof modelId === "string" && !MODEL_ID_PATTERN.test(modelId))
      return reject(
        "invalid-model-id",
        `modelId ${preview(modelId)} is not 1-32 letters, digits or inner hyphens`,
      );
    return reject("unknown-model", `modelId ${preview(modelId)}`);
  }
  const id = model.spec.id;
  const requestId = value.requestId;
  if (typeof requestId !== "string" || requestId.length === 0) {
    return reject("missing-request-id", "requestId must be a non-empty string", id);
  }
  // The requestId is part of the prediction index's key (contracts/events.ts REQUEST_ID_PATTERN): bounded
  // here, so that no record can fail the batch's lookups and stall its shard.
  if (!REQUEST_ID_PATTERN.test(requestId)) {
    return reject(
      "invalid-request-id",
      requestId.length > MAX_REQUEST_ID_LENGTH
        ? `requestId has ${requestId.length} characters (at most ${MAX_REQUEST_ID_LENGTH})`
        : `requestId ${preview(requestId)} has a character outside printable ASCII without spaces`,
      id,
    );
  }
  if (isFiniteNumber(value.timestamp) === false && typeof value.timestamp === "number") {
    return reject("non-finite-number", "timestamp is not finite", id);
  }
  const timestamp = parseTimestamp(value.timestamp);
  if (timestamp === undefined) {
    return reject("invalid-timestamp", `timestamp ${preview(value.timestamp)}`, id);
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
    if (slot === undefined) return reject("unknown-feature", `feature ${preview(name)}`, modelId, timestamp);
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
      if (t === "string" && (v as string).length > MAX_CATEGORY_LENGTH)
        return reject(
          "category-too-long",
          `feature ${JSON.stringify(name)}: ${(v as string).length} characters > ${MAX_CATEGORY_LENGTH}`,
          modelId,
          timestamp,
        );
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
  const checked = checkValue(model, "prediction", prediction);
  if (!checked.ok)
    return reject(
      checked.notAClass ? "prediction-not-a-class" : "invalid-prediction",
      checked.detail,
      modelId,
      timestamp,
    );
  const scoreProblem = checkScore(score);
  if (scoreProblem) return reject("invalid-prediction", scoreProblem, modelId, timestamp);
  // Built field by field (no spreads): this runs once per record on the hot path.
  const predicted = checked.value;
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
  const labelled = checkValue(model, "label", label);
  if (!labelled.ok)
    return reject(
      labelled.notAClass ? "label-not-a-class" : "invalid-label",
      labelled.notAClass ? labelled.detail : `label ${preview(label)}`,
      modelId,
      timestamp,
    );
  let predicted: number | string | undefined;
  if (prediction !== undefined || score !== undefined) {
    const checked = checkValue(model, "prediction", prediction);
    if (!checked.ok)
      return reject(
        checked.notAClass ? "prediction-not-a-class" : "invalid-prediction",
        checked.detail,
        modelId,
        timestamp,
      );
    predicted = checked.value;
    const scoreProblem = checkScore(score);
    if (scoreProblem) return reject("invalid-prediction", scoreProblem, modelId, timestamp);
  }
  let predictionTimestamp: number | undefined;
  if (value.predictionTimestamp !== undefined) {
    predictionTimestamp = parseTimestamp(value.predictionTimestamp);
    if (predictionTimestamp === undefined) {
      return reject(
        "invalid-timestamp",
        `predictionTimestamp ${preview(value.predictionTimestamp)}`,
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
    label: labelled.value,
    ...(predicted !== undefined ? { prediction: predicted } : {}),
    ...(typeof score === "number" ? { score } : {}),
    ...(predictionTimestamp !== undefined ? { predictionTimestamp } : {}),
  };
  return { ok: true, event };
}
