/**
 * Training dataset preparation for the retraining workflow: join archived prediction events with their
 * labels, keep the labelled ones of the decision's window, and split them deterministically into
 * train / validation / holdout channels. Pure: the archive is read by an adapter, the window and the
 * fractions are arguments. Deterministic by requestId hash so that a re-run of the same window (or a
 * retried Lambda) produces exactly the same channels, and a request never moves between channels.
 */
import type { FeatureValue, LabelEvent, ModelEvent, PredictionEvent } from "../../../contracts/events";
import { DAY_MS } from "../../../contracts/time";

/** One labelled example: the features the live model saw and the ground truth that arrived later. */
export interface LabelledRow {
  readonly requestId: string;
  /** Prediction event time, epoch ms. */
  readonly timestamp: number;
  readonly features: Readonly<Record<string, FeatureValue>>;
  readonly label: number | string;
  /** What the live (champion) model predicted at the time, kept for reference. */
  readonly prediction?: number | string;
  readonly score?: number;
}

export type Channel = "train" | "validation" | "holdout";

/** Shares of the labelled rows per channel; must be non-negative and sum to 1. */
export interface SplitFractions {
  readonly train: number;
  readonly validation: number;
  readonly holdout: number;
}

export const DEFAULT_SPLIT: SplitFractions = { train: 0.7, validation: 0.15, holdout: 0.15 };

/** Minimum rows per channel below which training is pointless and the run fails with a clear cause. */
export interface MinimumRows {
  readonly train: number;
  readonly validation: number;
  readonly holdout: number;
}

export const DEFAULT_MINIMUM_ROWS: MinimumRows = { train: 200, validation: 50, holdout: 50 };

/** Counters of the join, recorded with the run so that "too little data" can be explained. */
export interface JoinStats {
  lines: number;
  invalid: number;
  otherModel: number;
  predictions: number;
  predictionsInWindow: number;
  duplicatePredictions: number;
  labels: number;
  labelled: number;
  labelsWithoutPrediction: number;
}

export interface ChannelCounts {
  readonly train: number;
  readonly validation: number;
  readonly holdout: number;
  readonly total: number;
}

export interface DatasetSplit {
  readonly train: LabelledRow[];
  readonly validation: LabelledRow[];
  readonly holdout: LabelledRow[];
  readonly counts: ChannelCounts;
}

/** Too few labelled rows for a channel: the workflow fails here instead of training on noise. */
export class InsufficientDataError extends Error {
  override readonly name = "InsufficientDataError";
  constructor(
    message: string,
    readonly counts: ChannelCounts,
    readonly minimum: MinimumRows,
  ) {
    super(message);
  }
}

/** The split fractions are not a valid partition of [0, 1). */
export class SplitFractionsError extends Error {
  override readonly name = "SplitFractionsError";
}

/**
 * 32-bit FNV-1a hash of the request id mapped to [0, 1). Stable across runtimes and releases (no
 * dependency on a crypto library), uniform enough for splitting ids that are UUIDs or counters.
 */
export function hashFraction(requestId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < requestId.length; i++) {
    h ^= requestId.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  // Final avalanche (murmur3 fmix32) so that sequential ids spread over the unit interval.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return (h >>> 0) / 0x1_0000_0000;
}

function checkFractions(f: SplitFractions): void {
  const parts = [f.train, f.validation, f.holdout];
  if (parts.some((p) => !Number.isFinite(p) || p < 0)) {
    throw new SplitFractionsError(`split fractions must be non-negative numbers, got ${JSON.stringify(f)}`);
  }
  const sum = parts.reduce((a, b) => a + b, 0);
  if (Math.abs(sum - 1) > 1e-9) throw new SplitFractionsError(`split fractions must sum to 1, got ${sum}`);
}

/** The channel of one request: train below `train`, validation below `train + validation`, else holdout. */
export function assignChannel(requestId: string, fractions: SplitFractions = DEFAULT_SPLIT): Channel {
  const u = hashFraction(requestId);
  if (u < fractions.train) return "train";
  if (u < fractions.train + fractions.validation) return "validation";
  return "holdout";
}

const isFeatureValue = (v: unknown): v is FeatureValue =>
  v === null || typeof v === "number" || typeof v === "string" || typeof v === "boolean";

function parseTime(v: unknown): number | undefined {
  if (typeof v === "number" && Number.isFinite(v)) return v;
  if (typeof v === "string") {
    const t = Date.parse(v);
    return Number.isNaN(t) ? undefined : t;
  }
  return undefined;
}

