/**
 * In-process AWS emulators for local mode, integration tests and benchmarks: dynalite (DynamoDB) and
 * kinesalite (Kinesis), each on a free loopback port, with the project's single table (pk/sk, on-demand)
 * and the prediction stream created and ACTIVE before `startEmulators` resolves. Everything is in memory
 * and disappears on `stop()`. No AWS account or Docker is needed.
 */

import type { Server } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  type DynamoDBClientConfig,
} from "@aws-sdk/client-dynamodb";
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  type KinesisClient,
} from "@aws-sdk/client-kinesis";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { createKinesisClient, LOCAL_CREDENTIALS } from "./kinesis-client";

const require = createRequire(import.meta.url);
type ServerFactory = (options: Record<string, unknown>) => Server;
const dynalite = require("dynalite") as ServerFactory;
const kinesalite = require("kinesalite") as ServerFactory;

export interface EmulatorOptions {
  /** @default "retrain-triggers" */
  readonly tableName?: string;
  /** @default "predictions" */
  readonly streamName?: string;
  /** @default 1 */
  readonly shardCount?: number;
  /** Create the table (pk/sk strings). @default true */
  readonly createTable?: boolean;
  /** Create the stream. @default true */
  readonly createStream?: boolean;
}

export interface Emulators {
  readonly dynamoEndpoint: string;
  readonly kinesisEndpoint: string;
  readonly tableName: string;
  readonly streamName: string;
  readonly region: string;
  /** A DynamoDB client for the emulator (HTTP/1.1, dummy credentials). */
  readonly dynamodb: DynamoDBClient;
  /** A Kinesis client for the emulator (HTTP/1.1, see kinesis-client.ts). */
  readonly kinesis: KinesisClient;
  /** Create a further DynamoDB client against the emulator, e.g. wrapped for request counting. */
  createDynamoDbClient(config?: Partial<DynamoDBClientConfig>): DynamoDBClient;
  /** Destroy clients and close both servers. Idempotent. */
  stop(): Promise<void>;
}

const REGION = "us-east-1";

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return `http://127.0.0.1:${port}`;
}

async function close(server: Server): Promise<void> {
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

async function waitUntil(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`emulator: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Create a table with the project's key schema (pk/sk strings, on-demand) and wait until ACTIVE. */
export async function createTable(dynamodb: DynamoDBClient, tableName: string): Promise<void> {
  await dynamodb.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: [
        { AttributeName: "pk", AttributeType: "S" },
        { AttributeName: "sk", AttributeType: "S" },
      ],
      KeySchema: [
        { AttributeName: "pk", KeyType: "HASH" },
        { AttributeName: "sk", KeyType: "RANGE" },
      ],
    }),
  );
  await waitUntil(async () => {
    const t = await dynamodb.send(new DescribeTableCommand({ TableName: tableName }));
    return t.Table?.TableStatus === "ACTIVE";
  }, `table ${tableName}`);
}

/** Create a stream with `shardCount` shards and wait until ACTIVE. */
export async function createStream(
  kinesis: KinesisClient,
  streamName: string,
  shardCount = 1,
): Promise<void> {
  await kinesis.send(new CreateStreamCommand({ StreamName: streamName, ShardCount: shardCount }));
  await waitUntil(async () => {
    const s = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: streamName }));
    return s.StreamDescriptionSummary?.StreamStatus === "ACTIVE";
  }, `stream ${streamName}`);
}

/** Start dynalite and kinesalite on free loopback ports, create the table and stream, wait until ACTIVE. */
export async function startEmulators(options: EmulatorOptions = {}): Promise<Emulators> {
  const tableName = options.tableName ?? "retrain-triggers";
  const streamName = options.streamName ?? "predictions";
  const dynamoServer = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const kinesisServer = kinesalite({
    createStreamMs: 0,
    deleteStreamMs: 0,
    updateStreamMs: 0,
    shardLimit: 50,
  });
  const [dynamoEndpoint, kinesisEndpoint] = await Promise.all([listen(dynamoServer), listen(kinesisServer)]);

  const createDynamoDbClient = (config: Partial<DynamoDBClientConfig> = {}) =>
    new DynamoDBClient({
      region: REGION,
      endpoint: dynamoEndpoint,
      credentials: LOCAL_CREDENTIALS,
      requestHandler: new NodeHttpHandler({ connectionTimeout: 5_000, requestTimeout: 30_000 }),
      ...config,
    });
  const dynamodb = createDynamoDbClient();
  const kinesis = createKinesisClient({ endpoint: kinesisEndpoint, region: REGION });

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    dynamodb.destroy();
    kinesis.destroy();
    await Promise.all([close(dynamoServer), close(kinesisServer)]);
  };

  try {
    if (options.createTable ?? true) await createTable(dynamodb, tableName);
    if (options.createStream ?? true) await createStream(kinesis, streamName, options.shardCount ?? 1);
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    dynamoEndpoint,
    kinesisEndpoint,
    tableName,
    streamName,
    region: REGION,
    dynamodb,
    kinesis,
    createDynamoDbClient,
    stop,
  };
}
