/**
 * Builders of schema-v1 events (contracts/events.ts, docs/architecture.md "Event schema") as producers put
 * them on the stream, and of the Kinesis records that carry them. Plain fixtures only: where the exact
 * bytes of a malformed input are the point of a test, the test keeps its literal.
 */
import type { KinesisStreamRecord } from "aws-lambda";
import type { LabelEvent, PredictionEvent } from "../../contracts/events";
import { lambdaKinesisRecord } from "../../local/kinesis-record";
import { T0 } from "./time";

/** An event as sent: the event time may be ISO-8601 or epoch ms (validation normalizes it). */
type Sent<E> = Omit<E, "timestamp"> & { readonly timestamp: number | string };
export type SentPrediction = Sent<PredictionEvent>;
export type SentLabel = Sent<LabelEvent>;

/** Fields a test sets on an event: the schema's, or any other (an unknown field, a wrong type). */
type Overrides = Readonly<Record<string, unknown>>;

/** A prediction of model `churn`, request `r1`, at {@link T0}, without features, predicted class 1. */
export function predictionEvent<O extends Overrides = Record<never, never>>(
  over?: O,
): Omit<SentPrediction, keyof O> & O {
  const base: SentPrediction = {
    schemaVersion: 1,
    type: "prediction",
    modelId: "churn",
    requestId: "r1",
    timestamp: T0,
    features: {},
    prediction: 1,
  };
  return withOverrides(base, over);
}

/** The label 1 of request `r1` of model `churn`, observed at {@link T0}. */
export function labelEvent<O extends Overrides = Record<never, never>>(
  over?: O,
): Omit<SentLabel, keyof O> & O {
  const base: SentLabel = {
    schemaVersion: 1,
    type: "label",
    modelId: "churn",
    requestId: "r1",
    timestamp: T0,
    label: 1,
  };
  return withOverrides(base, over);
}

/** `base` with `over` applied: replaced fields keep their place in the JSON, added ones come last. */
function withOverrides<B extends object, O extends Overrides>(
  base: B,
  over: O | undefined,
): Omit<B, keyof O> & O {
  return Object.assign({}, base, over);
}

/** A record's payload as Kinesis hands it to Lambda: the event's JSON (or a raw string), base64. */
export function eventData(event: object | string): string {
  return Buffer.from(typeof event === "string" ? event : JSON.stringify(event)).toString("base64");
}

/** The shard of the records the tests build. */
export const SHARD_ID = "shardId-000000000000";

export interface RecordOptions {
  readonly sequenceNumber: string;
  /** @default T0 */
  readonly arrivalMs?: number;
  /** @default "churn" */
  readonly partitionKey?: string;
  /** @default SHARD_ID */
  readonly shardId?: string;
}

/** A Lambda-shaped Kinesis record (local/kinesis-record.ts) carrying `event`. */
export function kinesisRecord(event: object | string, options: RecordOptions): KinesisStreamRecord {
  return lambdaKinesisRecord({
    shardId: options.shardId ?? SHARD_ID,
    sequenceNumber: options.sequenceNumber,
    partitionKey: options.partitionKey ?? "churn",
    data: eventData(event),
    arrivalMs: options.arrivalMs ?? T0,
  });
}