/**
 * Lenient decoding of one archived record (the raw schema-v1 JSON that Firehose copied from the
 * stream). Records the ingest path would quarantine come back `undefined` and are counted as invalid;
 * the archive is not the place to re-explain them.
 */
export function decodeArchivedEvent(raw: unknown): ModelEvent | undefined {
  if (typeof raw !== "object" || raw === null) return undefined;
  const r = raw as Record<string, unknown>;
  if (r.schemaVersion !== 1 || typeof r.modelId !== "string" || typeof r.requestId !== "string")
    return undefined;
  const timestamp = parseTime(r.timestamp);
  if (timestamp === undefined) return undefined;
  if (r.type === "prediction") {
    if (typeof r.features !== "object" || r.features === null || Array.isArray(r.features)) return undefined;
    const features: Record<string, FeatureValue> = {};
    for (const [k, v] of Object.entries(r.features as Record<string, unknown>)) {
      if (!isFeatureValue(v)) return undefined;
      features[k] = v;
    }
    if (typeof r.prediction !== "number" && typeof r.prediction !== "string") return undefined;
    const event: PredictionEvent = {
      schemaVersion: 1,
      type: "prediction",
      modelId: r.modelId,
      requestId: r.requestId,
      timestamp,
      features,
      prediction: r.prediction,
      ...(typeof r.modelVersion === "string" ? { modelVersion: r.modelVersion } : {}),
      ...(typeof r.score === "number" ? { score: r.score } : {}),
    };
    return event;
  }
  if (r.type === "label") {
    if (typeof r.label !== "number" && typeof r.label !== "string") return undefined;
    const event: LabelEvent = {
      schemaVersion: 1,
      type: "label",
      modelId: r.modelId,
      requestId: r.requestId,
      timestamp,
      label: r.label,
    };
    return event;
  }
  return undefined;
}

/** Empty join counters, to accumulate over many archive files. */
export function emptyJoinStats(): JoinStats {
  return {
    lines: 0,
    invalid: 0,
    otherModel: 0,
    predictions: 0,
    predictionsInWindow: 0,
    duplicatePredictions: 0,
    labels: 0,
    labelled: 0,
    labelsWithoutPrediction: 0,
  };
}

/**
 * Incremental join of predictions (event time in [fromMs, toMs)) with labels (any time: labels arrive
 * later than the window). The first prediction of a request wins (redeliveries are duplicates); the
 * latest label wins (corrections). Feed it archive lines in any order, then call `rows()`.
 */
export class LabelJoin {
  readonly stats: JoinStats = emptyJoinStats();
  private readonly predictions = new Map<string, PredictionEvent>();
  private readonly labels = new Map<string, LabelEvent>();

  constructor(
    private readonly modelId: string,
    private readonly window: { readonly fromMs: number; readonly toMs: number },
  ) {}

  /** Adds one JSON-lines line (blank lines ignored). */
  addLine(line: string): void {
    const trimmed = line.trim();
    if (trimmed === "") return;
    this.stats.lines++;
    let raw: unknown;
    try {
      raw = JSON.parse(trimmed);
    } catch {
      this.stats.invalid++;
      return;
    }
    this.addRecord(raw);
  }

  /** Adds one already-parsed archived record. */
  addRecord(raw: unknown): void {
    const event = decodeArchivedEvent(raw);
    if (!event) {
      this.stats.invalid++;
      return;
    }
    if (event.modelId !== this.modelId) {
      this.stats.otherModel++;
      return;
    }
    if (event.type === "prediction") {
      this.stats.predictions++;
      if (event.timestamp < this.window.fromMs || event.timestamp >= this.window.toMs) return;
      this.stats.predictionsInWindow++;
      if (this.predictions.has(event.requestId)) {
        this.stats.duplicatePredictions++;
        return;
      }
      this.predictions.set(event.requestId, event);
      return;
    }
    this.stats.labels++;
    const previous = this.labels.get(event.requestId);
    if (!previous || previous.timestamp <= event.timestamp) this.labels.set(event.requestId, event);
  }

  /** Labelled rows, sorted by requestId so that output files are byte-identical across runs. */
  rows(): LabelledRow[] {
    const rows: LabelledRow[] = [];
    let labelled = 0;
    for (const [requestId, label] of this.labels) {
      const p = this.predictions.get(requestId);
      if (!p) continue;
      labelled++;
      rows.push({
        requestId,
        timestamp: p.timestamp,
        features: p.features,
        label: label.label,
        prediction: p.prediction,
        ...(p.score !== undefined ? { score: p.score } : {}),
      });
    }
    this.stats.labelled = labelled;
    this.stats.labelsWithoutPrediction = this.labels.size - labelled;
    rows.sort((a, b) => (a.requestId < b.requestId ? -1 : a.requestId > b.requestId ? 1 : 0));
    return rows;
  }
}

