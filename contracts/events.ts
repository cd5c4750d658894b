/**
 * Event schema version 1: what inference services put on the Kinesis stream, one JSON object per
 * record: the contract between inference services and the ingest. These are the *validated* shapes;
 * decoding and validation (with quarantine reason codes) live in lambdas/domain/ingest/event-validation.ts.
 * Timestamps are normalized to epoch milliseconds on validation.
 */

/** A feature value as emitted by an inference service. `null` (or an absent key) means missing. */
export type FeatureValue = number | string | boolean | null;

/** A prediction the live model made. */
export interface PredictionEvent {
  readonly schemaVersion: 1;
  readonly type: "prediction";
  readonly modelId: string;
  readonly modelVersion?: string;
  readonly requestId: string;
  /** Event time, epoch milliseconds. */
  readonly timestamp: number;
  readonly features: Readonly<Record<string, FeatureValue>>;
  /** Predicted class (binary: 0/1, multiclass: class name or index) or regression value. */
  readonly prediction: number | string;
  /** Binary tasks: P(positive class), in [0, 1]. */
  readonly score?: number;
}

/** Ground truth for an earlier prediction; may arrive days later. */
export interface LabelEvent {
  readonly schemaVersion: 1;
  readonly type: "label";
  readonly modelId: string;
  readonly requestId: string;
  /** Time the label was observed, epoch milliseconds. */
  readonly timestamp: number;
  readonly label: number | string;
  /** Optional copies of the prediction, so no join with the stored prediction is needed. */
  readonly prediction?: number | string;
  readonly score?: number;
  /** Event time of the prediction (epoch ms); with `prediction` it places the label without a lookup. */
  readonly predictionTimestamp?: number;
}

export type ModelEvent = PredictionEvent | LabelEvent;
