import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  DynamoDBClient,
  PutItemCommand,
} from "@aws-sdk/client-dynamodb";
import type { Context, KinesisStreamEvent } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it, vi } from "vitest";
import { METRIC_NAMES, METRICS_NAMESPACE, SERVICE_NAMES, UNKNOWN_MODEL_ID } from "../../contracts/telemetry";
import { MINUTE_MS } from "../../contracts/time";
import { createIngestHandler, dynamoDbIngestStores } from "../../lambdas/handlers/ingest";
import { kinesisRecord, predictionEvent } from "../support/events";
import { ingestModel } from "../support/models";
import { T0 } from "../support/time";

const ddb = mockClient(DynamoDBClient);

const record = (seq: number, payload: string) => kinesisRecord(payload, { sequenceNumber: String(seq) });
const prediction = (requestId: string, x: unknown) =>
  JSON.stringify(predictionEvent({ requestId, timestamp: T0 - MINUTE_MS, features: { x } }));

afterEach(() => {
  vi.restoreAllMocks();
  ddb.reset();
});

describe("ingest handler metrics", () => {
  it("emits per-model counters with {service, modelId} and quarantines also by reason", async () => {
    const lines = captureEmf();
    const handler = churnHandler();
    const event: KinesisStreamEvent = {
      Records: [
        record(1, prediction("a", 1)),
        record(2, prediction("b", 2)),
        record(3, prediction("c", "x")),
        record(4, "{"),
      ],
    };
    expect(await handler(event, {} as Context)).toEqual({ batchItemFailures: [] });

    const emf = parseEmf(lines);
    const value = (name: string, modelId: string, reason?: string) =>
      emf.find(
        (m) =>
          m[name] !== undefined && m.modelId === modelId && (reason === undefined || m.reason === reason),
      )?.[name];
    expect(value(METRIC_NAMES.recordsReceived, "churn")).toBe(3);
    expect(value(METRIC_NAMES.predictionsIngested, "churn")).toBe(2);
    expect(value(METRIC_NAMES.recordsQuarantined, "churn", "feature-type-mismatch")).toBe(1);
    expect(value(METRIC_NAMES.recordsQuarantined, UNKNOWN_MODEL_ID, "invalid-json")).toBe(1);
    const quarantine = emf.find(
      (m) => m[METRIC_NAMES.recordsQuarantined] !== undefined && m.modelId === "churn",
    )!;
    expect(quarantine._aws!.CloudWatchMetrics[0]!.Namespace).toBe("RetrainTriggers");
    expect(quarantine._aws!.CloudWatchMetrics[0]!.Dimensions).toEqual([
      ["service", "modelId"],
      ["service", "modelId", "reason"],
    ]);
  });

  it("counts records naming an unconfigured model under the alarmed `_unknown` model id, never the producer's id", async () => {
    const lines = captureEmf();
    const handler = churnHandler();
    const event: KinesisStreamEvent = {
      Records: [
        record(1, prediction("a", 1)),
        record(2, prediction("b", 2).replace('"modelId":"churn"', '"modelId":"churn-v2"')),
        record(3, prediction("c", 3).replace('"modelId":"churn"', '"modelId":"churn-v2"')),
      ],
    };
    expect(await handler(event, {} as Context)).toEqual({ batchItemFailures: [] });

    const emf = parseEmf(lines);
    // The `_unknown` alarm reads RecordsQuarantined with exactly {service: ingest, modelId: _unknown}.
    const alarmed = emf.filter(
      (m) =>
        m[METRIC_NAMES.recordsQuarantined] !== undefined &&
        m.modelId === UNKNOWN_MODEL_ID &&
        m.service === SERVICE_NAMES.ingest,
    );
    expect(alarmed.map((m) => [m[METRIC_NAMES.recordsQuarantined], m.reason])).toEqual([
      [2, "unknown-model"],
    ]);
    expect(alarmed[0]!._aws!.CloudWatchMetrics[0]!.Dimensions).toContainEqual(["service", "modelId"]);
    expect(
      emf
        .filter((m) => m.modelId === UNKNOWN_MODEL_ID && m[METRIC_NAMES.recordsReceived] !== undefined)
        .map((m) => m[METRIC_NAMES.recordsReceived]),
    ).toEqual([2]);
    expect(emf.some((m) => m.modelId === "churn-v2")).toBe(false);
    expect(
      emf.find((m) => m.modelId === "churn" && m[METRIC_NAMES.recordsReceived] !== undefined)?.[
        METRIC_NAMES.recordsReceived
      ],
    ).toBe(1);
  });
});

type EmfLine = Record<string, unknown> & {
  _aws?: { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][] }> };
};

/** Collects what Powertools prints (EMF lines go to console.log in dev mode). */
function captureEmf(): string[] {
  process.env.POWERTOOLS_DEV = "true";
  process.env.POWERTOOLS_METRICS_DISABLED = "false";
  const lines: string[] = [];
  vi.spyOn(console, "log").mockImplementation((line: unknown) => {
    lines.push(String(line));
  });
  ddb.on(BatchGetItemCommand).resolves({ Responses: {} });
  ddb.on(BatchWriteItemCommand).resolves({});
  ddb.on(PutItemCommand).resolves({});
  return lines;
}

function parseEmf(lines: readonly string[]): EmfLine[] {
  return lines.flatMap((l) => {
    try {
      const parsed = JSON.parse(l) as EmfLine;
      return parsed._aws !== undefined ? [parsed] : [];
    } catch {
      return [];
    }
  });
}

/** The ingest handler with one configured model, `churn`, over the mocked DynamoDB client. */
function churnHandler() {
  return createIngestHandler({
    models: [ingestModel({ features: [{ name: "x", kind: "numeric" }], labelHorizonHours: 1 })],
    stores: dynamoDbIngestStores(new DynamoDBClient({ region: "us-east-1" }), "t"),
    tools: {
      logger: new Logger({ logLevel: "ERROR" }),
      metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAMES.ingest }),
    },
  });
}
