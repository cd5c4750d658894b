/**
 * Ingest Lambda (Kinesis event source mapping with `ReportBatchItemFailures`). Composition root: the
 * DynamoDB adapters, Powertools and the ingest use case (app/ingest/ingest-batch.ts).
 *
 * Environment: `TABLE_NAME`; optional `MAX_RECORD_BYTES`, `MAX_FUTURE_SKEW_SECONDS`,
 * `STATS_RETENTION_DAYS`, `QUARANTINE_RETENTION_DAYS`; the bundled model catalog.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { Context, KinesisStreamBatchResponse, KinesisStreamEvent } from "aws-lambda";
import { SERVICE_NAMES } from "../../contracts/telemetry";
import { DAY_MS } from "../../contracts/time";
import { DynamoDbPredictionIndex } from "../adapters/dynamodb-prediction-index";
import { DynamoDbQuarantineStore } from "../adapters/dynamodb-quarantine-store";
import { DynamoDbStatsRepository } from "../adapters/dynamodb-stats-repository";
import { createIngestBatch, type IngestDeps, type IngestStores } from "../app/ingest/ingest-batch";
import { DEFAULT_VALIDATION_LIMITS, type ValidationLimits } from "../domain/ingest/event-validation";
import { type Environment, loadModelCatalog, optionalNumber, requireEnv } from "./environment";
import { type Powertools, powertools, telemetryOf, withPowertools } from "./powertools";

/** Validation limits from the environment, defaults for what is unset. */
export function limitsFromEnv(env: Environment): ValidationLimits {
  const skewSeconds = optionalNumber(env, "MAX_FUTURE_SKEW_SECONDS");
  const retentionDays = optionalNumber(env, "STATS_RETENTION_DAYS");
  return {
    maxRecordBytes: optionalNumber(env, "MAX_RECORD_BYTES") ?? DEFAULT_VALIDATION_LIMITS.maxRecordBytes,
    maxFutureSkewMs:
      skewSeconds === undefined ? DEFAULT_VALIDATION_LIMITS.maxFutureSkewMs : skewSeconds * 1000,
    retentionMs: retentionDays === undefined ? DEFAULT_VALIDATION_LIMITS.retentionMs : retentionDays * DAY_MS,
  };
}

/** The DynamoDB adapters of the ingest over one client and table. */
export function dynamoDbIngestStores(
  client: DynamoDBClient,
  tableName: string,
  quarantineRetentionDays?: number,
): IngestStores {
  return {
    stats: new DynamoDbStatsRepository({ client, tableName }),
    predictions: new DynamoDbPredictionIndex({ client, tableName }),
    quarantine: new DynamoDbQuarantineStore({
      client,
      tableName,
      ...(quarantineRetentionDays !== undefined ? { retentionDays: quarantineRetentionDays } : {}),
    }),
  };
}

/** The middy-wrapped handler over injected dependencies (tests and local mode pass emulator-backed stores). */
export function createIngestHandler(
  deps: Omit<IngestDeps, "telemetry" | "log"> & { readonly tools?: Partial<Powertools> },
) {
  const tools = powertools(SERVICE_NAMES.ingest, deps.tools);
  const ingest = createIngestBatch({ ...deps, telemetry: telemetryOf(tools), log: tools.logger });
  const base = async (event: KinesisStreamEvent, _context: Context): Promise<KinesisStreamBatchResponse> =>
    (await ingest(event)).response;
  return withPowertools(base, tools);
}

let singleton: ReturnType<typeof createIngestHandler> | undefined;

/** The deployed handler: dependencies from the environment, built once per container on first use. */
export const handler = (event: KinesisStreamEvent, context: Context): Promise<KinesisStreamBatchResponse> => {
  if (!singleton) {
    const env = process.env;
    const { TABLE_NAME } = requireEnv(env, ["TABLE_NAME"]);
    const tools = powertools(SERVICE_NAMES.ingest);
    const client = tools.tracer.captureAWSv3Client(new DynamoDBClient({}));
    singleton = createIngestHandler({
      models: loadModelCatalog(env).models,
      stores: dynamoDbIngestStores(client, TABLE_NAME, optionalNumber(env, "QUARANTINE_RETENTION_DAYS")),
      limits: limitsFromEnv(env),
      tools,
    });
  }
  return singleton(event, context);
};
