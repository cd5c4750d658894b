/**
 * Event schema version 1: what inference services put on the Kinesis stream, one JSON object per
 * record: the contract between inference services and the ingest. These are the *validated* shapes;
 * decoding and validation (with quarantine reason codes) live in lambdas/domain/ingest/event-validation.ts.
 * Timestamps are normalized to epoch milliseconds on validation.
 */

/**
 * Model ids: 1-32 letters, digits or inner hyphens. They end up in DynamoDB keys (`#` separated), S3
 * prefixes, SageMaker resource and Step Functions execution names; the configuration enforces the same
 * pattern, so an event whose `modelId` does not match it names no configured model.
 */
export const MODEL_ID_PATTERN = /^[A-Za-z0-9](-*[A-Za-z0-9]){0,31}$/;

/**
 * Longest accepted value of a categorical feature, in characters. A profile keeps up to `topK` category
 * values per feature in a bucket item (DynamoDB: 400 KB per item); without a limit, a few features fed
 * with long strings (free text, serialized objects, ids by mistake) would make the item too large to store,
 * and the shard would stall on that bucket.
 */
export const MAX_CATEGORY_LENGTH = 256;

/** Longest accepted `requestId`, in characters (printable ASCII: one byte each). */
export const MAX_REQUEST_ID_LENGTH = 256;

/**
 * Request ids: 1 to {@link MAX_REQUEST_ID_LENGTH} printable ASCII characters without spaces (UUIDs,
 * ULIDs, trace ids, base64 tokens). The id is part of the prediction index's partition key
 * (`MODEL#<modelId>#PRED#<requestId>`), which DynamoDB limits to 2048 bytes
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Constraints.html#limits-partition-sort-keys):
 * a longer key fails the whole BatchGetItem of a batch and stalls its shard. 256 also matches Kinesis'
 * partition key limit of 256 characters
 * (https://docs.aws.amazon.com/kinesis/latest/APIReference/API_PutRecordsRequestEntry.html), which the
 * documented `modelId#requestId` partition key must fit. ASCII only, so characters are bytes.
 */
export const REQUEST_ID_PATTERN = /^[\x21-\x7e]{1,256}$/;

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
  /**
   * Regression: the predicted value. Classification: a class of the model. With declared `classes`: a
   * class name (a string, or a number written as a class name); a class index (an integer, when no class
   * name is written as an integer), stored as its class name; for binary models also `false`/`true`
   * (classes[0]/classes[1]). A binary model without declared classes: `0`, `1`, `"0"`, `"1"`, `false`,
   * `true` (1 and true are the positive class). Anything else is quarantined (`prediction-not-a-class`).
   */
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
  /** The true value: a class of the model, as for `prediction` (else `label-not-a-class`), or a number. */
  readonly label: number | string;
  /** Optional copies of the prediction, so no join with the stored prediction is needed. */
  readonly prediction?: number | string;
  readonly score?: number;
  /** Event time of the prediction (epoch ms); with `prediction` it places the label without a lookup. */
  readonly predictionTimestamp?: number;
}

export type ModelEvent = PredictionEvent | LabelEvent;
