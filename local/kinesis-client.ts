/**
 * A Kinesis client for the in-process kinesalite emulator. The SDK's default request handler negotiates
 * HTTP/2 for Kinesis (needed by SubscribeToShard) and fails against kinesalite, which only speaks
 * HTTP/1.1: this factory pins the HTTP/1.1 `NodeHttpHandler` and dummy credentials, so callers never
 * repeat that incantation. Also usable against real AWS by passing no endpoint.
 */
import { KinesisClient } from "@aws-sdk/client-kinesis";
import { NodeHttpHandler } from "@smithy/node-http-handler";

export interface LocalKinesisClientOptions {
  /** Emulator endpoint, e.g. `http://127.0.0.1:4567`. Omit for real AWS. */
  readonly endpoint?: string;
  /** @default "us-east-1" */
  readonly region?: string;
}

/** Static credentials accepted by the emulators (they do not check signatures). */
export const LOCAL_CREDENTIALS = { accessKeyId: "local", secretAccessKey: "local" } as const;

/** A Kinesis client over HTTP/1.1 (kinesalite-compatible). */
export function createKinesisClient(options: LocalKinesisClientOptions = {}): KinesisClient {
  return new KinesisClient({
    region: options.region ?? "us-east-1",
    ...(options.endpoint ? { endpoint: options.endpoint, credentials: LOCAL_CREDENTIALS } : {}),
    requestHandler: new NodeHttpHandler({ connectionTimeout: 5_000, requestTimeout: 30_000 }),
    maxAttempts: 3,
  });
}
