/**
 * A local stand-in for Lambda's Kinesis event source mapping (ESM): reads every shard of a stream with
 * GetShardIterator/GetRecords and invokes a handler with the same `KinesisStreamEvent` shape, batch size
 * and failure semantics, so the real ingest handler runs unchanged against kinesalite.
 *
 * Semantics reproduced (per shard, one batch in flight, records in sequence order):
 * - Batches of at most `batchSize` records (Lambda's `BatchSize`).
 * - `ReportBatchItemFailures`: a response `{ batchItemFailures: [{ itemIdentifier: seq }] }` checkpoints
 *   just before the lowest reported sequence number and retries from it. An identifier that is not in the
 *   batch (or empty) fails the whole batch, as Lambda does.
 * - A thrown error fails the whole batch. With `bisectBatchOnFunctionError` the batch is split in two and
 *   each half is retried separately (splitting does not consume a retry, as in Lambda).
 * - After `maximumRetryAttempts` retries of a batch, `onFailure` receives it (Lambda's on-failure
 *   destination) and the shard moves past it. Lambda's default is to retry until the records expire; the
 *   local default is finite so a poison batch cannot hang local mode.
 * - Parent shards are drained before their children after a reshard.
 *
 * Not reproduced: batching windows, parallelization factor > 1, tumbling windows, record-age expiry.
 */
import {
  DescribeStreamSummaryCommand,
  ExpiredIteratorException,
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
  type KinesisClient,
  type _Record as KinesisRecord,
  ListShardsCommand,
  type Shard,
} from "@aws-sdk/client-kinesis";
import type { KinesisStreamBatchResponse, KinesisStreamEvent, KinesisStreamRecord } from "aws-lambda";
import { lambdaKinesisRecord } from "./kinesis-record";

/**
 * The handler contract of a Kinesis-triggered Lambda with `ReportBatchItemFailures`: resolves to a
 * `KinesisStreamBatchResponse` or to nothing (= whole batch succeeded); throwing fails the whole batch.
 */
export type KinesisBatchHandler = (event: KinesisStreamEvent) => Promise<unknown>;

/** A batch given up on after its retries, as delivered to Lambda's on-failure destination. */
export interface FailedBatch {
  readonly shardId: string;
  readonly records: readonly KinesisStreamRecord[];
  readonly attempts: number;
  readonly lastError?: unknown;
}

export interface EsmPollerOptions {
  readonly kinesis: KinesisClient;
  readonly streamName: string;
  readonly handler: KinesisBatchHandler;
  /** Records per invocation (Lambda `BatchSize`). @default 100 */
  readonly batchSize?: number;
  /** @default "TRIM_HORIZON" */
  readonly startingPosition?: "TRIM_HORIZON" | "LATEST";
  /** Split a failing batch in two and retry the halves (Lambda `BisectBatchOnFunctionError`). @default true */
  readonly bisectBatchOnFunctionError?: boolean;
  /** Retries of one batch before `onFailure` (Lambda `MaximumRetryAttempts`). @default 10 */
  readonly maximumRetryAttempts?: number;
  /** Pause between retries of a failed batch. @default 0 */
  readonly retryDelayMs?: number;
  /** On-failure destination. @default a no-op (the batch is skipped, as Lambda does without destination) */
  readonly onFailure?: (batch: FailedBatch) => void | Promise<void>;
  /** @default "us-east-1" */
  readonly awsRegion?: string;
}

/** Counters since the poller was created. */
export interface EsmPollerStats {
  invocations: number;
  recordsDelivered: number;
  recordsCheckpointed: number;
  partialFailures: number;
  functionErrors: number;
  bisections: number;
  recordsSentToOnFailure: number;
}

