/**
 * Key design of the single DynamoDB table (partition key `pk`, sort key `sk`, TTL attribute `ttl`).
 * One place for every key so that the ingest Lambda, the evaluator, the workflow tasks and local
 * mode agree on the layout. ISO-8601 UTC strings sort lexicographically in time order.
 */

export const TTL_ATTRIBUTE = "ttl";

const iso = (ms: number): string => new Date(ms).toISOString();

export const keys = {
  /** Bucket profile of one model, one event-time bucket and one shard. */
  stats: (modelId: string, bucketStartMs: number, shardId: string) => ({
    pk: `MODEL#${modelId}#STATS`,
    sk: `${iso(bucketStartMs)}#${shardId}`,
  }),
  statsPartition: (modelId: string) => `MODEL#${modelId}#STATS`,
  /** Sort-key bounds covering buckets starting in [fromMs, toMs). */
  statsRange: (fromMs: number, toMs: number) => ({ from: iso(fromMs), to: `${iso(toMs - 1)}#\uffff` }),
  state: (modelId: string) => ({ pk: `MODEL#${modelId}`, sk: "STATE" }),
  champion: (modelId: string, version: string) => ({ pk: `MODEL#${modelId}`, sk: `CHAMPION#${version}` }),
  baseline: (modelId: string, version: string) => ({ pk: `MODEL#${modelId}#BASELINE`, sk: version }),
  decision: (modelId: string, evaluatedAtMs: number) => ({
    pk: `MODEL#${modelId}#DECISION`,
    sk: iso(evaluatedAtMs),
  }),
  decisionPartition: (modelId: string) => `MODEL#${modelId}#DECISION`,
  prediction: (modelId: string, requestId: string) => ({ pk: `MODEL#${modelId}#PRED#${requestId}`, sk: "P" }),
  /** Marker of a counted label: next to its prediction (same partition), sort key `L`. */
  label: (modelId: string, requestId: string) => ({ pk: `MODEL#${modelId}#PRED#${requestId}`, sk: "L" }),
  quarantine: (arrivalMs: number, shardId: string, sequenceNumber: string) => ({
    pk: `QUARANTINE#${iso(arrivalMs).slice(0, 10)}`,
    sk: `${shardId}#${sequenceNumber}`,
  }),
} as const;

/**
 * Kinesis sequence numbers have up to 56 digits, beyond DynamoDB's 38-digit numbers: store them as
 * zero-padded strings so that string order equals numeric order.
 */
export const SEQUENCE_WIDTH = 64;
export function padSequence(sequenceNumber: string): string {
  if (!/^\d+$/.test(sequenceNumber)) throw new RangeError(`not a Kinesis sequence number: ${sequenceNumber}`);
  return sequenceNumber.padStart(SEQUENCE_WIDTH, "0");
}
