/**
 * Object storage as the retraining workflow uses it: datasets, transform outputs and candidate baseline
 * profiles addressed by `s3://bucket/key` URIs. A port so that local mode can back it with memory or the
 * file system while the Lambda uses S3 (S3ObjectStore).
 */
export interface ObjectStore {
  /** URIs of all objects under a prefix URI, in key order. */
  list(prefixUri: string): Promise<string[]>;
  /** Text of one object (gzip content is decompressed transparently). */
  getText(uri: string): Promise<string>;
  putText(uri: string, body: string, contentType?: string): Promise<void>;
}

/** Splits `s3://bucket/key` into bucket and key; throws on anything else. */
export function parseS3Uri(uri: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!m) throw new RangeError(`not an s3:// URI: ${uri}`);
  return { bucket: m[1]!, key: m[2]! };
}
