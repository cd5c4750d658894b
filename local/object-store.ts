/**
 * LOCAL STAND-IN for S3: an in-memory `ObjectStore` (the port the workflow tasks use), addressed by
 * `s3://bucket/key` URIs like the real adapter. Local mode puts the event archive, prepared datasets,
 * model artifacts and batch-transform outputs here; `writeTo` mirrors it on disk for inspection.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { type ObjectStore, parseS3Uri } from "../lambdas/ports/object-store";

/** Raised on a read of an object that does not exist (S3's NoSuchKey). */
export class NoSuchKeyError extends Error {
  constructor(uri: string) {
    super(`no such object: ${uri}`);
    this.name = "NoSuchKeyError";
  }
}

export class MemoryObjectStore implements ObjectStore {
  private readonly objects = new Map<string, string>();

  async list(prefixUri: string): Promise<string[]> {
    parseS3Uri(prefixUri);
    return this.listSync(prefixUri);
  }

  listSync(prefixUri: string): string[] {
    return [...this.objects.keys()].filter((k) => k.startsWith(prefixUri)).sort();
  }

  async getText(uri: string): Promise<string> {
    return this.getSync(uri);
  }

  getSync(uri: string): string {
    const body = this.objects.get(uri);
    if (body === undefined) throw new NoSuchKeyError(uri);
    return body;
  }

  async putText(uri: string, body: string): Promise<void> {
    this.putSync(uri, body);
  }

  putSync(uri: string, body: string): void {
    parseS3Uri(uri);
    this.objects.set(uri, body);
  }

  /** Appends a line to an object (how the Firehose stand-in fills its hourly files). */
  appendLine(uri: string, line: string): void {
    this.objects.set(uri, `${this.objects.get(uri) ?? ""}${line}\n`);
  }

  get size(): number {
    return this.objects.size;
  }

  /** Writes every object to `dir/<bucket>/<key>`; returns the number of files. */
  async writeTo(dir: string): Promise<number> {
    for (const [uri, body] of this.objects) {
      const { bucket, key } = parseS3Uri(uri);
      const file = join(dir, bucket, key);
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, body);
    }
    return this.objects.size;
  }
}