/**
 * The channels that `labelled` rows are expected to leave below their minimum when split by request hash
 * (`fractions`), in words ("validation about 48 < 50"); empty when every channel is expected to reach it.
 * The evaluator asks before starting a run, from its counts of labelled predictions: a run started on
 * fewer rows fails in its dataset step (`splitDataset` checks the actual split, and the holdout's needs).
 */
export function expectedShortfalls(
  labelled: number,
  fractions: SplitFractions = DEFAULT_SPLIT,
  minimum: MinimumRows = DEFAULT_MINIMUM_ROWS,
): string[] {
  return (["train", "validation", "holdout"] as const)
    .filter((c) => labelled * fractions[c] < minimum[c])
    .map((c) => `${c} about ${Math.floor(labelled * fractions[c])} < ${minimum[c]}`);
}

/** Labelled rows at which no channel is expected below its minimum (`expectedShortfalls` empty). */
export function rowsNeeded(
  fractions: SplitFractions = DEFAULT_SPLIT,
  minimum: MinimumRows = DEFAULT_MINIMUM_ROWS,
): number {
  return Math.max(
    ...(["train", "validation", "holdout"] as const).map((c) => Math.ceil(minimum[c] / fractions[c] - 1e-9)),
  );
}

/**
 * What the holdout must contain beyond a row count (e.g. the validation gate's power-sized minimums per
 * class): the shortfalls in words, empty when the holdout suffices.
 */
export type HoldoutCheck = (holdout: readonly LabelledRow[]) => readonly string[];

/**
 * Splits labelled rows into channels by requestId hash and checks the minimum sizes, and the holdout
 * with `holdoutCheck` when given.
 * @throws InsufficientDataError naming the short channel(s), the counts and the holdout's shortfalls.
 */
export function splitDataset(
  rows: readonly LabelledRow[],
  fractions: SplitFractions = DEFAULT_SPLIT,
  minimum: MinimumRows = DEFAULT_MINIMUM_ROWS,
  holdoutCheck?: HoldoutCheck,
): DatasetSplit {
  checkFractions(fractions);
  const out: Record<Channel, LabelledRow[]> = { train: [], validation: [], holdout: [] };
  for (const row of rows) out[assignChannel(row.requestId, fractions)].push(row);
  const counts: ChannelCounts = {
    train: out.train.length,
    validation: out.validation.length,
    holdout: out.holdout.length,
    total: rows.length,
  };
  const short = (["train", "validation", "holdout"] as const).filter((c) => counts[c] < minimum[c]);
  const holdoutShortfalls = holdoutCheck?.(out.holdout) ?? [];
  if (short.length > 0 || holdoutShortfalls.length > 0) {
    const detail = [...short.map((c) => `${c} ${counts[c]} < ${minimum[c]}`), ...holdoutShortfalls].join(
      ", ",
    );
    throw new InsufficientDataError(
      `too little labelled data to retrain: ${detail} (labelled rows in window: ${counts.total})`,
      counts,
      minimum,
    );
  }
  return { ...out, counts };
}

/**
 * Day prefixes `<modelId>/yyyy/MM/dd/` (UTC, as Firehose writes by arrival time) covering [fromMs, toMs).
 * Arrival lags event time, so callers widen `toMs` by the label horizon to catch late labels.
 */
export function archiveDayPrefixes(modelId: string, fromMs: number, toMs: number): string[] {
  const prefixes: string[] = [];
  for (let t = Math.floor(fromMs / DAY_MS) * DAY_MS; t < toMs; t += DAY_MS) {
    const d = new Date(t);
    const mm = String(d.getUTCMonth() + 1).padStart(2, "0");
    const dd = String(d.getUTCDate()).padStart(2, "0");
    prefixes.push(`${modelId}/${d.getUTCFullYear()}/${mm}/${dd}/`);
  }
  return prefixes;
}

/** One training/validation row as written to S3 for the training container (JSON lines). */
export function trainingLine(row: LabelledRow): string {
  return JSON.stringify({ features: row.features, label: row.label });
}

/** One batch-transform input line: features only, so scoring cannot peek at the label. */
export function transformLine(row: LabelledRow): string {
  return JSON.stringify({ features: row.features });
}

/** One holdout label line, in the same order as the transform input. */
export function holdoutLabelLine(row: LabelledRow): string {
  return JSON.stringify({ requestId: row.requestId, label: row.label });
}
