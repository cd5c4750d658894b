/**
 * The ingest side of local mode and replay, assembled from the REAL parts: dynalite + kinesalite
 * (local/emulators.ts), PutRecords like an inference service, the ESM stand-in (local/esm-poller.ts)
 * invoking the REAL ingest Lambda handler (lambdas/handlers/ingest.ts) with injected emulator clients.
 *
 * What differs from AWS, and why:
 * - Time is simulated. kinesalite stamps records with the wall clock, so the poller's events get the
 *   simulated arrival time of each record (recorded at PutRecords, stable across redeliveries, as
 *   Kinesis' `approximateArrivalTimestamp` is).
 * - `chaos` (replay --chaos) wraps the handler and the DynamoDB client to redeliver batches, fail
 *   whole batches (so the poller bisects them) and inject throttling errors; the stored statistics
 *   must not change (exactly-once effect under at-least-once delivery).
 */
import { createHash } from "node:crypto";
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { type AttributeValue, type DynamoDBClient, ScanCommand } from "@aws-sdk/client-dynamodb";
import { PutRecordsCommand } from "@aws-sdk/client-kinesis";
import type { Context, KinesisStreamEvent } from "aws-lambda";
import { buildModelCatalog } from "../contracts/catalog";
import type { DeploymentConfig } from "../contracts/config";
import { METRICS_NAMESPACE, SERVICE_NAMES } from "../contracts/telemetry";
import { DAY_MS } from "../contracts/time";
import { deserializeProfile } from "../lambdas/domain/stats/profile-codec";
import { invariantView } from "../lambdas/domain/stats/profile-equivalence";
import { createIngestHandler, dynamoDbIngestStores } from "../lambdas/handlers/ingest";
import type { QuarantineRecord } from "../lambdas/ports/stats-repository";
import { canonicalJson } from "./canonical-json";
import { type Emulators, startEmulators } from "./emulators";
import { EsmPoller } from "./esm-poller";
import type { StreamInput } from "./memory-stream";
import { SeededRandom } from "./prng";

export { canonicalJson };

/** Fault injection of `replay --chaos`. Probabilities per batch invocation / per DynamoDB write. */
export interface ChaosOptions {
  readonly seed: number;
  /** Re-invoke the handler with the same batch after it succeeded. @default 0.2 */
  readonly redeliverRate?: number;
  /** Re-invoke the handler with an older, already checkpointed batch. @default 0.1 */
  readonly staleRedeliverRate?: number;
  /** Throw before the handler runs (a function error: the poller bisects the batch). @default 0.15 */
  readonly functionErrorRate?: number;
  /** DynamoDB writes failing with ProvisionedThroughputExceededException. @default 0.05 */
  readonly throttleRate?: number;
}

/** Counters of what chaos did, to show that it did something. */
export interface ChaosStats {
  redeliveries: number;
  staleRedeliveries: number;
  functionErrors: number;
  throttles: number;
}

export interface PipelineOptions {
  readonly config: DeploymentConfig;
  readonly chaos?: ChaosOptions;
  /** @default config.ingest.shardCount */
  readonly shardCount?: number;
  /** @default config.ingest.batchSize */
  readonly batchSize?: number;
  /** Receives each record the ingest quarantines (at least once: a redelivery may repeat it). */
  readonly onQuarantined?: (record: QuarantineRecord) => void;
}

/** One record to put on the stream (`data` is text, or base64 of the payload bytes when `base64` is set). */
export type StreamRecord = StreamInput;

/** Largest PutRecords request Kinesis accepts (all records' data and keys), bytes. */
const MAX_PUT_RECORDS_BYTES = 5 * 1024 * 1024;

/** Ingest totals read back from the stored statistics and quarantine (the exactly-once truth). */
export interface IngestTotals {
  /** Records counted in bucket statistics (aggregated + quarantined with a known model and time). */
  readonly bucketReceived: number;
  /** Records aggregated into profiles. */
  readonly aggregated: number;
  /** Quarantined records by reason (from the quarantine store, including unattributable ones). */
  readonly quarantinedByReason: Readonly<Record<string, number>>;
  readonly quarantined: number;
}

