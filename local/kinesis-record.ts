/**
 * A Kinesis record in the shape Lambda's event source mapping delivers it (`KinesisStreamRecord`): the
 * local poller builds its batches with it, and so do the benchmarks and tests that call the ingest handler
 * directly.
 */
import type { KinesisStreamRecord } from "aws-lambda";

export interface LambdaKinesisRecordInput {
  readonly shardId: string;
  readonly sequenceNumber: string;
  readonly partitionKey: string;
  /** Payload, base64. */
  readonly data: string;
  /** Approximate arrival time, epoch ms (Lambda delivers it in seconds). */
  readonly arrivalMs: number;
  /** @default "us-east-1" */
  readonly awsRegion?: string;
  /** @default a local stream ARN */
  readonly eventSourceArn?: string;
}

const DEFAULT_REGION = "us-east-1";
const DEFAULT_ARN = `arn:aws:kinesis:${DEFAULT_REGION}:000000000000:stream/local`;

export function lambdaKinesisRecord(r: LambdaKinesisRecordInput): KinesisStreamRecord {
  const region = r.awsRegion ?? DEFAULT_REGION;
  return {
    kinesis: {
      kinesisSchemaVersion: "1.0",
      partitionKey: r.partitionKey,
      sequenceNumber: r.sequenceNumber,
      data: r.data,
      approximateArrivalTimestamp: r.arrivalMs / 1000,
    },
    eventSource: "aws:kinesis",
    eventVersion: "1.0",
    eventID: `${r.shardId}:${r.sequenceNumber}`,
    eventName: "aws:kinesis:record",
    invokeIdentityArn: "arn:aws:iam::000000000000:role/local-ingest",
    awsRegion: region,
    eventSourceARN:
      r.eventSourceArn ??
      (region === DEFAULT_REGION ? DEFAULT_ARN : `arn:aws:kinesis:${region}:000000000000:stream/local`),
  };
}