interface ShardState {
  readonly shardId: string;
  readonly parentShardId: string | undefined;
  iterator: string | undefined;
  lastFetchedSequence: string | undefined;
  buffer: KinesisStreamRecord[];
  closed: boolean;
  /** Retries already spent on the record at the head of the buffer (after a partial failure). */
  headAttempts: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class EsmPoller {
  readonly stats: EsmPollerStats = {
    invocations: 0,
    recordsDelivered: 0,
    recordsCheckpointed: 0,
    partialFailures: 0,
    functionErrors: 0,
    bisections: 0,
    recordsSentToOnFailure: 0,
  };
  private readonly shards = new Map<string, ShardState>();
  private streamArn = "";
  private running: Promise<void> | undefined;
  private stopRequested = false;
  private readonly batchSize: number;

  constructor(private readonly options: EsmPollerOptions) {
    this.batchSize = options.batchSize ?? 100;
    if (this.batchSize < 1 || this.batchSize > 10_000)
      throw new RangeError("batchSize must be in [1, 10000]");
  }

  /**
   * Read every shard once (one GetRecords per shard at most, topping up to a batch) and deliver one batch per
   * shard, with retries until it is checkpointed or sent to on-failure. Returns records checkpointed.
   */
  async pollOnce(): Promise<number> {
    await this.refreshShards();
    let done = 0;
    for (const shard of this.shards.values()) {
      if (!this.eligible(shard)) continue;
      await this.fill(shard);
      const batch = shard.buffer.slice(0, this.batchSize);
      if (batch.length === 0) continue;
      done += await this.deliver(shard, batch);
    }
    return done;
  }

  /** Poll until every shard is empty (one pass returns nothing). Returns records checkpointed. */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.pollOnce();
      total += n;
      if (n === 0 && [...this.shards.values()].every((s) => s.buffer.length === 0)) return total;
    }
  }

  /** Poll continuously in the background every `intervalMs` until `stop()`. */
  start(intervalMs = 200): void {
    if (this.running) return;
    this.stopRequested = false;
    this.running = (async () => {
      while (!this.stopRequested) {
        const n = await this.pollOnce();
        if (n === 0) await sleep(intervalMs);
      }
    })();
  }

  /** Stop background polling after the batch in flight. */
  async stop(): Promise<void> {
    this.stopRequested = true;
    await this.running;
    this.running = undefined;
  }

  private eligible(shard: ShardState): boolean {
    if (!shard.parentShardId) return true;
    const parent = this.shards.get(shard.parentShardId);
    return !parent || (parent.closed && parent.buffer.length === 0);
  }

  private async refreshShards(): Promise<void> {
    if (!this.streamArn) {
      const summary = await this.options.kinesis.send(
        new DescribeStreamSummaryCommand({ StreamName: this.options.streamName }),
      );
      this.streamArn = summary.StreamDescriptionSummary?.StreamARN ?? "";
    }
    const shards: Shard[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.options.kinesis.send(
        new ListShardsCommand(nextToken ? { NextToken: nextToken } : { StreamName: this.options.streamName }),
      );
      shards.push(...(page.Shards ?? []));
      nextToken = page.NextToken;
    } while (nextToken);
    for (const s of shards) {
      if (!s.ShardId || this.shards.has(s.ShardId)) continue;
      this.shards.set(s.ShardId, {
        shardId: s.ShardId,
        parentShardId: s.ParentShardId,
        iterator: undefined,
        lastFetchedSequence: undefined,
        buffer: [],
        closed: false,
        headAttempts: 0,
      });
    }
  }

  private async iteratorFor(shard: ShardState): Promise<string | undefined> {
    const input = shard.lastFetchedSequence
      ? {
          ShardIteratorType: "AFTER_SEQUENCE_NUMBER" as const,
          StartingSequenceNumber: shard.lastFetchedSequence,
        }
      : { ShardIteratorType: this.options.startingPosition ?? ("TRIM_HORIZON" as const) };
    const out = await this.options.kinesis.send(
      new GetShardIteratorCommand({ StreamName: this.options.streamName, ShardId: shard.shardId, ...input }),
    );
    return out.ShardIterator;
  }

  /** Top the shard's buffer up to one batch with GetRecords (one call, as each ESM poll). */
  private async fill(shard: ShardState): Promise<void> {
    if (shard.closed || shard.buffer.length >= this.batchSize) return;
    shard.iterator ??= await this.iteratorFor(shard);
    if (!shard.iterator) return;
    let out: GetRecordsCommandOutput;
    try {
      out = await this.options.kinesis.send(
        new GetRecordsCommand({ ShardIterator: shard.iterator, Limit: this.batchSize - shard.buffer.length }),
      );
    } catch (error) {
      if (!(error instanceof ExpiredIteratorException)) throw error;
      shard.iterator = await this.iteratorFor(shard);
      return;
    }
    for (const r of out.Records ?? []) {
      shard.buffer.push(this.toLambdaRecord(shard.shardId, r));
      shard.lastFetchedSequence = r.SequenceNumber;
    }
    shard.iterator = out.NextShardIterator;
    if (!out.NextShardIterator) shard.closed = true;
  }

  private toLambdaRecord(shardId: string, r: KinesisRecord): KinesisStreamRecord {
    return lambdaKinesisRecord({
      shardId,
      sequenceNumber: r.SequenceNumber ?? "",
      partitionKey: r.PartitionKey ?? "",
      data: Buffer.from(r.Data ?? new Uint8Array()).toString("base64"),
      arrivalMs: r.ApproximateArrivalTimestamp?.getTime() ?? 0,
      awsRegion: this.options.awsRegion ?? "us-east-1",
      eventSourceArn: this.streamArn,
    });
  }

  /**
   * Deliver `initial` until checkpointed: partial failures retry from the lowest failed record, errors
   * bisect (if enabled) or retry, exhausted batches go to on-failure. Returns records checkpointed.
   */
  private async deliver(shard: ShardState, initial: KinesisStreamRecord[]): Promise<number> {
    const maxRetries = this.options.maximumRetryAttempts ?? 10;
    const queue: Array<{ records: KinesisStreamRecord[]; attempts: number; error?: unknown }> = [
      { records: initial, attempts: shard.headAttempts },
    ];
    shard.headAttempts = 0;
    let checkpointed = 0;
    const checkpoint = (n: number) => {
      shard.buffer.splice(0, n);
      checkpointed += n;
      this.stats.recordsCheckpointed += n;
    };
    while (queue.length > 0) {
      const head = queue[0]!;
      if (head.attempts > maxRetries) {
        this.stats.recordsSentToOnFailure += head.records.length;
        await this.options.onFailure?.({
          shardId: shard.shardId,
          records: head.records,
          attempts: head.attempts,
          lastError: head.error,
        });
        queue.shift();
        checkpoint(head.records.length);
        continue;
      }
      if (head.attempts > 0 && this.options.retryDelayMs) await sleep(this.options.retryDelayMs);
      this.stats.invocations += 1;
      this.stats.recordsDelivered += head.records.length;
      let failedAt = -1;
      try {
        const response = (await this.options.handler({ Records: head.records })) as
          | Partial<KinesisStreamBatchResponse>
          | undefined
          | null;
        const failures = response?.batchItemFailures ?? [];
        if (failures.length > 0) {
          this.stats.partialFailures += 1;
          const indexes = failures.map((f) =>
            head.records.findIndex((r) => r.kinesis.sequenceNumber === f.itemIdentifier),
          );
          failedAt = indexes.some((i) => i < 0) ? 0 : Math.min(...indexes);
        }
      } catch (error) {
        this.stats.functionErrors += 1;
        head.error = error;
        if ((this.options.bisectBatchOnFunctionError ?? true) && head.records.length > 1) {
          this.stats.bisections += 1;
          const mid = Math.ceil(head.records.length / 2);
          queue.splice(
            0,
            1,
            { records: head.records.slice(0, mid), attempts: head.attempts, error },
            { records: head.records.slice(mid), attempts: head.attempts, error },
          );
        } else {
          head.attempts += 1;
        }
        continue;
      }
      if (failedAt < 0) {
        queue.shift();
        checkpoint(head.records.length);
        continue;
      }
      checkpoint(failedAt);
      if (queue.length === 1 && head.records === initial) {
        // Like Lambda: the retry re-reads the shard from the failed record, so the next batch may be fuller.
        shard.headAttempts = head.attempts + 1;
        return checkpointed;
      }
      head.records = head.records.slice(failedAt);
      head.attempts += 1;
    }
    return checkpointed;
  }
}
