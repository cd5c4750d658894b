/**
 * ObjectStore over Amazon S3: lists with pagination, decompresses gzip objects (Firehose may compress
 * the archive) by their magic bytes rather than trusting the key suffix.
 */
import { gunzipSync } from "node:zlib";
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { type ObjectStore, parseS3Uri } from "../ports/object-store";

export class S3ObjectStore implements ObjectStore {
  constructor(private readonly s3: S3Client) {}

  async list(prefixUri: string): Promise<string[]> {
    const { bucket, key } = parseS3Uri(prefixUri);
    const uris: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.s3.send(
        new ListObjectsV2Command({
          Bucket: bucket,
          Prefix: key,
          ...(token ? { ContinuationToken: token } : {}),
        }),
      );
      for (const o of page.Contents ?? [])
        if (o.Key && !o.Key.endsWith("/")) uris.push(`s3://${bucket}/${o.Key}`);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return uris.sort();
  }

  async getText(uri: string): Promise<string> {
    const { bucket, key } = parseS3Uri(uri);
    const out = await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    if (!out.Body) return "";
    const bytes = await out.Body.transformToByteArray();
    const gz = bytes.length > 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
    return Buffer.from(gz ? gunzipSync(bytes) : bytes).toString("utf8");
  }

  async putText(uri: string, body: string, contentType = "application/octet-stream"): Promise<void> {
    const { bucket, key } = parseS3Uri(uri);
    await this.s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }),
    );
  }
}
