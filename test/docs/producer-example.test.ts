import { readFileSync } from "node:fs";
import { KinesisClient, PutRecordsCommand } from "@aws-sdk/client-kinesis";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { predictionEvent } from "../support/events";
import { type ModelEvent, putEvents } from "./fixtures/producer-example";

const kinesis = mockClient(KinesisClient);
beforeEach(() => kinesis.reset());

const prediction = (i: number): ModelEvent =>
  predictionEvent({
    modelId: i % 2 === 0 ? "churn" : "delivery-eta",
    requestId: `r-${i}`,
    timestamp: "2026-11-27T10:00:00.000Z",
    features: { tenure: i, plan: "pro", spend: null },
    score: 0.83,
  });

describe("docs/deploy.md producer snippet (PutRecords)", () => {
  it("is the exact code of the tested example", () => {
    const docs = readFileSync("docs/deploy.md", "utf8");
    const code = readFileSync("test/docs/fixtures/producer-example.ts", "utf8");
    expect(docs).toContain(code.trim());
  });

  it("sends schema-v1 JSON, partitioned by modelId, at most 500 records per call", async () => {
    kinesis.on(PutRecordsCommand).resolves({ FailedRecordCount: 0, Records: [] });
    const events = Array.from({ length: 1201 }, (_, i) => prediction(i));
    const failed = await putEvents(new KinesisClient({}), "events", events);
    expect(failed).toEqual([]);
    const calls = kinesis.commandCalls(PutRecordsCommand);
    expect(calls.map((c) => c.args[0].input.Records?.length)).toEqual([500, 500, 201]);
    const first = calls[0]!.args[0].input;
    expect(first.StreamName).toBe("events");
    expect(first.Records![1]!.PartitionKey).toBe("delivery-eta");
    expect(JSON.parse(new TextDecoder().decode(first.Records![1]!.Data))).toEqual(events[1]);
  });

  it("retries only the records that failed, and returns those that keep failing", async () => {
    kinesis
      .on(PutRecordsCommand)
      .resolvesOnce({
        FailedRecordCount: 2,
        Records: [
          { SequenceNumber: "1" },
          { ErrorCode: "ProvisionedThroughputExceededException" },
          { ErrorCode: "InternalFailure" },
        ],
      })
      .resolvesOnce({
        FailedRecordCount: 1,
        Records: [{ SequenceNumber: "2" }, { ErrorCode: "InternalFailure" }],
      })
      .resolves({ FailedRecordCount: 1, Records: [{ ErrorCode: "InternalFailure" }] });
    const events = [prediction(0), prediction(1), prediction(2)];
    const failed = await putEvents(new KinesisClient({}), "events", events, 3);
    const sent = kinesis
      .commandCalls(PutRecordsCommand)
      .map((c) =>
        c.args[0].input.Records!.map((r) => JSON.parse(new TextDecoder().decode(r.Data)).requestId),
      );
    expect(sent).toEqual([["r-0", "r-1", "r-2"], ["r-1", "r-2"], ["r-2"]]);
    expect(failed).toEqual([events[2]]);
  });
});
