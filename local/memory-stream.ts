/**
 * LOCAL STAND-IN for the Kinesis stream and its event source mapping, in process, for the fast path of
 * `replay`: records are routed to shards as Kinesis routes them (MD5 of the partition key into equal
 * hash-key ranges, as kinesalite and a freshly created stream split them), numbered with increasing
 * sequence numbers, and delivered per shard in batches of `batchSize` to an ingest function with Lambda's
 * `KinesisStreamEvent` shape and `ReportBatchItemFailures` semantics (a reported item is retried with
 * everything after it). The emulator path (local/pipeline.ts) does the same through kinesalite and the
 * ESM stand-in; both deliver the same batches for the same records, which is what makes their decisions
 * equal (test/integration/replay-paths.test.ts).
 */
import type { KinesisStreamBatchResponse, KinesisStreamEvent, KinesisStreamRecord } from "aws-lambda";
import { shardIndexOf } from "./kinesis-hash";
import { lambdaKinesisRecord } from "./kinesis-record";

/** One record to put on the stream. */
export interface StreamInput {
  /** The payload as text (UTF-8), or its bytes in base64 when `base64` is set. */
  readonly data: string;
  readonly base64?: boolean;
  readonly partitionKey: string;
  /** Simulated arrival time, epoch ms. */
  readonly arrivalMs: number;
}

let scratch = Buffer.allocUnsafe(64 * 1024);

/** The UTF-8 bytes of `text` in base64, encoded through a reused buffer. */
function base64Of(text: string): string {
  // UTF-8 takes at most 3 bytes per UTF-16 code unit.
  if (text.length * 3 > scratch.length) {
    if (text.length > 1 << 20) return Buffer.from(text, "utf8").toString("base64");
    scratch = Buffer.allocUnsafe(text.length * 3);
  }
  const n = scratch.write(text, "utf8");
  return scratch.toString("base64", 0, n);
}

/** Thrown when a batch keeps failing: the in-memory ports never fail, so this is a bug, not load. */
export class StreamDeliveryError extends Error {
  override readonly name = "StreamDeliveryError";
}

/** Shard ids as Kinesis names them: `shardId-000000000000`, ... */
export const shardIdOf = (index: number): string => `shardId-${String(index).padStart(12, "0")}`;

export interface MemoryStreamOptions {
  readonly shardCount: number;
  /** Records per invocation (Lambda `BatchSize`). */
  readonly batchSize: number;
  /** The ingest: called with each batch, answers with the partial-failure response. */
  readonly ingest: (event: KinesisStreamEvent) => Promise<KinesisStreamBatchResponse>;
  /** Deliveries of one batch before giving up. @default 10 */
  readonly maxAttempts?: number;
}

export class MemoryStream {
  private readonly pending: KinesisStreamRecord[][];
  private readonly shardIds: string[];
  private sequence = 0;
  /** Records put on the stream. */
  put = 0;
  /** Handler invocations. */
  invocations = 0;

  constructor(private readonly options: MemoryStreamOptions) {
    this.shardIds = Array.from({ length: options.shardCount }, (_, i) => shardIdOf(i));
    this.pending = this.shardIds.map(() => []);
  }

  /**
   * Puts records on the stream (in order); returns the sequence number given to each. Sequence numbers
   * increase across the stream, so each shard's records are in put order, as on Kinesis.
   */
  send(records: readonly StreamInput[]): string[] {
    const n = this.options.shardCount;
    return records.map((r) => {
      const shard = shardIndexOf(r.partitionKey, n);
      const sequenceNumber = String(++this.sequence);
      this.pending[shard]!.push(
        lambdaKinesisRecord({
          shardId: this.shardIds[shard]!,
          sequenceNumber,
          partitionKey: r.partitionKey,
          data: r.base64 ? r.data : base64Of(r.data),
          arrivalMs: r.arrivalMs,
        }),
      );
      this.put++;
      return sequenceNumber;
    });
  }

  /**
   * Delivers everything pending, shard by shard in round robin, one batch per shard per round (the ESM
   * stand-in's order), each batch retried from its first failed record.
   */
  async drain(): Promise<void> {
    const size = this.options.batchSize;
    const offsets = this.pending.map(() => 0);
    for (let busy = true; busy; ) {
      busy = false;
      for (let s = 0; s < this.pending.length; s++) {
        const records = this.pending[s]!;
        if (offsets[s]! >= records.length) continue;
        busy = true;
        const batch = records.slice(offsets[s], offsets[s]! + size);
        offsets[s]! += batch.length;
        await this.deliver(batch);
      }
    }
    for (const records of this.pending) records.length = 0;
  }

  private async deliver(initial: KinesisStreamRecord[]): Promise<void> {
    let batch = initial;
    for (let attempt = 1; batch.length > 0; attempt++) {
      if (attempt > (this.options.maxAttempts ?? 10))
        throw new StreamDeliveryError(
          `batch from ${batch[0]!.eventID} still failing after ${attempt - 1} deliveries`,
        );
      this.invocations++;
      const response = await this.options.ingest({ Records: batch });
      const failed = response.batchItemFailures.map((f) => f.itemIdentifier);
      if (failed.length === 0) return;
      const from = batch.findIndex((r) => failed.includes(r.kinesis.sequenceNumber));
      batch = from < 0 ? batch : batch.slice(from);
    }
  }
}
