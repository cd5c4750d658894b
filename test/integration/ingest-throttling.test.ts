import {
  type DynamoDBClient,
  ProvisionedThroughputExceededException,
  PutItemCommand,
} from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EsmPoller } from "../../local/esm-poller";
import { IngestTestBed, statsDifferences } from "../support/ingest-fixtures";

const N = 400;
const BATCH = 100;
let bed: IngestTestBed;

beforeAll(async () => {
  bed = await IngestTestBed.start(N, BATCH, 7);
});
afterAll(async () => {
  await bed.stop();
});

describe("ingest under DynamoDB throttling (kinesalite + dynalite)", () => {
  it("reports the first record not persisted; the ESM retries converge to the clean result", async () => {
    const table = await bed.freshTable();
    let puts = 0;
    const flaky = Object.create(bed.emu.dynamodb) as DynamoDBClient;
    flaky.send = (async (command: unknown) => {
      if (command instanceof PutItemCommand && ++puts % 3 === 0) {
        throw new ProvisionedThroughputExceededException({ message: "throttled", $metadata: {} });
      }
      return bed.emu.dynamodb.send(command as never);
    }) as DynamoDBClient["send"];
    const poller = new EsmPoller({
      kinesis: bed.emu.kinesis,
      streamName: "events",
      batchSize: BATCH,
      maximumRetryAttempts: 50,
      handler: bed.handlerFor(table, flaky),
    });
    expect(await poller.drain()).toBe(N);
    expect(poller.stats.partialFailures).toBeGreaterThan(3);
    expect(poller.stats.recordsSentToOnFailure).toBe(0);
    expect(statsDifferences(await bed.storedStats(table), bed.expected())).toEqual([]);
  });
});