/** A Lambda context for a handler run in process (local mode calls the deployed handlers' compositions). */
export function localContext(name: string, timeoutMs: number): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: `local-${name}`,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:local-${name}`,
    memoryLimitInMB: "1024",
    awsRequestId: "local",
    logGroupName: `/aws/lambda/local-${name}`,
    logStreamName: "local",
    getRemainingTimeInMillis: () => timeoutMs,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

const LAMBDA_CONTEXT = localContext("ingest", 120_000);

const SILENT = { debug() {}, info() {}, warn() {}, error() {} };

/** Powertools utilities for a handler run in process: silent logs, metrics disabled, no warnings. */
export function localPowertools(service: string): { logger: Logger; metrics: Metrics } {
  quietPowertools();
  return {
    logger: new Logger({ serviceName: service, logLevel: "SILENT" }),
    metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName: service, logger: SILENT }),
  };
}

/** Powertools in local mode: no EMF metrics or JSON logs on stdout, no X-Ray. Set before handlers are built. */
export function quietPowertools(): void {
  process.env.POWERTOOLS_METRICS_DISABLED ??= "true";
  process.env.POWERTOOLS_TRACE_ENABLED ??= "false";
  process.env.POWERTOOLS_LOG_LEVEL ??= "SILENT";
  process.env.AWS_LAMBDA_LOG_LEVEL ??= "ERROR";
}

/** Throws like DynamoDB does when a table is throttled; the SDK's retry strategy retries it. */
class ProvisionedThroughputExceededException extends Error {
  readonly $fault = "client";
  readonly $metadata = { httpStatusCode: 400 };
  constructor() {
    super("Rate of requests exceeds the allowed throughput (injected by replay --chaos)");
    this.name = "ProvisionedThroughputExceededException";
  }
}

function injectThrottling(client: DynamoDBClient, rng: SeededRandom, rate: number, stats: ChaosStats): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const op = context.commandName ?? "";
      if (/Put|Update|BatchWrite|TransactWrite/.test(op) && rng.next() < rate) {
        stats.throttles++;
        throw new ProvisionedThroughputExceededException();
      }
      return next(args);
    },
    { step: "initialize", name: "chaosThrottling" },
  );
}

export class LocalPipeline {
  /** Records put on the stream. */
  put = 0;
  private readonly arrival = new Map<string, number>();

  private constructor(
    readonly emulators: Emulators,
    readonly dynamodb: DynamoDBClient,
    readonly poller: EsmPoller,
    /** What `chaos` did (all zero without chaos). */
    readonly chaosStats: ChaosStats,
  ) {}

  static async start(options: PipelineOptions): Promise<LocalPipeline> {
    quietPowertools();
    const { config } = options;
    const emulators = await startEmulators({ shardCount: options.shardCount ?? config.ingest.shardCount });
    let pipeline: LocalPipeline | undefined;
    try {
      const chaos = options.chaos;
      const rng = new SeededRandom(chaos?.seed ?? 1);
      const stats: ChaosStats = { redeliveries: 0, staleRedeliveries: 0, functionErrors: 0, throttles: 0 };
      const dynamodb = chaos ? emulators.createDynamoDbClient() : emulators.dynamodb;
      if (chaos) injectThrottling(dynamodb, rng, chaos.throttleRate ?? 0.05, stats);
      const stores = dynamoDbIngestStores(dynamodb, emulators.tableName);
      const onQuarantined = options.onQuarantined;
      const ingest = createIngestHandler({
        models: buildModelCatalog(config).models,
        stores: onQuarantined
          ? {
              ...stores,
              quarantine: {
                save: async (records) => {
                  const out = await stores.quarantine.save(records);
                  const failed = new Set(out.failed);
                  for (const r of records) if (!failed.has(r)) onQuarantined(r);
                  return out;
                },
                listDay: (day) => stores.quarantine.listDay(day),
              },
            }
          : stores,
        tools: localPowertools(SERVICE_NAMES.ingest),
        // The deployed Lambda's limits (contracts/config.ts ingest section), against simulated arrival times.
        limits: {
          maxRecordBytes: config.ingest.maxRecordBytes,
          maxFutureSkewMs: config.ingest.maxFutureSkewSeconds * 1000,
          retentionMs: config.ingest.maxEventAgeDays * DAY_MS,
        },
      });
      const history: KinesisStreamEvent[] = [];
      const withArrival = (event: KinesisStreamEvent): KinesisStreamEvent => ({
        Records: event.Records.map((r) => {
          const t = pipeline?.arrival.get(r.kinesis.sequenceNumber);
          return t === undefined
            ? r
            : { ...r, kinesis: { ...r.kinesis, approximateArrivalTimestamp: t / 1000 } };
        }),
      });
      const handler = async (raw: KinesisStreamEvent) => {
        const event = withArrival(raw);
        if (chaos && rng.next() < (chaos.functionErrorRate ?? 0.15)) {
          stats.functionErrors++;
          throw new Error("injected function error (replay --chaos)");
        }
        const response = await ingest(event, LAMBDA_CONTEXT);
        if (chaos) {
          if (rng.next() < (chaos.redeliverRate ?? 0.2)) {
            stats.redeliveries++;
            await ingest(event, LAMBDA_CONTEXT);
          }
          if (history.length > 0 && rng.next() < (chaos.staleRedeliverRate ?? 0.1)) {
            stats.staleRedeliveries++;
            await ingest(history[rng.int(history.length)]!, LAMBDA_CONTEXT);
          }
          if (response.batchItemFailures.length === 0) {
            history.push(event);
            if (history.length > 50) history.shift();
          }
        }
        return response;
      };
      const poller = new EsmPoller({
        kinesis: emulators.kinesis,
        streamName: emulators.streamName,
        handler,
        batchSize: options.batchSize ?? config.ingest.batchSize,
        bisectBatchOnFunctionError: config.ingest.bisectBatchOnError,
        maximumRetryAttempts: 1000,
      });
      pipeline = new LocalPipeline(emulators, dynamodb, poller, stats);
      return pipeline;
    } catch (error) {
      await emulators.stop();
      throw error;
    }
  }

  /**
   * PutRecords (requests of at most 500 records and 5 MiB, retrying throttled entries); each record keeps
   * its simulated arrival time. Returns each record's sequence number, in input order.
   */
  async send(records: readonly StreamRecord[]): Promise<string[]> {
    const seqs: string[] = new Array(records.length);
    const payload = (r: StreamRecord) => (r.base64 ? Buffer.from(r.data, "base64") : Buffer.from(r.data));
    for (let i = 0; i < records.length; ) {
      let bytes = 0;
      let j = i;
      while (j < records.length && j - i < 500) {
        const size = Buffer.byteLength(records[j]!.data) + records[j]!.partitionKey.length;
        if (j > i && bytes + size > MAX_PUT_RECORDS_BYTES) break;
        bytes += size;
        j++;
      }
      let pending = Array.from({ length: j - i }, (_, k) => i + k);
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt > 10) throw new Error("PutRecords: records still failing after 10 attempts");
        const out = await this.emulators.kinesis.send(
          new PutRecordsCommand({
            StreamName: this.emulators.streamName,
            Records: pending.map((k) => ({
              Data: payload(records[k]!),
              PartitionKey: records[k]!.partitionKey,
            })),
          }),
        );
        const retry: number[] = [];
        (out.Records ?? []).forEach((entry, e) => {
          const k = pending[e]!;
          if (entry.SequenceNumber) {
            this.arrival.set(entry.SequenceNumber, records[k]!.arrivalMs);
            seqs[k] = entry.SequenceNumber;
          } else retry.push(k);
        });
        this.put += pending.length - retry.length;
        pending = retry;
      }
      i = j;
    }
    return seqs;
  }

  /** Lets the ESM stand-in deliver everything on the stream to the ingest handler. */
  async drain(): Promise<number> {
    const n = await this.poller.drain();
    // Every record put so far was delivered: their arrival times are in the events already built.
    this.arrival.clear();
    return n;
  }

  /** All items of the table whose partition key matches (paginated Scan; fine for emulator sizes). */
  async scan(pkMatches: (pk: string) => boolean): Promise<Array<Record<string, AttributeValue>>> {
    const items: Array<Record<string, AttributeValue>> = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const out = await this.emulators.dynamodb.send(
        new ScanCommand({
          TableName: this.emulators.tableName,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of out.Items ?? []) if (pkMatches(item.pk?.S ?? "")) items.push(item);
      start = out.LastEvaluatedKey;
    } while (start);
    return items;
  }

  /** Totals from what is stored (exactly-once), not from what was delivered (at-least-once). */
  async totals(): Promise<IngestTotals> {
    let bucketReceived = 0;
    let bucketQuarantined = 0;
    for (const item of await this.scan((pk) => pk.endsWith("#STATS"))) {
      bucketReceived += Number(item.received?.N ?? 0);
      for (const v of Object.values(item.quarantined?.M ?? {})) bucketQuarantined += Number(v.N ?? 0);
    }
    const quarantinedByReason: Record<string, number> = {};
    let quarantined = 0;
    for (const item of await this.scan((pk) => pk.startsWith("QUARANTINE#"))) {
      const reason = item.reason?.S ?? "unknown";
      quarantinedByReason[reason] = (quarantinedByReason[reason] ?? 0) + 1;
      quarantined++;
    }
    return {
      bucketReceived,
      aggregated: bucketReceived - bucketQuarantined,
      quarantinedByReason,
      quarantined,
    };
  }

  /**
   * sha256 of the canonical serialization of every stored bucket statistic: items sorted by key,
   * profiles deserialized and reduced to what every batch split leaves equal (`invariantView`,
   * docs/statistics.md "Batch splits"): counts, extremes, moments, categories, performance statistics,
   * written with sorted keys, Maps as sorted entries. The numeric sketches' cells are left out: they depend
   * on how batches were split (their CDFs agree within the sketches' error bounds, which a digest cannot
   * express; tests compare them with `profileDifferences`). Integers (counts, confusion counts) are exact;
   * other numbers are rounded to 12, then 6 significant digits: floating-point moments (mean, M2, loss sums)
   * merge associatively only up to rounding (about 1e-12 relative), and a redelivered or bisected batch
   * merges in a different grouping, so their last bits legitimately differ. The sequence watermark is
   * bookkeeping, not statistics, and is left out.
   */
  async statsDigest(): Promise<{ digest: string; items: number }> {
    const items = (await this.scan((pk) => pk.endsWith("#STATS")))
      .map((item) => ({
        pk: item.pk?.S ?? "",
        sk: item.sk?.S ?? "",
        received: Number(item.received?.N ?? 0),
        quarantined: Object.fromEntries(
          Object.entries(item.quarantined?.M ?? {}).map(([k, v]) => [k, Number(v.N ?? 0)]),
        ),
        profile: invariantView(deserializeProfile(item.profile?.S ?? "")),
      }))
      .sort((a, b) => (a.pk === b.pk ? (a.sk < b.sk ? -1 : 1) : a.pk < b.pk ? -1 : 1));
    const digest = createHash("sha256").update(canonicalJson(items)).digest("hex");
    return { digest, items: items.length };
  }

  async stop(): Promise<void> {
    await this.poller.stop();
    if (this.dynamodb !== this.emulators.dynamodb) this.dynamodb.destroy();
    await this.emulators.stop();
  }
}
